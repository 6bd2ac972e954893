//! Counters kept by the network, as labrpc keeps them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Calls and bytes seen by the network.
#[derive(Default)]
pub struct Stats {
    /// Every call made, delivered or not (labrpc's `GetTotalCount`).
    total_calls: AtomicU64,
    /// Request payload bytes when sent plus reply payload bytes when delivered
    /// (labrpc's `GetTotalBytes`).
    total_bytes: AtomicU64,
    /// Requests delivered to each server, by method (labrpc's `GetCount`, split).
    delivered: Mutex<Vec<HashMap<String, u64>>>,
}

impl Stats {
    pub(crate) fn call(&self, request_bytes: usize) {
        self.total_calls.fetch_add(1, Ordering::Relaxed);
        self.total_bytes.fetch_add(request_bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn reply(&self, reply_bytes: usize) {
        self.total_bytes.fetch_add(reply_bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn delivered(&self, server: usize, method: &str) {
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
