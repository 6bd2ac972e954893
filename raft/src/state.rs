//! One peer's Raft state (Figure 2), guarded by one mutex in [`crate::Inner`].
//!
//! Rules for whoever holds the lock: never `.await` and never send on the
//! apply channel while holding it; call [`State::mark_changed`] after every
//! change to persistent state (term, vote, log, snapshot), and persist
//! (see [`crate::persist`]) before replying or acting on such a change.

use crate::log::Log;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Heartbeat period: at most 10 AppendEntries per second per follower when idle.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);
/// Election timeouts are drawn uniformly from this range (ms): several
/// heartbeats long, so a live leader is never suspected, and short enough
/// that a new leader emerges well within the tester's 5 s.
pub const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 300..600;

/// What this peer currently believes it is.
#[derive(Debug)]
pub enum Role {
    /// Follows whoever leads `term`.
    Follower,
    /// Asked for votes in `term`. Invariant: `votes[me]` is true.
    Candidate {
        /// Which peers granted their vote in this term.
        votes: Vec<bool>,
    },
    /// Leads `term`.
    Leader(LeaderState),
}

/// A leader's view of its followers, for one term.
#[derive(Debug)]
pub struct LeaderState {
    /// One per peer; the entry for `me` is unused.
    pub peers: Vec<Progress>,
}

/// A leader's replication progress towards one follower.
///
/// Invariant: `match_index < next_index <= log.last_index() + 1`, and
/// `match_index` never decreases within the term.
#[derive(Debug)]
pub struct Progress {
    /// Next index to send.
    pub next_index: u64,
    /// Highest index known to be replicated (durably) on the follower.
    pub match_index: u64,
    /// Sequence number of the last send that carried entries or a snapshot
    /// and has not been answered; `None` when nothing is outstanding. Only
    /// the answer to that very send clears it.
    pub in_flight: Option<u64>,
    /// Sequence number of the last send.
    pub send_seq: u64,
    /// Wakes this follower's replicator task (new entries, an answer).
    pub wake: Arc<Notify>,
}

impl Progress {
    /// The answer to send `seq` arrived (or the call was lost): if it was
    /// the outstanding one, new entries may go out again.
    pub fn answered(&mut self, seq: u64) {
        if self.in_flight == Some(seq) {
            self.in_flight = None;
        }
    }

    /// The follower holds everything through `index`: `match_index` and
    /// `next_index` move forwards to it, never back.
    pub fn matched(&mut self, index: u64) {
        self.match_index = self.match_index.max(index);
        self.next_index = self.next_index.max(index + 1);
    }

    /// The follower refused a probe: the next one starts at `next`, but
    /// never at or below what the follower is known to hold.
    pub fn back_up(&mut self, next: u64) {
        self.next_index = next.max(self.match_index + 1);
    }
}

/// Figure 2's state plus the bookkeeping for persistence and applying.
///
/// Invariants (checked by [`State::check`]):
/// 1. `log.snapshot_index() <= last_applied <= commit_index <= log.last_index()`;
/// 2. `persisted_version <= version`;
/// 3. a leader's `Progress` holds its invariant for every follower;
/// 4. `voted_for` is a peer id.
#[derive(Debug)]
pub struct State {
    /// This peer's id.
    pub me: usize,
    /// Number of peers, this one included.
    pub n: usize,
    // ---- persistent (see persist.rs) ----
    /// Latest term this peer has seen. Never decreases.
    pub term: u64,
    /// Who this peer voted for in `term`.
    pub voted_for: Option<usize>,
    /// The log, offset by the snapshot.
    pub log: Log,
    /// The service's snapshot through `log.snapshot_index()` (empty if none).
    pub snapshot: Arc<Vec<u8>>,
    // ---- persistence bookkeeping ----
    /// Counts changes to persistent state.
    pub version: u64,
    /// The `version` covered by the last completed save.
    pub persisted_version: u64,
    /// The snapshot changed since the last save began.
    pub snapshot_dirty: bool,
    /// (term, last log index) as of the last completed save: a leader counts
    /// itself towards commit only for entries it has persisted.
    pub durable: (u64, u64),
    // ---- volatile ----
    /// Follower, candidate or leader of `term`.
    pub role: Role,
    /// Highest index known committed.
    pub commit_index: u64,
    /// Highest index handed to the applier (a snapshot counts for its index).
    pub last_applied: u64,
    /// The snapshot at `log.snapshot_index()` still has to be delivered to
    /// the service (after a restart or an InstallSnapshot).
    pub snapshot_unapplied: bool,
    /// When to start an election unless a leader or candidate is heard from.
    pub election_deadline: Instant,
}

