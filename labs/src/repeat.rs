//! Tests as processes of their own, side by side: `--jobs auto` (by the
//! measured load, as the grader runs them) and repeat mode (run a group or
//! one test many times, as 6.824 students do with dstest, because
//! concurrency bugs show up one run in fifty).
//!
//! ```text
//! labs --jobs auto 2B                   every 2B test once        (make test-2B JOBS=auto)
//! labs --repeat 50 2B                   every 2B test 50 times    (make test-2B REPEAT=50)
//! labs --repeat 50 --jobs 2 2B          … two at a time, whatever they cost
//! ```
//!
//! Each run is this binary again, `<test> --exact`, with its own `LAB_SEED`
//! and `LAB_ARTIFACTS=<root>/run-K`, stopped at the test's time limit plus
//! a grace as the grader stops it (`runner::test_run`, the grader's path);
//! its output, capped and escaped, goes to `<root>/run-K.out`.
//! Runs are admitted by `runner::load`: each test's CPU share and wall
//! time from the kit's CPU profile, longest first, against the machine's
//! idle cores, backing off while the scheduling delay is high
//! (`--jobs N`: N at a time instead). A line per finished run says ok,
//! FAILED or ERROR (the kit could not set the test up); a failure under
//! high load says so, and is never rerun. At the end, the concurrency and
//! the load it met, then each failing run's diagnosis, seed, replay command,
//! artifact folder and output file. The exit status is 0 only if every run
//! passed (see the exit statuses in main.rs).

use crate::case::TestCase;
use crate::lab;
use protocol::{env, exit};
use runner::load::schedule::{self, Job, Met};
use runner::load::{Budget, Profile};
use runner::process::Exit;
use runner::test_run::{self, Sandboxing, TestRun};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How many runs go at once.
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Jobs {
    /// As many as the measured load allows.
    Auto,
    /// This many, whatever they cost.
    Fixed(usize),
}

/// What the arguments ask for.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// Runs of each test.
    pub runs: usize,
    /// Runs at a time.
    pub jobs: Jobs,
    /// The test filter, as libtest takes it (`None`: every test).
    pub filter: Option<String>,
    /// Whether the filter names one test exactly.
    pub exact: bool,
    /// Tests whose name contains one of these are left out (`--skip`).
    pub skip: Vec<String>,
    /// Other arguments, for every run.
    pub rest: Vec<String>,
}

/// `Some(plan)` if `args` (without the program name) ask for runs in
/// processes of their own: `--repeat N`, or `--jobs` other than 1.
/// Without `--repeat`, `--jobs 1` is the plain runner, one test after
/// another in this process.
///
/// # Errors
/// A malformed `--repeat`, `--jobs` or `--skip`.
pub fn plan(args: &[String]) -> Result<Option<Plan>, String> {
    let (mut runs, mut jobs) = (None, None);
    let mut plan =
        Plan { runs: 1, jobs: Jobs::Auto, filter: None, exact: false, skip: Vec::new(), rest: Vec::new() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        let positive = |name: &str, v: String| {
            v.parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} {v:?}: expected a positive number"))
        };
        match a.as_str() {
            "--repeat" => runs = Some(positive("--repeat", value("--repeat")?)?),
            "--jobs" => match value("--jobs")? {
                v if v == "auto" => jobs = Some(Jobs::Auto),
                v => jobs = Some(Jobs::Fixed(positive("--jobs (a number or auto)", v)?)),
            },
            "--skip" => plan.skip.push(value("--skip")?),
            "--exact" => plan.exact = true,
            flag if flag.starts_with('-') => plan.rest.push(a.clone()),
            _ if plan.filter.is_none() => plan.filter = Some(a.clone()),
            _ => return Err(format!("one test filter at a time ({:?} and {a:?})", plan.filter)),
        }
    }
    if runs.is_none() && matches!(jobs, None | Some(Jobs::Fixed(1))) {
        return Ok(None);
    }
    plan.runs = runs.unwrap_or(1);
    plan.jobs = jobs.unwrap_or(Jobs::Auto);
    Ok(Some(plan))
}

impl Plan {
    /// Whether the test `id` is selected, as libtest selects it.
    fn selects(&self, id: &str) -> bool {
        let named = match (&self.filter, self.exact) {
            (None, _) => true,
            (Some(f), true) => id == f,
            (Some(f), false) => id.contains(f.as_str()),
        };
        named && !self.skip.iter().any(|s| id.contains(s.as_str()))
    }
}

