//! The grader end to end against a fake labs runner (tests/support/fake-labs),
//! whose tests pass, fail, flake, lie, flood and hang on purpose; and a fake
//! build script. Fast: no cargo builds, no real clusters.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fake_labs() -> PathBuf {
    crate_dir().join("tests/support/fake-labs")
}

/// `grader run` on the fake runner, with a rubric of the catalogue's points.
fn grade(out: &Path, extra: &[&str]) -> Command {
    let mut cmd = grade_with_rubric(out, &crate_dir().join("tests/support/catalogue-points.toml"));
    cmd.args(extra);
    cmd
}

fn grade_with_rubric(out: &Path, rubric: &Path) -> Command {
    let mut cmd = grader();
    cmd.arg("run").arg("--labs").arg(fake_labs()).arg("--out").arg(out).arg("--rubric").arg(rubric);
    cmd
}

#[test]
fn a_passing_test_scores_full_points_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut grade(dir.path(), &["--tests", "PassA2A", "-n", "2"]));
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("PassA2A") && table.contains("2/2") && table.contains("Total 5/5"), "{table}");
    validate(dir.path(), 1, 0, 0, Some(5.0));
}

#[test]
fn an_exit_status_0_without_the_testers_proof_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(grade(dir.path(), &["--tests", "PassA2A"]).env("FAKE_NO_PROOF", "1"));
    assert_eq!(out.status.code(), Some(1));
    let results = json(&dir.path().join("results.json"));
    let t = gs_test(&results, "PassA2A");
    assert_eq!(t["score"], 0.0);
    assert!(t["output"].as_str().unwrap().contains("without the tester's proof"), "{}", t["output"]);
    validate(dir.path(), 1, 1, 0, Some(0.0));
}

#[test]
fn a_fast_pass_is_not_suspicious_but_a_record_that_disagrees_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut grade(dir.path(), &["--tests", "PassA2A"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("SUSPICIOUS"), "a pass in 0.0 s vouched for");
    let runs = &json(&dir.path().join("grade.json"))["tests"][0]["runs"];
    assert!(runs[0]["suspicious"].is_null(), "{runs}");
    // The tester's signed record says 60 s; the run lasted milliseconds.
    let dir = tempfile::tempdir().unwrap();
    let out = run(grade(dir.path(), &["--tests", "PassA2A"]).env("FAKE_MILLIS", "60000"));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("SUSPICIOUS") && table.contains("60.00 s"), "{table}");
    let why = json(&dir.path().join("grade.json"))["tests"][0]["runs"][0]["suspicious"].clone();
    assert!(why.as_str().unwrap().contains("records disagree"), "{why}");
}

#[test]
fn a_run_the_kit_could_not_set_up_is_an_error_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(grade(dir.path(), &["--tests", "PassA2A"]).env("FAKE_SETUP_ERROR", "1"));
    assert_eq!(out.status.code(), Some(2), "could not judge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 run(s) could not be judged"), "{stderr}");
    let grade = json(&dir.path().join("grade.json"));
    let outcome = &grade["tests"][0]["runs"][0]["outcome"];
    assert_eq!(outcome["kind"], "error", "{outcome}");
    assert!(outcome["reason"].as_str().unwrap().contains("LAB_NODE=/nope/node is not a file"), "{outcome}");
}

#[test]
fn every_report_says_which_isolation_the_grade_ran_under() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut grade(dir.path(), &["--tests", "PassA2A", "--no-isolation"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("isolation: NONE (turned off with --no-isolation)")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("WARNING: isolation: NONE"));
    let results = json(&dir.path().join("results.json"));
    assert!(results["output"].as_str().unwrap().contains("isolation: NONE"), "{}", results["output"]);
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(junit.contains(r#"name="isolation" value="none""#), "{junit}");
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(html.contains("isolation: NONE"));
    assert_eq!(json(&dir.path().join("grade.json"))["isolation"]["mode"], "none");
}

#[test]
fn require_isolation_refuses_to_grade_where_it_cannot_sandbox() {
    // Without root the grader cannot run code as another uid; as root (CI)
    // it can, and this test only checks that the flag is accepted.
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut grade(dir.path(), &["--tests", "PassA2A", "--require-isolation"]));
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false);
    if root && std::path::Path::new("/usr/bin/bwrap").is_file() {
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(json(&dir.path().join("grade.json"))["isolation"]["mode"], "sandbox");
    } else {
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--require-isolation: cannot sandbox"));
    }
}

