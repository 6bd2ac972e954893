//! The one switch between the Linux path and the portable one.
//!
//! On Linux the kit ties each child to its starter with the parent-death
//! signal (`prctl`), finds a node's descendants in `/proc`, resolves hostile
//! names with `openat2`, and can sandbox nodes with bubblewrap (the
//! grader's). None of that exists on macOS. The **portable path** uses only
//! POSIX: each child is told its starter's pid ([`PARENT_VAR`]) and watches
//! it ([`exit_with_parent`]), nodes run in process groups of their own and
//! are signalled by group, and names are resolved one folder at a time with
//! `O_NOFOLLOW`. It has no sandbox: the student commands (`make test-*`,
//! repeat mode, `labs logs`) run on it; the grader is Linux-only.
//!
//! The portable path is taken on every system but Linux, and on Linux when
//! [`PORTABLE_VAR`] is set (to anything but `0`), which is how CI runs it.

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Set to take the portable path on Linux too (CI's way to test it).
pub const PORTABLE_VAR: &str = "LAB_PORTABLE";

/// The pid of the process that started this one, on the portable path:
/// this process exits when that one is gone ([`exit_with_parent`]).
pub const PARENT_VAR: &str = "LAB_PARENT";

/// How often a child on the portable path looks for its starter.
pub const PARENT_POLL: Duration = Duration::from_millis(100);

/// Whether this process takes the portable path (read once).
pub fn portable() -> bool {
    static PORTABLE: OnceLock<bool> = OnceLock::new();
    *PORTABLE.get_or_init(|| {
        !cfg!(target_os = "linux")
            || std::env::var_os(PORTABLE_VAR).is_some_and(|v| !v.is_empty() && v != "0")
    })
}

/// Ties the process `cmd` will start to this one, so that it does not
/// outlive it.
///
/// * Linux: SIGKILL when the starting *thread* exits (`PR_SET_PDEATHSIG`),
///   and an immediate exit if this process died before that took effect.
///   Spawn from a thread that lives as long as the child should.
/// * Portable: the child is told this process's pid in [`PARENT_VAR`] and
///   must call [`exit_with_parent`] first thing (`node` and `labs` do).
pub fn tie_to_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    if portable() {
        cmd.env(PARENT_VAR, parent.to_string());
        return;
    }
    cmd.env_remove(PARENT_VAR);
    #[cfg(target_os = "linux")]
    // SAFETY: the closure runs between fork and exec and calls only
    // async-signal-safe functions (prctl, getppid, _exit).
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)?;
            if nix::unistd::getppid().as_raw() as u32 != parent {
                nix::libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// On the portable path, when this process was started by
/// [`tie_to_parent`]: exits now if its starter is gone already, else
/// watches it from a thread and exits (status 137, as if killed) within
/// [`PARENT_POLL`] of it going. Takes [`PARENT_VAR`] out of the
/// environment, so that what this process starts is not told a parent
/// that is not its own. Does nothing otherwise.
///
/// Call it first thing in `main`, before any other thread starts.
pub fn exit_with_parent() {
    let Some(value) = std::env::var_os(PARENT_VAR) else { return };
    // SAFETY: called at the start of main, before any other thread exists
    // to read the environment at the same time.
    unsafe { std::env::remove_var(PARENT_VAR) };
    let Some(parent) = value.to_str().and_then(|v| v.parse::<i32>().ok()) else { return };
    let gone = move || nix::unistd::getppid().as_raw() != parent;
    if gone() {
        std::process::exit(137);
    }
    let watch = move || {
        loop {
            std::thread::sleep(PARENT_POLL);
            if gone() {
                // No destructors, no flushing: as a SIGKILL would leave it.
                // SAFETY: _exit ends the process at once; nothing is shared.
                unsafe { nix::libc::_exit(137) };
            }
        }
    };
    std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(watch)
        .expect("cannot start the parent watch");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tied_child_knows_its_parent_only_on_the_portable_path() {
        let mut cmd = Command::new("true");
        tie_to_parent(&mut cmd);
        let told = cmd.get_envs().find(|(k, _)| *k == PARENT_VAR).map(|(_, v)| v.map(|v| v.to_os_string()));
        if portable() {
            assert_eq!(told, Some(Some(std::process::id().to_string().into())));
        } else {
            assert_eq!(told, Some(None), "removed, so that a stale one is not inherited");
        }
        assert!(cmd.status().unwrap().success());
    }
}
