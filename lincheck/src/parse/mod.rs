//! Readers for the two public history formats (see
//! `shared/data/porcupine/FORMAT.md`): Jepsen etcd logs and KV EDN lines;
//! and for versioned KV EDN lines (the course's 2025+ get/put), the kit's own.

pub mod etcd;
pub mod kv;
pub mod versioned;

use std::collections::HashMap;
use std::path::Path;

use crate::history::{Event, HistoryError, Operation, operations_from_events};

pub use etcd::{parse_etcd, read_etcd_file};
pub use kv::{parse_kv, read_kv_file};
pub use versioned::{parse_versioned, read_versioned_file};

/// A history file that could not be read. Messages start with
/// `file:line:` so editors and people can jump to the spot.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not in the expected format.
    #[error("{file}:{line}: expected {expected}, found {found:?}")]
    Syntax {
        /// The file.
        file: String,
        /// The line number, from 1.
        line: usize,
        /// What the reader expected there.
        expected: String,
        /// What it found.
        found: String,
    },
    /// A line is well-formed but does not fit the history so far: a return
    /// with no open call, or a second open call on one process.
    #[error("{file}:{line}: {problem}")]
    Pairing {
        /// The file.
        file: String,
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// A syntax problem on the current line, before the file and line are known.
#[derive(Debug)]
pub(crate) struct LineError {
    pub(crate) expected: String,
    pub(crate) found: String,
}

impl LineError {
    pub(crate) fn new(expected: impl Into<String>, found: impl Into<String>) -> Self {
        LineError { expected: expected.into(), found: found.into() }
    }

    pub(crate) fn at(self, file: &str, line: usize) -> ParseError {
        ParseError::Syntax { file: file.to_string(), line, expected: self.expected, found: self.found }
    }
}

/// Reads a whole file as text.
pub(crate) fn read(path: &Path) -> Result<String, ParseError> {
    std::fs::read_to_string(path)
        .map_err(|source| ParseError::Io { file: path.display().to_string(), source })
}

/// The operations of a file of one event per line, each parsed by
/// `parse_line` into its event and what it calls (to match a return with
/// its call); blank lines are skipped, errors name `file` and the line.
pub(crate) fn events_by_line<I, O, F: PartialEq + std::fmt::Display>(
    text: &str,
    file: &str,
    parse_line: impl Fn(&str) -> Result<(Event<I, O>, F), LineError>,
) -> Result<Vec<Operation<I, O>>, ParseError> {
    let mut events = Events::new(file);
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (event, what) = parse_line(line).map_err(|e| e.at(file, index + 1))?;
        events.push(index + 1, event, what)?;
    }
    events.finish()
}

/// Collects the events of a file with their line numbers, checks that each
/// return names the operation its process has open, and pairs them up.
pub(crate) struct Events<I, O, F> {
    file: String,
    events: Vec<Event<I, O>>,
    lines: Vec<usize>,
    /// Per process with an open call: what it called (`F`) and on which line.
    open: HashMap<usize, (F, usize)>,
}

impl<I, O, F: PartialEq + std::fmt::Display> Events<I, O, F> {
    pub(crate) fn new(file: &str) -> Self {
        Events { file: file.to_string(), events: Vec::new(), lines: Vec::new(), open: HashMap::new() }
    }

    /// Adds an event read on `line`; `what` identifies the operation so a
    /// return can be matched against its call.
    pub(crate) fn push(&mut self, line: usize, event: Event<I, O>, what: F) -> Result<(), ParseError> {
        use crate::history::EventKind;
        if matches!(event.kind, EventKind::Call(_)) {
            self.open.entry(event.client).or_insert((what, line));
        } else if let Some((called, call_line)) = self.open.remove(&event.client)
            && called != what
        {
            return Err(ParseError::Pairing {
                file: self.file.clone(),
                line,
                problem: format!(
                    "process {} answers {what} but its open call on line {call_line} is {called}",
                    event.client
                ),
            });
        }
        self.events.push(event);
        self.lines.push(line);
        Ok(())
    }

    /// Pairs the events into operations.
    pub(crate) fn finish(self) -> Result<Vec<Operation<I, O>>, ParseError> {
        let lines = self.lines;
        let file = self.file;
        operations_from_events(self.events).map_err(|error| {
            let line = lines[error.event()];
            let problem = match error {
                HistoryError::UnmatchedReturn { client, .. } => {
                    format!("process {client} returns but has no open call")
                }
                HistoryError::AlreadyOpen { client, open, .. } => format!(
                    "process {client} calls again while its call on line {} is still open",
                    lines[open]
                ),
            };
            ParseError::Pairing { file, line, problem }
        })
    }
}
