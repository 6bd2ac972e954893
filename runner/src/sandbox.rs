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
//! * a uid and gid of its own ([`uid_for`], [`node_uid`]), no supplementary
//!   groups, no capabilities, `no_new_privs`;
//! * a system-call filter (seccomp, see `sandbox/filter.rs`) that refuses the kernel
//!   keyring, file locks and notifications, new namespaces and mounts,
//!   device nodes and FIFOs, ptrace and other kernel interfaces no node or
//!   build needs: the channels that namespaces and uids leave between two
//!   sandboxes, closed so that nodes talk only through the proxy (a build,
//!   [`Profile::Build`], keeps its file locks);
//! * resource limits ([`Limits`]) set before `bwrap` runs and inherited by
//!   everything inside it; RLIMIT_NPROC counts per uid, so per node;
//! * an environment holding only `PATH`, `HOME`, `RUST_BACKTRACE` and what the
//!   caller adds.
//!
//! **Uids.** Each process that starts sandboxes (the grader, a `labs`) owns
//! [`SLOTS`] uids, [`UID_BASE`] + its pid × [`SLOTS`] + a slot, unique while
//! it lives and far above any real account's: slot 0 is its own sandbox
//! ([`uid_for`]: the grader's build and trial run, a `labs`'s clerk host),
//! slot 1 + i is node i of its test ([`node_uid`]), which keeps it across
//! restarts, so that its data directory stays its own. Pids stay below
//! 2²² (the kernel's `PID_MAX_LIMIT`), so every uid is below 2³¹.
//!
//! The grader turns it on by setting [`protocol::env::SANDBOX`] to the path of `bwrap`
//! in the environment of the trusted `labs` process; a student's own
//! `make test-2A` never sets it.

#[cfg(target_os = "linux")]
mod filter;
#[cfg(not(target_os = "linux"))]
mod filter {
    //! No system-call filter but on Linux, so no sandbox runs elsewhere.

    pub(super) const MAX_BYTES: usize = 4096;

    /// Whose filter: the two differ only in file locks.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Profile {
        /// A node's.
        Node,
        /// A submission's build.
        Build,
    }

    pub(super) fn program(_: Profile) -> Result<Vec<u8>, String> {
        Err("the sandbox (bubblewrap and a seccomp filter) runs on Linux only".into())
    }
}

pub use filter::Profile;

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// Sandbox uids and gids start here: far above any real account's.
pub const UID_BASE: u32 = 0x4000_0000;
/// How many sandbox uids each starting process owns (see the module's
/// "Uids"): its own, and one for each node of its test.
pub const SLOTS: u32 = 64;
/// The most nodes a sandboxed test may have: one uid each.
pub const MAX_NODES: usize = SLOTS as usize - 1;
/// The kernel's largest pid (`PID_MAX_LIMIT` on 64-bit systems).
const PID_LIMIT: u32 = 1 << 22;
/// The descriptor on which `bwrap` reads the system-call filter
/// (`--seccomp`): the same in every sandboxed child, set up between fork
/// and exec. High, so that nothing the starter holds sits there (a child
/// that finds it taken fails to start: "resource busy"), and below every
/// [`Limits::open_files`].
const SECCOMP_FD: i32 = 1010;
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

const _: () = assert!((SECCOMP_FD as u64) < Limits::NODE.open_files);
const _: () = assert!((SECCOMP_FD as u64) < Limits::BUILD.open_files);

/// One sandbox owner: the tools and the uid its processes run as.
#[derive(Debug, Clone)]
pub struct Sandbox {
    bwrap: PathBuf,
    setpriv: PathBuf,
    uid: u32,
    limits: Limits,
    filter: Filter,
}

/// A compiled system-call filter, shared by a sandbox and its copies.
#[derive(Clone)]
struct Filter {
    profile: Profile,
    program: Arc<[u8]>,
}

impl Filter {
    fn new(profile: Profile) -> Result<Filter, String> {
        Ok(Filter { profile, program: filter::program(profile)?.into() })
    }
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Filter({:?}, {} instructions)", self.profile, self.program.len() / 8)
    }
}

