//! Finding the kit: its workspace, the reference `labs` the grader tests
//! with, and the grading kit submissions are built from.

use crate::error::GraderError;
use std::path::{Path, PathBuf};

/// The grading kit's folder under the workspace, when none is given.
pub const DEFAULT_KIT_DIR: &str = "target/grading-kit";

/// The workspace member that marks the kit's workspace root: a
/// `Cargo.toml` whose `[workspace] members` lists it.
pub const MARKER_MEMBER: &str = "labs";

/// Whether `dir` is the kit's workspace root: its `Cargo.toml` is a
/// workspace with [`MARKER_MEMBER`] among its members.
fn is_workspace(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else { return false };
    let Ok(manifest) = text.parse::<toml::Table>() else { return false };
    manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .is_some_and(|members| members.iter().any(|m| m.as_str() == Some(MARKER_MEMBER)))
}

/// The kit's workspace root: `explicit`, else the ancestor of the grader's
/// executable or of the current folder that is it ([`is_workspace`]).
pub fn workspace(explicit: Option<&Path>) -> Result<PathBuf, GraderError> {
    if let Some(p) = explicit {
        return if is_workspace(p) {
            Ok(p.to_path_buf())
        } else {
            Err(GraderError::Usage(format!(
                "--workspace {}: not the raftlab workspace (no Cargo.toml with the `{MARKER_MEMBER}` member there)",
                p.display()
            )))
        };
    }
    let starts = [std::env::current_exe().ok(), std::env::current_dir().ok()];
    for start in starts.into_iter().flatten() {
        if let Some(root) = start.ancestors().find(|a| is_workspace(a)) {
            return Ok(root.to_path_buf());
        }
    }
    Err(GraderError::Usage(format!(
        "cannot find the raftlab workspace (a Cargo.toml with the `{MARKER_MEMBER}` member); pass --workspace DIR"
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

/// The grading kit (made by `grader kit`, [`crate::kit`]): `explicit`, else
/// `WORKSPACE/target/grading-kit`.
pub fn kit(explicit: Option<&Path>, workspace: Option<&Path>) -> Result<PathBuf, GraderError> {
    let dir = match (explicit, workspace) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(w)) => w.join(DEFAULT_KIT_DIR),
        (None, None) => return Err(GraderError::Usage("cannot find the grading kit; pass --kit DIR".into())),
    };
    if !dir.join("node-src/Cargo.lock").is_file() || !dir.join("stamp").is_file() {
        return Err(GraderError::Usage(format!(
            "no grading kit in {}: make it with `grader kit {}` (make grade does)",
            dir.display(),
            dir.display()
        )));
    }
    Ok(std::path::absolute(&dir).unwrap_or(dir))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_workspace_is_the_cargo_workspace_with_the_labs_member() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path();
        assert!(!super::is_workspace(ws), "no Cargo.toml");
        for (manifest, is) in [
            ("[workspace]\nmembers = [\"raft\", \"labs\"]\n", true),
            ("[workspace]\nmembers = [\"raft\"]\n", false),
            ("[package]\nname = \"labs\"\n", false),
            ("[workspace\n", false),
        ] {
            std::fs::write(ws.join("Cargo.toml"), manifest).unwrap();
            assert_eq!(super::is_workspace(ws), is, "{manifest}");
        }
        let e = super::workspace(Some(&ws.join("nowhere"))).unwrap_err().to_string();
        assert!(e.contains("not the raftlab workspace"), "{e}");
    }
}
