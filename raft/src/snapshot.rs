//! Snapshots: the service's `snapshot` call, and the InstallSnapshot RPC
//! that brings a follower whose next entry the leader has discarded.
//!
//! A snapshot replaces the log through its index. The Raft state and the
//! snapshot bytes are always saved together, in one Persister save, so a
//! crash never leaves a trimmed log without the snapshot that covers it.

use crate::Inner;
use crate::persist::{persist, save_through};
use crate::state::{Role, State};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Arguments of [`crate::INSTALL_SNAPSHOT`] (sent whole, not in chunks).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    /// The leader's term.
    pub term: u64,
    /// The leader's id.
    pub leader: u64,
    /// The snapshot replaces all entries through this index.
    pub last_included_index: u64,
    /// Term of the entry at `last_included_index`.
    pub last_included_term: u64,
    /// The service's snapshot.
    pub data: Vec<u8>,
}

/// Reply of [`crate::INSTALL_SNAPSHOT`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    /// The follower's current term, for the leader to update itself.
    pub term: u64,
}

/// The service's `Raft::snapshot(index, data)`: trims the log through
/// `index` and saves state and snapshot together before returning.
pub fn take_snapshot(inner: &Inner, index: u64, data: Vec<u8>) {
    let version = {
        let mut s = inner.lock();
        if index <= s.log.snapshot_index() {
            tracing::debug!(peer = s.me, index, have = s.log.snapshot_index(), "snapshot not newer: ignored");
            return;
        }
        if index > s.last_applied {
            tracing::warn!(
                peer = s.me,
                index,
                last_applied = s.last_applied,
                "snapshot past what was applied: ignored"
            );
            return;
        }
        let term = s.log.term_at(index).expect("applied entries after the snapshot are in the log");
        s.log.compact_through(index, term);
        s.snapshot = Arc::new(data);
        s.snapshot_dirty = true;
        s.mark_changed();
        s.debug_check();
        tracing::debug!(peer = s.me, index, "snapshot: log trimmed");
        s.version
    };
    save_through(inner, version);
}

/// The leader's InstallSnapshot arguments, from its current snapshot.
pub fn install_args(s: &State, me: usize) -> InstallSnapshotArgs {
    InstallSnapshotArgs {
        term: s.term,
        leader: me as u64,
        last_included_index: s.log.snapshot_index(),
        last_included_term: s.log.snapshot_term(),
        data: s.snapshot.to_vec(),
    }
}

/// Follower: the InstallSnapshot decision applied to `s` (no I/O). Ignores
/// a snapshot not newer than `commit_index`; otherwise installs it, keeping
/// the log after it when the log agrees at its index, and schedules it for
/// delivery to the service. Returns whether it installed.
pub fn accept_snapshot(s: &mut State, args: InstallSnapshotArgs) -> bool {
    s.observe_term(args.term);
    if args.term < s.term {
        return false;
    }
    if let Role::Candidate { .. } = s.role {
        s.role = Role::Follower;
    }
    s.reset_election_timer();
    let index = args.last_included_index;
    if index <= s.commit_index {
        return false;
    }
    s.log.compact_through(index, args.last_included_term);
    s.snapshot = Arc::new(args.data);
    s.snapshot_dirty = true;
    s.mark_changed();
    // Forwards only: index > commit_index >= last_applied.
    s.commit_index = index;
    s.last_applied = index;
    s.snapshot_unapplied = true;
    tracing::info!(peer = s.me, index, term = s.term, "installs a snapshot from the leader");
    true
}

/// Handler of [`crate::INSTALL_SNAPSHOT`]: decides, persists (state and
/// snapshot in one save), then replies; the applier delivers the snapshot.
pub async fn handle_install_snapshot(inner: Arc<Inner>, args: InstallSnapshotArgs) -> InstallSnapshotReply {
    let (term, installed, version) = {
        let mut s = inner.lock();
        let installed = accept_snapshot(&mut s, args);
        s.debug_check();
        (s.term, installed, s.version)
    };
    persist(&inner, version).await;
    if installed {
        inner.apply_wake.notify_one();
    }
    InstallSnapshotReply { term }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::next_batch;
    use crate::log::Log;
    use labrpc::ApplyMsg;

    fn install(index: u64, term: u64) -> InstallSnapshotArgs {
        InstallSnapshotArgs {
            term: 3,
            leader: 0,
            last_included_index: index,
            last_included_term: term,
            data: vec![7],
        }
    }

    #[test]
    fn a_matching_suffix_is_kept() {
        let mut s = State::restored(1, 3, 3, None, Log::from_terms(&[1, 1, 2, 3]), Vec::new());
        assert!(accept_snapshot(&mut s, install(2, 1)));
        assert_eq!((s.log.snapshot_index(), s.log.terms()), (2, vec![2, 3]));
        assert_eq!((s.commit_index, s.last_applied), (2, 2));
        assert!(matches!(next_batch(&mut s).as_slice(), [ApplyMsg::Snapshot { index: 2, term: 1, .. }]));
    }

    #[test]
    fn a_conflicting_log_is_discarded() {
        let mut s = State::restored(1, 3, 3, None, Log::from_terms(&[1, 1, 2, 3]), Vec::new());
        assert!(accept_snapshot(&mut s, install(3, 3)));
        assert_eq!((s.log.last_index(), s.log.entries().len()), (3, 0));
    }

    #[test]
    fn a_snapshot_not_newer_than_the_commit_index_is_ignored() {
        let mut s = State::restored(1, 3, 3, None, Log::from_terms(&[1, 1, 2, 3]), Vec::new());
        s.commit_index = 3;
        assert!(!accept_snapshot(&mut s, install(2, 1)));
        assert_eq!((s.log.snapshot_index(), s.log.last_index()), (0, 4));
    }
}
