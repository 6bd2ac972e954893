//! The replicated log, offset by the snapshot that replaced its prefix.
//!
//! Indexes are Raft's: the first entry ever has index 1. After a snapshot
//! through index `s` (term `t`), the log holds only entries `s+1 ..`; index `s`
//! still has a known term (`t`), which is what AppendEntries' consistency
//! check needs at the boundary. Every index in this crate goes through this
//! type, so the offset arithmetic lives here and nowhere else.

use serde::{Deserialize, Serialize};

/// One log entry: the term a leader created it in and the service's command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The leader's term when the entry was created.
    pub term: u64,
    /// The command as the service passed it to `start`.
    pub command: Vec<u8>,
}

/// The log after the snapshot.
///
/// Invariants (checked by [`Log::check`]):
/// 1. `entries[i]` has index `snapshot_index + 1 + i`;
/// 2. terms never decrease along the log, starting from `snapshot_term`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    /// Last index the snapshot covers (0: no snapshot).
    snapshot_index: u64,
    /// Term of the entry at `snapshot_index` (0 when there is no snapshot).
    snapshot_term: u64,
    /// The entries after the snapshot.
    entries: Vec<Entry>,
}

impl Log {
    /// An empty log with no snapshot.
    pub fn new() -> Log {
        Log::default()
    }

    /// A log from its parts, as restored from disk.
    pub fn from_parts(snapshot_index: u64, snapshot_term: u64, entries: Vec<Entry>) -> Log {
        Log { snapshot_index, snapshot_term, entries }
    }

    /// A log holding empty commands with these terms at indexes 1, 2, … (for tests).
    #[cfg(test)]
    pub fn from_terms(terms: &[u64]) -> Log {
        let entries = terms.iter().map(|&term| Entry { term, command: Vec::new() }).collect();
        Log::from_parts(0, 0, entries)
    }

    /// The terms of every index from `snapshot_index + 1` on (for tests).
    #[cfg(test)]
    pub fn terms(&self) -> Vec<u64> {
        self.entries.iter().map(|e| e.term).collect()
    }

    /// Last index the snapshot covers (0 if none).
    pub fn snapshot_index(&self) -> u64 {
        self.snapshot_index
    }

    /// Term of the entry at [`Log::snapshot_index`].
    pub fn snapshot_term(&self) -> u64 {
        self.snapshot_term
    }

    /// The entries after the snapshot.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Index of the last entry (the snapshot's index if no entry follows it).
    pub fn last_index(&self) -> u64 {
        self.snapshot_index + self.entries.len() as u64
    }

    /// Term of the last entry (the snapshot's term if no entry follows it).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// Position in `entries` of `index`, if the log holds that entry.
    fn position(&self, index: u64) -> Option<usize> {
        if index <= self.snapshot_index || index > self.last_index() {
            return None;
        }
        Some((index - self.snapshot_index - 1) as usize)
    }

