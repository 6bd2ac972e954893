//! The debugging subcommands of `labs`, always at hand where the tests are:
//!
//! ```text
//! labs logs DIR [--peer 0,2] [--level debug] [--topic election,append]
//!               [--from 3.5] [--to 6] [--color auto|always|never] [--width N] [--no-events] [--net]
//! labs timeline DIR        write DIR/timeline.html (a failing test writes it itself)
//! ```
//!
//! `DIR` is a test's artifact folder (printed when a test fails; with
//! `LAB_ARTIFACTS=dir`, `dir/<test>`). The logic is `harness::artifacts`.

use clap::{Parser, ValueEnum};
use harness::artifacts::logline::Level;
use harness::artifacts::merge::{self, Filter};
use harness::artifacts::render::{self, Style};
use harness::artifacts::topics::Topics;
use harness::artifacts::{Folder, NETWORK_LOG, TIMELINE_LOG, events, network_as_logs, page};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Output width when it is neither a terminal nor given.
const DEFAULT_WIDTH: usize = 200;

/// When to colour the output.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Merge a failed test's logs into one time-ordered view: a column per
/// node, the harness's events across all columns.
#[derive(Parser, Debug)]
#[command(name = "labs logs")]
struct LogsArgs {
    /// The test's artifact folder (holding timeline.log and n0.log, n1.log, …).
    dir: PathBuf,
    /// Only these nodes' lines (comma-separated indices).
    #[arg(long, value_delimiter = ',')]
    peer: Option<Vec<usize>>,
    /// Only lines at this level or above: trace, debug, info, warn, error.
    #[arg(long)]
    level: Option<String>,
    /// Only lines about these topics: election, append, snapshot, persist, apply, kv.
    #[arg(long)]
    topic: Option<String>,
    /// From this time on (seconds since the test began).
    #[arg(long)]
    from: Option<f64>,
    /// Up to this time (seconds since the test began).
    #[arg(long)]
    to: Option<f64>,
    /// Colour the output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Width of the output (default: the terminal's, else 200).
    #[arg(long)]
    width: Option<usize>,
    /// Leave out the harness's events (crashes, partitions, checks, …).
    #[arg(long)]
    no_events: bool,
    /// Add network.log's decisions (LAB_TRACE_NET=1), as TRACE lines in the caller's column.
    #[arg(long)]
    net: bool,
}

/// `labs logs …` (`args` without the program name); returns the exit code.
pub fn logs(args: Vec<String>) -> i32 {
    let a = LogsArgs::parse_from(std::iter::once("labs logs".to_string()).chain(args));
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match run_logs(&a, terminal, &mut out).and_then(|()| out.flush().map_err(|e| e.to_string())) {
        Ok(()) => 0,
        Err(e) if e.contains("Broken pipe") => 0,
        Err(e) => {
            eprintln!("labs logs: {e}");
            2
        }
    }
}

/// Writes the merged view to `out` (`terminal`: whether it is one). What
/// the nodes wrote arrives escaped ([`harness::artifacts::Folder`] reads
/// every file as safe text), so the only terminal codes in the view are the
/// colours added here.
fn run_logs(a: &LogsArgs, terminal: bool, out: &mut impl Write) -> Result<(), String> {
    let level = match &a.level {
        Some(l) => Some(
            Level::parse(l)
                .ok_or_else(|| format!("unknown level {l:?} (trace, debug, info, warn, error)"))?,
        ),
        None => None,
    };
    let topics = a.topic.as_deref().map(Topics::parse_list).transpose()?;
    let folder = Folder::open(&a.dir)?;
    let mut logs = folder.read_logs();
    if a.net {
        let nodes = logs.iter().map(|(n, _)| n + 1).max().unwrap_or(0);
        for (n, text) in network_as_logs(&folder.read(NETWORK_LOG), nodes) {
            logs.push((n, text));
        }
    }
    let timeline = events::parse_all(&folder.read(TIMELINE_LOG));
    let filter =
        Filter { peers: a.peer.clone(), level, topics, from: a.from, to: a.to, no_events: a.no_events };
    let records = merge::merge(&logs, &timeline, &filter);
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match a.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    };
    let width = a.width.or_else(|| terminal.then(render::terminal_width).flatten()).unwrap_or(DEFAULT_WIDTH);
    let mut columns: Vec<usize> =
        logs.iter().map(|(n, _)| *n).filter(|n| a.peer.as_ref().is_none_or(|p| p.contains(n))).collect();
    columns.dedup();
    render::render(&records, &Style { color, width, columns }, out).map_err(|e| e.to_string())
}

/// Write a test's `timeline.html` from its artifact folder.
#[derive(Parser, Debug)]
#[command(name = "labs timeline")]
struct TimelineArgs {
    /// The test's artifact folder.
    dir: PathBuf,
}

/// `labs timeline DIR`; returns the exit code.
pub fn timeline(args: Vec<String>) -> i32 {
    let a = TimelineArgs::parse_from(std::iter::once("labs timeline".to_string()).chain(args));
    match page::write(&a.dir) {
        Ok(path) => {
            println!("{}", path.display());
            0
        }
        Err(e) => {
            eprintln!("labs timeline: {e}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merged_view_shows_what_nodes_wrote_escaped_and_only_its_own_colours() {
        let dir = tempfile::tempdir().unwrap();
        let log = b"  0.100000s  INFO raft: \x1b[2J\x1b]0;owned\x07\r\xff\xe2\x80\xae term=1\n";
        std::fs::write(dir.path().join("n0.log"), log).unwrap();
        std::fs::write(dir.path().join("n1.log"), "  0.200000s  WARN raft: honest ★\tline\n").unwrap();
        std::fs::write(dir.path().join(TIMELINE_LOG), "  0.300000s  VIOLATION: node 1: \x1b[31mred\n")
            .unwrap();
        let view = |color: &str| {
            let args = ["logs", "--color", color, "--width", "120"].map(String::from).into_iter();
            let a = LogsArgs::parse_from(args.chain([dir.path().display().to_string()]));
            let mut out = Vec::new();
            run_logs(&a, false, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let plain = view("never");
        assert!(plain.contains(r"raft: \x1b[2J\x1b]0;owned\x07\r\xff\u{202e} term=1"), "{plain}");
        assert!(plain.contains("raft: honest ★\tline"), "{plain}");
        assert!(plain.contains(r"VIOLATION: node 1: \x1b[31mred"), "{plain}");
        assert!(!plain.contains('\x1b') && !plain.contains('\r') && !plain.contains('\u{202e}'));
        let coloured = view("always");
        assert!(coloured.contains("\x1b[33mraft: honest"), "the kit's own colours stay");
        assert!(coloured.contains(r"raft: \x1b[2J"), "{coloured}");
        let without_kit_colours = coloured.replace("\x1b[0m", "").replace("\x1b[1m", "");
        for code in ["\x1b[2J", "\x1b]", "\x07", "\r"] {
            assert!(!without_kit_colours.contains(code), "{code:?} came from a node");
        }
    }
}
