//! Counters kept by the network, as labrpc keeps them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The width of one bucket of [`Stats::rates`]: fine enough to see a
/// heartbeat storm, coarse enough that a 10-minute test has 6,000 buckets.
pub const RATE_BUCKET_MS: u64 = 100;

/// Calls and bytes seen by the network.
#[derive(Default)]
pub struct Stats {
    /// The test's zero on [`control::clock`], from which buckets count.
    zero: u64,
    /// Per [`RATE_BUCKET_MS`] bucket since `zero`: requests delivered to each server.
    rates: Mutex<Vec<Vec<u32>>>,
    /// Every call made, delivered or not (labrpc's `GetTotalCount`).
    total_calls: AtomicU64,
    /// Request payload bytes when sent plus reply payload bytes when delivered
    /// (labrpc's `GetTotalBytes`).
    total_bytes: AtomicU64,
    /// Requests delivered to each server, by method (labrpc's `GetCount`, split).
    delivered: Mutex<Vec<HashMap<String, u64>>>,
    /// When each caller last sent each server a request only a leader
    /// sends ([`LEADER_METHODS`]), on [`control::clock`], delivered or not.
    leader_sends: Mutex<HashMap<(u32, usize), u64>>,
}

/// The requests only a leader sends: what shows that a node which says it
/// leads acts as one.
pub const LEADER_METHODS: [&str; 2] = ["Raft.AppendEntries", "Raft.InstallSnapshot"];

impl Stats {
    /// Counters whose rates count from `zero` (a [`control::clock`] reading).
    pub fn new(zero: u64) -> Stats {
        Stats { zero, ..Stats::default() }
    }

    pub(crate) fn call(&self, request_bytes: usize) {
        self.total_calls.fetch_add(1, Ordering::Relaxed);
        self.total_bytes.fetch_add(request_bytes as u64, Ordering::Relaxed);
    }

    /// `from` sent `to` a request for `method` (it reached the network;
    /// whether it is delivered does not matter).
    pub(crate) fn sent(&self, from: u32, to: usize, method: &str) {
        if LEADER_METHODS.contains(&method) {
            let now = control::clock::monotonic_ns();
            self.leader_sends.lock().expect("stats lock").insert((from, to), now);
        }
    }

    /// When `from` last sent `to` an AppendEntries or InstallSnapshot
    /// ([`LEADER_METHODS`]), on [`control::clock`]; `None` if never.
    pub fn last_leader_send(&self, from: u32, to: usize) -> Option<u64> {
        self.leader_sends.lock().expect("stats lock").get(&(from, to)).copied()
    }

    pub(crate) fn reply(&self, reply_bytes: usize) {
        self.total_bytes.fetch_add(reply_bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn delivered(&self, server: usize, method: &str) {
        self.count_rate(server);
        let mut d = self.delivered.lock().expect("stats lock");
        if d.len() <= server {
            d.resize_with(server + 1, HashMap::new);
        }
        match d[server].get_mut(method) {
            Some(n) => *n += 1,
            None => {
                d[server].insert(method.to_string(), 1);
            }
        }
    }

    fn count_rate(&self, server: usize) {
        let ms = control::clock::monotonic_ns().saturating_sub(self.zero) / 1_000_000;
        let bucket = (ms / RATE_BUCKET_MS) as usize;
        let mut rates = self.rates.lock().expect("stats lock");
        if rates.len() <= bucket {
            rates.resize_with(bucket + 1, Vec::new);
        }
        let row = &mut rates[bucket];
        if row.len() <= server {
            row.resize(server + 1, 0);
        }
        row[server] += 1;
    }

    /// Requests delivered to each server per [`RATE_BUCKET_MS`] since the
    /// test began: `rates()[b][s]` for bucket `b`, server `s` (rows are as
    /// long as the highest server that got one).
    pub fn rates(&self) -> Vec<Vec<u32>> {
        self.rates.lock().expect("stats lock").clone()
    }

    /// All calls made so far.
    pub fn total_calls(&self) -> u64 {
        self.total_calls.load(Ordering::Relaxed)
    }

    /// All payload bytes carried so far.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes.load(Ordering::Relaxed)
    }

    /// Requests delivered to `server`, all methods.
    pub fn delivered_to(&self, server: usize) -> u64 {
        self.delivered.lock().expect("stats lock").get(server).map_or(0, |m| m.values().sum())
    }

    /// Requests delivered to `server` for `method`.
    pub fn delivered_method(&self, server: usize, method: &str) -> u64 {
        self.delivered
            .lock()
            .expect("stats lock")
            .get(server)
            .and_then(|m| m.get(method))
            .copied()
            .unwrap_or(0)
    }
}
