//! Repeat mode: run a group (or one test) many times, a few at a time, as
//! 6.824 students do with dstest, because concurrency bugs show up one run
//! in fifty.
//!
//! ```text
//! labs --repeat 50 --jobs 2 2B          (make test-2B REPEAT=50 JOBS=2)
//! ```
//!
//! Each run is this binary again with the other arguments, a fresh
//! `LAB_SEED` and `LAB_ARTIFACTS=<root>/run-K`; its output goes to
//! `<root>/run-K.out`. One line counts passed, failed and running runs; at
//! the end each failing test is listed with its seed, the command that
//! replays it and its artifact folder. The exit code is 0 only if every
//! run passed.

use crate::catalogue;
use std::io::{IsTerminal, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How often the running runs are polled.
const POLL: Duration = Duration::from_millis(100);

/// What the arguments ask for.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// Runs in all.
    pub runs: usize,
    /// Runs at a time.
    pub jobs: usize,
    /// The arguments each run gets (the filter, `--exact`, …).
    pub rest: Vec<String>,
}

/// `Some(plan)` if `args` (without the program name) hold `--repeat N`.
pub fn plan(args: &[String]) -> Result<Option<Plan>, String> {
    let (mut runs, mut jobs, mut rest) = (None, 1, Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            let v = it.next().ok_or_else(|| format!("{name} needs a number"))?;
            v.parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} {v:?}: expected a positive number"))
        };
        match a.as_str() {
            "--repeat" => runs = Some(number("--repeat")?),
            "--jobs" => jobs = number("--jobs")?,
            _ => rest.push(a.clone()),
        }
    }
    Ok(runs.map(|runs| Plan { runs, jobs, rest }))
}

/// One finished run.
struct Done {
    k: usize,
    seed: u64,
    passed: bool,
    failed_tests: Vec<String>,
}

/// The tests a run's output says failed: the names libtest lists under
/// its last `failures:` heading, and the watchdog's `test X FAILED: still
/// running …` (it stops the run before libtest's summary).
pub fn failed_tests(output: &str) -> Vec<String> {
    let lines: Vec<&str> = output.lines().collect();
    let mut out: Vec<String> = Vec::new();
    if let Some(at) = lines.iter().rposition(|l| *l == "failures:") {
        for l in &lines[at + 1..] {
            match l.strip_prefix("    ") {
                Some(name) if !name.is_empty() && !name.contains(' ') => out.push(name.to_string()),
                _ => break,
            }
        }
    }
    for l in &lines {
        if let Some((name, tail)) = l.strip_prefix("test ").and_then(|r| r.split_once(' '))
            && tail.starts_with("FAILED: still running")
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_string());
        }
    }
    out
}

/// Runs the plan; returns the exit code.
pub fn run(plan: Plan) -> i32 {
    let root = artifacts_root();
    if let Err(e) = std::fs::create_dir_all(&root) {
        eprintln!("labs --repeat: cannot create {}: {e}", root.display());
        return 2;
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("labs --repeat: cannot find this program: {e}");
            return 2;
        }
    };
    let what = plan.rest.join(" ");
    println!(
        "repeating `labs {what}` {} times, {} at a time; output and artifacts in {}",
        plan.runs,
        plan.jobs,
        root.display()
    );
    let started = Instant::now();
    let (mut running, mut done): (Vec<(usize, u64, Child)>, Vec<Done>) = (Vec::new(), Vec::new());
    let mut next = 0;
    let live = std::io::stderr().is_terminal();
    while done.len() < plan.runs {
        while running.len() < plan.jobs && next < plan.runs {
            let seed: u64 = rand::random();
            match spawn(&exe, &plan.rest, &root, next, seed) {
                Ok(child) => running.push((next, seed, child)),
                Err(e) => {
                    eprintln!("labs --repeat: cannot start run {next}: {e}");
                    done.push(Done { k: next, seed, passed: false, failed_tests: Vec::new() });
                }
            }
            next += 1;
        }
        std::thread::sleep(POLL);
        let mut i = 0;
        while i < running.len() {
            if let Ok(Some(status)) = running[i].2.try_wait() {
                let (k, seed, _) = running.remove(i);
                let output = std::fs::read_to_string(out_path(&root, k)).unwrap_or_default();
                let d = Done { k, seed, passed: status.success(), failed_tests: failed_tests(&output) };
                if !live {
                    println!("run {k} (seed {seed}): {}", if d.passed { "passed" } else { "FAILED" });
                }
                done.push(d);
            } else {
                i += 1;
            }
        }
        if live {
            let failed = done.iter().filter(|d| !d.passed).count();
            eprint!(
                "\r{} passed, {failed} failed, {} running, {} to go ({:.0} s)   ",
                done.len() - failed,
                running.len(),
                plan.runs - done.len() - running.len(),
                started.elapsed().as_secs_f64()
            );
            let _ = std::io::stderr().flush();
        }
    }
    if live {
        eprintln!();
    }
    summary(&done, &root, plan.runs, started.elapsed())
}

