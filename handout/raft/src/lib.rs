//! # raft — your Raft peer (labs 2A–2D)
//!
//! One [`Raft`] value is one peer of a replicated log, hosted by a `node`
//! process that the tester starts, crashes and restarts. The service on top
//! (the tester in lab 2, your key/value server in lab 3) calls
//! [`Raft::start`] to propose commands and receives the committed ones, in
//! index order, as [`labrpc::ApplyMsg`]s on the channel given to
//! [`Raft::new`].
//!
//! This file is a skeleton: the public API is fixed (the `node` binary calls
//! exactly these methods), the bodies are yours. Every method that is still
//! `todo!()` makes the node panic with "not yet implemented: Raft::…", and
//! the test that reached it fails quoting that line. Split the code into
//! modules as you like (one concept per file reads best: election,
//! replication, the leader, snapshots, persistence, the applier).
//!
//! Read the extended Raft paper, Figure 2, before you write anything; the
//! rules below are the points students most often get wrong.
//!
//! ## 2A — leader election
//! * Three RPCs, registered by name on the node's server in
//!   [`Raft::register`]: [`REQUEST_VOTE`], [`APPEND_ENTRIES`] and (2D)
//!   [`INSTALL_SNAPSHOT`]. Their argument and reply types are yours, in
//!   [`rpc`] (serde structs).
//! * Terms: any message carrying a term newer than yours makes you adopt it,
//!   forget your vote and become a follower — before anything else.
//! * Vote at most once per term. Reset your election timer when you grant a
//!   vote, and when you hear from the current leader; not otherwise.
//! * Election timeouts are random, several heartbeats long (e.g. 300–600 ms).
//!   The tester expects a leader within 5 s of a failure, and no more than
//!   tens of heartbeats per second: send at most 10 per second per follower
//!   (a 100 ms heartbeat period).
//! * Calls can take seconds to fail (a lost request looks like a slow one):
//!   run each call in its own `tokio::spawn`ed task, and never hold a lock
//!   across an `.await`. A reply from an older term must be ignored.
//!
//! ## 2B — log replication
//! * The consistency check: a follower accepts an AppendEntries only if its
//!   log holds an entry at `prev_log_index` whose term is `prev_log_term`.
//!   Otherwise it refuses, and stores nothing.
//! * When it accepts, it deletes its entries only from the first one that
//!   conflicts with the leader's (same index, different term), never the
//!   entries after a match: a delayed, stale AppendEntries must not truncate
//!   a log that already holds more.
//! * The election restriction (§5.4.1): grant a vote only if the candidate's
//!   log is at least as up to date as yours — a later last term wins; with
//!   equal last terms, the longer log wins.
//! * Commit (§5.3, §5.4.2, Figure 8): a leader sets `commit_index` to the
//!   highest index held by a majority *only if that entry is of its current
//!   term*. Entries of earlier terms commit only with it, never by counting
//!   replicas. A follower's commit index is
//!   `min(leader_commit, index of the last entry this call verified)`.
//! * Fast backup: a follower that refuses tells the leader where its log
//!   stops agreeing, so the leader skips a whole run of conflicting entries
//!   per round trip instead of one entry (the Backup2B and FastBackup2B
//!   tests need this). In the reply:
//!   - XLen: the index of the follower's last entry, counting the entries
//!     its snapshot covers (0 for an empty log). It is not the number of
//!     entries kept in memory: with a snapshot through 100 and 5 entries
//!     after it, XLen is 105. The log is *too short* when XLen <
//!     `prev_log_index`.
//!   - XTerm: the term of the follower's entry at `prev_log_index`, or at
//!     XLen when the log is too short (the snapshot's last term when that
//!     index is the snapshot's last);
//!   - XIndex: the first index of the follower's run of XTerm entries that
//!     ends there (the snapshot's last index if the run reaches into it).
//!
//!   The leader then sets `next_index` to: XLen + 1 if the log is too short
//!   and the leader's own entry at XLen has term XTerm; else one past its
//!   own last entry of XTerm if it has any; else XIndex — and never above
//!   `prev_log_index`, which was refused.
//! * [`Raft::start`] returns at once and replication starts immediately (not
//!   at the next heartbeat): lab 3's Speed test allows about 33 ms per
//!   operation.
//!
//! ## 2C — persistence
//! * Persist `current_term`, `voted_for` and the log (with the snapshot's
//!   index and term, from 2D on) through the [`labrpc::Persister`], **before**
//!   replying to an RPC or sending one that depends on them: a vote, an
//!   accepted AppendEntries, a new term, a candidacy. A crash right after the
//!   reply must not forget what the reply promised.
//! * A leader counts itself towards a majority only for entries it has
//!   persisted (CrashMidSave2C makes one peer's saves slow and crashes it
//!   inside one: an entry applied meanwhile must survive).
//! * [`labrpc::Persister::save`] is durable when it returns and costs an
//!   fsync: save once per batch of changes, not once per entry.
//! * Restore everything in [`Raft::new`]. Never start empty over state you
//!   cannot decode: panic with a message instead.
//!
//! ## 2D — snapshots
//! * [`Raft::snapshot`]`(index, data)`: the service has applied everything
//!   through `index`. Discard the log through `index` (keep the term of entry
//!   `index`: the consistency check at the boundary needs it) and save the
//!   Raft state and `data` together, in one [`labrpc::Persister::save`].
//! * Indexes stay Raft's after a snapshot: keep one place that converts a
//!   log index to a position in your vector, and test it (off-by-one errors
//!   here are the classic 2D bug).
//! * A leader whose follower needs entries it has discarded sends
//!   InstallSnapshot. The follower ignores a snapshot not newer than its
//!   commit index; otherwise it keeps the entries after the snapshot if its
//!   log holds the snapshot's last entry with the same term (they extend the
//!   snapshot), else it discards its whole log. It then delivers the
//!   snapshot to the service as [`labrpc::ApplyMsg::Snapshot`].
//! * After a restart, Raft (not the service) delivers the saved snapshot:
//!   first, as [`labrpc::ApplyMsg::Snapshot`], before any entry, then only
//!   the entries after it — never an entry the snapshot covers. The service
//!   may already have read it from the persister; it gets it again anyway,
//!   and the tester fails a peer that goes straight to the entries.
//!
//! ## Applying
//! Send committed entries on the apply channel exactly once each, in index
//! order, without gaps, and without holding your lock while sending (the
//! service may call [`Raft::snapshot`] from the loop that reads them).
//!
//! ## Logging
//! Log with `tracing` (`tracing::debug!(term = s.term, "granted vote to {c}")`),
//! never `println!`. `labs logs DIR` merges a failed test's logs by time,
//! a column per server (the file says which), and filters them by topic: a
//! `topic=` field if you give one (`topic = "election"`), else your module
//! path (`raft::election`), words and field names (vote, leader →
//! election; AppendEntries, heartbeat, next_index → append; snapshot;
//! persist; apply, commit → apply). A `term=` field is read as the term.
#![allow(unused)] // Remove this line once the skeleton is filled in.

