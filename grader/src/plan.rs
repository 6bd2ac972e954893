//! The work of a grading: one unit per (test, iteration), the share of it a
//! shard runs, and the seed of each unit. All deterministic, so shards on
//! different machines agree on who runs what, and any run can be replayed.

use crate::result::Shard;

/// One run to do: a test (its index in the selection) and an iteration (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unit {
    /// Index into the selected tests.
    pub test: usize,
    /// 1..=iterations.
    pub iteration: u32,
}

/// Every unit, iteration by iteration, so that the tests interleave (an
/// early stop or a slow shard still covers every test).
pub fn units(tests: usize, iterations: u32) -> Vec<Unit> {
    (1..=iterations).flat_map(|iteration| (0..tests).map(move |test| Unit { test, iteration })).collect()
}

/// The units shard `shard` runs: every `count`-th, starting at its index.
/// The shards of one `count` partition the units exactly.
pub fn share(units: Vec<Unit>, shard: Option<Shard>) -> Vec<Unit> {
    match shard {
        None => units,
        Some(s) => units
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % s.count as usize == (s.index - 1) as usize)
            .map(|(_, u)| u)
            .collect(),
    }
}

/// Parses "K/N" with 1 ≤ K ≤ N.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("--shard {s}: expected K/N with 1 ≤ K ≤ N, e.g. 2/4");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u32 = k.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if index == 0 || index > count { Err(bad()) } else { Ok(Shard { index, count }) }
}

/// The seed of one run, from the base seed, the test id and the iteration
/// (FNV-1a, then a SplitMix64 finish): the same on every machine.
pub fn seed(base: u64, test: &str, iteration: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ base;
    for b in test.bytes().chain(iteration.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_units() {
        let all = units(5, 3);
        assert_eq!(all.len(), 15);
        let mut joined: Vec<Unit> =
            (1..=4).flat_map(|k| share(all.clone(), Some(Shard { index: k, count: 4 }))).collect();
        joined.sort();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(joined, sorted);
        assert_eq!(share(all.clone(), Some(Shard { index: 2, count: 4 }))[0], all[1]);
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn seeds_are_stable_and_distinct() {
        assert_eq!(seed(1, "A2A", 1), seed(1, "A2A", 1));
        assert_ne!(seed(1, "A2A", 1), seed(1, "A2A", 2));
        assert_ne!(seed(1, "A2A", 1), seed(2, "A2A", 1));
        assert_ne!(seed(1, "A2A", 1), seed(1, "B2A", 1));
    }
}
