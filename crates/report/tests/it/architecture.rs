//! ARCHITECTURE.md's invariant for this crate: it depends on no other Vigie crate, its code
//! reads no clock and does no IO, and its template never evaluates a string as markup.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Calls that read the clock or do IO, forbidden in the crate's source.
const FORBIDDEN_CALLS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "std::io",
    "SystemTime",
    "Instant::now",
    "thread::sleep",
    "File::open",
    "println!",
    "unsafe",
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_report_depends_on_no_vigie_crate() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "vigie-report",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(crate_dir())
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
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(names.contains(&"typst"), "the tree was read: {tree}");
    let vigie: Vec<&&str> = names
        .iter()
        .filter(|name| name.starts_with("vigie-") && **name != "vigie-report")
        .collect();
    assert!(vigie.is_empty(), "vigie-report depends on {vigie:?}");
}

fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, extension, out);
        } else if path.extension().is_some_and(|found| found == extension) {
            out.push(path);
        }
    }
}

/// The lines of code of the files, comments left out: `(file:line, code)`.
fn code_lines(paths: &[PathBuf]) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("").to_string();
            lines.push((format!("{}:{}", path.display(), number + 1), code));
        }
    }
    lines
}

#[test]
fn the_report_code_reads_no_clock_and_does_no_io() {
    let mut paths = Vec::new();
    files(&crate_dir().join("src"), "rs", &mut paths);
    assert!(paths.len() > 5);
    let offences: Vec<String> = code_lines(&paths)
        .into_iter()
        .flat_map(|(place, code)| {
            FORBIDDEN_CALLS
                .iter()
                .filter(move |call| code.contains(*call))
                .map(move |call| format!("{place}: {call}"))
        })
        .collect();
    assert!(
        offences.is_empty(),
        "IO or clock in vigie-report: {offences:#?}"
    );
}

#[test]
fn the_template_evaluates_no_string_and_reads_only_the_document() {
    let template = [crate_dir().join("templates/report.typ")];
    let lines = code_lines(&template);
    for (place, code) in &lines {
        // `eval` would run a string as markup; `read`, `image("…")`, `include` and `import`
        // would reach for files the world does not have.
        for forbidden in [
            "eval",
            "read(",
            "include",
            "import",
            "image(\"",
            "datetime.today",
        ] {
            assert!(
                !code.contains(forbidden),
                "{place}: « {forbidden} » in the template"
            );
        }
    }
    let reads: Vec<&String> = lines
        .iter()
        .map(|(_, code)| code)
        .filter(|code| code.contains("json("))
        .collect();
    assert_eq!(reads.len(), 1, "one read of the document: {reads:?}");
    assert!(reads[0].contains("json(\"/document.json\")"), "{reads:?}");
}
