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
//! ## What the tests require
//! Every KV test records each clerk operation's call and return (on the
//! tester's clock) and checks the whole history with a linearizability
//! checker; a violation fails the test and writes `linearizability.html`
//! into its artifacts. What fails a test:
//! * **Stale reads.** A Get must return the value left by every Put and
//!   Append that completed before it was called (and by some order of those
//!   running alongside it). A server cut off in a minority does not know it
//!   lost the lead: a Put or Get sent to a minority must not complete within
//!   1 s (OnePartition3A), nor a Get sent to a leader that was paused and
//!   cut off, within 1 s of resuming (PausedLeader3A).
//! * **A write applied twice, or lost.** A Clerk retries until a server
//!   says done, so one Put or Append may reach a server, and its log,
//!   several times; it must take effect once. After every round each
//!   client's appends must all be there, exactly once, in order (restarts
//!   included), and UnreliableOneKey3A has five clerks append to one key on
//!   a network that drops a tenth of the calls and replies. A retry whose
//!   first copy is already inside the snapshot every server restarted from
//!   must still be skipped (SnapshotRetry3B): what you use to skip it goes
//!   into the snapshot.
//! * **Success for an operation that did not happen.** When another
//!   leader's entry replaces yours at the index `start` returned, the
//!   operation failed there; a reply of success is caught
//!   (OverwrittenRequest3A).
//! * **Gets** are checked only for their values: the tests never ask how
//!   often a Get ran. Running one twice changes nothing, and either run's
//!   value is a correct answer, since both happen while the Clerk waits. So
//!   Gets need no request number, no duplicate check and no cached reply.
//!   Numbering them with the same counter as the writes is fine too, as
//!   long as a repeated Get is still answered with a value (read the store
//!   again), never skipped empty.
//! * **Handlers that answer too late or never.** An error reply is always
//!   allowed (the Clerk retries; the duplicate check makes that safe). The
//!   limits: after a partition heals, OnePartition3A waits 1 s and then 3 s
//!   for the Put that was pending in the minority, so the handler holding it
//!   on the cut-off server must answer in time for the retry to go through
//!   the new leader within those 4 s; 5 s after a partition heals no KV
//!   handler that started on the cut-off leader before it may still run,
//!   although nothing is ever applied at its entry's index
//!   (AbandonedRequest3A); at the end of every test a KV handler running
//!   for over 30 s fails it; a call unanswered for 10 s fails at the caller
//!   (`labrpc::DEFAULT_DEADLINE`), and the Clerk tries the next server.
//! * **Slowness.** 1000 sequential Appends by one Clerk on three servers may
//!   take at most 33.3 ms each on average (Speed3A, Speed3B): your Raft must
//!   replicate on `start`, not at the next heartbeat. Every test ends within
//!   120 s.
//! * **Big state (3B).** Every 3B test runs with `maxraftstate` 1000
//!   bytes. The largest Raft state on any server's disk must be at most
//!   8 × 1000 = 8000 bytes when the tests look (after each round, after
//!   SnapshotRPC3B's Puts to a majority, at the end of SnapshotSize3B).
//!   SnapshotSize3B then also requires every snapshot on disk (the bytes
//!   your Raft saved with `Persister::save`) to be at most **500 bytes**,
//!   after one Clerk did 200 × (Put x=0, Get x, Put x=1, Get x) on three
//!   servers: the store holds one key, so what fails is a snapshot that
//!   grows with the number of requests — a duplicate entry per request
//!   instead of per Clerk, saved replies, applied commands. 800 operations
//!   leave no room for even one byte each. With `maxraftstate` off (every
//!   3A test), every snapshot on disk must stay empty, 0 bytes, after each
//!   round: never call `raft.snapshot`, and your Raft must save no snapshot
//!   bytes of its own.
//!
//! ## One way to meet it
//! * **Everything goes through the log, Get included.** Propose each
//!   operation with `raft.start`, keep the `(index, term)` it returned, and
//!   wait for the apply loop to reach that index. The entry applied there is
//!   yours if its term (`ApplyMsg::Command`'s `term`) is the term `start`
//!   returned — no two entries share an index and a term — or if it carries
//!   your Clerk's id and request number: answer with its result (a Get's
//!   value as the store holds it right after). Anything else there means
//!   your entry was replaced: answer with an error. For a write, checking
//!   its effect is as good: once the duplicate table (below) says the
//!   Clerk's last applied number has reached the request's, the write is
//!   done, through whichever copy.
//! * **Duplicates, per Clerk.** Each Clerk has a random id and numbers its
//!   writes (a retry keeps its number); the servers keep, per Clerk, the
//!   number of its last applied write, skip a write whose number is not
//!   above it, and answer it with success. One entry per Clerk keeps the
//!   snapshot small.
//! * **Bounded waits.** Answer with an error as soon as `raft.state()` shows
//!   a new term or that the peer no longer leads (look every few tens of
//!   milliseconds), and after a wait of well under a second otherwise.
//! * **Snapshots (3B).** When `persister.raft_state_size()` reaches
//!   `maxraftstate`, save a snapshot — the store, the duplicate table and
//!   the index they reflect — with `raft.snapshot(index, data)`. Restore
//!   both from the persister's snapshot at start, and from every
//!   `ApplyMsg::Snapshot` Raft delivers.
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
