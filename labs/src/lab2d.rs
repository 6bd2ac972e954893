//! 2D: snapshots. The node's tester service snapshots every 10 applied
//! entries (at index 9, 19, …), holding the index and every command through it.

use crate::case::TestCase;
use harness::{Cluster, Options, SessionVerbs, TestResult, fail};

/// Entries between the tester service's snapshots (6.824's `SnapShotInterval`).
const SNAPSHOT_INTERVAL: u64 = 10;
/// The Raft state on disk must stay under this many bytes (`MAXLOGSIZE`).
const MAX_LOG_SIZE: u64 = 2000;

/// How a snapshot test treats its victim.
#[derive(Clone, Copy)]
pub struct Faults {
    pub disconnect: bool,
    pub reliable: bool,
    pub crash: bool,
    /// Deliver some requests again, late ([`harness::Session::set_stale`]).
    pub stale: bool,
    pub rounds: usize,
}

impl Faults {
    /// 6.824's: 30 rounds, no fault, no stale copies.
    pub const NONE: Faults =
        Faults { disconnect: false, reliable: true, crash: false, stale: false, rounds: 30 };
}

/// 30 rounds (or as many as `f` says): a victim (a follower, every third
/// round the leader) is cut off or crashed while 5–14 commands go in; the
/// log on disk stays small; the victim returns and catches up, through
/// InstallSnapshot when it is behind.
pub fn snapshot_common(t: &TestCase, f: Faults) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options { unreliable: !f.reliable, snapshot: true })?;
    cluster.set_stale(f.stale);
    cluster.begin(t.title);
    cluster.one(&cluster.random_cmd(), servers, true)?;
    let mut leader1 = cluster.check_one_leader()?;

    for round in 0..f.rounds {
        let follower = cluster.others(leader1)[0];
        let (sender, victim) = if round % 3 == 1 { (follower, leader1) } else { (leader1, follower) };

        if f.disconnect {
            cluster.disconnect(victim);
            cluster.one(&cluster.random_cmd(), servers - 1, true)?;
        }
        if f.crash {
            cluster.crash(victim);
            cluster.one(&cluster.random_cmd(), servers - 1, true)?;
        }

        // Perhaps send enough to get a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + cluster.random_range(0..SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            cluster.start(sender, &cluster.random_cmd())?;
        }

        // Let applier threads catch up with the Starts.
        if !f.disconnect && !f.crash {
            // Make sure all followers have caught up, so that an
            // InstallSnapshot RPC isn't required for SnapshotBasic2D.
            cluster.one(&cluster.random_cmd(), servers, true)?;
        } else {
            cluster.one(&cluster.random_cmd(), servers - 1, true)?;
        }

        let size = cluster.log_size()?;
        if size >= MAX_LOG_SIZE {
            fail!("Log size too large: {size} bytes of Raft state on disk (limit {MAX_LOG_SIZE})");
        }

        if f.disconnect {
            // Reconnect a follower, who may be behind and need to receive a
            // snapshot to catch up.
            cluster.connect(victim);
            cluster.one(&cluster.random_cmd(), servers, true)?;
            leader1 = cluster.check_one_leader()?;
        }
        if f.crash {
            cluster.reboot(victim)?;
            cluster.one(&cluster.random_cmd(), servers, true)?;
            leader1 = cluster.check_one_leader()?;
        }
    }
    cluster.end()
}

/// Snapshots with no faults.
pub fn basic(t: &TestCase) -> TestResult {
    snapshot_common(t, Faults { disconnect: false, reliable: true, crash: false, ..Faults::NONE })
}

/// A disconnected victim catches up by InstallSnapshot.
pub fn install(t: &TestCase) -> TestResult {
    snapshot_common(t, Faults { disconnect: true, reliable: true, crash: false, ..Faults::NONE })
}

/// As [`install`], on an unreliable network.
pub fn install_unreliable(t: &TestCase) -> TestResult {
    snapshot_common(t, Faults { disconnect: true, reliable: false, crash: false, ..Faults::NONE })
}

/// A crashed victim restarts from its snapshot and catches up.
pub fn install_crash(t: &TestCase) -> TestResult {
    snapshot_common(t, Faults { disconnect: false, reliable: true, crash: true, ..Faults::NONE })
}

/// As [`install_crash`], on an unreliable network.
pub fn install_uncrash(t: &TestCase) -> TestResult {
    snapshot_common(t, Faults { disconnect: false, reliable: false, crash: true, ..Faults::NONE })
}

/// Five rounds of commands, then crash and restart everyone: nothing is lost.
pub fn all_crash(t: &TestCase) -> TestResult {
    const ROUNDS: usize = 5;
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options { snapshot: true, ..Options::default() })?;
    cluster.begin(t.title);
    cluster.one(&cluster.random_cmd(), servers, true)?;

    for _ in 0..ROUNDS {
        // Perhaps enough to get a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + cluster.random_range(0..SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            cluster.one(&cluster.random_cmd(), servers, true)?;
        }
        let index1 = cluster.one(&cluster.random_cmd(), servers, true)?;

        // Crash all, then revive all.
        cluster.crash_all();
        for i in cluster.all() {
            cluster.reboot(i)?;
        }

        let index2 = cluster.one(&cluster.random_cmd(), servers, true)?;
        if index2 < index1 + 1 {
            fail!("index decreased from {index1} to {index2}");
        }
    }
    cluster.end()
}

/// A restarted peer must initialise its copy of the snapshot so that later
/// saves do not lose it.
pub fn init(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options { snapshot: true, ..Options::default() })?;
    cluster.begin(t.title);
    cluster.one(&cluster.random_cmd(), servers, true)?;

    // Enough ops to make a snapshot.
    for _ in 0..=SNAPSHOT_INTERVAL {
        cluster.one(&cluster.random_cmd(), servers, true)?;
    }

    let crash_and_revive_all = || -> TestResult {
        cluster.crash_all();
        for i in cluster.all() {
            cluster.reboot(i)?;
        }
        Ok(())
    };
    crash_and_revive_all()?;

    // A single op, to get something written back to persistent storage.
    cluster.one(&cluster.random_cmd(), servers, true)?;

    crash_and_revive_all()?;

    // Another op, to trigger a potential bug.
    cluster.one(&cluster.random_cmd(), servers, true)?;
    cluster.end()
}