pub mod rpc;

use labrpc::{ApplyMsg, Client, NotLeader, Persister, Server};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

/// RPC method names, as registered on the node's server.
pub const REQUEST_VOTE: &str = "Raft.RequestVote";
/// See [`REQUEST_VOTE`].
pub const APPEND_ENTRIES: &str = "Raft.AppendEntries";
/// See [`REQUEST_VOTE`].
pub const INSTALL_SNAPSHOT: &str = "Raft.InstallSnapshot";

/// A handle to one Raft peer. Cheap to clone; clones share the peer (the
/// node keeps one for its RPC handlers, one for its apply loop, one for the
/// tester's requests).
#[derive(Clone)]
pub struct Raft {
    inner: Arc<Inner>,
}

/// What the handle and every background task share.
struct Inner {
    /// This peer's id: its index in `peers`.
    me: usize,
    /// RPC clients, one per peer (`peers[me]` is this peer; never call it).
    peers: Vec<Client>,
    /// Durable storage for the Raft state and the snapshot.
    persister: Arc<Persister>,
    /// Where committed entries (and snapshots) go, in index order.
    apply_tx: UnboundedSender<ApplyMsg>,
    /// The peer's state. A `std::sync::Mutex` is fine; never hold it across
    /// an `.await` or while sending on `apply_tx`.
    state: Mutex<State>,
}

