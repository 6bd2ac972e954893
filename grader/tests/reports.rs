//! What the reports say, checked against what happened: gradings with the
//! fake runner (tests/support/fake-labs), whose tests pass, fail, or cannot
//! be set up on purpose, read back line by line from every report.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// `grader run` on the fake runner, unsandboxed (nothing untrusted runs),
/// with a rubric of the catalogue's points.
fn grade(out: &Path, args: &[&str]) -> Command {
    let mut cmd = grader();
    cmd.arg("run")
        .arg("--labs")
        .arg(crate_dir().join("tests/support/fake-labs"))
        .arg("--rubric")
        .arg(crate_dir().join("tests/support/catalogue-points.toml"))
        .arg("--out")
        .arg(out)
        .arg("--no-isolation")
        .args(args);
    cmd
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `href="#…"` links of a page that go to no `id` of it.
fn dangling_anchors(page: &str) -> Vec<String> {
    page.match_indices("href=\"#")
        .map(|(at, m)| {
            let rest = &page[at + m.len()..];
            rest[..rest.find('"').expect("a closed attribute")].to_string()
        })
        .filter(|id| !page.contains(&format!("id=\"{id}\"")))
        .collect()
}

/// A JUnit attribute of the `<testsuites>` element.
fn junit_total(xml: &str, name: &str) -> usize {
    let head = &xml[xml.find("<testsuites ").expect("a testsuites element")..];
    let head = &head[..head.find('>').unwrap()];
    let at =
        head.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} in {head}")) + name.len() + 3;
    head[at..at + head[at..].find('"').unwrap()].parse().unwrap()
}

#[test]
fn runs_the_kit_could_not_set_up_are_errors_in_every_report_and_failures_in_none() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(grade(dir.path(), &["--tests", "PassA2A,FailB2A", "--seed", "5", "-j", "2"])
        .env("FAKE_SETUP_ERROR", "1"));
    assert_eq!(out.status.code(), Some(2), "no verdict");
    let table = stdout(&out);
    let verdict = "2 runs could not be judged (the kit could not set the test up: no verdict either way)";
    assert!(table.contains(&format!("Total 0/8 — {verdict}")), "{table}");
    assert!(!table.contains("failed"), "no run failed: {table}");
    let xml = text(&dir.path().join("junit.xml"));
    assert_eq!((junit_total(&xml, "failures"), junit_total(&xml, "errors")), (0, 2), "{xml}");
    validate(dir.path(), 2, 0, 2, Some(0.0));
    let html = text(&dir.path().join("index.html"));
    assert!(html.contains(verdict) && !html.contains("runs failed"), "{html}");
    assert_eq!(dangling_anchors(&html), Vec::<String>::new());
    let results = json(&dir.path().join("results.json"));
    assert!(results["output"].as_str().unwrap().contains(verdict), "{}", results["output"]);
}

#[test]
fn a_failing_grade_counts_its_failures_and_times_one_run_without_a_spread() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut grade(dir.path(), &["--tests", "PassA2A,FailB2A,LiarD2B", "--seed", "5", "-j", "2"]));
    assert_eq!(out.status.code(), Some(1));
    let table = stdout(&out);
    assert!(table.contains("Total 5/10 — 2 of 3 runs failed"), "{table}");
    assert!(!table.contains("± 0.0"), "one run has no standard deviation: {table}");
    let html = text(&dir.path().join("index.html"));
    assert!(!html.contains("± 0.0"), "{html}");
    assert_eq!(dangling_anchors(&html), Vec::<String>::new());
    let results = json(&dir.path().join("results.json"));
    let pass = gs_test(&results, "PassA2A")["output"].as_str().unwrap().to_string();
    assert!(pass.starts_with("1 of 1 run(s) passed; time ") && !pass.contains('±'), "{pass}");
    validate(dir.path(), 3, 2, 0, Some(5.0));
}

#[test]
fn the_replay_command_students_get_is_one_the_makefile_runs() {
    let dir = tempfile::tempdir().unwrap();
    run(&mut grade(dir.path(), &["--tests", "FailB2A", "--seed", "5"]));
    let results = json(&dir.path().join("results.json"));
    let output = gs_test(&results, "FailB2A")["output"].as_str().unwrap().to_string();
    let line = output.lines().find_map(|l| l.strip_prefix("Replay: ")).unwrap_or_else(|| panic!("{output}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let (seed, rest) = words.split_first().unwrap();
    assert!(seed.starts_with("LAB_SEED="), "{line}");
    assert_eq!(rest[..2], ["make", "test-2A"], "{line}");
    // What make would run for it (-n: nothing is built or run).
    let Ok(make) = Command::new("make").arg("-n").args(&rest[1..]).current_dir(workspace()).output() else {
        eprintln!("SKIPPED the Makefile's side: no make here");
        return;
    };
    let plan = String::from_utf8_lossy(&make.stdout);
    let labs = plan.lines().find(|l| l.contains("target/release/labs")).unwrap_or_else(|| panic!("{plan}"));
    assert!(
        labs.trim_end().ends_with("target/release/labs FailB2A --exact"),
        "one filter, the test's: {labs}"
    );
}

#[test]
fn a_shard_skips_the_tests_it_did_not_run_and_fails_none_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--tests", "PassA2A,FailB2A,FlakyC2B,LiarD2B", "--shard", "1/3", "--seed", "5", "-j", "2"];
    let out = run(&mut grade(dir.path(), &args));
    let g = json(&dir.path().join("grade.json"));
    let tests = g["tests"].as_array().unwrap();
    let ran = |t: &Value| !t["runs"].as_array().unwrap().is_empty();
    let elsewhere: Vec<&str> = tests.iter().filter(|t| !ran(t)).map(|t| t["id"].as_str().unwrap()).collect();
    assert!(
        !elsewhere.is_empty() && elsewhere.len() < tests.len(),
        "the seed splits the work: {elsewhere:?}"
    );
    let xml = text(&dir.path().join("junit.xml"));
    assert_eq!(junit_total(&xml, "skipped"), elsewhere.len(), "{xml}");
    assert!(!xml.contains("no runs"), "{xml}");
    let failed = tests
        .iter()
        .filter(|t| ran(t) && t["runs"].as_array().unwrap().iter().any(|r| r["outcome"]["kind"] != "passed"))
        .count();
    assert_eq!(junit_total(&xml, "failures"), failed, "{xml}");
    let results = json(&dir.path().join("results.json"));
    for id in &elsewhere {
        let named = |t: &Value| t["name"].as_str().unwrap().contains(&format!(" {id}:"));
        assert!(!results["tests"].as_array().unwrap().iter().any(named), "{id} is another shard's");
        let table = stdout(&out);
        let row = table.lines().find(|l| l.contains(&format!(" {id} "))).unwrap_or_else(|| panic!("{table}"));
        assert!(row.ends_with("not in this shard") && !row.starts_with('✗'), "{row}");
    }
    let sum: f64 = results["tests"].as_array().unwrap().iter().map(|t| t["score"].as_f64().unwrap()).sum();
    assert!((sum - results["score"].as_f64().unwrap()).abs() < 1e-6, "{results}");
    assert_eq!(dangling_anchors(&text(&dir.path().join("index.html"))), Vec::<String>::new());
}
