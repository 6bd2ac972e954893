//! The KV service end to end, in process: three servers on Unix sockets, a
//! Clerk (or raw RPCs) against them, crashes and restarts of whole servers.
//! The graded lab 3 tests (labs/) add the proxy's faults; these check the
//! contract the reference crate must keep on its own.

mod common;

use common::{Cluster, clerk_runtime, wait_for};
use kvraft::common::{GET, GetArgs, GetReply, PUT_APPEND, PutAppendArgs, PutAppendReply, PutOrAppend};
use std::time::{Duration, Instant};

/// How long a request to a leader without a majority is watched: it must
/// not complete (the 3A OnePartition bound).
const MINORITY_WATCH: Duration = Duration::from_secs(1);
/// How long an operation may take once a majority is back.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(10);
/// 3B's `maxraftstate`, and the bound on the Raft state it implies.
const MAXRAFTSTATE: usize = 1000;
const RAFT_STATE_BOUND: usize = 8 * MAXRAFTSTATE;
/// 3A Speed: 1000 sequential Appends within a third of a heartbeat each.
const SPEED_OPS: u32 = 1000;
const SPEED_PER_OP: Duration = Duration::from_micros(33_333);

/// A value no other append makes, as the generic test writes them.
fn unique(client: usize, n: usize) -> String {
    format!("x {client} {n} y")
}

#[test]
fn clerks_see_their_writes_and_each_append_once() {
    let cluster = Cluster::new(3, None);
    clerk_runtime().block_on(async {
        let mut ck = cluster.clerk();
        // A missing key reads as "", and Append to it acts as Put.
        assert_eq!(ck.get("a").await, "");
        ck.append("a", "1").await;
        ck.append("a", "2").await;
        assert_eq!(ck.get("a").await, "12");
        ck.put("a", "3").await;
        assert_eq!(ck.get("a").await, "3");

        // Concurrent clerks, each on its own key: every append exactly once, in order.
        let clerks: Vec<_> = (0..3)
            .map(|c| {
                let mut ck = cluster.clerk();
                tokio::spawn(async move {
                    let key = format!("k{c}");
                    let mut expected = String::new();
                    for n in 0..20 {
                        let value = unique(c, n);
                        ck.append(&key, &value).await;
                        expected.push_str(&value);
                        assert_eq!(ck.get(&key).await, expected, "clerk {c} after append {n}");
                    }
                })
            })
            .collect();
        for handle in clerks {
            handle.await.expect("a clerk task panicked");
        }
    });
    // With maxraftstate off, no snapshot is ever written.
    for i in cluster.live() {
        assert_eq!(cluster.snapshot_size(i), 0, "server {i} wrote a snapshot with maxraftstate None");
    }
}

#[test]
fn a_retried_append_applies_once() {
    let cluster = Cluster::new(3, None);
    let leader = cluster.leader();
    clerk_runtime().block_on(async {
        let client = cluster.client(leader);
        let args = |seq, value: &str| PutAppendArgs {
            key: "k".into(),
            value: value.into(),
            op: PutOrAppend::Append,
            client: 42,
            seq,
        };
        // The same request twice (a clerk retrying after a lost reply): both succeed...
        for attempt in 0..2 {
            let reply: PutAppendReply = client.call(PUT_APPEND, &args(1, "a")).await.expect("a direct call");
            assert_eq!(reply, Ok(()), "attempt {attempt} of the same Append");
        }
        // ...the next request applies, and a late copy of the first still does not.
        let reply: PutAppendReply = client.call(PUT_APPEND, &args(2, "b")).await.expect("a direct call");
        assert_eq!(reply, Ok(()));
        let reply: PutAppendReply = client.call(PUT_APPEND, &args(1, "a")).await.expect("a direct call");
        assert_eq!(reply, Ok(()));
        assert_eq!(cluster.clerk().get("k").await, "ab", "each Append must take effect exactly once");
    });
}

