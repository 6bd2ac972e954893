//! What the tester (`labs`) and the grader agree on, each defined once here:
//! the exit statuses of a `labs` run, the environment variables it reads,
//! the rows of `labs --catalogue` and of `labs --labs`, the record a run prints when the kit
//! could not set its test up, the pass proof's line prefix and the names of
//! the files in a test's artifact folder. Both sides use these items, never
//! literals.
//!
//! A run's standard output is the tester's own: nodes write to their log
//! files, and what the tester quotes from those logs it indents and escapes,
//! so no line a node wrote starts with [`SETUP_PREFIX`] or [`PROOF_PREFIX`]
//! (the proof itself, its signing and checking, is `runner::proof`).

use serde::{Deserialize, Serialize};

mod lab;
pub use lab::{GroupRow, LabRow};

/// Exit statuses of a `labs` run.
pub mod exit {
    /// Every test it ran passed.
    pub const PASSED: i32 = 0;
    /// Tests run one after another (libtest's status): a test failed, or
    /// the tester's watchdog stopped it at its time limit.
    pub const FAILED: i32 = 101;
    /// Tests run in processes of their own (`--jobs`, `--repeat`): a run
    /// failed.
    pub const RUNS_FAILED: i32 = 1;
    /// The command line was wrong.
    pub const USAGE: i32 = 2;
    /// The kit could not set a test up: not a verdict on the code under
    /// test. The run printed a [`crate::SetupFailure`] record.
    pub const SETUP: i32 = 3;
}

/// Environment variables a `labs` run reads.
pub mod env {
    /// The seed of the test's random choices (decimal).
    pub const SEED: &str = "LAB_SEED";
    /// The folder the test's logs, traces and pages go to.
    pub const ARTIFACTS: &str = "LAB_ARTIFACTS";
    /// The `node` binary the test starts (a submission's).
    pub const NODE: &str = "LAB_NODE";
    /// Keep a passing test's artifacts too.
    pub const KEEP: &str = "LAB_KEEP";
    /// Write every proxied call to `network.log` among the artifacts.
    pub const TRACE_NET: &str = "LAB_TRACE_NET";
    /// The file descriptor on which the run reads the grader's secret, to
    /// sign its pass (the proof).
    pub const PROOF_FD: &str = "LAB_PROOF_FD";
    /// The path of `bwrap`: set, the run's nodes start sandboxed.
    pub const SANDBOX: &str = "LAB_SANDBOX";
}

/// The names of the files the tester writes into a test's artifact folder
/// (`<LAB_ARTIFACTS>/<test id>/`), which the grader's report links.
pub mod artifacts {
    /// The names of the files the kit itself wrote there, one a line, so
    /// that a report tells the kit's pages from a node's (`runner::manifest`).
    pub const MANIFEST: &str = "kit-views.txt";
    /// The harness's events file.
    pub const TIMELINE_LOG: &str = "timeline.log";
    /// The applies/commits/RPC-rates file.
    pub const ACTIVITY_LOG: &str = "activity.log";
    /// The network trace (written with `LAB_TRACE_NET=1`).
    pub const NETWORK_LOG: &str = "network.log";
    /// The visual timeline of the run.
    pub const TIMELINE_HTML: &str = "timeline.html";
    /// The linearizability checker's view of a KV test's history (written
    /// only when the history is not linearizable).
    pub const LINEARIZABILITY_HTML: &str = "linearizability.html";
    /// The clerk host's log (KV tests).
    pub const CLERKS_LOG: &str = "clerks.log";
}

/// How the tester's pass proof's line begins on a run's standard output
/// (the line itself: `runner::proof`).
pub const PROOF_PREFIX: &str = "raftlab-proof: ";

/// Points, as the catalogue gives them and a rubric may change them
/// (fractions allowed).
pub type Points = f64;

