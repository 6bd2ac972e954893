//! Running the units side by side, as many at once as the measured load
//! allows (see `runner::load`), each one `labs <id> --exact` process with
//! its own seed, artifact folder, captured output and time limit.
//!
//! Only the exit status, the tester's proof and the time limit decide a
//! run: `labs` exits 0 when its test passed, [`exit::SETUP`] when the kit
//! could not set the test up (an error, not a verdict on the code under
//! test, with the reason in a [`SetupFailure`] record), anything else when
//! it failed.

use crate::plan::{self, Unit};
use crate::progress::Progress;
use crate::result::{Concurrency, Outcome, Run, RunLoad};
use protocol::exit;
use runner::load::schedule::{Job, Met};
use runner::load::{self, Budget, Profile};
use runner::process::Exit;
use runner::test_run::{self, Sandboxing, TestRun};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The largest file a run's processes may write (node logs included): a
/// flood ends the flooding process (SIGXFSZ) instead of filling the disk.
pub const RUN_FILE_SIZE_LIMIT: u64 = 64 * 1024 * 1024;
/// Lines of a run's output kept in the in-memory result.
pub const TAIL_LINES: usize = 40;

/// What every run needs.
pub struct Setup<'a> {
    /// The `labs` binary to run.
    pub labs: &'a Path,
    /// The `node` binary beside it.
    pub node: &'a Path,
    /// The report folder; runs go in its `runs/`.
    pub out: &'a Path,
    /// A time limit for every run, instead of each test's own plus
    /// [`test_run::GRACE_SECS`].
    pub timeout: Option<Duration>,
    /// The seed runs' seeds derive from.
    pub base_seed: u64,
    /// Bubblewrap, when the nodes run sandboxed.
    pub bwrap: Option<&'a Path>,
    /// Whether each run's `labs` gets a mount namespace of its own with a
    /// private `/tmp` (needs root): then not even a run killed at its time
    /// limit leaves its test directory behind in the real `/tmp`.
    pub private_tmp: bool,
}

/// A test as the runner needs it.
pub struct TestSpec {
    /// Catalogue id.
    pub id: String,
    /// The test's own time limit.
    pub timeout_secs: u64,
}

/// How runs are scheduled: the budget, and what each test costs.
pub struct Schedule {
    /// What may run at once.
    pub budget: Budget,
    /// The idle cores measured before the first run, when measured.
    pub idle_cores: Option<f64>,
    /// Each test's CPU share, refined as runs finish.
    pub profile: Mutex<Profile>,
}

impl Schedule {
    /// `-j N` when given, else the measured budget, with `profile`.
    pub fn new(jobs: Option<usize>, profile: Profile) -> Schedule {
        let (budget, idle_cores) = Budget::choose(jobs);
        Schedule { budget, idle_cores, profile: Mutex::new(profile) }
    }

    /// The profile, whoever held it last.
    pub fn profile(&self) -> std::sync::MutexGuard<'_, Profile> {
        self.profile.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The wall time to expect of a run of `test`: the profile's, else
    /// half its time limit. Runs are started longest first.
    pub fn expected_secs(&self, test: &TestSpec) -> f64 {
        self.profile().secs(&test.id).unwrap_or(test.timeout_secs as f64 / 2.0)
    }

    /// What a run of `test` cost and met: its profile is refined with it
    /// (unless it never ran a test) and its load completed.
    pub fn learn(&self, test: &TestSpec, run: &mut Run, met: Met) {
        if let Some(cpu) = run.load.map(|l| l.cpu_secs) {
            if run.outcome.judged() {
                self.profile().learn(&test.id, cpu, run.secs);
            }
            run.load = Some(RunLoad {
                cpu_secs: cpu,
                running: met.running,
                delay_p99_ms: met.delays.p99_ms,
                delay_max_ms: met.delays.max_ms,
            });
        }
    }
}

