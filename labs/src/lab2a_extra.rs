//! 2A, scripted: an election story the random 6.824 tests reach only by
//! luck (found by the self-check: without it `timer-reset-any-rpc`
//! survives 2A and 2B).

use crate::catalogue::TestCase;
use harness::{Cluster, Options, TestResult, fail};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The method whose requests the story holds back and replays.
const APPEND_ENTRIES: &str = "Raft.AppendEntries";
/// The longest the tester holds the leader's heartbeats: well below any
/// election timeout.
const HOLD_LIMIT: Duration = Duration::from_millis(150);
/// How often the stale heartbeats are delivered again: more often than any
/// election timeout expires.
const REPLAY_EVERY: Duration = Duration::from_millis(30);

/// Only a current leader's AppendEntries (and a vote granted) may reset a
/// follower's election timer; a request from an older term is refused and
/// changes nothing (Figure 2; the Students' Guide's "resetting the election
/// timer"). Kills `timer-reset-any-rpc`. With five servers:
/// 1. one AppendEntries from the first leader `l1` to each follower is held
///    back in the network;
/// 2. `l1` crashes; the others elect `l2` in a later term; `l2` crashes;
/// 3. while the three left elect a leader, the tester delivers `l1`'s held,
///    now stale, AppendEntries to each of them every 30 ms. They must refuse
///    them without resetting their timers and elect a leader as usual. A
///    follower whose timer every RPC resets never times out: no leader.
pub fn stale_heartbeats(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(servers, Options::default())?;
    cluster.begin(t.title);
    let l1 = cluster.check_one_leader()?;

    // 1. Hold one heartbeat to each follower.
    let followers = cluster.others(l1);
    for &j in &followers {
        cluster.hold_requests(l1, j, APPEND_ENTRIES, true);
    }
    let t0 = Instant::now();
    let mut pending = followers.clone();
    while !pending.is_empty() && t0.elapsed() < HOLD_LIMIT {
        pending.retain(|&j| {
            let held = cluster.held_count(l1, j, APPEND_ENTRIES) > 0;
            if held {
                cluster.hold_requests(l1, j, APPEND_ENTRIES, false);
            }
            !held
        });
        sleep(Duration::from_millis(1));
    }
    for &j in &pending {
        cluster.hold_requests(l1, j, APPEND_ENTRIES, false);
    }
    if pending.len() == followers.len() {
        fail!("node {l1}, the leader, sent no AppendEntries to any follower within {HOLD_LIMIT:?}");
    }

    // 2. A second leader, in a later term, and its crash.
    cluster.crash(l1);
    let l2 = cluster.check_one_leader()?;
    cluster.crash(l2);

    // 3. The three left elect a leader despite the stale heartbeats.
    let stop = AtomicBool::new(false);
    let elected = std::thread::scope(|scope| {
        let replayer = scope.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                for &j in &followers {
                    if j != l2 {
                        cluster.replay_held(l1, j, APPEND_ENTRIES);
                    }
                }
                sleep(REPLAY_EVERY);
            }
        });
        let elected = cluster.check_one_leader();
        stop.store(true, Ordering::SeqCst);
        let _ = replayer.join();
        elected
    });
    match elected {
        Ok(l3) if l3 != l1 && l3 != l2 => {}
        Ok(l3) => fail!("node {l3} was crashed, yet the tester found it leading"),
        Err(e) => {
            return Err(e.with_context(&format!(
                "  (no leader among the three servers left while the first leader's stale AppendEntries, of an older term, reached them every {REPLAY_EVERY:?}: a refused request must not reset the election timer)"
            )));
        }
    }
    cluster.end()
}
