//! Running a command within a time limit.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// How long the run's processes get to end after SIGTERM before SIGKILL.
const KILL_AFTER: Duration = Duration::from_secs(10);
/// How often the run is looked at while it goes on.
const POLL: Duration = Duration::from_millis(200);

/// How a limited run ended.
pub struct Ended {
    /// The exit status, once it ended (by itself or killed).
    pub status: Option<ExitStatus>,
    /// Whether it hit the limit and was killed.
    pub timed_out: bool,
    pub took: Duration,
}

/// Runs `cmd` in a process group of its own; if it is still running after
/// `limit`, sends SIGTERM to the whole group (the run and every node it
/// started), then SIGKILL after [`KILL_AFTER`].
pub fn with_limit(cmd: &mut Command, limit: Duration) -> std::io::Result<Ended> {
    let start = Instant::now();
    let mut child = cmd.process_group(0).spawn()?;
    let group = Pid::from_raw(i32::try_from(child.id()).expect("a pid fits in i32"));
    let mut signalled: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Ended { status: Some(status), timed_out: signalled.is_some(), took: start.elapsed() });
        }
        match signalled {
            None if start.elapsed() >= limit => {
                let _ = killpg(group, Signal::SIGTERM);
                signalled = Some(Instant::now());
            }
            Some(at) if at.elapsed() >= KILL_AFTER => {
                let _ = killpg(group, Signal::SIGKILL);
                let status = child.wait()?;
                return Ok(Ended { status: Some(status), timed_out: true, took: start.elapsed() });
            }
            _ => {}
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_command_ends_by_itself() {
        let ended = with_limit(Command::new("sh").args(["-c", "exit 3"]), Duration::from_secs(5)).unwrap();
        assert!(!ended.timed_out);
        assert_eq!(ended.status.unwrap().code(), Some(3));
    }

    #[test]
    fn a_hang_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("child");
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let ended = with_limit(Command::new("sh").args(["-c", &script]), Duration::from_millis(500)).unwrap();
        assert!(ended.timed_out);
        assert!(ended.took < Duration::from_secs(5), "{:?}", ended.took);
        let child: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        // The grandchild got the signal too (it may linger as a zombie of init briefly).
        let deadline = Instant::now() + Duration::from_secs(5);
        while nix::sys::signal::kill(Pid::from_raw(child), None).is_ok() && Instant::now() < deadline {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            if stat.split(' ').nth(2) == Some("Z") {
                break;
            }
            std::thread::sleep(POLL);
        }
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        assert!(stat.is_empty() || stat.split(' ').nth(2) == Some("Z"), "{stat}");
    }
}
