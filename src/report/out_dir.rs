//! A report's `--out` directory, checked before anything runs.
//!
//! `claims`, `sweep` and `peers` measure for a minute or more and write their report at
//! the end (`run --out` and `compare --out` their charts). A directory that cannot be
//! written would waste that minute, so each command calls [`prepare`] first: it creates
//! the directory and writes and removes a probe file there, the same operations the
//! report will need. [`prepare`] is the one place a report directory is created; the
//! report's files then go in with [`write()`].

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Creates `dir` if needed and proves a file can be written in it.
pub fn prepare(dir: &Path) -> Result<(), Error> {
    let refuse = |why: std::io::Error| Error::OutputDir {
        path: dir.to_path_buf(),
        why: why.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(refuse)?;
    let probe = dir.join(format!(".fanout-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(refuse)?;
    std::fs::remove_file(&probe).map_err(refuse)
}

/// Writes one file of a report into `dir`, which [`prepare`] made; returns its path.
pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf, Error> {
    let path = dir.join(name);
    std::fs::write(&path, contents)
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_directory_and_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("fanout-out-{}", std::process::id()));
        let nested = dir.join("a/b");
        prepare(&nested).unwrap();
        assert!(nested.is_dir());
        assert_eq!(std::fs::read_dir(&nested).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_in_the_way_is_refused() {
        let file = std::env::temp_dir().join(format!("fanout-out-file-{}", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        let error = prepare(&file.join("report")).unwrap_err();
        assert!(error.is_bad_input(), "{error}");
        assert!(error.to_string().contains("--out"), "{error}");
        std::fs::remove_file(&file).unwrap();
    }
}
