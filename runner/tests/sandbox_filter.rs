#![cfg(target_os = "linux")]
//! The sandbox's system-call filter as a node meets it: small commands run
//! through `Sandbox::command` with bubblewrap, as root. Ordinary work
//! succeeds; the kernel keyring, FIFOs, file locks and new namespaces are
//! refused. Skipped (saying why) when not root or without `/usr/bin/bwrap`
//! (`scripts/install-sandbox.sh` installs it).

use runner::sandbox::{Limits, Profile, Sandbox, View, node_uid, uid_for};
use std::path::Path;
use std::process::{Output, Stdio};

const BWRAP: &str = "/usr/bin/bwrap";
const PYTHON: &str = "/usr/bin/python3";

/// A node's sandbox, or why there is none here.
fn node_sandbox() -> Result<Sandbox, String> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { nix::libc::geteuid() } != 0 {
        return Err("not root: only root can run a process as another uid".into());
    }
    if !Path::new(BWRAP).is_file() {
        return Err(format!("no {BWRAP} (scripts/install-sandbox.sh installs it)"));
    }
    let uid = node_uid(std::process::id(), 0)?;
    Sandbox::new(Path::new(BWRAP), uid, Limits::NODE)
}

/// A build's sandbox, as the grader makes it.
fn build_sandbox() -> Result<Sandbox, String> {
    node_sandbox()?;
    Sandbox::new(Path::new(BWRAP), uid_for(std::process::id()), Limits::BUILD)?.with_profile(Profile::Build)
}

fn run(sandbox: &Sandbox, program: &str, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let mut cmd = sandbox.command(Path::new(program), &args, &View::default());
    cmd.stdin(Stdio::null());
    cmd.output().unwrap_or_else(|e| panic!("cannot run {program} in the sandbox: {e}"))
}

fn sh(sandbox: &Sandbox, script: &str) -> Output {
    run(sandbox, "/bin/sh", &["-c", script])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

#[test]
fn a_node_works_as_usual_but_cannot_reach_past_the_proxy() {
    let sandbox = match node_sandbox() {
        Ok(s) => s,
        Err(why) => return println!("skipped: {why}"),
    };

    // Ordinary work: files in its /tmp, a child process, its own uid.
    let out = sh(&sandbox, "echo hello > /tmp/x && cat /tmp/x && (sleep 0.05 & wait) && id -u");
    assert!(out.status.success(), "ordinary work failed: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("hello\n{}", sandbox.uid()));

    // No FIFO (mknodat): nothing to block the harness on.
    let out = sh(&sandbox, "mkfifo /tmp/f");
    assert!(!out.status.success(), "mkfifo succeeded");
    assert!(text(&out.stderr).contains("Operation not permitted"), "{}", text(&out.stderr));

    // No file locks: flock(1) fails to lock even a file of its own.
    if Path::new("/usr/bin/flock").is_file() {
        let out = sh(&sandbox, "touch /tmp/l && flock /tmp/l true");
        assert!(!out.status.success(), "flock succeeded");
    } else {
        println!("flock: skipped (no /usr/bin/flock)");
    }

    // No new namespaces.
    if Path::new("/usr/bin/unshare").is_file() {
        let out = sh(&sandbox, "unshare --user --map-root-user true");
        assert!(!out.status.success(), "unshare succeeded");
    }

    // No kernel keyring: keyctl and add_key fail with EPERM, getpid works.
    if !Path::new(PYTHON).is_file() {
        return println!("keyring: skipped (no {PYTHON})");
    }
    let script = "import ctypes, sys\n\
                  libc = ctypes.CDLL(None, use_errno=True)\n\
                  keyctl, add_key, getpid = (int(a) for a in sys.argv[1:4])\n\
                  def errno(r):\n    return ctypes.get_errno() if r == -1 else 0\n\
                  r1 = libc.syscall(keyctl, 0, -3, 0)\n\
                  e1 = errno(r1)\n\
                  r2 = libc.syscall(add_key, b'user', b'k', b'v', 1, -3)\n\
                  e2 = errno(r2)\n\
                  print(e1, e2, libc.syscall(getpid) > 0)\n";
    let numbers =
        [nix::libc::SYS_keyctl, nix::libc::SYS_add_key, nix::libc::SYS_getpid].map(|n| n.to_string());
    let out = run(&sandbox, PYTHON, &["-c", script, &numbers[0], &numbers[1], &numbers[2]]);
    assert!(out.status.success(), "python failed: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{0} {0} True", nix::libc::EPERM));
}

#[test]
fn a_build_keeps_its_file_locks_but_not_the_keyring() {
    let sandbox = match build_sandbox() {
        Ok(s) => s,
        Err(why) => return println!("skipped: {why}"),
    };
    if Path::new("/usr/bin/flock").is_file() {
        let out = sh(&sandbox, "touch /tmp/l && flock /tmp/l echo locked");
        assert!(out.status.success(), "flock failed in a build: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "locked");
    }
    let out = sh(&sandbox, "mkfifo /tmp/f");
    assert!(!out.status.success(), "mkfifo succeeded in a build");
}
