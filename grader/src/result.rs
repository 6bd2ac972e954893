//! The one in-memory result of a grading: what was built, and every run of
//! every selected test. Every report is written from it, and it is saved as
//! `grade.json` so that `grader merge` can combine shards.

use crate::rubric::{Policy, Visibility};
use runner::text::truncate_chars;
use serde::{Deserialize, Serialize};

/// The version of the `grade.json` layout; `merge` refuses other versions.
pub const GRADE_FORMAT: u32 = 2;

/// A whole grading (or one shard of it).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Grade {
    /// [`GRADE_FORMAT`].
    pub format: u32,
    /// What was graded: the submission folder, or "reference crates".
    pub submission: String,
    /// The seed every run's seed is derived from.
    pub base_seed: u64,
    /// Runs of each test.
    pub iterations: u32,
    /// Which share of the work this is, if it is one.
    pub shard: Option<Shard>,
    /// How the submission was built.
    pub build: Build,
    /// The selected tests, in catalogue order, with their runs.
    pub tests: Vec<TestReport>,
    /// Wall-clock seconds of the whole grading (the longest shard's, merged).
    pub elapsed_secs: f64,
    /// The binaries that ran, for the replay commands.
    pub labs: String,
    /// The node binary the runs started.
    pub node: String,
    /// How the submission's build and processes were isolated.
    pub isolation: Isolation,
    /// How the runs were scheduled (absent in reports of older graders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
}

/// How untrusted code (the submission's build and every process it starts)
/// was kept from the grader, the tester and the reports.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Isolation {
    /// "sandbox" (bubblewrap, an unprivileged uid, no network, limits) or "none".
    pub mode: String,
    /// What that means, or why there was none.
    pub detail: String,
}

impl Isolation {
    /// Whether the grade ran sandboxed.
    pub fn sandboxed(&self) -> bool {
        self.mode == "sandbox"
    }

    /// One line for every report: "sandbox (…)" or a loud warning.
    pub fn describe(&self) -> String {
        if self.sandboxed() {
            format!("isolation: sandbox ({})", self.detail)
        } else {
            format!(
                "isolation: NONE ({}). Untrusted code ran with the grader's own uid and file system: \
                 a hostile submission could have changed this grade",
                self.detail
            )
        }
    }
}

/// Shard `index` of `count` (1-based), as in `--shard 2/4`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1..=count.
    pub index: u32,
    /// How many shards share the work.
    pub count: u32,
}

/// How the submission was built.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Build {
    /// The outcome.
    pub status: BuildStatus,
    /// Seconds the build took.
    pub secs: f64,
    /// For a failure: the compiler's errors (or the reason); else empty.
    pub message: String,
}

/// The outcome of building a submission.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    /// No submission: the reference crates, built beforehand.
    Reference,
    /// The submission built.
    Built,
    /// The submission did not build.
    Failed,
    /// The build ran past its time limit and was stopped.
    TimedOut,
}

impl Build {
    /// Whether tests could run.
    pub fn ok(&self) -> bool {
        matches!(self.status, BuildStatus::Reference | BuildStatus::Built)
    }
}

/// One selected test and its runs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TestReport {
    /// The catalogue id ("InitialElection2A").
    pub id: String,
    /// The group ("2A").
    pub group: String,
    /// The title the test prints.
    pub title: String,
    /// The most this test can earn.
    pub points: f64,
    /// How its runs are scored.
    pub policy: Policy,
    /// When students see it (Gradescope).
    pub visibility: Visibility,
    /// Its runs, by iteration.
    pub runs: Vec<Run>,
}

/// One run of one test: one `labs <id> --exact` process.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Run {
    /// 1-based.
    pub iteration: u32,
    /// The `LAB_SEED` it ran with.
    pub seed: u64,
    /// What happened.
    pub outcome: Outcome,
    /// Wall-clock seconds.
    pub secs: f64,
    /// Its captured output, relative to the report folder.
    pub output: Option<String>,
    /// The last lines of its output, for the reports.
    pub tail: String,
    /// Its artifact folder (node logs, timeline), relative to the report folder, if it kept any.
    pub artifacts: Option<String>,
    /// Why a passing run looks wrong (for instance faster than any honest
    /// run of its test), for staff to look at; it does not change the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspicious: Option<String>,
    /// What it cost and how busy the machine was while it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<RunLoad>,
}

