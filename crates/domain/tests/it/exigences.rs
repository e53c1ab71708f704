//! docs/exigences.md defines every requirement ID the repository cites, and each is shown.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The requirement families. Any other `ABC-12` — a client's reference in test data, an
/// equipment's (`CAM-1`), `SHA-256` — is not a requirement.
const FAMILIES: &[&str] = &[
    "SUP", "ALR", "NOT", "CLO", "DSH", "CM", "INC", "SAV", "X", "DEC",
];

/// Where requirements are cited, from the workspace root; `target` directories are skipped.
const CITING_DIRS: &[&str] = &["crates", "scenarios", "examples", "policy", "docs"];

/// The files read there: code, scenarios and their expected timelines, policies, docs, data,
/// migrations.
const CITING_EXTENSIONS: &[&str] = &["rs", "toml", "md", "jsonl", "csv", "sql"];

/// The document that defines the requirements.
const DOC: &str = "docs/exigences.md";

/// This file: its examples of IDs below are not citations.
const THIS_FILE: &str = "crates/domain/tests/it/exigences.rs";

/// The start of an entry's line naming what shows the requirement.
const SHOWN_BY: &str = "- Démontrée par";

/// What an entry's « Démontrée par » line says of a requirement not built yet, followed by the
/// number of the issue that brings it.
const NOT_YET: &str = "pas encore (issue ";

/// The start of an entry's line naming where the requirement is implemented.
const IMPLEMENTED_IN: &str = "- Mise en œuvre :";

/// The other lines every entry has.
const ENTRY_LINES: &[&str] = &["- Source :", IMPLEMENTED_IN];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("crates/domain is two levels below the workspace root")
        .to_path_buf()
}

/// The requirement IDs in `text`, in order: a family, `-`, digits, as a whole word. Before it
/// no letter, digit or `_` (so `XX-1` is not `X-1`); after it no letter or digit, while an `_`
/// may follow (`scenarios/ALR-1_a-flapping-camera-is-one-alarm.toml` cites ALR-1).
fn requirement_ids(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if !(starts_word && chars[i].is_ascii_uppercase()) {
            i += 1;
            continue;
        }
        let mut letters_end = i;
        while letters_end < chars.len() && chars[letters_end].is_ascii_uppercase() {
            letters_end += 1;
        }
        let family: String = chars[i..letters_end].iter().collect();
        if FAMILIES.contains(&family.as_str()) && chars.get(letters_end) == Some(&'-') {
            let digits_start = letters_end + 1;
            let mut digits_end = digits_start;
            while digits_end < chars.len() && chars[digits_end].is_ascii_digit() {
                digits_end += 1;
            }
            let ends_word = chars.get(digits_end).is_none_or(|c| !c.is_alphanumeric());
            if digits_end > digits_start && ends_word {
                let number: String = chars[digits_start..digits_end].iter().collect();
                found.push(format!("{family}-{number}"));
                i = digits_end;
                continue;
            }
        }
        i = letters_end;
    }
    found
}

/// `path` from the workspace root, with `/` between its parts.
fn relative(root: &Path, path: &Path) -> String {
    let inner = path.strip_prefix(root).expect("a file under the workspace");
    inner
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn read(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The files of `dir` that may cite a requirement, `target` and hidden directories left out.
fn citing_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                citing_files(&path, out);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| CITING_EXTENSIONS.contains(&e))
        {
            out.push(path);
        }
    }
}

/// Each requirement ID cited in the repository (by a file's text or its name), with the files
/// citing it; the definitions themselves and this file are not citations.
fn citations(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    for dir in CITING_DIRS {
        citing_files(&root.join(dir), &mut files);
    }
    let mut cited: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let path = relative(root, &file);
        if path == DOC || path == THIS_FILE {
            continue;
        }
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        for id in requirement_ids(&name)
            .into_iter()
            .chain(requirement_ids(&read(&file)))
        {
            cited.entry(id).or_default().insert(path.clone());
        }
    }
    // A walk that found nothing would make every test below pass.
    assert!(
        cited.len() > 20 && cited.values().map(BTreeSet::len).sum::<usize>() > 200,
        "the walk found too few citations: {cited:?}"
    );
    cited
}

/// A scenario or a test file named on a « Démontrée par » line, with the test functions named
/// after it between parentheses.
#[derive(Debug)]
struct Demonstration {
    path: String,
    tests: Vec<String>,
}

/// One requirement of the document: its heading's ID and line, the lines it has, and what its
/// « Démontrée par » line names (None without that line).
#[derive(Debug)]
struct Entry {
    id: String,
    line: usize,
    lines: Vec<String>,
    implemented_in: Vec<String>,
    shown_by: Option<Vec<Demonstration>>,
}

