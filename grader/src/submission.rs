//! Checking a submission and building its `node` — alone, in the grading
//! kit's node workspace, sandboxed when the grader can. (Finding the kit is
//! [`crate::locate`]'s.)

use crate::error::GraderError;
use crate::process::{self, Exit, Spawned};
use crate::result::{Build, BuildStatus};
use crate::text::truncate_chars;
use harness::sandbox::{Limits, Sandbox, View};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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

/// Builds the submission's `node` — and nothing else: the tester is never
/// compiled with student code. In `swap_root`, a fresh copy of the kit's
/// node workspace gets the submission's crates (the skeleton kvraft if it
/// has none) and a fresh copy of the kit's warm build folder; cargo builds
/// it `--locked --offline` from the kit's vendored sources, inside
/// `sandbox` when there is one. Returns the outcome and, if it built, the
/// `node` binary, copied out of reach of the build (`swap_root/bin/node`).
pub fn build(
    sub: &Submission,
    kit: &Path,
    swap_root: &Path,
    timeout: Duration,
    log: &Path,
    bwrap: Option<&Path>,
) -> (Build, Option<PathBuf>) {
    let failed = |status, secs, message: String| (Build { status, secs, message }, None);
    let started = std::time::Instant::now();
    let prepared = prepare(sub, kit, swap_root, bwrap, timeout, log);
    let (cmd, layout) = match prepared {
        Ok(p) => p,
        Err(e) => return failed(BuildStatus::Failed, 0.0, format!("cannot prepare the build: {e}")),
    };
    let (mut cmd, layout) = (cmd, layout);
    // The lowest CPU priority: test runs beside the build (the self-check's)
    // keep their timers; alone, it loses nothing.
    // SAFETY: between fork and exec, only setpriority (async-signal-safe).
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            nix::libc::setpriority(nix::libc::PRIO_PROCESS, 0, BUILD_NICE);
            Ok(())
        });
    }
    let done = match process::run(Spawned::new(cmd, "build"), timeout, Some(log)) {
        Ok(d) => d,
        Err(e) => return failed(BuildStatus::Failed, 0.0, format!("cannot run the build: {e}")),
    };
    let secs = started.elapsed().as_secs_f64();
    let built = layout.target.join("release/node");
    match done.exit {
        Exit::Code(0) if built.is_file() => {
            match check_lock(&kit.join("node-src/Cargo.lock"), &layout.src.join("Cargo.lock")).and_then(
                |()| install(&built, &layout.bin).map_err(|e| format!("cannot install the built node: {e}")),
            ) {
                Ok(node) => (Build { status: BuildStatus::Built, secs, message: String::new() }, Some(node)),
                Err(e) => failed(BuildStatus::Failed, secs, e),
            }
        }
        Exit::TimedOut => failed(
            BuildStatus::TimedOut,
            secs,
            format!(
                "the build did not finish within {} s and was stopped; the last lines of its output:\n{}",
                timeout.as_secs(),
                done.capture.tail_lines(40)
            ),
        ),
        exit => failed(BuildStatus::Failed, secs, compiler_errors(&done.capture.text(), exit)),
    }
}

/// The niceness of a submission's build (the lowest priority).
const BUILD_NICE: i32 = 19;

/// Where one build happens, under the swap root.
#[derive(Clone)]
struct Layout {
    /// The node workspace with the submission's crates.
    src: PathBuf,
    /// cargo's build folder.
    target: PathBuf,
    /// cargo's home (its caches; the sources come from the kit's vendor folder).
    home: PathBuf,
    /// Where the built node is installed, out of the build's reach.
    bin: PathBuf,
}

