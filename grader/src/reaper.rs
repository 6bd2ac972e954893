//! Making sure nothing a run started outlives it.
//!
//! * Every process the grader starts runs in its own process group, which is
//!   killed when the process ends or times out ([`crate::process`]).
//! * The grader is a child subreaper: a process that escapes its group
//!   (`setsid`, a double fork) is re-parented to the grader, not to init, so it
//!   stays a descendant the grader can find.
//! * Each started process carries `GRADER_RUN_TOKEN` in its environment,
//!   which its descendants inherit; [`sweep`] kills, by pid, the descendants of
//!   the grader that carry a finished run's token, and reaps adopted zombies.
//!
//! Only descendants of the grader are ever signalled: nothing is killed by name.

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use std::collections::{HashMap, HashSet};
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
    let needle = token.map(|t| format!("{TOKEN_VAR}={t}"));
    for _ in 0..40 {
        let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let table = processes();
        let mine = descendants(&table, me);
        let mut victims = 0;
        for &pid in &mine {
            if live.contains(&pid) {
                continue;
            }
            let (ppid, state) = table[&pid];
            let marked = match &needle {
                None => true,
                Some(n) => environ(pid).iter().any(|v| v == n),
            };
            if marked && state != 'Z' {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
                victims += 1;
            }
            if ppid == me {
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

/// Every process: pid → (parent pid, state letter).
fn processes() -> HashMap<u32, (u32, char)> {
    let mut table = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return table };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // "pid (comm) S ppid …": comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        let mut fields = after.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let Some(ppid) = fields.next().and_then(|s| s.parse().ok()) else { continue };
        table.insert(pid, (ppid, state));
    }
    table
}

/// The descendants of `root` in `table`.
fn descendants(table: &HashMap<u32, (u32, char)>, root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, &(ppid, _)) in table {
        children.entry(ppid).or_default().push(pid);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(c) {
                out.push(c);
                stack.push(c);
            }
        }
    }
    out
}

/// The environment a process started with ("NAME=value" strings).
fn environ(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|b| b.split(|&c| c == 0).map(|v| String::from_utf8_lossy(v).into_owned()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_follow_parent_links() {
        let table: HashMap<u32, (u32, char)> =
            [(2, (1, 'S')), (3, (2, 'S')), (4, (9, 'S')), (5, (3, 'Z'))].into_iter().collect();
        let mut d = descendants(&table, 1);
        d.sort();
        assert_eq!(d, vec![2, 3, 5]);
    }
}