/// The entries of the document (headings `### ID — title`) and what is wrong with its form.
fn requirements(root: &Path) -> (Vec<Entry>, Vec<String>) {
    let text = read(&root.join(DOC));
    let lines: Vec<&str> = text.lines().collect();
    let mut entries: Vec<Entry> = Vec::new();
    let mut problems = Vec::new();
    // Whether the lines read belong to the last entry: a family's heading ends it.
    let mut in_entry = false;
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i];
        if let Some(heading) = line.strip_prefix("### ") {
            let id = heading.split(" — ").next().unwrap_or_default();
            in_entry = requirement_ids(id) == [id] && heading.len() > id.len() + " — ".len();
            if in_entry {
                entries.push(Entry {
                    id: id.to_owned(),
                    line: number,
                    lines: Vec::new(),
                    implemented_in: Vec::new(),
                    shown_by: None,
                });
            } else {
                problems.push(format!(
                    "{DOC}:{number}: « {line} » is not « ### ID — title » with an ID of {FAMILIES:?}"
                ));
            }
        } else if line.starts_with("## ") {
            in_entry = false;
        } else if let Some(entry) = entries.last_mut().filter(|_| in_entry) {
            // A list item may go on over indented lines.
            let mut item = line.to_owned();
            while line.starts_with("- ") && i + 1 < lines.len() && lines[i + 1].starts_with("  ") {
                i += 1;
                item.push(' ');
                item.push_str(lines[i].trim());
            }
            if item.starts_with(SHOWN_BY) {
                match demonstrations(&item) {
                    Ok(named) => entry.shown_by = Some(named),
                    Err(e) => problems.push(format!("{DOC}:{number}: {}: {e}", entry.id)),
                }
            } else if item.starts_with(IMPLEMENTED_IN) {
                entry.implemented_in = code_spans(&item)
                    .filter(|span| span.contains('/'))
                    .map(str::to_owned)
                    .collect();
            }
            entry.lines.push(item);
        }
        i += 1;
    }
    (entries, problems)
}

/// The scenarios and tests a « Démontrée par » line names: each code span with a `/` is a
/// file; the code spans after it without one are its test functions.
fn demonstrations(line: &str) -> Result<Vec<Demonstration>, String> {
    let mut named: Vec<Demonstration> = Vec::new();
    for span in code_spans(line) {
        if span.contains('/') {
            named.push(Demonstration {
                path: span.to_owned(),
                tests: Vec::new(),
            });
        } else if let Some(file) = named.last_mut() {
            file.tests.push(span.to_owned());
        } else {
            return Err(format!("the test `{span}` comes before any file"));
        }
    }
    Ok(named)
}

/// The text between backquotes in `line`.
fn code_spans(line: &str) -> impl Iterator<Item = &str> {
    line.split('`').skip(1).step_by(2)
}

/// Whether `source` declares `fn name` as a test: under `#[test]` or `#[tokio::test…]`, or
/// named by `conformance!(…)` (crates/store's tests, run on both databases).
fn is_test_function(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    let declared_by_conformance = source.split("conformance!(").skip(1).any(|call| {
        call.split(')')
            .next()
            .unwrap_or_default()
            .split(|c: char| c == ',' || c.is_whitespace())
            .any(|listed| listed == name)
    });
    lines.iter().enumerate().any(|(i, line)| {
        declares(line, name)
            && (declared_by_conformance
                || lines[..i]
                    .iter()
                    .rev()
                    .map(|l| l.trim())
                    .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
                    .any(|l| l.starts_with("#[test]") || l.starts_with("#[tokio::test")))
    })
}