impl State {
    /// A peer's state after (re)starting with what it had persisted.
    pub fn restored(
        me: usize,
        n: usize,
        term: u64,
        voted_for: Option<usize>,
        log: Log,
        snapshot: Vec<u8>,
    ) -> State {
        let snapshot_index = log.snapshot_index();
        let durable = (term, log.last_index());
        State {
            me,
            n,
            term,
            voted_for,
            log,
            snapshot: Arc::new(snapshot),
            version: 0,
            persisted_version: 0,
            snapshot_dirty: false,
            durable,
            role: Role::Follower,
            commit_index: snapshot_index,
            last_applied: snapshot_index,
            snapshot_unapplied: snapshot_index > 0,
            election_deadline: Instant::now() + random_election_timeout(),
        }
    }

    /// Records a change to persistent state.
    pub fn mark_changed(&mut self) {
        self.version += 1;
    }

    /// Whether this peer leads `self.term`.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    /// Whether this peer still leads `term` (a reply to a call made in
    /// `term` may only act if so).
    pub fn leads(&self, term: u64) -> bool {
        self.term == term && self.is_leader()
    }

    /// Adopts a newer `term` seen in any message: forget the vote and
    /// follow. Returns whether the term changed.
    pub fn observe_term(&mut self, term: u64) -> bool {
        if term <= self.term {
            return false;
        }
        if self.is_leader() {
            tracing::info!(peer = self.me, old_term = self.term, term, "leader steps down: saw a newer term");
        } else {
            tracing::debug!(peer = self.me, old_term = self.term, term, "adopts a newer term");
        }
        self.term = term;
        self.voted_for = None;
        self.role = Role::Follower;
        self.mark_changed();
        true
    }

    /// Postpones the next election by a fresh random timeout.
    pub fn reset_election_timer(&mut self) {
        self.election_deadline = Instant::now() + random_election_timeout();
    }

    /// Number of votes that make a majority.
    pub fn majority(&self) -> usize {
        self.n / 2 + 1
    }

    /// Checks the invariants listed on the type.
    pub fn check(&self) -> Result<(), String> {
        self.log.check()?;
        let (snap, applied, commit, last) =
            (self.log.snapshot_index(), self.last_applied, self.commit_index, self.log.last_index());
        if !(snap <= applied && applied <= commit && commit <= last) {
            return Err(format!(
                "want snapshot_index {snap} <= last_applied {applied} <= commit_index {commit} <= last_index {last}"
            ));
        }
        if self.persisted_version > self.version {
            return Err(format!("persisted version {} > version {}", self.persisted_version, self.version));
        }
        if self.voted_for.is_some_and(|v| v >= self.n) {
            return Err(format!("voted for {:?}, but there are {} peers", self.voted_for, self.n));
        }
        if let Role::Leader(leader) = &self.role {
            for (peer, p) in leader.peers.iter().enumerate().filter(|(peer, _)| *peer != self.me) {
                if !(p.match_index < p.next_index && p.next_index <= last + 1) {
                    return Err(format!(
                        "peer {peer}: want match_index {} < next_index {} <= last_index+1 {}",
                        p.match_index,
                        p.next_index,
                        last + 1
                    ));
                }
            }
        }
        Ok(())
    }

    /// Asserts the invariants in debug builds (tests); a no-op in release.
    pub fn debug_check(&self) {
        if cfg!(debug_assertions)
            && let Err(e) = self.check()
        {
            panic!("raft peer {}: invariant broken: {e}\n{self:#?}", self.me);
        }
    }
}

/// A fresh election timeout drawn from [`ELECTION_TIMEOUT_MS`].
pub fn random_election_timeout() -> Duration {
    Duration::from_millis(labrpc::rng().random_range(ELECTION_TIMEOUT_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_moves_forwards_and_backs_up_only_above_what_matched() {
        let mut p = Progress {
            next_index: 5,
            match_index: 0,
            in_flight: Some(3),
            send_seq: 3,
            wake: Arc::new(Notify::new()),
        };
        p.answered(2);
        assert_eq!(p.in_flight, Some(3), "only the outstanding send's answer clears it");
        p.answered(3);
        assert_eq!(p.in_flight, None);
        p.matched(4);
        p.matched(2);
        assert_eq!((p.match_index, p.next_index), (4, 5), "a stale answer never moves progress back");
        p.back_up(1);
        assert_eq!(p.next_index, 5, "never at or below the match index");
        p.matched(9);
        p.back_up(7);
        assert_eq!((p.match_index, p.next_index), (9, 10));
    }
}
