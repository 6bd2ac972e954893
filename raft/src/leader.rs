//! The leader: one replicator task per follower, and the commit rule.
//!
//! Sending policy, per follower (it keeps the bytes sent near one copy of
//! each entry per follower, and the RPC count near one per entry batch):
//! * new entries (from `start`) go out at once, unless a send carrying
//!   entries is still unanswered;
//! * an answer that leaves more to send triggers the next send at once;
//! * otherwise, when nothing was sent for [`HEARTBEAT_INTERVAL`], a
//!   heartbeat goes out, carrying whatever lies at and after `next_index`
//!   (so lost sends are retried at the heartbeat rate);
//! * every send resets the follower's heartbeat timer.
//!
//! Every call runs in its own task, and its answer is acted on only if this
//! peer still leads the term it was sent in.

use crate::APPEND_ENTRIES;
use crate::Inner;
use crate::replication::{AppendEntriesArgs, AppendEntriesReply, next_index_after_reject};
use crate::snapshot::{self, InstallSnapshotArgs};
use crate::state::{HEARTBEAT_INTERVAL, LeaderState, Progress, Role, State};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Most command bytes in one AppendEntries (at least one entry is always sent).
const MAX_APPEND_BYTES: usize = 1 << 20;

/// One send to a follower, with its sequence number.
enum Outgoing {
    Append(u64, AppendEntriesArgs),
    Snapshot(u64, InstallSnapshotArgs),
}

/// Takes the lead of `s.term` (the caller saw a majority of votes): fresh
/// progress for every follower, and a replicator task each, which sends a
/// first heartbeat at once.
pub fn become_leader(inner: &Arc<Inner>, s: &mut State) {
    let next_index = s.log.last_index() + 1;
    let peers: Vec<Progress> = (0..s.n)
        .map(|_| Progress {
            next_index,
            match_index: 0,
            in_flight: None,
            send_seq: 0,
            wake: Arc::new(Notify::new()),
        })
        .collect();
    for (peer, progress) in peers.iter().enumerate().filter(|&(peer, _)| peer != s.me) {
        tokio::spawn(replicate(inner.clone(), peer, s.term, progress.wake.clone()));
    }
    s.role = Role::Leader(LeaderState { peers });
    tracing::info!(peer = s.me, term = s.term, last_index = s.log.last_index(), "becomes leader");
    if advance_commit(s) {
        inner.apply_wake.notify_one();
    }
}

/// The replicator for `peer` while this peer leads `term`; ends when it no
/// longer does.
async fn replicate(inner: Arc<Inner>, peer: usize, term: u64, wake: Arc<Notify>) {
    let mut last_send: Option<Instant> = None;
    loop {
        let heartbeat_due = last_send.is_none_or(|at| at.elapsed() >= HEARTBEAT_INTERVAL);
        let outgoing = {
            let mut s = inner.lock();
            if !s.leads(term) {
                return;
            }
            plan_send(&mut s, peer, heartbeat_due)
        };
        if let Some(outgoing) = outgoing {
            last_send = Some(Instant::now());
            tokio::spawn(send(inner.clone(), peer, term, outgoing));
        }
        let next_heartbeat = last_send.map_or_else(Instant::now, |at| at + HEARTBEAT_INTERVAL);
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep_until(next_heartbeat) => {}
        }
    }
}

/// What to send to `peer` now, if anything (see the module docs).
fn plan_send(s: &mut State, peer: usize, heartbeat_due: bool) -> Option<Outgoing> {
    let Role::Leader(leader) = &mut s.role else { return None };
    let p = &mut leader.peers[peer];
    let behind = p.next_index <= s.log.last_index();
    if !heartbeat_due && (!behind || p.in_flight.is_some()) {
        return None;
    }
    p.send_seq += 1;
    let seq = p.send_seq;
    if p.next_index <= s.log.snapshot_index() {
        p.in_flight = Some(seq);
        return Some(Outgoing::Snapshot(seq, snapshot::install_args(s, s.me)));
    }
    let prev_log_index = p.next_index - 1;
    let entries = s.log.entries_from(p.next_index, MAX_APPEND_BYTES).to_vec();
    if !entries.is_empty() {
        p.in_flight = Some(seq);
    }
    let args = AppendEntriesArgs {
        term: s.term,
        leader: s.me as u64,
        prev_log_index,
        prev_log_term: s.log.term_at(prev_log_index).expect("next_index - 1 is in the log or its snapshot"),
        entries,
        leader_commit: s.commit_index,
    };
    Some(Outgoing::Append(seq, args))
}

