//! The grader end to end with the real kit: the reference crates, a broken
//! Raft, and one hostile submission of each kind (grader/fixtures/), each
//! built from the grading kit (`make grading-kit`) into one shared build
//! folder and graded on a single short test. As root with bubblewrap (CI)
//! every grading is `--require-isolation`, and the attacks that only the
//! sandbox stops are checked to be stopped. Hostile shapes of submission
//! (links, FIFOs, sockets, devices, sparse files: nothing git should hold)
//! are made at run time in each test's temporary folder, and refused at
//! intake. Every hostile grading runs from the kit's checkout (as `make
//! grade` does) with a secret in its environment and a canary file beside
//! the submission, which no report may show ([`Planted`]), and is stopped
//! if it hangs.
//!
//! Slow (a release build per fixture, about a minute each on two cores), so
//! ignored by `cargo test`. Run them with the release binaries built first:
//!
//! ```text
//! cargo build --release -p grader -p node -p labs && target/release/grader kit
//! cargo test -p grader --test e2e -- --ignored --test-threads 1
//! ```

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The fixtures share one build folder, one build at a time.
static SWAP: Mutex<()> = Mutex::new(());

fn labs() -> PathBuf {
    let labs = workspace().join("target/release/labs");
    assert!(labs.is_file(), "build the kit first: cargo build --release -p grader -p node -p labs");
    labs
}

fn swap_root() -> PathBuf {
    workspace().join("target/grader-e2e-swap")
}

/// Whether these tests can (and so must) grade sandboxed: as root with
/// bubblewrap, as CI runs them.
fn isolated() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false);
    root && Path::new("/usr/bin/bwrap").is_file()
}

/// The variable planted in every grader's environment, holding [`secret`]:
/// a grader that reads a file a submission linked to `/proc/self/environ`
/// and quotes it would show it.
const SECRET_VAR: &str = "RAFTLAB_E2E_SECRET";

/// This test process's secret, random.
fn secret() -> &'static str {
    static SECRET: OnceLock<String> = OnceLock::new();
    SECRET.get_or_init(random_token)
}

/// The longest any grading here may take before it is stopped.
const GRADING_BOUND: Duration = Duration::from_secs(1200);
/// The longest a hostile grading may take: a fixture's build (about a
/// minute on two cores) and one short test, or a refusal at intake, with
/// room. Past it the grading hangs on something hostile.
const HOSTILE_BOUND: Duration = Duration::from_secs(300);

fn grade(out: &Path, submission: Option<&Path>, extra: &[&str]) -> (Output, u32) {
    let run = grade_within(out, submission, extra, GRADING_BOUND);
    assert!(!run.timed_out, "the grading took more than {GRADING_BOUND:?} and was stopped");
    (run.out, run.pid)
}

/// Runs the grader as `make grade SUBMISSION=…` does (from the kit's
/// checkout, where `/proc/self/cwd/raft` is the reference), with the secret
/// in its environment, stopped at `limit`.
fn grade_within(out: &Path, submission: Option<&Path>, extra: &[&str], limit: Duration) -> Bounded {
    let mut cmd: Command = grader();
    cmd.current_dir(workspace()).env(SECRET_VAR, secret());
    cmd.arg("run").arg("--labs").arg(labs()).arg("--workspace").arg(workspace()).arg("--out").arg(out);
    cmd.arg("--swap-root").arg(swap_root()).arg("--kit").arg(workspace().join("target/grading-kit"));
    if isolated() {
        cmd.arg("--require-isolation");
    } else {
        eprintln!("NOT ISOLATED: not root or no bubblewrap; the sandbox's own checks are skipped");
    }
    cmd.args(extra);
    if let Some(s) = submission {
        cmd.arg(s);
    }
    run_bounded(&mut cmd, limit)
}

/// A broken raft: the reference with the contract mutant `raft-all-leaders`
/// (every peer claims to lead term 1), written in `tmp` by `grader mutant apply`.
fn all_leaders(tmp: &Path) -> PathBuf {
    let dest = tmp.join("raft-all-leaders");
    let mut cmd = grader();
    cmd.args(["mutant", "apply", "raft-all-leaders"]).arg(&dest);
    cmd.arg("--catalogue").arg(workspace().join("selfcheck/contract")).arg("--workspace").arg(workspace());
    let out = run(&mut cmd);
    assert!(out.status.success(), "cannot make the raft-all-leaders crate");
    dest.join("raft")
}

/// A submission folder holding `raft/`, a copy of `crate_dir`.
fn submission(tmp: &Path, crate_dir: &Path) -> PathBuf {
    let sub = tmp.join("submission");
    copy_dir(crate_dir, &sub.join("raft"));
    sub
}

