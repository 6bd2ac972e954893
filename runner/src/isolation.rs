//! Deciding how untrusted code runs: in a bubblewrap sandbox when the grader
//! can make one (root, bubblewrap installed, namespaces allowed), else
//! unisolated with a loud notice, or not at all with `--require-isolation`.
//!
//! What the sandbox is, see [`crate::sandbox`]. Here: finding it, trying it
//! once, and running the trusted `labs` process of each run in a mount
//! namespace of its own with a private, size-limited `/tmp` (where its test
//! directory and so every node's data lives), so that no run can fill the
//! disk or see another run's files ([`PrivateTmp`], Linux only).

use crate::sandbox::{Limits, Sandbox, View};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Where bubblewrap is looked for.
const BWRAP_PATHS: [&str; 2] = ["/usr/bin/bwrap", "/usr/local/bin/bwrap"];
/// The size of each run's private `/tmp`.
pub const RUN_TMP_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// How long the trial sandbox may take.
pub(crate) const TRIAL_TIMEOUT: Duration = Duration::from_secs(20);

/// What the command line asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A sandbox if one can be made, else a notice.
    Auto,
    /// A sandbox or no grade (`--require-isolation`).
    Required,
    /// No sandbox (`--no-isolation`), with the notice.
    Off,
}

/// How this grading runs untrusted code.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Sandboxed with this bubblewrap.
    Sandbox {
        /// The `bwrap` binary.
        bwrap: PathBuf,
    },
    /// Unisolated, for this reason.
    None {
        /// Why.
        reason: String,
    },
}

impl Plan {
    /// The `bwrap` binary, when sandboxed.
    pub fn bwrap(&self) -> Option<&Path> {
        match self {
            Plan::Sandbox { bwrap } => Some(bwrap),
            Plan::None { .. } => None,
        }
    }
}

/// Decides how to run untrusted code, as `want` says.
///
/// # Errors
/// With [`Want::Required`], the reason no sandbox can be made.
pub fn plan(want: Want) -> Result<Plan, String> {
    if want == Want::Off {
        return Ok(Plan::None { reason: "turned off with --no-isolation".into() });
    }
    match probe() {
        Ok(bwrap) => Ok(Plan::Sandbox { bwrap }),
        Err(reason) if want == Want::Required => Err(reason),
        Err(reason) => Ok(Plan::None { reason }),
    }
}

