//! The grader end to end with the real kit: the reference crates, a broken
//! Raft, and one hostile submission of each kind (grader/fixtures/), each
//! built from the grading kit (`make grading-kit`) into one shared build
//! folder and graded on a single short test. As root with bubblewrap (CI)
//! every grading is `--require-isolation`, and the attacks that only the
//! sandbox stops are checked to be stopped.
//!
//! Slow (a release build per fixture, about a minute each on two cores), so
//! ignored by `cargo test`. Run them with the release binaries built first:
//!
//! ```text
//! cargo build --release -p grader -p node -p labs && scripts/grading-kit.sh
//! cargo test -p grader --test e2e -- --ignored --test-threads 1
//! ```

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

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

fn grade(out: &Path, submission: Option<&Path>, extra: &[&str]) -> (Output, u32) {
    let mut cmd: Command = grader();
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
    run_with_pid(&mut cmd)
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
    let sub = submission(tmp.path(), &workspace().join("fixtures/raft-all-leaders"));
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
/// grading must give: exit 1, score 0, valid reports, nothing left running.
/// Returns the report folder and the test's results.json entry.
fn grade_hostile(tmp: &Path, fixture: &str) -> (PathBuf, Value, Output) {
    grade_hostile_with(tmp, fixture, &[])
}

fn grade_hostile_with(tmp: &Path, fixture: &str, extra: &[&str]) -> (PathBuf, Value, Output) {
    let _lock = SWAP.lock().unwrap_or_else(|e| e.into_inner());
    let sub = submission(tmp, &crate_dir().join("fixtures").join(fixture));
    let out_dir = tmp.join("out");
    let mut args = vec!["--tests", "InitialElection2A", "--timeout", "60"];
    args.extend_from_slice(extra);
    let (out, pid) = grade(&out_dir, Some(&sub), &args);
    assert_eq!(out.status.code(), Some(1), "{fixture}: exit status");
    let results = json(&out_dir.join("results.json"));
    assert_eq!(results["score"], 0.0, "{fixture}: score");
    let test = results["tests"][0].clone();
    assert_eq!(test["status"], "failed", "{fixture}");
    let build_failed = json(&out_dir.join("grade.json"))["build"]["status"] != "built";
    validate(&out_dir, 1, (!build_failed) as usize, build_failed as usize, Some(0.0));
    assert!(leftovers_of(pid).is_empty(), "{fixture}: left running: {:?}", leftovers_of(pid));
    if isolated() {
        assert_eq!(json(&out_dir.join("grade.json"))["isolation"]["mode"], "sandbox", "{fixture}");
    }
    (out_dir, test, out)
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
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                text.push_str(&String::from_utf8_lossy(&bytes[..bytes.len().min(8 << 20)]));
            }
        }
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

#[test]
#[ignore = "slow: builds a hostile fixture; run with make grader-e2e"]
fn hostile_endless_build_script() {
    let tmp = tempfile::tempdir().unwrap();
    let (out_dir, _, _) = grade_hostile_with(tmp.path(), "endless-build", &["--build-timeout", "60"]);
    assert_eq!(json(&out_dir.join("grade.json"))["build"]["status"], "timed_out");
    assert!(leftover_processes("sleep 617").is_empty(), "the build's daemon outlived it");
}
