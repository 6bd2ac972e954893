//! A random source for the code under test that a test run can replay.
//!
//! The kit starts each node with a seed made of the test's seed (`LAB_SEED`),
//! the node's index and its incarnation, and seeds this source with it; so
//! `LAB_SEED=… make test-2A TEST=…` replays the node's draws (election
//! timeouts, clerk ids, …) as well as the harness's own choices. Outside the
//! kit, or before a seed is set, it is seeded from the operating system.
//!
//! What replays is the sequence of values, in the order they are drawn in
//! one process. What cannot: the order in which threads draw, thread
//! interleavings, and real time (when a timer fires, how long an RPC takes),
//! so a replay follows the same path only as far as those agree.
//!
//! ```
//! use rand::Rng;
//! let timeout_ms: u64 = labrpc::rng().random_range(300..600);
//! assert!((300..600).contains(&timeout_ms));
//! ```

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

static SOURCE: Mutex<Option<ChaCha8Rng>> = Mutex::new(None);

/// Seeds this process's source (the node host does, from `--seed`): every
/// later draw follows from `seed`.
pub fn seed(seed: u64) {
    *SOURCE.lock().unwrap_or_else(|e| e.into_inner()) = Some(ChaCha8Rng::seed_from_u64(seed));
}

/// This process's random source, seeded by the test run (see the module
/// docs). Use it with `rand::Rng`'s methods: `labrpc::rng().random_range(a..b)`.
pub fn rng() -> Source {
    Source(())
}

/// A handle on the process's random source; each draw takes the next values.
#[derive(Debug, Clone, Copy)]
pub struct Source(());

impl Source {
    fn with<T>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> T) -> T {
        let mut source = SOURCE.lock().unwrap_or_else(|e| e.into_inner());
        f(source.get_or_insert_with(|| ChaCha8Rng::from_rng(&mut rand::rng())))
    }
}

impl RngCore for Source {
    fn next_u32(&mut self) -> u32 {
        self.with(|r| r.next_u32())
    }

    fn next_u64(&mut self) -> u64 {
        self.with(|r| r.next_u64())
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.with(|r| r.fill_bytes(dest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_seed_replays_the_draws() {
        seed(42);
        let a: Vec<u64> = (0..5).map(|_| rng().random_range(0..1_000_000)).collect();
        seed(42);
        let b: Vec<u64> = (0..5).map(|_| rng().random_range(0..1_000_000)).collect();
        assert_eq!(a, b);
        seed(43);
        let c: Vec<u64> = (0..5).map(|_| rng().random_range(0..1_000_000)).collect();
        assert_ne!(a, c);
    }
}
