//! Making sure nothing a run started outlives it (Linux: the portable path
//! has no subreaper and no `/proc`, so there a sweep finds nothing).
//!
//! * Every process the grader (or `labs`' repeat mode) starts runs in its
//!   own process group, which is killed when the process ends or times out
//!   ([`crate::process`]).
//! * The grader is a child subreaper ([`init`]; repeat mode is not): a process that escapes its group
//!   (`setsid`, a double fork) is re-parented to the grader, not to init, so it
//!   stays a descendant the grader can find.
//! * Each started process carries `GRADER_RUN_TOKEN` in its environment,
//!   which its descendants inherit; [`sweep`] kills, by pid, the descendants of
//!   the grader that carry a finished run's token, and reaps adopted zombies.
//!
//! Only descendants of the grader are ever signalled: nothing is killed by name.

use crate::proc_tree;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::Duration;

/// The environment variable that marks a run's processes.
pub const TOKEN_VAR: &str = "GRADER_RUN_TOKEN";

/// Children the grader waits for itself (std's `Child::wait`), which a sweep
/// must neither kill nor reap.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Makes the grader the subreaper of its descendants. Best effort: without
/// it, escaped processes are still found while their parent lives.
pub fn init() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// Spawns `cmd` and records it as live, atomically with respect to sweeps.
pub fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let child = cmd.spawn()?;
    live.push(child.id());
    Ok(child)
}

/// Forgets a child that has been waited for.
pub fn forget(pid: u32) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|&p| p != pid);
}

/// Kills the grader's descendants that carry `token` (or, with `None`, every
/// descendant not being waited for) and reaps the zombies it adopted.
/// Repeats briefly until none is left.
pub fn sweep(token: Option<&str>) {
    let me = std::process::id();
    for _ in 0..40 {
        let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let table = proc_tree::table();
        let mine = proc_tree::descendants_in(&table, me);
        let mut victims = 0;
        for &pid in &mine {
            if live.contains(&pid) {
                continue;
            }
            let entry = table[&pid];
            let marked = token.is_none_or(|t| proc_tree::has_env(pid, TOKEN_VAR, t));
            if marked && !entry.zombie {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
                victims += 1;
            }
            if entry.ppid == me {
                // Adopted (or an orphan's zombie): reap it if it is done.
                let _ = waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG));
            }
        }
        drop(live);
        if victims == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}