#[test]
#[ignore = "slow: runs the 6.824 2A tests; run with make grader-e2e"]
fn the_reference_scores_full_points_on_2a() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, pid) = grade(
        tmp.path(),
        None,
        &["--tests", "InitialElection2A", "ReElection2A", "ManyElections2A", "-j", "1"],
    );
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Total 15/15 — all runs passed"), "{table}");
    validate(tmp.path(), 3, 0, 0, Some(15.0));
    assert!(leftovers_of(pid).is_empty(), "{:?}", leftovers_of(pid));
}

#[test]
#[ignore = "slow: the default rubric against the real catalogue; run with make grader-e2e"]
fn the_default_rubric_names_only_catalogue_tests() {
    let tmp = tempfile::tempdir().unwrap();
    // A grading with no test run still loads the catalogue and the rubric.
    let (out, _) = grade(tmp.path(), None, &["--groups", "2A", "--shard", "4/4"]);
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
#[ignore = "slow: builds a broken raft; run with make grader-e2e"]
fn a_broken_raft_scores_less_with_reasons() {
    let _lock = SWAP.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let sub = submission(tmp.path(), &all_leaders(tmp.path()));
    let out_dir = tmp.path().join("out");
    let (out, pid) = grade(
        &out_dir,
        Some(&sub),
        &["--tests", "InitialElection2A", "ReElection2A", "ManyElections2A", "--timeout", "90"],
    );
    assert_eq!(out.status.code(), Some(1));
    let results = json(&out_dir.join("results.json"));
    assert!(results["score"].as_f64().unwrap() < 15.0);
    for t in results["tests"].as_array().unwrap().iter().filter(|t| t["status"] == "failed") {
        let o = t["output"].as_str().unwrap();
        assert!(o.contains("seed") && o.contains("Replay:"), "no reason for {}: {o}", t["name"]);
    }
    let failed = results["tests"].as_array().unwrap().iter().filter(|t| t["status"] == "failed").count();
    assert!(failed >= 1);
    validate(&out_dir, 3, failed, 0, None);
    assert!(leftovers_of(pid).is_empty(), "{:?}", leftovers_of(pid));
}

/// Grades a hostile fixture on InitialElection2A and checks what every such
/// grading must give ([`grade_planted`]). Returns the report folder, the
/// test's results.json entry and the grader's output.
fn grade_hostile(tmp: &Path, fixture: &str) -> (PathBuf, Value, Output) {
    grade_hostile_with(tmp, fixture, &[])
}

fn grade_hostile_with(tmp: &Path, fixture: &str, extra: &[&str]) -> (PathBuf, Value, Output) {
    let planted = Planted::new(tmp);
    let sub = submission(tmp, &fixture_dir(fixture));
    let g = grade_planted(tmp, &planted, &sub, fixture, extra);
    (g.out_dir, g.test, g.out)
}

fn fixture_dir(name: &str) -> PathBuf {
    crate_dir().join("fixtures").join(name)
}

/// A hostile grading's reports and what it printed.
struct Graded {
    out_dir: PathBuf,
    /// The test's results.json entry.
    test: Value,
    /// grade.json.
    grade: Value,
    out: Output,
}

impl Graded {
    fn build_status(&self) -> &str {
        self.grade["build"]["status"].as_str().unwrap_or("?")
    }

    fn build_message(&self) -> &str {
        self.grade["build"]["message"].as_str().unwrap_or("")
    }

    /// The build's log (build.txt), as text; empty if there is none.
    fn build_log(&self) -> String {
        std::fs::read(self.out_dir.join("build.txt"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Asserts that the build was refused, with a message naming `at_fault`
    /// and holding every one of `words` (case-insensitive).
    fn assert_refused(&self, what: &str, at_fault: &str, words: &[&str]) {
        assert_eq!(self.build_status(), "failed", "{what}: the submission was not refused");
        let message = self.build_message();
        let lower = message.to_lowercase();
        assert!(message.contains(at_fault), "{what}: the refusal does not say where ({at_fault}): {message}");
        for w in words {
            assert!(lower.contains(&w.to_lowercase()), "{what}: the refusal does not say {w:?}: {message}");
        }
    }
}

/// Grades the submission `sub` on InitialElection2A, with `planted` beside
/// it, and checks what every hostile grading must give: it ends within
/// [`HOSTILE_BOUND`] with exit 1, score 0, valid reports holding only
/// folders and regular files, nothing left running, the sandbox when there
/// is one, and nothing planted read or changed ([`Planted::check`]).
fn grade_planted(tmp: &Path, planted: &Planted, sub: &Path, what: &str, extra: &[&str]) -> Graded {
    let _lock = SWAP.lock().unwrap_or_else(|e| e.into_inner());
    let out_dir = tmp.join("out");
    let mut args = vec!["--tests", "InitialElection2A", "--timeout", "60"];
    args.extend_from_slice(extra);
    let run = grade_within(&out_dir, Some(sub), &args, HOSTILE_BOUND);
    if run.timed_out {
        // Where it stood: the build's log (the grading writes it as it goes).
        let build = std::fs::read_to_string(out_dir.join("build.txt")).unwrap_or_default();
        let tail: Vec<&str> = build.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "{what}: the grading hung: still running after {HOSTILE_BOUND:?}; the build log's end:\n{}",
            tail.join("\n")
        );
    }
    let out = run.out;
    assert_eq!(out.status.code(), Some(1), "{what}: exit status");
    let results = json(&out_dir.join("results.json"));
    assert_eq!(results["score"], 0.0, "{what}: score");
    let test = results["tests"][0].clone();
    assert_eq!(test["status"], "failed", "{what}");
    let grade = json(&out_dir.join("grade.json"));
    let build_failed = grade["build"]["status"] != "built";
    validate(&out_dir, 1, (!build_failed) as usize, build_failed as usize, Some(0.0));
    assert!(leftovers_of(run.pid).is_empty(), "{what}: left running: {:?}", leftovers_of(run.pid));
    if isolated() {
        assert_eq!(grade["isolation"]["mode"], "sandbox", "{what}");
    }
    let (_, odd) = report_files(&out_dir);
    assert!(odd.is_empty(), "{what}: the report holds links or special files: {odd:?}");
    planted.check(&out_dir, &out, what);
    Graded { out_dir, test, grade, out }
}

/// What a hostile grading must neither read nor change: a canary file
/// outside the submission, the kit's own files, and the [`secret`] in the
/// grader's environment.
struct Planted {
    canary: PathBuf,
    /// The canary's random part: in no report.
    mark: String,
    bytes: Vec<u8>,
    kit: Vec<Vec<u8>>,
}

impl Planted {
    /// Plants `tmp/canary.toml` (a manifest, so that a grader that takes it
    /// for one would rename its package) and records the kit's files.
    fn new(tmp: &Path) -> Planted {
        let mark = random_token();
        let canary = tmp.join("canary.toml");
        let text = format!(
            "[package]\nname = \"canary-{mark}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nlabrpc.workspace = true\ntokio.workspace = true\n"
        );
        std::fs::write(&canary, &text).unwrap();
        Planted {
            canary,
            mark,
            bytes: text.into_bytes(),
            kit: kit_files().iter().map(|p| digest(p)).collect(),
        }
    }

    /// Checks that the canary and the kit's files are as they were, and that
    /// no report file and nothing the grader printed holds 12 characters in
    /// a row of the secret or of the canary's mark. (Unsandboxed, a node
    /// inherits the environment and may print it: only the sandbox keeps the
    /// secret from it, so only then is the secret looked for.)
    fn check(&self, out_dir: &Path, out: &Output, what: &str) {
        assert!(digest(&self.canary) == self.bytes, "{what}: the canary {} changed", self.canary.display());
        for (file, before) in kit_files().iter().zip(&self.kit) {
            assert!(digest(file) == *before, "{what}: the kit file {} changed", file.display());
        }
        let (files, _) = report_files(out_dir);
        let printed = [
            (PathBuf::from("the grader's stdout"), out.stdout.clone()),
            (PathBuf::from("the grader's stderr"), out.stderr.clone()),
        ];
        let mut secrets = vec![("the canary's content", self.mark.as_str())];
        if isolated() {
            secrets.push(("the secret in the grader's environment", secret()));
        }
        for (path, bytes) in files.iter().chain(printed.iter()) {
            for (name, s) in &secrets {
                if let Some((at, found)) = secret_in(bytes, s, 12) {
                    panic!("{what}: {} holds {name} ({found}) at byte {at}", path.display());
                }
            }
        }
    }
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_no_compile() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, out) = grade_hostile(tmp.path(), "no-compile");
    let g = json(&out_dir.join("grade.json"));
    assert_eq!(g["build"]["status"], "failed");
    let results = json(&out_dir.join("results.json"));
    let output = results["output"].as_str().unwrap();
    assert!(output.contains("does not compile") && output.contains("error"), "{output}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("BUILD FAILED"));
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_panic_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, test, _) = grade_hostile(tmp.path(), "panic-at-start");
    assert!(test["output"].as_str().unwrap().contains("panicked"), "{}", test["output"]);
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_hang_in_new() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, test, _) = grade_hostile(tmp.path(), "hang-in-new");
    assert!(test["output"].as_str().unwrap().contains("seed"), "{}", test["output"]);
    assert!(leftover_processes("sleep 613").is_empty(), "the fixture's daemon outlived the grading");
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_fake_pass_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "fake-pass");
    let output = std::fs::read_to_string(out_dir.join("runs/InitialElection2A/1/output.txt")).unwrap();
    assert!(output.contains("... Passed --   3.1"), "the fixture's forged line reached the runner's output");
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_flood() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "flood");
    let output = out_dir.join("runs/InitialElection2A/1/output.txt");
    assert!(std::fs::metadata(&output).unwrap().len() < 200 * 1024);
    // Node logs are capped per file (RLIMIT_FSIZE), so the whole report stays bounded.
    let size = du(&out_dir);
    assert!(size < 400 * 1024 * 1024, "the report folder holds {size} bytes");
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_writes_into_the_report_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "write-report");
    for name in ["results.json", "junit.xml", "index.html", "grade.json"] {
        let meta = std::fs::symlink_metadata(out_dir.join(name)).unwrap();
        assert!(meta.is_file(), "{name} is not a regular file");
        // The forgery's marks are the word "forged" and a score of 9999; a
        // plain "9999" would also match honest durations such as 0.49999.
        let text = std::fs::read_to_string(out_dir.join(name)).unwrap();
        assert!(!text.contains("forged") && !text.contains("<testsuites/>"), "{name} kept the forgery");
    }
    for name in ["results.json", "grade.json"] {
        let doc = json(&out_dir.join(name));
        assert_ne!(doc["score"], 9999, "{name} kept the forged score");
    }
    assert!(
        json(&out_dir.join("grade.json"))["build"]["status"] == "built",
        "grade.json is not the grader's own"
    );
    assert!(
        !Path::new("/tmp/forged-grade.json").exists(),
        "a report was written through the planted symlink"
    );
}

