//! The replicated state machine: the store, the duplicate table, and the
//! index they reflect — exactly what a snapshot holds.
//!
//! Pure and synchronous: `apply.rs` feeds it committed operations in log
//! order and asks it for snapshots; `server.rs` never touches it directly.
//!
//! ## Exactly-once
//! `sessions` maps each clerk to the highest request number whose write has
//! been applied. A clerk sends one request at a time and numbers them
//! upwards, so a Put or Append whose number is not above its clerk's entry is
//! a retry of a write that already took effect: it is skipped (and answered
//! as a success). Gets change nothing, so they are never recorded and a
//! retried Get simply reads again.
//!
//! ## Snapshot format
//! postcard of [`Machine`]: the applied index (varint), the store (key/value
//! pairs, sorted), then the sessions (clerk id, last write number). Only the
//! last number per clerk is kept, not the replies, so a clerk costs at most
//! 20 bytes however many operations it made.

use crate::common::{ClientId, Op, OpKind, Seq};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Invariants:
/// 1. `store` is the result of applying, in log order, every write through
///    `applied` exactly once (retries skipped);
/// 2. `sessions[c]` is the highest request number of clerk `c` among the
///    writes applied through `applied`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// The last log index applied (or installed from a snapshot).
    applied: u64,
    /// The key/value map.
    store: Store,
    /// Per clerk, the request number of its last applied write.
    sessions: BTreeMap<ClientId, Seq>,
}

/// A snapshot that cannot be decoded.
#[derive(Debug)]
pub struct BadSnapshot(pub String);

impl std::fmt::Display for BadSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad KV snapshot: {}", self.0)
    }
}

impl Machine {
    /// The machine a snapshot holds; the empty machine for an empty snapshot
    /// (a first start).
    ///
    /// # Errors
    /// If `data` is not a snapshot this module wrote.
    pub fn restore(data: &[u8]) -> Result<Machine, BadSnapshot> {
        if data.is_empty() {
            return Ok(Machine::default());
        }
        labrpc::codec::decode(data).map_err(|e| BadSnapshot(e.to_string()))
    }

    /// This machine's snapshot bytes (see the module doc for the format).
    pub fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(self).expect("a KV machine always encodes")
    }

    /// The last log index applied.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// Applies `op`, committed at `index` (which must follow `applied`), and
    /// returns its result: the value read for a Get, "" for a write.
    /// A write that is a retry of one already applied changes nothing.
    pub fn apply(&mut self, index: u64, op: &Op) -> String {
        debug_assert!(index > self.applied, "index {index} applied after {}", self.applied);
        self.applied = index;
        if op.is_write() && self.is_duplicate(op.client, op.seq) {
            tracing::debug!(index, client = op.client, seq = op.seq, "duplicate write skipped");
            return String::new();
        }
        match &op.kind {
            OpKind::Get { key } => return self.store.get(key),
            OpKind::Put { key, value } => self.store.put(key.clone(), value.clone()),
            OpKind::Append { key, value } => self.store.append(key.clone(), value),
        }
        self.sessions.insert(op.client, op.seq);
        String::new()
    }

    /// Skips an index whose command is not an [`Op`] (never written by this
    /// crate; logged by the caller).
    pub fn skip(&mut self, index: u64) {
        self.applied = index;
    }

    /// Whether clerk `client`'s write number `seq` has already been applied.
    fn is_duplicate(&self, client: ClientId, seq: Seq) -> bool {
        self.sessions.get(&client).is_some_and(|&last| seq <= last)
    }

    /// The store (for tests and logs).
    pub fn store(&self) -> &Store {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(client: u64, seq: u64, key: &str, value: &str) -> Op {
        Op { client, seq, kind: OpKind::Put { key: key.into(), value: value.into() } }
    }
    fn append(client: u64, seq: u64, key: &str, value: &str) -> Op {
        Op { client, seq, kind: OpKind::Append { key: key.into(), value: value.into() } }
    }
    fn get(client: u64, seq: u64, key: &str) -> Op {
        Op { client, seq, kind: OpKind::Get { key: key.into() } }
    }

    #[test]
    fn a_retried_append_applies_once() {
        let mut m = Machine::default();
        m.apply(1, &append(7, 1, "k", "a"));
        m.apply(2, &append(7, 1, "k", "a"));
        m.apply(3, &append(7, 2, "k", "b"));
        assert_eq!(m.apply(4, &get(7, 3, "k")), "ab");
        // Another clerk's request numbers are its own.
        m.apply(5, &append(8, 1, "k", "c"));
        assert_eq!(m.apply(6, &get(8, 2, "k")), "abc");
    }

    #[test]
    fn a_snapshot_restores_store_sessions_and_index() {
        let mut m = Machine::default();
        m.apply(1, &put(7, 1, "x", "1"));
        m.apply(2, &append(7, 2, "x", "2"));
        let restored = Machine::restore(&m.snapshot()).unwrap();
        assert_eq!(restored, m);
        assert_eq!(restored.applied(), 2);
        let mut r = restored;
        r.apply(3, &append(7, 2, "x", "2"));
        assert_eq!(r.store().get("x"), "12", "the duplicate table survives the snapshot");
        assert_eq!(Machine::restore(&[]).unwrap(), Machine::default());
        assert!(Machine::restore(&[0xff; 3]).is_err());
    }

    /// 3B SnapshotSize: 200 × (Put x 0, Get, Put x 1, Get) from one clerk
    /// must leave a snapshot of at most 500 bytes.
    #[test]
    fn the_snapshot_stays_small() {
        let mut m = Machine::default();
        let (mut index, mut seq) = (0, 0);
        let mut next = |m: &mut Machine, op: fn(u64) -> Op| {
            index += 1;
            seq += 1;
            m.apply(index, &op(seq));
        };
        for _ in 0..200 {
            next(&mut m, |s| put(u64::MAX, s, "x", "0"));
            next(&mut m, |s| get(u64::MAX, s, "x"));
            next(&mut m, |s| put(u64::MAX, s, "x", "1"));
            next(&mut m, |s| get(u64::MAX, s, "x"));
        }
        let size = m.snapshot().len();
        assert!(size <= 30, "snapshot of one key and one clerk is {size} bytes");
    }
}
