//! Merging a folder's logs into one time-ordered list of records, filtered
//! by node, level, topic and time window.

use super::events::{self, Event};
use super::logline::{self, Level};
use super::topics::Topics;

/// One line of the merged view.
#[derive(Debug, PartialEq)]
pub struct Record<'a> {
    /// Seconds since the test began.
    pub t: f64,
    /// The node whose log it is; `None` for the harness's events.
    pub node: Option<usize>,
    /// Its level, if it has one.
    pub level: Option<Level>,
    /// Its topics.
    pub topics: Topics,
    /// What it says (for a node's line, what follows the level).
    pub text: &'a str,
    /// For a harness event, what kind it is.
    pub event: Option<events::Kind>,
}

/// Which records to keep. The default keeps everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only these nodes' lines (the harness's events are always kept).
    pub peers: Option<Vec<usize>>,
    /// Only lines at this level or above (lines without a level are kept).
    pub level: Option<Level>,
    /// Only lines about one of these topics.
    pub topics: Option<Topics>,
    /// Only records at or after this time (seconds since the test began).
    pub from: Option<f64>,
    /// Only records at or before this time.
    pub to: Option<f64>,
    /// Leave out the harness's events.
    pub no_events: bool,
}

impl Filter {
    fn in_window(&self, t: f64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t <= to)
    }

    /// A node's own news (its role, a snapshot) goes with its column; the
    /// rest (crashes, partitions, checks) is everyone's story.
    fn keeps_event(&self, kind: &events::Kind) -> bool {
        let node = match kind {
            events::Kind::Role { node, .. } | events::Kind::Snapshot(node) => *node,
            _ => return true,
        };
        self.peers.as_ref().is_none_or(|p| p.contains(&node))
    }

    fn keeps_line(&self, node: usize, level: Option<Level>, topics: Topics) -> bool {
        self.peers.as_ref().is_none_or(|p| p.contains(&node))
            && self.level.is_none_or(|min| level.is_none_or(|l| l >= min))
            && self.topics.is_none_or(|t| t.meets(topics))
    }
}

/// Merges the node logs (`(node, text)`) and the timeline's events into one
/// list ordered by time; at equal times the harness's events come first,
/// then the nodes in index order, each node's lines in file order. A line
/// without a time takes its predecessor's time (and level, unless it is a
/// panic).
pub fn merge<'a>(logs: &'a [(usize, String)], timeline: &'a [Event], filter: &Filter) -> Vec<Record<'a>> {
    let mut out = Vec::new();
    if !filter.no_events {
        for e in timeline.iter().filter(|e| filter.in_window(e.t) && filter.keeps_event(&e.kind)) {
            out.push(Record {
                t: e.t,
                node: None,
                level: None,
                topics: Topics::NONE,
                text: &e.text,
                event: Some(e.kind.clone()),
            });
        }
    }
    for (node, text) in logs {
        let (mut t, mut level) = (0.0, None);
        for line in text.lines().filter(|l| !l.is_empty()) {
            let parsed = logline::parse(line);
            match parsed.t {
                Some(at) => (t, level) = (at, parsed.level),
                None => level = parsed.level.or(level),
            }
            if filter.in_window(t) && filter.keeps_line(*node, level, parsed.topics) {
                out.push(Record {
                    t,
                    node: Some(*node),
                    level,
                    topics: parsed.topics,
                    text: parsed.body,
                    event: None,
                });
            }
        }
    }
    // Stable: equal times keep the order above.
    out.sort_by(|a, b| a.t.total_cmp(&b.t));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs() -> Vec<(usize, String)> {
        vec![
            (0, "  0.100000s  INFO raft: became candidate term=1\n  0.300000s DEBUG raft: sent AppendEntries\nnode 0 panicked: boom\n".into()),
            (1, "  0.200000s  INFO raft: granted vote term=1\n  0.250000s  WARN raft: persisting slowly\n".into()),
        ]
    }

    fn timeline() -> Vec<Event> {
        events::parse_all("  0.200000s  disconnect 1\n  0.400000s  FAILED: two leaders\n")
    }

    #[test]
    fn merges_by_time_with_events_first() {
        let (logs, tl) = (logs(), timeline());
        let m = merge(&logs, &tl, &Filter::default());
        let order: Vec<(f64, Option<usize>)> = m.iter().map(|r| (r.t, r.node)).collect();
        assert_eq!(
            order,
            vec![
                (0.1, Some(0)),
                (0.2, None),
                (0.2, Some(1)),
                (0.25, Some(1)),
                (0.3, Some(0)),
                (0.3, Some(0)),
                (0.4, None)
            ]
        );
        // The panic took its predecessor's time and is an error.
        assert_eq!(m[5].text, "node 0 panicked: boom");
        assert_eq!(m[5].level, Some(Level::Error));
    }

    #[test]
    fn filters_by_peer_level_topic_and_window() {
        let (logs, tl) = (logs(), timeline());
        let only = |f: Filter| -> Vec<&str> { merge(&logs, &tl, &f).iter().map(|r| r.text).collect() };
        let peer1 = only(Filter { peers: Some(vec![1]), no_events: true, ..Filter::default() });
        assert_eq!(peer1, vec!["raft: granted vote term=1", "raft: persisting slowly"]);
        let tl = events::parse_all("  0.1s  node 0 leads in term 1\n  0.2s  node 1 killed (pid 3)\n");
        let f = Filter { peers: Some(vec![1]), ..Filter::default() };
        let evs: Vec<&str> = merge(&[], &tl, &f).iter().map(|r| r.text).collect();
        assert_eq!(evs, vec!["node 1 killed (pid 3)"], "another node's role is left out, a crash is not");
        let warn = only(Filter { level: Some(Level::Warn), no_events: true, ..Filter::default() });
        assert_eq!(warn, vec!["raft: persisting slowly", "node 0 panicked: boom"]);
        let elections = only(Filter { topics: Topics::parse_list("election").ok(), ..Filter::default() });
        // Events are the harness's story: they stay whatever the topic.
        assert_eq!(
            elections,
            vec![
                "raft: became candidate term=1",
                "disconnect 1",
                "raft: granted vote term=1",
                "FAILED: two leaders"
            ]
        );
        let window = only(Filter { from: Some(0.2), to: Some(0.25), ..Filter::default() });
        assert_eq!(window, vec!["disconnect 1", "raft: granted vote term=1", "raft: persisting slowly"]);
    }
}