/// Every file under `dir`, as text, with its path: what a student could
/// read back from the report.
fn report_text(dir: &Path) -> String {
    let mut text = String::new();
    for (_, bytes) in report_files(dir).0 {
        text.push_str(&String::from_utf8_lossy(&bytes[..bytes.len().min(8 << 20)]));
    }
    text
}

fn digest(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_default()
}

/// The kit files a hostile build or node would want to change.
fn kit_files() -> Vec<PathBuf> {
    ["target/release/labs", "target/release/grader", "labs/src/main.rs", "grader/src/main.rs"]
        .iter()
        .map(|f| workspace().join(f))
        .collect()
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_build_script_rewrites_kit_files() {
    let tmp = tempfile::tempdir().unwrap();
    let before: Vec<Vec<u8>> = kit_files().iter().map(|p| digest(p)).collect();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "build-rewrites-kit");
    let after: Vec<Vec<u8>> = kit_files().iter().map(|p| digest(p)).collect();
    assert!(before == after, "a kit file changed");
    if isolated() {
        // It can reach only its own build workspace.
        let build = std::fs::read_to_string(out_dir.join("build.txt")).unwrap();
        for line in build.lines().filter(|l| l.contains("HOSTILE")) {
            assert!(line.contains("grader-e2e-swap/node-src/"), "outside its workspace: {line}");
        }
    }
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_node_replaces_the_files_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let before: Vec<Vec<u8>> = kit_files().iter().map(|p| digest(p)).collect();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "replace-tester");
    let after: Vec<Vec<u8>> = kit_files().iter().map(|p| digest(p)).collect();
    assert!(before == after, "a kit file changed");
    if isolated() {
        assert!(!report_text(&out_dir).contains("HOSTILE REPLACED"), "a node replaced a file");
    }
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_node_attacks_other_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, test, _) = grade_hostile(tmp.path(), "attack-processes");
    if isolated() {
        let text = report_text(&out_dir);
        for bad in ["ptrace true", "mem true", "stop true"] {
            assert!(!text.contains(bad), "{bad}: {}", test["output"]);
        }
    }
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_search_for_the_reference_rubric_and_reports_finds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "snoop");
    if isolated() {
        let text = report_text(&out_dir);
        let found: Vec<&str> = text.lines().filter(|l| l.contains("HOSTILE FOUND")).collect();
        assert!(found.is_empty(), "the submission found: {found:?}");
        // The node's environment: the sandbox's few variables, none of the grader's or the harness's.
        let keys: std::collections::BTreeSet<&str> =
            text.split("HOSTILE ENV ").skip(1).filter_map(|rest| rest.split('=').next()).collect();
        assert!(!keys.is_empty(), "the fixture printed no environment");
        for key in &keys {
            assert!(["PATH", "HOME", "RUST_BACKTRACE", "PWD"].contains(key), "leaked into the node: {key}");
        }
    }
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_fork_bomb() {
    let tmp = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    grade_hostile(tmp.path(), "fork-bomb");
    assert!(started.elapsed().as_secs() < 240, "the grading took {:?}", started.elapsed());
    assert!(leftover_processes("sleep 600").is_empty(), "the bomb outlived the grading");
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_memory_hog() {
    let tmp = tempfile::tempdir().unwrap();
    grade_hostile(tmp.path(), "memory-hog");
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_tcp_connection_to_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:47613").expect("port 47613 is free");
    listener.set_nonblocking(true).unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "tcp-connect");
    if isolated() {
        assert!(listener.accept().is_err(), "a node connected to the host's loopback");
        assert!(!report_text(&out_dir).contains("CONNECTED"), "a node reached a loopback port");
    }
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_writes_10_gb() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "write-10gb");
    let size = du(&out_dir);
    assert!(size < 400 * 1024 * 1024, "the report folder holds {size} bytes");
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_new_dependency() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "new-dependency");
    let g = json(&out_dir.join("grade.json"));
    assert_eq!(g["build"]["status"], "failed");
    let message = g["build"]["message"].as_str().unwrap();
    assert!(message.contains("dependency the kit does not have"), "{message}");
}

