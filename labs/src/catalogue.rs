//! The table of graded tests: one row per test, read by the test runner and
//! (as JSON, `labs --catalogue`) by the grader. Nothing about a test is
//! parsed out of its function's name.

use crate::case::{HARD_TIMEOUT_SECS, TestCase};
use protocol::Points;

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

/// Rows of [`TestCase`] for one group `g`: `Id: points, "title", body;`,
/// one per line (a macro with braces, which rustfmt leaves as written).
macro_rules! cases {
    ($g:ident; $($id:ident: $points:literal, $title:literal, $run:expr;)*) => {
        vec![$(TestCase {
            id: stringify!($id),
            group: $g,
            title: $title,
            points: $points as Points,
            timeout_secs: HARD_TIMEOUT_SECS,
            run: $run,
        }),*]
    };
}

/// Group 2A's tests, in the order they run (each named by its group `g`).
pub fn group_2a(g: &'static str) -> Vec<TestCase> {
    cases! { g;
        InitialElection2A: 5, "Test (2A): initial election", a::initial_election;
        ReElection2A: 5, "Test (2A): election after network failure", a::re_election;
        ManyElections2A: 5, "Test (2A): multiple elections", a::many_elections;
        StaleHeartbeats2A: 5, "Test (2A): stale AppendEntries do not hold off an election",
            ax::stale_heartbeats;
        StaleCandidate2A: 5, "Test (2A): a refused RequestVote does not reset the election timer",
            ax::stale_candidate;
        StaleVote2A: 5, "Test (2A): a vote granted for an earlier election does not count", ax::stale_vote;
        StaleTally2A: 5, "Test (2A): a candidate counts only the votes of its current election",
            ax::stale_tally;
        StepDown2A: 5, "Test (2A): a leader steps down when an answer carries a newer term", ax::step_down;
    }
}

/// Group 2B's tests, in the order they run (each named by its group `g`).
pub fn group_2b(g: &'static str) -> Vec<TestCase> {
    cases! { g;
        BasicAgree2B: 5, "Test (2B): basic agreement", b::basic_agree;
        RPCBytes2B: 5, "Test (2B): RPC byte count", bc::rpc_bytes;
        FollowerFailure2B: 5, "Test (2B): test progressive failure of followers", b::follower_failure;
        LeaderFailure2B: 5, "Test (2B): test failure of leaders", b::leader_failure;
        FailAgree2B: 5, "Test (2B): agreement after follower reconnects", b::fail_agree;
        FailNoAgree2B: 5, "Test (2B): no agreement if too many followers disconnect", b::fail_no_agree;
        ConcurrentStarts2B: 5, "Test (2B): concurrent Start()s", b::concurrent_starts;
        Rejoin2B: 5, "Test (2B): rejoin of partitioned leader", b::rejoin;
        Backup2B: 5, "Test (2B): leader backs up quickly over incorrect follower logs", b::backup;
        Count2B: 5, "Test (2B): RPC counts aren't too high", bc::count;
        FastBackup2B: 5, "Test (2B): leader repairs a long conflict in few AppendEntries", bx::fast_backup;
        StaleAppend2B: 5, "Test (2B): a stale AppendEntries does not cut a follower's log", bx::stale_append;
        StaleSuffix2B: 5, "Test (2B): a rejoining follower commits none of its stale entries",
            bm::stale_suffix;
        LateAck2B: 5, "Test (2B): a late answer counts only for the entries it acknowledges", bm::late_ack;
        PausedLeader2B: 5, "Test (2B): a paused leader resumes and must step down", bx::paused_leader;
        StaleChurn2B: 5, "Test (2B): agreement while servers are cut off and requests arrive again late",
            |t| c::churn(t, c::Churn { rounds: 12, crash: false, stale: true, ..c::Churn::DEFAULT });
    }
}

