//! A leader acts as one: a node that says it leads a term has sent every
//! peer an AppendEntries (or InstallSnapshot) since it could have become
//! leader of that term. A continuous contract check, as "two leaders in a
//! term" is: without it, a node whose `state()` only *says* it leads —
//! no election, no RPC at all — passes a test that looks only at
//! `state()` (InitialElection2A).
//!
//! What the harness knows: each time it sees a node's term and role (the
//! node's own role reports and every `state()` answer), and when the
//! network last carried a leader's request from one node to another
//! ([`crate::net::Stats::last_leader_send`]), delivered or not — a leader
//! cut off from its peers still sends. A claim to lead term T is checked
//! once it has been seen for [`ACTS_WITHIN`]: every peer must have been sent
//! a leader's request after the last moment the node was seen *not*
//! leading T (its start, a resume, or an observation of another term or
//! role). A correct leader sends to every peer as it wins, so the bound only
//! leaves time for that first round under load, and no reply delay, long
//! reordering or in-flight limit of the leader's design can trip it.

use crate::net::Network;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a node may be seen claiming a term before it must have sent
/// every peer a leader's request since its claim could have begun.
pub const ACTS_WITHIN: Duration = Duration::from_millis(1500);

/// A term a node was seen leading.
#[derive(Clone, Copy, Debug)]
struct Lead {
    term: u64,
    /// When it was first seen leading it.
    since: u64,
    /// The last moment it was known not to lead it.
    base: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    /// The last observation of the node, of any kind (or its start).
    last: u64,
    lead: Option<Lead>,
    /// The claim already found wanting (reported once).
    reported: bool,
}

/// The leadership each node was seen claiming, checked against what it sent.
#[derive(Clone)]
pub struct Leaders {
    seen: Arc<Mutex<Vec<Seen>>>,
    net: Network,
}

impl Leaders {
    /// For `n` nodes on `net`.
    pub fn new(n: usize, net: Network) -> Leaders {
        let now = control::clock::monotonic_ns();
        Leaders { seen: Arc::new(Mutex::new(vec![Seen { last: now, ..Seen::default() }; n])), net }
    }

    /// Node `i` starts (or restarts, or resumes) now: it is known to lead
    /// nothing yet.
    pub fn reset(&self, i: usize) {
        self.seen.lock().expect("leaders lock")[i] =
            Seen { last: control::clock::monotonic_ns(), ..Seen::default() };
    }

    /// Node `i` was seen at `term`, leading or not. Returns why it does not
    /// act as a leader, the first time a claim is found wanting.
    pub fn observe(&self, i: usize, term: u64, leader: bool) -> Option<String> {
        self.observe_at(i, term, leader, control::clock::monotonic_ns())
    }

    fn observe_at(&self, i: usize, term: u64, leader: bool, now: u64) -> Option<String> {
        let mut seen = self.seen.lock().expect("leaders lock");
        let n = seen.len();
        let s = &mut seen[i];
        let before = s.last;
        s.last = now.max(before);
        if !leader {
            s.lead = None;
            return None;
        }
        let lead = match s.lead {
            Some(l) if l.term == term => l,
            _ => {
                s.lead = Some(Lead { term, since: now, base: before });
                s.reported = false;
                return None;
            }
        };
        if s.reported || now.saturating_sub(lead.since) < ACTS_WITHIN.as_nanos() as u64 {
            return None;
        }
        let silent: Vec<usize> = (0..n)
            .filter(|&j| j != i)
            .filter(|&j| self.net.stats().last_leader_send(i as u32, j).is_none_or(|t| t < lead.base))
            .collect();
        if silent.is_empty() {
            return None;
        }
        s.reported = true;
        let peers = silent.iter().map(|j| format!("node {j}")).collect::<Vec<_>>().join(", ");
        Some(format!(
            "node {i} has said it leads term {term} for {:.1} s, yet since it could have become its \
             leader it has sent no AppendEntries (nor InstallSnapshot) to {peers}: a leader must send \
             every peer heartbeats at once and then several times a second; saying so through state() \
             is not leading",
            now.saturating_sub(lead.since) as f64 / 1e9
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn leaders(n: usize) -> Leaders {
        Leaders::new(n, Network::new(1, None).unwrap())
    }

    #[tokio::test]
    async fn a_claim_that_never_sends_is_found_wanting_once() {
        let l = leaders(3);
        let t0 = control::clock::monotonic_ns();
        assert_eq!(l.observe_at(0, 1, true, t0), None, "a new claim");
        assert_eq!(l.observe_at(0, 1, true, t0 + S), None, "within the bound");
        let why = l.observe_at(0, 1, true, t0 + 2 * S).expect("past the bound, nothing sent");
        assert!(why.contains("node 0 has said it leads term 1") && why.contains("node 1, node 2"), "{why}");
        assert_eq!(l.observe_at(0, 1, true, t0 + 3 * S), None, "reported once");
    }

    #[tokio::test]
    async fn a_leader_that_sent_every_peer_since_its_claim_began_passes() {
        let l = leaders(3);
        let t0 = control::clock::monotonic_ns();
        l.observe_at(0, 1, false, t0);
        let stats = l.net.stats();
        stats.sent(0, 1, "Raft.AppendEntries");
        stats.sent(0, 2, "Raft.InstallSnapshot");
        let later = control::clock::monotonic_ns();
        assert_eq!(l.observe_at(0, 1, true, later), None);
        assert_eq!(l.observe_at(0, 1, true, later + 5 * S), None, "sent after it was last seen not leading");
        // A new term must be acted on anew: the sends were before it began.
        assert_eq!(l.observe_at(0, 2, true, later + 6 * S), None);
        let why = l.observe_at(0, 2, true, later + 8 * S).expect("nothing sent in term 2");
        assert!(why.contains("term 2"), "{why}");
    }

    #[tokio::test]
    async fn other_requests_do_not_count_and_one_silent_peer_is_named() {
        let l = leaders(3);
        let t0 = control::clock::monotonic_ns();
        l.reset(1);
        l.net.stats().sent(1, 0, "Raft.AppendEntries");
        l.net.stats().sent(1, 2, "Raft.RequestVote");
        let now = control::clock::monotonic_ns().max(t0);
        l.observe_at(1, 4, true, now);
        let why = l.observe_at(1, 4, true, now + 2 * S).expect("node 2 got only a RequestVote");
        assert!(why.contains("to node 2:") && !why.contains("node 0"), "{why}");
    }
}
