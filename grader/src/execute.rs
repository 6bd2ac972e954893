//! Running the units side by side, as many at once as the measured load
//! allows (see `harness::load`), each one `labs <id> --exact` process with
//! its own seed, artifact folder, captured output and time limit.

use crate::plan::{self, Unit};
use crate::process::{self, Exit, Spawned};
use crate::progress::Progress;
use crate::result::{Concurrency, Outcome, Run, RunLoad};
use harness::load::{Budget, Pressure, Probe, Profile};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// Seconds past a test's own time limit (the runner's watchdog) before the
/// grader kills the run: time for the runner to report and exit by itself.
pub const GRACE_SECS: u64 = 10;
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
    /// A time limit for every run, instead of each test's own plus [`GRACE_SECS`].
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
    /// No honest run of the test passes faster.
    pub min_secs: f64,
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
        let (budget, idle_cores) = match jobs {
            Some(j) => (Budget::fixed(j), None),
            None => {
                let (b, idle) = Budget::measured();
                (b, Some(idle))
            }
        };
        Schedule { budget, idle_cores, profile: Mutex::new(profile) }
    }
}

/// How often the scheduler looks at the scheduling delay when no run ends.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// A run in progress.
struct Running {
    unit: Unit,
    share: f64,
    started: f64,
    peak: u32,
}

/// Runs every unit and returns its run, in the order of `units`, and how
/// they were scheduled. Starts the longest runs first, each as soon as it
/// fits the budget beside the runs in progress (a unit that does not fit
/// lets a later, cheaper one go first, but the first unit in line always
/// starts once nothing runs).
pub fn execute(
    setup: &Setup,
    schedule: &Schedule,
    tests: &[TestSpec],
    units: &[Unit],
    progress: &Progress,
) -> (Vec<(Unit, Run)>, Concurrency) {
    let probe = Probe::start();
    let mut pressure = Pressure::default();
    // Longest first (the expected wall time, else half the time limit): the
    // long runs start early and the short ones fill the gaps, so that no
    // long run is left to finish alone at the end.
    let mut queue: VecDeque<Unit> = {
        let profile = schedule.profile.lock().unwrap_or_else(|e| e.into_inner());
        let expected = |u: &Unit| {
            let t = &tests[u.test];
            profile.secs(&t.id).unwrap_or(t.timeout_secs as f64 / 2.0)
        };
        let mut ordered: Vec<Unit> = units.to_vec();
        ordered.sort_by(|a, b| expected(b).total_cmp(&expected(a)));
        ordered.into()
    };
    let mut running: Vec<Running> = Vec::new();
    let mut results: Vec<(Unit, Run)> = Vec::new();
    let (mut peak, mut busy_area, mut last_change) = (0u32, 0.0f64, probe.now());
    std::thread::scope(|s| {
        let (done_tx, done_rx) = std::sync::mpsc::channel::<(Unit, Run)>();
        loop {
            let factor = pressure.factor;
            loop {
                let shares: Vec<f64> = running.iter().map(|r| r.share).collect();
                let profile = schedule.profile.lock().unwrap_or_else(|e| e.into_inner());
                let fits = queue
                    .iter()
                    .position(|u| schedule.budget.admits(factor, &shares, profile.share(&tests[u.test].id)));
                let Some(at) = fits else { break };
                let unit = queue.remove(at).expect("position is in the queue");
                let share = profile.share(&tests[unit.test].id);
                drop(profile);
                let now = probe.now();
                busy_area += running.len() as f64 * (now - last_change);
                last_change = now;
                running.push(Running { unit, share, started: now, peak: 0 });
                let n = running.len() as u32;
                peak = peak.max(n);
                for r in &mut running {
                    r.peak = r.peak.max(n);
                }
                let test = &tests[unit.test];
                progress.started(&test.id, unit.iteration);
                let tx = done_tx.clone();
                s.spawn(move || {
                    let files = RunFiles::graded(&test.id, unit.iteration);
                    let run = run_test(setup, test, unit.iteration, &files);
                    let _ = tx.send((unit, run));
                });
            }
            if running.is_empty() && queue.is_empty() {
                break;
            }
            match done_rx.recv_timeout(LOOK_EVERY) {
                Ok((unit, mut run)) => {
                    let now = probe.now();
                    busy_area += running.len() as f64 * (now - last_change);
                    last_change = now;
                    let at = running.iter().position(|r| r.unit == unit).expect("a finished run was running");
                    let r = running.swap_remove(at);
                    let delays = probe.delays(r.started, now);
                    if let Some(cpu) = run.load.map(|l| l.cpu_secs) {
                        let id = &tests[unit.test].id;
                        if run.outcome.ran() {
                            schedule
                                .profile
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .learn(id, cpu, run.secs);
                        }
                        run.load = Some(RunLoad {
                            cpu_secs: cpu,
                            running: r.peak,
                            delay_p99_ms: delays.p99_ms,
                            delay_max_ms: delays.max_ms,
                        });
                    }
                    progress.finished(&tests[unit.test].id, &run);
                    results.push((unit, run));
                }
                Err(_) => {
                    if schedule.budget.measured {
                        pressure.look(&probe.recent(harness::load::PRESSURE_WINDOW));
                    }
                }
            }
        }
    });
    let elapsed = probe.now();
    let overall = probe.delays(0.0, elapsed);
    let concurrency = Concurrency {
        mode: if schedule.budget.measured { "measured" } else { "fixed" }.into(),
        max_jobs: schedule.budget.max_jobs as u32,
        budget_cores: schedule.budget.measured.then_some(schedule.budget.cores),
        idle_cores: schedule.idle_cores,
        peak_running: peak,
        mean_running: if elapsed > 0.0 { busy_area / elapsed } else { 0.0 },
        backoffs: pressure.backoffs,
        delay_p50_ms: overall.p50_ms,
        delay_p99_ms: overall.p99_ms,
    };
    let order = |u: &Unit| units.iter().position(|x| x == u);
    results.sort_by_key(|(u, _)| order(u));
    (results, concurrency)
}