/// The release grader, as `make test-2A RAFT=…` runs it (`grader swap`).
fn release_grader() -> PathBuf {
    let grader = workspace().join("target/release/grader");
    assert!(grader.is_file(), "build the kit first: cargo build --release -p grader -p node -p labs");
    grader
}

/// A local build is a grading build: `grader build` (what `make test-2A
/// RAFT=…` builds through) refuses a crate that adds a dependency with the
/// grading's own message, exit status 1, and prints no node, so no test
/// runs against it.
#[test]
#[ignore = "slow: builds a fixture from the grading kit; run with make grader-e2e"]
fn a_local_build_refuses_a_new_dependency_before_any_test() {
    let _lock = SWAP.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let sub = submission(tmp.path(), &fixture_dir("new-dependency"));
    let mut cmd = Command::new(release_grader());
    cmd.current_dir(workspace()).env_remove("LAB_SEED").env_remove("LAB_NODE");
    cmd.arg("build").arg(&sub).arg("--workspace").arg(workspace());
    cmd.arg("--kit").arg(workspace().join("target/grading-kit")).arg("--swap-root").arg(swap_root());
    let run = run_bounded(&mut cmd, HOSTILE_BOUND);
    assert!(!run.timed_out, "the build took more than {HOSTILE_BOUND:?} and was stopped");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&run.out.stdout), String::from_utf8_lossy(&run.out.stderr));
    assert_eq!(run.out.status.code(), Some(1), "a refused build is exit status 1: {stderr}");
    assert!(
        stderr.contains("grader build: the submission uses a dependency the kit does not have"),
        "{stderr}"
    );
    assert!(stdout.trim().is_empty(), "no node is printed, so nothing runs: {stdout}");
    assert!(!format!("{stdout}{stderr}").lines().any(|l| l.starts_with("test result")), "a test ran");
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_endless_build_script() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile_with(tmp.path(), "endless-build", &["--build-timeout", "60"]);
    assert_eq!(json(&out_dir.join("grade.json"))["build"]["status"], "timed_out");
    assert!(leftover_processes("sleep 617").is_empty(), "the build's daemon outlived it");
}

