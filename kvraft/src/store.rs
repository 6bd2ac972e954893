//! The key/value store itself: a map from strings to strings with the
//! three operations of the lab. It knows nothing of Raft, clerks or
//! duplicates; `apply.rs` decides what reaches it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The replicated map. A `BTreeMap`, so its snapshot encoding is
/// deterministic (the same contents give the same bytes on every server).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    map: BTreeMap<String, String>,
}

impl Store {
    /// The value of `key`, or "" if it is missing.
    pub fn get(&self, key: &str) -> String {
        self.map.get(key).cloned().unwrap_or_default()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: String, value: String) {
        self.map.insert(key, value);
    }

    /// Appends `value` to `key`'s value; on a missing key this is a Put.
    pub fn append(&mut self, key: String, value: &str) {
        self.map.entry(key).or_default().push_str(value);
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_reads_empty_and_append_to_it_is_a_put() {
        let mut s = Store::default();
        assert_eq!(s.get("k"), "");
        s.append("k".into(), "a");
        assert_eq!(s.get("k"), "a");
        s.append("k".into(), "b");
        assert_eq!(s.get("k"), "ab");
        s.put("k".into(), "c".into());
        assert_eq!(s.get("k"), "c");
        assert_eq!(s.len(), 1);
    }
}