/// One run: a test, and which of its runs it is.
#[derive(Clone, Copy)]
struct Unit {
    k: usize,
    test: TestCase,
    round: usize,
    seed: u64,
}

/// How one run ended.
enum Ended {
    Passed,
    Failed,
    /// The kit could not set the test up (or the run could not start).
    Error(String),
}

/// One finished run.
struct Done {
    unit: Unit,
    ended: Ended,
    secs: f64,
    met: Met,
}

/// Runs the plan; returns the exit status.
pub fn run(plan: Plan) -> i32 {
    let root = artifacts_root();
    if let Err(e) = std::fs::create_dir_all(&root) {
        eprintln!("labs: cannot create the runs' folder {}: {e}", root.display());
        return exit::SETUP;
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("labs: cannot find this program: {e}");
            return exit::SETUP;
        }
    };
    let units = units(&plan);
    if units.is_empty() {
        println!("no test matches; `labs --list` lists them");
        return 0;
    }
    let (budget, idle) = Budget::choose(match plan.jobs {
        Jobs::Auto => None,
        Jobs::Fixed(n) => Some(n),
    });
    let profile = Profile::built_in();
    println!(
        "running {} test run(s) as processes of their own, {}; output and artifacts in {}",
        units.len(),
        match idle {
            Some(i) => format!("by measured load ({:.1} of {i:.1} idle cores)", budget.cores),
            None => format!("{} at a time", budget.max_jobs),
        },
        root.display()
    );
    let started = Instant::now();
    let jobs = units
        .into_iter()
        .map(|u| {
            let secs = profile.secs(u.test.id).unwrap_or(u.test.timeout_secs as f64 / 2.0);
            Job::expected(u, secs)
        })
        .collect();
    let mut done: Vec<Done> = Vec::new();
    let repeated = plan.runs > 1;
    let stats = schedule::run(
        budget,
        idle,
        jobs,
        |u: &Unit| profile.share(u.test.id),
        |u| one_run(&exe, &plan.rest, &root, u),
        |u, (ended, secs), met| {
            println!("{}", line(u, &ended, secs, met, repeated));
            done.push(Done { unit: *u, ended, secs, met });
            Vec::new()
        },
    );
    done.sort_by_key(|d| d.unit.k);
    println!("{}", stats.describe());
    summary(&done, &root, started.elapsed().as_secs_f64())
}

/// The runs the plan asks for: each selected test, `runs` times, in
/// catalogue order.
fn units(plan: &Plan) -> Vec<Unit> {
    let fixed = (plan.runs == 1).then(|| std::env::var(env::SEED).ok()).flatten();
    let tests: Vec<TestCase> = lab::tests().into_iter().filter(|t| plan.selects(t.id)).collect();
    let mut out = Vec::new();
    for round in 1..=plan.runs {
        for t in &tests {
            // One pass keeps a LAB_SEED given; repeats draw a seed each.
            let seed = fixed.as_deref().and_then(|s| s.trim().parse().ok()).unwrap_or_else(rand::random);
            out.push(Unit { k: out.len(), test: *t, round, seed });
        }
    }
    out
}

/// Runs `u` as a process of its own and waits for it, at most its time
/// limit: how it ended and its seconds.
fn one_run(exe: &Path, rest: &[String], root: &Path, u: &Unit) -> (Ended, f64) {
    let t0 = Instant::now();
    let run = TestRun {
        tester: exe,
        id: u.test.id,
        seed: u.seed,
        artifacts: &run_dir(root, u.k),
        output: &out_path(root, u.k),
        limit: test_run::limit(u.test.timeout_secs),
        node: None,
        args: rest,
        sandbox: Sandboxing::Inherit,
        private_tmp: false,
        file_size_limit: None,
        prove: false,
        label: format!("{}-{}", u.test.id, u.k),
    };
    let ended = match test_run::run(&run) {
        Ok(done) if done.exit == Exit::Code(0) => Ended::Passed,
        Ok(done) if done.setup_failed() => Ended::Error(setup_reason(done.setup_reason())),
        Ok(_) => Ended::Failed,
        Err(e) => Ended::Error(format!("cannot start the run: {e}")),
    };
    (ended, t0.elapsed().as_secs_f64())
}

