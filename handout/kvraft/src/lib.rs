//! # kvraft — your key/value service on Raft, and its Clerk (labs 3A–3B)
//!
//! A [`KvServer`] runs on top of one Raft peer (your `raft` crate), in a
//! `node` process; five (or three, or seven) of them form a fault-tolerant,
//! linearizable key/value store. A [`Clerk`] is a client of that store.
//!
//! This file is a skeleton: the public API is fixed (the `node` binary calls
//! exactly these methods), the bodies are yours. Every method still
//! `todo!()` makes the node panic with "not yet implemented: …", and the
//! test that reached it fails quoting that line.
//!
//! ## The rules the tests check
//! * **Everything goes through the log, Get included.** A server proposes
//!   each operation with `raft.start` and answers only once it is applied
//!   at the index `start` returned, in the term `start` returned. A Get
//!   answered from local state may return a stale value (a leader cut off in
//!   a minority does not know it lost): the linearizability checker catches
//!   that.
//! * **Exactly once.** A Clerk retries an operation until some server
//!   completes it, so a Put or Append may reach the log more than once. Each
//!   Clerk has a random id and numbers its requests; the servers keep, per
//!   Clerk, the number of its last applied write, and skip a write whose
//!   number is not above it (answering success).
//! * **Bounded waits.** A request whose entry is not applied within a few
//!   hundred milliseconds, or whose peer loses leadership (its term changes)
//!   meanwhile, is answered with an error so the Clerk tries another server.
//!   A different command applied at the request's index means the proposal
//!   was lost.
//! * **Speed.** 1000 sequential Appends must take under 33.3 ms each: your
//!   Raft must replicate on `start`, not at the next heartbeat.
//! * **Snapshots (3B).** When `persister.raft_state_size()` reaches
//!   `maxraftstate`, save a snapshot — the store *and the duplicate table*
//!   and the index they reflect — with `raft.snapshot(index, data)`. Restore
//!   both from the persister's snapshot at start, and from every
//!   `ApplyMsg::Snapshot` Raft delivers. The Raft state must stay under
//!   8 × `maxraftstate`; with `maxraftstate` off, never snapshot.
//!
//! ## Concurrency
//! One apply loop reads Raft's apply channel and changes the store; RPC
//! handlers wait for it (a `tokio::sync::oneshot` per waiting index works
//! well). Never hold a lock across an `.await`.
#![allow(unused)] // Remove this line once the skeleton is filled in.

pub mod common;

use labrpc::{Client, Persister, Server};
use raft::Raft;
use std::sync::{Arc, Mutex};

/// One key/value server: a handle to it and its Raft peer. Cheap to clone.
#[derive(Clone)]
pub struct KvServer {
    inner: Arc<Inner>,
}

/// What the handle, the handlers and the apply loop share.
struct Inner {
    /// This server's id (its Raft peer's).
    me: usize,
    /// The Raft peer underneath.
    raft: Raft,
    /// Where Raft keeps its state and your snapshots.
    persister: Arc<Persister>,
    /// Snapshot when the Raft state reaches this many bytes; never if `None`.
    maxraftstate: Option<usize>,
    /// The store, the duplicate table, the handlers waiting for an index.
    state: Mutex<State>,
}

/// The server's state (yours to design).
#[derive(Default)]
struct State {
    // TODO(3A): the key/value map, the duplicate table (clerk id → number
    // of its last applied write), the last applied index, the handlers
    // waiting for an index.
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
        todo!("KvServer::new")
    }

    /// Registers [`common::GET`] and [`common::PUT_APPEND`], and the Raft
    /// peer's handlers (`raft.register(server)`), on the node's `server`.
    pub fn register(&self, server: &Server) {
        todo!("KvServer::register")
    }

    /// The Raft peer's `(term, is_leader)`.
    pub fn state(&self) -> (u64, bool) {
        self.inner.raft.state()
    }
}

/// A client of the key/value service. One operation at a time (`&mut self`).
///
/// Sends each request to the server it believes leads; on a lost call or an
/// error reply it tries the next server, pausing briefly only after a whole
/// round of servers failed. It never gives up. Each request carries the
/// Clerk's id and its number (retries keep theirs).
pub struct Clerk {
    /// `servers[i]` calls server `i`.
    servers: Vec<Client>,
    // TODO(3A): a random id, the number of the last request, the server
    // that last answered.
}

impl Clerk {
    /// A clerk for the service whose server `i` is reached through
    /// `servers[i]`.
    pub fn new(servers: Vec<Client>) -> Clerk {
        Clerk { servers }
    }

    /// The current value of `key` ("" if it is missing). Keeps trying
    /// forever.
    pub async fn get(&mut self, key: &str) -> String {
        todo!("Clerk::get")
    }

    /// Sets `key` to `value`. Keeps trying forever; takes effect once.
    pub async fn put(&mut self, key: &str, value: &str) {
        todo!("Clerk::put")
    }

    /// Appends `value` to `key`'s value (a Put if `key` is missing). Keeps
    /// trying forever; takes effect once.
    pub async fn append(&mut self, key: &str, value: &str) {
        todo!("Clerk::append")
    }
}
