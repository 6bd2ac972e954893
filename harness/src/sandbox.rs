//! Running untrusted processes — the nodes a test starts, a submission's
//! build — in a sandbox, when the grader asks for one.
//!
//! The sandbox is bubblewrap (`bwrap`), run as root, with `setpriv` inside it
//! to drop to an unprivileged uid of the sandbox's own:
//!
//! * new PID, network, IPC, UTS and cgroup namespaces: the process sees only
//!   its own processes, has no network (not even the host's loopback), and
//!   dies with its parent (`--die-with-parent`); `--new-session` detaches it
//!   from any terminal;
//! * a file system of its own: `/usr` (and the `/bin`, `/lib` links) read-only,
//!   a private `/proc`, a minimal `/dev`, an empty size-limited `/tmp`, and
//!   only the paths its caller names, read-only or writable — nothing of the
//!   kit's sources, the reference solution, the rubric or the reports;
//! * uid and gid [`UID_BASE`] + the pid of the process that started it
//!   (unique while that process lives), no supplementary groups, no
//!   capabilities, `no_new_privs`;
//! * resource limits ([`Limits`]) set before `bwrap` runs and inherited by
//!   everything inside it; RLIMIT_NPROC counts per uid, so per sandbox owner;
//! * an environment holding only `PATH`, `HOME`, `RUST_BACKTRACE` and what the
//!   caller adds.
//!
//! The grader turns it on by setting [`SANDBOX_VAR`] to the path of `bwrap`
//! in the environment of the trusted `labs` process; a student's own
//! `make test-2A` never sets it.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable that turns the sandbox on: the path of `bwrap`.
pub const SANDBOX_VAR: &str = "LAB_SANDBOX";
/// Sandbox uids and gids are this plus a pid: far above any real account's.
pub const UID_BASE: u32 = 0x4000_0000;
/// Where `setpriv` (util-linux) is looked for.
const SETPRIV_PATHS: [&str; 2] = ["/usr/bin/setpriv", "/bin/setpriv"];
/// The size of the sandbox's own `/tmp`.
const TMP_BYTES: u64 = 256 * 1024 * 1024;

/// Resource limits for everything inside one sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// RLIMIT_NPROC: processes and threads of the sandbox's uid.
    pub processes: u64,
    /// RLIMIT_DATA: bytes of heap and private writable memory per process.
    pub memory_bytes: u64,
    /// RLIMIT_CPU: seconds of CPU per process.
    pub cpu_secs: u64,
    /// RLIMIT_FSIZE: the largest file a process may write.
    pub file_bytes: u64,
    /// RLIMIT_NOFILE: open file descriptors per process.
    pub open_files: u64,
}

impl Limits {
    /// For the nodes of one test: a few dozen threads each, well under a
    /// gigabyte, a test's length of CPU.
    pub const NODE: Limits = Limits {
        processes: 512,
        memory_bytes: 1024 * 1024 * 1024,
        cpu_secs: 300,
        file_bytes: 64 * 1024 * 1024,
        open_files: 1024,
    };
    /// For a submission's build: cargo, rustc and the linker.
    pub const BUILD: Limits = Limits {
        processes: 1024,
        memory_bytes: 8 * 1024 * 1024 * 1024,
        cpu_secs: 3600,
        file_bytes: 1024 * 1024 * 1024,
        open_files: 4096,
    };
}

/// What a sandboxed process may see besides `/usr`: paths bound at the same
/// place inside, read-only or writable, and its environment.
#[derive(Debug, Default, Clone)]
pub struct View {
    /// Paths it may read (and execute).
    pub read: Vec<PathBuf>,
    /// Paths it may read and write. They must exist; the caller gives them to
    /// the sandbox's uid ([`Sandbox::give`]).
    pub write: Vec<PathBuf>,
    /// Extra environment variables.
    pub env: Vec<(String, OsString)>,
    /// Its working directory (default `/`).
    pub chdir: Option<PathBuf>,
}

/// One sandbox owner: the tools and the uid its processes run as.
#[derive(Debug, Clone)]
pub struct Sandbox {
    bwrap: PathBuf,
    setpriv: PathBuf,
    uid: u32,
    limits: Limits,
}

