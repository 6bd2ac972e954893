//! # kvraft — the reference key/value service on Raft, and its Clerk
//!
//! A [`KvServer`] runs on top of one Raft peer, in a `node` process; five
//! (or three, or seven) of them form a fault-tolerant, linearizable
//! key/value store. A [`Clerk`] is a client of that store: it finds the
//! leader, retries through crashes, partitions and lost messages, and
//! makes each Put and Append take effect exactly once.
//!
//! ## The model (lab 3)
//! * Every operation — Get included — is proposed with `raft.start` and
//!   answered only once it is applied at the index `start` returned, in the
//!   term `start` returned. So no server answers without a majority behind
//!   it, and the answer reflects every operation committed before.
//! * A request waits at most `server::APPLY_WAIT` (700 ms), and gives up sooner if
//!   the peer's term changes or it stops leading; the clerk then tries the
//!   next server. A cut-off leader thus never holds a clerk for long.
//! * Each clerk has a random id and numbers its requests; the servers keep,
//!   per clerk, the number of its last applied write, so a retried write is
//!   recognised and skipped. That table is part of the snapshot.
//! * When the Raft state reaches `maxraftstate` bytes, the apply loop saves
//!   a snapshot of the store and the table and lets Raft trim its log.
//!
//! ## Layout (one concept per file)
//! * `lib.rs` — the [`KvServer`] handle and what its tasks share;
//! * `common.rs` — RPC names, arguments, replies, errors, the logged [`common::Op`];
//! * `store.rs` — the key/value map;
//! * `machine.rs` — the state machine: store + duplicate table, snapshot format;
//! * `apply.rs` — the apply loop: applies, wakes waiting handlers, snapshots;
//! * `server.rs` — the RPC handlers: propose, wait (bounded), answer;
//! * `clerk.rs` — the [`Clerk`].
//!
//! ## Concurrency
//! One `std::sync::Mutex` guards the machine and the table of waiting
//! handlers; it is never held across `.await`. Lock order: this lock, then
//! Raft's (a handler calls `raft.start` under it, so the apply loop cannot
//! apply an index before its handler is waiting for it). Raft never calls
//! back into this crate, and `raft.snapshot` is called without this lock.
#![deny(missing_docs)]

mod apply;
mod clerk;
pub mod common;
mod machine;
mod server;
mod store;

pub use clerk::Clerk;

use labrpc::{Client, Persister, Server};
use machine::Machine;
use raft::Raft;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// One key/value server: a handle to it and its Raft peer. Cheap to clone.
#[derive(Clone)]
pub struct KvServer {
    inner: Arc<Inner>,
}

/// What the handle, the handlers and the apply loop share.
pub(crate) struct Inner {
    /// This server's id (its Raft peer's).
    pub me: usize,
    /// The Raft peer underneath.
    pub raft: Raft,
    /// Where Raft keeps its state and our snapshots.
    pub persister: Arc<Persister>,
    /// Snapshot when the Raft state reaches this many bytes; never if `None`.
    pub maxraftstate: Option<usize>,
    /// The machine and the waiting handlers. Never held across `.await`.
    pub state: Mutex<State>,
}

/// The state under [`Inner::state`].
pub(crate) struct State {
    /// The store, the duplicate table and the applied index.
    pub machine: Machine,
    /// Handlers waiting for a log index, keyed by it (see apply.rs).
    pub waiters: HashMap<u64, apply::Waiter>,
}

impl Inner {
    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("kv state lock poisoned: a thread panicked while holding it")
    }
}

impl KvServer {
    /// Creates server `me` of `peers.len()` with its Raft peer (on the same
    /// `peers`, `me` and `persister`: create it with [`Raft::new`] and an
    /// apply channel), and starts the apply loop. Called inside a tokio
    /// runtime; returns at once.
    ///
    /// Restore the store and the duplicate table from
    /// `persister.snapshot()`, if any (3B). `maxraftstate`: `Some(n)`
    /// snapshots whenever `persister.raft_state_size() >= n`; `None` never.
    ///
    /// # Panics
    /// Should panic, naming the problem, if the saved snapshot cannot be
    /// decoded: a server must not start empty over lost data.
    pub fn new(
        peers: Vec<Client>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
    ) -> KvServer {
        let machine = Machine::restore(&persister.snapshot())
            .unwrap_or_else(|e| panic!("kv server {me}: cannot restore its snapshot: {e}"));
        tracing::info!(
            server = me,
            applied = machine.applied(),
            keys = machine.store().len(),
            "kv server starts"
        );
        let (apply_tx, apply_rx) = mpsc::unbounded_channel();
        let raft = Raft::new(peers, me, persister.clone(), apply_tx);
        let inner = Arc::new(Inner {
            me,
            raft,
            persister,
            maxraftstate,
            state: Mutex::new(State { machine, waiters: HashMap::new() }),
        });
        tokio::spawn(apply::apply_loop(inner.clone(), apply_rx));
        KvServer { inner }
    }

    /// Registers [`common::GET`] and [`common::PUT_APPEND`], and the Raft
    /// peer's handlers (`raft.register(server)`), on the node's `server`.
    pub fn register(&self, server: &Server) {
        self.inner.raft.register(server);
        let inner = self.inner.clone();
        server.register(common::GET, move |args| server::get(inner.clone(), args));
        let inner = self.inner.clone();
        server.register(common::PUT_APPEND, move |args| server::put_append(inner.clone(), args));
    }

    /// The Raft peer's `(term, is_leader)`.
    pub fn state(&self) -> (u64, bool) {
        self.inner.raft.state()
    }
}
