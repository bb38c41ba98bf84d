//! Times queries on an index built before (by the `bench` example with a directory):
//! `cargo run --release -p ceiba-search --example bench_queries -- DIR [QUERIES]`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("uso: bench_queries DIRECTORIO [CONSULTAS]");
        return ExitCode::FAILURE;
    };
    let queries = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let result = ceiba_search::ArticleIndex::open(&dir)
        .and_then(|index| ceiba_search::bench::measure_queries(&index, queries));
    match result {
        Ok(latencies) => {
            eprintln!("{latencies:#?}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
