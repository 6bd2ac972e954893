//! Lowe's memoisation table: the (set of linearized operations, state)
//! configurations the search has already entered.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::bitset::HashedBitset;

/// A set of configurations. Bitsets live in one flat arena (`width` words
/// per entry), so an insertion allocates nothing but amortised growth.
///
/// Invariant: `arena.len() == table.len() * width`, and slot `i`'s bitset is
/// `arena[i * width..(i + 1) * width]`.
pub(crate) struct Cache<S> {
    table: HashTable<Slot<S>>,
    arena: Vec<u64>,
    width: usize,
}

struct Slot<S> {
    hash: u64,
    index: usize,
    state: S,
}

impl<S: Clone + Eq + Hash> Cache<S> {
    /// An empty table for bitsets of `width` words.
    pub(crate) fn new(width: usize) -> Self {
        Cache { table: HashTable::new(), arena: Vec::new(), width }
    }

    /// Records the configuration; returns `false` if it was already there.
    #[inline]
    pub(crate) fn insert(&mut self, bits: &HashedBitset, state: &S) -> bool {
        let hash = bits.hash() ^ mix(rustc_hash::FxBuildHasher.hash_one(state));
        let width = self.width;
        let words = bits.words();
        let arena = &self.arena;
        let entry = self.table.entry(
            hash,
            |slot| {
                slot.hash == hash
                    && slot.state == *state
                    && arena[slot.index * width..(slot.index + 1) * width] == *words
            },
            |slot| slot.hash,
        );
        match entry {
            Entry::Occupied(_) => false,
            Entry::Vacant(vacant) => {
                let index = self.arena.len() / width;
                vacant.insert(Slot { hash, index, state: state.clone() });
                self.arena.extend_from_slice(words);
                true
            }
        }
    }
}

/// Spreads a state hash over all 64 bits before it is combined with the
/// Zobrist hash of the bitset (FxHash leaves the low bits weak).
#[inline]
fn mix(h: u64) -> u64 {
    let h = (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_configuration_is_entered_once() {
        let mut cache = Cache::new(1);
        let mut bits = HashedBitset::new(10);
        assert!(cache.insert(&bits, &0u8));
        assert!(!cache.insert(&bits, &0u8));
        assert!(cache.insert(&bits, &1u8));
        bits.insert(4);
        assert!(cache.insert(&bits, &0u8));
        assert!(!cache.insert(&bits, &0u8));
    }
}