/// Makes one call and acts on its answer.
async fn send(inner: Arc<Inner>, peer: usize, term: u64, outgoing: Outgoing) {
    match outgoing {
        Outgoing::Append(seq, args) => {
            let reply = inner.peers[peer].call::<_, AppendEntriesReply>(APPEND_ENTRIES, &args).await;
            let mut s = inner.lock();
            match reply {
                Ok(reply) => on_append_reply(&inner, &mut s, peer, term, seq, &args, &reply),
                Err(e) => {
                    tracing::trace!(peer = inner.me, to = peer, term, "AppendEntries lost: {e}");
                    on_lost(&mut s, peer, term, seq);
                }
            }
        }
        Outgoing::Snapshot(seq, args) => {
            let reply = inner.peers[peer]
                .call::<_, snapshot::InstallSnapshotReply>(crate::INSTALL_SNAPSHOT, &args)
                .await;
            let mut s = inner.lock();
            match reply {
                Ok(reply) => {
                    on_snapshot_reply(&inner, &mut s, peer, term, seq, args.last_included_index, reply.term)
                }
                Err(_) => on_lost(&mut s, peer, term, seq),
            }
        }
    }
}

/// A lost call no longer blocks new entries; the heartbeat retries it.
fn on_lost(s: &mut State, peer: usize, term: u64, seq: u64) {
    if let Some(p) = progress(s, term, peer) {
        p.answered(seq);
    }
}

/// The follower's progress, if this peer still leads `term`.
fn progress(s: &mut State, term: u64, peer: usize) -> Option<&mut Progress> {
    match &mut s.role {
        Role::Leader(leader) if s.term == term => Some(&mut leader.peers[peer]),
        _ => None,
    }
}

/// Acts on an AppendEntries answer: adopt a newer term, or advance (never
/// move back) `match_index`, or back `next_index` up past the conflict.
fn on_append_reply(
    inner: &Inner,
    s: &mut State,
    peer: usize,
    term: u64,
    seq: u64,
    args: &AppendEntriesArgs,
    reply: &AppendEntriesReply,
) {
    if s.observe_term(reply.term) {
        inner.persist_wake.notify_one();
        return;
    }
    let Role::Leader(leader) = &mut s.role else { return };
    if s.term != term {
        return;
    }
    let p = &mut leader.peers[peer];
    p.answered(seq);
    if reply.success {
        p.matched(args.prev_log_index + args.entries.len() as u64);
    } else if let Some(conflict) = &reply.conflict
        // Act only on the answer to the current probe, never a stale one.
        && p.next_index == args.prev_log_index + 1
        && args.prev_log_index > p.match_index
    {
        p.back_up(next_index_after_reject(&s.log, args.prev_log_index, conflict));
        tracing::debug!(peer = s.me, to = peer, next_index = p.next_index, ?conflict, "backs up");
    }
    after_progress(inner, s, peer);
}

/// Acts on an InstallSnapshot answer: the follower now holds everything
/// through `index` (it installed the snapshot, or had committed past it).
fn on_snapshot_reply(
    inner: &Inner,
    s: &mut State,
    peer: usize,
    term: u64,
    seq: u64,
    index: u64,
    reply_term: u64,
) {
    if s.observe_term(reply_term) {
        inner.persist_wake.notify_one();
        return;
    }
    let Some(p) = progress(s, term, peer) else { return };
    p.answered(seq);
    p.matched(index);
    after_progress(inner, s, peer);
}

/// After progress changed: send more at once if there is more, and commit
/// what a majority now holds.
fn after_progress(inner: &Inner, s: &mut State, peer: usize) {
    let last_index = s.log.last_index();
    if let Role::Leader(leader) = &s.role
        && leader.peers[peer].next_index <= last_index
    {
        leader.peers[peer].wake.notify_one();
    }
    if advance_commit(s) {
        inner.apply_wake.notify_one();
    }
    s.debug_check();
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
