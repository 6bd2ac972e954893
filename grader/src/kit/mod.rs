//! `grader kit`: the grading kit, made from the kit alone — what the grader
//! builds submissions from, so that its tester is never built with student
//! code (the trust boundary in README.md, "Grading untrusted submissions"):
//!
//! ```text
//! OUT/node-src/   the node workspace: the kit's crates that node links
//!                 (crate::crates::KIT_CRATES) and the handout's skeletons of
//!                 the student crates (which a submission replaces), its own
//!                 Cargo.lock (the kit's, pruned) and a cargo config that
//!                 takes every dependency from OUT/vendor
//! OUT/vendor/     the sources of the dependencies that lock file allows
//! OUT/stamp       names this kit by its content (the grader rebuilds its warm
//!                 build of the skeletons, beside its submission builds, when it changes)
//! OUT/skeleton/   the skeleton crates, for a submission without one of them
//! ```
//!
//! It needs the network (or a warm cargo cache) once, to vendor; the
//! submissions' builds are `--offline`. Everything is written as the caller
//! and made read-only to others: only the grader's uid can change it.

mod manifest;
mod stamp;
mod tree;

pub use manifest::renamed;
pub use tree::copy as copy_exact;

use crate::crates::{KIT_CRATES, StudentCrates};
use crate::error::GraderError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The folder of the handout's skeleton crates, in the workspace.
const SKELETONS: &str = "handout";
/// The crate whose dev-dependencies the node workspace drops, with its
/// test and bench folders (they use the harness, which is not in it).
const NODE: &str = "node";

/// Where the cargo commands the kit runs write what they say.
pub enum Log<'a> {
    /// The grader's own stderr.
    Inherit,
    /// A file (the swap root's `grading-kit.log`).
    File(&'a std::fs::File),
}

impl Log<'_> {
    fn stderr(&self) -> std::io::Result<Stdio> {
        Ok(match self {
            Log::Inherit => Stdio::inherit(),
            Log::File(f) => Stdio::from(f.try_clone()?),
        })
    }
}

/// `grader kit [OUT]`: makes the grading kit and says where.
pub fn run(args: &crate::cli::KitArgs) -> Result<bool, GraderError> {
    let workspace = crate::locate::workspace(args.workspace.as_deref())?;
    let labs = crate::locate::reference_labs(args.labs.as_deref(), Some(&workspace))?;
    let crates = crate::crates::load(&labs)?;
    let out = args.out.clone().unwrap_or_else(|| workspace.join(crate::locate::DEFAULT_KIT_DIR));
    let out = make(&workspace, &out, &crates, &Log::Inherit)?;
    println!("grading kit ready in {}", out.display());
    Ok(true)
}

/// Makes the grading kit of `workspace` in `out` for `crates`, and returns
/// `out` made absolute. The stamp is rewritten only if the content changed.
pub fn make(workspace: &Path, out: &Path, crates: &StudentCrates, log: &Log) -> Result<PathBuf, GraderError> {
    let io = |what: String| move |e: std::io::Error| GraderError::Io(what, e);
    std::fs::create_dir_all(out).map_err(io(format!("cannot create {}", out.display())))?;
    let out = std::fs::canonicalize(out).map_err(io(format!("cannot resolve {}", out.display())))?;
    let stage = out.join(".stage");
    remove(&stage)?;
    stage_node_workspace(workspace, &stage, crates)?;
    let manifest = stage.join("Cargo.toml");
    prune_lock(&manifest, log)?;
    let vendor = out.join("vendor");
    remove(&vendor)?;
    cargo(log, |c| {
        c.args(["vendor", "--locked", "--manifest-path"]).arg(&manifest).arg(&vendor);
    })?;
    let config = manifest::cargo_config(&vendor).map_err(GraderError::Kit)?;
    std::fs::create_dir_all(stage.join(".cargo"))
        .map_err(io(format!("cannot create {}/.cargo", stage.display())))?;
    write(&stage.join(".cargo/config.toml"), &config)?;
    let src = out.join("node-src");
    remove(&src)?;
    std::fs::rename(&stage, &src).map_err(io(format!(
        "cannot move {} to {}",
        stage.display(),
        src.display()
    )))?;
    let skeleton = out.join("skeleton");
    remove(&skeleton)?;
    std::fs::create_dir(&skeleton).map_err(io(format!("cannot create {}", skeleton.display())))?;
    for name in crates.all() {
        copy(&workspace.join(SKELETONS).join(name), &skeleton.join(name), &["target"])?;
    }
    remove(&out.join("node-target"))?;
    let stamp =
        stamp::of(&out, &["node-src", "skeleton"]).map_err(io(format!("cannot stamp {}", out.display())))?;
    stamp::write_if_changed(&out.join("stamp"), &stamp)
        .map_err(io(format!("cannot write {}/stamp", out.display())))?;
    tree::make_read_only_to_others(&out)
        .map_err(io(format!("cannot set the permissions of {}", out.display())))?;
    Ok(out)
}

