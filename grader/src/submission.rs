//! Checking a submission and building its `node` — alone, in the grading
//! kit's node workspace, sandboxed when the grader can. (Finding the kit is
//! [`crate::locate`]'s.)

use crate::crates::StudentCrates;
use crate::error::GraderError;
use crate::files::{copy_tree, remove};
use crate::result::{Build, BuildStatus};
use runner::process::{self, Exit, Spawned};
use runner::sandbox::{Limits, Sandbox, View};
use runner::text::truncate_chars;
use runner::untrusted::{Links, Refused, Rules, Tree};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How much of the compiler's output a report quotes.
const BUILD_MESSAGE_CHARS: usize = 16 * 1024;

/// A submission folder: one entry per student crate (`raft/` and maybe
/// `kvraft/`, as the labs declare them: [`StudentCrates`]). Everything in
/// it is hostile data ([`runner::untrusted`]): it is read only through a
/// handle, no link in it is followed, and what is not a plain folder, file
/// or inside link refuses the build (score 0, with the reason).
#[derive(Debug, Clone)]
pub struct Submission {
    /// The folder given on the command line, its own links resolved (that
    /// path is the operator's; nothing inside it is).
    pub dir: PathBuf,
    /// Every student crate, in the labs' order, and whether the folder has
    /// an entry of that name (whatever it is: the build refuses one that is
    /// not a folder). A crate it lacks is built from the kit's skeleton.
    pub crates: Vec<(String, bool)>,
}

impl Submission {
    /// A folder that holds every student crate (the reference crates, a
    /// mutant's, the kit's skeletons): trusted, not checked.
    pub fn whole(dir: PathBuf, crates: &StudentCrates) -> Self {
        Submission { dir, crates: crates.all().iter().map(|c| (c.clone(), true)).collect() }
    }
}

/// The bounds on what a submission's copy may hold: far above any honest
/// crate (a few hundred kilobytes), far below what would hurt the grader.
const SUBMISSION_BYTES: u64 = 64 * 1024 * 1024;
const SUBMISSION_ENTRIES: u64 = 20_000;
/// The largest manifest and lock file read.
const MANIFEST_BYTES: u64 = 1024 * 1024;
const LOCK_BYTES: u64 = 8 * 1024 * 1024;
/// The largest node binary installed.
const NODE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Checks that `dir` is a folder with an entry for each student crate
/// every lab builds (`raft`). What the entries are is the build's to check
/// (a refusal there scores 0 with its reason).
pub fn check(dir: &Path, student: &StudentCrates) -> Result<Submission, GraderError> {
    let bad = |m: &str| GraderError::Submission(dir.display().to_string(), m.to_string());
    let expected = format!("expected a folder holding {}", student.describe());
    let meta = std::fs::metadata(dir).map_err(|e| bad(&format!("cannot read it: {e}")))?;
    if !meta.is_dir() {
        return Err(bad(&format!("not a folder ({expected})")));
    }
    let dir = std::fs::canonicalize(dir).map_err(|e| bad(&format!("cannot resolve it: {e}")))?;
    let tree = Tree::open(&dir).map_err(|e| bad(&format!("cannot open it: {}", e.why)))?;
    let mut crates = Vec::new();
    for name in student.all() {
        let present = tree.kind(name).map_err(|e| bad(&e.why))?.is_some();
        if !present && student.is_required(name) {
            return Err(bad(&format!("no {name}/Cargo.toml in it ({expected})")));
        }
        crates.push((name.clone(), present));
    }
    if !crates.iter().any(|(_, present)| *present) {
        return Err(bad(&format!("none of the student crates is in it ({expected})")));
    }
    Ok(Submission { dir, crates })
}

/// What a build's warm build folder is made from, once per swap root.
pub enum Warm<'a> {
    /// The kit's skeleton crates, and every build from scratch
    /// (`CARGO_INCREMENTAL=0`): what a submission gets. Its crates share
    /// nothing with the skeleton's, so incremental state would only cost.
    Skeleton,
    /// These trusted crates (the workspace's own), and every build incremental:
    /// for the self-check's mutants, which differ from them in a line or
    /// two, so rustc recompiles only what the edit touched (about 5 s
    /// instead of 16). Never for untrusted code: its builds would share
    /// rustc's incremental state.
    Incremental(&'a Submission),
}

