//! The set of linearized operations, as a bitset that keeps its own hash.

/// A fixed-size set of small integers that maintains a Zobrist hash: the
/// XOR of one pseudo-random key per member, updated in O(1) on every insert
/// and remove, so the memoisation table never rehashes the whole set.
///
/// Invariant: `hash == members().fold(0, |h, i| h ^ key(i))`.
#[derive(Clone, Debug)]
pub(crate) struct HashedBitset {
    words: Vec<u64>,
    hash: u64,
}

impl HashedBitset {
    /// An empty set able to hold `0..capacity`.
    pub(crate) fn new(capacity: usize) -> Self {
        HashedBitset { words: vec![0; capacity.div_ceil(64).max(1)], hash: 0 }
    }

    /// Adds `i`, which must not be a member.
    #[inline]
    pub(crate) fn insert(&mut self, i: usize) {
        debug_assert!(!self.contains(i), "bit {i} is already set");
        self.words[i / 64] |= 1 << (i % 64);
        self.hash ^= key(i);
    }

    /// Removes `i`, which must be a member.
    #[inline]
    pub(crate) fn remove(&mut self, i: usize) {
        debug_assert!(self.contains(i), "bit {i} is not set");
        self.words[i / 64] &= !(1 << (i % 64));
        self.hash ^= key(i);
    }

    /// Whether `i` is a member.
    #[inline]
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// The set's hash (see the type's invariant).
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// The raw words, for storing and comparing sets.
    #[inline]
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }
}

/// The Zobrist key of member `i`: splitmix64 of `i`, well spread in every bit.
#[inline]
fn key(i: usize) -> u64 {
    let mut z = (i as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_only_on_members() {
        let mut a = HashedBitset::new(130);
        let mut b = HashedBitset::new(130);
        a.insert(3);
        a.insert(129);
        b.insert(129);
        b.insert(7);
        b.insert(3);
        b.remove(7);
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.words(), b.words());
        assert!(a.contains(129) && !a.contains(7));
    }
}