/// Group 2C's tests, in the order they run (each named by its group `g`).
pub fn group_2c(g: &'static str) -> Vec<TestCase> {
    cases! { g;
        Persist12C: 5, "Test (2C): basic persistence", c::persist1;
        Persist22C: 5, "Test (2C): more persistence", c::persist2;
        Persist32C: 5, "Test (2C): partitioned leader and one follower crash, leader restarts", c::persist3;
        PersistTerm2C: 5, "Test (2C): a restarted peer keeps its term", cx::persist_term;
        PersistVote2C: 5, "Test (2C): a restarted peer votes once per term", cx::persist_vote;
        PersistBeforeReply2C: 5, "Test (2C): a follower persists before it acknowledges",
            cx::persist_before_reply;
        CrashMidSave2C: 5, "Test (2C): a committed entry survives a crash inside a peer's save",
            cx::crash_mid_save;
        Figure8Scripted2C: 5, "Test (2C): Figure 8, scripted", cx::figure8_scripted;
        StaleReply2C: 5, "Test (2C): an answer to an earlier term's AppendEntries does not count",
            cx::stale_reply;
        Figure82C: 5, "Test (2C): Figure 8", c::figure8;
        UnreliableAgree2C: 5, "Test (2C): unreliable agreement", c::unreliable_agree;
        Figure8Unreliable2C: 5, "Test (2C): Figure 8 (unreliable)", c::figure8_unreliable;
        ReliableChurn2C: 5, "Test (2C): churn", c::reliable_churn;
        UnreliableChurn2C: 5, "Test (2C): unreliable churn", c::unreliable_churn;
        StaleChurn2C: 5, "Test (2C): unreliable churn, requests arriving again late",
            |t| c::churn(t, c::Churn { rounds: 12, unreliable: true, stale: true, ..c::Churn::DEFAULT });
    }
}

/// Group 2D's tests, in the order they run (each named by its group `g`).
pub fn group_2d(g: &'static str) -> Vec<TestCase> {
    cases! { g;
        SnapshotBasic2D: 5, "Test (2D): snapshots basic", d::basic;
        SnapshotInstall2D: 5, "Test (2D): install snapshots (disconnect)", d::install;
        SnapshotInstallUnreliable2D: 5, "Test (2D): install snapshots (disconnect+unreliable)",
            d::install_unreliable;
        SnapshotInstallCrash2D: 5, "Test (2D): install snapshots (crash)", d::install_crash;
        SnapshotInstallUnCrash2D: 5, "Test (2D): install snapshots (unreliable+crash)", d::install_uncrash;
        SnapshotKeepsSuffix2D: 5, "Test (2D): a follower keeps its log after an older snapshot",
            dx::keeps_suffix;
        SnapshotAllCrash2D: 5, "Test (2D): crash and restart all servers", d::all_crash;
        SnapshotInit2D: 5, "Test (2D): snapshot initialization after crash", d::init;
        OldSnapshot2D: 5, "Test (2D): a follower ignores an InstallSnapshot older than its commit index",
            dx::old_snapshot;
        SnapshotTerm2D: 5, "Test (2D): a snapshot keeps the term of its last entry, not the current term",
            dx::boundary_term;
        SnapshotBehindCommit2D: 5,
            "Test (2D): a follower ignores an InstallSnapshot between its own snapshot and its commit index",
            dx::behind_commit;
        SnapshotAppendInto2D: 5, "Test (2D): a late AppendEntries that starts inside the follower's snapshot",
            dx::append_into_snapshot;
        SnapshotStale2D: 5, "Test (2D): install snapshots (disconnect), requests arriving again late",
            |t| d::snapshot_common(t, d::Faults {
                disconnect: true, stale: true, rounds: 10, ..d::Faults::NONE
            });
    }
}

