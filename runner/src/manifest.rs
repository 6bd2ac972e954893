//! The kit's own files in a test folder, by name: [`MANIFEST`]
//! (`kit-views.txt`), at the top of the folder, one file name per line,
//! written by the harness only.
//!
//! A test folder holds what the harness wrote (its pages, `timeline.html`
//! and `linearizability.html`; its logs, `timeline.log`, `activity.log`, …)
//! beside what the nodes wrote, in their own subfolders (`d{i}/`,
//! `n{i}/own/`). A report links as the kit's views only the pages this file
//! names (see the grader's `report::html`): a node that writes its own
//! `timeline.html` has it shown as a node's file, never as the kit's.
//!
//! Nodes cannot write at the top of a test folder, so they can neither
//! write this file nor add a file beside it. Its names are plain file
//! names ([`valid_name`]): no folder, no link is ever named.

use std::io::{Read, Write};
use std::path::Path;

pub use protocol::artifacts::MANIFEST;

/// The most bytes of a manifest read back (a kit's manifest names a dozen
/// files).
pub const MANIFEST_BYTES: u64 = 64 * 1024;

/// Whether `name` can be listed: a plain file name of printable characters,
/// no `/`, not `.` or `..`, not hidden, not the manifest itself.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != MANIFEST
        && !name.starts_with('.')
        && !name.contains('/')
        && !name.chars().any(|c| c.is_control() || crate::text::is_hidden(c))
}

/// Adds `name` to the manifest of the test folder `dir` (once; the file is
/// replaced, never written through).
///
/// # Errors
/// If `name` is not a [`valid_name`], or the manifest cannot be written.
pub fn record(dir: &Path, name: &str) -> std::io::Result<()> {
    if !valid_name(name) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{name:?} cannot be listed in {MANIFEST}: not a plain file name"),
        ));
    }
    let mut names = read(dir);
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    names.push(name.to_string());
    let tmp = dir.join(format!(".{MANIFEST}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
    f.write_all(names.iter().map(|n| format!("{n}\n")).collect::<String>().as_bytes())?;
    drop(f);
    std::fs::rename(&tmp, dir.join(MANIFEST))
}

/// The names the manifest of the test folder `dir` lists, in the order they
/// were recorded: only [`valid_name`]s, each once; none if it is missing,
/// not a regular file (a link is not followed) or unreadable. Whether each
/// names a regular file of `dir` is the reader's check, when it uses it.
pub fn read(dir: &Path) -> Vec<String> {
    let Ok((file, _)) = crate::untrusted::open_file_at(&dir.join(MANIFEST)) else { return Vec::new() };
    let mut bytes = Vec::new();
    if file.take(MANIFEST_BYTES).read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let mut names: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&bytes).lines() {
        if valid_name(line) && !names.iter().any(|n| n == line) {
            names.push(line.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_recorded_once_in_order_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).is_empty());
        for name in ["activity.log", "timeline.html", "activity.log", "linearizability.html"] {
            record(dir.path(), name).unwrap();
        }
        assert_eq!(read(dir.path()), ["activity.log", "timeline.html", "linearizability.html"]);
        let text = std::fs::read_to_string(dir.path().join(MANIFEST)).unwrap();
        assert_eq!(text, "activity.log\ntimeline.html\nlinearizability.html\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn only_plain_file_names_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        for bad in
            ["", ".", "..", "d0/timeline.html", "../x.html", ".hidden", MANIFEST, "a\nb", "x\u{202e}lmth"]
        {
            assert!(record(dir.path(), bad).is_err(), "{bad:?}");
        }
        let written = "timeline.html\nd0/timeline.html\n../up.html\n\n.x\nkit-views.txt\nok.html\nok.html\n";
        std::fs::write(dir.path().join(MANIFEST), written).unwrap();
        assert_eq!(read(dir.path()), ["timeline.html", "ok.html"]);
    }

    #[test]
    fn a_manifest_that_is_a_link_is_not_read_nor_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("target.txt"), "forged.html\n").unwrap();
        let test = dir.path().join("test");
        std::fs::create_dir(&test).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("target.txt"), test.join(MANIFEST)).unwrap();
        assert!(read(&test).is_empty());
        record(&test, "timeline.html").unwrap();
        assert_eq!(read(&test), ["timeline.html"]);
        assert_eq!(std::fs::read_to_string(elsewhere.join("target.txt")).unwrap(), "forged.html\n");
    }
}