// ---- Hostile shapes of submission, refused at intake: no build happens ----

/// `link` pointing at `target` (a symbolic link, made at run time: git holds none).
fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::os::unix::fs::symlink(target.as_ref(), link)
        .unwrap_or_else(|e| panic!("cannot link {} -> {}: {e}", link.display(), target.as_ref().display()));
}

/// `sub/raft`, a copy of the kit's reference: a submission that scores full
/// points if what is wrong with it is overlooked.
fn reference_raft(sub: &Path) -> PathBuf {
    let raft = sub.join("raft");
    copy_dir(&workspace().join("raft"), &raft);
    raft
}

/// A relative link target from the folder `from` to the absolute path `to`,
/// climbing to `/` first.
fn climbing(from: &Path, to: &Path) -> PathBuf {
    let from = std::fs::canonicalize(from).unwrap();
    let up = from.components().filter(|c| matches!(c, std::path::Component::Normal(_))).count();
    PathBuf::from("../".repeat(up)).join(to.strip_prefix("/").unwrap())
}

/// One submission shape: how to make it in a submission folder, and the
/// name the refusal must give.
struct Shape {
    name: &'static str,
    at_fault: &'static str,
    make: fn(&Path),
}

/// Makes each shape in a fresh folder, grades it, and checks that the
/// build was refused with a message naming where and holding `words`.
fn refuse_each(shapes: &[Shape], words: &[&str]) {
    for shape in shapes {
        let tmp = tempfile::tempdir().unwrap();
        let planted = Planted::new(tmp.path());
        let sub = tmp.path().join("submission");
        std::fs::create_dir_all(&sub).unwrap();
        (shape.make)(&sub);
        let graded = grade_planted(tmp.path(), &planted, &sub, shape.name, &[]);
        graded.assert_refused(shape.name, shape.at_fault, words);
    }
}