/// Lays out a fresh build and returns the command that runs it. The first
/// build in a swap root (or the first after the kit changed) first builds
/// the kit's skeleton crates there, trusted and unsandboxed, into
/// `warm-target`: every later build starts from a copy of it at the same
/// paths, so cargo recompiles only the workspace's crates.
fn prepare(
    sub: &Submission,
    kit: &Path,
    swap_root: &Path,
    bwrap: Option<&Path>,
    timeout: Duration,
    log: &Path,
) -> Result<(Command, Layout), String> {
    let layout = Layout {
        src: swap_root.join("node-src"),
        target: swap_root.join("node-target"),
        home: swap_root.join("cargo-home"),
        bin: swap_root.join("bin"),
    };
    let warm = swap_root.join("warm-target");
    let stamp = kit_stamp(kit)?;
    if std::fs::read_to_string(warm.join(STAMP)).ok().as_deref() != Some(stamp.as_str()) {
        let skeleton = Submission {
            dir: kit.join("skeleton"),
            raft: kit.join("skeleton/raft"),
            kvraft: Some(kit.join("skeleton/kvraft")),
        };
        lay_out(&skeleton, kit, &layout)?;
        remove(&warm).map_err(|e| format!("cannot clear {}: {e}", warm.display()))?;
        let warm_layout = Layout { target: warm.clone(), ..layout.clone() };
        let cmd = cargo_command(&warm_layout, None)?;
        let done = process::run(Spawned::new(cmd, "warm-build"), timeout, Some(log))
            .map_err(|e| format!("cannot run the kit's warm-up build: {e}"))?;
        if done.exit != Exit::Code(0) {
            return Err(format!(
                "the kit's own skeleton crates do not build in {} ({:?}); is the grading kit complete?\n{}",
                layout.src.display(),
                done.exit,
                done.capture.tail_lines(30)
            ));
        }
        std::fs::write(warm.join(STAMP), &stamp).map_err(|e| format!("cannot write the stamp: {e}"))?;
    }
    lay_out(sub, kit, &layout)?;
    // A copy of the warm build folder, so no build sees another's leftovers.
    let status = Command::new("cp")
        .arg("-a")
        .arg(&warm)
        .arg(&layout.target)
        .status()
        .map_err(|e| format!("cannot run cp: {e}"))?;
    if !status.success() {
        return Err(format!("cannot copy {} ({status})", warm.display()));
    }
    let sandbox = match bwrap {
        Some(bwrap) => {
            let sandbox = Sandbox::new(bwrap, harness::sandbox::uid_for(std::process::id()), Limits::BUILD)?;
            for dir in [&layout.src, &layout.target, &layout.home] {
                sandbox
                    .give_tree(dir)
                    .map_err(|e| format!("cannot give {} to the sandbox: {e}", dir.display()))?;
            }
            Some(sandbox)
        }
        None => None,
    };
    let cmd = cargo_command(&layout, sandbox.as_ref().map(|s| (s, kit)))?;
    Ok((cmd, layout))
}

/// The file in `warm-target` naming the kit it was built from.
const STAMP: &str = "raftlab-kit-stamp";

/// What identifies a grading kit: its lock file and the stamp its script wrote.
fn kit_stamp(kit: &Path) -> Result<String, String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    Ok(format!("{}\n{}", read(&kit.join("stamp"))?, read(&kit.join("node-src/Cargo.lock"))?))
}

/// Clears the build folders and lays out the node workspace with `sub`'s crates.
fn lay_out(sub: &Submission, kit: &Path, layout: &Layout) -> Result<(), String> {
    let io = |what: &str, p: &Path| {
        let (what, p) = (what.to_string(), p.display().to_string());
        move |e: std::io::Error| format!("{what} {p}: {e}")
    };
    for dir in [&layout.src, &layout.target, &layout.home, &layout.bin] {
        remove(dir).map_err(io("cannot clear", dir))?;
    }
    std::fs::create_dir_all(&layout.home).map_err(io("cannot create", &layout.home))?;
    std::fs::create_dir_all(&layout.bin).map_err(io("cannot create", &layout.bin))?;
    // The kit's node workspace, without its skeleton crates.
    copy_tree(&kit.join("node-src"), &layout.src, &["raft", "kvraft", "target"])
        .map_err(io("cannot copy", &kit.join("node-src")))?;
    copy_tree(&sub.raft, &layout.src.join("raft"), &["target"]).map_err(io("cannot copy", &sub.raft))?;
    let kvraft = sub.kvraft.clone().unwrap_or_else(|| kit.join("skeleton/kvraft"));
    copy_tree(&kvraft, &layout.src.join("kvraft"), &["target"]).map_err(io("cannot copy", &kvraft))?;
    // The submitted crate must be named as the one it replaces.
    rename_package(&layout.src.join("raft/Cargo.toml"), "raft")
}

