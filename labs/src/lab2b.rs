//! 2B: log replication.

use crate::case::TestCase;
use harness::threads::beside;
use harness::{Cluster, ELECTION_TIMEOUT, Options, SessionVerbs, TestResult, cmd, fail};
use std::thread::sleep;
use std::time::Duration;

/// Indexes 1..=3 commit in order, none before its Start.
pub fn basic_agree(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    for index in 1..=3u64 {
        let (nd, _) = cluster.n_committed(index)?;
        if nd > 0 {
            fail!("some have committed before Start()");
        }
        let xindex = cluster.one(&cmd(index * 100), servers, false)?;
        if xindex != index {
            fail!("got index {xindex} but expected {index}");
        }
    }
    cluster.end()
}

/// Agreement survives one lost follower; with both lost the leader accepts
/// Start but nothing commits.
pub fn follower_failure(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(101), servers, false)?;

    // Disconnect one follower from the network.
    let leader1 = cluster.check_one_leader()?;
    cluster.disconnect(cluster.others(leader1)[0]);

    // The leader and remaining follower should be able to agree despite the
    // disconnected follower.
    cluster.one(&cmd(102), servers - 1, false)?;
    sleep(ELECTION_TIMEOUT);
    cluster.one(&cmd(103), servers - 1, false)?;

    // Disconnect the remaining follower.
    let leader2 = cluster.check_one_leader()?;
    for f in cluster.others(leader2) {
        cluster.disconnect(f);
    }

    // Submit a command.
    let Some((index, _)) = cluster.start(leader2, &cmd(104))? else { fail!("leader rejected Start()") };
    if index != 4 {
        fail!("expected index 4, got {index}");
    }
    sleep(2 * ELECTION_TIMEOUT);

    // Check that the command did not commit.
    let (n, _) = cluster.n_committed(index)?;
    if n > 0 {
        fail!("{n} committed but no majority");
    }
    cluster.end()
}

/// Agreement survives a lost leader; with the next one lost nothing commits.
pub fn leader_failure(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(101), servers, false)?;

    // Disconnect the first leader.
    let leader1 = cluster.check_one_leader()?;
    cluster.disconnect(leader1);

    // The remaining followers should elect a new leader.
    cluster.one(&cmd(102), servers - 1, false)?;
    sleep(ELECTION_TIMEOUT);
    cluster.one(&cmd(103), servers - 1, false)?;

    // Disconnect the new leader.
    let leader2 = cluster.check_one_leader()?;
    cluster.disconnect(leader2);

    // Submit a command to each server.
    for i in cluster.all() {
        cluster.start(i, &cmd(104))?;
    }
    sleep(2 * ELECTION_TIMEOUT);

    // Check that command 104 did not commit.
    let (n, _) = cluster.n_committed(4)?;
    if n > 0 {
        fail!("{n} committed but no majority");
    }
    cluster.end()
}

/// A disconnected follower catches up when it returns.
pub fn fail_agree(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(101), servers, false)?;

    // Disconnect one follower from the network.
    let leader = cluster.check_one_leader()?;
    let follower = cluster.others(leader)[0];
    cluster.disconnect(follower);

    // The leader and remaining follower should be able to agree despite the
    // disconnected follower.
    cluster.one(&cmd(102), servers - 1, false)?;
    cluster.one(&cmd(103), servers - 1, false)?;
    sleep(ELECTION_TIMEOUT);
    cluster.one(&cmd(104), servers - 1, false)?;
    cluster.one(&cmd(105), servers - 1, false)?;

    // Re-connect.
    cluster.connect(follower);

    // The full set of servers should preserve previous agreements, and be
    // able to agree on new commands.
    cluster.one(&cmd(106), servers, true)?;
    sleep(ELECTION_TIMEOUT);
    cluster.one(&cmd(107), servers, true)?;
    cluster.end()
}

/// With 3 of 5 disconnected nothing commits; after healing, agreement.
pub fn fail_no_agree(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(10), servers, false)?;

    // 3 of 5 followers disconnect.
    let leader = cluster.check_one_leader()?;
    let cut = cluster.others(leader)[..3].to_vec();
    for &i in &cut {
        cluster.disconnect(i);
    }

    let Some((index, _)) = cluster.start(leader, &cmd(20))? else { fail!("leader rejected Start()") };
    if index != 2 {
        fail!("expected index 2, got {index}");
    }
    sleep(2 * ELECTION_TIMEOUT);
    let (n, _) = cluster.n_committed(index)?;
    if n > 0 {
        fail!("{n} committed but no majority");
    }

    // Repair.
    for &i in &cut {
        cluster.connect(i);
    }

    // The disconnected majority may have chosen a leader from among their
    // own ranks, forgetting index 2.
    let leader2 = cluster.check_one_leader()?;
    let Some((index2, _)) = cluster.start(leader2, &cmd(30))? else { fail!("leader2 rejected Start()") };
    if !(2..=3).contains(&index2) {
        fail!("unexpected index {index2}");
    }
    cluster.one(&cmd(1000), servers, true)?;
    cluster.end()
}

