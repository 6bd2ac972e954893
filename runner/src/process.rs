//! Running one process the trusted side starts (a test run — see
//! [`crate::test_run`] — a submission's build, the catalogue): its own
//! process group, tied to its starter, a time limit, output captured with a
//! cap, and nothing of it left behind when it ends ([`crate::reaper`]).

use crate::capture::{CAP, Capture};
use crate::{proc_tree, reaper};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How often a running process is checked for exit.
const POLL: Duration = Duration::from_millis(20);
/// How long to wait for the output pipe to close after the process group is
/// gone (a process outside the group could still hold it open).
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// A command to run, with how to label and limit it.
pub struct Spawned {
    /// The command; stdin, stdout, stderr and the process group are set by [`run`].
    pub cmd: Command,
    /// What it is, for the run token ("InitialElection2A-3", "build").
    pub label: String,
    /// The largest file any of its processes may write (RLIMIT_FSIZE), if limited.
    pub file_size_limit: Option<u64>,
    /// Run it in a mount namespace of its own with a private `/tmp` mounted
    /// with these tmpfs options (see [`crate::isolation::PrivateTmp`]).
    pub private_tmp: Option<crate::isolation::PrivateTmp>,
    /// A secret to hand it on a pipe, at the descriptor
    /// `protocol::env::PROOF_FD` names.
    pub secret: Option<Vec<u8>>,
    /// Folders whose disk use is watched, and the most it may reach: past
    /// it the process group is killed ([`Done::over_disk`]).
    pub disk_limit: Option<(Vec<std::path::PathBuf>, u64)>,
}

impl Spawned {
    /// A command without limits, namespace or secret.
    pub fn new(cmd: Command, label: &str) -> Spawned {
        Spawned {
            cmd,
            label: label.to_string(),
            file_size_limit: None,
            private_tmp: None,
            secret: None,
            disk_limit: None,
        }
    }
}

/// The descriptor number a secret arrives on.
const SECRET_FD: i32 = 3;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// It was still running at its time limit and was killed.
    TimedOut,
}

/// A finished process.
#[derive(Debug)]
pub struct Done {
    /// How it ended.
    pub exit: Exit,
    /// Wall-clock time from spawn to exit.
    pub secs: f64,
    /// CPU time (user + system) of the process and its descendants (a test
    /// run's nodes, sandboxed or not), in seconds: the larger of `wait4`'s
    /// count and the tree sampled from `/proc` ([`crate::proc_tree`]).
    pub cpu_secs: f64,
    /// Its stdout and stderr, interleaved, capped.
    pub capture: Capture,
    /// The bytes its watched folders held when it was killed for holding
    /// more than its disk limit ([`Spawned::disk_limit`]).
    pub over_disk: Option<u64>,
}