#[test]
fn a_get_needs_a_majority() {
    let mut cluster = Cluster::new(3, None);
    let leader = cluster.leader();
    clerk_runtime().block_on(cluster.clerk().put("k", "v"));
    // Cut the leader off from both followers by crashing them: it may still
    // think it leads, but it must not answer a Get from its own state.
    for other in cluster.others(leader) {
        cluster.crash(other);
    }
    let runtime = clerk_runtime();
    runtime.block_on(async {
        let reply = tokio::time::timeout(
            MINORITY_WATCH,
            cluster.client(leader).call::<_, GetReply>(GET, &GetArgs { key: "k".into(), client: 7, seq: 1 }),
        )
        .await;
        // No answer, a lost call, or "try elsewhere" are all fine; a value is not.
        if let Ok(Ok(Ok(value))) = reply {
            panic!("server {leader}, alone, answered a Get with {value:?}: reads must go through a majority");
        }
        let mut ck = cluster.clerk_of(&[leader]);
        assert!(
            tokio::time::timeout(MINORITY_WATCH, ck.get("k")).await.is_err(),
            "a clerk reaching only server {leader}, alone, completed a Get"
        );
    });
    // With a majority back, the value is there.
    for other in cluster.others(leader) {
        cluster.start(other);
    }
    runtime.block_on(async {
        let value = tokio::time::timeout(RECOVERY_DEADLINE, cluster.clerk().get("k")).await;
        assert_eq!(value.ok().as_deref(), Some("v"), "Get after the majority came back");
    });
}

#[test]
fn snapshots_bound_the_raft_state_and_survive_restarts() {
    let mut cluster = Cluster::new(3, Some(MAXRAFTSTATE));
    let runtime = clerk_runtime();
    let check_bound = |cluster: &Cluster, when: &str| {
        for i in cluster.live() {
            let size = cluster.raft_state_size(i);
            assert!(
                size <= RAFT_STATE_BOUND,
                "server {i}'s Raft state is {size} bytes {when} (bound {RAFT_STATE_BOUND})"
            );
        }
    };
    let mut expected = String::new();
    // Many operations: the log must be trimmed as they go.
    runtime.block_on(async {
        let mut ck = cluster.clerk();
        ck.put("early", "kept").await;
        for n in 0..150 {
            let value = unique(0, n);
            ck.append("k", &value).await;
            expected.push_str(&value);
            check_bound(&cluster, &format!("after append {n}"));
        }
        assert_eq!(ck.get("k").await, expected);
    });
    for i in cluster.live() {
        assert!(cluster.snapshot_size(i) > 0, "server {i} never snapshotted");
    }

    // A follower misses many operations, then catches up (through InstallSnapshot).
    let lagging = cluster.others(cluster.leader())[0];
    cluster.crash(lagging);
    runtime.block_on(async {
        let mut ck = cluster.clerk();
        for n in 150..250 {
            let value = unique(0, n);
            ck.append("k", &value).await;
            expected.push_str(&value);
        }
    });
    let leaders_snapshot = cluster.snapshot_size(cluster.leader());
    cluster.start(lagging);
    // Its old snapshot is smaller than the leader's (the value of "k" grew):
    // it has caught up once it holds one at least as large.
    wait_for("the lagging server to install the leader's snapshot", RECOVERY_DEADLINE, || {
        let size = cluster.snapshot_size(lagging);
        if size >= leaders_snapshot { Ok(()) } else { Err(format!("{size} < {leaders_snapshot} bytes")) }
    });
    check_bound(&cluster, "after the lagging server caught up");

    // Every server restarts: the store comes back from the snapshots (the
    // Raft state is far too small to hold 250 entries).
    for i in 0..3 {
        cluster.crash(i);
    }
    for i in 0..3 {
        cluster.start(i);
    }
    runtime.block_on(async {
        let mut ck = cluster.clerk();
        assert_eq!(ck.get("early").await, "kept");
        assert_eq!(ck.get("k").await, expected, "the store after a restart of every server");
        ck.append("k", "more").await;
        expected.push_str("more");
        assert_eq!(ck.get("k").await, expected);
    });
    // The lagging server has the whole store too: alone with it and one
    // other, the service still answers.
    let other = cluster.others(lagging)[0];
    cluster.crash(other);
    runtime.block_on(async {
        let value = tokio::time::timeout(RECOVERY_DEADLINE, cluster.clerk().get("k")).await;
        assert_eq!(value.ok().as_ref(), Some(&expected));
    });
    check_bound(&cluster, "at the end");
}

#[test]
fn sequential_appends_are_fast() {
    let cluster = Cluster::new(3, None);
    cluster.leader();
    let elapsed = clerk_runtime().block_on(async {
        let mut ck = cluster.clerk();
        ck.put("k", "").await; // finds the leader
        let start = Instant::now();
        for n in 0..SPEED_OPS {
            ck.append("k", &n.to_string()).await;
        }
        start.elapsed()
    });
    let per_op = elapsed / SPEED_OPS;
    eprintln!("{SPEED_OPS} sequential appends: {elapsed:?} ({per_op:?} each)");
    assert!(per_op < SPEED_PER_OP, "{per_op:?} per append; 3A Speed allows {SPEED_PER_OP:?}");
}
