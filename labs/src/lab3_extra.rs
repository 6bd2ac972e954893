//! 3B, scripted: a duplicate-detection story that the random 6.824 tests
//! reach only by luck, written as a fixed sequence of one-way faults and a
//! restart (found by the self-check: without it the mutant
//! `kv-snapshot-no-dedup` survives some runs of the 3B tests).

use crate::catalogue::TestCase;
use harness::kv::OP_LIMIT;
use harness::{KvCluster, TestResult, fail};
use std::thread::sleep;
use std::time::Duration;

/// Rounds of the story; each takes about two seconds.
const ROUNDS: usize = 3;
/// Raft state size at which servers snapshot.
const MAX_RAFT_STATE: usize = 1000;
/// Time for the first clerk's request to reach the leader's log before the
/// second clerk's requests go in after it.
const REACH_LOG: Duration = Duration::from_millis(300);
/// Puts by the second clerk after the append: each log entry is over 70
/// bytes, so 30 of them take every server's snapshot well past the append.
const PUTS_AFTER: usize = 30;

/// A retried request that a snapshot already covers is not applied again,
/// even after every server restarts from its snapshot: the table of each
/// clerk's last request must travel in the snapshot. Each round, with three
/// servers snapshotting at 1000 bytes of Raft state:
/// 1. clerk `ck1`'s answers are dropped, and it appends to "k": the append
///    is applied, but `ck1` never hears so and keeps retrying;
/// 2. clerk `ck2` puts 30 other keys, which take every server's snapshot
///    past the append;
/// 3. `ck1`'s calls are blocked, every server crashes and restarts from its
///    snapshot, and `ck1` is let through again;
/// 4. `ck1`'s retry must find its append done: "k" holds each round's
///    append once. A server whose snapshot lacks the table applies it again.
pub fn snapshot_retry(t: &TestCase) -> TestResult {
    let kv = KvCluster::new(3, false, Some(MAX_RAFT_STATE))?;
    let ck1 = kv.make_client(&kv.all())?;
    let ck2 = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    kv.put(ck2, "k", "")?;
    let mut expected = String::new();
    for round in 1..=ROUNDS {
        // 1. The append is applied; `ck1` hears nothing and retries.
        kv.drop_client_replies(ck1, true);
        let value = format!("[{round}]");
        let append = kv.start_op(ck1, lincheck::KvOp::Append, "k", &value);
        expected.push_str(&value);
        sleep(REACH_LOG);

        // 2. Later requests take the snapshots past it.
        for i in 0..PUTS_AFTER {
            kv.put(ck2, &format!("r{round}-{i}"), &"x".repeat(50))?;
        }

        // 3. Every server restarts from its snapshot, out of `ck1`'s reach.
        kv.block_client_calls(ck1, true);
        for i in kv.all() {
            kv.shutdown_server(i);
        }
        for i in kv.all() {
            kv.start_server(i)?;
        }
        kv.connect_all();
        kv.drop_client_replies(ck1, false);
        kv.block_client_calls(ck1, false);

        // 4. The retry completes without applying the append again.
        if append.wait(OP_LIMIT)?.is_none() {
            fail!("clerk 0's Append({value:?}) did not complete within {OP_LIMIT:?} after the restart");
        }
        kv.check(ck2, "k", &expected)?;
    }
    kv.end()
}