#[test]
fn failures_are_scored_from_exit_status_and_time_limit_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut grade(dir.path(), &["--timeout", "3", "-j", "3", "--seed", "11"]));
    assert_eq!(out.status.code(), Some(1), "some tests fail");
    let results = json(&dir.path().join("results.json"));
    // The liar prints pass lines and exits 1; the flood prints "Passed" last and exits 3.
    for (id, reason) in [
        ("FailB2A", "expected one leader"),
        ("LiarD2B", "exit status 1"),
        ("FloodE2C", "exit status 4"),
        ("HangF2C", "timed out after 3 s"),
    ] {
        let t = gs_test(&results, id);
        assert_eq!(t["status"], "failed", "{id}");
        assert_eq!(t["score"], 0.0, "{id}");
        assert!(t["output"].as_str().unwrap().contains(reason), "{id}: {}", t["output"]);
    }
    assert_eq!(gs_test(&results, "PassA2A")["score"], 5.0);
    // The flood was capped: the kept output is two 64 KiB ends and a note.
    let flood = std::fs::read_to_string(dir.path().join("runs/FloodE2C/1/output.txt")).unwrap();
    assert!(flood.len() < 200 * 1024, "{} bytes kept", flood.len());
    assert!(flood.contains("bytes of output omitted"));
    // The failing run's artifacts are linked from the page.
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(html.contains("runs/FailB2A/1/artifacts/FailB2A/node-0.log"), "artifacts not linked");
    let flaky_failed = gs_test(&results, "FlakyC2B")["status"] == "failed";
    validate(dir.path(), 6, 4 + flaky_failed as usize, 0, None);
    assert!(leftover_processes("sleep 600").is_empty(), "the hung test's sleep outlived the grading");
}

#[test]
fn proportional_rubrics_give_partial_credit() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = dir.path().join("r.toml");
    std::fs::write(&rubric, "policy = \"proportional\"\n[tests]\nFlakyC2B = 8\n").unwrap();
    let out_dir = dir.path().join("out");
    let out = run(grade_with_rubric(&out_dir, &rubric)
        .args(["--tests", "FlakyC2B", "-n", "6", "-j", "3", "--seed", "3"]));
    let g = json(&out_dir.join("grade.json"));
    let runs = g["tests"][0]["runs"].as_array().unwrap();
    let passed = runs.iter().filter(|r| r["outcome"]["kind"] == "passed").count();
    let even = runs.iter().filter(|r| r["seed"].as_u64().unwrap() % 2 == 0).count();
    assert_eq!(passed, even, "pass/fail follows the exit status");
    let results = json(&out_dir.join("results.json"));
    assert!((results["score"].as_f64().unwrap() - 8.0 * passed as f64 / 6.0).abs() < 0.01);
    assert_eq!(out.status.code(), Some(if passed == 6 { 0 } else { 1 }));
}

