//! The harness's events, read back from `timeline.log` (written by
//! [`crate::timeline::Timeline`], one `   1.234567s  what` per line) and
//! sorted into the kinds the viewers draw. The texts are the verbs' own
//! (`Nodes`, `Cluster`, `KvCluster`); one that is not recognised is
//! [`Kind::Other`] and still shown.

/// What an event is about.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `begin …`: a test (or a part of one) began.
    Begin,
    /// `passed …`
    Passed,
    /// A node's process started (`node 2 started (pid …)`).
    Started(usize),
    /// A node crashed: killed by the test or exited on its own.
    Down(usize),
    /// A node was paused (SIGSTOP).
    Paused(usize),
    /// A paused node resumed.
    Resumed(usize),
    /// A node said it leads (or does not lead) in a term.
    Role {
        /// The node.
        node: usize,
        /// Its term.
        term: u64,
        /// Whether it leads.
        leader: bool,
    },
    /// A node was cut off from the others (`disconnect 1`).
    Disconnect(usize),
    /// A node was reconnected (`connect 1`).
    Connect(usize),
    /// The servers were split (`partition [0, 1] | [2, 3, 4]`).
    Partition(Vec<Vec<usize>>),
    /// Every server is connected again (`connect all`).
    ConnectAll,
    /// A one-way fault was set (`on`) or lifted: blocked calls, muted
    /// replies, delays, held requests. `key` names the fault, `node` the
    /// node whose lane shows it.
    OneWay {
        /// The fault without its on/off word, e.g. `calls 0->2 blocked`.
        key: String,
        /// The first node it names.
        node: Option<usize>,
        /// Set (true) or lifted (false).
        on: bool,
    },
    /// `one-way faults lifted`: every one-way fault ends.
    OneWayLifted,
    /// A check of the test (`check_one_leader: …`).
    Check,
    /// A node installed a snapshot.
    Snapshot(usize),
    /// `VIOLATION: …`: an invariant broke.
    Violation,
    /// `FAILED: …`: the test's failure.
    Failed,
    /// Anything else.
    Other,
}

/// One line of `timeline.log`.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Seconds since the test began.
    pub t: f64,
    /// The line after its time.
    pub text: String,
    /// What it is.
    pub kind: Kind,
}

/// Reads `timeline.log`; lines without a time are skipped.
pub fn parse_all(text: &str) -> Vec<Event> {
    text.lines().filter_map(parse).collect()
}

/// Reads one line of `timeline.log`.
pub fn parse(line: &str) -> Option<Event> {
    let s = line.trim_start();
    let (num, rest) = s.split_once("s ")?;
    let t: f64 = num.parse().ok()?;
    let text = rest.trim_start().to_string();
    let kind = classify(&text);
    Some(Event { t, text, kind })
}

/// The kind of an event's text.
pub fn classify(text: &str) -> Kind {
    let words: Vec<&str> = text.split_whitespace().collect();
    let num = |i: usize| words.get(i).and_then(|w| w.trim_end_matches([':', ',']).parse::<usize>().ok());
    match words.as_slice() {
        ["begin", ..] => Kind::Begin,
        ["passed", ..] => Kind::Passed,
        ["VIOLATION:", ..] => Kind::Violation,
        ["FAILED:", ..] => Kind::Failed,
        ["connect", "all"] => Kind::ConnectAll,
        ["connect", _] if num(1).is_some() => Kind::Connect(num(1).unwrap_or_default()),
        ["disconnect", _] if num(1).is_some() => Kind::Disconnect(num(1).unwrap_or_default()),
        ["partition", ..] => Kind::Partition(groups(&text["partition".len()..])),
        ["one-way", "faults", "lifted"] => Kind::OneWayLifted,
        [w, ..] if w.starts_with("check") => Kind::Check,
        ["node", _, "started", ..] if num(1).is_some() => Kind::Started(num(1).unwrap_or_default()),
        ["node", _, "killed", ..] | ["node", _, "exited", ..] if num(1).is_some() => {
            Kind::Down(num(1).unwrap_or_default())
        }
        ["node", _, "paused"] if num(1).is_some() => Kind::Paused(num(1).unwrap_or_default()),
        ["node", _, "resumed"] if num(1).is_some() => Kind::Resumed(num(1).unwrap_or_default()),
        ["node", _, "installed", "a", "snapshot", ..] if num(1).is_some() => {
            Kind::Snapshot(num(1).unwrap_or_default())
        }
        ["node", _, "leads", "in", "term", t] | ["node", _, "does", "not", "lead", "in", "term", t] => {
            match (num(1), t.parse()) {
                (Some(node), Ok(term)) => Kind::Role { node, term, leader: words[2] == "leads" },
                _ => Kind::Other,
            }
        }
        _ => one_way(text).unwrap_or(Kind::Other),
    }
}

