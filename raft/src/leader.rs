//! The leader: one replicator task per follower. What a majority holds
//! commits by [`crate::commit`]'s rule.
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
use crate::commit;
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
    commit::commit(inner, s);
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
    commit::commit(inner, s);
    s.debug_check();
}