#[test]
fn the_grader_says_why_it_cannot_run_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad_rubric = dir.path().join("r.toml");
    std::fs::write(&bad_rubric, "[tests]\nPassA2A = 1\nGhost2A = 2\n").unwrap();
    for (rubric, message) in [
        (PathBuf::from("/nonexistent/r.toml"), "rubric /nonexistent/r.toml: cannot read it".to_string()),
        (
            bad_rubric.clone(),
            format!(
                "rubric {}, line 3: key `tests.Ghost2A`: no such test in the catalogue",
                bad_rubric.display()
            ),
        ),
    ] {
        let out = run(&mut grade_with_rubric(&dir.path().join("out"), &rubric));
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&message), "{err}");
    }
    // The default rubric names no test: it grades any catalogue, each test
    // at the catalogue's points.
    let out = run(grader()
        .args(["run", "--tests", "PassA2A", "--out"])
        .arg(dir.path().join("out"))
        .arg("--labs")
        .arg(fake_labs()));
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Total 5/5"));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--groups".into(), "9Z".into()], "no group 9Z"),
        (vec!["--tests".into(), "Nope2A".into()], "no test Nope2A"),
        (vec!["/nonexistent/submission".into()], "submission /nonexistent/submission"),
        (vec!["--shard".into(), "3/2".into()], "expected K/N"),
    ];
    for (args, message) in cases {
        let out = run(grade(&dir.path().join("out"), &[]).args(&args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let out = run(grader().args(["run", "--labs", "/nonexistent/labs"]));
    assert_eq!(out.status.code(), Some(2));
}

/// A workspace and a tiny grading kit (a node workspace of three crates
/// without dependencies), and a submission whose raft crate is `lib_rs`,
/// with `build_rs` as its build script if given.
fn fake_kit(dir: &Path, lib_rs: &str, build_rs: Option<&str>) -> (PathBuf, PathBuf, PathBuf) {
    let write = |p: PathBuf, text: &str| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let ws = dir.join("ws");
    write(ws.join("Cargo.toml"), "[workspace]\nmembers = [\"labs\"]\n");
    let kit = dir.join("kit");
    write(kit.join("stamp"), "fake kit\n");
    write(
        kit.join("node-src/Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"raft\", \"kvraft\", \"node\"]\n",
    );
    write(kit.join("node-src/Cargo.lock"), "version = 4\n");
    write(
        kit.join("node-src/node/Cargo.toml"),
        "[package]\nname = \"node\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nraft = { path = \"../raft\" }\nkvraft = { path = \"../kvraft\" }\n",
    );
    write(kit.join("node-src/node/src/main.rs"), "fn main() {}\n");
    std::fs::create_dir_all(kit.join("vendor")).unwrap();
    for name in ["raft", "kvraft"] {
        let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
        write(kit.join(format!("skeleton/{name}/Cargo.toml")), &manifest);
        write(kit.join(format!("skeleton/{name}/src/lib.rs")), "");
    }
    let sub = dir.join("sub");
    write(
        sub.join("raft/Cargo.toml"),
        "[package]\nname = \"raft\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(sub.join("raft/src/lib.rs"), lib_rs);
    if let Some(b) = build_rs {
        write(sub.join("raft/build.rs"), b);
    }
    (ws, kit, sub)
}

#[test]
fn a_build_failure_scores_every_test_zero_with_the_compiler_error() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, kit, sub) = fake_kit(dir.path(), "pub fn f() -> u32 {\n    \"x\"\n}\n", None);
    let out_dir = dir.path().join("out");
    let out = run(grade(&out_dir, &["-n", "2"]).arg(&sub).arg("--workspace").arg(&ws).arg("--kit").arg(&kit));
    assert_eq!(out.status.code(), Some(1));
    let results = json(&out_dir.join("results.json"));
    assert_eq!(results["score"], 0.0);
    assert!(
        results["output"].as_str().unwrap().contains("error[E0308]: mismatched types"),
        "{}",
        results["output"]
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("BUILD FAILED"));
    validate(&out_dir, 6, 0, 6, Some(0.0));
}

#[test]
fn a_build_past_its_limit_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let build_rs =
        "fn main() {\n    let _ = std::process::Command::new(\"sleep\").arg(\"601\").status();\n}\n";
    let (ws, kit, sub) = fake_kit(dir.path(), "", Some(build_rs));
    let out_dir = dir.path().join("out");
    let out = run(grade(&out_dir, &["--tests", "PassA2A", "--build-timeout", "8"])
        .arg(&sub)
        .arg("--workspace")
        .arg(&ws)
        .arg("--kit")
        .arg(&kit));
    assert_eq!(out.status.code(), Some(1));
    let g = json(&out_dir.join("grade.json"));
    assert_eq!(g["build"]["status"], "timed_out");
    validate(&out_dir, 1, 0, 1, Some(0.0));
    assert!(leftover_processes("sleep 601").is_empty());
}

/// grade.json without what differs between runs of the same work: times and the folder.
fn normalized(out: &Path) -> Value {
    let mut g = json(&out.join("grade.json"));
    g["elapsed_secs"] = Value::Null;
    g["shard"] = Value::Null;
    // Measured, so different in every grading; checked to be there.
    assert_eq!(g["concurrency"]["mode"], "fixed", "{}", g["concurrency"]);
    g["concurrency"] = Value::Null;
    for t in g["tests"].as_array_mut().unwrap() {
        for r in t["runs"].as_array_mut().unwrap() {
            r["secs"] = Value::Null;
            assert!(r["load"]["cpu_secs"].as_f64().is_some_and(|c| c >= 0.0), "{}", r["load"]);
            r["load"] = Value::Null;
            // The tester's proof differs with each run's secret.
            let tail = r["tail"].as_str().unwrap_or("").lines().filter(|l| !l.starts_with("raftlab-proof: "));
            r["tail"] = Value::String(tail.collect::<Vec<_>>().join("\n"));
        }
    }
    g
}

#[test]
fn shards_merge_into_the_single_run_report() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--tests", "PassA2A,FailB2A,FlakyC2B,LiarD2B", "-n", "3", "--seed", "99", "-j", "4"];
    let single = dir.path().join("single");
    run(&mut grade(&single, &common));
    let mut shards = Vec::new();
    for k in 1..=3 {
        let out = dir.path().join(format!("shard{k}"));
        let o = run(grade(&out, &common).args(["--shard", &format!("{k}/3")]));
        assert!(o.status.code() == Some(0) || o.status.code() == Some(1));
        shards.push(out);
    }
    let merged = dir.path().join("merged");
    let o = run(grader().arg("merge").args(&shards).arg("--out").arg(&merged));
    assert_eq!(o.status.code(), Some(1), "FailB2A fails in every report");
    assert_eq!(normalized(&merged), normalized(&single));
    let (m, s) = (json(&merged.join("results.json")), json(&single.join("results.json")));
    assert_eq!(m["score"], s["score"]);
    let statuses = |v: &Value| {
        v["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].clone(), t["score"].clone(), t["status"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&m), statuses(&s));
    assert!(merged.join("runs/FailB2A/3/output.txt").is_file(), "the shards' run outputs are copied");
    let flaky_failed = gs_test(&m, "FlakyC2B")["status"] == "failed";
    validate(&merged, 4, 2 + flaky_failed as usize, 0, None);

    // A missing shard is an error, not a smaller report.
    let o = run(grader().arg("merge").args(&shards[..2]).arg("--out").arg(dir.path().join("partial")));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing shard(s) 3/3"));
}

#[test]
fn jobs_run_at_the_same_time() {
    // Each run of PairG2D passes only if another is running beside it:
    // with two runs and two jobs both pass; one run at a time fails one.
    let dir = tempfile::tempdir().unwrap();
    let pair = tempfile::tempdir().unwrap();
    // Unisolated: the two runs meet in a folder under /tmp, which a
    // sandboxed run's private /tmp would hide.
    let out =
        run(grade(dir.path(), &["-n", "2", "-j", "2", "--no-isolation"]).env("FAKE_PAIR_DIR", pair.path()));
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(table.contains("PairG2D") && table.contains("2/2"), "{table}");
}