/// `cargo build` of the node workspace in `layout`, inside the sandbox (with
/// the kit, whose vendored sources it reads) when one is given.
fn cargo_command(layout: &Layout, sandbox: Option<(&Sandbox, &Path)>) -> Result<Command, String> {
    // Not --locked: a submission may change its own crates' dependency lists
    // (a dev-dependency the kit has), which rewrites their lock entries. It
    // cannot add a crate: --offline with the kit's vendored sources offers
    // only the kit's locked versions, and `check_lock` verifies it after.
    let args: Vec<String> = ["build", "--release", "--offline", "-p", "node", "--manifest-path"]
        .into_iter()
        .map(String::from)
        .chain([layout.src.join("Cargo.toml").display().to_string()])
        .collect();
    let (cargo, sysroot) = crate::isolation::toolchain()?;
    let env: Vec<(String, std::ffi::OsString)> = vec![
        ("CARGO_TARGET_DIR".into(), layout.target.clone().into()),
        ("CARGO_HOME".into(), layout.home.clone().into()),
        ("CARGO_INCREMENTAL".into(), "0".into()),
        ("CARGO_TERM_COLOR".into(), "never".into()),
        ("RUSTC".into(), sysroot.join("bin/rustc").into()),
        ("PATH".into(), format!("{}:/usr/bin:/bin", sysroot.join("bin").display()).into()),
    ];
    Ok(match sandbox {
        None => {
            let mut cmd = Command::new(&cargo);
            cmd.args(&args).envs(env.iter().map(|(k, v)| (k, v))).current_dir(&layout.src);
            cmd
        }
        Some((sandbox, kit)) => {
            let view = View {
                // /etc/alternatives: Debian's cc is a link through it.
                read: vec![sysroot, kit.join("vendor"), PathBuf::from("/etc/alternatives")],
                write: vec![layout.src.clone(), layout.target.clone(), layout.home.clone()],
                env,
                chdir: Some(layout.src.clone()),
            };
            sandbox.command(&cargo, &args, &view)
        }
    })
}

/// Checks that the build's lock file names no registry crate (name and
/// version) that the kit's does not.
fn check_lock(kit_lock: &Path, built_lock: &Path) -> Result<(), String> {
    let registry_crates = |p: &Path| -> Result<std::collections::BTreeSet<String>, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let doc: toml::Table =
            text.parse().map_err(|e| format!("{} is not a lock file: {e}", p.display()))?;
        let packages = doc.get("package").and_then(|v| v.as_array()).cloned().unwrap_or_default();
        Ok(packages
            .iter()
            .filter(|p| p.get("source").is_some())
            .map(|p| {
                let field = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("?").to_string();
                format!("{} {}", field("name"), field("version"))
            })
            .collect())
    };
    let allowed = registry_crates(kit_lock)?;
    let added: Vec<String> = registry_crates(built_lock)?.difference(&allowed).cloned().collect();
    if added.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the submission uses a dependency the kit does not have: {} (only those in the handout's \
             Cargo.toml may be used)",
            added.join(", ")
        ))
    }
}

/// Copies the built node to `bin/node`, owned by the grader and read-only to others.
fn install(built: &Path, bin: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let node = bin.join("node");
    std::fs::copy(built, &node)?;
    std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755))?;
    Ok(node)
}

/// Removes a file or folder if it exists.
pub(crate) fn remove(p: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Copies folder `from` to `to`, skipping top-level entries named in `skip`.
/// Symbolic links are copied as links, never followed: a submission's link
/// to a file of the grader's machine stays a link, which the build sandbox
/// resolves inside itself.
pub(crate) fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let kind = entry.file_type()?;
        let dest = to.join(&name);
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, dest)?;
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &dest, &[])?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

/// Sets the first `name = …` line of a manifest to `name = "<name>"`.
fn rename_package(manifest: &Path, name: &str) -> Result<(), String> {
    let text =
        std::fs::read_to_string(manifest).map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let mut done = false;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if !done && t.starts_with("name") && t["name".len()..].trim_start().starts_with('=') {
                done = true;
                format!("name = \"{name}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(manifest, lines.join("\n") + "\n")
        .map_err(|e| format!("cannot write {}: {e}", manifest.display()))
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
    let new_dependency = ["no matching package named", "failed to select a version", "--locked was passed"]
        .iter()
        .any(|m| output.contains(m));
    let head = match exit {
        _ if new_dependency => {
            "the submission uses a dependency the kit does not have (only those in the handout's \
             Cargo.toml may be used: tokio, serde, postcard, tracing, rand, thiserror, labrpc)"
        }
        Exit::Code(101) | Exit::Code(3) => "the submission does not compile",
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
        let m = compiler_errors(out, Exit::Code(101));
        assert!(m.starts_with("the submission does not compile:\nerror[E0425]"), "{m}");
        assert!(!m.contains("Compiling"));
    }
}