/// Runs `spawned` to completion or `timeout`, capturing stdout and stderr
/// into one capped stream (also written to `output`, if given). When it ends
/// or times out, its process group is killed and any descendant that carries
/// its run token is swept.
///
/// # Errors
/// If the process cannot be started or the output file cannot be written.
pub fn run(spawned: Spawned, timeout: Duration, output: Option<&Path>) -> std::io::Result<Done> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let token =
        format!("{}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), spawned.label);
    let Spawned { mut cmd, file_size_limit, private_tmp, secret, disk_limit, .. } = spawned;
    let (reader, writer) = std::io::pipe()?;
    cmd.stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .env(reaper::TOKEN_VAR, &token)
        .process_group(0);
    // The secret goes into a pipe now (it is small: the pipe holds it
    // without a reader); the child gets the read end as SECRET_FD.
    let secret_pipe = match &secret {
        Some(bytes) => {
            let (r, mut w) = std::io::pipe()?;
            std::io::Write::write_all(&mut w, bytes)?;
            drop(w);
            cmd.env(protocol::env::PROOF_FD, SECRET_FD.to_string());
            Some(r)
        }
        None => None,
    };
    let secret_fd = secret_pipe.as_ref().map(std::os::fd::AsRawFd::as_raw_fd);
    // Tied to this process (the parent-death signal follows the thread that
    // spawns: this one, which waits for the child until it ends).
    platform::tie_to_parent(&mut cmd);
    // SAFETY: the closure runs between fork and exec and makes only
    // async-signal-safe system calls (setrlimit, dup2, fcntl, unshare,
    // mount); the mount options were allocated before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(limit) = file_size_limit {
                nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_FSIZE, limit, limit)
                    .map_err(std::io::Error::from)?;
            }
            if let Some(tmp) = &private_tmp {
                tmp.enter()?;
            }
            if let Some(fd) = secret_fd {
                if fd == SECRET_FD {
                    if nix::libc::fcntl(fd, nix::libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if nix::libc::dup2(fd, SECRET_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let spawned = reaper::spawn(&mut cmd);
    // Our copies of the pipe's write end must close, or the reader never ends.
    drop(cmd);
    drop(secret_pipe);
    let child = spawned?;
    let pgid = Pid::from_raw(child.id() as i32);

    let capture = Arc::new(Mutex::new(Capture::new(CAP)));
    let (eof_tx, eof_rx) = mpsc::channel::<()>();
    {
        let capture = Arc::clone(&capture);
        let mut reader = reader;
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                capture.lock().unwrap_or_else(|e| e.into_inner()).push(&buf[..n]);
            }
            let _ = eof_tx.send(());
        });
    }

    let deadline = start + timeout;
    let pid = child.id() as i32;
    // Reaped here with wait4 (not through `child`), for its CPU time.
    let mut tree = TreeCpu::default();
    let mut polls = 0u32;
    let mut over_disk = None;
    let (exit, cpu_secs) = loop {
        if polls.is_multiple_of(SAMPLE_EVERY_POLLS) {
            tree.sample(pid as u32);
        }
        if let Some((dirs, limit)) = &disk_limit
            && polls.is_multiple_of(DISK_EVERY_POLLS)
        {
            let used: u64 = dirs.iter().map(|d| disk_use(d)).sum();
            if used > *limit {
                over_disk = Some(used);
                let _ = killpg(pgid, Signal::SIGKILL);
                let cpu = reap(pid, true).ok().flatten().map_or(0.0, |(_, cpu)| cpu);
                break (Exit::Signal(9), cpu);
            }
        }
        polls += 1;
        match reap(pid, false) {
            Ok(Some((exit, cpu))) => break (exit, cpu.max(tree.total())),
            Ok(None) if Instant::now() >= deadline => {
                let _ = killpg(pgid, Signal::SIGKILL);
                let cpu = reap(pid, true).ok().flatten().map_or(0.0, |(_, cpu)| cpu);
                break (Exit::TimedOut, cpu);
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(_) => {
                let _ = killpg(pgid, Signal::SIGKILL);
                let cpu = reap(pid, true).ok().flatten().map_or(0.0, |(_, cpu)| cpu);
                break (Exit::Signal(9), cpu);
            }
        }
    };
    let secs = start.elapsed().as_secs_f64();
    reaper::forget(child.id());
    // Whatever is left of its group, and whatever escaped it.
    let _ = killpg(pgid, Signal::SIGKILL);
    reaper::sweep(Some(&token));
    let _ = eof_rx.recv_timeout(DRAIN_WAIT);

    let capture = capture.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(path) = output {
        std::fs::write(path, capture.text())?;
    }
    Ok(Done { exit, secs, cpu_secs, capture, over_disk })
}

/// How often, in polls, the disk use of [`Spawned::disk_limit`]'s folders is
/// measured (a build folder of a thousand files takes milliseconds).
const DISK_EVERY_POLLS: u32 = 50;

/// The bytes allocated on disk under `dir` (sparse files by what they
/// hold), without following a link; what cannot be read counts 0.
fn disk_use(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let Ok(meta) = e.path().symlink_metadata() else { continue };
            total = total.saturating_add(meta.blocks().saturating_mul(512));
            if meta.is_dir() {
                stack.push(e.path());
            }
        }
    }
    total
}

/// How often, in polls, [`TreeCpu`] samples a running process's tree.
const SAMPLE_EVERY_POLLS: u32 = 10;

/// The CPU time of a process tree, sampled from `/proc`
/// ([`crate::proc_tree`]): the most each process (by pid and start time)
/// was seen to have used, summed. A sandboxed node's processes end without
/// being waited for by the run (they die with their sandbox), so `wait4`'s
/// count misses them; sampling misses only each process's last fraction of
/// a sampling period.
#[derive(Default)]
struct TreeCpu {
    seen: std::collections::HashMap<(u32, u64), f64>,
}

impl TreeCpu {
    /// Looks at `root` and its descendants now.
    fn sample(&mut self, root: u32) {
        for pid in std::iter::once(root).chain(proc_tree::descendants(root)) {
            if let Some(cpu) = proc_tree::cpu(pid) {
                let slot = self.seen.entry((pid, cpu.start)).or_insert(0.0);
                *slot = slot.max(cpu.secs);
            }
        }
    }

    /// The seconds seen so far.
    fn total(&self) -> f64 {
        self.seen.values().sum()
    }
}

