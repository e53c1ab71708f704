//! ARCHITECTURE.md's invariants: the domain depends on no IO, async, database or HTTP crate,
//! and its code neither reads the clock nor touches files, sockets or processes; every crate's
//! dependencies are declared once, in the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates whose presence in the domain's dependency tree means IO, async, a database or HTTP.
const FORBIDDEN_CRATES: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "futures",
    "futures-util",
    "mio",
    "sqlx",
    "sqlx-core",
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "axum",
    "hyper",
    "http",
    "reqwest",
    "tower",
    "ureq",
    "lettre",
    "rand",
    "getrandom",
    "chrono",
];

/// Calls that read the clock or do IO, forbidden in the domain's source.
const FORBIDDEN_CALLS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "std::io::stdin",
    "SystemTime::now",
    "Instant::now",
    "Timestamp::now",
    "Zoned::now",
    "thread::sleep",
    "File::open",
    "println!",
];

fn domain_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_domain_depends_on_no_io_crate() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "vigie-domain",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(domain_dir())
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains(&"serde"), "the tree was read: {tree}");
    let found: Vec<&&str> = FORBIDDEN_CRATES
        .iter()
        .filter(|c| names.contains(c))
        .collect();
    assert!(
        found.is_empty(),
        "the domain depends on IO/async/database/HTTP crates {found:?}; move that code to a shell crate"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_domain_code_reads_no_clock_and_does_no_io() {
    let mut files = Vec::new();
    rust_files(&domain_dir().join("src"), &mut files);
    assert!(files.len() > 3);
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for call in FORBIDDEN_CALLS {
                if code.contains(call) {
                    offences.push(format!("{}:{}: {call}", file.display(), number + 1));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "IO or clock in the domain: {offences:#?}"
    );
}

/// The tables of a member's manifest that list dependencies.
fn is_dependency_table(header: &str) -> bool {
    let name = header.trim_matches(|c| c == '[' || c == ']');
    let last = name.rsplit('.').next().unwrap_or(name);
    matches!(
        last,
        "dependencies" | "dev-dependencies" | "build-dependencies"
    )
}

/// Issue 24, item 8: a version or path written in a member's manifest is a second place where
/// a dependency is declared; two of them drift (the workspace once held "0.30" and "0.30.1" of
/// the same crate). Members name dependencies with `workspace = true` and add only features.
#[test]
fn every_dependency_is_declared_once_in_the_workspace() {
    let crates = domain_dir().join("..");
    let mut manifests = 0;
    let mut offences = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        manifests += 1;
        let text = std::fs::read_to_string(&manifest).unwrap();
        let mut in_dependencies = false;
        for (number, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap_or("").trim();
            if code.starts_with('[') {
                in_dependencies = is_dependency_table(code);
                continue;
            }
            if in_dependencies && !code.is_empty() && !code.contains("workspace = true") {
                offences.push(format!("{}:{}: {code}", manifest.display(), number + 1));
            }
        }
    }
    assert!(
        manifests >= 10,
        "the members' manifests were read ({manifests})"
    );
    assert!(
        offences.is_empty(),
        "dependencies declared outside [workspace.dependencies]: {offences:#?}"
    );
}
