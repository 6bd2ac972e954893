//! The commit rule, in one place: the leader advances its commit index when
//! a follower's progress changes (replication, [`crate::leader`]) and when
//! its own copy of new entries becomes durable ([`crate::persist`]); both
//! call [`commit`].

use crate::Inner;
use crate::state::{Role, State};

/// Applies the commit rule ([`advance_commit`]) and, if the commit index
/// moved, wakes the applier. Call with the state lock held, after anything
/// that may let more entries commit.
pub fn commit(inner: &Inner, s: &mut State) {
    if advance_commit(s) {
        inner.apply_wake.notify_one();
    }
}

/// The highest index held by a majority, given each peer's match index.
pub fn quorum_index(mut matches: Vec<u64>) -> u64 {
    matches.sort_unstable_by(|a, b| b.cmp(a));
    matches[matches.len() / 2]
}

/// The leader's commit rule (§5.3, §5.4.2): commits the highest index held
/// by a majority, if its entry is of the current term (Figure 8: counting
/// replicas never commits an earlier term's entry by itself; those commit
/// with it). The leader counts itself only for entries it has persisted.
/// Returns whether `commit_index` moved.
pub fn advance_commit(s: &mut State) -> bool {
    let Role::Leader(leader) = &s.role else { return false };
    let own = if s.durable.0 == s.term { s.durable.1.min(s.log.last_index()) } else { 0 };
    let matches = leader.peers.iter().enumerate().map(|(i, p)| if i == s.me { own } else { p.match_index });
    let index = quorum_index(matches.collect());
    if index <= s.commit_index || s.log.term_at(index) != Some(s.term) {
        return false;
    }
    tracing::debug!(peer = s.me, term = s.term, commit_index = index, "commits");
    s.commit_index = index;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Log;
    use crate::state::{LeaderState, Progress};
    use std::sync::Arc;
    use tokio::sync::Notify;

    fn leader(term: u64, terms: &[u64], matches: &[u64]) -> State {
        let mut s = State::restored(0, matches.len(), term, Some(0), Log::from_terms(terms), Vec::new());
        let peers = matches
            .iter()
            .map(|&m| Progress {
                next_index: m + 1,
                match_index: m,
                in_flight: None,
                send_seq: 0,
                wake: Arc::new(Notify::new()),
            })
            .collect();
        s.role = Role::Leader(LeaderState { peers });
        s
    }

    #[test]
    fn quorum_is_the_majority_position() {
        assert_eq!(quorum_index(vec![5, 3, 4]), 4);
        assert_eq!(quorum_index(vec![1, 9, 9, 2, 2]), 2);
        assert_eq!(quorum_index(vec![7]), 7);
    }

    /// Figure 8: the term-2 entry at index 2 sits on a majority, yet the
    /// term-4 leader must not commit it until its own entry 3 is there too.
    #[test]
    fn only_current_term_entries_commit_by_counting() {
        let mut s = leader(4, &[1, 2, 4], &[3, 2, 2, 1, 1]);
        assert!(!advance_commit(&mut s), "index 2 is on 3 of 5, but of term 2");
        if let Role::Leader(l) = &mut s.role {
            l.peers[1].match_index = 3;
            l.peers[2].match_index = 3;
        }
        assert!(advance_commit(&mut s));
        assert_eq!(s.commit_index, 3, "entry 3 commits, and entry 2 with it");
    }

    #[test]
    fn the_leader_counts_itself_only_once_persisted() {
        let mut s = leader(2, &[2, 2], &[0, 2, 0]);
        s.durable = (2, 0);
        assert!(!advance_commit(&mut s), "one follower and an unpersisted leader are not a majority");
        s.durable = (2, 2);
        assert!(advance_commit(&mut s));
        assert_eq!(s.commit_index, 2);
    }
}
