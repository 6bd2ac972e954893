//! The grader's side of isolation: what a report says about the isolation a
//! grading ran under, and the toolchain a submission's build runs in its
//! sandbox. Deciding the isolation, the sandbox and each run's private
//! `/tmp` are `runner::isolation` and `runner::sandbox`.

use crate::result::Isolation;
use runner::isolation::Plan;
use std::path::PathBuf;
use std::process::Command;

/// The report's account of how `plan` runs untrusted code.
pub fn report(plan: &Plan) -> Isolation {
    match plan {
        Plan::Sandbox { bwrap } => Isolation {
            mode: "sandbox".into(),
            detail: format!(
                "{}; a submission's build (when there is one) and every node run as an \
                 unprivileged uid of their own (each node its own), in their own PID, network and \
                 mount namespaces, under a seccomp filter (no keyring, mknod, locks, namespaces, \
                 ptrace…), seeing only their own files, with limits on processes, memory, CPU time, \
                 file size and open files; each run has a private /tmp; the files they write are \
                 read as hostile data",
                bwrap.display()
            ),
        },
        Plan::None { reason } => Isolation { mode: "none".into(), detail: reason.clone() },
    }
}

/// The Rust toolchain's own `cargo` and its folder (not rustup's proxy),
/// to run inside the build sandbox.
pub fn toolchain() -> Result<(PathBuf, PathBuf), String> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc to find the toolchain: {e}"))?;
    if !out.status.success() {
        return Err(format!("rustc --print sysroot failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let cargo = sysroot.join("bin/cargo");
    if !cargo.is_file() {
        return Err(format!("the toolchain at {} has no bin/cargo", sysroot.display()));
    }
    Ok((cargo, sysroot))
}