/// Whether `line` declares the function `name` (not one whose name merely starts with it).
fn declares(line: &str, name: &str) -> bool {
    let declaration = format!("fn {name}");
    line.match_indices(&declaration).any(|(at, _)| {
        line[at + declaration.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// Whether a file at `path` counts as a test or a scenario that cites a requirement.
fn is_test_or_scenario(path: &str) -> bool {
    path.starts_with("scenarios/") || path.split('/').any(|part| part == "tests")
}

#[test]
fn every_requirement_cited_in_the_repository_is_defined_in_docs_exigences() {
    let root = workspace();
    let (entries, _) = requirements(&root);
    let mut defined: BTreeMap<&str, usize> = BTreeMap::new();
    let mut twice = Vec::new();
    for entry in &entries {
        if let Some(first) = defined.insert(&entry.id, entry.line) {
            twice.push(format!("{} (lines {first} and {})", entry.id, entry.line));
        }
    }
    assert!(twice.is_empty(), "{DOC} defines twice: {twice:#?}");
    let undefined: Vec<String> = citations(&root)
        .into_iter()
        .filter(|(id, _)| !defined.contains_key(id.as_str()))
        .map(|(id, files)| format!("{id}, cited in {files:?}"))
        .collect();
    assert!(
        undefined.is_empty(),
        "{} requirement(s) cited but not defined in {DOC} (add a « ### ID — title » entry, or \
         correct the citation):\n{}",
        undefined.len(),
        undefined.join("\n")
    );
}

#[test]
fn every_defined_requirement_is_shown_by_a_scenario_or_a_test_that_exists() {
    let root = workspace();
    let (entries, mut problems) = requirements(&root);
    assert!(entries.len() > 20, "{DOC} was read: {entries:?}");
    let cited = citations(&root);
    for entry in &entries {
        let at = format!("{DOC}:{}: {}", entry.line, entry.id);
        for start in ENTRY_LINES {
            if !entry.lines.iter().any(|l| l.starts_with(start)) {
                problems.push(format!("{at}: no « {start} » line"));
            }
        }
        let shown_by = match &entry.shown_by {
            None => {
                problems.push(format!("{at}: no « {SHOWN_BY} : » line"));
                continue;
            }
            Some(named) if named.is_empty() => {
                // Not built yet: allowed only when the entry names the issue that brings it,
                // and only while nothing cites it in a test or a scenario (then it is shown,
                // and its entry must say by what).
                let planned = entry
                    .lines
                    .iter()
                    .any(|l| l.starts_with(SHOWN_BY) && l.contains(NOT_YET));
                if !planned {
                    problems.push(format!(
                        "{at}: shown by no scenario or test (or « {NOT_YET} N) » for one to come)"
                    ));
                } else if let Some(files) = cited.get(&entry.id)
                    && let Some(file) = files.iter().find(|f| is_test_or_scenario(f))
                {
                    problems.push(format!(
                        "{at}: « {NOT_YET} … » but `{file}` cites it: name what shows it"
                    ));
                }
                continue;
            }
            Some(named) => named,
        };
        for shown in shown_by {
            let file = root.join(&shown.path);
            if !file.is_file() {
                problems.push(format!("{at}: `{}` does not exist", shown.path));
                continue;
            }
            let source = read(&file);
            if shown.path.starts_with("scenarios/") && shown.path.ends_with(".toml") {
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                let cites = requirement_ids(&name)
                    .into_iter()
                    .chain(requirement_ids(&source))
                    .any(|id| id == entry.id);
                if !cites {
                    problems.push(format!(
                        "{at}: the scenario `{}` does not cite it, by name or in its text",
                        shown.path
                    ));
                }
            } else if shown.path.ends_with(".rs") {
                if !(is_test_or_scenario(&shown.path) || source.contains("#[cfg(test)]")) {
                    problems.push(format!("{at}: `{}` holds no tests", shown.path));
                }
                if shown.tests.is_empty() {
                    problems.push(format!(
                        "{at}: `{}`: name the test function, as (`function_name`)",
                        shown.path
                    ));
                }
                for test in &shown.tests {
                    if !is_test_function(&source, test) {
                        problems.push(format!(
                            "{at}: `{}` has no test function `{test}`",
                            shown.path
                        ));
                    }
                }
            } else {
                problems.push(format!(
                    "{at}: `{}` is neither a scenario (scenarios/*.toml) nor a test (*.rs)",
                    shown.path
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) with what shows the requirements:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_file_named_as_implementing_a_requirement_exists() {
    let root = workspace();
    let (entries, _) = requirements(&root);
    let named: usize = entries.iter().map(|e| e.implemented_in.len()).sum();
    assert!(
        named > 100,
        "the « {IMPLEMENTED_IN} » lines were read: {entries:?}"
    );
    let missing: Vec<String> = entries
        .iter()
        .flat_map(|e| e.implemented_in.iter().map(move |path| (e, path)))
        .filter(|(_, path)| !root.join(path).is_file())
        .map(|(e, path)| format!("{DOC}:{}: {}: `{path}`", e.line, e.id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} file(s) named as implementing a requirement do not exist (moved or renamed?):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn every_requirement_cited_in_the_code_is_cited_by_a_test_or_a_scenario() {
    let root = workspace();
    let untested: Vec<String> = citations(&root)
        .into_iter()
        .filter(|(_, files)| !files.iter().any(|f| is_test_or_scenario(f)))
        .map(|(id, files)| format!("{id}, cited only in {files:?}"))
        .collect();
    assert!(
        untested.is_empty(),
        "{} requirement(s) no test (under a tests/ directory) or scenario cites:\n{}",
        untested.len(),
        untested.join("\n")
    );
}

#[test]
fn only_whole_ids_of_the_requirement_families_count_as_requirements() {
    let text = "CLI-03 CLI-1 XX-1 X-1 (X-2) CAM-12 ALR-10… NOT-3/NOT-4 alr-5 ALR-5x \
                scenarios/SAV-4_doubt.toml SHA-256 éX-3 _DEC-1 DEC- CM-";
    assert_eq!(
        requirement_ids(text),
        ["X-1", "X-2", "ALR-10", "NOT-3", "NOT-4", "SAV-4"]
    );
}

#[test]
fn a_test_function_is_found_only_under_a_test_attribute_or_in_conformance() {
    let source = "#[test]\nfn shown() {}\n\n/// Helper.\nfn helper() {}\n\
                  #[tokio::test(flavor = \"multi_thread\")]\nasync fn shown_async() {}\n\
                  conformance!(\n    stored,\n);\nasync fn stored(store: Store) {}\n";
    assert!(is_test_function(source, "shown"));
    assert!(is_test_function(source, "shown_async"));
    assert!(is_test_function(source, "stored"));
    assert!(!is_test_function(source, "helper"));
    assert!(!is_test_function(source, "show"));
}
