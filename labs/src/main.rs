//! The graded test groups, run with the familiar `cargo test` command line:
//!
//! ```text
//! labs 2A                       every 2A test, one after another
//! labs InitialElection2A --exact one test
//! labs --jobs auto 2A           every 2A test, each a process of its own,
//!                               side by side as the measured load allows (repeat.rs)
//! labs --repeat 50 2B           every 2B test 50 times, the same way
//! labs --repeat 50 --jobs 2 2B  … 2 at a time, whatever they cost
//! labs --list                   the tests
//! labs --catalogue              the table of tests as JSON (for the grader)
//! labs --labs                   the labs, their student crates and groups, as JSON
//! labs --groups                 one line per group: id, lab, title (tab-separated)
//! labs logs DIR                 a failed test's logs, merged (tools.rs)
//! labs timeline DIR             write DIR/timeline.html
//! ```
//!
//! The debugging tools are subcommands of this binary so that every student
//! has them as soon as the tests build, with nothing else to install, and
//! they read exactly the files this binary's harness writes.
//!
//! Without `--jobs` (or with `--jobs 1`), tests run one at a time in this
//! process unless `--test-threads` says otherwise: each starts real
//! processes, and 6.824's time limits assume the machine is theirs. With
//! `--jobs auto`, each test runs in a process of its own, admitted by its
//! CPU share (the kit's profile, `runner/data/cpu-profile.tsv`) against
//! the machine's idle cores, as the grader runs them.
//!
//! Exit status:
//! * 0: every test run passed;
//! * 101 (one after another) or 1 (processes of their own): a test failed,
//!   or was still running at its time limit (the watchdog stops it: 101);
//! * 3: the kit could not set a test up (no node binary, no test
//!   directory, an artifacts folder that cannot be written, …): not a
//!   verdict on the Raft under test, and the grader and the self-check
//!   count it as an error, never as a failed test or a kill; the run
//!   prints a `protocol::SetupFailure` record of why;
//! * 2: a bad command line.
//!
//! The grader reads these from `protocol::exit`, where each is defined.

mod case;
mod catalogue;
mod lab;
mod lab2a;
mod lab2a_extra;
mod lab2b;
mod lab2b_commit;
mod lab2b_cost;
mod lab2b_extra;
mod lab2c;
mod lab2c_extra;
mod lab2d;
mod lab2d_extra;
mod lab3;
mod lab3_extra;
mod repeat;
mod story;
mod tools;

use libtest_mimic::{Arguments, Failed, Trial};
use protocol::{SetupFailure, exit};
use std::sync::OnceLock;
use std::time::Duration;

/// Why the first test that could not be set up could not: the run then
/// exits [`exit::SETUP`].
static SETUP_FAILED: OnceLock<String> = OnceLock::new();

/// Ends the run with [`exit::SETUP`]: says why, for people, and prints the
/// [`SetupFailure`] record the grader and repeat mode read.
fn setup_failed(reason: &str) -> ! {
    eprintln!("labs: the kit could not set the test up: {reason}");
    println!("{}", SetupFailure::new(reason).line());
    std::process::exit(exit::SETUP);
}

fn main() {
    // First of all: a run that repeat mode started, on the portable path,
    // ends with its starter.
    harness::platform::exit_with_parent();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("logs") => std::process::exit(tools::logs(args[1..].to_vec())),
        Some("timeline") => std::process::exit(tools::timeline(args[1..].to_vec())),
        _ => {}
    }
    if args.first().map(String::as_str) == Some("--labs") {
        let rows: Vec<protocol::LabRow> = lab::LABS.iter().map(lab::Lab::row).collect();
        println!("{}", serde_json::to_string_pretty(&rows).expect("the labs serialize"));
        return;
    }
    if args.first().map(String::as_str) == Some("--groups") {
        for (lab, group) in lab::groups() {
            println!("{}\t{}\t{}", group.id, lab.id, group.title);
        }
        return;
    }
    if args.first().map(String::as_str) == Some("--catalogue") {
        let rows: Vec<protocol::CatalogueRow> = lab::tests().iter().map(case::TestCase::row).collect();
        let json = serde_json::to_string_pretty(&rows).expect("the catalogue serializes");
        println!("{json}");
        return;
    }
    // First, before any process starts: no node may inherit the pipe.
    let secret = match runner::proof::take_secret() {
        Ok(s) => s,
        Err(e) => setup_failed(&e),
    };
    match repeat::plan(&args) {
        Ok(Some(_)) if secret.is_some() => {
            eprintln!("labs: --repeat and --jobs are for students; the grader runs one test per process");
            std::process::exit(exit::USAGE);
        }
        Ok(Some(plan)) => std::process::exit(repeat::run(plan)),
        Ok(None) => {}
        Err(e) => {
            eprintln!("labs: {e}");
            std::process::exit(exit::USAGE);
        }
    }
    if let Some(root) = std::env::var_os(harness::dir::ARTIFACTS_VAR)
        && let Err(e) = std::fs::create_dir_all(&root)
    {
        let root = std::path::Path::new(&root).display().to_string();
        setup_failed(&format!("cannot create {root} ({}): {e}", protocol::env::ARTIFACTS));
    }
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = Some(1);
    }
    let trials = lab::tests()
        .into_iter()
        .map(|case| {
            let id = case.id;
            let group = case.group;
            Trial::test(id, move || run_case(&case)).with_kind(group)
        })
        .collect();
    let filter = args.filter.clone();
    let exact = args.exact;
    let started = std::time::Instant::now();
    let conclusion = libtest_mimic::run(&args, trials);
    let millis = started.elapsed().as_millis() as u64;
    if let (Some(secret), Some(id)) = (secret, filter) {
        // The grader runs one test by its exact id: vouch for that run only.
        if exact && conclusion.num_passed == 1 && !conclusion.has_failed() {
            println!(
                "{}{}",
                protocol::PROOF_PREFIX,
                runner::proof::proof(&secret, &id, harness::seed::test_seed(), millis)
            );
        }
    }
    if let Some(reason) = SETUP_FAILED.get() {
        eprintln!(
            "labs: the kit could not set a test up (above): that is not a verdict on the Raft under test"
        );
        println!("{}", SetupFailure::new(reason.as_str()).line());
        std::process::exit(exit::SETUP);
    }
    conclusion.exit();
}

/// Runs one test with a watchdog: a test still running at its timeout is
/// reported and the process exits (its nodes die with it: each node has the
/// parent-death signal).
fn run_case(case: &case::TestCase) -> Result<(), Failed> {
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let id = case.id;
    let limit = Duration::from_secs(case.timeout_secs);
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
            println!("test {id} FAILED: still running after {} s; stopping", limit.as_secs());
            std::process::exit(exit::FAILED);
        }
    });
    let result = (case.run)(case);
    let _ = done_tx.send(());
    result.map_err(|f| {
        if let Some(reason) = f.setup_reason() {
            let _ = SETUP_FAILED.set(reason.to_string());
        }
        Failed::from(f.message())
    })
}
