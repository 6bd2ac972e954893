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
    cmd.env_remove(protocol::env::SEED).env_remove(protocol::env::ARTIFACTS).env_remove(protocol::env::NODE);
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

/// How a bounded run of the grader went.
pub struct Bounded {
    /// Its output (what it wrote before it ended or was stopped).
    pub out: Output,
    /// Its process id (for [`leftovers_of`]).
    pub pid: u32,
    /// How long it ran.
    pub elapsed: std::time::Duration,
    /// Whether it was still running at the limit, and so was stopped.
    pub timed_out: bool,
}

/// How long a grader stopped at its limit gets to clean up after SIGTERM.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs the grader, in a process group of its own, for at most `limit`. At
/// the limit it is sent SIGTERM, then, after [`STOP_GRACE`], its group and
/// every process it started ([`leftovers_of`]) SIGKILL: a hung grading fails
/// its test instead of hanging the suite.
pub fn run_bounded(cmd: &mut Command, limit: std::time::Duration) -> Bounded {
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("the grader starts");
    let pid = child.id();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the grader can be waited for") {
            break status;
        }
        if started.elapsed() > limit && !timed_out {
            timed_out = true;
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
            std::thread::sleep(STOP_GRACE);
            for line in leftovers_of(pid) {
                if let Some(Ok(p)) = line.split(':').next().map(str::parse::<i32>) {
                    let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
                }
            }
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let elapsed = started.elapsed();
    let out = Output {
        status,
        stdout: stdout.join().expect("stdout drained"),
        stderr: stderr.join().expect("stderr drained"),
    };
    eprintln!(
        "$ {cmd:?}\n({:.1} s{})\n--- stdout\n{}--- stderr\n{}",
        elapsed.as_secs_f64(),
        if timed_out { ", STOPPED at the limit" } else { "" },
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Bounded { out, pid, elapsed, timed_out }
}

/// A random token of 32 hexadecimal digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").expect("/dev/urandom"), &mut bytes)
        .expect("16 random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The regular files under `dir`, with their contents, found without
/// following a link; and every entry that is neither a folder nor a regular
/// file (a link, a FIFO, a socket, a device), which a report should not hold.
pub fn report_files(dir: &Path) -> (Vec<(PathBuf, Vec<u8>)>, Vec<PathBuf>) {
    let (mut files, mut odd) = (Vec::new(), Vec::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display())).flatten()
        {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
                files.push((p, bytes));
            } else {
                odd.push(p);
            }
        }
    }
    files.sort();
    (files, odd)
}

/// The first run of at least `window` bytes of `secret` found in `text`:
/// where it is and what it is. `secret` must be of hexadecimal digits; the
/// search looks at the runs of them in `text`.
pub fn secret_in(text: &[u8], secret: &str, window: usize) -> Option<(usize, String)> {
    let is_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    let mut i = 0;
    while i < text.len() {
        if !is_hex(&text[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && is_hex(&text[i]) {
            i += 1;
        }
        let run = &text[start..i];
        for (k, w) in run.windows(window).enumerate() {
            let w = std::str::from_utf8(w).expect("hex digits are ASCII");
            if secret.contains(w) {
                return Some((start + k, w.to_string()));
            }
        }
    }
    None
}
