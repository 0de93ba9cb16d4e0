//! Test hooks (`LATCHKEY_TEST_*` environment variables) exist in debug builds only: every
//! place the product's sources name one (outside test code) must sit behind a
//! `debug_assertions` check a few lines above, so a release build cannot be steered by them.
//!
//! A plain text check, not a proof: it reads `crates/*/src` and `src-tauri` (without tests
//! and generated folders), skips comments and `#[cfg(test)]` modules, and for each line that
//! names a `LATCHKEY_TEST_` variable, or a constant holding such a name, looks for
//! `debug_assertions` in the [`WINDOW`] lines before it.

use std::path::{Path, PathBuf};

/// How many lines above a use the `debug_assertions` check may stand.
const WINDOW: usize = 15;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | "node_modules" | "tests" | "gen" | "dist" | ".git"
            ) {
                sources(&p, out);
            }
        } else if name.ends_with(".rs") && !name.ends_with("tests.rs") {
            out.push(p);
        }
    }
}

/// The lines of `text` before its first `#[cfg(test)]` module (test code may set hooks).
fn product_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod "))
        .unwrap_or(lines.len());
    lines[..end].to_vec()
}

#[test]
fn every_test_hook_is_behind_debug_assertions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    sources(&root.join("crates"), &mut files);
    sources(&root.join("src-tauri"), &mut files);
    assert!(files.len() > 20, "the sources were found: {}", files.len());
    let mut hooks = Vec::new();
    let mut unguarded = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = product_lines(&text);
        // Constants that hold a hook's name: their uses count as naming it.
        let mut names = vec!["\"LATCHKEY_TEST_".to_string()];
        for l in &lines {
            let l = l.trim();
            if l.contains("const ") && l.contains("= \"LATCHKEY_TEST_") {
                let name = l.split("const ").nth(1).unwrap().split(':').next().unwrap();
                names.push(name.trim().to_string());
            }
        }
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if t.starts_with("//") || t.contains("const ") {
                continue;
            }
            if !names.iter().any(|n| l.contains(n.as_str())) {
                continue;
            }
            let at = format!("{}:{}", file.display(), i + 1);
            hooks.push(at.clone());
            if !lines[i.saturating_sub(WINDOW)..=i]
                .iter()
                .any(|x| x.contains("debug_assertions"))
            {
                unguarded.push(at);
            }
        }
    }
    assert!(hooks.len() >= 6, "the hooks were found: {hooks:#?}");
    assert!(
        unguarded.is_empty(),
        "test hooks a release build would read: {unguarded:#?}"
    );
}
