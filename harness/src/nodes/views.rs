//! What a kept test folder gets beside the logs: `activity.log` (applies,
//! commits, RPC rates), `timeline.html`, the picture of the run, and the
//! manifest of the kit's own files (`kit-views.txt`), so that a report
//! links the kit's pages and logs and only shows what a node wrote.

use super::Nodes;
use crate::activity;
use crate::artifacts::{self, manifest};
use std::path::{Path, PathBuf};

/// Set to keep a passing test's folder too (with its `timeline.html`).
pub const KEEP_VAR: &str = protocol::env::KEEP;

/// Whether a passing test keeps its folder ([`KEEP_VAR`] is set and not `0`).
pub(super) fn keep_passing() -> bool {
    std::env::var_os(KEEP_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

impl Nodes {
    /// Writes `activity.log` and `timeline.html` into the test directory,
    /// lists them and the harness's logs in its manifest, then keeps it
    /// ([`crate::dir::TestDir::keep`]); returns where it is.
    pub(super) fn keep_with_views(&mut self, test_name: &str) -> PathBuf {
        self.timeline.flush();
        let counts = self.activity.counts(&self.net.stats().rates());
        let activity = self.dir.join(artifacts::ACTIVITY_LOG);
        if let Err(e) = activity::write(&activity, &counts) {
            eprintln!("cannot write {}: {e}", activity.display());
        }
        if let Err(e) = artifacts::page::write(self.dir.path()) {
            eprintln!("{e}");
        }
        let logs = (0..self.n).map(artifacts::node_log).chain(
            [artifacts::TIMELINE_LOG, artifacts::ACTIVITY_LOG, artifacts::NETWORK_LOG, artifacts::CLERKS_LOG]
                .map(String::from),
        );
        if let Err(e) = record_existing(self.dir.path(), logs) {
            eprintln!("cannot write {}: {e}", self.dir.join(manifest::MANIFEST).display());
        }
        self.dir.keep(test_name)
    }
}

/// Lists in the manifest of `dir` each of the harness's files `names` that
/// is there as a regular file (the harness creates them; a test writes only
/// some: `network.log` with `LAB_TRACE_NET`, `clerks.log` in KV tests).
fn record_existing(dir: &Path, names: impl IntoIterator<Item = String>) -> std::io::Result<()> {
    for name in names {
        if std::fs::symlink_metadata(dir.join(&name)).is_ok_and(|m| m.is_file()) {
            manifest::record(dir, &name)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_harness_files_that_are_there_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["n0.log", "n1.log", "timeline.log"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("network.log")).unwrap();
        let names = ["n0.log", "n1.log", "n2.log", "timeline.log", "network.log"].map(String::from);
        super::record_existing(dir.path(), names).unwrap();
        assert_eq!(crate::artifacts::manifest::read(dir.path()), ["n0.log", "n1.log", "timeline.log"]);
    }
}
