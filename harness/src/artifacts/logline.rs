//! One line of a node's log (`nN.log`), as `tracing-subscriber`'s text
//! format writes it with the node's timer:
//!
//! ```text
//!   1.234567s DEBUG raft::election: became candidate peer=0 term=3
//!   ^ seconds since the test began (control::clock)
//!              ^ level  ^ target (the module)  ^ message, then fields
//! ```
//!
//! Only the text is read: students log with `tracing` as they like, and the
//! fields the viewer understands are picked up by name ([`FIELD_TERM`],
//! [`FIELD_TOPIC`]). Lines without a time (a panic message, the harness's
//! `=== incarnation N ===`, a multi-line message's continuation) take the
//! time of the line before them.

use super::topics::Topics;

/// The field whose value is a Raft term: `term=3`.
pub const FIELD_TERM: &str = "term";
/// The field that names a line's topics outright: `topic=election`.
pub const FIELD_TOPIC: &str = "topic";

/// A `tracing` level, least severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `TRACE`
    Trace,
    /// `DEBUG`
    Debug,
    /// `INFO`
    Info,
    /// `WARN`
    Warn,
    /// `ERROR`
    Error,
}

impl Level {
    /// The level named `s` (any case), if it is one.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_uppercase().as_str() {
            "TRACE" => Level::Trace,
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARN" => Level::Warn,
            "ERROR" => Level::Error,
            _ => return None,
        })
    }

    /// Its name, five characters wide.
    pub fn tag(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => " INFO",
            Level::Warn => " WARN",
            Level::Error => "ERROR",
        }
    }
}

/// A parsed line, borrowing its text.
#[derive(Debug, PartialEq)]
pub struct LogLine<'a> {
    /// Seconds since the test began; `None` if the line has no time.
    pub t: Option<f64>,
    /// Its level; `None` if it has none.
    pub level: Option<Level>,
    /// What follows the level (spans, target, message, fields), or the
    /// whole line if it has no time.
    pub body: &'a str,
    /// The `term=` field, if any.
    pub term: Option<u64>,
    /// What the line is about.
    pub topics: Topics,
}

/// Parses one line.
pub fn parse(line: &str) -> LogLine<'_> {
    let (t, rest) = match time_prefix(line) {
        Some((t, rest)) => (Some(t), rest),
        None => (None, line),
    };
    let (level, body) = match t.and_then(|_| level_prefix(rest)) {
        Some((level, body)) => (Some(level), body),
        None => (None, rest.trim_start()),
    };
    let level = level.or_else(|| body.contains("panicked").then_some(Level::Error));
    let term = field(body, FIELD_TERM).and_then(|v| v.parse().ok());
    let topics = field(body, FIELD_TOPIC)
        .and_then(|v| Topics::parse_list(v.trim_matches('"')).ok())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| Topics::guess(body));
    LogLine { t, level, body, term, topics }
}

/// `   1.234567s rest` → (1.234567, "rest"): digits, a point, digits, `s`,
/// then a space.
fn time_prefix(line: &str) -> Option<(f64, &str)> {
    let s = line.trim_start_matches(' ');
    let end = s.find('s')?;
    let num = &s[..end];
    if !num.contains('.') || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let rest = s[end + 1..].strip_prefix(' ')?;
    Some((num.parse().ok()?, rest))
}

fn level_prefix(rest: &str) -> Option<(Level, &str)> {
    let rest = rest.trim_start_matches(' ');
    let word_end = rest.find(' ').unwrap_or(rest.len());
    // As the node's formatter writes it: upper case only.
    let word = &rest[..word_end];
    let level = Level::parse(word).filter(|_| !word.bytes().any(|b| b.is_ascii_lowercase()))?;
    Some((level, rest[word_end..].trim_start_matches(' ')))
}

/// The value of field `name` in `body`: `name=value` as a whole word
/// (after a space, `{`, `,` or at the start), the value ending at a space,
/// `,` or `}` (or, quoted, at its closing quote).
pub fn field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let bytes = body.as_bytes();
    let mut from = 0;
    while let Some(pos) = body[from..].find(name) {
        let at = from + pos;
        from = at + name.len();
        let starts_word = at == 0 || matches!(bytes[at - 1], b' ' | b'{' | b',');
        if !starts_word || bytes.get(from) != Some(&b'=') {
            continue;
        }
        let value = &body[from + 1..];
        if let Some(quoted) = value.strip_prefix('"') {
            return Some(&quoted[..quoted.find('"').unwrap_or(quoted.len())]);
        }
        let end = value.find([' ', ',', '}']).unwrap_or(value.len());
        return Some(&value[..end]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracing_line_parses() {
        let l = parse("  1.234567s DEBUG raft::election: became candidate peer=0 term=3");
        assert_eq!(l.t, Some(1.234567));
        assert_eq!(l.level, Some(Level::Debug));
        assert_eq!(l.body, "raft::election: became candidate peer=0 term=3");
        assert_eq!(l.term, Some(3));
        assert_eq!(l.topics.tag(), "ELECT");
    }

    #[test]
    fn the_old_uptime_format_and_spans_parse() {
        let l = parse("   12.000000100s  WARN append{peer=2 term=14}: raft: slow reply");
        assert_eq!(l.t, Some(12.0000001));
        assert_eq!(l.level, Some(Level::Warn));
        assert_eq!(l.term, Some(14));
    }

    #[test]
    fn untimed_lines_keep_their_text() {
        let l = parse("node 0 panicked: not yet implemented at raft/src/lib.rs:3");
        assert_eq!((l.t, l.level), (None, Some(Level::Error)));
        let l = parse("=== incarnation 2 ===");
        assert_eq!((l.t, l.level, l.body), (None, None, "=== incarnation 2 ==="));
        // A word ending in s is not a time.
        assert_eq!(parse("3s later").t, None);
        assert_eq!(parse("ss").t, None);
    }

    #[test]
    fn fields_are_whole_words() {
        assert_eq!(field("x term=4 y", "term"), Some("4"));
        assert_eq!(field("last_term=9 term=4", "term"), Some("4"));
        assert_eq!(field("{term=5}: hi", "term"), Some("5"));
        assert_eq!(field("interm=5", "term"), None);
        assert_eq!(field(r#"topic="apply,kv" x"#, "topic"), Some("apply,kv"));
    }

    #[test]
    fn a_topic_field_overrides_the_words() {
        let l = parse("  0.5s  INFO sent vote topic=persist");
        assert_eq!(l.topics, Topics::named("persist").unwrap());
    }
}
