//! The merged view as text: a time and topic tag, then each node's lines in
//! its own column, and the harness's events as rules across all columns.
//!
//! ```text
//!       time topic node 0               node 1               node 2
//!   1.203411 ELECT became candidate
//!   1.204002 ELECT                      granted vote term=2
//!   1.500000 ━━━━━ node 1 killed (pid 4242) ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
//! ```
//!
//! With colour (a terminal), topics, levels and events are coloured; without,
//! the text is the same, plain.

use super::events::Kind;
use super::logline::Level;
use super::merge::Record;
use super::topics::Topics;
use std::io::{self, Write};

/// Width of the time and topic in front of every line.
const PREFIX: usize = 17;
/// The narrowest a column gets: below it, lines wrap into many short pieces.
const MIN_COLUMN: usize = 24;

/// How to lay the view out.
#[derive(Clone, Debug)]
pub struct Style {
    /// Whether to use ANSI colours.
    pub color: bool,
    /// The width of the output, in characters.
    pub width: usize,
    /// The nodes that get a column, left to right.
    pub columns: Vec<usize>,
}

impl Style {
    /// The width of one column.
    pub fn column_width(&self) -> usize {
        (self.width.saturating_sub(PREFIX) / self.columns.len().max(1)).max(MIN_COLUMN)
    }
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BLUE: &str = "\x1b[34m";
const MAGENTA: &str = "\x1b[35m";
const CYAN: &str = "\x1b[36m";

/// Colours of the topics, in the order of [`super::topics::NAMES`].
const TOPIC_COLORS: [&str; 6] = [MAGENTA, BLUE, CYAN, YELLOW, GREEN, BOLD];

/// Writes the header and every record.
pub fn render(records: &[Record<'_>], style: &Style, out: &mut impl Write) -> io::Result<()> {
    let cw = style.column_width();
    let mut line = String::with_capacity(style.width + 64);
    line.push_str(&format!("{:>10} {:<5} ", "time", "topic"));
    for n in &style.columns {
        line.push_str(&format!("{:<cw$}", format!("node {n}")));
    }
    writeln!(out, "{}", line.trim_end())?;
    for r in records {
        line.clear();
        match r.node {
            None => event_line(&mut line, r, style),
            Some(n) => {
                let Some(col) = style.columns.iter().position(|c| *c == n) else { continue };
                node_lines(&mut line, r, col, cw, style.color)
            }
        }
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// A harness event: across all columns, except a role change, which goes
/// in its node's column.
fn event_line(line: &mut String, r: &Record<'_>, style: &Style) {
    let kind = r.event.as_ref().unwrap_or(&Kind::Other);
    if let Kind::Role { node, .. } = kind
        && let Some(col) = style.columns.iter().position(|c| c == node)
    {
        let mut shown = String::from("★ ");
        shown.push_str(r.text);
        let rec = Record { text: &shown, topics: Topics::named("election").unwrap_or_default(), ..copy(r) };
        let color = if style.color { format!("{BOLD}{MAGENTA}") } else { String::new() };
        return node_lines_colored(line, &rec, col, style.column_width(), style.color, &color);
    }
    let color = match kind {
        Kind::Down(_) | Kind::Failed | Kind::Violation => format!("{BOLD}{RED}"),
        Kind::Started(_) | Kind::Resumed(_) | Kind::Connect(_) | Kind::ConnectAll | Kind::OneWayLifted => {
            GREEN.to_string()
        }
        Kind::Paused(_) | Kind::Disconnect(_) | Kind::Partition(_) | Kind::OneWay { .. } => {
            YELLOW.to_string()
        }
        Kind::Begin | Kind::Passed => format!("{BOLD}{BLUE}"),
        _ => CYAN.to_string(),
    };
    if style.color {
        line.push_str(&color);
    }
    push_time(line, r.t);
    line.push_str(" ━━━━━ ");
    line.push_str(r.text);
    line.push(' ');
    let used = PREFIX + r.text.chars().count() + 1;
    for _ in used..style.width {
        line.push('━');
    }
    if style.color {
        line.push_str(RESET);
    }
    line.push('\n');
}

fn copy<'a>(r: &Record<'a>) -> Record<'a> {
    Record { t: r.t, node: r.node, level: r.level, topics: r.topics, text: r.text, event: None }
}

/// A node's line in column `col`, wrapped to the column's width.
fn node_lines(line: &mut String, r: &Record<'_>, col: usize, cw: usize, color: bool) {
    let text_color = match r.level {
        Some(Level::Error) => RED,
        Some(Level::Warn) => YELLOW,
        Some(Level::Debug | Level::Trace) => DIM,
        _ => "",
    };
    node_lines_colored(line, r, col, cw, color, text_color)
}

fn node_lines_colored(
    line: &mut String,
    r: &Record<'_>,
    col: usize,
    cw: usize,
    color: bool,
    text_color: &str,
) {
    let indent = col * cw;
    let room = cw.saturating_sub(1).max(1);
    let mut rest = r.text;
    let mut first = true;
    loop {
        let (piece, more) = split_at_chars(rest, room);
        if first {
            push_time(line, r.t);
            line.push(' ');
            let tag = r.topics.tag();
            if color && let Some(i) = r.topics.first() {
                line.push_str(TOPIC_COLORS[i]);
                line.push_str(&format!("{tag:<5}"));
                line.push_str(RESET);
            } else {
                line.push_str(&format!("{tag:<5}"));
            }
            line.push(' ');
            first = false;
        } else {
            push_spaces(line, PREFIX);
        }
        push_spaces(line, indent);
        if color && !text_color.is_empty() {
            line.push_str(text_color);
            line.push_str(piece);
            line.push_str(RESET);
        } else {
            line.push_str(piece);
        }
        line.push('\n');
        if more.is_empty() {
            break;
        }
        rest = more;
    }
}

fn push_time(line: &mut String, t: f64) {
    use std::fmt::Write as _;
    let _ = write!(line, "{t:10.6}");
}

fn push_spaces(line: &mut String, n: usize) {
    line.extend(std::iter::repeat_n(' ', n));
}

/// The width of the terminal on stdout, if it is one (`COLUMNS` first).
pub fn terminal_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(c);
    }
    let mut size = nix::libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct it is given.
    let ok = unsafe { nix::libc::ioctl(1, nix::libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col as usize)
}

/// The first `n` characters of `s` and the rest.
fn split_at_chars(s: &str, n: usize) -> (&str, &str) {
    if s.len() <= n {
        return (s, "");
    }
    if s.is_ascii() {
        // Break at the last space of the piece when it is not too early.
        return match s[..n].rfind(' ') {
            Some(i) if i > n / 2 => (&s[..i], &s[i + 1..]),
            _ => s.split_at(n),
        };
    }
    match s.char_indices().nth(n) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::{events, merge};

    fn render_plain(width: usize) -> String {
        let logs = vec![
            (0, "  0.100000s  INFO raft: became candidate term=1\n".to_string()),
            (2, "  0.200000s  INFO raft: granted vote to 0 for term 1, a long line that wraps\n".to_string()),
        ];
        let tl =
            events::parse_all("  0.150000s  node 1 killed (pid 9)\n  0.300000s  node 0 leads in term 1\n");
        let recs = merge::merge(&logs, &tl, &merge::Filter::default());
        let mut out = Vec::new();
        render(&recs, &Style { color: false, width, columns: vec![0, 1, 2] }, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn columns_events_and_wrapping() {
        let text = render_plain(17 + 3 * 30);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "      time topic node 0                        node 1                        node 2"
        );
        assert_eq!(lines[1], "  0.100000 ELECT raft: became candidate term=1");
        assert!(lines[2].starts_with("  0.150000 ━━━━━ node 1 killed (pid 9) ━"), "{}", lines[2]);
        assert_eq!(lines[2].chars().count(), 17 + 90);
        // Node 2's line starts in the third column and wraps within it.
        assert_eq!(lines[3], format!("  0.200000 ELECT {}raft: granted vote to 0 for", " ".repeat(60)));
        assert_eq!(lines[4], format!("{}term 1, a long line that", " ".repeat(17 + 60)));
        assert_eq!(lines[5], format!("{}wraps", " ".repeat(17 + 60)));
        // A role change goes in its node's column.
        assert_eq!(lines[6], "  0.300000 ELECT ★ node 0 leads in term 1");
        assert!(!text.contains('\x1b'), "plain text has no colour codes");
    }

    #[test]
    fn wrapping_respects_characters() {
        assert_eq!(split_at_chars("ééé", 2), ("éé", "é"));
        assert_eq!(split_at_chars("abc", 5), ("abc", ""));
        assert_eq!(split_at_chars("ab cdefg", 5), ("ab cd", "efg"), "a space too early is not used");
        assert_eq!(split_at_chars("abcd efgh", 6), ("abcd", "efgh"), "the space is dropped");
    }
}