#[test]
#[ignore = "slow: grades six submissions (refused at intake); run with make grader-e2e"]
fn hostile_links_at_every_level_are_refused() {
    refuse_each(
        &[
            // The attack that scored full points: the grader runs in the kit's
            // checkout, so /proc/self/cwd/raft is the reference.
            Shape {
                name: "raft and kvraft links to the kit's own",
                at_fault: "raft",
                make: |sub| {
                    symlink("/proc/self/cwd/raft", &sub.join("raft"));
                    symlink("/proc/self/cwd/kvraft", &sub.join("kvraft"));
                },
            },
            Shape {
                name: "a real raft folder whose src links to the reference's",
                at_fault: "src",
                make: |sub| {
                    let raft = sub.join("raft");
                    std::fs::create_dir_all(&raft).unwrap();
                    std::fs::copy(workspace().join("raft/Cargo.toml"), raft.join("Cargo.toml")).unwrap();
                    symlink("/proc/self/cwd/raft/src", &raft.join("src"));
                },
            },
            Shape {
                name: "lib.rs an absolute link to the reference's",
                at_fault: "lib.rs",
                make: |sub| {
                    let lib = reference_raft(sub).join("src/lib.rs");
                    std::fs::remove_file(&lib).unwrap();
                    symlink(workspace().join("raft/src/lib.rs"), &lib);
                },
            },
            Shape {
                name: "lib.rs a relative link out of the crate, into the submission",
                at_fault: "lib.rs",
                make: |sub| {
                    let lib = reference_raft(sub).join("src/lib.rs");
                    std::fs::create_dir_all(sub.join("shared")).unwrap();
                    std::fs::rename(&lib, sub.join("shared/lib.rs")).unwrap();
                    symlink("../../shared/lib.rs", &lib);
                },
            },
            Shape {
                name: "lib.rs a relative link that climbs to the kit's reference",
                at_fault: "lib.rs",
                make: |sub| {
                    let lib = reference_raft(sub).join("src/lib.rs");
                    std::fs::remove_file(&lib).unwrap();
                    symlink(climbing(lib.parent().unwrap(), &workspace().join("raft/src/lib.rs")), &lib);
                },
            },
            Shape {
                name: "Cargo.toml a link, even to a file inside the crate",
                at_fault: "Cargo.toml",
                make: |sub| {
                    let raft = reference_raft(sub);
                    std::fs::rename(raft.join("Cargo.toml"), raft.join("manifest.toml")).unwrap();
                    symlink("manifest.toml", &raft.join("Cargo.toml"));
                },
            },
        ],
        &["symbolic link"],
    );
}

#[test]
#[ignore = "slow: grades a submission (refused at intake); run with make grader-e2e"]
fn hostile_manifest_link_to_a_file_outside_is_neither_read_nor_written() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = Planted::new(tmp.path());
    let sub = submission(tmp.path(), &all_leaders(tmp.path()));
    // A grader that copied the link as a link and renamed the package in
    // the copy would write "raft" into the canary; one that read it would
    // quote the canary's name in its messages.
    std::fs::remove_file(sub.join("raft/Cargo.toml")).unwrap();
    symlink(&planted.canary, &sub.join("raft/Cargo.toml"));
    let graded = grade_planted(tmp.path(), &planted, &sub, "Cargo.toml linked to a canary", &[]);
    graded.assert_refused("Cargo.toml linked to a canary", "Cargo.toml", &["symbolic link"]);
}