/// The line that says how a run ended.
fn line(u: &Unit, ended: &Ended, secs: f64, met: Met, repeated: bool) -> String {
    let name = match repeated {
        true => format!("{} (run {})", u.test.id, u.round),
        false => u.test.id.to_string(),
    };
    let load = format!(
        " [ran under high load: {} runs at once, scheduling delay p99 {:.0} ms, max {:.0} ms]",
        met.running, met.delays.p99_ms, met.delays.max_ms
    );
    match ended {
        Ended::Passed => format!("test {name} ... ok ({secs:.1} s)"),
        Ended::Failed => {
            format!(
                "test {name} ... FAILED ({secs:.1} s, seed {}){}",
                u.seed,
                if met.high() { &load } else { "" }
            )
        }
        Ended::Error(why) => format!("test {name} ... ERROR: {why}"),
    }
}

/// The end: counts, then each run that did not pass, with what it takes
/// to look into it. The exit status: [`exit::SETUP`] if any run could not
/// be set up, else [`exit::RUNS_FAILED`] if any failed, else 0.
fn summary(done: &[Done], root: &Path, took: f64) -> i32 {
    let count = |f: fn(&Ended) -> bool| done.iter().filter(|d| f(&d.ended)).count();
    let failed = count(|e| matches!(e, Ended::Failed));
    let errors = count(|e| matches!(e, Ended::Error(_)));
    println!(
        "{} of {} runs passed, {failed} failed{} in {took:.0} s",
        done.len() - failed - errors,
        done.len(),
        if errors > 0 { format!(", {errors} could not be set up") } else { String::new() }
    );
    for d in done.iter().filter(|d| !matches!(d.ended, Ended::Passed)) {
        let (u, out) = (&d.unit, out_path(root, d.unit.k));
        match &d.ended {
            Ended::Error(why) => println!("\n{} (seed {}): ERROR, not a verdict: {why}", u.test.id, u.seed),
            _ => {
                println!("\n{} failed with seed {} ({:.1} s)", u.test.id, u.seed, d.secs);
                if d.met.high() {
                    println!("    under high load: scheduling delay p99 {:.0} ms", d.met.delays.p99_ms);
                }
                let output = read_output(&out);
                for l in diagnosis(&output, u.test.id) {
                    println!("    | {l}");
                }
                println!("    replay:    LAB_SEED={} make test-{} TEST={}", u.seed, u.test.group, u.test.id);
                println!(
                    "    artifacts: {} (labs logs DIR; timeline.html)",
                    test_run::test_folder(&run_dir(root, u.k), u.test.id).display()
                );
            }
        }
        println!("    output:    {}", out.display());
    }
    match (errors, failed) {
        (0, 0) => exit::PASSED,
        (0, _) => exit::RUNS_FAILED,
        _ => exit::SETUP,
    }
}

/// Lines of a failing run's diagnosis shown at the end, at most.
const DIAGNOSIS_LINES: usize = 12;

/// The first lines of libtest's report of `id`'s failure in `output`.
fn diagnosis<'a>(output: &'a str, id: &str) -> Vec<&'a str> {
    let header = format!("---- {id} ----");
    let lines: Vec<&str> = output.lines().collect();
    match lines.iter().rposition(|l| *l == header) {
        Some(at) => lines[at + 1..]
            .iter()
            .take_while(|l| **l != "failures:")
            .filter(|l| !l.trim().is_empty())
            .take(DIAGNOSIS_LINES)
            .copied()
            .collect(),
        None => lines.iter().rev().take(3).rev().copied().collect(),
    }
}

/// Why the kit could not set a run's test up, from the reason its
/// `SetupFailure` record gave (escaped), if it printed one.
fn setup_reason(why: Option<String>) -> String {
    format!("the kit could not set the test up: {}", why.as_deref().unwrap_or("see its output"))
}

/// A run's output file as safe text: it quotes what nodes wrote (the
/// harness's failure report prints their log tails and recent events), so
/// hidden characters and bytes that are not UTF-8 are escaped
/// ([`runner::text::escape_bytes`]) before any of it is printed here.
/// Empty if it cannot be read.
fn read_output(out: &Path) -> String {
    std::fs::read(out).map(|b| runner::text::escape_bytes(&b).into_owned()).unwrap_or_default()
}

/// Where the runs keep their output: `LAB_ARTIFACTS` if set, else
/// `target/repeat/<unix time>` when run from the kit's folder, else under /tmp.
fn artifacts_root() -> PathBuf {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    match std::env::var_os(env::ARTIFACTS) {
        Some(root) => PathBuf::from(root),
        None if Path::new("target").is_dir() => PathBuf::from("target/repeat").join(stamp.to_string()),
        None => std::env::temp_dir().join(format!("rl-repeat-{stamp}")),
    }
}

