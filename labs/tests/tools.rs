//! The debugging subcommands from the outside: `labs logs` and `labs
//! timeline` on a small artifact folder.

use assert_cmd::Command;
use std::path::Path;

fn folder(dir: &Path) {
    std::fs::write(
        dir.join("timeline.log"),
        "  0.010000s  begin Test (2A): initial election\n  0.500000s  node 1 leads in term 1\n  0.900000s  node 0 killed (pid 7)\n",
    )
    .unwrap();
    std::fs::write(dir.join("n0.log"), "  0.300000s  INFO raft::election: granted vote peer=0 term=1\n")
        .unwrap();
    std::fs::write(
        dir.join("n1.log"),
        "  0.200000s DEBUG raft::election: becomes candidate peer=1 term=1\n  0.600000s DEBUG raft::leader: sends AppendEntries peer=1 term=1\n",
    )
    .unwrap();
}

fn labs() -> Command {
    Command::cargo_bin("labs").unwrap()
}

#[test]
fn logs_merges_by_time_in_columns_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path());
    let out = labs().args(["logs", "--width", "97"]).arg(dir.path()).env_remove("NO_COLOR").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // Lines that start with a time (the others continue a wrapped line).
    let times: Vec<&str> =
        text.lines().filter(|l| l.starts_with("  0.")).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(times, ["0.010000", "0.200000", "0.300000", "0.500000", "0.600000", "0.900000"], "{text}");
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
    // Node 1's lines sit in the second column (17 + 40 characters in).
    let candidate = text.lines().find(|l| l.contains("becomes candidate")).unwrap();
    assert_eq!(candidate.find("raft::election"), Some(57), "{candidate}");

    let out = labs()
        .args(["logs", "--peer", "0", "--topic", "election", "--color", "always"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("granted vote") && !text.contains("becomes candidate"), "{text}");
    assert!(!text.contains("node 1 leads"), "another node's role stays out of --peer 0");
    assert!(text.contains("node 0 killed") && text.contains('\x1b'), "{text}");
}

#[test]
fn logs_and_timeline_refuse_what_is_not_an_artifact_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = labs().arg("logs").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a test's artifact folder"));
    let out = labs().args(["logs", "--topic", "elections"]).arg(dir.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown topic"));
    let out = labs().arg("timeline").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn timeline_writes_the_page_into_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path());
    let out = labs().arg("timeline").arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let page = std::fs::read_to_string(dir.path().join("timeline.html")).unwrap();
    assert_eq!(page.matches(r#"<g class="lane""#).count(), 2);
}
