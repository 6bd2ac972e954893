//! The lab's cost limits on a reliable network: RPC counts (2B Count),
//! bytes per entry (2B RPCBytes) and start-to-apply latency (3A Speed).

mod common;

use common::{AGREE_DEADLINE, Cluster, seen, wait_for};
use std::time::{Duration, Instant};

/// 2B Count: electing a leader takes 1..=30 RPCs (3 peers).
const ELECTION_RPCS: std::ops::RangeInclusive<u64> = 1..=30;
/// 2B Count: 10 commands (11 starts) in one term, with 3 peers.
const TEN_COMMANDS_RPCS: u64 = (10 + 1 + 3) * 3;
/// 2B Count: one idle second, with 3 peers.
const IDLE_SECOND_RPCS: u64 = 3 * 20;
/// 3A Speed: a third of a 100 ms heartbeat per sequential command.
const SPEED_PER_COMMAND: Duration = Duration::from_micros(33_333);

#[test]
fn rpc_counts_stay_within_the_lab_limits() {
    let mut cluster = Cluster::new(3, 0);
    cluster.start_all();
    let leader = cluster.check_one_leader();
    let election = cluster.net.rpcs();
    assert!(ELECTION_RPCS.contains(&election), "electing took {election} RPCs");

    // Eleven starts back to back, then wait for all to be applied everywhere.
    let before = cluster.net.rpcs();
    let (first, term) = cluster.raft(leader).start(b"first".to_vec()).expect("leader");
    for i in 1..=10u64 {
        let (index, t) = cluster.raft(leader).start(i.to_le_bytes().to_vec()).expect("still leader");
        assert_eq!((index, t), (first + i, term));
    }
    wait_for("11 commands applied on 3 peers", AGREE_DEADLINE, || {
        let count = cluster.n_applied(first + 10).0;
        seen(count == 3, || format!("{count} peers applied index {}", first + 10))
    });
    let used = cluster.net.rpcs() - before;
    eprintln!("election: {election} RPCs; 10 commands: {used} RPCs");
    assert!(used <= TEN_COMMANDS_RPCS, "10 commands took {used} RPCs, limit {TEN_COMMANDS_RPCS}");

    // An idle second: heartbeats only. (A measurement over a fixed span.)
    let before = cluster.net.rpcs();
    std::thread::sleep(Duration::from_secs(1));
    let used = cluster.net.rpcs() - before;
    eprintln!("idle second: {used} RPCs");
    assert!(used <= IDLE_SECOND_RPCS, "an idle second took {used} RPCs, limit {IDLE_SECOND_RPCS}");
    assert_eq!(cluster.raft(leader).state(), (term, true), "no election while idle");
}

#[test]
fn each_entry_is_sent_to_each_peer_about_once() {
    let mut cluster = Cluster::new(3, 0);
    cluster.start_all();
    cluster.check_one_leader();
    cluster.one(b"warm up", 3);
    let before = cluster.net.bytes();
    let mut sent = 0;
    for i in 0..10u8 {
        let command: Vec<u8> = (0..5000u32).map(|k| (k as u8).wrapping_mul(31).wrapping_add(i)).collect();
        sent += command.len() as u64;
        cluster.one(&command, 3);
    }
    let used = cluster.net.bytes() - before;
    let limit = 3 * sent + 50_000;
    eprintln!("10 x 5000-byte commands: {used} bytes (limit {limit})");
    assert!(used <= limit, "10 x 5000-byte commands cost {used} bytes, limit {limit}");
}

#[test]
fn sequential_commands_commit_fast() {
    let mut cluster = Cluster::new(3, 0);
    cluster.start_all();
    let leader = cluster.check_one_leader();
    cluster.one(b"warm up", 3);
    let rounds = 200u32;
    let began = Instant::now();
    for i in 0..rounds {
        let (index, _) = cluster.raft(leader).start(i.to_le_bytes().to_vec()).expect("still leader");
        let deadline = Instant::now() + AGREE_DEADLINE;
        while (cluster.service(leader).commands.len() as u64) < index {
            assert!(Instant::now() < deadline, "command {i} (index {index}) not applied on the leader");
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let per_command = began.elapsed() / rounds;
    eprintln!("start -> applied on the leader: {per_command:?} per command");
    assert!(per_command < SPEED_PER_COMMAND, "{per_command:?} per command, limit {SPEED_PER_COMMAND:?}");
}
