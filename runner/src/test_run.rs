//! One test run as a process of its own: the one path by which the grader,
//! its self-check and `labs`' repeat mode (`--repeat`, `--jobs`) run a test.
//!
//! A run is the tester (`labs`) started as `labs <id> --exact`, with its own
//! seed ([`protocol::env::SEED`]) and artifact folder
//! ([`protocol::env::ARTIFACTS`]), in a process group of its own, stopped at
//! its time limit, its output captured with a cap and escaped
//! ([`crate::capture`]) and written to a file, and nothing of it left behind
//! ([`crate::process`]). When graded it is also handed a fresh secret to sign
//! its pass with ([`crate::proof`]), its nodes may be sandboxed, and it may
//! get a private `/tmp` ([`crate::isolation::PrivateTmp`]).
//!
//! What a run's end means is for the caller to judge; [`Finished`] holds
//! what it takes: how the process ended, the tester's proof if it printed
//! one, and the reason it gave if the kit could not set the test up.

use crate::capture::Capture;
use crate::isolation::PrivateTmp;
use crate::process::{self, Exit, Spawned};
use protocol::{SetupFailure, env};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Seconds past a test's own time limit (the tester's watchdog) before a
/// run is killed: time for the tester to report and exit by itself.
pub const GRACE_SECS: u64 = 10;

/// The time limit of a run of a test whose own limit is `timeout_secs`.
pub fn limit(timeout_secs: u64) -> Duration {
    Duration::from_secs(timeout_secs + GRACE_SECS)
}

/// What the run's nodes are sandboxed with: the [`env::SANDBOX`] it gets.
#[derive(Debug, Clone, Copy)]
pub enum Sandboxing<'a> {
    /// As this process's environment says (a student's own `LAB_SANDBOX`).
    Inherit,
    /// Not sandboxed, whatever the environment says.
    Off,
    /// With this `bwrap`.
    Bwrap(&'a Path),
}

/// One run to make.
pub struct TestRun<'a> {
    /// The tester binary (`labs`).
    pub tester: &'a Path,
    /// The test's catalogue id.
    pub id: &'a str,
    /// The seed of its random choices.
    pub seed: u64,
    /// The folder [`env::ARTIFACTS`] names (created if missing).
    pub artifacts: &'a Path,
    /// Where its captured output goes (its folder created if missing).
    pub output: &'a Path,
    /// Its time limit ([`limit`] of the test's own, usually).
    pub limit: Duration,
    /// The `node` binary it starts ([`env::NODE`]); `None`: as this
    /// process's environment says.
    pub node: Option<&'a Path>,
    /// More arguments for the tester, after `<id> --exact`.
    pub args: &'a [String],
    /// How its nodes are sandboxed.
    pub sandbox: Sandboxing<'a>,
    /// Whether it gets a private `/tmp` (needs root; Linux): then not even
    /// a run killed at its time limit leaves its test directory behind in
    /// the real `/tmp`.
    pub private_tmp: bool,
    /// The largest file any of its processes may write, if limited.
    pub file_size_limit: Option<u64>,
    /// Whether it is handed a secret to prove its pass with.
    pub prove: bool,
    /// What it is, for its run token ("InitialElection2A-3").
    pub label: String,
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    /// How its process ended.
    pub exit: Exit,
    /// Wall-clock seconds.
    pub secs: f64,
    /// CPU seconds of the tester and its nodes.
    pub cpu_secs: f64,
    /// Its output, capped (written to [`TestRun::output`] too).
    pub capture: Capture,
    /// With [`TestRun::prove`]: the tester's signed record of the test's
    /// milliseconds, if its output holds a valid proof of its pass.
    pub proof: Option<u64>,
}

impl Finished {
    /// Whether the kit could not set the test up ([`protocol::exit::SETUP`]).
    pub fn setup_failed(&self) -> bool {
        self.exit == Exit::Code(protocol::exit::SETUP)
    }

    /// The reason the run's [`SetupFailure`] record gives, escaped again
    /// (its JSON, ASCII, can name any character); `None` if it printed none.
    pub fn setup_reason(&self) -> Option<String> {
        setup_reason(&self.capture.text())
    }
}

/// The reason in the last [`SetupFailure`] record of `output`, escaped.
pub fn setup_reason(output: &str) -> Option<String> {
    SetupFailure::find(output).map(|r| crate::text::escape_controls(&r.reason).into_owned())
}

