//! The book cannot drift from the code: every `{{#include file:anchor}}` in `chapters/`
//! names a file that exists and an anchor it defines, and every chapter example is
//! included by some chapter.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(chapter, included path, anchor)` for every include in the book.
fn includes() -> Vec<(PathBuf, PathBuf, Option<String>)> {
    let src = root().join("chapters/src");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&src).expect("chapters/src exists") {
        let chapter = entry.unwrap().path();
        if chapter.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&chapter).unwrap();
        for piece in text.split("{{#include ").skip(1) {
            let target = piece.split("}}").next().unwrap().trim();
            let (file, anchor) = match target.rsplit_once(':') {
                Some((file, anchor)) => (file, Some(anchor.to_string())),
                None => (target, None),
            };
            found.push((chapter.clone(), src.join(file), anchor));
        }
    }
    found
}

#[test]
fn every_include_resolves_to_a_file_and_anchor() {
    let all = includes();
    assert!(!all.is_empty(), "the book includes code from the examples");
    for (chapter, file, anchor) in all {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!("{}: {} unreadable: {e}", chapter.display(), file.display())
        });
        if let Some(anchor) = anchor {
            assert!(
                text.contains(&format!("ANCHOR: {anchor}\n"))
                    && text.contains(&format!("ANCHOR_END: {anchor}\n")),
                "{}: anchor '{anchor}' missing in {}",
                chapter.display(),
                file.display()
            );
        }
    }
}

#[test]
fn every_chapter_example_is_used_by_a_chapter() {
    let used: Vec<PathBuf> = includes()
        .into_iter()
        .map(|(_, file, _)| file.canonicalize().unwrap())
        .collect();
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("ch") && name.ends_with(".rs") {
            let path = Path::new(&path).canonicalize().unwrap();
            assert!(
                used.contains(&path),
                "{name} is not included by any chapter"
            );
        }
    }
}