impl Sandbox {
    /// A sandbox run with `bwrap`, whose processes run as `uid`.
    ///
    /// # Errors
    /// If `bwrap` is not a file, `setpriv` cannot be found, or there is no
    /// system-call filter for this architecture.
    pub fn new(bwrap: &Path, uid: u32, limits: Limits) -> Result<Sandbox, String> {
        if platform::portable() {
            return Err(format!(
                "no sandbox on the portable path ({} is set, or this is not Linux): the grader runs on Linux only",
                platform::PORTABLE_VAR
            ));
        }
        if !bwrap.is_file() {
            return Err(format!("{} is not a file (is bubblewrap installed?)", bwrap.display()));
        }
        let setpriv = SETPRIV_PATHS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| format!("setpriv (util-linux) not found in {}", SETPRIV_PATHS.join(" or ")))?;
        let filter = Filter::new(Profile::Node)?;
        Ok(Sandbox { bwrap: bwrap.to_path_buf(), setpriv, uid, limits, filter })
    }

    /// The same sandbox with the system-call filter of `profile`. A
    /// [`Sandbox::new`] has the strictest, [`Profile::Node`]; a submission's
    /// build takes [`Profile::Build`], which allows file locks.
    ///
    /// # Errors
    /// As [`Sandbox::new`]: no filter for this architecture.
    pub fn with_profile(self, profile: Profile) -> Result<Sandbox, String> {
        Ok(Sandbox { filter: Filter::new(profile)?, ..self })
    }

    /// Its system-call filter's profile.
    pub fn profile(&self) -> Profile {
        self.filter.profile
    }

    /// The same sandbox for processes that run as `uid` (a node's, see
    /// [`node_uid`]).
    pub fn with_uid(&self, uid: u32) -> Sandbox {
        Sandbox { uid, ..self.clone() }
    }

    /// The sandbox the grader asked for in [`protocol::env::SANDBOX`], for the nodes of
    /// this process's tests, or `None` when it asked for none.
    ///
    /// # Errors
    /// If the variable is set but names no usable `bwrap`.
    pub fn from_env() -> Result<Option<Sandbox>, String> {
        match std::env::var_os(protocol::env::SANDBOX) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => Sandbox::new(Path::new(&v), uid_for(std::process::id()), Limits::NODE)
                .map(Some)
                .map_err(|e| format!("{}: {e}", protocol::env::SANDBOX)),
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
    /// inside may write it. A link there is changed itself, never followed.
    ///
    /// # Errors
    /// If the owner cannot be changed (not root).
    pub fn give(&self, path: &Path) -> std::io::Result<()> {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.uid))
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
    /// The caller adds stdio, a process group and its own `pre_exec` hooks.
    /// A hook of this command's own sets the limits and hands `bwrap` the
    /// system-call filter: through a pipe made in the child, on
    /// `SECCOMP_FD` (1010), so that the starter never holds it and each spawn of
    /// the command reads its own copy.
    pub fn command(&self, program: &Path, args: &[String], view: &View) -> Command {
        let mut cmd = Command::new(&self.bwrap);
        cmd.arg("--seccomp").arg(SECCOMP_FD.to_string());
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
        let (limits, filter) = (self.limits, self.filter.clone());
        // SAFETY: the hook runs between fork and exec, allocates nothing and
        // makes only async-signal-safe system calls (setrlimit, fcntl, pipe2,
        // write, dup2, close).
        unsafe {
            cmd.pre_exec(move || {
                set_limits(limits)?;
                hand_over(&filter.program, SECCOMP_FD)
            });
        }
        cmd
    }
}

