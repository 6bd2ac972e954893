//! AppendEntries: the follower's side, and the pure decisions both sides
//! make about logs (consistency check, merging, fast backup).
//!
//! Fast backup: a follower that refuses an AppendEntries says where its log
//! stops agreeing, as [`Conflict`] (XTerm, XIndex, XLen), so the leader moves
//! `next_index` past a whole run of conflicting entries in one step instead
//! of one index per round trip.

use crate::Inner;
use crate::log::{Entry, Log};
use crate::persist::persist;
use crate::state::{Role, State};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Arguments of [`crate::APPEND_ENTRIES`]. With no entries it is a
/// heartbeat, and it still carries the consistency check and the leader's
/// commit index.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    /// The leader's term.
    pub term: u64,
    /// The leader's id.
    pub leader: u64,
    /// Index of the entry just before `entries`.
    pub prev_log_index: u64,
    /// Term of that entry.
    pub prev_log_term: u64,
    /// Entries to store, at `prev_log_index + 1` on.
    pub entries: Vec<Entry>,
    /// The leader's commit index.
    pub leader_commit: u64,
}

/// Reply of [`crate::APPEND_ENTRIES`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    /// The follower's current term, for the leader to update itself.
    pub term: u64,
    /// The follower held `prev_log_index` with `prev_log_term` and now holds
    /// the entries.
    pub success: bool,
    /// Why not, when the follower refused on a log mismatch in the
    /// leader's term.
    pub conflict: Option<Conflict>,
}

/// Where a follower's log stops matching the leader's `prev_log_index`.
///
/// The entry described is the follower's entry at `prev_log_index` if it
/// has one, else its last entry (its log is too short).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// XTerm: term of that entry.
    pub x_term: u64,
    /// XIndex: the first index of the follower's run of `x_term` entries
    /// ending there.
    pub x_index: u64,
    /// XLen: the index of the follower's last entry, counting the entries
    /// its snapshot covers (not the number of entries kept in memory).
    pub x_len: u64,
}

/// Follower: whether `log` holds `prev_index` with `prev_term`; if not, the
/// [`Conflict`] to report. Requires `prev_index >= log.snapshot_index()`.
pub fn check_prev(log: &Log, prev_index: u64, prev_term: u64) -> Result<(), Conflict> {
    let x_len = log.last_index();
    let at = prev_index.min(x_len);
    match log.term_at(at) {
        Some(term) if at == prev_index && term == prev_term => Ok(()),
        Some(term) => Err(Conflict { x_term: term, x_index: log.first_index_of_term_run(at), x_len }),
        None => Err(Conflict { x_term: 0, x_index: log.snapshot_index(), x_len }),
    }
}

/// Follower: stores `entries` after `prev_index` (which matched). Skips the
/// entries it already holds with the same term, so a stale or reordered
/// AppendEntries never truncates; deletes the suffix only from the first
/// entry that conflicts. Returns whether the log changed.
pub fn merge_entries(log: &mut Log, prev_index: u64, entries: Vec<Entry>) -> bool {
    let mut changed = false;
    for (index, entry) in (prev_index + 1..).zip(entries) {
        match log.term_at(index) {
            Some(term) if term == entry.term => continue,
            Some(_) => {
                log.truncate_from(index);
                log.push(entry);
            }
            None => log.push(entry),
        }
        changed = true;
    }
    changed
}

/// Leader: the `next_index` for a follower that refused `prev_index` with
/// `c`, in one step:
/// * the follower's log is too short and its last entry matches ours:
///   resume right after it (XLen + 1);
/// * we hold entries of XTerm: resume after our last entry of XTerm;
/// * we hold none: skip the follower's whole XTerm run (XIndex).
///
/// Never above `prev_index`, which was refused.
pub fn next_index_after_reject(log: &Log, prev_index: u64, c: &Conflict) -> u64 {
    let next = if c.x_len < prev_index && log.term_at(c.x_len) == Some(c.x_term) {
        c.x_len + 1
    } else {
        match log.last_index_of_term(c.x_term) {
            Some(last) => last + 1,
            None => c.x_index,
        }
    };
    next.min(prev_index)
}

/// Follower: the whole AppendEntries decision applied to `s` (no I/O).
/// Returns the reply and whether `commit_index` moved.
pub fn accept_append(s: &mut State, args: AppendEntriesArgs) -> (AppendEntriesReply, bool) {
    s.observe_term(args.term);
    let refuse = |s: &State, conflict| (AppendEntriesReply { term: s.term, success: false, conflict }, false);
    if args.term < s.term {
        return refuse(s, None);
    }
    match s.role {
        Role::Leader(_) => {
            tracing::error!(
                peer = s.me,
                term = s.term,
                from = args.leader,
                "two leaders in one term: refused"
            );
            return refuse(s, None);
        }
        Role::Candidate { .. } => s.role = Role::Follower,
        Role::Follower => {}
    }
    s.reset_election_timer();
    let last_new = args.prev_log_index + args.entries.len() as u64;
    let (mut prev_index, mut prev_term, mut entries) =
        (args.prev_log_index, args.prev_log_term, args.entries);
    // Entries through our snapshot are committed, so the leader's agree with
    // them: skip them and check from the snapshot's last index.
    let snapshot_index = s.log.snapshot_index();
    if prev_index < snapshot_index {
        entries.drain(..((snapshot_index - prev_index) as usize).min(entries.len()));
        (prev_index, prev_term) = (snapshot_index, s.log.snapshot_term());
    }
    if let Err(conflict) = check_prev(&s.log, prev_index, prev_term) {
        return refuse(s, Some(conflict));
    }
    if merge_entries(&mut s.log, prev_index, entries) {
        s.mark_changed();
    }
    let commit = args.leader_commit.min(last_new);
    let committed = commit > s.commit_index;
    if committed {
        s.commit_index = commit;
    }
    (AppendEntriesReply { term: s.term, success: true, conflict: None }, committed)
}