/// Runs every unit and returns its run, in the order of `units`, and how
/// they were scheduled: by `runner::load::schedule`, longest first.
pub fn execute(
    setup: &Setup,
    schedule: &Schedule,
    tests: &[TestSpec],
    units: &[Unit],
    progress: &Progress,
) -> (Vec<(Unit, Run)>, Concurrency) {
    let jobs = units.iter().map(|u| Job::expected(*u, schedule.expected_secs(&tests[u.test]))).collect();
    let mut results: Vec<(Unit, Run)> = Vec::new();
    let stats = load::schedule::run(
        schedule.budget,
        schedule.idle_cores,
        jobs,
        |u| schedule.profile().share(&tests[u.test].id),
        |u| {
            let test = &tests[u.test];
            progress.started(&test.id, u.iteration);
            run_test(setup, test, u.iteration, &RunFiles::graded(&test.id, u.iteration))
        },
        |u, mut run, met| {
            schedule.learn(&tests[u.test], &mut run, met);
            progress.finished(&tests[u.test].id, &run);
            results.push((*u, run));
            Vec::new()
        },
    );
    let order = |u: &Unit| units.iter().position(|x| x == u);
    results.sort_by_key(|(u, _)| order(u));
    (results, Concurrency::from(&stats))
}

/// The folder of one run, relative to the report folder.
pub fn run_dir(test: &str, iteration: u32) -> PathBuf {
    Path::new("runs").join(test_run::safe_name(test)).join(iteration.to_string())
}

/// Where one run's files go, relative to the report folder.
pub struct RunFiles {
    /// The run's captured output.
    pub output: PathBuf,
    /// The folder `LAB_ARTIFACTS` names: a failing test copies its test
    /// directory to `<artifacts>/<test id>/`.
    pub artifacts: PathBuf,
}

impl RunFiles {
    /// A grading's: `output.txt` and `artifacts/` in [`run_dir`].
    pub fn graded(test: &str, iteration: u32) -> RunFiles {
        let dir = run_dir(test, iteration);
        RunFiles { output: dir.join("output.txt"), artifacts: dir.join("artifacts") }
    }
}

/// Runs `labs <test> --exact` once, as the `iteration`-th run of `test`
/// (its seed derives from both), with its output and artifacts where
/// `files` says, and judges it: only the exit status, the tester's proof
/// and the time limit decide.
pub fn run_test(setup: &Setup, test: &TestSpec, iteration: u32, files: &RunFiles) -> Run {
    let seed = plan::seed(setup.base_seed, &test.id, iteration);
    let artifacts = setup.out.join(&files.artifacts);
    let limit = setup.timeout.unwrap_or_else(|| test_run::limit(test.timeout_secs));
    let run = TestRun {
        tester: setup.labs,
        id: &test.id,
        seed,
        artifacts: &artifacts,
        output: &setup.out.join(&files.output),
        limit,
        node: Some(setup.node),
        args: &[],
        sandbox: setup.bwrap.map_or(Sandboxing::Off, Sandboxing::Bwrap),
        private_tmp: setup.private_tmp,
        file_size_limit: Some(RUN_FILE_SIZE_LIMIT),
        prove: true,
        label: format!("{}-{iteration}", test.id),
    };
    let done = match test_run::run(&run) {
        Ok(d) => d,
        Err(reason) => return Run::not_run(iteration, seed, reason),
    };
    // The scheduler fills in the rest of the load.
    let load = Some(RunLoad { cpu_secs: done.cpu_secs, running: 1, delay_p99_ms: 0.0, delay_max_ms: 0.0 });
    let outcome = match done.exit {
        Exit::Code(0) if done.proof.is_some() => Outcome::Passed,
        Exit::Code(0) => Outcome::Unproven,
        Exit::Code(exit::SETUP) => Outcome::Error { reason: setup_reason(done.setup_reason()) },
        Exit::Code(c) => Outcome::Failed { code: Some(c), signal: None },
        Exit::Signal(s) => Outcome::Failed { code: None, signal: Some(s) },
        Exit::TimedOut => Outcome::TimedOut { limit_secs: limit.as_secs() },
    };
    let kept = std::fs::read_dir(&artifacts).map(|mut d| d.next().is_some()).unwrap_or(false);
    Run {
        iteration,
        seed,
        secs: done.secs,
        output: Some(files.output.to_string_lossy().into_owned()),
        tail: done.capture.tail_lines(TAIL_LINES),
        artifacts: kept.then(|| files.artifacts.to_string_lossy().into_owned()),
        load,
        suspicious: done
            .proof
            .filter(|_| outcome.passed())
            .and_then(|millis| disagreement(millis, done.secs)),
        outcome,
    }
}

/// How much longer than the run's wall time the tester's own record of a
/// test may be before the two disagree: the two clocks are read a few
/// milliseconds apart, the tester's inside the run.
const RECORD_SLACK_SECS: f64 = 0.25;