fn run_dir(root: &Path, k: usize) -> PathBuf {
    root.join(format!("run-{k}"))
}

fn out_path(root: &Path, k: usize) -> PathBuf {
    root.join(format!("run-{k}.out"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn the_plan_takes_repeat_jobs_and_the_filter_out() {
        let p = plan(&args("--repeat 50 2B --jobs 2 --exact --nocapture")).unwrap().unwrap();
        assert_eq!((p.runs, p.jobs, p.filter.as_deref(), p.exact), (50, Jobs::Fixed(2), Some("2B"), true));
        assert_eq!(p.rest, ["--nocapture"]);
        assert_eq!(plan(&args("--repeat 5 2B")).unwrap().unwrap().jobs, Jobs::Auto, "auto by default");
        let p = plan(&args("--jobs auto 2C --skip Figure8")).unwrap().unwrap();
        assert_eq!((p.runs, p.jobs, p.skip.clone()), (1, Jobs::Auto, vec!["Figure8".to_string()]));
        assert_eq!(plan(&args("2B")).unwrap(), None, "the plain runner");
        assert_eq!(plan(&args("--jobs 1 2B")).unwrap(), None, "--jobs 1: the plain runner");
        assert!(plan(&args("--repeat 0 2B")).is_err());
        assert!(plan(&args("--repeat")).is_err());
        assert!(plan(&args("--jobs many 2B")).is_err());
    }

    #[test]
    fn tests_are_selected_as_libtest_selects_them() {
        let p = plan(&args("--jobs auto 2B --skip Figure")).unwrap().unwrap();
        assert!(p.selects("Backup2B") && !p.selects("InitialElection2A"));
        let p = plan(&args("--jobs auto Figure8 --skip Unreliable")).unwrap().unwrap();
        assert!(p.selects("Figure82C") && !p.selects("Figure8Unreliable2C"));
        let p = plan(&args("--jobs auto Figure82C --exact")).unwrap().unwrap();
        assert!(p.selects("Figure82C") && !p.selects("Figure82Cx"));
        let p = plan(&args("--repeat 3 --jobs auto InitialElection2A --exact")).unwrap().unwrap();
        let u = units(&p);
        assert_eq!(u.iter().map(|u| (u.k, u.round)).collect::<Vec<_>>(), [(0, 1), (1, 2), (2, 3)]);
    }

    #[test]
    fn a_failing_run_shows_its_diagnosis() {
        let out = "test [2B] FailAgree2B ... seed 1\nFAILED\n\nfailures:\n\n---- FailAgree2B ----\nboom: node 2\n  seed 1\n\n\nfailures:\n    FailAgree2B\n";
        assert_eq!(diagnosis(out, "FailAgree2B"), ["boom: node 2", "  seed 1"]);
        let stopped =
            "test [2B] Backup2B ... seed 1\ntest Backup2B FAILED: still running after 150 s; stopping\n";
        assert_eq!(
            diagnosis(stopped, "Backup2B").last(),
            Some(&"test Backup2B FAILED: still running after 150 s; stopping")
        );
    }

    #[test]
    fn a_runs_output_is_read_as_safe_text() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run-0.out");
        let written = b"---- X ----\nnode 0: \x1b[2J\x1b[32mok\r\xff \xe2\x80\xae\n  seed 1\n";
        std::fs::write(&out, written).unwrap();
        let output = read_output(&out);
        assert_eq!(diagnosis(&output, "X"), [r"node 0: \x1b[2J\x1b[32mok\r\xff \u{202e}", "  seed 1"]);
        let record = protocol::SetupFailure::new("\x1b]0;pwned\x07 and \u{202e}").line();
        let output = format!("labs: the kit could not set the test up\n{record}\n");
        assert_eq!(
            setup_reason(test_run::setup_reason(&output)),
            r"the kit could not set the test up: \x1b]0;pwned\x07 and \u{202e}"
        );
        let output = "labs: the kit could not set the test up: no record\n";
        assert_eq!(
            setup_reason(test_run::setup_reason(output)),
            "the kit could not set the test up: see its output"
        );
        std::fs::write(&out, "honest ★\ttabs\n").unwrap();
        assert_eq!(read_output(&out), "honest ★\ttabs\n");
    }
}
