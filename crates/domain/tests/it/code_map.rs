//! ARCHITECTURE.md names every crate and every top-level module (issue 24, item 1).
//!
//! The rule, stated in ARCHITECTURE.md's "Code map": each crate has a section headed
//! `` ### `crates/<dir>` — `<package>` ``, which runs to the next heading of level 3 or
//! higher, and names each top-level module of the crate as `` `name` ``. Top-level modules
//! are `src/*.rs` but `lib.rs` and `main.rs`, the directories of `src/` that are modules (a
//! `mod.rs` inside or a sibling `<name>.rs`), and the programs `src/bin/*.rs`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    let domain = Path::new(env!("CARGO_MANIFEST_DIR"));
    domain
        .parent()
        .and_then(Path::parent)
        .expect("the domain crate lives in <root>/crates/domain")
        .to_path_buf()
}

/// A crate of the workspace: its directory under `crates/` and its package name.
struct Crate {
    dir: String,
    package: String,
    modules: BTreeSet<String>,
}

/// The `name` of the `[package]` table of a manifest.
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if in_package
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "name"
        {
            return Some(value.trim().trim_matches('"').to_owned());
        }
    }
    None
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = read.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    paths
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

fn is_rust(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "rs")
}

/// The top-level modules of a crate's `src/`, and its programs under `src/bin/`.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    for path in entries(src) {
        let name = stem(&path);
        if is_rust(&path) {
            if name != "lib" && name != "main" {
                modules.insert(name);
            }
        } else if path.is_dir() {
            if name == "bin" {
                modules.extend(
                    entries(&path)
                        .iter()
                        .filter(|p| is_rust(p))
                        .map(|p| stem(p)),
                );
            } else if path.join("mod.rs").is_file() || src.join(format!("{name}.rs")).is_file() {
                modules.insert(name);
            }
        }
    }
    modules
}

fn workspace_crates(root: &Path) -> Vec<Crate> {
    let mut crates = Vec::new();
    for path in entries(&root.join("crates")) {
        let Ok(manifest) = fs::read_to_string(path.join("Cargo.toml")) else {
            continue;
        };
        let dir = path.file_name().unwrap().to_string_lossy().into_owned();
        crates.push(Crate {
            package: package_name(&manifest)
                .unwrap_or_else(|| panic!("crates/{dir}/Cargo.toml has no [package] name")),
            modules: top_level_modules(&path.join("src")),
            dir,
        });
    }
    crates
}

/// Whether a line opens a heading of level 1 to 3 (`#`, `##`, `###`), outside code blocks.
fn heading_level(line: &str) -> Option<usize> {
    let level = line.chars().take_while(|&c| c == '#').count();
    ((1..=3).contains(&level) && line[level..].starts_with(' ')).then_some(level)
}

/// The crate sections of the map: for each `` ### `crates/<dir>` `` heading, the heading's
/// text and its lines up to the next heading of level 3 or higher.
fn sections(map: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut in_code = false;
    for line in map.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && let Some(level) = heading_level(line) {
            sections.extend(current.take());
            if level == 3 {
                current = Some((line.to_owned(), String::new()));
            }
            continue;
        }
        if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    sections.extend(current);
    sections
}

fn names(text: &str, name: &str) -> bool {
    text.contains(&format!("`{name}`"))
}

fn architecture() -> String {
    let path = workspace_root().join("ARCHITECTURE.md");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_crate_and_top_level_module_is_on_the_map() {
    let crates = workspace_crates(&workspace_root());
    assert!(
        crates.len() >= 10 && crates.iter().any(|c| c.modules.contains("alarm")),
        "the workspace's crates and modules were read: {:?}",
        crates.iter().map(|c| &c.dir).collect::<Vec<_>>()
    );
    let sections = sections(&architecture());
    let mut missing = Vec::new();
    for krate in &crates {
        let heading = format!("### `crates/{}`", krate.dir);
        let Some((title, body)) = sections
            .iter()
            .find(|(title, _)| title == &heading || title.starts_with(&format!("{heading} ")))
        else {
            missing.push(format!(
                "crate crates/{} ({}): no section headed \"{heading} — `{}`\"",
                krate.dir, krate.package, krate.package
            ));
            continue;
        };
        if !names(title, &krate.package) {
            missing.push(format!(
                "crate crates/{}: its heading does not name its package `{}`",
                krate.dir, krate.package
            ));
        }
        for module in &krate.modules {
            if !names(body, module) {
                missing.push(format!(
                    "module `{module}` of crates/{}: not named in its section",
                    krate.dir
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map misses {} item(s):\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn every_crate_section_is_about_a_crate_that_exists() {
    let crates = workspace_crates(&workspace_root());
    let dirs: BTreeSet<&str> = crates.iter().map(|c| c.dir.as_str()).collect();
    let stale: Vec<String> = sections(&architecture())
        .into_iter()
        .filter_map(|(title, _)| {
            let dir = title
                .strip_prefix("### `crates/")?
                .split('`')
                .next()?
                .to_owned();
            (!dirs.contains(dir.as_str())).then_some(title)
        })
        .collect();
    assert!(
        stale.is_empty(),
        "ARCHITECTURE.md has sections for crates that are gone: {stale:#?}"
    );
}
