//! Architecture invariants as tests: read the real dependency graph with `cargo metadata` and
//! fail when a crate depends on what its layer must not know (see ARCHITECTURE.md).

use std::collections::{BTreeMap, BTreeSet};

use cargo_metadata::{DependencyKind, MetadataCommand};

/// The layers a workspace crate can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    /// The binary: glue, may depend on anything.
    Binary,
    /// The HTTP edge: no SQL driver of its own.
    Edge,
    /// Storage: the only crate with an SQL driver; knows nothing of HTTP.
    Storage,
    /// Pure domain logic: no IO framework, no SQL, no HTTP, no async runtime, even transitively.
    Domain,
    /// Test support: a dev-dependency only.
    TestSupport,
    /// Full-text indexes: files of their own, but no SQL driver and no HTTP, even transitively.
    Index,
}

/// Every workspace crate, classified. A new crate must be added here (the test says so).
const CRATES: &[(&str, Layer)] = &[
    ("ceiba", Layer::Binary),
    ("ceiba-web", Layer::Edge),
    ("ceiba-store", Layer::Storage),
    ("ceiba-testkit", Layer::TestSupport),
    // Domain crates, as the issues add them.
    ("ceiba-ledger", Layer::Domain),
    ("ceiba-payments", Layer::Domain),
    ("ceiba-emvqr", Layer::Domain),
    ("ceiba-ussd", Layer::Domain),
    ("ceiba-identity", Layer::Domain),
    ("ceiba-audit", Layer::Domain),
    ("ceiba-surveillance", Layer::Domain),
    ("ceiba-epi", Layer::Domain),
    ("ceiba-wiki", Layer::Domain),
    ("ceiba-zim", Layer::Domain),
    ("ceiba-search", Layer::Index),
    // The fuzz targets' check functions: they drive the domain crates' parsers only, so they
    // are held to the domain's rules (no IO framework, no SQL, no HTTP, no async runtime).
    ("ceiba-fuzzing", Layer::Domain),
];

const SQL_DRIVERS: &[&str] = &[
    "sqlx",
    "sqlx-core",
    "sqlx-sqlite",
    "sqlx-postgres",
    "rusqlite",
    "libsqlite3-sys",
    "postgres",
    "tokio-postgres",
    "diesel",
    "sea-orm",
];
const HTTP_FRAMEWORKS: &[&str] = &[
    "axum",
    "axum-core",
    "hyper",
    "tower-http",
    "actix-web",
    "warp",
    "rocket",
    "poem",
    "askama",
];
const ASYNC_RUNTIMES: &[&str] = &["tokio", "async-std", "smol"];

/// Normal (non-dev, non-build) dependencies of each package, by name.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn transitive(graph: &Graph, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = graph
        .get(start)
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    while let Some(name) = stack.pop() {
        if seen.insert(name.to_owned()) {
            stack.extend(graph.get(name).into_iter().flatten().map(String::as_str));
        }
    }
    seen
}

/// Every broken rule, as a sentence; empty when the architecture holds.
fn violations(graph: &Graph, members: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for member in members {
        let Some(layer) = CRATES
            .iter()
            .find(|(name, _)| name == member)
            .map(|(_, layer)| *layer)
        else {
            found.push(format!(
                "{member} is not classified: add it to CRATES in tests/architecture.rs and to \
                 the code map in ARCHITECTURE.md"
            ));
            continue;
        };
        let direct = graph.get(member).cloned().unwrap_or_default();
        let all = transitive(graph, member);
        let mut forbid = |names: &[&str], deps: &BTreeSet<String>, why: &str| {
            for name in names {
                if deps.contains(*name) {
                    found.push(format!("{member} depends on {name}: {why}"));
                }
            }
        };
        match layer {
            Layer::Storage => forbid(HTTP_FRAMEWORKS, &all, "storage knows nothing of HTTP"),
            Layer::Index => {
                forbid(SQL_DRIVERS, &all, "indexes keep their own files, not SQL");
                forbid(HTTP_FRAMEWORKS, &all, "indexes know nothing of HTTP");
            }
            Layer::Domain => {
                forbid(SQL_DRIVERS, &all, "domain crates do no IO");
                forbid(HTTP_FRAMEWORKS, &all, "domain crates know nothing of HTTP");
                forbid(
                    ASYNC_RUNTIMES,
                    &all,
                    "domain crates run on no async runtime",
                );
            }
            Layer::Binary | Layer::Edge | Layer::TestSupport => {
                forbid(SQL_DRIVERS, &direct, "only ceiba-store speaks SQL");
            }
        }
        if direct.contains("ceiba-testkit") {
            found.push(format!(
                "{member} depends on ceiba-testkit outside dev-dependencies"
            ));
        }
    }
    found
}

fn workspace_graph() -> (Graph, Vec<String>) {
    let metadata = MetadataCommand::new()
        .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
        .exec()
        .expect("cargo metadata runs");
    let resolve = metadata
        .resolve
        .as_ref()
        .expect("cargo metadata resolves the graph");
    let name_of = |id: &cargo_metadata::PackageId| metadata[id].name.to_string();
    let mut graph = Graph::new();
    for node in &resolve.nodes {
        let deps = node
            .deps
            .iter()
            .filter(|dep| {
                dep.dep_kinds
                    .iter()
                    .any(|kind| kind.kind == DependencyKind::Normal)
            })
            .map(|dep| name_of(&dep.pkg))
            .collect();
        graph.insert(name_of(&node.id), deps);
    }
    let members = metadata.workspace_members.iter().map(name_of).collect();
    (graph, members)
}

#[test]
fn architecture_holds_on_the_real_dependency_graph() {
    let (graph, members) = workspace_graph();
    assert!(
        members.iter().any(|name| name == "ceiba-store"),
        "{members:?}"
    );
    let found = violations(&graph, &members);
    assert!(
        found.is_empty(),
        "architecture broken:\n{}",
        found.join("\n")
    );
}

#[test]
fn internal_crates_stay_at_version_zero() {
    let metadata = MetadataCommand::new()
        .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
        .no_deps()
        .exec()
        .expect("cargo metadata runs");
    for package in metadata.workspace_packages() {
        assert_eq!(package.version.to_string(), "0.0.0", "{}", package.name);
        assert!(
            package.publish.as_ref().is_some_and(Vec::is_empty),
            "{} must not be publishable",
            package.name
        );
    }
}

/// The checker itself can fail: a domain crate that reaches tokio through another crate, a
/// web crate with its own SQL driver, and an unclassified crate are all caught.
#[test]
fn checker_catches_forbidden_dependencies() {
    let graph: Graph = [
        ("ceiba-ledger", vec!["helper"]),
        ("helper", vec!["tokio"]),
        ("tokio", vec![]),
        ("ceiba-web", vec!["sqlx", "axum"]),
        ("sqlx", vec![]),
        ("axum", vec![]),
        ("ceiba-store", vec!["sqlx"]),
        ("ceiba-nuevo", vec![]),
    ]
    .into_iter()
    .map(|(name, deps)| {
        (
            name.to_owned(),
            deps.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    let members: Vec<String> = ["ceiba-ledger", "ceiba-web", "ceiba-store", "ceiba-nuevo"]
        .map(str::to_owned)
        .to_vec();
    let found = violations(&graph, &members);
    assert!(
        found
            .iter()
            .any(|line| line.starts_with("ceiba-ledger depends on tokio")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|line| line.starts_with("ceiba-web depends on sqlx")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|line| line.starts_with("ceiba-nuevo is not classified")),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|line| line.starts_with("ceiba-store")),
        "{found:?}"
    );
}
