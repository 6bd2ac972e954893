//! Reading a test's artifact folder back: the node logs (`nN.log`), the
//! harness's `timeline.log`, `activity.log` and `network.log`. Every file
//! stamps its lines with seconds since the test began on one clock
//! ([`control::clock`]), so they merge exactly.
//!
//! * [`merge`] + [`render`]: one time-ordered text view with a column per
//!   node and the harness's events across all of them (`labs logs DIR`).
//! * [`page`]: a self-contained HTML timeline of the run (`timeline.html`,
//!   written into every failing test's folder; `labs timeline DIR`).
//! * [`manifest`]: `kit-views.txt`, the names of the files the kit wrote
//!   there, so that a report tells the kit's pages from a node's.
//!
//! What a node wrote is hostile text: every file is read here bounded,
//! without following a link, and with its hidden characters escaped
//! ([`runner::text::escape_bytes`]), so a view shows no control a node chose.

pub mod events;
pub mod lanes;
pub mod logline;
pub mod merge;
pub mod page;
pub mod render;
pub mod topics;

pub use protocol::artifacts::{
    ACTIVITY_LOG, CLERKS_LOG, LINEARIZABILITY_HTML, MANIFEST, NETWORK_LOG, TIMELINE_HTML, TIMELINE_LOG,
};
pub use runner::manifest;

use std::path::{Path, PathBuf};
/// At most this many bytes of a file of the folder are read: more than any
/// test writes (the artifacts copy holds at most [`crate::dir::ARTIFACTS_BUDGET`]).
pub const READ_BYTES: u64 = crate::dir::ARTIFACTS_BUDGET;

/// The name of node `i`'s log.
pub fn node_log(i: usize) -> String {
    format!("n{i}.log")
}

/// The files of an artifact folder.
#[derive(Debug)]
pub struct Folder {
    /// The folder.
    pub path: PathBuf,
    /// Each node's log, by node index, in index order.
    pub logs: Vec<(usize, PathBuf)>,
}

impl Folder {
    /// The artifact folder at `path`: it must hold a `timeline.log` or a
    /// node log.
    pub fn open(path: &Path) -> Result<Folder, String> {
        let entries =
            std::fs::read_dir(path).map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
        let mut logs: Vec<(usize, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let n = name.strip_prefix('n')?.strip_suffix(".log")?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect();
        logs.sort();
        let folder = Folder { path: path.to_path_buf(), logs };
        if folder.logs.is_empty() && !folder.file(TIMELINE_LOG).is_file() {
            return Err(format!(
                "{} is not a test's artifact folder: it has neither {TIMELINE_LOG} nor node logs (n0.log, …)",
                path.display()
            ));
        }
        Ok(folder)
    }

    /// A file of the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The contents of a file of the folder; empty if it is missing.
    pub fn read(&self, name: &str) -> String {
        read_lossy(&self.file(name))
    }

    /// Each node's log, read.
    pub fn read_logs(&self) -> Vec<(usize, String)> {
        self.logs.iter().map(|(n, p)| (*n, read_lossy(p))).collect()
    }
}

/// `network.log` as extra node logs, so that it merges like them: each
/// decision (`  0.03s 2->0 Raft.AppendEntries #5: Deliver(3ms)`) goes in
/// the column of its caller, or of its server when the caller is a clerk
/// (an id of `nodes` or more), as a `TRACE net:` line.
pub fn network_as_logs(text: &str, nodes: usize) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = (0..nodes).map(|n| (n, String::new())).collect();
    for line in text.lines() {
        let Some((stamp, rest)) = line.trim_start().split_once(' ') else { continue };
        let Some((from, to)) = rest.split_once(' ').and_then(|(link, _)| link.split_once("->")) else {
            continue;
        };
        let (Ok(from), Ok(to)) = (from.parse::<usize>(), to.parse::<usize>()) else { continue };
        let column = if from < nodes { from } else { to };
        if let Some((_, log)) = out.get_mut(column) {
            log.push_str(&format!("{stamp} TRACE net: {rest}\n"));
        }
    }
    out
}

/// A file's text as safe text (hidden characters and bytes that are not
/// UTF-8 escaped); empty if it is missing, is not a regular file (a link is
/// not followed, a FIFO not opened for good) or cannot be read. At most
/// [`READ_BYTES`] are read.
fn read_lossy(path: &Path) -> String {
    use std::io::Read;
    let Ok((file, _)) = runner::untrusted::open_file_at(path) else { return String::new() };
    let mut bytes = Vec::new();
    if file.take(READ_BYTES).read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    match runner::text::escape_bytes(&bytes) {
        std::borrow::Cow::Borrowed(_) => String::from_utf8(bytes).expect("escape_bytes borrows only UTF-8"),
        std::borrow::Cow::Owned(text) => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_folders_files_are_read_as_safe_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("n0.log"), b"  0.1s  INFO ok\tfine\n\x1b[2J\r\xff\xc2\x9b\n").unwrap();
        std::fs::write(dir.path().join("n1.log"), "  0.2s  INFO honest ★\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("n2.log")).unwrap();
        std::fs::write(dir.path().join(super::TIMELINE_LOG), "  0.3s  VIOLATION: node 0: \u{202e}x\n")
            .unwrap();
        let folder = super::Folder::open(dir.path()).unwrap();
        assert_eq!(
            folder.read_logs(),
            [
                (0, "  0.1s  INFO ok\tfine\n\\x1b[2J\\r\\xff\\u{9b}\n".to_string()),
                (1, "  0.2s  INFO honest ★\n".to_string()),
                (2, String::new()),
            ]
        );
        assert_eq!(folder.read(super::TIMELINE_LOG), "  0.3s  VIOLATION: node 0: \\u{202e}x\n");
    }

    #[test]
    fn network_decisions_go_to_their_callers_column() {
        let net = "  0.030000s 1003->0 KVServer.Get #1: Deliver(17ms)\n  0.040000s 0->2 Raft.AppendEntries #4: Drop\nbad\n";
        let logs = super::network_as_logs(net, 3);
        assert_eq!(
            logs[0].1,
            "0.030000s TRACE net: 1003->0 KVServer.Get #1: Deliver(17ms)\n0.040000s TRACE net: 0->2 Raft.AppendEntries #4: Drop\n"
        );
        assert!(logs[1].1.is_empty() && logs[2].1.is_empty());
        let parsed = super::logline::parse(logs[0].1.lines().next().unwrap());
        assert_eq!(parsed.t, Some(0.03));
    }
}
