//! Starting and killing node processes so that none outlives its test.
//!
//! * Each node runs in its own process group, so a crash (SIGKILL to the
//!   group) takes whatever it started with it.
//! * Each node is tied to the harness ([`control::platform::tie_to_parent`]):
//!   on Linux by the parent-death signal (SIGKILL), which fires when the
//!   *thread* that spawned the child exits, so all nodes are spawned from one
//!   long-lived thread that lives as long as the harness process; on the
//!   portable path by a watch in the node itself.
//! * [`NodeProcess`] kills its group and reaps it on drop, whether the test
//!   passed, failed or panicked.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use runner::sandbox::{Sandbox, View};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

fn spawner() -> &'static mpsc::Sender<SpawnRequest> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("node-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("cannot start the node-spawner thread");
        // Never dropped: the thread (and so every child's parent-death tie)
        // lives until the process exits.
        tx
    })
}

/// Finds the `node` binary: [`protocol::env::NODE`] (`LAB_NODE`), else beside the running executable.
pub fn node_binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(protocol::env::NODE) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{}={} is not a file", protocol::env::NODE, p.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the running executable: {e}"))?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    // Test executables live in target/<profile>/deps; the node one level up.
    for _ in 0..2 {
        let candidate = dir.join("node");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir.pop();
    }
    Err(format!(
        "cannot find the node binary beside {}; build it with `cargo build --release -p node` or set {}",
        exe.display(),
        protocol::env::NODE
    ))
}

/// A running node process, killed with its group when dropped.
pub struct NodeProcess {
    child: Child,
    reaped: Option<ExitStatus>,
}

impl NodeProcess {
    /// Starts `binary args…` with stdout and stderr appended to `log`,
    /// inside `sandbox` with its view when one is given.
    pub fn spawn(
        binary: &Path,
        args: &[String],
        log: &Path,
        sandbox: Option<(&Sandbox, &View)>,
    ) -> std::io::Result<NodeProcess> {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        let mut cmd = match sandbox {
            Some((sandbox, view)) => sandbox.command(binary, args, view),
            None => {
                let mut cmd = Command::new(binary);
                cmd.args(args);
                cmd
            }
        };
        cmd.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        control::platform::tie_to_parent(&mut cmd);
        let (tx, rx) = mpsc::channel();
        spawner().send((cmd, tx)).expect("the node-spawner thread never exits");
        let child = rx.recv().expect("the node-spawner thread always answers")?;
        Ok(NodeProcess { child, reaped: None })
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has exited, and how, without waiting.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.reaped.is_none() {
            self.reaped = self.child.try_wait().ok().flatten();
        }
        self.reaped
    }

    /// Sends `signal` to the node's process group and to every process
    /// descended from it: a sandboxed node runs in a session of its own
    /// below the sandbox's processes, so its group is not the starter's.
    /// Used to pause (SIGSTOP) and resume (SIGCONT) a node.
    pub fn signal_all(&mut self, signal: Signal) {
        if self.exited().is_some() {
            return;
        }
        let root = self.child.id();
        let _ = killpg(Pid::from_raw(root as i32), signal);
        for pid in descendants(root) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid as i32), signal);
        }
    }

    /// SIGKILLs the process group and reaps the node. Idempotent.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        if self.reaped.is_none() {
            let _ = killpg(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
            self.reaped = self.child.wait().ok();
        }
        self.reaped
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every process descended from `root` ([`runner::proc_tree`]); none on
/// the portable path (which has no sandbox, so a node leads its own group
/// and `killpg` reaches all).
fn descendants(root: u32) -> Vec<u32> {
    if control::platform::portable() {
        return Vec::new();
    }
    runner::proc_tree::descendants(root)
}

/// At most this many bytes at the end of a log are read for its [`tail`]:
/// a node that floods its log does not flood the diagnosis (a dozen honest
/// lines of tracing are a few kilobytes).
pub const TAIL_BYTES: u64 = 64 * 1024;

/// The last `n` lines of a log file, for diagnoses, as safe text: hidden
/// characters and bytes that are not UTF-8 escaped
/// ([`runner::text::escape_bytes`]), so a node cannot drive the terminal or
/// the report that shows them. Reads only the last [`TAIL_BYTES`] of a
/// regular file, without following a link or opening a FIFO; a first line
/// cut by that bound starts with `…`.
pub fn tail(path: &Path, n: usize) -> String {
    match read_end(path, TAIL_BYTES) {
        Ok((bytes, cut)) => {
            let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
            // A final newline ends the last line; it does not start another.
            let lines = match lines.split_last() {
                Some((&[], before)) => before,
                _ => &lines[..],
            };
            let from = lines.len().saturating_sub(n);
            let shown: Vec<String> =
                lines[from..].iter().map(|l| runner::text::escape_bytes(l).into_owned()).collect();
            let mut text = shown.join("\n");
            if cut && from == 0 && !text.is_empty() {
                text.insert(0, '…');
            }
            text
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// The last `limit` bytes of the regular file at `path` (not followed if it
/// is a link), and whether there was more before them.
fn read_end(path: &Path, limit: u64) -> std::io::Result<(Vec<u8>, bool)> {
    use std::io::{Read, Seek, SeekFrom};
    let (mut file, len) = runner::untrusted::open_file_at(path).map_err(std::io::Error::other)?;
    let start = len.saturating_sub(limit);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok((bytes, start > 0))
}

#[cfg(test)]
mod tail_tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("n0.log");
        std::fs::write(&log, b"one\ntwo\tx\n\x1b[2Jthree\r\xff\n").unwrap();
        assert_eq!(tail(&log, 2), "two\tx\n\\x1b[2Jthree\\r\\xff");
        assert_eq!(tail(&log, 10), "one\ntwo\tx\n\\x1b[2Jthree\\r\\xff");
        std::fs::write(&log, "no newline at the end").unwrap();
        assert_eq!(tail(&log, 1), "no newline at the end");
        std::fs::write(&log, "").unwrap();
        assert_eq!(tail(&log, 3), "");
    }

    #[test]
    fn a_flood_is_read_only_at_its_end_and_a_link_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("n0.log");
        let mut flood = vec![b'x'; 3 * TAIL_BYTES as usize];
        flood.extend_from_slice(b"\nlast\n");
        std::fs::write(&log, &flood).unwrap();
        let t = tail(&log, 3);
        assert!(t.starts_with('…') && t.ends_with("\nlast"), "{}", &t[..10]);
        assert!(t.len() <= TAIL_BYTES as usize + 4);
        let link = dir.path().join("n1.log");
        std::os::unix::fs::symlink(&log, &link).unwrap();
        assert!(tail(&link, 3).starts_with("(cannot read "), "a link is not followed");
        let fifo = dir.path().join("n2.log");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(tail(&fifo, 3).starts_with("(cannot read "), "a FIFO is not read (nor waited for)");
    }
}
