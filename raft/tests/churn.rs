//! Crashes and restarts on an unreliable network (as 2C's UnreliableChurn
//! and 2D's SnapshotInstallUnCrash): peers keep agreeing, and a healed
//! cluster makes progress.

mod common;

use common::{AGREE_DEADLINE, Cluster, seen, wait_for};
use rand::Rng;
use std::collections::BTreeMap;
use std::time::Duration;

/// Peers in the cluster.
const PEERS: usize = 5;
/// Crash/restart rounds.
const ROUNDS: usize = 30;
/// Commands proposed to each live peer per round.
const PER_ROUND: usize = 3;
/// Pause between rounds (ms).
const PAUSE_MS: std::ops::Range<u64> = 100..700;
/// Chance that a round crashes a peer, and that it restarts a dead one.
const CRASH: f64 = 0.3;
const RESTART: f64 = 0.5;

/// Records each live peer's (term, is_leader) and fails if two peers ever
/// lead the same term.
fn check_leaders(cluster: &Cluster, leaders: &mut BTreeMap<u64, usize>) {
    for i in cluster.live() {
        let (term, is_leader) = cluster.raft(i).state();
        if is_leader {
            let first = *leaders.entry(term).or_insert(i);
            assert_eq!(first, i, "peers {first} and {i} both lead term {term}");
        }
    }
}

#[test]
fn unreliable_churn_with_crashes_keeps_agreement() {
    let mut cluster = Cluster::new(PEERS, 10);
    cluster.start_all();
    cluster.net.set_unreliable(true);
    let mut rng = rand::rng();
    let mut leaders = BTreeMap::new();
    let mut proposed = 0u64;
    for _round in 0..ROUNDS {
        // Propose on every live peer; only a leader accepts.
        for i in cluster.live() {
            for _ in 0..PER_ROUND {
                proposed += 1;
                let _ = cluster.raft(i).start(format!("c{proposed}").into_bytes());
            }
        }
        check_leaders(&cluster, &mut leaders);
        std::thread::sleep(Duration::from_millis(rng.random_range(PAUSE_MS)));
        // n_applied asserts that no two live peers disagree at an index.
        cluster.n_applied(1);
        // Crash someone now and then, often the leader; keep a majority most
        // of the time.
        let live = cluster.live();
        let leader = live.iter().copied().find(|&i| cluster.raft(i).state().1);
        if rng.random_bool(CRASH) {
            let victim = match leader {
                Some(leader) if rng.random_bool(0.5) => leader,
                _ => live[rng.random_range(0..live.len())],
            };
            cluster.crash(victim);
        }
        let dead: Vec<usize> = (0..PEERS).filter(|i| !cluster.live().contains(i)).collect();
        if cluster.live().len() < 3 || (!dead.is_empty() && rng.random_bool(RESTART)) {
            cluster.start(dead[rng.random_range(0..dead.len())]);
        }
    }
    // Heal: everyone up, the network reliable again.
    for i in 0..PEERS {
        if !cluster.live().contains(&i) {
            cluster.start(i);
        }
    }
    cluster.net.set_unreliable(false);
    let last = cluster.one(b"final", PEERS);
    eprintln!("{proposed} proposals, {} terms with a leader, final index {last}", leaders.len());
    wait_for("every peer applies through the final command", AGREE_DEADLINE, || {
        let count = cluster.n_applied(last).0;
        seen(count == PEERS, || format!("{count} peers applied index {last}"))
    });
    for index in 1..=last {
        assert_eq!(cluster.n_applied(index).0, PEERS, "index {index}");
    }
    check_leaders(&cluster, &mut leaders);
}

/// Figure 8 (unreliable) in short: replies arrive late and out of order,
/// leaders keep crashing; committed entries must never change, and once
/// everyone is back a command still commits on the bad network.
#[test]
fn figure8_unreliable_with_long_reordering() {
    let mut cluster = Cluster::new(PEERS, 0);
    cluster.start_all();
    cluster.net.set_unreliable(true);
    cluster.net.set_long_reordering(true);
    let mut rng = rand::rng();
    let mut leaders = BTreeMap::new();
    for round in 0..250u32 {
        for i in cluster.live() {
            let _ = cluster.raft(i).start(format!("f{round}-{i}").into_bytes());
        }
        check_leaders(&cluster, &mut leaders);
        let pause = if rng.random_bool(0.1) { rng.random_range(0..500) } else { rng.random_range(0..13) };
        std::thread::sleep(Duration::from_millis(pause));
        cluster.n_applied(1);
        if let Some(leader) = cluster.live().into_iter().find(|&i| cluster.raft(i).state().1)
            && rng.random_bool(0.5)
        {
            cluster.crash(leader);
        }
        let dead: Vec<usize> = (0..PEERS).filter(|i| !cluster.live().contains(i)).collect();
        if cluster.live().len() < 3 {
            cluster.start(dead[rng.random_range(0..dead.len())]);
        }
    }
    for i in 0..PEERS {
        if !cluster.live().contains(&i) {
            cluster.start(i);
        }
    }
    let last = cluster.one(b"final", PEERS);
    eprintln!("{} terms with a leader, final index {last}", leaders.len());
    for index in 1..=last {
        cluster.n_applied(index);
    }
}
