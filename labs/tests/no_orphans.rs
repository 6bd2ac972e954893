//! No process outlives a `labs` that is killed outright (SIGKILL: no
//! destructor runs), on the Linux path (the parent-death signal) and on the
//! portable one (`LAB_PORTABLE=1`: each child watches its starter), for one
//! test and for repeat mode's runs of their own.
#![cfg(target_os = "linux")]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every process descended from `root`, from `/proc` (this test's own
/// means of looking, not the kit's).
fn descendants(root: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// Whether `pid` still runs (a zombie waiting for its reaper does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

fn exe_name(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

fn start(args: &[&str], portable: bool, artifacts: &std::path::Path) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labs"));
    cmd.args(args).env("LAB_ARTIFACTS", artifacts).stdout(Stdio::null()).stderr(Stdio::null());
    if portable {
        cmd.env("LAB_PORTABLE", "1");
    } else {
        cmd.env_remove("LAB_PORTABLE");
    }
    cmd.spawn().unwrap()
}

/// Starts `labs args…`, waits until `nodes` node processes run below it,
/// kills it with SIGKILL and checks that every process below it is gone
/// within two seconds (the portable watch looks every 100 ms).
fn killed_outright_leaves_nothing(args: &[&str], portable: bool, nodes: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut labs = start(args, portable, dir.path());
    let deadline = Instant::now() + Duration::from_secs(20);
    let below = loop {
        let below = descendants(labs.id());
        if below.iter().filter(|p| exe_name(**p) == "node").count() >= nodes {
            break below;
        }
        assert!(Instant::now() < deadline, "{args:?}: {nodes} nodes never ran below labs ({below:?})");
        std::thread::sleep(Duration::from_millis(20));
    };
    labs.kill().unwrap();
    labs.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left: Vec<u32> = below.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            for p in &left {
                let _ =
                    nix::sys::signal::kill(nix::unistd::Pid::from_raw(*p as i32), nix::sys::signal::SIGKILL);
            }
            panic!("{args:?} (portable: {portable}): {left:?} outlived the labs killed outright");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_test_killed_outright_leaves_no_node_on_either_path() {
    for portable in [false, true] {
        killed_outright_leaves_nothing(&["ReElection2A", "--exact"], portable, 3);
    }
}

#[test]
fn repeat_mode_killed_outright_leaves_no_run_and_no_node_on_either_path() {
    for portable in [false, true] {
        killed_outright_leaves_nothing(
            &["--repeat", "2", "--jobs", "2", "ReElection2A", "--exact"],
            portable,
            6,
        );
    }
}