impl Sandbox {
    /// A sandbox run with `bwrap`, whose processes run as `uid`.
    ///
    /// # Errors
    /// If `bwrap` is not a file or `setpriv` cannot be found.
    pub fn new(bwrap: &Path, uid: u32, limits: Limits) -> Result<Sandbox, String> {
        if !bwrap.is_file() {
            return Err(format!("{} is not a file (is bubblewrap installed?)", bwrap.display()));
        }
        let setpriv = SETPRIV_PATHS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| format!("setpriv (util-linux) not found in {}", SETPRIV_PATHS.join(" or ")))?;
        Ok(Sandbox { bwrap: bwrap.to_path_buf(), setpriv, uid, limits })
    }

    /// The sandbox the grader asked for in [`SANDBOX_VAR`], for the nodes of
    /// this process's tests, or `None` when it asked for none.
    ///
    /// # Errors
    /// If the variable is set but names no usable `bwrap`.
    pub fn from_env() -> Result<Option<Sandbox>, String> {
        match std::env::var_os(SANDBOX_VAR) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => Sandbox::new(Path::new(&v), uid_for(std::process::id()), Limits::NODE)
                .map(Some)
                .map_err(|e| format!("{SANDBOX_VAR}: {e}")),
        }
    }

    /// The uid (and gid) its processes run as.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// Its limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Gives `path` (not recursively) to the sandbox's uid, so that a process
    /// inside may write it.
    ///
    /// # Errors
    /// If the owner cannot be changed (not root).
    pub fn give(&self, path: &Path) -> std::io::Result<()> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.uid))
    }

    /// Gives `path` and everything under it to the sandbox's uid. Symbolic
    /// links are changed themselves, never followed.
    ///
    /// # Errors
    /// The first failure to read a folder or change an owner.
    pub fn give_tree(&self, path: &Path) -> std::io::Result<()> {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.uid))?;
        if std::fs::symlink_metadata(path)?.is_dir() {
            for entry in std::fs::read_dir(path)? {
                self.give_tree(&entry?.path())?;
            }
        }
        Ok(())
    }

    /// A command that runs `program args…` inside the sandbox with `view`.
    /// The caller adds stdio, a process group and its own `pre_exec` hooks;
    /// the limits are set by a hook of this command's own.
    pub fn command(&self, program: &Path, args: &[String], view: &View) -> Command {
        let mut cmd = Command::new(&self.bwrap);
        cmd.args([
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--ro-bind",
            "/usr",
            "/usr",
        ]);
        // Merged-/usr systems link /bin, /lib…; others have real folders.
        for top in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            match std::fs::read_link(top) {
                Ok(target) => {
                    cmd.arg("--symlink").arg(target).arg(top);
                }
                Err(_) if Path::new(top).is_dir() => {
                    cmd.args(["--ro-bind", top, top]);
                }
                Err(_) => {}
            }
        }
        cmd.args(["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size"])
            .arg(TMP_BYTES.to_string())
            .args(["--tmpfs", "/tmp"]);
        // bwrap would create a bound path's missing parents with the modes of
        // the originals (a test directory is 0700): create them readable.
        for dir in parents(view.read.iter().chain(&view.write)) {
            cmd.args(["--perms", "0755", "--dir"]).arg(dir);
        }
        for p in &view.read {
            cmd.arg("--ro-bind").arg(p).arg(p);
        }
        for p in &view.write {
            cmd.arg("--bind").arg(p).arg(p);
        }
        cmd.args(["--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp"]);
        cmd.args(["--setenv", "RUST_BACKTRACE", "1"]);
        for (k, v) in &view.env {
            cmd.arg("--setenv").arg(k).arg(v);
        }
        cmd.arg("--chdir").arg(view.chdir.as_deref().unwrap_or(Path::new("/")));
        let id = self.uid.to_string();
        cmd.arg("--")
            .arg(&self.setpriv)
            .args(["--reuid", &id, "--regid", &id, "--clear-groups"])
            .args(["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"])
            .arg(program)
            .args(args);
        let limits = self.limits;
        // SAFETY: the hook runs between fork and exec and makes only
        // async-signal-safe system calls (setrlimit).
        unsafe {
            cmd.pre_exec(move || set_limits(limits));
        }
        cmd
    }
}

