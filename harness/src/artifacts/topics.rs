//! Topics of a node's log line, guessed from its words: which part of Raft
//! or the KV service it is about. A line may have several (an
//! `InstallSnapshot` that persists is both `snapshot` and `persist`).
//!
//! What decides, in order:
//! 1. a `topic=` field naming topics (`topic=election`, `topic="apply,kv"`)
//!    — then only those;
//! 2. otherwise the words of the target (`raft::election`), the message and
//!    the field names, matched case-insensitively against [`KEYWORDS`].

/// A set of topics, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Topics(pub u8);

/// The topics, in the order of their bits, with the short tag shown in
/// front of a line.
pub const NAMES: [(&str, &str); 6] = [
    ("election", "ELECT"),
    ("append", "APPND"),
    ("snapshot", "SNAP"),
    ("persist", "PERST"),
    ("apply", "APPLY"),
    ("kv", "KV"),
];

/// Words that put a line in a topic (matched as substrings of the
/// lowercased text, so `RequestVote`, `voted_for` and `votes` all mean
/// election). A student who names things differently can say `topic=`.
pub const KEYWORDS: [(&str, &[&str]); 6] = [
    ("election", &["vote", "elect", "candidate", "leader", "step down", "stepdown", "timeout"]),
    (
        "append",
        &[
            "appendentries",
            "appended",
            "append_entries",
            "heartbeat",
            "replicat",
            "next_index",
            "nextindex",
            "match_index",
            "matchindex",
            "conflict",
            "backup",
            "entries",
        ],
    ),
    ("snapshot", &["snapshot"]),
    ("persist", &["persist", "save", "restor", "durable"]),
    ("apply", &["apply", "applied", "commit"]),
    (
        "kv",
        &[
            "kvraft",
            "kvserver",
            "clerk",
            "putappend",
            " get ",
            "get(",
            "put(",
            "dedup",
            "client_id",
            "clientid",
            "seq",
        ],
    ),
];

impl Topics {
    /// No topic.
    pub const NONE: Topics = Topics(0);

    /// The topic named `name` (`election`, `append`, …), if it is one.
    pub fn named(name: &str) -> Option<Topics> {
        let name = name.trim().to_ascii_lowercase();
        NAMES
            .iter()
            .position(|(n, tag)| *n == name || tag.eq_ignore_ascii_case(&name))
            .map(|i| Topics(1 << i))
    }

    /// The topics of a comma-separated list, or the first name that is not one.
    pub fn parse_list(list: &str) -> Result<Topics, String> {
        let mut all = Topics::NONE;
        for name in list.split(',').filter(|n| !n.trim().is_empty()) {
            all.0 |= Topics::named(name)
                .ok_or_else(|| {
                    let known: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
                    format!("unknown topic {name:?} (topics: {})", known.join(", "))
                })?
                .0;
        }
        Ok(all)
    }

    /// The topics `text` is about, by [`KEYWORDS`].
    pub fn guess(text: &str) -> Topics {
        let lower = text.to_ascii_lowercase();
        let mut t = 0u8;
        for (i, (_, words)) in KEYWORDS.iter().enumerate() {
            if words.iter().any(|w| lower.contains(w)) {
                t |= 1 << i;
            }
        }
        Topics(t)
    }

    /// Whether the two sets share a topic.
    pub fn meets(self, other: Topics) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The tag of the set's first topic (`ELECT`, …), or blanks.
    pub fn tag(self) -> &'static str {
        match self.first() {
            Some(i) => NAMES[i].1,
            None => "",
        }
    }

    /// The index in [`NAMES`] of the set's first topic.
    pub fn first(self) -> Option<usize> {
        (self.0 != 0).then(|| self.0.trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_choose_topics() {
        assert_eq!(Topics::guess("granted vote to 2").tag(), "ELECT");
        assert_eq!(Topics::guess("sending AppendEntries to 1").tag(), "APPND");
        assert_eq!(Topics::guess("start: appended index=5").tag(), "APPND");
        assert_eq!(Topics::guess("installing snapshot through 40").tag(), "SNAP");
        assert_eq!(Topics::guess("applying index 7"), Topics::named("apply").unwrap());
        assert!(Topics::guess("PutAppend from clerk 3 seq=4").meets(Topics::named("kv").unwrap()));
        assert!(Topics::guess("persisted 3 entries").meets(Topics::named("persist").unwrap()));
        assert!(Topics::guess("hello world").is_empty());
    }

    #[test]
    fn lists_parse_and_refuse_unknown_names() {
        let t = Topics::parse_list("election,kv").unwrap();
        assert!(t.meets(Topics::named("election").unwrap()));
        assert!(t.meets(Topics::named("KV").unwrap()));
        assert!(!t.meets(Topics::named("append").unwrap()));
        assert!(Topics::parse_list("elections").unwrap_err().contains("unknown topic"));
    }
}
