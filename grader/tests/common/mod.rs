//! Helpers shared by the grader's integration tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The grader's crate folder.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    crate_dir().parent().expect("the grader crate is inside the workspace").to_path_buf()
}

/// The grader binary under test.
pub fn grader() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grader"));
    cmd.env_remove("LAB_SEED").env_remove("LAB_ARTIFACTS").env_remove("LAB_NODE");
    cmd
}

/// Runs the grader and returns its output, printing it for the test log.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the grader starts");
    eprintln!(
        "$ {cmd:?}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A JSON file.
pub fn json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Checks the reports in `out` with independent consumers (jsonschema and
/// junitparser, installed from PyPI by tests/support/python-deps.sh). Skips,
/// saying so, when Python or pip is not available.
pub fn validate(out: &Path, tests: usize, failures: usize, errors: usize, score: Option<f64>) {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let script = crate_dir().join("tests/support/python-deps.sh");
        match Command::new("bash").arg(&script).output() {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
            Err(e) => Err(e.to_string()),
        }
    });
    if let Err(why) = ready {
        eprintln!("SKIPPED report validation: jsonschema/junitparser unavailable: {why}");
        return;
    }
    let mut cmd = Command::new("python3");
    cmd.arg(crate_dir().join("tests/support/validate_reports.py")).arg(out).args([
        "--tests",
        &tests.to_string(),
        "--failures",
        &failures.to_string(),
        "--errors",
        &errors.to_string(),
    ]);
    if let Some(s) = score {
        cmd.args(["--score", &s.to_string()]);
    }
    let o = cmd.output().expect("python3 runs");
    assert!(
        o.status.success(),
        "the reports in {} do not validate:\n{}{}",
        out.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The test entry of results.json named by catalogue id.
pub fn gs_test<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["tests"]
        .as_array()
        .expect("tests is an array")
        .iter()
        .find(|t| t["name"].as_str().is_some_and(|n| n.contains(&format!(" {id}:"))))
        .unwrap_or_else(|| panic!("no test {id} in results.json"))
}

/// Processes still running whose environment carries a grader run token.
pub fn leftover_processes(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if String::from_utf8_lossy(&env).contains("GRADER_RUN_TOKEN=") && !stat.contains(") Z") {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(marker) {
                found.push(format!("{pid}: {cmdline}"));
            }
        }
    }
    found
}

/// Processes still running that a grader with process id `grader_pid` started
/// (their environment carries its run token).
pub fn leftovers_of(grader_pid: u32) -> Vec<String> {
    leftover_processes("")
        .into_iter()
        .filter(|_| true)
        .filter(|line| {
            let pid = line.split(':').next().unwrap_or("");
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            String::from_utf8_lossy(&env).contains(&format!("GRADER_RUN_TOKEN={grader_pid}-"))
        })
        .collect()
}

/// Runs the grader, returning its output and process id.
pub fn run_with_pid(cmd: &mut Command) -> (Output, u32) {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the grader starts");
    let pid = child.id();
    let out = child.wait_with_output().expect("the grader ends");
    eprintln!(
        "$ {cmd:?}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, pid)
}

/// Copies a folder (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let kind = e.file_type().unwrap();
        if kind.is_dir() {
            if e.file_name() != "target" {
                copy_dir(&e.path(), &to.join(e.file_name()));
            }
        } else if kind.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Total size of the regular files under `dir`.
pub fn du(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(m) = e.path().symlink_metadata() else { continue };
        if m.is_dir() {
            total += du(&e.path());
        } else if m.is_file() {
            total += m.len();
        }
    }
    total
}