/// Group 3A's tests, in the order they run (each named by its group `g`).
pub fn group_3a(g: &'static str) -> Vec<TestCase> {
    cases! { g;
        Basic3A: 5, "Test: one client (3A)", |t| kv::generic(t, kv::Generic::DEFAULT);
        Speed3A: 5, "Test: ops complete fast enough (3A)", |t| kv::speed(t, None);
        Concurrent3A: 5, "Test: many clients (3A)",
            |t| kv::generic(t, kv::Generic { clients: 5, ..kv::Generic::DEFAULT });
        Unreliable3A: 5, "Test: unreliable net, many clients (3A)",
            |t| kv::generic(t, kv::Generic { clients: 5, unreliable: true, ..kv::Generic::DEFAULT });
        UnreliableOneKey3A: 5, "Test: concurrent append to same key, unreliable (3A)", kv::unreliable_one_key;
        OnePartition3A: 5, "Test: progress in majority (3A)", kv::one_partition;
        ManyPartitionsOneClient3A: 5, "Test: partitions, one client (3A)",
            |t| kv::generic(t, kv::Generic { partitions: true, ..kv::Generic::DEFAULT });
        ManyPartitionsManyClients3A: 5, "Test: partitions, many clients (3A)",
            |t| kv::generic(t, kv::Generic { clients: 5, partitions: true, ..kv::Generic::DEFAULT });
        PersistOneClient3A: 5, "Test: restarts, one client (3A)",
            |t| kv::generic(t, kv::Generic { crash: true, ..kv::Generic::DEFAULT });
        PersistConcurrent3A: 5, "Test: restarts, many clients (3A)",
            |t| kv::generic(t, kv::Generic { clients: 5, crash: true, ..kv::Generic::DEFAULT });
        PersistConcurrentUnreliable3A: 5, "Test: unreliable net, restarts, many clients (3A)",
            |t| kv::generic(t, kv::Generic {
                clients: 5, unreliable: true, crash: true, ..kv::Generic::DEFAULT
            });
        PersistPartition3A: 5, "Test: restarts, partitions, many clients (3A)",
            |t| kv::generic(t, kv::Generic {
                clients: 5, crash: true, partitions: true, ..kv::Generic::DEFAULT
            });
        PersistPartitionUnreliable3A: 5, "Test: unreliable net, restarts, partitions, many clients (3A)",
            |t| kv::generic(t, kv::Generic {
                clients: 5, unreliable: true, crash: true, partitions: true, ..kv::Generic::DEFAULT
            });
        PersistPartitionUnreliableLinearizable3A: 5,
            "Test: unreliable net, restarts, partitions, random keys, many clients (3A)",
            |t| kv::generic(t, kv::Generic {
                clients: 15, servers: 7, unreliable: true, crash: true, partitions: true, random_keys: true,
                ..kv::Generic::DEFAULT
            });
        PausedLeader3A: 5, "Test: a paused leader does not answer reads from stale state (3A)",
            kvx::paused_leader;
        AbandonedRequest3A: 5, "Test: a handler gives up when its entry cannot commit (3A)",
            kvx::abandoned_request;
        OverwrittenRequest3A: 5, "Test: a request whose entry was replaced does not succeed (3A)",
            kvx::overwritten_request;
        CrashMidSave3A: 5, "Test: a completed request survives a crash inside a server's save (3A)",
            kvx::crash_mid_save;
        StalePartitionUnreliable3A: 5,
            "Test: unreliable net, partitions, requests arriving again late, many clients (3A)",
            |t| kv::generic(t, kv::Generic {
                clients: 5, unreliable: true, partitions: true, stale: true, ..kv::Generic::DEFAULT
            });
    }
}

/// Group 3B's tests, in the order they run (each named by its group `g`).
pub fn group_3b(g: &'static str) -> Vec<TestCase> {
    cases! { g;
        SnapshotRPC3B: 5, "Test: InstallSnapshot RPC (3B)", kv::snapshot_rpc;
        SnapshotSize3B: 5, "Test: snapshot size is reasonable (3B)", kv::snapshot_size;
        Speed3B: 5, "Test: ops complete fast enough (3B)", |t| kv::speed(t, Some(1000));
        SnapshotRecover3B: 5, "Test: restarts, snapshots, one client (3B)",
            |t| kv::generic(t, kv::Generic { crash: true, maxraftstate: Some(1000), ..kv::Generic::DEFAULT });
        SnapshotRecoverManyClients3B: 5, "Test: restarts, snapshots, many clients (3B)",
            |t| kv::generic(t, kv::Generic {
                clients: 20, crash: true, maxraftstate: Some(1000), ..kv::Generic::DEFAULT
            });
        SnapshotRetry3B: 5, "Test: a retry after a restart from snapshots applies once (3B)",
            kvx::snapshot_retry;
        SnapshotUnreliable3B: 5, "Test: unreliable net, snapshots, many clients (3B)",
            |t| kv::generic(t, kv::Generic {
                clients: 5, unreliable: true, maxraftstate: Some(1000), ..kv::Generic::DEFAULT
            });
        SnapshotUnreliableRecover3B: 5, "Test: unreliable net, restarts, snapshots, many clients (3B)",
            |t| kv::generic(t, kv::Generic {
                clients: 5, unreliable: true, crash: true, maxraftstate: Some(1000), ..kv::Generic::DEFAULT
            });
        SnapshotUnreliableRecoverConcurrentPartition3B: 5,
            "Test: unreliable net, restarts, partitions, snapshots, many clients (3B)",
            |t| kv::generic(t, kv::Generic {
                clients: 5, unreliable: true, crash: true, partitions: true, maxraftstate: Some(1000),
                ..kv::Generic::DEFAULT
            });
        SnapshotUnreliableRecoverConcurrentPartitionLinearizable3B: 5,
            "Test: unreliable net, restarts, partitions, snapshots, random keys, many clients (3B)",
            |t| kv::generic(t, kv::Generic {
                clients: 15, servers: 7, unreliable: true, crash: true, partitions: true,
                maxraftstate: Some(1000), random_keys: true, stale: false
            });
        SnapshotStaleRecoverPartition3B: 5,
            "Test: unreliable net, restarts, partitions, snapshots, requests arriving again late (3B)",
            |t| kv::generic(t, kv::Generic {
                clients: 5, unreliable: true, crash: true, partitions: true, maxraftstate: Some(1000),
                stale: true, ..kv::Generic::DEFAULT
            });
    }
}
