//! Tests of the kit with real node processes: hygiene, bad input, diagnoses.

use assert_cmd::Command;
use harness::{Cluster, Options, SessionVerbs};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

fn use_this_node() {
    // SAFETY: set before any cluster starts; every test sets the same value.
    unsafe { std::env::set_var(protocol::env::NODE, env!("CARGO_BIN_EXE_node")) };
}

fn alive(pid: u32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
}

fn assert_all_gone(pids: &[u32]) {
    assert!(!pids.is_empty());
    let t = Instant::now();
    while pids.iter().any(|&p| alive(p)) {
        assert!(t.elapsed() < Duration::from_secs(5), "node processes {pids:?} outlived their cluster");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn no_node_outlives_a_passing_a_failing_or_a_panicking_test() {
    use_this_node();
    // Passing.
    let cluster =
        Cluster::new("no_node_outlives_a_passing_a_failing_or_a_panicking_test", 3, Options::default())
            .unwrap();
    cluster.begin("hygiene: pass");
    cluster.check_one_leader().unwrap();
    cluster.end().unwrap();
    let pids = cluster.pids();
    assert_eq!(pids.len(), 3);
    drop(cluster);
    assert_all_gone(&pids);

    // Failing: a check that cannot hold.
    let cluster =
        Cluster::new("no_node_outlives_a_passing_a_failing_or_a_panicking_test", 3, Options::default())
            .unwrap();
    cluster.check_one_leader().unwrap();
    let err = cluster.check_no_leader().unwrap_err();
    assert!(err.message().contains("claims to lead"), "{err}");
    let (pids, dir) = (cluster.pids(), cluster.dir().to_path_buf());
    drop(cluster);
    assert_all_gone(&pids);
    assert!(dir.join("n0.log").exists(), "a failing test keeps its directory");
    let timeline = std::fs::read_to_string(dir.join(protocol::artifacts::TIMELINE_LOG)).unwrap();
    assert!(
        timeline.contains("FAILED: expected no leader among connected servers"),
        "the failure is marked in the timeline when it is found: {timeline}"
    );
    let _ = std::fs::remove_dir_all(dir);

    // Panicking.
    let pids = std::sync::Mutex::new(Vec::new());
    let result = std::panic::catch_unwind(|| {
        let cluster =
            Cluster::new("no_node_outlives_a_passing_a_failing_or_a_panicking_test", 3, Options::default())
                .unwrap();
        *pids.lock().unwrap() = cluster.pids();
        panic!("a test body panics");
    });
    assert!(result.is_err());
    assert_all_gone(&pids.lock().unwrap());
}

#[test]
fn a_crashed_node_restarts_on_its_data_and_the_old_pid_is_gone() {
    use_this_node();
    let cluster =
        Cluster::new("a_crashed_node_restarts_on_its_data_and_the_old_pid_is_gone", 3, Options::default())
            .unwrap();
    cluster.begin("crash and restart");
    let index = cluster.one(b"7", 3, true).unwrap();
    let old = cluster.pids();
    cluster.crash(0);
    assert!(!cluster.is_alive(0));
    assert!(old.iter().any(|&p| !alive(p)), "the crashed node's process is gone");
    cluster.restart(0).unwrap();
    cluster.connect(0);
    // The restarted node re-applies what it had, from its own disk and the leader.
    cluster.wait(index, 3, None).unwrap();
    cluster.one(b"8", 3, true).unwrap();
    cluster.end().unwrap();
}

#[test]
fn a_malformed_frame_is_reported_in_the_node_log_and_the_node_keeps_serving() {
    use_this_node();
    let cluster = Cluster::new(
        "a_malformed_frame_is_reported_in_the_node_log_and_the_node_keeps_serving",
        3,
        Options::default(),
    )
    .unwrap();
    cluster.begin("malformed frame");
    let mut s = UnixStream::connect(cluster.dir().join("n0/own/n0.sock")).unwrap();
    // Length 10, kind byte 77: not a frame kind.
    s.write_all(&[10, 0, 0, 0, 77, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    drop(s);
    cluster.one(b"1", 3, true).unwrap();
    let t = Instant::now();
    loop {
        let log = std::fs::read_to_string(cluster.log_path(0)).unwrap();
        if log.contains("frame kind byte 77") {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "node log does not explain the bad frame:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster.end().unwrap();
}

#[test]
fn bad_arguments_are_named() {
    let out = Command::cargo_bin("node")
        .unwrap()
        .args([
            "raft",
            "--me",
            "3",
            "--listen",
            "/tmp/x",
            "--peer",
            "/tmp/a",
            "--data",
            "/tmp/d",
            "--control",
            "/tmp/c",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid --me: 3 but only 1 --peer given"), "{err}");

    let long = format!("/tmp/{}", "x".repeat(120));
    let out = Command::cargo_bin("node")
        .unwrap()
        .args([
            "raft",
            "--me",
            "0",
            "--listen",
            &long,
            "--peer",
            "/tmp/a",
            "--data",
            "/tmp/d",
            "--control",
            "/tmp/c",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid --listen"));
}

#[test]
fn a_corrupt_state_file_stops_the_node_with_a_message_naming_the_file() {
    use_this_node();
    let cluster = Cluster::new(
        "a_corrupt_state_file_stops_the_node_with_a_message_naming_the_file",
        3,
        Options::default(),
    )
    .unwrap();
    cluster.begin("corrupt state");
    cluster.one(b"5", 3, true).unwrap();
    cluster.crash(1);
    let state = cluster.dir().join("d1").join("state.bin");
    let mut bytes = std::fs::read(&state).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&state, bytes).unwrap();
    let err = cluster.restart(1).unwrap_err();
    assert!(err.message().contains("state.bin") && err.message().contains("checksum"), "{err}");
    let dir = cluster.dir().to_path_buf();
    drop(cluster);
    let _ = std::fs::remove_dir_all(dir);
}