#[test]
#[ignore = "slow: grades three submissions (refused at intake); run with make grader-e2e"]
fn hostile_special_files_in_the_submission_are_refused_without_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = all_leaders(tmp.path());
    // A FIFO (an open for reading waits for a writer), a socket (kept
    // listening through the grading), and, as root, a device that reads as
    // endless zeros.
    let cases: Vec<(&str, &str, &str)> = vec![("a FIFO", "pipe", "pipe"), ("a socket", "sock", "socket")]
        .into_iter()
        .chain(isolated().then_some(("a device", "zero", "device")))
        .collect();
    for (what, name, word) in cases {
        let case_tmp = tmp.path().join(name);
        std::fs::create_dir_all(&case_tmp).unwrap();
        let planted = Planted::new(&case_tmp);
        let sub = submission(&case_tmp, &broken);
        let special = sub.join("raft/src").join(name);
        let _listener = match name {
            "pipe" => {
                let made = Command::new("mkfifo").arg(&special).status().unwrap();
                assert!(made.success(), "mkfifo {}", special.display());
                None
            }
            "sock" => Some(std::os::unix::net::UnixListener::bind(&special).unwrap()),
            _ => {
                use nix::sys::stat::{Mode, SFlag, makedev, mknod};
                mknod(&special, SFlag::S_IFCHR, Mode::from_bits_truncate(0o666), makedev(1, 5)).unwrap();
                None
            }
        };
        let graded = grade_planted(&case_tmp, &planted, &sub, what, &[]);
        graded.assert_refused(what, &format!("src/{name}"), &[word]);
    }
}

#[test]
#[ignore = "slow: grades a submission (refused at intake); run with make grader-e2e"]
fn hostile_sparse_terabyte_file_is_refused_for_its_size() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = Planted::new(tmp.path());
    let sub = submission(tmp.path(), &all_leaders(tmp.path()));
    // One tebibyte by its length, nothing on disk: copied naively, it
    // would fill the disk; it counts by its length.
    let huge = std::fs::File::create(sub.join("raft/huge.bin")).unwrap();
    huge.set_len(1 << 40).unwrap();
    drop(huge);
    let started = std::time::Instant::now();
    let graded = grade_planted(tmp.path(), &planted, &sub, "a sparse 1 TiB file", &[]);
    graded.assert_refused("a sparse 1 TiB file", "huge.bin", &["bytes"]);
    eprintln!("refused in {:.1} s", started.elapsed().as_secs_f64());
    let copied = du(&swap_root().join("node-src"));
    assert!(copied < 1 << 30, "the build folder holds {copied} bytes: the file was copied");
}

// ---- Hostile builds and nodes (grader/fixtures/) ----

#[test]
#[ignore = "slow: builds a hostile fixture five times; run with make grader-e2e"]
fn hostile_build_replaces_its_lock_file() {
    // What the fixture's build script puts where the build's Cargo.lock
    // was (lock-swap.txt): links to the grader's own environment, to a file
    // of the host, to the canary beside the submission; a FIFO (which the
    // sandbox may deny: no mknod) and a socket.
    for variant in ["environ", "hostname", "canary", "fifo", "socket"] {
        let tmp = tempfile::tempdir().unwrap();
        let planted = Planted::new(tmp.path());
        let sub = submission(tmp.path(), &fixture_dir("lock-swap"));
        let plan = match variant {
            "environ" => "link /proc/self/environ".to_string(),
            "hostname" => "link /etc/hostname".to_string(),
            "canary" => format!("link {}", planted.canary.display()),
            special => special.to_string(),
        };
        std::fs::write(sub.join("raft/lock-swap.txt"), &plan).unwrap();
        let what = format!("the lock file replaced ({plan})");
        let graded = grade_planted(tmp.path(), &planted, &sub, &what, &[]);
        if variant == "fifo" && graded.build_log().contains("could not replace the lock file") {
            // Denied in the sandbox: the build went on with its lock.
            eprintln!("{what}: the sandbox denied the FIFO; nothing to refuse");
            continue;
        }
        graded.assert_refused(&what, "lock file", &["refused"]);
    }
}

/// What every page of the forged-page fixture holds.
const FORGED_SCRIPT: &str = "<script>/*FORGED*/";
/// The names the forged-page fixture writes into its data and socket
/// folders: the kit's pages and their manifest.
const FORGED_NAMES: [&str; 6] =
    ["timeline.html", "index.html", "linearizability.html", "view.svg", "kit-views.txt", "kit-pages.txt"];

/// Whether `rel` (a path in a report) lies in a folder a node wrote: its
/// data folder (`dN`) or its socket folder (`nN`).
fn in_node_folder(rel: &Path) -> bool {
    let parent = rel.parent().unwrap_or(Path::new(""));
    parent.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c.len() > 1
            && (c.starts_with('d') || c.starts_with('n'))
            && c[1..].chars().all(|d| d.is_ascii_digit())
    })
}

fn is_page(name: &str) -> bool {
    let name = name.to_lowercase();
    [".html", ".htm", ".svg"].iter().any(|e| name.ends_with(e))
}