impl Warm<'_> {
    fn incremental(&self) -> bool {
        matches!(self, Warm::Incremental(_))
    }
}

/// Builds the submission's `node` — and nothing else: the tester is never
/// compiled with student code. In `swap_root`, a fresh copy of the kit's
/// node workspace gets the submission's crates (the skeleton kvraft if it
/// has none) and a fresh copy of the warm build folder (made as `warm`
/// says); cargo builds it `--offline` from the kit's vendored sources,
/// inside `sandbox` when there is one. Returns the outcome and, if it
/// built, the `node` binary, copied out of reach of the build
/// (`swap_root/bin/node`).
pub fn build(
    sub: &Submission,
    kit: &Path,
    swap_root: &Path,
    timeout: Duration,
    log: &Path,
    bwrap: Option<&Path>,
    warm: &Warm,
) -> (Build, Option<PathBuf>) {
    // What a build message quotes (paths, compiler output) is the
    // submission's: shown escaped.
    let failed = |status, secs, message: String| {
        (Build { status, secs, message: runner::text::escape_controls(&message).into_owned() }, None)
    };
    let started = std::time::Instant::now();
    let prepared = prepare(sub, kit, swap_root, bwrap, timeout, log, warm);
    let (cmd, layout) = match prepared {
        Ok(p) => p,
        Err(e) if e.starts_with(REFUSED) => return failed(BuildStatus::Failed, 0.0, e),
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
    let watched = vec![layout.src.clone(), layout.target.clone(), layout.home.clone()];
    let spawned = Spawned { disk_limit: Some((watched, BUILD_DISK_BYTES)), ..Spawned::new(cmd, "build") };
    let done = match process::run(spawned, timeout, Some(log)) {
        Ok(d) => d,
        Err(e) => return failed(BuildStatus::Failed, 0.0, format!("cannot run the build: {e}")),
    };
    let secs = started.elapsed().as_secs_f64();
    match done.exit {
        Exit::Code(0) => {
            match check_lock(&kit.join("node-src/Cargo.lock"), &layout.src).and_then(|()| {
                install(&layout.target, &layout.bin).map_err(|e| format!("the built node was refused: {e}"))
            }) {
                Ok(node) => (Build { status: BuildStatus::Built, secs, message: String::new() }, Some(node)),
                Err(e) => failed(BuildStatus::Failed, secs, e),
            }
        }
        _ if done.over_disk.is_some() => failed(
            BuildStatus::Failed,
            secs,
            format!(
                "the build was stopped: its folders held {} bytes, more than the {BUILD_DISK_BYTES} allowed",
                done.over_disk.unwrap_or_default()
            ),
        ),
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

/// `grader build`: builds `args.submission`'s node as a grading does, but
/// unsandboxed (a student's own machine, their own code), and prints the
/// built node's path; `Ok(false)`, with the grader's own message, when it
/// does not build.
pub fn build_only(args: &crate::cli::BuildArgs) -> Result<bool, GraderError> {
    let workspace = crate::locate::workspace(args.workspace.as_deref())?;
    let kit = crate::locate::kit(args.kit.as_deref(), Some(&workspace))?;
    let labs = crate::locate::reference_labs(args.labs.as_deref(), Some(&workspace))?;
    let sub = check(&args.submission, &crate::crates::load(&labs)?)?;
    let swap_root = args.swap_root.clone().unwrap_or_else(|| workspace.join(LOCAL_SWAP));
    let node = build_locally(&sub, &kit, &swap_root, Duration::from_secs(args.build_timeout))?;
    if let Some(node) = &node {
        println!("{}", node.display());
    }
    Ok(node.is_some())
}

/// Where `grader build` and `grader swap` build, under the workspace, when
/// no swap root is given.
pub const LOCAL_SWAP: &str = "target/local-swap";

/// What `grader build` does once it has its submission: builds it
/// unsandboxed in `swap_root` (its output in `swap_root/build.txt`) and
/// returns the built node, or says on stderr, as a grading would, why it
/// did not build.
pub fn build_locally(
    sub: &Submission,
    kit: &Path,
    swap_root: &Path,
    timeout: Duration,
) -> Result<Option<PathBuf>, GraderError> {
    let swap_root = std::path::absolute(swap_root).unwrap_or_else(|_| swap_root.to_path_buf());
    std::fs::create_dir_all(&swap_root)
        .map_err(|e| GraderError::Io(format!("cannot create {}", swap_root.display()), e))?;
    let log = swap_root.join("build.txt");
    let (built, node) = build(sub, kit, &swap_root, timeout, &log, None, &Warm::Skeleton);
    match node {
        Some(node) if built.status == BuildStatus::Built => Ok(Some(node)),
        _ => {
            eprintln!(
                "grader build: {} (as a grading would say; the build's output is in {})",
                built.message,
                log.display()
            );
            Ok(None)
        }
    }
}

/// The most disk a build's folders (its workspace, cargo's home and the
/// build folder, which starts as a copy of the warm one, about 0.3 GB) may
/// hold before it is stopped: a release build of `node` needs well under
/// 1 GB; a build script that fills the disk is stopped long before it does.
const BUILD_DISK_BYTES: u64 = 4 * 1024 * 1024 * 1024;

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
/// build in a swap root (or the first after the kit or the `warm` choice
/// changed) first builds the crates `warm` names there, trusted and
/// unsandboxed, into `warm-target`: every later build starts from a copy
/// of it at the same paths, so cargo recompiles only the workspace's
/// crates. An incremental build warms, and then reuses, its own build
/// folder instead.
fn prepare(
    sub: &Submission,
    kit: &Path,
    swap_root: &Path,
    bwrap: Option<&Path>,
    timeout: Duration,
    log: &Path,
    warm_from: &Warm,
) -> Result<(Command, Layout), String> {
    let layout = Layout {
        src: swap_root.join("node-src"),
        target: swap_root.join("node-target"),
        home: swap_root.join("cargo-home"),
        bin: swap_root.join("bin"),
    };
    let incremental = warm_from.incremental();
    // rustc's incremental state holds for the folder it was made in, not
    // for a copy: an incremental build reuses the build folder itself.
    let warm = if incremental { layout.target.clone() } else { swap_root.join("warm-target") };
    let stamp = format!("{}\nincremental: {incremental}", kit_stamp(kit)?);
    if std::fs::read_to_string(warm.join(STAMP)).ok().as_deref() != Some(stamp.as_str()) {
        let skeleton = Submission { dir: kit.join("skeleton"), crates: every_crate(sub) };
        let base = match warm_from {
            Warm::Skeleton => &skeleton,
            Warm::Incremental(base) => base,
        };
        lay_out(base, kit, &layout, true)?;
        remove(&warm).map_err(|e| format!("cannot clear {}: {e}", warm.display()))?;
        let warm_layout = Layout { target: warm.clone(), ..layout.clone() };
        let cmd = cargo_command(&warm_layout, None, incremental)?;
        let done = process::run(Spawned::new(cmd, "warm-build"), timeout, Some(log))
            .map_err(|e| format!("cannot run the kit's warm-up build: {e}"))?;
        if done.exit != Exit::Code(0) {
            return Err(format!(
                "the crates the warm build starts from ({}) do not build in {} ({:?}); is the grading kit complete?\n{}",
                base.dir.display(),
                layout.src.display(),
                done.exit,
                done.capture.tail_lines(30)
            ));
        }
        std::fs::write(warm.join(STAMP), &stamp).map_err(|e| format!("cannot write the stamp: {e}"))?;
    }
    lay_out(sub, kit, &layout, !incremental)?;
    // A copy of the warm build folder, so no build sees another's leftovers
    // (the trusted incremental builds share theirs: cargo and rustc rebuild
    // what changed).
    if !incremental {
        let status = Command::new("cp")
            .arg("-a")
            .arg(&warm)
            .arg(&layout.target)
            .status()
            .map_err(|e| format!("cannot run cp: {e}"))?;
        if !status.success() {
            return Err(format!("cannot copy {} ({status})", warm.display()));
        }
    }
    let sandbox = match bwrap {
        Some(bwrap) => {
            let sandbox = Sandbox::new(bwrap, runner::sandbox::uid_for(std::process::id()), Limits::BUILD)?
                .with_profile(runner::sandbox::Profile::Build)?;
            for dir in [&layout.src, &layout.target, &layout.home] {
                sandbox
                    .give_tree(dir)
                    .map_err(|e| format!("cannot give {} to the sandbox: {e}", dir.display()))?;
            }
            Some(sandbox)
        }
        None => None,
    };
    let cmd = cargo_command(&layout, sandbox.as_ref().map(|s| (s, kit)), incremental)?;
    Ok((cmd, layout))
}

/// Every student crate `sub` knows of, each as present.
fn every_crate(sub: &Submission) -> Vec<(String, bool)> {
    sub.crates.iter().map(|(name, _)| (name.clone(), true)).collect()
}

/// The file in the warm build folder naming the kit it was built from, and how.
const STAMP: &str = "raftlab-kit-stamp";

/// What identifies a grading kit: its lock file and the stamp its script wrote.
fn kit_stamp(kit: &Path) -> Result<String, String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    Ok(format!("{}\n{}", read(&kit.join("stamp"))?, read(&kit.join("node-src/Cargo.lock"))?))
}

/// Clears the build folders (the build's target folder too if
/// `clear_target`) and lays out the node workspace with `sub`'s crates,
/// copied by [`submission_rules`] (the kit's skeleton for one it lacks);
/// then names each submitted crate as the one it replaces.
fn lay_out(sub: &Submission, kit: &Path, layout: &Layout, clear_target: bool) -> Result<(), String> {
    let io = |what: &str, p: &Path| {
        let (what, p) = (what.to_string(), p.display().to_string());
        move |e: std::io::Error| format!("{what} {p}: {e}")
    };
    for dir in [&layout.src, &layout.target, &layout.home, &layout.bin] {
        if clear_target || dir != &layout.target {
            remove(dir).map_err(io("cannot clear", dir))?;
        }
    }
    std::fs::create_dir_all(&layout.home).map_err(io("cannot create", &layout.home))?;
    std::fs::create_dir_all(&layout.bin).map_err(io("cannot create", &layout.bin))?;
    // The kit's node workspace, without its skeleton crates.
    let skip: Vec<&str> = sub.crates.iter().map(|(name, _)| name.as_str()).chain(["target"]).collect();
    copy_tree(&kit.join("node-src"), &layout.src, &skip).map_err(io("cannot copy", &kit.join("node-src")))?;
    let refused = |e: Refused| format!("{REFUSED}: {e}");
    let top = Tree::open(&sub.dir).map_err(refused)?;
    for (name, theirs) in &sub.crates {
        let (name, theirs) = (name.as_str(), *theirs);
        let from = if theirs {
            top.dir(name).map_err(refused)?
        } else {
            Tree::open(&kit.join("skeleton").join(name)).map_err(refused)?
        };
        let to = layout.src.join(name);
        let copied = from.copy_into(&to, &submission_rules()).map_err(refused)?;
        for line in &copied.skipped {
            eprintln!("not copied: {}/{line}", from.path().display());
        }
        // The manifest is read back from the copy, a regular file or refused.
        Tree::open(&to).and_then(|t| t.read_string("Cargo.toml", MANIFEST_BYTES)).map_err(refused)?;
        // A submitted crate must be named as the one it replaces.
        if theirs {
            rename_package(&to, name)?;
        }
    }
    Ok(())
}

/// How a submission's crate is copied: links kept as links only where they
/// stay inside the crate, no special files, bounded; `target` and `.git`
/// left out.
fn submission_rules() -> Rules {
    Rules {
        links: Links::KeepInside,
        skip_top: vec!["target".into(), ".git".into()],
        time: Duration::from_secs(60),
        ..Rules::strict(SUBMISSION_BYTES, SUBMISSION_ENTRIES)
    }
}

/// How a refused submission's build message begins.
const REFUSED: &str = "the submission was refused";

/// `cargo build` of the node workspace in `layout`, inside the sandbox (with
/// the kit, whose vendored sources it reads) when one is given; rustc keeps
/// and reuses incremental state only if `incremental` (see [`Warm`]).
fn cargo_command(
    layout: &Layout,
    sandbox: Option<(&Sandbox, &Path)>,
    incremental: bool,
) -> Result<Command, String> {
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
        ("CARGO_INCREMENTAL".into(), if incremental { "1" } else { "0" }.into()),
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
/// version) that the kit's does not. The build's lock file is hostile (the
/// build could have replaced it): read through [`Tree`], bounded, never
/// quoted.
fn check_lock(kit_lock: &Path, build_src: &Path) -> Result<(), String> {
    let parse = |text: &str, what: &str| -> Result<std::collections::BTreeSet<String>, String> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            format!(
                "{what} is not a lock file (a TOML error{})",
                line.map(|l| format!(" at line {l}")).unwrap_or_default()
            )
        })?;
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
    let kit_text =
        std::fs::read_to_string(kit_lock).map_err(|e| format!("cannot read {}: {e}", kit_lock.display()))?;
    let allowed = parse(&kit_text, &kit_lock.display().to_string())?;
    let built = Tree::open(build_src)
        .and_then(|t| t.read_string("Cargo.lock", LOCK_BYTES))
        .map_err(|e| format!("the build's lock file was refused: {e}"))?;
    let added: Vec<String> = parse(&built, "the build's Cargo.lock")?.difference(&allowed).cloned().collect();
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

/// Copies the built node (hostile: the build wrote it) to `bin/node`, a
/// new file owned by the grader and read-only to others.
fn install(target: &Path, bin: &Path) -> Result<PathBuf, Refused> {
    let node = bin.join("node");
    Tree::open(target)?.copy_file("release/node", &node, NODE_BYTES, 0o755)?;
    Ok(node)
}

/// Sets the package name in `crate_dir`'s manifest to `name`, the rest as
/// it was. The manifest is the grader's own copy, read as a regular file (a
/// link is refused) and replaced by a new file, never written through; one
/// that is not a crate manifest refuses the build, naming the line, never
/// quoting it.
fn rename_package(crate_dir: &Path, name: &str) -> Result<(), String> {
    let text = Tree::open(crate_dir)
        .and_then(|t| t.read_string("Cargo.toml", MANIFEST_BYTES))
        .map_err(|e| format!("{REFUSED}: {e}"))?;
    let renamed = crate::kit::renamed(&text, name).map_err(|e| format!("{REFUSED}: {name}/{e}"))?;
    let manifest = crate_dir.join("Cargo.toml");
    let write = || -> std::io::Result<()> {
        std::fs::remove_file(&manifest)?;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&manifest)?;
        std::io::Write::write_all(&mut f, renamed.as_bytes())
    };
    write().map_err(|e| format!("cannot write {}: {e}", manifest.display()))
}

/// The compiler's errors from a build's output: from the first `error` line
/// on, else the last lines.
fn compiler_errors(output: &str, exit: Exit) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let first = lines.iter().position(|l| l.starts_with("error"));
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

    /// The student crates as the kit's labs declare them.
    fn student() -> StudentCrates {
        crate::crates::parse(
            r#"[{"id":"raft","title":"2","crates":["raft"],"groups":[]},
                {"id":"kvraft","title":"3","crates":["raft","kvraft"],"groups":[]}]"#,
        )
        .unwrap()
    }

    #[test]
    fn a_submission_needs_a_raft_crate() {
        let dir = tempfile::tempdir().unwrap();
        let e = check(dir.path(), &student()).unwrap_err().to_string();
        assert!(e.contains("no raft/Cargo.toml") && e.contains("raft/ and optionally kvraft/"), "{e}");
        std::fs::create_dir(dir.path().join("raft")).unwrap();
        std::fs::write(dir.path().join("raft/Cargo.toml"), "").unwrap();
        let s = check(dir.path(), &student()).unwrap();
        assert_eq!(s.crates, [("raft".to_string(), true), ("kvraft".to_string(), false)]);
        let e = check(&dir.path().join("missing"), &student()).unwrap_err().to_string();
        assert!(e.contains("cannot read it"), "{e}");
    }

    /// A kit with a node workspace and skeleton crates, and a build layout.
    fn kit_and_layout(root: &Path) -> (PathBuf, Layout) {
        let kit = root.join("kit");
        for d in ["node-src", "skeleton/raft/src", "skeleton/kvraft"] {
            std::fs::create_dir_all(kit.join(d)).unwrap();
        }
        std::fs::write(kit.join("node-src/Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::write(kit.join("skeleton/raft/Cargo.toml"), "[package]\nname = \"raft\"\n").unwrap();
        std::fs::write(kit.join("skeleton/kvraft/Cargo.toml"), "[package]\nname = \"kvraft\"\n").unwrap();
        let swap = root.join("swap");
        let layout = Layout {
            src: swap.join("node-src"),
            target: swap.join("node-target"),
            home: swap.join("cargo-home"),
            bin: swap.join("bin"),
        };
        (kit, layout)
    }

    fn crate_at(dir: &Path, name: &str) {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), format!("[package]\nname = \"{name}\"\n")).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    }

    #[test]
    fn a_submission_is_copied_with_its_inside_links_and_renamed() {
        let tmp = tempfile::tempdir().unwrap();
        let (kit, layout) = kit_and_layout(tmp.path());
        let sub = tmp.path().join("sub");
        crate_at(&sub.join("raft"), "my-raft");
        std::os::unix::fs::symlink("lib.rs", sub.join("raft/src/alias.rs")).unwrap();
        std::fs::create_dir_all(sub.join("raft/target/release")).unwrap();
        lay_out(&check(&sub, &student()).unwrap(), &kit, &layout, true).unwrap();
        let manifest = std::fs::read_to_string(layout.src.join("raft/Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"raft\""), "{manifest}");
        assert_eq!(std::fs::read_link(layout.src.join("raft/src/alias.rs")).unwrap(), Path::new("lib.rs"));
        assert!(!layout.src.join("raft/target").exists());
        assert!(layout.src.join("kvraft/Cargo.toml").is_file(), "the skeleton kvraft");
    }

    #[test]
    fn every_submitted_crate_is_renamed_and_a_manifest_that_is_not_toml_refused_unquoted() {
        let tmp = tempfile::tempdir().unwrap();
        let (kit, layout) = kit_and_layout(tmp.path());
        let sub = tmp.path().join("sub");
        crate_at(&sub.join("raft"), "my-raft");
        crate_at(&sub.join("kvraft"), "my-kv");
        lay_out(&check(&sub, &student()).unwrap(), &kit, &layout, true).unwrap();
        for name in ["raft", "kvraft"] {
            let manifest = std::fs::read_to_string(layout.src.join(name).join("Cargo.toml")).unwrap();
            assert_eq!(manifest.parse::<toml::Table>().unwrap()["package"]["name"].as_str(), Some(name));
        }
        std::fs::write(sub.join("kvraft/Cargo.toml"), "[package]\nname = \"TOKEN=hunter2\n").unwrap();
        let e = lay_out(&check(&sub, &student()).unwrap(), &kit, &layout, true).unwrap_err();
        assert!(e.starts_with(REFUSED) && e.contains("kvraft/Cargo.toml") && e.contains("line 2"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn links_to_the_kit_are_refused_at_every_level() {
        let tmp = tempfile::tempdir().unwrap();
        let (kit, layout) = kit_and_layout(tmp.path());
        let reference = tmp.path().join("reference/raft");
        crate_at(&reference, "raft");
        let canary = tmp.path().join("canary");
        std::fs::write(&canary, "CANARY").unwrap();
        type Make<'a> = Box<dyn Fn(&Path) + 'a>;
        let cases: Vec<(&str, Make)> = vec![
            ("top", Box::new(|s: &Path| std::os::unix::fs::symlink(&reference, s.join("raft")).unwrap())),
            (
                "src",
                Box::new(|s: &Path| {
                    crate_at(&s.join("raft"), "raft");
                    std::fs::remove_dir_all(s.join("raft/src")).unwrap();
                    std::os::unix::fs::symlink(reference.join("src"), s.join("raft/src")).unwrap();
                }),
            ),
            (
                "absolute file",
                Box::new(|s: &Path| {
                    crate_at(&s.join("raft"), "raft");
                    std::fs::remove_file(s.join("raft/src/lib.rs")).unwrap();
                    std::os::unix::fs::symlink(reference.join("src/lib.rs"), s.join("raft/src/lib.rs"))
                        .unwrap();
                }),
            ),
            (
                "climbing file",
                Box::new(|s: &Path| {
                    crate_at(&s.join("raft"), "raft");
                    std::fs::remove_file(s.join("raft/src/lib.rs")).unwrap();
                    std::os::unix::fs::symlink(
                        "../../../reference/raft/src/lib.rs",
                        s.join("raft/src/lib.rs"),
                    )
                    .unwrap();
                }),
            ),
            (
                "manifest",
                Box::new(|s: &Path| {
                    crate_at(&s.join("raft"), "raft");
                    std::fs::remove_file(s.join("raft/Cargo.toml")).unwrap();
                    std::os::unix::fs::symlink(&canary, s.join("raft/Cargo.toml")).unwrap();
                }),
            ),
            (
                "fifo",
                Box::new(|s: &Path| {
                    crate_at(&s.join("raft"), "raft");
                    nix::unistd::mkfifo(
                        &s.join("raft/src/pipe"),
                        nix::sys::stat::Mode::from_bits_truncate(0o644),
                    )
                    .unwrap();
                }),
            ),
            (
                "sparse",
                Box::new(|s: &Path| {
                    crate_at(&s.join("raft"), "raft");
                    std::fs::File::create(s.join("raft/huge.bin")).unwrap().set_len(1 << 40).unwrap();
                }),
            ),
        ];
        for (name, make) in cases {
            let sub = tmp.path().join(format!("sub-{}", name.replace(' ', "-")));
            std::fs::create_dir_all(&sub).unwrap();
            make(&sub);
            let e = lay_out(&check(&sub, &student()).unwrap(), &kit, &layout, true).unwrap_err();
            assert!(e.starts_with(REFUSED), "{name}: {e}");
            assert!(!e.contains("CANARY"), "{name}: {e}");
        }
        assert_eq!(std::fs::read_to_string(&canary).unwrap(), "CANARY");
    }

    #[test]
    fn a_hostile_lock_file_is_refused_unquoted_and_without_hanging() {
        let tmp = tempfile::tempdir().unwrap();
        let kit_lock = tmp.path().join("kit.lock");
        std::fs::write(&kit_lock, "version = 4\n").unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir(&src).unwrap();
        let secret = tmp.path().join("secret");
        std::fs::write(&secret, "TOKEN=hunter2\nmore").unwrap();
        std::os::unix::fs::symlink(&secret, src.join("Cargo.lock")).unwrap();
        let e = check_lock(&kit_lock, &src).unwrap_err();
        assert!(e.contains("refused") && !e.contains("hunter2"), "{e}");
        std::fs::remove_file(src.join("Cargo.lock")).unwrap();
        std::fs::write(src.join("Cargo.lock"), "TOKEN=hunter2 = = \n").unwrap();
        let e = check_lock(&kit_lock, &src).unwrap_err();
        assert!(e.contains("not a lock file") && !e.contains("hunter2"), "{e}");
        std::fs::remove_file(src.join("Cargo.lock")).unwrap();
        nix::unistd::mkfifo(&src.join("Cargo.lock"), nix::sys::stat::Mode::from_bits_truncate(0o644))
            .unwrap();
        let e = check_lock(&kit_lock, &src).unwrap_err();
        assert!(e.contains("FIFO"), "{e}");
    }

    #[test]
    fn compiler_errors_start_at_the_first_error() {
        let out = "   Compiling raft v0.1.0\nerror[E0425]: cannot find value `x`\n --> raft/src/lib.rs:3:5\nerror: could not compile `raft`\n";
        let m = compiler_errors(out, Exit::Code(101));
        assert!(m.starts_with("the submission does not compile:\nerror[E0425]"), "{m}");
        assert!(!m.contains("Compiling"));
    }
}
