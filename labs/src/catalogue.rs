//! The table of graded tests: one row per test, read by the test runner and
//! (as JSON, `labs --catalogue`) by the grader. Nothing about a test is
//! parsed out of its function's name.

use harness::TestResult;
use protocol::{CatalogueRow, Points};

/// One graded test.
#[derive(Clone, Copy)]
pub struct TestCase {
    /// The name filters match ("InitialElection2A"): 6.824's, with the group suffix.
    pub id: &'static str,
    /// The group ("2A").
    pub group: &'static str,
    /// What the test prints at its start ("Test (2A): initial election").
    pub title: &'static str,
    /// Default points in the grader's rubric.
    pub points: Points,
    /// Seconds after which a run is stopped and failed.
    pub timeout_secs: u64,
    /// The test body.
    pub run: fn(&TestCase) -> TestResult,
}

impl TestCase {
    /// The test's row of `labs --catalogue`, as the grader reads it.
    pub fn row(&self) -> CatalogueRow {
        CatalogueRow {
            id: self.id.into(),
            group: self.group.into(),
            title: self.title.into(),
            points: self.points,
            timeout_secs: self.timeout_secs,
        }
    }
}

/// Seconds any test may run before the runner stops it (6.824 fails a test
/// over 120 s in `end()`; this is the hard stop for a test that hangs).
pub const HARD_TIMEOUT_SECS: u64 = 150;

macro_rules! case {
    ($id:literal, $group:literal, $title:literal, $points:expr, $run:expr) => {
        TestCase {
            id: $id,
            group: $group,
            title: $title,
            points: $points as Points,
            timeout_secs: HARD_TIMEOUT_SECS,
            run: $run,
        }
    };
}