/// A run's cost and the load it ran under.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct RunLoad {
    /// CPU seconds (user + system) of the run and its nodes.
    pub cpu_secs: f64,
    /// The most runs in progress at once while it ran (itself included).
    pub running: u32,
    /// Scheduling delay while it ran: the 99th percentile, milliseconds.
    pub delay_p99_ms: f64,
    /// The worst scheduling delay while it ran, milliseconds.
    pub delay_max_ms: f64,
}

impl RunLoad {
    /// Whether the machine was busy enough to slow the run's timers.
    pub fn high(&self) -> bool {
        self.delay_p99_ms > runner::load::LOADED_P99_MS
    }
}

/// How the runs were scheduled, and the load they met.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Concurrency {
    /// "measured" (by CPU share and idle cores) or "fixed" (`-j`).
    pub mode: String,
    /// Runs at once, at most (the cap).
    pub max_jobs: u32,
    /// The CPU budget in cores ("measured" only).
    pub budget_cores: Option<f64>,
    /// Idle cores measured before the first run ("measured" only).
    pub idle_cores: Option<f64>,
    /// The most runs that went at once.
    pub peak_running: u32,
    /// Runs at once, averaged over the grading's time.
    pub mean_running: f64,
    /// Times the budget shrank because scheduling delay was high.
    pub backoffs: u32,
    /// Scheduling delay over the whole grading, median, milliseconds.
    pub delay_p50_ms: f64,
    /// Its 99th percentile.
    pub delay_p99_ms: f64,
}

impl From<&runner::load::schedule::Stats> for Concurrency {
    fn from(s: &runner::load::schedule::Stats) -> Concurrency {
        Concurrency {
            mode: if s.budget.measured { "measured" } else { "fixed" }.into(),
            max_jobs: s.budget.max_jobs as u32,
            budget_cores: s.budget.measured.then_some(s.budget.cores),
            idle_cores: s.idle_cores,
            peak_running: s.peak_running,
            mean_running: s.mean_running,
            backoffs: s.backoffs,
            delay_p50_ms: s.delays.p50_ms,
            delay_p99_ms: s.delays.p99_ms,
        }
    }
}

impl Concurrency {
    /// One line for people (as `labs --jobs auto` prints it).
    pub fn describe(&self) -> String {
        let budget = runner::load::Budget {
            cores: self.budget_cores.unwrap_or(f64::INFINITY),
            max_jobs: self.max_jobs as usize,
            measured: self.budget_cores.is_some() && self.idle_cores.is_some(),
        };
        let stats = runner::load::schedule::Stats {
            budget,
            idle_cores: self.idle_cores,
            peak_running: self.peak_running,
            mean_running: self.mean_running,
            backoffs: self.backoffs,
            delays: runner::load::Delays {
                p50_ms: self.delay_p50_ms,
                p99_ms: self.delay_p99_ms,
                ..Default::default()
            },
        };
        stats.describe()
    }
}

/// How a run ended. The process's exit status, the time limit and the
/// tester's proof decide (see `runner::proof`): nothing else the run prints
/// does.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Exit status 0.
    Passed,
    /// Any other exit status, or a signal.
    Failed {
        /// The exit code, if it exited.
        code: Option<i32>,
        /// The signal that ended it, if one did.
        signal: Option<i32>,
    },
    /// Still running at its time limit; its process group was killed.
    TimedOut {
        /// The limit, in seconds.
        limit_secs: u64,
    },
    /// It exited 0 without the tester's proof that its test passed: its
    /// output was not (only) the tester's.
    Unproven,
    /// Never started (the build failed, or the process could not start).
    NotRun {
        /// Why.
        reason: String,
    },
    /// The tester ran but the kit could not set the test up (`labs` exit
    /// status 3: no node binary, no test directory, …): no verdict on the
    /// submission either way.
    Error {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// Whether the run passed.
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }

    /// Whether the test actually ran (its time means something).
    pub fn ran(&self) -> bool {
        !matches!(self, Outcome::NotRun { .. })
    }

    /// Whether the run judged the code under test (passed, failed or timed
    /// out), as opposed to never starting or failing to set its test up.
    pub fn judged(&self) -> bool {
        !matches!(self, Outcome::NotRun { .. } | Outcome::Error { .. })
    }

    /// One phrase for people: "passed", "exit status 101", "timed out after 160 s".
    pub fn describe(&self) -> String {
        match self {
            Outcome::Passed => "passed".into(),
            Outcome::Failed { code: Some(c), .. } => format!("failed (exit status {c})"),
            Outcome::Failed { signal: Some(s), .. } => {
                format!("failed (killed by signal {s}{})", signal_meaning(*s))
            }
            Outcome::Failed { .. } => "failed".into(),
            Outcome::TimedOut { limit_secs } => {
                format!("timed out after {limit_secs} s (process group killed)")
            }
            Outcome::Unproven => {
                "failed: exit status 0 without the tester's proof that the test passed (the run's \
                 output was forged or the tester was replaced)"
                    .into()
            }
            Outcome::NotRun { reason } => format!("not run: {reason}"),
            Outcome::Error { reason } => format!("error, not a verdict: {reason}"),
        }
    }
}