/// Writes the node workspace into `stage`: the kit's crates node links,
/// the skeletons of `crates`, node's manifest without dev-dependencies, the
/// kit's workspace manifest with only these members, and the kit's lock file.
fn stage_node_workspace(workspace: &Path, stage: &Path, crates: &StudentCrates) -> Result<(), GraderError> {
    let io = |what: String| move |e: std::io::Error| GraderError::Io(what, e);
    std::fs::create_dir_all(stage).map_err(io(format!("cannot create {}", stage.display())))?;
    for name in KIT_CRATES {
        copy(&workspace.join(name), &stage.join(name), &["target"])?;
    }
    for name in crates.all() {
        copy(&workspace.join(SKELETONS).join(name), &stage.join(name), &["target"])?;
    }
    let node = stage.join(NODE);
    let text = read(&workspace.join(NODE).join("Cargo.toml"))?;
    write(&node.join("Cargo.toml"), &manifest::without_dev_dependencies(&text).map_err(GraderError::Kit)?)?;
    for dir in ["tests", "benches"] {
        remove(&node.join(dir))?;
    }
    let members: Vec<&str> = KIT_CRATES
        .iter()
        .copied()
        .filter(|c| *c != NODE)
        .chain(crates.all().iter().map(String::as_str))
        .chain([NODE])
        .collect();
    let text = read(&workspace.join("Cargo.toml"))?;
    write(
        &stage.join("Cargo.toml"),
        &manifest::workspace_with_members(&text, &members).map_err(GraderError::Kit)?,
    )?;
    let lock = workspace.join("Cargo.lock");
    std::fs::copy(&lock, stage.join("Cargo.lock")).map_err(io(format!("cannot copy {}", lock.display())))?;
    Ok(())
}

/// Prunes the staged lock file (the kit's) to what the node workspace uses,
/// moving no version: `cargo metadata`, offline if the cache allows.
fn prune_lock(manifest: &Path, log: &Log) -> Result<(), GraderError> {
    let metadata = |c: &mut Command| {
        c.args(["metadata", "--format-version", "1", "--manifest-path"]).arg(manifest);
    };
    let offline = Command::new(cargo_program())
        .args(["metadata", "--offline", "--format-version", "1", "--manifest-path"])
        .arg(manifest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match offline {
        Ok(s) if s.success() => Ok(()),
        _ => cargo(log, metadata),
    }
}

/// cargo: `$CARGO`, else `cargo` on the PATH.
fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs cargo with the arguments `args` gives, its stdout dropped and its
/// stderr to `log`; an error unless it succeeds.
fn cargo(log: &Log, args: impl FnOnce(&mut Command)) -> Result<(), GraderError> {
    let mut cmd = Command::new(cargo_program());
    args(&mut cmd);
    let stderr = log.stderr().map_err(|e| GraderError::Io("cannot open the kit's log".into(), e))?;
    let shown = format!("{cmd:?}");
    let status = cmd
        .stdout(Stdio::null())
        .stderr(stderr)
        .status()
        .map_err(|e| GraderError::Io(format!("cannot run {shown}"), e))?;
    if status.success() { Ok(()) } else { Err(GraderError::Kit(format!("{shown} failed ({status})"))) }
}

fn copy(from: &Path, to: &Path, skip: &[&str]) -> Result<(), GraderError> {
    tree::copy(from, to, skip)
        .map_err(|e| GraderError::Io(format!("cannot copy {} to {}", from.display(), to.display()), e))
}

fn read(path: &Path) -> Result<String, GraderError> {
    std::fs::read_to_string(path).map_err(|e| GraderError::Io(format!("cannot read {}", path.display()), e))
}

fn write(path: &Path, text: &str) -> Result<(), GraderError> {
    std::fs::write(path, text).map_err(|e| GraderError::Io(format!("cannot write {}", path.display()), e))
}

fn remove(path: &Path) -> Result<(), GraderError> {
    crate::files::remove(path).map_err(|e| GraderError::Io(format!("cannot remove {}", path.display()), e))
}
