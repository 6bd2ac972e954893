//! A process tree as `/proc` shows it, read in one place: a process's
//! descendants, the CPU time each has used, which are zombies, and the
//! environment one started with. The harness signals a sandboxed node's
//! whole tree with it, [`crate::process`] samples a run's CPU time, and
//! [`crate::reaper`] finds a finished run's escaped processes.
//!
//! On Linux it reads `/proc` through the `procfs` crate. Elsewhere (the
//! portable path, macOS) there is no `/proc`: every function answers as for
//! a process with no descendants, which is what that path needs — there is
//! no sandbox on it, so a node leads its own process group and `killpg`
//! reaches all of it, and the grader, which sweeps and samples, is
//! Linux-only.
//!
//! What these functions read can change under them (a process exits, a pid
//! is reused): a process that cannot be read is skipped, never an error.

use std::collections::HashMap;

/// What one process is, in a [`table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Its parent's pid.
    pub ppid: u32,
    /// Whether it has exited and waits to be reaped.
    pub zombie: bool,
}

/// Every process descended from `root`, parents before children, by
/// following each thread's `children` list from `root` down.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for child in children(pid) {
            if child != root && !found.contains(&child) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// Every process now: pid → its [`Entry`].
pub fn table() -> HashMap<u32, Entry> {
    imp::table()
}

/// The descendants of `root` in `table` (which [`table`] makes), by parent
/// links: this finds processes re-parented to `root` (a subreaper) too.
pub fn descendants_in(table: &HashMap<u32, Entry>, root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, e) in table {
        children.entry(e.ppid).or_default().push(pid);
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            if !out.contains(&c) && c != root {
                out.push(c);
                stack.push(c);
            }
        }
    }
    out
}

/// Process `pid`'s own CPU time (user + system) in seconds, with its start
/// time (clock ticks since boot), which tells it from a later process that
/// reuses its pid. `None` if it cannot be read.
pub fn cpu(pid: u32) -> Option<CpuTime> {
    imp::cpu(pid)
}

/// One reading of a process's CPU time ([`cpu`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuTime {
    /// When it started, in clock ticks since boot.
    pub start: u64,
    /// User and system seconds it has used.
    pub secs: f64,
}

/// Whether process `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    imp::alive(pid)
}

/// Whether process `pid` started with `name=value` in its environment.
pub fn has_env(pid: u32, name: &str, value: &str) -> bool {
    imp::has_env(pid, name, value)
}

/// The children of every thread of `pid`.
fn children(pid: u32) -> Vec<u32> {
    imp::children(pid)
}

#[cfg(target_os = "linux")]
mod imp {
    use super::{CpuTime, Entry};
    use procfs::process::Process;
    use std::collections::HashMap;

    fn process(pid: u32) -> Option<Process> {
        Process::new(i32::try_from(pid).ok()?).ok()
    }

    pub fn children(pid: u32) -> Vec<u32> {
        let Some(tasks) = process(pid).and_then(|p| p.tasks().ok()) else { return Vec::new() };
        tasks.flatten().flat_map(|t| t.children().unwrap_or_default()).collect()
    }

    pub fn table() -> HashMap<u32, Entry> {
        let Ok(all) = procfs::process::all_processes() else { return HashMap::new() };
        all.flatten()
            .filter_map(|p| p.stat().ok())
            .filter_map(|s| {
                let entry = Entry { ppid: u32::try_from(s.ppid).ok()?, zombie: s.state == 'Z' };
                Some((u32::try_from(s.pid).ok()?, entry))
            })
            .collect()
    }

    pub fn cpu(pid: u32) -> Option<CpuTime> {
        let stat = process(pid)?.stat().ok()?;
        let ticks = procfs::ticks_per_second().max(1) as f64;
        Some(CpuTime { start: stat.starttime, secs: (stat.utime + stat.stime) as f64 / ticks })
    }

    pub fn alive(pid: u32) -> bool {
        process(pid).and_then(|p| p.stat().ok()).is_some_and(|s| s.state != 'Z')
    }

    pub fn has_env(pid: u32, name: &str, value: &str) -> bool {
        let Some(env) = process(pid).and_then(|p| p.environ().ok()) else { return false };
        env.get(std::ffi::OsStr::new(name)).is_some_and(|v| v == value)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{CpuTime, Entry};
    use std::collections::HashMap;

    pub fn children(_pid: u32) -> Vec<u32> {
        Vec::new()
    }

    pub fn table() -> HashMap<u32, Entry> {
        HashMap::new()
    }

    pub fn cpu(_pid: u32) -> Option<CpuTime> {
        None
    }

    pub fn alive(pid: u32) -> bool {
        // Signal 0 checks that the process exists (a zombie counts).
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
    }

    pub fn has_env(_pid: u32, _name: &str, _value: &str) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_follow_parent_links() {
        let e = |ppid, zombie| Entry { ppid, zombie };
        let table: HashMap<u32, Entry> =
            [(2, e(1, false)), (3, e(2, false)), (4, e(9, false)), (5, e(3, true))].into_iter().collect();
        let mut d = descendants_in(&table, 1);
        d.sort();
        assert_eq!(d, vec![2, 3, 5]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_child_is_found_alive_with_its_environment_and_then_gone() {
        // Spawned as the reaper's own, so that no other test's sweep reaps its zombie.
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("30").env("RUNNER_TREE_TEST", "yes");
        let mut child = crate::reaper::spawn(&mut cmd).unwrap();
        let pid = child.id();
        assert!(descendants(std::process::id()).contains(&pid));
        assert!(descendants_in(&table(), std::process::id()).contains(&pid));
        assert!(
            alive(pid) && has_env(pid, "RUNNER_TREE_TEST", "yes") && !has_env(pid, "RUNNER_TREE_TEST", "no")
        );
        assert!(cpu(pid).is_some_and(|c| c.secs < 1.0));
        child.kill().unwrap();
        // Killed but not yet waited for: a zombie.
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!alive(pid) && table().get(&pid).is_some_and(|e| e.zombie));
        child.wait().unwrap();
        crate::reaper::forget(pid);
        assert!(!alive(pid));
    }
}