impl Run {
    /// A run that never started, and why.
    pub fn not_run(iteration: u32, seed: u64, reason: impl Into<String>) -> Run {
        Run {
            iteration,
            seed,
            outcome: Outcome::NotRun { reason: reason.into() },
            secs: 0.0,
            output: None,
            tail: String::new(),
            artifacts: None,
            suspicious: None,
            load: None,
        }
    }

    /// The command that replays this run with the same seed.
    pub fn replay(&self, grade: &Grade, test: &str) -> String {
        let (seed, node) = (protocol::env::SEED, protocol::env::NODE);
        format!("{seed}={} {node}={} {} {test} --exact", self.seed, grade.node, grade.labs)
    }

    /// The most telling line of the output: the harness's failure diagnosis
    /// if it printed one. For display only; never decides pass or fail.
    pub fn reason(&self) -> String {
        let mut out = self.outcome.describe();
        if let Some(line) = diagnosis(&self.tail) {
            out.push_str(": ");
            out.push_str(&truncate_chars(&line, 200));
        }
        if let Some(load) = self.load.filter(|l| l.high() && !self.outcome.passed()) {
            out.push_str(&format!(
                " [ran under high load: {} runs at once, scheduling delay p99 {:.0} ms, max {:.0} ms]",
                load.running, load.delay_p99_ms, load.delay_max_ms
            ));
        }
        out
    }
}

/// The harness's diagnosis in a run's output: the first line of libtest's
/// failure section (an unindented "---- Name ----", the last one, then the
/// message; node log tails quoted earlier are indented, so a node cannot
/// forge it), else the first line that looks like a failure.
fn diagnosis(tail: &str) -> Option<String> {
    let lines: Vec<&str> = tail.lines().collect();
    let header = lines.iter().rposition(|l| l.starts_with("---- ") && l.trim_end().ends_with(" ----"));
    if let Some(h) = header
        && let Some(first) = lines[h + 1..].iter().map(|l| l.trim()).find(|l| !l.is_empty())
    {
        return Some(first.to_string());
    }
    let telling = |l: &str| {
        let t = l.trim();
        !t.is_empty()
            && !t.starts_with("test result:")
            && !t.starts_with("failures:")
            && (t.contains("FAILED") || t.contains("panicked") || t.contains("fail:") || t.contains("error"))
    };
    let mut candidates = tail.lines().filter(|l| telling(l)).map(|l| l.trim().to_string());
    let picked = candidates.next();
    // libtest's own "test X ... FAILED" line says nothing; prefer the next telling one.
    if picked.as_deref().is_some_and(|l| l.starts_with("test ") && l.ends_with("FAILED")) {
        return candidates.next().or(picked);
    }
    picked
}

/// What a signal that ended a run usually means.
fn signal_meaning(signal: i32) -> &'static str {
    match signal {
        6 => ", SIGABRT: aborted",
        9 => ", SIGKILL",
        11 => ", SIGSEGV: invalid memory access",
        25 => ", SIGXFSZ: a process wrote a file past the grader's per-file limit, e.g. by flooding its log",
        _ => "",
    }
}

#[cfg(test)]
mod diagnosis_tests {
    use super::diagnosis;

    #[test]
    fn the_failure_section_names_the_diagnosis_and_quoted_logs_cannot_forge_it() {
        let out = "test [2A] X ... seed 1\n  last lines of each node's log:\n      ---- X ----\n      forged reason\n        (os error 2)\nFAILED\n\nfailures:\n\n---- X ----\nnode 0 did not start: node 0 was not ready within 15s\n  last lines\n";
        assert_eq!(diagnosis(out).as_deref(), Some("node 0 did not start: node 0 was not ready within 15s"));
        assert_eq!(
            diagnosis("thread 'main' panicked at x\n").as_deref(),
            Some("thread 'main' panicked at x")
        );
        assert_eq!(diagnosis("all fine\n"), None);
    }
}