fn summary(done: &[Done], root: &Path, runs: usize, took: Duration) -> i32 {
    let failed: Vec<&Done> = done.iter().filter(|d| !d.passed).collect();
    println!("{} of {runs} runs passed in {:.0} s", runs - failed.len(), took.as_secs_f64());
    for d in &failed {
        let out = out_path(root, d.k);
        if d.failed_tests.is_empty() {
            println!("  run {} (seed {}) failed; its output: {}", d.k, d.seed, out.display());
        }
        for t in &d.failed_tests {
            let group = catalogue::all().into_iter().find(|c| c.id == *t).map_or("", |c| c.group);
            println!("  {t} failed with seed {}", d.seed);
            println!("    replay:    LAB_SEED={} make test-{group} TEST={t}", d.seed);
            println!(
                "    artifacts: {} (labs logs DIR; timeline.html)",
                run_dir(root, d.k).join(sanitize(t)).display()
            );
            println!("    output:    {}", out.display());
        }
    }
    if failed.is_empty() { 0 } else { 1 }
}

/// Where the runs keep their output: `LAB_ARTIFACTS` if set, else
/// `target/repeat/<unix time>` when run from the kit's folder, else under /tmp.
fn artifacts_root() -> PathBuf {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    match std::env::var_os(harness::dir::ARTIFACTS_VAR) {
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

/// As the harness names a test's artifact folder.
fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Starts run `k`: this binary with `rest`, its own seed and artifacts
/// folder, output to a file, killed if this process dies.
fn spawn(exe: &Path, rest: &[String], root: &Path, k: usize, seed: u64) -> std::io::Result<Child> {
    let out = std::fs::File::create(out_path(root, k))?;
    let mut cmd = Command::new(exe);
    cmd.args(rest)
        .env(harness::seed::SEED_VAR, seed.to_string())
        .env(harness::dir::ARTIFACTS_VAR, run_dir(root, k))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    // SAFETY: between fork and exec, only prctl (async-signal-safe).
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).map_err(std::io::Error::from)
        });
    }
    cmd.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn the_plan_takes_repeat_and_jobs_out() {
        assert_eq!(
            plan(&args("--repeat 50 2B --jobs 2 --exact")).unwrap(),
            Some(Plan { runs: 50, jobs: 2, rest: args("2B --exact") })
        );
        assert_eq!(plan(&args("2B")).unwrap(), None);
        assert!(plan(&args("--repeat 0 2B")).is_err());
        assert!(plan(&args("--repeat")).is_err());
    }

    #[test]
    fn failing_tests_are_read_from_the_output() {
        let out = "test [2B] FailAgree2B ... seed 1\nFAILED\n\nfailures:\n\n---- FailAgree2B ----\nboom\n\n\nfailures:\n    FailAgree2B\n    Backup2B\n\ntest result: FAILED. 0 passed; 2 failed\n";
        assert_eq!(failed_tests(out), vec!["FailAgree2B", "Backup2B"]);
        let stopped =
            "test [2B] Backup2B ... seed 1\ntest Backup2B FAILED: still running after 150 s; stopping\n";
        assert_eq!(failed_tests(stopped), vec!["Backup2B"]);
        assert!(failed_tests("test result: ok. 1 passed\n").is_empty());
    }
}
