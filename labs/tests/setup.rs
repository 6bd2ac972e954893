//! A run the kit cannot set up exits with a status of its own (3), not a
//! test failure's, and prints a record of why: the grader and the
//! self-check count it as an error, never as a failed test or a kill.

use assert_cmd::Command;
use protocol::{SetupFailure, exit};

fn labs() -> Command {
    Command::cargo_bin("labs").unwrap()
}

#[test]
fn a_missing_node_binary_is_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = labs()
        .args(["InitialElection2A", "--exact"])
        .env("LAB_NODE", "/nonexistent/node")
        .env("LAB_ARTIFACTS", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit::SETUP), "{text}");
    assert!(
        text.contains("the kit could not set the test up: LAB_NODE=/nonexistent/node is not a file"),
        "{text}"
    );
    let record = SetupFailure::find(&String::from_utf8_lossy(&out.stdout)).expect("a setup-failure record");
    assert!(record.reason.contains("LAB_NODE=/nonexistent/node is not a file"), "{record:?}");
}

#[test]
fn an_artifacts_folder_that_cannot_be_made_is_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = labs()
        .args(["InitialElection2A", "--exact"])
        .env("LAB_ARTIFACTS", file.join("under"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::SETUP), "{}", String::from_utf8_lossy(&out.stderr));
    let record = SetupFailure::find(&String::from_utf8_lossy(&out.stdout)).expect("a setup-failure record");
    assert!(record.reason.contains("(LAB_ARTIFACTS)"), "{record:?}");
}

#[test]
fn in_processes_of_their_own_a_setup_error_says_error_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = labs()
        .args(["--jobs", "auto", "InitialElection2A", "--exact"])
        .env("LAB_NODE", "/nonexistent/node")
        .env("LAB_ARTIFACTS", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("test InitialElection2A ... ERROR: the kit could not set the test up: LAB_NODE="),
        "{text}"
    );
    assert!(text.contains("0 of 1 runs passed, 0 failed, 1 could not be set up"), "{text}");
    assert!(text.contains("concurrency: by measured load"), "{text}");
}
