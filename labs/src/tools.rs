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
    match run_logs(&a) {
        Ok(()) => 0,
        Err(e) if e.contains("Broken pipe") => 0,
        Err(e) => {
            eprintln!("labs logs: {e}");
            2
        }
    }
}

fn run_logs(a: &LogsArgs) -> Result<(), String> {
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
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
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
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    render::render(&records, &Style { color, width, columns }, &mut out)
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
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