/// Why a proven pass is suspicious, if it is: the tester's signed record of
/// the test's time (`millis`) is longer than the run lasted (`wall_secs`),
/// which no honest run can do. A fast pass alone is no suspicion: the
/// tester itself ran the test and vouched for it.
fn disagreement(millis: u64, wall_secs: f64) -> Option<String> {
    let recorded = millis as f64 / 1000.0;
    (recorded > wall_secs + RECORD_SLACK_SECS).then(|| {
        format!(
            "the tester's signed record says the test took {recorded:.2} s, but the run lasted only \
             {wall_secs:.2} s (the two records disagree)"
        )
    })
}

/// Why the kit could not set a run's test up, from the reason its
/// `SetupFailure` record gave, if it printed one.
fn setup_reason(why: Option<String>) -> String {
    let why = why.unwrap_or_else(|| "it printed no reason".into());
    format!("the kit could not set the test up (exit status {}): {why}", exit::SETUP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_is_suspicious_only_when_the_records_disagree() {
        assert_eq!(disagreement(850, 0.86), None, "a fast honest pass");
        assert_eq!(disagreement(31_000, 31.2), None);
        assert_eq!(disagreement(1_100, 1.0), None, "within the slack");
        let why = disagreement(30_000, 2.0).expect("a 30 s test over in 2 s");
        assert!(why.contains("30.00 s") && why.contains("2.00 s"), "{why}");
    }
    use crate::selfcheck::units::{Judgement, Ran, judge};

    /// A runner that fails to set its test up, as `labs` does without a node binary.
    fn setup_failing_labs(dir: &Path) -> PathBuf {
        let labs = dir.join("labs");
        let record = protocol::SetupFailure::new("LAB_NODE=/nope is not a file").line();
        let script = format!("#!/bin/sh\necho '{record}'\nexit 3\n");
        std::fs::write(&labs, script).unwrap();
        std::fs::set_permissions(&labs, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        labs
    }

    #[test]
    fn what_a_run_printed_reaches_its_output_file_and_result_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let labs = dir.path().join("labs");
        let script =
            "#!/bin/sh\nprintf -- '---- X ----\\nnode 0: \\033[2J\\r\\342\\200\\256\\377ok\\n'\nexit 101\n";
        std::fs::write(&labs, script).unwrap();
        std::fs::set_permissions(&labs, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let setup = Setup {
            labs: &labs,
            node: Path::new("/nope"),
            out: dir.path(),
            timeout: Some(Duration::from_secs(20)),
            base_seed: 1,
            bwrap: None,
            private_tmp: false,
        };
        let test = TestSpec { id: "X".into(), timeout_secs: 10 };
        let run = run_test(&setup, &test, 1, &RunFiles::graded("X", 1));
        let shown = r"node 0: \x1b[2J\r\u{202e}\xffok";
        assert_eq!(run.tail, format!("---- X ----\n{shown}"));
        assert!(run.reason().ends_with(shown), "{}", run.reason());
        let output = std::fs::read_to_string(dir.path().join(RunFiles::graded("X", 1).output)).unwrap();
        assert_eq!(output, format!("---- X ----\n{shown}\n"));
    }

    #[test]
    fn a_run_the_kit_could_not_set_up_is_an_error_and_no_kill() {
        let dir = tempfile::tempdir().unwrap();
        let labs = setup_failing_labs(dir.path());
        let setup = Setup {
            labs: &labs,
            node: Path::new("/nope"),
            out: dir.path(),
            timeout: Some(Duration::from_secs(20)),
            base_seed: 1,
            bwrap: None,
            private_tmp: false,
        };
        let test = TestSpec { id: "StepDown2A".into(), timeout_secs: 10 };
        let run = run_test(&setup, &test, 1, &RunFiles::graded("StepDown2A", 1));
        match &run.outcome {
            Outcome::Error { reason } => {
                assert!(reason.ends_with("LAB_NODE=/nope is not a file"), "{reason}")
            }
            other => panic!("expected an error, got {other:?}"),
        }
        assert!(!run.outcome.judged());
        assert_eq!(
            judge(&[Some(Ran { run, unmatched: Vec::new() })], &[]),
            Judgement::Error(0),
            "the self-check counts it as an error, not a kill"
        );
    }
}
