//! Finding the kit, checking a submission, and building it with
//! `scripts/swap-build.sh` in a scratch copy of the workspace.

use crate::error::GraderError;
use crate::process::{self, Exit, Spawned};
use crate::result::{Build, BuildStatus, truncate_chars};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The script that builds the kit with other student crates.
pub const SWAP_SCRIPT: &str = "scripts/swap-build.sh";
/// How much of the compiler's output a report quotes.
const BUILD_MESSAGE_CHARS: usize = 16 * 1024;

/// A submission folder: `raft/` and maybe `kvraft/`.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The folder given on the command line.
    pub dir: PathBuf,
    /// Its `raft/` crate.
    pub raft: PathBuf,
    /// Its `kvraft/` crate, if it has one.
    pub kvraft: Option<PathBuf>,
}

/// Checks that `dir` is a folder with a `raft/` crate (and, if it has a
/// `kvraft/` folder, that it is a crate too).
pub fn check(dir: &Path) -> Result<Submission, GraderError> {
    let bad = |m: &str| GraderError::Submission(dir.display().to_string(), m.to_string());
    let meta = std::fs::metadata(dir).map_err(|e| bad(&format!("cannot read it: {e}")))?;
    if !meta.is_dir() {
        return Err(bad("not a folder (expected a folder holding raft/ and optionally kvraft/)"));
    }
    std::fs::read_dir(dir).map_err(|e| bad(&format!("cannot list it: {e}")))?;
    let raft = dir.join("raft");
    if !raft.join("Cargo.toml").is_file() {
        return Err(bad("no raft/Cargo.toml in it (expected a folder holding raft/ and optionally kvraft/)"));
    }
    let kv = dir.join("kvraft");
    let kvraft = if kv.exists() {
        if !kv.join("Cargo.toml").is_file() {
            return Err(bad("it has a kvraft/ folder without a Cargo.toml"));
        }
        Some(kv)
    } else {
        None
    };
    Ok(Submission { dir: dir.to_path_buf(), raft, kvraft })
}

/// The kit's workspace root: `explicit`, else the ancestor of the grader's
/// executable or of the current folder that holds [`SWAP_SCRIPT`].
pub fn workspace(explicit: Option<&Path>) -> Result<PathBuf, GraderError> {
    if let Some(p) = explicit {
        return if p.join(SWAP_SCRIPT).is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(GraderError::Usage(format!("--workspace {}: no {SWAP_SCRIPT} there", p.display())))
        };
    }
    let starts = [std::env::current_exe().ok(), std::env::current_dir().ok()];
    for start in starts.into_iter().flatten() {
        if let Some(root) =
            start.ancestors().find(|a| a.join(SWAP_SCRIPT).is_file() && a.join("Cargo.toml").is_file())
        {
            return Ok(root.to_path_buf());
        }
    }
    Err(GraderError::Usage(format!(
        "cannot find the raftlab workspace ({SWAP_SCRIPT}); pass --workspace DIR"
    )))
}

/// The reference `labs` binary: `explicit`, else beside the grader, else in
/// the workspace's target/release.
pub fn reference_labs(explicit: Option<&Path>, workspace: Option<&Path>) -> Result<PathBuf, GraderError> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(GraderError::Usage(format!("--labs {}: no such file", p.display())))
        };
    }
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("labs")));
    let in_target = workspace.map(|w| w.join("target/release/labs"));
    [beside, in_target].into_iter().flatten().find(|p| p.is_file()).ok_or_else(|| {
        GraderError::Usage("cannot find the labs binary; build it with `cargo build --release -p node -p labs` or pass --labs PATH".into())
    })
}

/// Builds the kit with the submission's crates. Returns the outcome and, if
/// it built, the `labs` binary (with `node` beside it).
pub fn build(
    sub: &Submission,
    workspace: &Path,
    swap_root: &Path,
    timeout: Duration,
    log: &Path,
) -> (Build, Option<PathBuf>) {
    let mut cmd = Command::new("bash");
    cmd.arg(workspace.join(SWAP_SCRIPT)).arg(&sub.raft).env("SWAP_ROOT", swap_root);
    if let Some(kv) = &sub.kvraft {
        cmd.arg(kv);
    }
    let failed = |status, secs, message: String| (Build { status, secs, message }, None);
    let done = match process::run(Spawned::new(cmd, "build"), timeout, Some(log)) {
        Ok(d) => d,
        Err(e) => return failed(BuildStatus::Failed, 0.0, format!("cannot run {SWAP_SCRIPT}: {e}")),
    };
    let labs = swap_root.join("target/release/labs");
    match done.exit {
        Exit::Code(0) if labs.is_file() => {
            (Build { status: BuildStatus::Built, secs: done.secs, message: String::new() }, Some(labs))
        }
        Exit::TimedOut => failed(
            BuildStatus::TimedOut,
            done.secs,
            format!(
                "the build did not finish within {} s and was stopped; the last lines of its output:\n{}",
                timeout.as_secs(),
                done.capture.tail_lines(40)
            ),
        ),
        exit => failed(BuildStatus::Failed, done.secs, compiler_errors(&done.capture.text(), exit)),
    }
}

/// The compiler's errors from a build's output: from the first `error` line
/// on, else the last lines.
fn compiler_errors(output: &str, exit: Exit) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let first = lines.iter().position(|l| l.starts_with("error") || l.starts_with("swap-build:"));
    let text = match first {
        Some(i) => lines[i..].join("\n"),
        None => lines[lines.len().saturating_sub(40)..].join("\n"),
    };
    let head = match exit {
        Exit::Code(2) => "the submission is not a crate",
        Exit::Code(3) => "the submission does not compile",
        _ => "the build failed",
    };
    format!("{head}:\n{}", truncate_chars(&text, BUILD_MESSAGE_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_needs_a_raft_crate() {
        let dir = tempfile::tempdir().unwrap();
        let e = check(dir.path()).unwrap_err().to_string();
        assert!(e.contains("no raft/Cargo.toml"), "{e}");
        std::fs::create_dir(dir.path().join("raft")).unwrap();
        std::fs::write(dir.path().join("raft/Cargo.toml"), "").unwrap();
        let s = check(dir.path()).unwrap();
        assert!(s.kvraft.is_none());
        assert!(check(&dir.path().join("missing")).unwrap_err().to_string().contains("cannot read it"));
    }

    #[test]
    fn compiler_errors_start_at_the_first_error() {
        let out = "   Compiling raft v0.1.0\nerror[E0425]: cannot find value `x`\n --> raft/src/lib.rs:3:5\nerror: could not compile `raft`\nswap-build: …\n";
        let m = compiler_errors(out, Exit::Code(3));
        assert!(m.starts_with("the submission does not compile:\nerror[E0425]"), "{m}");
        assert!(!m.contains("Compiling"));
    }
}
