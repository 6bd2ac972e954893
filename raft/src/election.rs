//! Leader election: the RequestVote RPC, the election timer and candidates.
//!
//! A follower (or candidate) that hears from no leader and grants no vote
//! for a random election timeout becomes a candidate of the next term: it
//! votes for itself, persists, and asks every peer concurrently. A majority
//! of votes in that term makes it leader (see leader.rs). Votes are granted
//! at most once per term, and only to candidates whose log is at least as
//! up to date as the voter's (the election restriction, §5.4.1).

use crate::Inner;
use crate::REQUEST_VOTE;
use crate::leader;
use crate::log::Log;
use crate::persist::persist;
use crate::state::{Role, State};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::time::Instant;

/// Arguments of [`crate::REQUEST_VOTE`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    /// The candidate's term.
    pub term: u64,
    /// The candidate's id.
    pub candidate: u64,
    /// Index of the candidate's last log entry.
    pub last_log_index: u64,
    /// Term of the candidate's last log entry.
    pub last_log_term: u64,
}

/// Reply of [`crate::REQUEST_VOTE`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteReply {
    /// The voter's current term, for the candidate to update itself.
    pub term: u64,
    /// Whether the candidate received this vote.
    pub vote_granted: bool,
}

/// The election restriction (§5.4.1): a candidate whose last entry is
/// `(last_log_term, last_log_index)` is at least as up to date as `voter`:
/// a later last term wins, and with equal last terms the longer log.
pub fn candidate_up_to_date(voter: &Log, last_log_term: u64, last_log_index: u64) -> bool {
    (last_log_term, last_log_index) >= (voter.last_term(), voter.last_index())
}

/// The voter's decision on `args`, applied to `s`: adopts a newer term, then
/// grants the vote if none went to another candidate in this term and the
/// candidate's log is up to date. Granting resets the election timer.
pub fn decide_vote(s: &mut State, args: &RequestVoteArgs) -> bool {
    s.observe_term(args.term);
    let candidate = args.candidate as usize;
    if args.term < s.term || candidate >= s.n {
        return false;
    }
    if s.voted_for.is_some_and(|v| v != candidate) {
        return false;
    }
    if !candidate_up_to_date(&s.log, args.last_log_term, args.last_log_index) {
        return false;
    }
    if s.voted_for != Some(candidate) {
        s.voted_for = Some(candidate);
        s.mark_changed();
    }
    s.reset_election_timer();
    true
}

/// Handler of [`REQUEST_VOTE`]: decides, persists, then replies.
pub async fn handle_request_vote(inner: Arc<Inner>, args: RequestVoteArgs) -> RequestVoteReply {
    let (reply, version) = {
        let mut s = inner.lock();
        let vote_granted = decide_vote(&mut s, &args);
        tracing::debug!(peer = s.me, candidate = args.candidate, term = s.term, vote_granted, "RequestVote");
        s.debug_check();
        (RequestVoteReply { term: s.term, vote_granted }, s.version)
    };
    persist(&inner, version).await;
    reply
}

/// The election timer: starts an election whenever the deadline passes
/// without a leader or candidate having reset it. Runs for the peer's life.
pub async fn ticker(inner: Arc<Inner>) {
    loop {
        let deadline = inner.lock().election_deadline;
        tokio::time::sleep_until(deadline).await;
        let election = {
            let mut s = inner.lock();
            if Instant::now() < s.election_deadline {
                None // reset while we slept
            } else if s.is_leader() {
                s.reset_election_timer();
                None
            } else {
                Some(become_candidate(&mut s))
            }
        };
        if let Some((args, version)) = election {
            tokio::spawn(run_election(inner.clone(), args, version));
        }
    }
}

/// Moves to the next term as a candidate voting for itself; returns the
/// RequestVote arguments and the state version to persist before asking.
fn become_candidate(s: &mut State) -> (RequestVoteArgs, u64) {
    s.term += 1;
    s.voted_for = Some(s.me);
    let mut votes = vec![false; s.n];
    votes[s.me] = true;
    s.role = Role::Candidate { votes };
    s.mark_changed();
    s.reset_election_timer();
    tracing::info!(peer = s.me, term = s.term, "election timeout: becomes candidate");
    let args = RequestVoteArgs {
        term: s.term,
        candidate: s.me as u64,
        last_log_index: s.log.last_index(),
        last_log_term: s.log.last_term(),
    };
    (args, s.version)
}