/// Figure 2's state, and whatever bookkeeping you add.
#[derive(Default)]
struct State {
    // TODO(2A): current_term, voted_for, the role (follower, candidate,
    // leader), when the election timer fires.
    // TODO(2B): the log, commit_index, last_applied; for a leader, next_index
    // and match_index per follower.
    // TODO(2D): the snapshot's last index and term, and its bytes.
}

impl Raft {
    /// Creates peer `me` of `peers.len()` peers and starts its background
    /// tasks (the election timer, the applier, …); returns at once.
    ///
    /// * `peers[i]` calls peer `i` (`Client::call(method, &args).await`);
    ///   `peers[me]` is this peer and is never called.
    /// * `persister` holds what this peer saved before a crash (nothing on
    ///   a first start): restore the state from it. From 2D on, a snapshot
    ///   found there must be delivered on `apply_tx`, as an
    ///   [`ApplyMsg::Snapshot`] with its index, before any entry; then only
    ///   the entries after it. The service may have read the same snapshot
    ///   from the persister itself and expects it again; the tester fails a
    ///   restarted peer whose first delivery is an entry.
    /// * `apply_tx` receives every committed entry exactly once, in index
    ///   order, without gaps.
    ///
    /// Called inside a tokio runtime, so `tokio::spawn` works here.
    ///
    /// # Panics
    /// Should panic, with a message naming the problem, if the persisted
    /// state cannot be decoded: a peer must never start empty over state it
    /// has lost.
    pub fn new(
        peers: Vec<Client>,
        me: usize,
        persister: Arc<Persister>,
        apply_tx: UnboundedSender<ApplyMsg>,
    ) -> Raft {
        // TODO(2C): restore the state from `persister.raft_state()`.
        // TODO(2A): start the election timer (tokio::spawn a task that loops).
        let state = State::default();
        let inner = Arc::new(Inner { me, peers, persister, apply_tx, state: Mutex::new(state) });
        Raft { inner }
    }

    /// Registers this peer's RPC handlers — [`REQUEST_VOTE`],
    /// [`APPEND_ENTRIES`] and [`INSTALL_SNAPSHOT`] — on the node's `server`:
    ///
    /// ```ignore
    /// let inner = self.inner.clone();
    /// server.register(REQUEST_VOTE, move |args: rpc::RequestVoteArgs| {
    ///     let inner = inner.clone();
    ///     async move { /* decide, persist, then reply */ rpc::RequestVoteReply { /* … */ } }
    /// });
    /// ```
    ///
    /// Called once, right after [`Raft::new`] and before any call arrives.
    pub fn register(&self, server: &Server) {
        todo!("Raft::register")
    }

    /// Proposes `command` for the log. Returns at once, without waiting for
    /// the entry to commit (it may never commit if leadership is lost).
    ///
    /// If this peer is the leader, append the entry to its log, start
    /// replicating it to every follower now (not at the next heartbeat), and
    /// return `Ok((index, term))`: the index the entry will have if it ever
    /// commits, and the current term.
    ///
    /// # Errors
    /// [`NotLeader`] if this peer does not believe it leads; the caller
    /// tries another peer.
    pub fn start(&self, command: Vec<u8>) -> Result<(u64, u64), NotLeader> {
        todo!("Raft::start")
    }

    /// `(current term, whether this peer believes it is the leader)`.
    /// The tester calls it often: take the lock briefly, never block.
    pub fn state(&self) -> (u64, bool) {
        todo!("Raft::state")
    }

    /// The service has applied everything through `index` and saved its
    /// state as `data`: discard the log through `index` (2D).
    ///
    /// Ignore the call if `index` is not newer than your current snapshot.
    /// Otherwise trim the log (keeping entry `index`'s term), and save the
    /// Raft state and `data` together, durably, before returning (the tester
    /// reads `raft_state_size()` right after). Called from the loop that
    /// reads the apply channel, so it must not wait for the applier.
    pub fn snapshot(&self, index: u64, data: Vec<u8>) {
        todo!("Raft::snapshot")
    }
}