/// Finds bubblewrap and runs `true` in a sandbox as the nodes will run.
fn probe() -> Result<PathBuf, String> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { nix::libc::geteuid() } != 0 {
        return Err("the grader is not running as root, so it cannot run code as another uid".into());
    }
    let bwrap = BWRAP_PATHS.iter().map(PathBuf::from).find(|p| p.is_file()).ok_or_else(|| {
        "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap; or scripts/install-sandbox.sh)"
            .to_string()
    })?;
    let sandbox = Sandbox::new(&bwrap, crate::sandbox::uid_for(std::process::id()), Limits::NODE)?;
    let truth = ["/usr/bin/true", "/bin/true"].into_iter().map(PathBuf::from).find(|p| p.is_file());
    let truth = truth.ok_or("no /usr/bin/true to try the sandbox with")?;
    let mut cmd = sandbox.command(&truth, &[], &View::default());
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", bwrap.display()))?;
    let out = wait_with_timeout(child, TRIAL_TIMEOUT)?;
    if !out.status.success() {
        return Err(format!(
            "{} cannot make a sandbox here ({}): {}",
            bwrap.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(bwrap)
}

fn wait_with_timeout(
    mut child: std::process::Child,
    limit: Duration,
) -> Result<std::process::Output, String> {
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().map_err(|e| e.to_string()),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the trial sandbox did not finish within {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// A run's private `/tmp`, prepared before the fork: the tmpfs options and,
/// for each folder the run needs that lies under `/tmp` (its artifact
/// folder, writable; the folders of the tester and the node it runs,
/// read-only), what it takes to bind that folder back in at the same path.
/// So the grader works wherever the kit, the build or the report is.
pub struct PrivateTmp {
    options: CString,
    keep: Vec<Keep>,
}

struct Keep {
    /// The folder's real path.
    path: CString,
    /// Its path and each ancestor below `/tmp`, shallowest first.
    dirs: Vec<CString>,
    /// `/proc/self/fd/N`, the descriptor it is held on while `/tmp` is covered.
    held: CString,
    /// N.
    fd: i32,
    /// Bound back read-only.
    read_only: bool,
}

/// The first descriptor the kept folders are held on while `/tmp` is covered.
const KEEP_FD: i32 = 1000;

impl PrivateTmp {
    /// A private `/tmp` of [`RUN_TMP_BYTES`] in which `writable` and
    /// `read_only` (those of them under `/tmp`) are still the real folders.
    ///
    /// # Errors
    /// If a folder cannot be resolved.
    pub fn new(writable: &Path, read_only: &[&Path]) -> std::io::Result<PrivateTmp> {
        let cstr = |s: &std::ffi::OsStr| CString::new(s.as_bytes()).map_err(std::io::Error::other);
        let options =
            CString::new(format!("size={RUN_TMP_BYTES},mode=1777")).map_err(std::io::Error::other)?;
        let mut wanted: Vec<(PathBuf, bool)> = Vec::new();
        for (p, ro) in std::iter::once((writable, false)).chain(read_only.iter().map(|p| (*p, true))) {
            let real = p.canonicalize()?;
            if real.starts_with("/tmp")
                && real != Path::new("/tmp")
                && !wanted.iter().any(|(w, _)| *w == real)
            {
                wanted.push((real, ro));
            }
        }
        // Shallowest first: a folder inside another is bound after it.
        wanted.sort_by_key(|(p, _)| p.components().count());
        let mut keep = Vec::new();
        for (k, (real, read_only)) in wanted.into_iter().enumerate() {
            let mut dirs: Vec<CString> = real
                .ancestors()
                .take_while(|a| *a != Path::new("/tmp"))
                .map(|a| cstr(a.as_os_str()))
                .collect::<Result<_, _>>()?;
            dirs.reverse();
            let fd = KEEP_FD + k as i32;
            let held = CString::new(format!("/proc/self/fd/{fd}")).map_err(std::io::Error::other)?;
            keep.push(Keep { path: cstr(real.as_os_str())?, dirs, held, fd, read_only });
        }
        Ok(PrivateTmp { options, keep })
    }

    /// Off Linux there are no mount namespaces.
    ///
    /// # Errors
    /// Always.
    #[cfg(not(target_os = "linux"))]
    pub fn enter(&self) -> std::io::Result<()> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "a private /tmp needs Linux"))
    }

    /// Called between fork and exec of a run's `labs`: a mount namespace of
    /// its own with the private tmpfs on `/tmp`, and the kept folders bound
    /// back in.
    ///
    /// # Errors
    /// If the namespace or a mount cannot be made.
    #[cfg(target_os = "linux")]
    pub fn enter(&self) -> std::io::Result<()> {
        use nix::mount::{MsFlags, mount};
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
        // Mounts made here stay here.
        mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)?;
        // The kept folders, held open (in this namespace) across the cover.
        for keep in &self.keep {
            // SAFETY: open, dup2 and close are async-signal-safe; the path was made before the fork.
            unsafe {
                let fd = nix::libc::open(keep.path.as_ptr(), nix::libc::O_PATH | nix::libc::O_DIRECTORY);
                if fd < 0 || nix::libc::dup2(fd, keep.fd) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                nix::libc::close(fd);
            }
        }
        mount(
            Some("tmpfs"),
            "/tmp",
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(self.options.as_c_str()),
        )?;
        for keep in &self.keep {
            for d in &keep.dirs {
                // SAFETY: mkdir is async-signal-safe; the path was made before the fork.
                // A folder already there (inside one bound before) is fine.
                unsafe { nix::libc::mkdir(d.as_ptr(), 0o755) };
            }
            let target = keep.dirs.last().expect("a folder under /tmp has a path");
            mount(
                Some(keep.held.as_c_str()),
                target.as_c_str(),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )?;
            if keep.read_only {
                let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
                mount(None::<&str>, target.as_c_str(), None::<&str>, flags, None::<&str>)?;
            }
            // SAFETY: close is async-signal-safe.
            unsafe { nix::libc::close(keep.fd) };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_private_tmp_keeps_the_folders_a_run_needs() {
        if unsafe { nix::libc::geteuid() } != 0 {
            eprintln!("skipped: a mount namespace needs root");
            return;
        }
        let base = tempfile::Builder::new().prefix("raftlab-keep-").tempdir_in("/tmp").unwrap();
        let (art, tool) = (base.path().join("out/art"), base.path().join("kit/bin"));
        std::fs::create_dir_all(&art).unwrap();
        std::fs::create_dir_all(&tool).unwrap();
        std::fs::write(tool.join("tester"), "T").unwrap();
        std::fs::write(base.path().join("hidden"), "H").unwrap();
        let script = format!(
            "cat {t}/tester && ! test -e {h} && echo ok > {a}/written && ! touch {t}/new 2>/dev/null",
            t = tool.display(),
            a = art.display(),
            h = base.path().join("hidden").display()
        );
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        let spawned = crate::process::Spawned {
            private_tmp: Some(PrivateTmp::new(&art, &[&tool]).unwrap()),
            ..crate::process::Spawned::new(cmd, "keep-test")
        };
        let done = crate::process::run(spawned, Duration::from_secs(10), None).unwrap();
        assert_eq!(done.exit, crate::process::Exit::Code(0), "{}", done.capture.text());
        assert_eq!(std::fs::read_to_string(art.join("written")).unwrap(), "ok\n");
        assert!(!tool.join("new").exists());
    }
}
