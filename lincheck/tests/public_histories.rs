//! Every public history gets the verdict the reference checker gives it
//! (shared/data/porcupine/EXPECTED.tsv).

mod common;

use std::path::Path;
use std::time::Duration;

use lincheck::parse::{read_etcd_file, read_kv_file};
use lincheck::{KvModel, RegisterModel, Verdict, check_operations};

/// Far more than any public history needs (the slowest takes milliseconds);
/// reaching it means a regression, reported as a verdict of `Unknown`.
const TIMEOUT: Duration = Duration::from_secs(60);

fn verdict_of(path: &Path) -> Verdict {
    let in_dir = |name: &str| path.parent().and_then(|p| p.file_name()).is_some_and(|d| d == name);
    if in_dir("jepsen") {
        let history = read_etcd_file(path).unwrap_or_else(|e| panic!("{e}"));
        check_operations(&RegisterModel, &history, Some(TIMEOUT)).verdict()
    } else if in_dir("kv") {
        let history = read_kv_file(path).unwrap_or_else(|e| panic!("{e}"));
        check_operations(&KvModel, &history, Some(TIMEOUT)).verdict()
    } else {
        panic!("{}: no model for this folder; EXPECTED.tsv lists jepsen/ and kv/ files", path.display())
    }
}

#[test]
fn every_public_history_gets_the_expected_verdict() {
    let dir = common::porcupine_dir();
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).expect("EXPECTED.tsv is readable");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in expected.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (file, want) = line.split_once('\t').unwrap_or_else(|| panic!("EXPECTED.tsv: bad line {line:?}"));
        let want = match want.trim() {
            "ok" => Verdict::Ok,
            "illegal" => Verdict::Illegal,
            other => panic!("EXPECTED.tsv: unknown verdict {other:?} for {file}"),
        };
        let got = verdict_of(&dir.join(file));
        if got != want {
            wrong.push(format!("{file}: expected {want:?}, got {got:?}"));
        }
        checked += 1;
    }
    assert_eq!(checked, 54, "EXPECTED.tsv should list the 50 etcd logs and the 4 kv files");
    assert!(
        wrong.is_empty(),
        "verdicts differ from the reference on {} file(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_file_in_the_folder_has_an_expected_verdict() {
    let dir = common::porcupine_dir();
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).expect("EXPECTED.tsv is readable");
    for sub in ["jepsen", "kv"] {
        for entry in std::fs::read_dir(dir.join(sub)).expect("the folder is readable") {
            let name = format!("{sub}/{}", entry.expect("a directory entry").file_name().to_string_lossy());
            assert!(
                expected.lines().any(|l| l.starts_with(&format!("{name}\t"))),
                "{name} is not in EXPECTED.tsv"
            );
        }
    }
}