/// One row of `labs --catalogue` (a JSON array of them).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CatalogueRow {
    /// The name filters match ("InitialElection2A").
    pub id: String,
    /// The group ("2A").
    pub group: String,
    /// What the test prints at its start ("Test (2A): initial election").
    pub title: String,
    /// Default points in the grader's rubric.
    pub points: Points,
    /// Seconds after which the tester stops a run and fails it.
    pub timeout_secs: u64,
}

/// How a [`SetupFailure`] record's line begins on a run's standard output.
pub const SETUP_PREFIX: &str = "raftlab-setup-failure: ";

/// Why the kit could not set a test up. A run that exits [`exit::SETUP`]
/// prints it as one line ([`SetupFailure::line`]); the grader and repeat
/// mode read the last such line back ([`SetupFailure::find`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SetupFailure {
    /// What went wrong, for people ("cannot create /x (LAB_ARTIFACTS): …").
    pub reason: String,
}

impl SetupFailure {
    /// A record for `reason`.
    pub fn new(reason: impl Into<String>) -> SetupFailure {
        SetupFailure { reason: reason.into() }
    }

    /// The record's line (without a newline): [`SETUP_PREFIX`] and JSON in
    /// ASCII alone (every other character as a `\u` escape), so that a line
    /// break in the reason stays inside the line and the escaping readers
    /// apply to captured output (of hidden and control characters) leaves
    /// the record as it was.
    pub fn line(&self) -> String {
        let json = serde_json::to_string(self).expect("a setup record serializes");
        let mut line = String::with_capacity(SETUP_PREFIX.len() + json.len());
        line.push_str(SETUP_PREFIX);
        for c in json.chars() {
            if c.is_ascii() {
                line.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    line.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        line
    }

    /// The last record in a run's output; `None` if it printed none or
    /// its last one does not parse.
    pub fn find(output: &str) -> Option<SetupFailure> {
        let line = output.lines().rev().find_map(|l| l.trim_end().strip_prefix(SETUP_PREFIX))?;
        serde_json::from_str(line).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_through_its_line_even_with_line_breaks() {
        let record = SetupFailure::new("cannot create /x\nsecond line: \"quoted\"");
        let output = format!("noise\n{}\nmore noise\n", record.line());
        assert_eq!(record.line().lines().count(), 1);
        assert_eq!(SetupFailure::find(&output), Some(record));
    }

    #[test]
    fn a_line_is_ascii_whatever_the_reason_holds() {
        let record = SetupFailure::new("\u{1b}]0;title\u{7} \u{202e} ★ 𝄞 tab\tend");
        let line = record.line();
        assert!(line.is_ascii(), "{line}");
        assert!(line.contains("\\ud834\\udd1e"), "a character beyond the BMP is a surrogate pair: {line}");
        assert_eq!(SetupFailure::find(&line), Some(record));
    }

    #[test]
    fn the_last_record_counts_and_indented_or_broken_ones_do_not() {
        let (a, b) = (SetupFailure::new("a"), SetupFailure::new("b"));
        assert_eq!(SetupFailure::find(&format!("{}\n{}\n", a.line(), b.line())), Some(b.clone()));
        assert_eq!(SetupFailure::find(&format!("    {}\n", a.line())), None, "a quoted line is not a record");
        assert_eq!(SetupFailure::find(&format!("{SETUP_PREFIX}{{not json\n")), None);
        assert_eq!(SetupFailure::find("labs: the kit could not set the test up: x\n"), None);
    }

    #[test]
    fn a_catalogue_row_reads_the_json_labs_writes() {
        let json = r#"{"id":"A2A","group":"2A","title":"Test (2A): a","points":5,"timeout_secs":150}"#;
        let row: CatalogueRow = serde_json::from_str(json).unwrap();
        assert_eq!((row.id.as_str(), row.points), ("A2A", 5.0));
        let back: CatalogueRow = serde_json::from_str(&serde_json::to_string(&row).unwrap()).unwrap();
        assert_eq!(back, row);
    }
}