/// Persists the candidacy, then asks every other peer for its vote, each
/// in a task of its own (a lost call may take seconds to fail).
async fn run_election(inner: Arc<Inner>, args: RequestVoteArgs, version: u64) {
    persist(&inner, version).await;
    {
        let mut s = inner.lock();
        if s.term != args.term || !matches!(s.role, Role::Candidate { .. }) {
            return;
        }
        tally(&inner, &mut s); // a cluster of one wins at once
    }
    for peer in (0..inner.peers.len()).filter(|&p| p != inner.me) {
        tokio::spawn(request_vote(inner.clone(), peer, args.clone()));
    }
}

/// Asks `peer` for its vote and counts the answer if it is still relevant.
async fn request_vote(inner: Arc<Inner>, peer: usize, args: RequestVoteArgs) {
    let reply: RequestVoteReply = match inner.peers[peer].call(REQUEST_VOTE, &args).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::trace!(peer = inner.me, to = peer, term = args.term, "RequestVote lost: {e}");
            return;
        }
    };
    let mut s = inner.lock();
    if s.observe_term(reply.term) {
        inner.persist_wake.notify_one();
        return;
    }
    if s.term != args.term || !reply.vote_granted {
        return;
    }
    if let Role::Candidate { votes } = &mut s.role {
        votes[peer] = true;
        tally(&inner, &mut s);
    }
}

/// Becomes leader if a majority voted for this candidate.
fn tally(inner: &Arc<Inner>, s: &mut State) {
    if let Role::Candidate { votes } = &s.role
        && votes.iter().filter(|&&v| v).count() >= s.majority()
    {
        leader::become_leader(inner, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::tests::repair;

    fn peer(me: usize, term: u64, terms: &[u64]) -> State {
        State::restored(me, 3, term, None, Log::from_terms(terms), Vec::new())
    }

    fn ask(candidate: &State, term: u64) -> RequestVoteArgs {
        RequestVoteArgs {
            term,
            candidate: candidate.me as u64,
            last_log_index: candidate.log.last_index(),
            last_log_term: candidate.log.last_term(),
        }
    }

    #[test]
    fn up_to_date_compares_last_term_then_length() {
        let voter = Log::from_terms(&[1, 2, 2]);
        assert!(candidate_up_to_date(&voter, 3, 1), "a later last term wins though shorter");
        assert!(!candidate_up_to_date(&voter, 2, 2), "same last term, shorter log");
        assert!(candidate_up_to_date(&voter, 2, 3), "identical logs");
        assert!(!candidate_up_to_date(&voter, 1, 9), "an earlier last term loses though longer");
    }

    #[test]
    fn one_vote_per_term() {
        let mut voter = peer(0, 1, &[1]);
        let (a, b) = (peer(1, 1, &[1]), peer(2, 1, &[1]));
        assert!(decide_vote(&mut voter, &ask(&a, 2)));
        assert!(decide_vote(&mut voter, &ask(&a, 2)), "a repeated request gets the same answer");
        assert!(!decide_vote(&mut voter, &ask(&b, 2)), "already voted in term 2");
        assert!(!decide_vote(&mut voter, &ask(&b, 1)), "stale term");
        assert!(decide_vote(&mut voter, &ask(&b, 3)), "a new term frees the vote");
        assert_eq!((voter.term, voter.voted_for), (3, Some(2)));
    }

    /// The seed case: S1 holds terms 5 6 7; S2 and S3 hold 5 8. S1 must not
    /// win S2's or S3's vote, and entry 8 (committed on S2 and S3) survives.
    #[test]
    fn election_restriction_keeps_the_committed_entry() {
        let s1 = peer(0, 7, &[5, 6, 7]);
        let mut s2 = peer(1, 8, &[5, 8]);
        let mut s3 = peer(2, 8, &[5, 8]);
        assert!(!decide_vote(&mut s2, &ask(&s1, 9)), "S2's last term 8 beats S1's 7");
        assert!(!decide_vote(&mut s3, &ask(&s1, 9)), "S3's last term 8 beats S1's 7");
        assert_eq!(s2.term, 9, "the voter still adopts the newer term");
        // S2 can win S3's vote in the next term, and its log overwrites S1's.
        assert!(decide_vote(&mut s3, &ask(&s2, 10)));
        let mut s1_log = s1.log.clone();
        repair(&mut s1_log, &s2.log, s2.log.last_index() + 1);
        assert_eq!(s1_log.terms(), vec![5, 8], "entry 8 survives; S1's 6 and 7 are gone");
    }
}