/// Handler of [`crate::APPEND_ENTRIES`]: decides, persists, then replies.
pub async fn handle_append_entries(inner: Arc<Inner>, args: AppendEntriesArgs) -> AppendEntriesReply {
    let (reply, committed, version) = {
        let mut s = inner.lock();
        let (reply, committed) = accept_append(&mut s, args);
        s.debug_check();
        (reply, committed, s.version)
    };
    persist(&inner, version).await;
    if committed {
        inner.apply_wake.notify_one();
    }
    reply
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs the leader's backup against `follower` from `next` until an
    /// AppendEntries succeeds; returns the number of refusals.
    pub(crate) fn repair(follower: &mut Log, leader: &Log, mut next: u64) -> usize {
        let mut refusals = 0;
        loop {
            let prev = next - 1;
            let prev_term = leader.term_at(prev).expect("the leader holds prev");
            match check_prev(follower, prev, prev_term) {
                Ok(()) => {
                    merge_entries(follower, prev, leader.entries_from(next, usize::MAX).to_vec());
                    return refusals;
                }
                Err(c) => {
                    refusals += 1;
                    assert!(refusals < 10, "backup does not converge");
                    next = next_index_after_reject(leader, prev, &c);
                }
            }
        }
    }

    /// Each case of the fast-backup notes is repaired with one refusal,
    /// whether the leader starts at the conflict or at the end of its log.
    #[test]
    fn fast_backup_repairs_each_case_in_one_refusal() {
        let leader = Log::from_terms(&[4, 6, 6, 6]);
        let cases: [(&str, &[u64]); 3] = [
            ("leader lacks XTerm", &[4, 5, 5]),
            ("leader has XTerm", &[4, 4, 4]),
            ("follower too short", &[4]),
        ];
        for (name, terms) in cases {
            for next in [4, 5] {
                let mut follower = Log::from_terms(terms);
                let refusals = repair(&mut follower, &leader, next);
                assert_eq!(refusals, 1, "{name}, next_index {next}");
                assert_eq!(follower.terms(), leader.terms(), "{name}, next_index {next}");
            }
        }
    }

    #[test]
    fn the_conflict_names_the_term_run() {
        let follower = Log::from_terms(&[4, 5, 5]);
        assert_eq!(check_prev(&follower, 3, 6), Err(Conflict { x_term: 5, x_index: 2, x_len: 3 }));
        assert_eq!(check_prev(&follower, 4, 6), Err(Conflict { x_term: 5, x_index: 2, x_len: 3 }));
        assert_eq!(check_prev(&follower, 3, 5), Ok(()));
        assert_eq!(check_prev(&Log::new(), 0, 0), Ok(()));
    }

    #[test]
    fn a_stale_append_that_matches_never_truncates() {
        let mut log = Log::from_terms(&[1, 1, 2, 2]);
        let stale: Vec<Entry> = Log::from_terms(&[1, 2]).entries().to_vec();
        assert!(!merge_entries(&mut log, 1, stale), "entries 2 and 3 are already there");
        assert_eq!(log.terms(), vec![1, 1, 2, 2]);
        let conflicting = Log::from_terms(&[3]).entries().to_vec();
        assert!(merge_entries(&mut log, 2, conflicting));
        assert_eq!(log.terms(), vec![1, 1, 3], "the suffix goes only from the conflict");
    }

    fn args(term: u64, prev: (u64, u64), terms: &[u64], leader_commit: u64) -> AppendEntriesArgs {
        AppendEntriesArgs {
            term,
            leader: 0,
            prev_log_index: prev.0,
            prev_log_term: prev.1,
            entries: Log::from_terms(terms).entries().to_vec(),
            leader_commit,
        }
    }

    #[test]
    fn a_follower_commits_only_what_it_verified() {
        let mut s = State::restored(1, 3, 1, None, Log::from_terms(&[1, 1, 1, 1]), Vec::new());
        let (reply, committed) = accept_append(&mut s, args(2, (1, 1), &[1], 9));
        assert!(reply.success && committed);
        assert_eq!(s.commit_index, 2, "commit is capped by the last entry this call verified");
        let (reply, _) = accept_append(&mut s, args(1, (1, 1), &[], 9));
        assert!(!reply.success && reply.conflict.is_none() && reply.term == 2, "stale leader");
    }

    #[test]
    fn entries_covered_by_the_snapshot_are_skipped() {
        let mut log = Log::from_terms(&[1, 1, 1, 2]);
        log.compact_through(3, 1);
        let mut s = State::restored(1, 3, 2, None, log, b"snap".to_vec());
        let (reply, _) = accept_append(&mut s, args(2, (1, 1), &[1, 1, 2, 2], 3));
        assert!(reply.success);
        assert_eq!((s.log.snapshot_index(), s.log.terms()), (3, vec![2, 2]));
        let (reply, _) = accept_append(&mut s, args(2, (0, 0), &[1], 3));
        assert!(reply.success, "wholly inside the snapshot");
    }
}