/// Runs `run` to its end or its time limit.
///
/// # Errors
/// Why it could not be run: a folder that cannot be made, no secret, a
/// private `/tmp` that cannot be prepared, a tester that cannot start.
pub fn run(run: &TestRun) -> Result<Finished, String> {
    let output_dir = run.output.parent().map(Path::to_path_buf);
    for dir in [Some(run.artifacts.to_path_buf()), output_dir].into_iter().flatten() {
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let secret = match run.prove {
        true => {
            Some(fresh_secret().map_err(|e| format!("cannot read /dev/urandom for the run's secret: {e}"))?)
        }
        false => None,
    };
    let mut cmd = Command::new(run.tester);
    cmd.arg(run.id)
        .arg("--exact")
        .args(run.args)
        .env(env::SEED, run.seed.to_string())
        .env(env::ARTIFACTS, run.artifacts);
    if let Some(node) = run.node {
        cmd.env(env::NODE, node);
    }
    match run.sandbox {
        Sandboxing::Inherit => {}
        Sandboxing::Off => {
            cmd.env_remove(env::SANDBOX);
        }
        Sandboxing::Bwrap(bwrap) => {
            cmd.env(env::SANDBOX, bwrap);
        }
    }
    let private_tmp = match run.private_tmp {
        // The tester and the node are bound back in read-only, wherever they are.
        true => {
            let needed: Vec<&Path> =
                [Some(run.tester), run.node].into_iter().flatten().filter_map(Path::parent).collect();
            Some(
                PrivateTmp::new(run.artifacts, &needed)
                    .map_err(|e| format!("cannot prepare the run's private /tmp: {e}"))?,
            )
        }
        false => None,
    };
    let spawned = Spawned {
        cmd,
        label: run.label.clone(),
        file_size_limit: run.file_size_limit,
        private_tmp,
        secret: secret.clone(),
        disk_limit: None,
    };
    let done = process::run(spawned, run.limit, Some(run.output))
        .map_err(|e| format!("cannot run {}: {e}", run.tester.display()))?;
    let proof = secret.and_then(|s| crate::proof::verify(&done.capture.text(), &s, run.id, run.seed));
    Ok(Finished { exit: done.exit, secs: done.secs, cpu_secs: done.cpu_secs, capture: done.capture, proof })
}

/// 32 bytes from the kernel's generator: one run's secret.
fn fresh_secret() -> std::io::Result<Vec<u8>> {
    let mut secret = vec![0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut secret)?;
    Ok(secret)
}

/// The artifact folder a test's run keeps under `root` (`<root>/<id>`, with
/// the id's characters outside `[A-Za-z0-9_-]` as `_`), as the harness
/// names it.
pub fn test_folder(root: &Path, id: &str) -> PathBuf {
    root.join(safe_name(id))
}

/// `name` with every character outside `[A-Za-z0-9_-]` as `_`: a file name
/// whatever a test id holds.
pub fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tester that prints `script`'s output and exits as it does.
    fn tester(dir: &Path, script: &str) -> PathBuf {
        let path = dir.join("labs");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        path
    }

    fn one<'a>(tester: &'a Path, dir: &'a Path, output: &'a Path, prove: bool) -> TestRun<'a> {
        TestRun {
            tester,
            id: "X2A",
            seed: 7,
            artifacts: dir,
            output,
            limit: Duration::from_secs(20),
            node: None,
            args: &[],
            sandbox: Sandboxing::Off,
            private_tmp: false,
            file_size_limit: None,
            prove,
            label: "X2A-1".into(),
        }
    }

    #[test]
    fn a_run_gets_its_id_seed_and_folder_and_its_output_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let labs =
            tester(dir.path(), "echo \"$1 $2 $LAB_SEED $LAB_ARTIFACTS ${LAB_SANDBOX-unset}\"; exit 101");
        let (art, out) = (dir.path().join("a/b"), dir.path().join("o/run.out"));
        let done = run(&one(&labs, &art, &out, false)).unwrap();
        let expected = format!("X2A --exact 7 {} unset\n", art.display());
        assert_eq!((done.exit, done.capture.text()), (Exit::Code(101), expected.clone()));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
        assert!(art.is_dir() && done.proof.is_none() && !done.setup_failed());
    }

    #[test]
    fn a_setup_failure_gives_its_reason_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let record = SetupFailure::new("no \u{1b}[2J node").line();
        let labs = tester(dir.path(), &format!("echo '{record}'; exit 3"));
        let out = dir.path().join("run.out");
        let done = run(&one(&labs, dir.path(), &out, false)).unwrap();
        assert!(done.setup_failed());
        assert_eq!(done.setup_reason().as_deref(), Some(r"no \x1b[2J node"));
    }

    #[test]
    fn only_a_proof_under_the_runs_own_secret_counts() {
        let dir = tempfile::tempdir().unwrap();
        // A forger prints a proof line it made up, and reads no secret.
        let labs = tester(dir.path(), "echo 'raftlab-proof: 12 00ff'; exit 0");
        let out = dir.path().join("run.out");
        let done = run(&one(&labs, dir.path(), &out, true)).unwrap();
        assert_eq!((done.exit, done.proof), (Exit::Code(0), None));
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("Figure8Unreliable2C"), "Figure8Unreliable2C");
        assert_eq!(safe_name("../a b"), "___a_b");
        assert_eq!(test_folder(Path::new("/r"), "a/b"), Path::new("/r/a_b"));
    }
}