/// `mute 1 true`, `calls 0->2 blocked true`, `replies 2->0 delayed 150ms`,
/// `Raft.AppendEntries calls 0->1 held false`, `clerk 3 calls blocked true`,
/// `clerk 3 replies dropped false`: the last word says on or off.
fn one_way(text: &str) -> Option<Kind> {
    let (key, last) = text.rsplit_once(' ')?;
    let on = match last {
        "true" => true,
        "false" | "0ns" | "0s" => false,
        d if key.ends_with("delayed") => !d.starts_with('0'),
        _ => return None,
    };
    let fault_words = ["mute", "blocked", "delayed", "held", "dropped"];
    if !fault_words.iter().any(|w| key.contains(w)) {
        return None;
    }
    let node = if key.starts_with("clerk") {
        None
    } else {
        key.split(|c: char| !c.is_ascii_digit()).find(|w| !w.is_empty()).and_then(|w| w.parse().ok())
    };
    Some(Kind::OneWay { key: key.to_string(), node, on })
}

/// `[0, 1] | [2, 3, 4]` → `[[0, 1], [2, 3, 4]]`.
fn groups(s: &str) -> Vec<Vec<usize>> {
    s.split('|')
        .map(|g| g.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verbs_texts_are_recognised() {
        let k = |s: &str| classify(s);
        assert_eq!(k("node 2 started (pid 77, incarnation 4)"), Kind::Started(2));
        assert_eq!(k("node 1 killed (pid 12)"), Kind::Down(1));
        assert_eq!(k("node 1 exited unexpectedly"), Kind::Down(1));
        assert_eq!(k("node 0 leads in term 7"), Kind::Role { node: 0, term: 7, leader: true });
        assert_eq!(k("node 3 does not lead in term 8"), Kind::Role { node: 3, term: 8, leader: false });
        assert_eq!(k("partition [0, 1] | [2, 3, 4]"), Kind::Partition(vec![vec![0, 1], vec![2, 3, 4]]));
        assert_eq!(k("disconnect 4"), Kind::Disconnect(4));
        assert_eq!(k("connect all"), Kind::ConnectAll);
        assert_eq!(k("check_one_leader: node 1 leads term 2"), Kind::Check);
        assert_eq!(k("FAILED: expected one leader"), Kind::Failed);
        assert_eq!(
            k("calls 0->2 blocked true"),
            Kind::OneWay { key: "calls 0->2 blocked".into(), node: Some(0), on: true }
        );
        assert_eq!(
            k("replies 2->0 delayed 0ns"),
            Kind::OneWay { key: "replies 2->0 delayed".into(), node: Some(2), on: false }
        );
        assert_eq!(k("unreliable true"), Kind::Other);
        assert_eq!(k("node 1: RPC handlers in flight at the end: Raft.X ×1"), Kind::Other);
    }

    #[test]
    fn lines_parse_with_their_time() {
        let e = parse("  12.500000s  node 0 paused").unwrap();
        assert_eq!((e.t, e.kind), (12.5, Kind::Paused(0)));
        // The older millisecond format reads too.
        assert_eq!(parse("   1.250s  begin Test (2A)").unwrap().t, 1.25);
        assert!(parse("garbage").is_none());
    }
}
