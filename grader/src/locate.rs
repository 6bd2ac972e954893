//! Finding the kit: its workspace, the reference `labs` the grader tests
//! with, and the grading kit submissions are built from.

use crate::error::GraderError;
use std::path::{Path, PathBuf};

/// The script that builds the kit with other student crates: its presence
/// marks the workspace root.
pub const SWAP_SCRIPT: &str = "scripts/swap-build.sh";

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

/// The grading kit (made by [`KIT_SCRIPT`]): `explicit`, else
/// `WORKSPACE/target/grading-kit`.
pub fn kit(explicit: Option<&Path>, workspace: Option<&Path>) -> Result<PathBuf, GraderError> {
    let dir = match (explicit, workspace) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(w)) => w.join("target/grading-kit"),
        (None, None) => return Err(GraderError::Usage("cannot find the grading kit; pass --kit DIR".into())),
    };
    if !dir.join("node-src/Cargo.lock").is_file() || !dir.join("stamp").is_file() {
        return Err(GraderError::Usage(format!(
            "no grading kit in {}: make it with `{KIT_SCRIPT} {}` (make grade does)",
            dir.display(),
            dir.display()
        )));
    }
    Ok(std::path::absolute(&dir).unwrap_or(dir))
}

/// The script that makes the grading kit.
pub const KIT_SCRIPT: &str = "scripts/grading-kit.sh";