/// Lets any uid connect to the socket at `path` (connecting needs write
/// permission), so that a sandboxed process can reach the harness's sockets
/// that its view holds. The test directory itself stays private to the
/// harness's uid, so no one else can reach them.
///
/// # Errors
/// If the permissions cannot be set.
pub fn open_socket(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
}

/// The folders to create inside a sandbox before binding `paths`: their
/// ancestors, shallowest first, except `/`, the ones the sandbox always has
/// (`/usr`, `/proc`, `/dev`, `/tmp`) and those inside a bound path.
fn parents<'a>(paths: impl Iterator<Item = &'a PathBuf> + Clone) -> Vec<PathBuf> {
    let fixed = [Path::new("/usr"), Path::new("/proc"), Path::new("/dev")];
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths.clone() {
        for a in p.ancestors().skip(1) {
            let covered = a == Path::new("/")
                || a == Path::new("/tmp")
                || fixed.iter().any(|f| a.starts_with(f))
                || paths.clone().any(|b| a.starts_with(b));
            if !covered && !out.iter().any(|o| o == a) {
                out.push(a.to_path_buf());
            }
        }
    }
    out.sort_by_key(|p| p.components().count());
    out
}

/// The sandbox uid (and gid) for processes started by process `pid`.
pub fn uid_for(pid: u32) -> u32 {
    UID_BASE + pid
}

/// Sets `limits` on the calling process (inherited by what it starts), and
/// no core dumps.
///
/// # Errors
/// The first limit the kernel refuses.
pub fn set_limits(limits: Limits) -> std::io::Result<()> {
    use nix::sys::resource::{Resource, setrlimit};
    let set = |r, v: u64| setrlimit(r, v, v).map_err(std::io::Error::from);
    set(Resource::RLIMIT_NPROC, limits.processes)?;
    set(Resource::RLIMIT_DATA, limits.memory_bytes)?;
    set(Resource::RLIMIT_CPU, limits.cpu_secs)?;
    set(Resource::RLIMIT_FSIZE, limits.file_bytes)?;
    set(Resource::RLIMIT_NOFILE, limits.open_files)?;
    set(Resource::RLIMIT_CORE, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bwrap() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bwrap");
        std::fs::write(&p, "").unwrap();
        (dir, p)
    }

    #[test]
    fn the_command_binds_only_what_the_view_names() {
        let (_d, bwrap) = fake_bwrap();
        let Ok(sb) = Sandbox::new(&bwrap, uid_for(7), Limits::NODE) else { return };
        let view = View {
            read: vec!["/opt/node".into()],
            write: vec!["/tmp/rl-x/d0".into()],
            env: vec![("NODE_LOG".into(), "debug".into())],
            chdir: None,
        };
        let cmd = sb.command(Path::new("/opt/node"), &["raft".into()], &view);
        let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let joined = args.join(" ");
        assert!(joined.contains("--ro-bind /opt/node /opt/node"), "{joined}");
        assert!(joined.contains("--bind /tmp/rl-x/d0 /tmp/rl-x/d0"), "{joined}");
        assert!(joined.contains("--unshare-net") && joined.contains("--clearenv"), "{joined}");
        assert!(joined.contains(&format!("--reuid {}", UID_BASE + 7)), "{joined}");
        assert!(joined.ends_with("-- /opt/node raft"), "{joined}");
        // The tmpfs over /tmp comes before the binds inside it.
        let tmpfs = args.iter().position(|a| a == "--tmpfs").unwrap();
        let bind = args.iter().position(|a| a == "--bind").unwrap();
        assert!(tmpfs < bind);
    }

    #[test]
    fn a_missing_bwrap_is_named() {
        let e = Sandbox::new(Path::new("/nonexistent/bwrap"), 1, Limits::NODE).unwrap_err();
        assert!(e.contains("/nonexistent/bwrap") && e.contains("bubblewrap"), "{e}");
    }
}