/// Between fork and exec: puts `bytes` in a new pipe whose read end is
/// descriptor `fd` (inherited by exec), and closes the write end. `bytes`
/// fit in the one page an empty pipe always holds, so the write never
/// blocks.
///
/// # Errors
/// If `fd` is already open here ("resource busy"), or a call fails.
#[cfg(not(target_os = "linux"))]
fn hand_over(_: &[u8], _: i32) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(target_os = "linux")]
fn hand_over(bytes: &[u8], fd: i32) -> std::io::Result<()> {
    use nix::libc;
    debug_assert!(bytes.len() <= filter::MAX_BYTES);
    let fail = || Err(std::io::Error::last_os_error());
    // SAFETY: plain system calls on descriptors this function owns, and a
    // read-only buffer that outlives them.
    unsafe {
        if libc::fcntl(fd, libc::F_GETFD) != -1 {
            return Err(std::io::ErrorKind::ResourceBusy.into());
        }
        let mut ends = [0; 2];
        if libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return fail();
        }
        let [read, write] = ends;
        let mut done = 0;
        while done < bytes.len() {
            let n = libc::write(write, bytes[done..].as_ptr().cast(), bytes.len() - done);
            if n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return fail();
            }
            done += n.max(0) as usize;
        }
        libc::close(write);
        if read == fd {
            // The pipe took the number itself: only keep it across exec.
            return if libc::fcntl(fd, libc::F_SETFD, 0) == 0 { Ok(()) } else { fail() };
        }
        // dup2 leaves the copy without close-on-exec.
        if libc::dup2(read, fd) != fd {
            return fail();
        }
        libc::close(read);
    }
    Ok(())
}

/// Lets any uid connect to the socket at `path` (connecting needs write
/// permission), so that a sandboxed process can reach the harness's sockets
/// that its view holds. The test directory itself stays private to the
/// harness's uid, so no one else can reach them.
///
/// Only a socket is changed: what is at `path` is opened without following
/// a link and checked, and its mode set through that handle, so that a
/// process that swapped the socket for a link to another file cannot have
/// that file opened to all.
///
/// On the portable path, which runs no sandbox, nothing needs opening:
/// only that `path` is a socket is checked.
///
/// # Errors
/// If `path` is not a socket or the permissions cannot be set.
pub fn open_socket(path: &Path) -> std::io::Result<()> {
    if platform::portable() {
        use std::os::unix::fs::FileTypeExt;
        return if std::fs::symlink_metadata(path)?.file_type().is_socket() {
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a socket", path.display()),
            ))
        };
    }
    open_socket_for_all(path)
}

#[cfg(not(target_os = "linux"))]
fn open_socket_for_all(_: &Path) -> std::io::Result<()> {
    unreachable!("off Linux, the portable path is always taken")
}

#[cfg(target_os = "linux")]
fn open_socket_for_all(path: &Path) -> std::io::Result<()> {
    use nix::fcntl::{OFlag, open};
    use nix::sys::stat::{Mode, SFlag, fstat};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::PermissionsExt;
    let handle = open(path, OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC, Mode::empty())?;
    let kind = SFlag::from_bits_truncate(fstat(&handle)?.st_mode) & SFlag::S_IFMT;
    if kind != SFlag::S_IFSOCK {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a socket", path.display()),
        ));
    }
    // chmod through the handle: /proc's link names the very file opened.
    let by_handle = format!("/proc/self/fd/{}", handle.as_raw_fd());
    std::fs::set_permissions(by_handle, std::fs::Permissions::from_mode(0o666))
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

/// The sandbox uid (and gid) of process `pid`'s own sandbox (slot 0): the
/// grader's build, a `labs`'s clerk host.
pub fn uid_for(pid: u32) -> u32 {
    slot_uid(pid, 0)
}

/// The sandbox uid (and gid) of node `node` of the test process `pid` runs
/// (slot 1 + `node`), the same at every restart.
///
/// # Errors
/// If the test has more than [`MAX_NODES`] nodes.
pub fn node_uid(pid: u32, node: usize) -> Result<u32, String> {
    if node >= MAX_NODES {
        return Err(format!(
            "node {node}: a sandboxed test runs at most {MAX_NODES} nodes, each as a uid of its own"
        ));
    }
    Ok(slot_uid(pid, 1 + node as u32))
}

