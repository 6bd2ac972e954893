//! Cluster stories: election, agreement, snapshots, restarts.

mod common;

use common::{AGREE_DEADLINE, Cluster, seen, wait_for};
use labrpc::{Client, Persister};
use raft::Raft;
use std::sync::Arc;
use tokio::sync::mpsc;

fn cmd(i: u64) -> Vec<u8> {
    format!("cmd-{i}").into_bytes()
}

#[test]
fn elects_one_leader_and_applies_commands_in_order_everywhere() {
    let mut cluster = Cluster::new(3, 0);
    cluster.start_all();
    let leader = cluster.check_one_leader();
    for i in 1..=10 {
        // Each command gets the next index and reaches all three peers.
        assert_eq!(cluster.one(&cmd(i), 3), i);
    }
    // Concurrent proposals to the leader all commit, in the order proposed.
    let indexes: Vec<u64> =
        (11..=20).map(|i| cluster.raft(leader).start(cmd(i)).expect("still leader").0).collect();
    assert_eq!(indexes, (11..=20).collect::<Vec<_>>());
    wait_for("20 entries applied everywhere", AGREE_DEADLINE, || {
        let count = cluster.n_applied(20).0;
        seen(count == 3, || format!("{count} peers applied index 20"))
    });
    for i in 0..3 {
        assert_eq!(cluster.service(i).commands, (1..=20).map(cmd).collect::<Vec<_>>(), "peer {i}");
    }
    // A follower cannot start commands.
    let follower = (0..3).find(|&i| i != leader).unwrap();
    assert!(cluster.raft(follower).start(cmd(99)).is_err());
}

#[test]
fn a_lagging_peer_catches_up_through_install_snapshot() {
    let mut cluster = Cluster::new(3, 10);
    // Peer 2 is down while the others commit past two snapshots.
    cluster.start(0);
    cluster.start(1);
    cluster.check_one_leader();
    for i in 1..=25 {
        assert_eq!(cluster.one(&cmd(i), 2), i);
    }
    wait_for("both live peers snapshot at 20", AGREE_DEADLINE, || {
        let lens = [0, 1].map(|i| cluster.service(i).commands.len());
        seen(lens.iter().all(|&len| len >= 20), || format!("applied lengths {lens:?}"))
    });
    for i in [0, 1] {
        let size = cluster.raft_state_size(i);
        assert!(size < 200, "peer {i}: the log was not trimmed: {size} bytes of Raft state");
    }
    // Peer 2 comes up with an empty log: the leader no longer holds its
    // next entries, so it must install the snapshot, then the rest.
    cluster.start(2);
    wait_for("peer 2 catches up", AGREE_DEADLINE, || {
        let len = cluster.service(2).commands.len();
        seen(len >= 25, || format!("peer 2 applied {len}"))
    });
    assert_eq!(cluster.n_applied(25).0, 3);
    let service = cluster.service(2);
    assert_eq!(service.first_was_snapshot, Some(true), "the lagging peer got a snapshot first");
    assert_eq!(service.commands, (1..=25).map(cmd).collect::<Vec<_>>());
    drop(service);
    assert_eq!(cluster.one(&cmd(26), 3), 26);
}

#[test]
fn restarted_peers_recover_from_their_persisters() {
    let mut cluster = Cluster::new(3, 10);
    cluster.start_all();
    let leader = cluster.check_one_leader();
    for i in 1..=15 {
        assert_eq!(cluster.one(&cmd(i), 3), i);
    }
    let (term_before, _) = cluster.raft(leader).state();
    // Restart a follower: it delivers its snapshot (at 10) first, then the
    // entries after it, never re-applying the ones the snapshot covers.
    let follower = (0..3).find(|&i| i != leader).unwrap();
    cluster.crash(follower);
    cluster.start(follower);
    wait_for("the follower re-applies through 15", AGREE_DEADLINE, || {
        let len = cluster.service(follower).commands.len();
        seen(len >= 15, || format!("the follower applied {len}"))
    });
    let service = cluster.service(follower);
    assert_eq!((service.first_was_snapshot, service.snapshots), (Some(true), 1));
    drop(service);
    assert_eq!(cluster.one(&cmd(16), 3), 16);
    // Crash everyone: nothing committed is lost, terms never go back.
    for i in 0..3 {
        cluster.crash(i);
    }
    cluster.start_all();
    let leader = cluster.check_one_leader();
    assert!(cluster.raft(leader).state().0 > term_before);
    assert_eq!(cluster.one(&cmd(17), 3), 17);
    for i in 0..3 {
        assert_eq!(cluster.service(i).commands, (1..=17).map(cmd).collect::<Vec<_>>(), "peer {i}");
    }
}

#[tokio::test]
#[should_panic(expected = "cannot restore the persisted Raft state")]
async fn a_corrupt_state_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let persister = Arc::new(Persister::open(dir.path()).unwrap());
    persister.save(b"RAFT\x01\x05", None); // a body cut short
    let clients = vec![Client::new(dir.path().join("a")), Client::new(dir.path().join("b"))];
    let (tx, _rx) = mpsc::unbounded_channel();
    let _ = Raft::new(clients, 0, persister, tx);
}