    /// The term at `index`: known for the snapshot's last index and every
    /// entry after it; `None` before the snapshot or past the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.position(index).map(|p| self.entries[p].term)
    }

    /// The entry at `index`, if the log holds it (not compacted, not past the end).
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        self.position(index).map(|p| &self.entries[p])
    }

    /// Entries from `index` to the end, at most `max_bytes` of commands
    /// (but at least one entry when any is there).
    ///
    /// # Panics
    /// If `index` lies inside the snapshot.
    pub fn entries_from(&self, index: u64, max_bytes: usize) -> &[Entry] {
        assert!(index > self.snapshot_index, "entries_from({index}) inside the snapshot");
        let Some(start) = self.position(index) else { return &[] };
        let mut bytes = 0;
        let mut end = start;
        while end < self.entries.len()
            && (end == start || bytes + self.entries[end].command.len() <= max_bytes)
        {
            bytes += self.entries[end].command.len();
            end += 1;
        }
        &self.entries[start..end]
    }

    /// Appends one entry at `last_index() + 1`.
    pub fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Removes the entries at `index` and after (only entries after the snapshot).
    pub fn truncate_from(&mut self, index: u64) {
        let keep = index.saturating_sub(self.snapshot_index + 1) as usize;
        self.entries.truncate(keep);
    }

    /// Replaces the prefix through `index` by a snapshot whose last entry has
    /// `term`. Keeps the entries after `index` if the log holds `index` with
    /// that same term (they extend the snapshot); otherwise discards them all.
    pub fn compact_through(&mut self, index: u64, term: u64) {
        if self.term_at(index) == Some(term) {
            let drop = index.saturating_sub(self.snapshot_index) as usize;
            self.entries.drain(..drop.min(self.entries.len()));
        } else {
            self.entries.clear();
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// The first index of the run of entries with `term` that contains
    /// `index` (stops at the first index after the snapshot).
    pub fn first_index_of_term_run(&self, index: u64) -> u64 {
        let term = self.term_at(index);
        let mut first = index;
        while first > self.snapshot_index + 1 && self.term_at(first - 1) == term {
            first -= 1;
        }
        first
    }

    /// The last index holding an entry of `term`, if any (including the
    /// snapshot's last index).
    pub fn last_index_of_term(&self, term: u64) -> Option<u64> {
        for (i, entry) in self.entries.iter().enumerate().rev() {
            if entry.term == term {
                return Some(self.snapshot_index + 1 + i as u64);
            }
            if entry.term < term {
                return None;
            }
        }
        (self.snapshot_index > 0 && self.snapshot_term == term).then_some(self.snapshot_index)
    }

    /// Checks the invariants listed on the type.
    pub fn check(&self) -> Result<(), String> {
        let mut previous = self.snapshot_term;
        for (i, entry) in self.entries.iter().enumerate() {
            if entry.term < previous {
                let index = self.snapshot_index + 1 + i as u64;
                return Err(format!("term {} at index {index} follows term {previous}", entry.term));
            }
            previous = entry.term;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(term: u64, byte: u8) -> Entry {
        Entry { term, command: vec![byte] }
    }

    #[test]
    fn indexes_are_offset_by_the_snapshot() {
        let mut log = Log::from_terms(&[1, 1, 2, 3, 3]);
        assert_eq!((log.last_index(), log.last_term()), (5, 3));
        log.compact_through(3, 2);
        assert_eq!((log.snapshot_index(), log.snapshot_term()), (3, 2));
        assert_eq!(log.terms(), vec![3, 3]);
        assert_eq!(log.term_at(2), None, "inside the snapshot");
        assert_eq!(log.term_at(3), Some(2), "the snapshot's last index keeps its term");
        assert_eq!(log.term_at(4), Some(3));
        assert_eq!(log.term_at(6), None, "past the end");
        assert_eq!(log.entries_from(4, usize::MAX).len(), 2);
        log.truncate_from(5);
        assert_eq!(log.last_index(), 4);
        log.push(entry(4, 9));
        assert_eq!((log.last_index(), log.last_term()), (5, 4));
    }

    #[test]
    fn compacting_past_a_mismatch_discards_the_whole_log() {
        let mut log = Log::from_terms(&[1, 1, 2]);
        log.compact_through(2, 5);
        assert_eq!((log.last_index(), log.last_term()), (2, 5));
        assert!(log.entries().is_empty());
        let mut log = Log::from_terms(&[1]);
        log.compact_through(10, 3);
        assert_eq!((log.snapshot_index(), log.last_index()), (10, 10));
    }

    #[test]
    fn entries_from_respects_the_byte_cap_but_sends_at_least_one() {
        let mut log = Log::new();
        for i in 0..4 {
            log.push(Entry { term: 1, command: vec![i; 10] });
        }
        assert_eq!(log.entries_from(1, 25).len(), 2);
        assert_eq!(log.entries_from(1, 0).len(), 1);
        assert_eq!(log.entries_from(5, 100).len(), 0);
    }

    #[test]
    fn term_runs_and_last_index_of_term() {
        let log = Log::from_terms(&[4, 4, 4, 6, 6, 6]);
        assert_eq!(log.first_index_of_term_run(3), 1);
        assert_eq!(log.first_index_of_term_run(6), 4);
        assert_eq!(log.last_index_of_term(4), Some(3));
        assert_eq!(log.last_index_of_term(5), None);
        assert_eq!(log.last_index_of_term(7), None);
        let mut log = log;
        log.compact_through(2, 4);
        assert_eq!(log.first_index_of_term_run(3), 3, "runs stop at the snapshot");
        assert_eq!(log.last_index_of_term(4), Some(3));
    }

    #[test]
    fn check_rejects_decreasing_terms() {
        assert!(Log::from_terms(&[1, 2, 2]).check().is_ok());
        assert!(Log::from_terms(&[2, 1]).check().unwrap_err().contains("index 2"));
    }
}