fn slot_uid(pid: u32, slot: u32) -> u32 {
    assert!(pid < PID_LIMIT, "pid {pid} is above the kernel's limit of {PID_LIMIT}");
    UID_BASE + pid * SLOTS + slot
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
        assert!(joined.contains(&format!("--reuid {}", UID_BASE + 7 * SLOTS)), "{joined}");
        // The filter comes on a fixed descriptor, before the command.
        assert_eq!(args[..2], ["--seccomp".to_string(), SECCOMP_FD.to_string()], "{joined}");
        assert!(joined.ends_with("-- /opt/node raft"), "{joined}");
        // The tmpfs over /tmp comes before the binds inside it.
        let tmpfs = args.iter().position(|a| a == "--tmpfs").unwrap();
        let bind = args.iter().position(|a| a == "--bind").unwrap();
        assert!(tmpfs < bind);
    }

    #[test]
    fn every_node_and_every_starter_has_a_uid_of_its_own() {
        let mut seen = std::collections::HashSet::new();
        for pid in [1, 2, 7, 4000, PID_LIMIT - 1] {
            assert!(seen.insert(uid_for(pid)), "pid {pid}'s own uid is taken");
            for node in 0..MAX_NODES {
                let uid = node_uid(pid, node).unwrap();
                assert!(seen.insert(uid), "pid {pid}, node {node}: uid {uid} is taken");
                assert!((UID_BASE..1 << 31).contains(&uid), "{uid}");
            }
        }
        // A restarted node gets the same uid; the grader's build (its own
        // slot 0) is never a node's.
        assert_eq!(node_uid(4000, 2), node_uid(4000, 2));
        assert_eq!(node_uid(4000, 0).unwrap(), uid_for(4000) + 1);
        let e = node_uid(4000, MAX_NODES).unwrap_err();
        assert!(e.contains("at most 63 nodes"), "{e}");
    }

    #[test]
    fn a_node_sandbox_differs_only_in_its_uid() {
        let (_d, bwrap) = fake_bwrap();
        let Ok(sb) = Sandbox::new(&bwrap, uid_for(9), Limits::NODE) else { return };
        let node = sb.with_uid(node_uid(9, 4).unwrap());
        assert_eq!(node.uid(), UID_BASE + 9 * SLOTS + 5);
        assert_eq!(node.limits(), sb.limits());
        let args: Vec<String> = node
            .command(Path::new("/bin/true"), &[], &View::default())
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args.join(" ").contains(&format!("--reuid {0} --regid {0}", node.uid())), "{args:?}");
    }

    #[test]
    fn the_filter_reaches_the_child_on_its_descriptor() {
        // What bwrap would read: the hook's pipe, as a child's fd SECCOMP_FD.
        let program = filter::program(Profile::Node).unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", &format!("wc -c < /dev/fd/{SECCOMP_FD}")]).stdout(std::process::Stdio::piped());
        let bytes = program.clone();
        // SAFETY: hand_over is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || hand_over(&bytes, SECCOMP_FD));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), program.len().to_string());
    }

    #[test]
    fn open_socket_opens_a_socket_and_nothing_else() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        open_socket(&sock).unwrap();
        // The portable path runs no sandbox: no other uid needs the socket,
        // which keeps the mode it was made with.
        let fresh = dir.path().join("fresh.sock");
        let _fresh = std::os::unix::net::UnixListener::bind(&fresh).unwrap();
        let made = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        let opened = if platform::portable() { made } else { 0o666 };
        assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, opened);
        // A link in its place (to a file the harness owns) is refused, the file untouched.
        let file = dir.path().join("secret");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("l.sock");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(open_socket(&link).is_err());
        assert!(open_socket(&file).is_err());
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_missing_bwrap_is_named() {
        let e = Sandbox::new(Path::new("/nonexistent/bwrap"), 1, Limits::NODE).unwrap_err();
        if platform::portable() {
            assert!(e.contains("portable path") && e.contains("Linux only"), "{e}");
        } else {
            assert!(e.contains("/nonexistent/bwrap") && e.contains("bubblewrap"), "{e}");
        }
    }
}
