//! What a kept test folder gets beside the logs: `activity.log` (applies,
//! commits, RPC rates) and `timeline.html`, the picture of the run.

use super::Nodes;
use crate::{activity, artifacts};
use std::path::PathBuf;

/// Set to keep a passing test's folder too (with its `timeline.html`).
pub const KEEP_VAR: &str = "LAB_KEEP";

/// Whether a passing test keeps its folder ([`KEEP_VAR`] is set and not `0`).
pub(super) fn keep_passing() -> bool {
    std::env::var_os(KEEP_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

impl Nodes {
    /// Writes `activity.log` and `timeline.html` into the test directory,
    /// then keeps it ([`crate::dir::TestDir::keep`]); returns where it is.
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
        self.dir.keep(test_name)
    }
}