/// Waits for child `pid` (or only looks, unless `block`): how it ended and
/// the CPU seconds it and the descendants it waited for used.
fn reap(pid: i32, block: bool) -> std::io::Result<Option<(Exit, f64)>> {
    use nix::libc;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if block { 0 } else { libc::WNOHANG };
    loop {
        // SAFETY: wait4 writes only through the two valid pointers given.
        let got = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if got == 0 {
            return Ok(None);
        }
        if got < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        break;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let exit = if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Signal(0)
    };
    Ok(Some((exit, secs(usage.ru_utime) + secs(usage.ru_stime))))
}

/// Tries a private `/tmp` as [`crate::isolation::PrivateTmp`] gives runs (`keep` bound back
/// in): `true` in a mount namespace of its own. Needs root.
///
/// # Errors
/// Why there can be none here.
pub fn try_private_tmp(keep: &Path) -> Result<(), String> {
    let truth =
        ["/usr/bin/true", "/bin/true"].into_iter().map(std::path::PathBuf::from).find(|p| p.is_file());
    let truth = truth.ok_or("no /usr/bin/true to try a private /tmp with")?;
    let private_tmp = Some(crate::isolation::PrivateTmp::new(keep, &[]).map_err(|e| e.to_string())?);
    let spawned = Spawned { private_tmp, ..Spawned::new(Command::new(truth), "private-tmp-trial") };
    match run(spawned, crate::isolation::TRIAL_TIMEOUT, None) {
        Ok(done) if done.exit == Exit::Code(0) => Ok(()),
        Ok(done) => Err(format!("a trial ended {:?}: {}", done.exit, done.capture.tail_lines(5))),
        Err(e) => Err(format!("cannot make a mount namespace with a private /tmp ({e}); it needs root")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: i32) -> bool {
        proc_tree::alive(pid as u32)
    }

    fn sh(script: &str) -> Spawned {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        Spawned::new(cmd, "test")
    }

    #[test]
    fn a_process_past_its_disk_limit_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let script = format!(
            "i=0; while true; do head -c 1048576 /dev/zero > {}/f$i; i=$((i+1)); done",
            dir.path().display()
        );
        let spawned = Spawned { disk_limit: Some((vec![dir.path().to_path_buf()], 8 << 20)), ..sh(&script) };
        let done = run(spawned, Duration::from_secs(30), None).unwrap();
        let used = done.over_disk.expect("stopped for its disk use");
        assert!(used > 8 << 20 && done.exit == Exit::Signal(9), "{used} {:?}", done.exit);
        assert!(done.secs < 10.0, "{}", done.secs);
    }

    #[test]
    fn captures_both_streams_and_the_status() {
        let done = run(sh("echo out; echo err >&2; exit 3"), Duration::from_secs(10), None).unwrap();
        assert_eq!(done.exit, Exit::Code(3));
        assert!(done.cpu_secs < 1.0, "{}", done.cpu_secs);
        assert_eq!(done.capture.text(), "out\nerr\n");
    }

    #[test]
    fn a_hang_times_out_and_its_group_dies() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
        let done = run(sh(&script), Duration::from_millis(500), None).unwrap();
        assert_eq!(done.exit, Exit::TimedOut);
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(!alive(pid), "the background sleep outlived its run");
    }

    #[test]
    fn an_escaped_daemon_is_swept() {
        reaper::init();
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        // setsid leaves the process group; the token in its environment gives it away.
        let script = format!(
            "setsid sh -c 'echo $$ > {}; exec sleep 300' >/dev/null 2>&1 & sleep 0.3",
            pidfile.display()
        );
        let done = run(sh(&script), Duration::from_secs(10), None).unwrap();
        assert_eq!(done.exit, Exit::Code(0));
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(!alive(pid), "the setsid daemon outlived its run");
    }

    #[test]
    fn a_flood_is_capped() {
        let done =
            run(sh("head -c 5000000 /dev/zero | tr '\\0' x; echo; echo last"), Duration::from_secs(20), None)
                .unwrap();
        assert!(done.capture.omitted() > 4_000_000);
        assert!(done.capture.text().ends_with("last\n"));
    }

    #[test]
    fn the_cpu_time_of_waited_for_descendants_is_counted() {
        // A grandchild shell that does a fixed amount of work (about 0.3 s
        // of CPU on an idle machine; CPU time, not wall time, so a loaded
        // machine cannot shrink it) and is waited for.
        let work = r#"sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'"#;
        let done = run(sh(work), Duration::from_secs(60), None).unwrap();
        assert_eq!(done.exit, Exit::Code(0));
        assert!(done.cpu_secs > 0.1, "cpu {} s over {} s", done.cpu_secs, done.secs);
        let idle = run(sh("sleep 0.3"), Duration::from_secs(20), None).unwrap();
        assert!(idle.cpu_secs < 0.1, "a sleep used {} s of CPU", idle.cpu_secs);
    }
}
