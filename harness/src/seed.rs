//! One seed per test: printed at the start and in every failure, settable
//! with `LAB_SEED` so a failing run's choices can be replayed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The environment variable that fixes the seed.
pub const SEED_VAR: &str = "LAB_SEED";

/// The seed for this test: `LAB_SEED` if set, else fresh entropy.
///
/// # Panics
/// If `LAB_SEED` is set but is not a number (a usage error worth stopping for).
pub fn test_seed() -> u64 {
    match std::env::var(SEED_VAR) {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("{SEED_VAR}={s:?} is not an unsigned integer")),
        Err(_) => rand::random(),
    }
}

/// The generator a test draws its choices from.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