/// Every graded test, in the order they run.
pub fn all() -> Vec<TestCase> {
    use crate::lab2a as a;
    use crate::lab2a_extra as ax;
    use crate::lab2b as b;
    use crate::lab2b_commit as bm;
    use crate::lab2b_cost as bc;
    use crate::lab2b_extra as bx;
    use crate::lab2c as c;
    use crate::lab2c_extra as cx;
    use crate::lab2d as d;
    use crate::lab2d_extra as dx;
    use crate::lab3 as kv;
    use crate::lab3_extra as kvx;
    vec![
        case!("InitialElection2A", "2A", "Test (2A): initial election", 5, a::initial_election),
        case!("ReElection2A", "2A", "Test (2A): election after network failure", 5, a::re_election),
        case!("ManyElections2A", "2A", "Test (2A): multiple elections", 5, a::many_elections),
        case!(
            "StaleHeartbeats2A",
            "2A",
            "Test (2A): stale AppendEntries do not hold off an election",
            5,
            ax::stale_heartbeats
        ),
        case!(
            "StaleCandidate2A",
            "2A",
            "Test (2A): a refused RequestVote does not reset the election timer",
            5,
            ax::stale_candidate
        ),
        case!(
            "StaleVote2A",
            "2A",
            "Test (2A): a vote granted for an earlier election does not count",
            5,
            ax::stale_vote
        ),
        case!(
            "StaleTally2A",
            "2A",
            "Test (2A): a candidate counts only the votes of its current election",
            5,
            ax::stale_tally
        ),
        case!(
            "StepDown2A",
            "2A",
            "Test (2A): a leader steps down when an answer carries a newer term",
            5,
            ax::step_down
        ),
        case!("BasicAgree2B", "2B", "Test (2B): basic agreement", 5, b::basic_agree),
        case!("RPCBytes2B", "2B", "Test (2B): RPC byte count", 5, bc::rpc_bytes),
        case!(
            "FollowerFailure2B",
            "2B",
            "Test (2B): test progressive failure of followers",
            5,
            b::follower_failure
        ),
        case!("LeaderFailure2B", "2B", "Test (2B): test failure of leaders", 5, b::leader_failure),
        case!("FailAgree2B", "2B", "Test (2B): agreement after follower reconnects", 5, b::fail_agree),
        case!(
            "FailNoAgree2B",
            "2B",
            "Test (2B): no agreement if too many followers disconnect",
            5,
            b::fail_no_agree
        ),
        case!("ConcurrentStarts2B", "2B", "Test (2B): concurrent Start()s", 5, b::concurrent_starts),
        case!("Rejoin2B", "2B", "Test (2B): rejoin of partitioned leader", 5, b::rejoin),
        case!(
            "Backup2B",
            "2B",
            "Test (2B): leader backs up quickly over incorrect follower logs",
            5,
            b::backup
        ),
        case!("Count2B", "2B", "Test (2B): RPC counts aren't too high", 5, bc::count),
        case!(
            "FastBackup2B",
            "2B",
            "Test (2B): leader repairs a long conflict in few AppendEntries",
            5,
            bx::fast_backup
        ),
        case!(
            "StaleAppend2B",
            "2B",
            "Test (2B): a stale AppendEntries does not cut a follower's log",
            5,
            bx::stale_append
        ),
        case!(
            "StaleSuffix2B",
            "2B",
            "Test (2B): a rejoining follower commits none of its stale entries",
            5,
            bm::stale_suffix
        ),
        case!(
            "LateAck2B",
            "2B",
            "Test (2B): a late answer counts only for the entries it acknowledges",
            5,
            bm::late_ack
        ),
        case!(
            "PausedLeader2B",
            "2B",
            "Test (2B): a paused leader resumes and must step down",
            5,
            bx::paused_leader
        ),
        case!(
            "StaleChurn2B",
            "2B",
            "Test (2B): agreement while servers are cut off and requests arrive again late",
            5,
            |t| c::churn(t, c::Churn { rounds: 12, crash: false, stale: true, ..c::Churn::DEFAULT })
        ),
        case!("Persist12C", "2C", "Test (2C): basic persistence", 5, c::persist1),
        case!("Persist22C", "2C", "Test (2C): more persistence", 5, c::persist2),
        case!(
            "Persist32C",
            "2C",
            "Test (2C): partitioned leader and one follower crash, leader restarts",
            5,
            c::persist3
        ),
        case!("PersistTerm2C", "2C", "Test (2C): a restarted peer keeps its term", 5, cx::persist_term),
        case!("PersistVote2C", "2C", "Test (2C): a restarted peer votes once per term", 5, cx::persist_vote),
        case!(
            "PersistBeforeReply2C",
            "2C",
            "Test (2C): a follower persists before it acknowledges",
            5,
            cx::persist_before_reply
        ),
        case!(
            "CrashMidSave2C",
            "2C",
            "Test (2C): a committed entry survives a crash inside a peer's save",
            5,
            cx::crash_mid_save
        ),
        case!("Figure8Scripted2C", "2C", "Test (2C): Figure 8, scripted", 5, cx::figure8_scripted),
        case!(
            "StaleReply2C",
            "2C",
            "Test (2C): an answer to an earlier term's AppendEntries does not count",
            5,
            cx::stale_reply
        ),
        case!("Figure82C", "2C", "Test (2C): Figure 8", 5, c::figure8),
        case!("UnreliableAgree2C", "2C", "Test (2C): unreliable agreement", 5, c::unreliable_agree),
        case!("Figure8Unreliable2C", "2C", "Test (2C): Figure 8 (unreliable)", 5, c::figure8_unreliable),
        case!("ReliableChurn2C", "2C", "Test (2C): churn", 5, c::reliable_churn),
        case!("UnreliableChurn2C", "2C", "Test (2C): unreliable churn", 5, c::unreliable_churn),
        case!("StaleChurn2C", "2C", "Test (2C): unreliable churn, requests arriving again late", 5, |t| {
            c::churn(t, c::Churn { rounds: 12, unreliable: true, stale: true, ..c::Churn::DEFAULT })
        }),
        case!("SnapshotBasic2D", "2D", "Test (2D): snapshots basic", 5, d::basic),
        case!("SnapshotInstall2D", "2D", "Test (2D): install snapshots (disconnect)", 5, d::install),
        case!(
            "SnapshotInstallUnreliable2D",
            "2D",
            "Test (2D): install snapshots (disconnect+unreliable)",
            5,
            d::install_unreliable
        ),
        case!("SnapshotInstallCrash2D", "2D", "Test (2D): install snapshots (crash)", 5, d::install_crash),
        case!(
            "SnapshotInstallUnCrash2D",
            "2D",
            "Test (2D): install snapshots (unreliable+crash)",
            5,
            d::install_uncrash
        ),
        case!(
            "SnapshotKeepsSuffix2D",
            "2D",
            "Test (2D): a follower keeps its log after an older snapshot",
            5,
            dx::keeps_suffix
        ),
        case!("SnapshotAllCrash2D", "2D", "Test (2D): crash and restart all servers", 5, d::all_crash),
        case!("SnapshotInit2D", "2D", "Test (2D): snapshot initialization after crash", 5, d::init),
        case!(
            "OldSnapshot2D",
            "2D",
            "Test (2D): a follower ignores an InstallSnapshot older than its commit index",
            5,
            dx::old_snapshot
        ),
        case!(
            "SnapshotTerm2D",
            "2D",
            "Test (2D): a snapshot keeps the term of its last entry, not the current term",
            5,
            dx::boundary_term
        ),
        case!(
            "SnapshotBehindCommit2D",
            "2D",
            "Test (2D): a follower ignores an InstallSnapshot between its own snapshot and its commit index",
            5,
            dx::behind_commit
        ),
        case!(
            "SnapshotAppendInto2D",
            "2D",
            "Test (2D): a late AppendEntries that starts inside the follower's snapshot",
            5,
            dx::append_into_snapshot
        ),
        case!(
            "SnapshotStale2D",
            "2D",
            "Test (2D): install snapshots (disconnect), requests arriving again late",
            5,
            |t| d::snapshot_common(
                t,
                d::Faults { disconnect: true, stale: true, rounds: 10, ..d::Faults::NONE }
            )
        ),
        case!("Basic3A", "3A", "Test: one client (3A)", 5, |t| { kv::generic(t, kv::Generic::DEFAULT) }),
        case!("Speed3A", "3A", "Test: ops complete fast enough (3A)", 5, |t| kv::speed(t, None)),
        case!("Concurrent3A", "3A", "Test: many clients (3A)", 5, |t| {
            kv::generic(t, kv::Generic { clients: 5, ..kv::Generic::DEFAULT })
        }),
        case!("Unreliable3A", "3A", "Test: unreliable net, many clients (3A)", 5, |t| {
            kv::generic(t, kv::Generic { clients: 5, unreliable: true, ..kv::Generic::DEFAULT })
        }),
        case!(
            "UnreliableOneKey3A",
            "3A",
            "Test: concurrent append to same key, unreliable (3A)",
            5,
            kv::unreliable_one_key
        ),
        case!("OnePartition3A", "3A", "Test: progress in majority (3A)", 5, kv::one_partition),
        case!("ManyPartitionsOneClient3A", "3A", "Test: partitions, one client (3A)", 5, |t| {
            kv::generic(t, kv::Generic { partitions: true, ..kv::Generic::DEFAULT })
        }),
        case!("ManyPartitionsManyClients3A", "3A", "Test: partitions, many clients (3A)", 5, |t| {
            kv::generic(t, kv::Generic { clients: 5, partitions: true, ..kv::Generic::DEFAULT })
        }),
        case!("PersistOneClient3A", "3A", "Test: restarts, one client (3A)", 5, |t| {
            kv::generic(t, kv::Generic { crash: true, ..kv::Generic::DEFAULT })
        }),
        case!("PersistConcurrent3A", "3A", "Test: restarts, many clients (3A)", 5, |t| {
            kv::generic(t, kv::Generic { clients: 5, crash: true, ..kv::Generic::DEFAULT })
        }),
        case!(
            "PersistConcurrentUnreliable3A",
            "3A",
            "Test: unreliable net, restarts, many clients (3A)",
            5,
            |t| {
                kv::generic(
                    t,
                    kv::Generic { clients: 5, unreliable: true, crash: true, ..kv::Generic::DEFAULT },
                )
            }
        ),
        case!("PersistPartition3A", "3A", "Test: restarts, partitions, many clients (3A)", 5, |t| {
            kv::generic(t, kv::Generic { clients: 5, crash: true, partitions: true, ..kv::Generic::DEFAULT })
        }),
        case!(
            "PersistPartitionUnreliable3A",
            "3A",
            "Test: unreliable net, restarts, partitions, many clients (3A)",
            5,
            |t| {
                kv::generic(
                    t,
                    kv::Generic {
                        clients: 5,
                        unreliable: true,
                        crash: true,
                        partitions: true,
                        ..kv::Generic::DEFAULT
                    },
                )
            }
        ),
        case!(
            "PersistPartitionUnreliableLinearizable3A",
            "3A",
            "Test: unreliable net, restarts, partitions, random keys, many clients (3A)",
            5,
            |t| {
                kv::generic(
                    t,
                    kv::Generic {
                        clients: 15,
                        servers: 7,
                        unreliable: true,
                        crash: true,
                        partitions: true,
                        random_keys: true,
                        ..kv::Generic::DEFAULT
                    },
                )
            }
        ),
        case!(
            "PausedLeader3A",
            "3A",
            "Test: a paused leader does not answer reads from stale state (3A)",
            5,
            kvx::paused_leader
        ),
        case!(
            "AbandonedRequest3A",
            "3A",
            "Test: a handler gives up when its entry cannot commit (3A)",
            5,
            kvx::abandoned_request
        ),
        case!(
            "OverwrittenRequest3A",
            "3A",
            "Test: a request whose entry was replaced does not succeed (3A)",
            5,
            kvx::overwritten_request
        ),
        case!(
            "CrashMidSave3A",
            "3A",
            "Test: a completed request survives a crash inside a server's save (3A)",
            5,
            kvx::crash_mid_save
        ),
        case!(
            "StalePartitionUnreliable3A",
            "3A",
            "Test: unreliable net, partitions, requests arriving again late, many clients (3A)",
            5,
            |t| {
                kv::generic(
                    t,
                    kv::Generic {
                        clients: 5,
                        unreliable: true,
                        partitions: true,
                        stale: true,
                        ..kv::Generic::DEFAULT
                    },
                )
            }
        ),
        case!("SnapshotRPC3B", "3B", "Test: InstallSnapshot RPC (3B)", 5, kv::snapshot_rpc),
        case!("SnapshotSize3B", "3B", "Test: snapshot size is reasonable (3B)", 5, kv::snapshot_size),
        case!("Speed3B", "3B", "Test: ops complete fast enough (3B)", 5, |t| kv::speed(t, Some(1000))),
        case!("SnapshotRecover3B", "3B", "Test: restarts, snapshots, one client (3B)", 5, |t| {
            kv::generic(t, kv::Generic { crash: true, maxraftstate: Some(1000), ..kv::Generic::DEFAULT })
        }),
        case!("SnapshotRecoverManyClients3B", "3B", "Test: restarts, snapshots, many clients (3B)", 5, |t| {
            kv::generic(
                t,
                kv::Generic { clients: 20, crash: true, maxraftstate: Some(1000), ..kv::Generic::DEFAULT },
            )
        }),
        case!(
            "SnapshotRetry3B",
            "3B",
            "Test: a retry after a restart from snapshots applies once (3B)",
            5,
            kvx::snapshot_retry
        ),
        case!("SnapshotUnreliable3B", "3B", "Test: unreliable net, snapshots, many clients (3B)", 5, |t| {
            kv::generic(
                t,
                kv::Generic {
                    clients: 5,
                    unreliable: true,
                    maxraftstate: Some(1000),
                    ..kv::Generic::DEFAULT
                },
            )
        }),
        case!(
            "SnapshotUnreliableRecover3B",
            "3B",
            "Test: unreliable net, restarts, snapshots, many clients (3B)",
            5,
            |t| {
                kv::generic(
                    t,
                    kv::Generic {
                        clients: 5,
                        unreliable: true,
                        crash: true,
                        maxraftstate: Some(1000),
                        ..kv::Generic::DEFAULT
                    },
                )
            }
        ),
        case!(
            "SnapshotUnreliableRecoverConcurrentPartition3B",
            "3B",
            "Test: unreliable net, restarts, partitions, snapshots, many clients (3B)",
            5,
            |t| {
                kv::generic(
                    t,
                    kv::Generic {
                        clients: 5,
                        unreliable: true,
                        crash: true,
                        partitions: true,
                        maxraftstate: Some(1000),
                        ..kv::Generic::DEFAULT
                    },
                )
            }
        ),
        case!(
            "SnapshotUnreliableRecoverConcurrentPartitionLinearizable3B",
            "3B",
            "Test: unreliable net, restarts, partitions, snapshots, random keys, many clients (3B)",
            5,
            |t| {
                kv::generic(
                    t,
                    kv::Generic {
                        clients: 15,
                        servers: 7,
                        unreliable: true,
                        crash: true,
                        partitions: true,
                        maxraftstate: Some(1000),
                        random_keys: true,
                        stale: false,
                    },
                )
            }
        ),
        case!(
            "SnapshotStaleRecoverPartition3B",
            "3B",
            "Test: unreliable net, restarts, partitions, snapshots, requests arriving again late (3B)",
            5,
            |t| {
                kv::generic(
                    t,
                    kv::Generic {
                        clients: 5,
                        unreliable: true,
                        crash: true,
                        partitions: true,
                        maxraftstate: Some(1000),
                        stale: true,
                        ..kv::Generic::DEFAULT
                    },
                )
            }
        ),
    ]
}