/// The folder of one run, relative to the report folder.
pub fn run_dir(test: &str, iteration: u32) -> PathBuf {
    let safe: String = test
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    Path::new("runs").join(safe).join(iteration.to_string())
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
    let not_run = |reason: String| Run::not_run(iteration, seed, reason);
    let output_dir = setup.out.join(&files.output).parent().map(Path::to_path_buf);
    for dir in [Some(artifacts.clone()), output_dir].into_iter().flatten() {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return not_run(format!("cannot create {}: {e}", dir.display()));
        }
    }
    let limit = setup.timeout.unwrap_or(Duration::from_secs(test.timeout_secs + GRACE_SECS));
    let secret = match fresh_secret() {
        Ok(s) => s,
        Err(e) => return not_run(format!("cannot read /dev/urandom for the run's secret: {e}")),
    };
    let mut cmd = Command::new(setup.labs);
    cmd.arg(&test.id)
        .arg("--exact")
        .env("LAB_SEED", seed.to_string())
        .env("LAB_ARTIFACTS", &artifacts)
        .env("LAB_NODE", setup.node)
        .env_remove(harness::sandbox::SANDBOX_VAR);
    if let Some(bwrap) = setup.bwrap {
        cmd.env(harness::sandbox::SANDBOX_VAR, bwrap);
    }
    let private_tmp =
        match setup.private_tmp.then(|| crate::isolation::PrivateTmp::new(&artifacts)).transpose() {
            Ok(t) => t,
            Err(e) => return not_run(format!("cannot prepare the run's private /tmp: {e}")),
        };
    let spawned = Spawned {
        cmd,
        label: format!("{}-{iteration}", test.id),
        file_size_limit: Some(RUN_FILE_SIZE_LIMIT),
        private_tmp,
        secret: Some(secret.clone()),
    };
    let done = match process::run(spawned, limit, Some(&setup.out.join(&files.output))) {
        Ok(d) => d,
        Err(e) => return not_run(format!("cannot run {}: {e}", setup.labs.display())),
    };
    let vouched = harness::proof::verify(&done.capture.text(), &secret, &test.id, seed);
    // The scheduler fills in the rest of the load.
    let load = Some(RunLoad { cpu_secs: done.cpu_secs, running: 1, delay_p99_ms: 0.0, delay_max_ms: 0.0 });
    let outcome = match done.exit {
        Exit::Code(0) if vouched => Outcome::Passed,
        Exit::Code(0) => Outcome::Unproven,
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
        suspicious: (outcome.passed() && done.secs < test.min_secs).then(|| {
            format!(
                "passed in {:.2} s, faster than any honest run of this test (at least {:.1} s)",
                done.secs, test.min_secs
            )
        }),
        outcome,
    }
}

/// 32 bytes from the kernel's generator: one run's secret.
fn fresh_secret() -> std::io::Result<Vec<u8>> {
    let mut secret = vec![0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut secret)?;
    Ok(secret)
}
