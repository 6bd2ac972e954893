//! One seed per test: printed at the start and in every failure, settable
//! with `LAB_SEED` so a failing run's choices can be replayed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The environment variable that fixes the seed.
pub const SEED_VAR: &str = protocol::env::SEED;

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

/// The seed of one process of a test: node `slot`'s `incarnation`-th start
/// (the clerk host: its own slot). Replays with the test's seed; distinct
/// for each process of a run (splitmix64 of the mix).
pub fn process_seed(test_seed: u64, slot: u64, incarnation: u64) -> u64 {
    let mut z = test_seed
        ^ slot.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ incarnation.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator a test draws its choices from.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
