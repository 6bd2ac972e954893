//! `grader swap RAFT_DIR [KVRAFT_DIR]`: builds the node of other student
//! crates exactly as a grading builds a submission's — from the grading
//! kit, with the kit's lock file, `--offline`, the same checks and the same
//! messages (`grader build`) — and prints the built node's path on stdout.
//! The tester that runs it is the kit's own `labs` (`LAB_NODE=` that path:
//! `make test-2A RAFT=…`), so crates that pass there build when graded, and
//! ones that add a dependency fail there with the grader's own message.
//!
//! The crates are copied (without `target/`) to `$SWAP_ROOT/submission`
//! (default `WORKSPACE/target/local-swap`); the build happens beside, from a
//! copy of a warm build of the kit, so only the swapped crates and node
//! recompile.

use crate::cli::SwapArgs;
use crate::error::GraderError;
use crate::{crates, kit, locate, submission};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// A bad command line (or a system the grader does not run on).
const EXIT_USAGE: u8 = 2;
/// The grading kit could not be made, or the crates did not build.
const EXIT_BUILD: u8 = 3;
/// The environment variable naming the swap root.
const SWAP_ROOT_VAR: &str = "SWAP_ROOT";
/// Seconds the build may take (`grader build`'s default).
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);

/// Why a swap stopped: the exit status and what to say.
struct Stop(u8, String);

impl From<GraderError> for Stop {
    fn from(e: GraderError) -> Self {
        Stop(EXIT_USAGE, e.to_string())
    }
}

/// Runs `grader swap`; its exit status.
pub fn run(args: &SwapArgs) -> ExitCode {
    match swap(args) {
        Ok(node) => {
            println!("{}", node.display());
            ExitCode::SUCCESS
        }
        Err(Stop(code, message)) => {
            if !message.is_empty() {
                for line in message.lines() {
                    eprintln!("grader swap: {line}");
                }
            }
            ExitCode::from(code)
        }
    }
}

fn swap(args: &SwapArgs) -> Result<PathBuf, Stop> {
    for dir in &args.crates {
        if !dir.join("Cargo.toml").is_file() {
            return Err(Stop(EXIT_USAGE, format!("{} is not a crate (no Cargo.toml there)", dir.display())));
        }
    }
    if !cfg!(target_os = "linux") {
        let os = std::env::consts::OS;
        return Err(Stop(
            EXIT_USAGE,
            format!(
                "RAFT=/KVRAFT= build a crate as the grader does, which runs on Linux only;\n\
                 on {os}, put the crate in raft/ (or kvraft/) and run make test-2A without RAFT="
            ),
        ));
    }
    let workspace = locate::workspace(None)?;
    let student =
        crates::load(&locate::reference_labs(None, Some(&workspace))?).map_err(GraderError::from)?;
    if args.crates.len() > student.all().len() {
        return Err(Stop(
            EXIT_USAGE,
            format!(
                "{} folders given for {} student crates ({})",
                args.crates.len(),
                student.all().len(),
                student.all().join(", ")
            ),
        ));
    }
    let swap_root = match std::env::var_os(SWAP_ROOT_VAR) {
        Some(root) => PathBuf::from(root),
        None => workspace.join(submission::LOCAL_SWAP),
    };
    let swap_root = std::path::absolute(&swap_root).unwrap_or(swap_root);
    let sub = swap_root.join("submission");
    copy_crates(&args.crates, student.all(), &sub)?;
    let kit = make_kit(&workspace, &swap_root, &student)?;
    let submission = submission::check(&sub, &student)?;
    match submission::build_locally(&submission, &kit, &swap_root, BUILD_TIMEOUT)? {
        Some(node) => Ok(node),
        None => {
            let given: Vec<String> = args.crates.iter().map(|d| d.display().to_string()).collect();
            Err(Stop(
                EXIT_BUILD,
                format!("{} did not build as a grading builds them (above)", given.join(" and ")),
            ))
        }
    }
}

/// Copies each folder of `dirs` (without its `target/`) to `sub/<crate>`,
/// pairing them with the student crates in order; `sub` starts empty.
fn copy_crates(dirs: &[PathBuf], names: &[String], sub: &Path) -> Result<(), Stop> {
    let io = |what: String| move |e: std::io::Error| Stop::from(GraderError::Io(what, e));
    crate::files::remove(sub).map_err(io(format!("cannot clear {}", sub.display())))?;
    std::fs::create_dir_all(sub).map_err(io(format!("cannot create {}", sub.display())))?;
    for (dir, name) in dirs.iter().zip(names) {
        kit::copy_exact(dir, &sub.join(name), &["target"]).map_err(io(format!(
            "cannot copy {} to {}",
            dir.display(),
            sub.join(name).display()
        )))?;
    }
    Ok(())
}

/// Makes the grading kit (`WORKSPACE/target/grading-kit`), its log in
/// `swap_root/grading-kit.log`, which is printed if it fails.
fn make_kit(workspace: &Path, swap_root: &Path, student: &crates::StudentCrates) -> Result<PathBuf, Stop> {
    let log_path = swap_root.join("grading-kit.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| Stop::from(GraderError::Io(format!("cannot create {}", log_path.display()), e)))?;
    let made =
        kit::make(workspace, &workspace.join(crate::locate::DEFAULT_KIT_DIR), student, &kit::Log::File(&log));
    match made {
        Ok(dir) => {
            let mut log = log;
            // What `grader kit` prints, for the log.
            let _ = std::io::Write::write_all(
                &mut log,
                format!("grading kit ready in {}\n", dir.display()).as_bytes(),
            );
            Ok(dir)
        }
        Err(e) => {
            drop(log);
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            eprint!("{said}");
            Err(Stop(EXIT_BUILD, format!("{e}\ncannot make the grading kit (above)")))
        }
    }
}
