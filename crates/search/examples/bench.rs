//! Measures the search index: `cargo run --release -p ceiba-search --example bench -- [ARTICLES] [QUERIES] [DIR]`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let articles = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let queries = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    // A directory given by the user is kept; the default temporary one is removed after.
    let (dir, temporary) = match args.next() {
        Some(dir) => (PathBuf::from(dir), false),
        None => (
            std::env::temp_dir().join(format!("ceiba-search-bench-{}", std::process::id())),
            true,
        ),
    };
    let result = ceiba_search::bench::run(articles, queries, &dir);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(report) => {
            eprintln!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
