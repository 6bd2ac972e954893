//! # raft — the reference Raft peer for the raftlab labs
//!
//! One [`Raft`] value is one peer of a replicated log (Raft, extended
//! version, Figure 2), hosted by a `node` process. The service on top (the
//! tester, or lab 3's key/value server) calls [`Raft::start`] to propose
//! commands and receives committed ones, in index order, as
//! [`labrpc::ApplyMsg`]s on the channel passed to [`Raft::new`].
//!
//! ## Layout (one concept per file)
//! * `lib.rs` — this handle and its API;
//! * `state.rs` — the state under the peer's one lock, and its invariants;
//! * `log.rs` — the log, offset by the snapshot;
//! * `election.rs` — RequestVote, the election timer, candidates;
//! * `replication.rs` — AppendEntries: the follower's side and the pure
//!   consistency/backup decisions;
//! * `leader.rs` — the leader's per-follower replicators;
//! * `commit.rs` — the commit rule, which replication and persistence both
//!   apply (a follower's progress, the leader's own durable entries);
//! * `snapshot.rs` — InstallSnapshot and the service's `snapshot` call;
//! * `persist.rs` — the versioned on-disk encoding and batched saves;
//! * `apply.rs` — the applier task feeding the apply channel.
//!
//! ## Concurrency
//! All state sits under one `std::sync::Mutex`, never held across an
//! `.await` or while sending on the apply channel. Every RPC runs in a task of
//! its own, so a call the network holds for seconds delays nothing else.

mod apply;
mod commit;
mod election;
mod leader;
mod log;
mod persist;
mod replication;
mod snapshot;
mod state;

use labrpc::{ApplyMsg, Client, NotLeader, Persister, Server};
use log::Entry;
use state::{Role, State};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, mpsc::UnboundedSender};

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
pub(crate) struct Inner {
    /// This peer's id: its index in `peers`.
    pub me: usize,
    /// RPC clients, one per peer (`peers[me]` is unused).
    pub peers: Vec<Client>,
    /// Durable storage for the state and the snapshot.
    pub persister: Arc<Persister>,
    /// The peer's state. Never held across `.await`.
    ///
    /// Lock order: `persist_lock` before `state`. A save takes
    /// `persist_lock`, then `state` briefly to encode it; nothing that holds
    /// `state` may wait for `persist_lock`.
    pub state: Mutex<State>,
    /// Serializes saves, so one save covers every change made before it began.
    /// Taken before `state`, never while holding it.
    pub persist_lock: Mutex<()>,
    /// Wakes the applier (commit index moved, or a snapshot arrived).
    pub apply_wake: Notify,
    /// Wakes the persister task (the leader appended entries, or a term changed).
    pub persist_wake: Notify,
}

impl Inner {
    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("raft state lock poisoned: a thread panicked while holding it")
    }
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
        assert!(me < peers.len(), "raft: peer id {me} out of range for {} peers", peers.len());
        let n = peers.len();
        let saved = persister.raft_state();
        let restored = persist::decode(&saved, n).unwrap_or_else(|e| {
            panic!(
                "raft peer {me}: cannot restore the persisted Raft state ({} bytes): {e}; \
                 refusing to start empty over lost state",
                saved.len()
            )
        });
        let state =
            State::restored(me, n, restored.term, restored.voted_for, restored.log, persister.snapshot());
        tracing::info!(
            peer = me,
            term = state.term,
            snapshot_index = state.log.snapshot_index(),
            last_index = state.log.last_index(),
            "raft peer starts"
        );
        let inner = Arc::new(Inner {
            me,
            peers,
            persister,
            state: Mutex::new(state),
            persist_lock: Mutex::new(()),
            apply_wake: Notify::new(),
            persist_wake: Notify::new(),
        });
        inner.apply_wake.notify_one();
        tokio::spawn(election::ticker(inner.clone()));
        tokio::spawn(apply::applier(inner.clone(), apply_tx));
        tokio::spawn(persist::persister_task(inner.clone()));
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
        let inner = self.inner.clone();
        server.register(REQUEST_VOTE, move |args| election::handle_request_vote(inner.clone(), args));
        let inner = self.inner.clone();
        server.register(APPEND_ENTRIES, move |args| replication::handle_append_entries(inner.clone(), args));
        let inner = self.inner.clone();
        server.register(INSTALL_SNAPSHOT, move |args| snapshot::handle_install_snapshot(inner.clone(), args));
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
        let mut s = self.inner.lock();
        let term = s.term;
        let Role::Leader(leader) = &s.role else { return Err(NotLeader) };
        let wakes: Vec<_> = leader.peers.iter().map(|p| p.wake.clone()).collect();
        s.log.push(Entry { term, command });
        s.mark_changed();
        let index = s.log.last_index();
        drop(s);
        tracing::debug!(peer = self.inner.me, index, term, "start: appended");
        // Persist our own copy and send to the followers concurrently.
        self.inner.persist_wake.notify_one();
        for wake in wakes {
            wake.notify_one();
        }
        Ok((index, term))
    }

    /// `(current term, whether this peer believes it is the leader)`.
    /// The tester calls it often: take the lock briefly, never block.
    pub fn state(&self) -> (u64, bool) {
        let s = self.inner.lock();
        (s.term, s.is_leader())
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
        snapshot::take_snapshot(&self.inner, index, data);
    }
}