/// Five concurrent Starts in one term all commit.
pub fn concurrent_starts(t: &TestCase) -> TestResult {
    const TRIES: usize = 5;
    const STARTS: u64 = 5;
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    'tries: for attempt in 0..TRIES {
        if attempt > 0 {
            // Give the solution some time to settle.
            sleep(Duration::from_secs(3));
        }
        let leader = cluster.check_one_leader()?;
        let Some((_, term)) = cluster.start(leader, &cmd(1))? else { continue };

        let ((), results) = beside(|threads| {
            for i in 0..STARTS {
                let cluster = &cluster;
                threads.spawn(move |_| match cluster.start(leader, &cmd(100 + i))? {
                    Some((index, term1)) if term1 == term => Ok(Some(index)),
                    _ => Ok(None),
                });
            }
        });
        let mut indexes = Vec::new();
        for r in results {
            if let Some(i) = r? {
                indexes.push(i);
            }
        }

        for j in cluster.all() {
            if cluster.state(j)?.is_some_and(|(t, _)| t != term) {
                // Term changed: can't expect low RPC counts.
                continue 'tries;
            }
        }

        let mut cmds = Vec::new();
        for index in indexes {
            match cluster.wait(index, servers, Some(term))? {
                Some(c) => cmds.push(c),
                None => continue 'tries, // peers have moved on to later terms
            }
        }
        for i in 0..STARTS {
            let x = cmd(100 + i);
            if !cmds.contains(&x) {
                fail!(
                    "cmd {} missing in {:?}",
                    100 + i,
                    cmds.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>()
                );
            }
        }
        return cluster.end();
    }
    fail!("term changed too often")
}

/// A partitioned leader's uncommitted entries are discarded when it returns.
pub fn rejoin(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(101), servers, true)?;

    // Leader network failure.
    let leader1 = cluster.check_one_leader()?;
    cluster.disconnect(leader1);

    // Make old leader try to agree on some entries.
    for c in [102, 103, 104] {
        cluster.start(leader1, &cmd(c))?;
    }

    // New leader commits, also for index=2.
    cluster.one(&cmd(103), 2, true)?;

    // New leader network failure.
    let leader2 = cluster.check_one_leader()?;
    cluster.disconnect(leader2);

    // Old leader connected again.
    cluster.connect(leader1);
    cluster.one(&cmd(104), 2, true)?;

    // All together now.
    cluster.connect(leader2);
    cluster.one(&cmd(105), servers, true)?;
    cluster.end()
}

/// A leader backs up quickly over long conflicting logs.
pub fn backup(t: &TestCase) -> TestResult {
    const BATCH: usize = 50;
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cluster.random_cmd(), servers, true)?;

    // Put leader and one follower in a partition.
    let leader1 = cluster.check_one_leader()?;
    let others = cluster.others(leader1);
    let (pair, trio) = ([leader1, others[0]], others[1..].to_vec());
    for &i in &trio {
        cluster.disconnect(i);
    }

    // Submit lots of commands that won't commit.
    for _ in 0..BATCH {
        cluster.start(leader1, &cluster.random_cmd())?;
    }
    sleep(ELECTION_TIMEOUT / 2);
    for &i in &pair {
        cluster.disconnect(i);
    }

    // Allow the other partition to recover.
    for &i in &trio {
        cluster.connect(i);
    }

    // Lots of successful commands to the new group.
    for _ in 0..BATCH {
        cluster.one(&cluster.random_cmd(), 3, true)?;
    }

    // Now another partitioned leader and one follower.
    let leader2 = cluster.check_one_leader()?;
    let other = *trio.iter().find(|&&i| i != leader2).expect("the trio has two followers");
    cluster.disconnect(other);

    // Lots more commands that won't commit.
    for _ in 0..BATCH {
        cluster.start(leader2, &cluster.random_cmd())?;
    }
    sleep(ELECTION_TIMEOUT / 2);

    // Bring the original leader back to life.
    for i in cluster.all() {
        cluster.disconnect(i);
    }
    for i in [pair[0], pair[1], other] {
        cluster.connect(i);
    }

    // Lots of successful commands to the new group.
    for _ in 0..BATCH {
        cluster.one(&cluster.random_cmd(), 3, true)?;
    }

    // Now everyone.
    for i in cluster.all() {
        cluster.connect(i);
    }
    cluster.one(&cluster.random_cmd(), servers, true)?;
    cluster.end()
}