/// The `href="…"` targets of an HTML page, as written.
fn hrefs(page: &str) -> Vec<String> {
    page.split("href=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_string).collect()
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_node_forges_the_kits_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "forged-page");
    let (files, _) = report_files(&out_dir);
    let text = report_text(&out_dir);
    assert!(text.contains("HOSTILE page"), "the fixture's log is not in the report: did it run?");
    for (path, bytes) in &files {
        let rel = path.strip_prefix(&out_dir).unwrap();
        let name = rel.file_name().unwrap().to_string_lossy();
        if in_node_folder(rel) {
            assert!(!is_page(&name), "a page a node wrote kept a page's name: {}", rel.display());
            if FORGED_NAMES.iter().any(|f| name.starts_with(f)) {
                assert!(
                    name.ends_with(".txt"),
                    "the copy of a forged file is not inert text: {}",
                    rel.display()
                );
            }
        }
        if is_page(&name) {
            let page = String::from_utf8_lossy(bytes);
            assert!(!page.contains(FORGED_SCRIPT), "{} runs the forged script", rel.display());
        }
    }
    let index = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    for href in hrefs(&index) {
        let target = Path::new(&href);
        assert!(
            !(in_node_folder(target) && is_page(&href)),
            "index.html links a page a node wrote as a page: {href}"
        );
    }
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_nodes_find_no_side_channel() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile(tmp.path(), "side-channel");
    let text = report_text(&out_dir);
    assert!(text.contains("HOSTILE TRIED"), "the fixture's log is not in the report: did it run?");
    if isolated() {
        let found: Vec<&str> = text.lines().filter(|l| l.contains("HOSTILE CHANNEL")).collect();
        assert!(found.is_empty(), "nodes reached each other past the proxy: {found:?}");
    }
}

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_node_swaps_its_sockets_for_links() {
    let tmp = tempfile::tempdir().unwrap();
    // Outside the run, where the trusted side can reach it and the nodes
    // cannot: under the kit's target folder (a run may get a private /tmp).
    let outside =
        tempfile::Builder::new().prefix("e2e-swap-").tempdir_in(workspace().join("target")).unwrap();
    let target = outside.path().join("swap.sock");
    let listener = std::os::unix::net::UnixListener::bind(&target).unwrap();
    listener.set_nonblocking(true).unwrap();
    let planted = Planted::new(tmp.path());
    let sub = submission(tmp.path(), &fixture_dir("socket-swap"));
    std::fs::write(sub.join("raft/swap-target.txt"), target.display().to_string()).unwrap();
    let graded = grade_planted(tmp.path(), &planted, &sub, "socket-swap", &[]);
    assert_eq!(graded.build_status(), "built", "{}", graded.build_message());
    assert!(
        report_text(&graded.out_dir).contains("HOSTILE swapped"),
        "the fixture's log is not in the report"
    );
    if isolated() {
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok(_) => panic!("something of the run followed a node's link to {}", target.display()),
            Err(e) => panic!("cannot check the listener: {e}"),
        }
    }
}

/// Terminal control bytes (and the right-to-left override) that no report
/// may hold raw: ESC, BEL, BS, CR, U+202E.
const RAW_CONTROLS: [&[u8]; 5] = [b"\x1b", b"\x07", b"\x08", b"\r", "\u{202e}".as_bytes()];

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_escape_sequences_are_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, out) = grade_hostile(tmp.path(), "escapes");
    // The reports and every page (the node logs themselves are data, kept as written).
    let reports = ["results.json", "junit.xml", "grade.json", "build.txt", "output.txt"];
    let (files, _) = report_files(&out_dir);
    let mut checked: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter(|(p, _)| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            reports.contains(&name.as_str()) || name.ends_with(".html")
        })
        .map(|(p, b)| (p.strip_prefix(&out_dir).unwrap().display().to_string(), b))
        .collect();
    checked.push(("the grader's stdout".into(), out.stdout.clone()));
    checked.push(("the grader's stderr".into(), out.stderr.clone()));
    for (name, bytes) in &checked {
        for raw in RAW_CONTROLS {
            if let Some(at) = bytes.windows(raw.len()).position(|w| w == raw) {
                let around =
                    String::from_utf8_lossy(&bytes[at.saturating_sub(60)..(at + 60).min(bytes.len())]);
                panic!("{name} holds the raw control {raw:02x?} at byte {at}: {around:?}");
            }
        }
    }
    assert!(
        checked.iter().any(|(_, b)| b.windows(4).any(|w| w == b"\\x1b")),
        "no report shows the node's escape sequences escaped (\\x1b): were they printed at all?"
    );
}
