//! 2C: persistence. A crash is real: the node's process group is SIGKILLed
//! and a new process starts on the same data directory.

use crate::case::TestCase;
use harness::threads::{Stop, beside};
use harness::{Cluster, ELECTION_TIMEOUT, Options, SessionVerbs, TestResult, cmd, fail};
use std::thread::sleep;
use std::time::Duration;

/// Restart all; restart the leader; restart a follower while disconnected.
pub fn persist1(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(11), servers, true)?;

    // Crash and re-start all.
    for i in cluster.all() {
        cluster.restart(i)?;
    }
    for i in cluster.all() {
        cluster.disconnect(i);
        cluster.connect(i);
    }
    cluster.one(&cmd(12), servers, true)?;

    let leader1 = cluster.check_one_leader()?;
    cluster.disconnect(leader1);
    cluster.reboot(leader1)?;
    cluster.one(&cmd(13), servers, true)?;

    let leader2 = cluster.check_one_leader()?;
    cluster.disconnect(leader2);
    cluster.one(&cmd(14), servers - 1, true)?;
    cluster.reboot(leader2)?;

    // Wait for leader2 to join before killing i3.
    cluster.wait(4, servers, None)?;

    let i3 = cluster.others(cluster.check_one_leader()?)[0];
    cluster.disconnect(i3);
    cluster.one(&cmd(15), servers - 1, true)?;
    cluster.reboot(i3)?;
    cluster.one(&cmd(16), servers, true)?;
    cluster.end()
}

/// Five rounds of losing servers down to none, restarting them so that only
/// one holds the newest entry and must win.
pub fn persist2(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    let mut index = 1;
    for _ in 0..5 {
        cluster.one(&cmd(10 + index), servers, true)?;
        index += 1;

        let leader1 = cluster.check_one_leader()?;
        let [a, b, c, d] = cluster.others(leader1)[..] else { unreachable!("five servers") };
        cluster.disconnect(a);
        cluster.disconnect(b);
        cluster.one(&cmd(10 + index), servers - 2, true)?;
        index += 1;

        cluster.disconnect(leader1);
        cluster.disconnect(c);
        cluster.disconnect(d);

        cluster.reboot(a)?;
        cluster.reboot(b)?;
        sleep(ELECTION_TIMEOUT);

        cluster.reboot(c)?;
        cluster.one(&cmd(10 + index), servers - 2, true)?;
        index += 1;

        cluster.connect(d);
        cluster.connect(leader1);
    }
    cluster.one(&cmd(1000), servers, true)?;
    cluster.end()
}

/// A partitioned leader and a follower crash; the leader restarts.
pub fn persist3(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(101), 3, true)?;

    let leader = cluster.check_one_leader()?;
    let [follower, cut] = cluster.others(leader)[..] else { unreachable!("three servers") };
    cluster.disconnect(cut);
    cluster.one(&cmd(102), 2, true)?;

    cluster.crash(leader);
    cluster.crash(follower);
    cluster.connect(cut);
    cluster.reboot(leader)?;
    cluster.one(&cmd(103), 2, true)?;

    cluster.reboot(follower)?;
    cluster.one(&cmd(104), servers, true)?;
    cluster.end()
}

/// The sleep between Figure 8 rounds: 10% of the time up to half an election
/// timeout, else up to 13 ms.
fn figure8_pause(cluster: &Cluster) -> Duration {
    if cluster.chance(100) {
        cluster.random_range(Duration::ZERO..ELECTION_TIMEOUT / 2)
    } else {
        cluster.random_range(Duration::ZERO..Duration::from_millis(13))
    }
}

/// 1000 rounds of Start everywhere, then crash the leader; restart a random
/// server while fewer than three are up. Catches committing an earlier
/// term's entry by counting replicas.
pub fn figure8(t: &TestCase) -> TestResult {
    const ROUNDS: usize = 1000;
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cluster.random_cmd(), 1, true)?;

    let mut nup = servers;
    for _ in 0..ROUNDS {
        let mut leader = None;
        for i in cluster.all() {
            if cluster.is_alive(i) && cluster.start(i, &cluster.random_cmd())?.is_some() {
                leader = Some(i);
            }
        }
        sleep(figure8_pause(&cluster));
        if let Some(l) = leader {
            cluster.crash(l);
            nup -= 1;
        }
        if nup < 3 {
            let s = cluster.random_peer();
            if !cluster.is_alive(s) {
                cluster.reboot(s)?;
                nup += 1;
            }
        }
    }
    for i in cluster.all() {
        if !cluster.is_alive(i) {
            cluster.reboot(i)?;
        }
    }
    cluster.one(&cluster.random_cmd(), servers, true)?;
    cluster.end()
}

/// Agreement on an unreliable network with many concurrent proposals.
pub fn unreliable_agree(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options { unreliable: true, ..Options::default() })?;
    cluster.begin(t.title);
    let (main, proposers) = beside(|threads| -> TestResult {
        for iters in 1..50u64 {
            for j in 0..4u64 {
                let cluster = &cluster;
                threads.spawn(move |_| cluster.one(&cmd(100 * iters + j), 1, true));
            }
            cluster.one(&cmd(iters), 1, true)?;
        }
        cluster.set_unreliable(false);
        Ok(())
    });
    main?;
    for r in proposers {
        r?;
    }
    let last = cluster.one(&cmd(100), servers, true)?;
    // No peer restarted, so the counters cover the whole test.
    let mut fsyncs = 0;
    for i in cluster.all() {
        fsyncs += cluster.persist_counts(i)?.map_or(0, |(_, f)| f);
    }
    println!(
        "  persistence: {fsyncs} fsyncs on {servers} peers for {last} entries ({:.2} per entry per peer)",
        fsyncs as f64 / (last as f64 * servers as f64)
    );
    cluster.end()
}

/// Figure 8 on an unreliable network, with long reordering from round 200;
/// the leader is cut off half the time.
pub fn figure8_unreliable(t: &TestCase) -> TestResult {
    const ROUNDS: usize = 1000;
    const REORDER_FROM: usize = 200;
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options { unreliable: true, ..Options::default() })?;
    cluster.begin(t.title);
    cluster.one(&cmd(cluster.random_range(0..10_000)), 1, true)?;

    let mut nup = servers;
    for round in 0..ROUNDS {
        if round == REORDER_FROM {
            cluster.set_long_reordering(true);
        }
        let mut leader = None;
        for i in cluster.all() {
            if cluster.start(i, &cmd(cluster.random_range(0..10_000)))?.is_some() && cluster.is_connected(i) {
                leader = Some(i);
            }
        }
        sleep(figure8_pause(&cluster));
        if let Some(l) = leader
            && cluster.chance(ELECTION_TIMEOUT.as_millis() as u64 / 2)
        {
            cluster.disconnect(l);
            nup -= 1;
        }
        if nup < 3 {
            let s = cluster.random_peer();
            if !cluster.is_connected(s) {
                cluster.connect(s);
                nup += 1;
            }
        }
    }
    for i in cluster.all() {
        if !cluster.is_connected(i) {
            cluster.connect(i);
        }
    }
    cluster.one(&cmd(cluster.random_range(0..10_000)), servers, true)?;
    cluster.end()
}

/// What a churn test does to the servers.
#[derive(Clone, Copy)]
pub struct Churn {
    /// Rounds of faults, each 0.7 election timeouts.
    pub rounds: usize,
    pub unreliable: bool,
    /// Crash servers (and restart them) as well as cut them off.
    pub crash: bool,
    /// Deliver some requests again, late ([`harness::Session::set_stale`]).
    pub stale: bool,
}

impl Churn {
    /// 6.824's churn: 20 rounds, crashes, no stale copies.
    pub const DEFAULT: Churn = Churn { rounds: 20, unreliable: false, crash: true, stale: false };
}

/// Three clients propose while servers are cut off, crashed and restarted;
/// every value a client saw committed must be in the final log.
pub fn churn(t: &TestCase, c: Churn) -> TestResult {
    const CLIENTS: u64 = 3;
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options { unreliable: c.unreliable, ..Options::default() })?;
    cluster.set_stale(c.stale);
    cluster.begin(t.title);
    let client = |me: u64, stop: &Stop| -> TestResult<Vec<Vec<u8>>> {
        let mut values = Vec::new();
        while !stop.is_set() {
            let x = cluster.random_cmd();
            let mut index = None;
            for i in cluster.all() {
                // Try them all; maybe one of them is a leader.
                if let Some((i1, _)) = cluster.start(i, &x)? {
                    index = Some(i1);
                }
            }
            match index {
                Some(index) => {
                    // Maybe the leader will commit our value, maybe not,
                    // but don't wait forever.
                    for pause in [10, 20, 50, 100, 200] {
                        let (nd, c) = cluster.n_committed(index)?;
                        if nd > 0 {
                            if c.as_deref() == Some(x.as_slice()) {
                                values.push(x);
                            }
                            break;
                        }
                        sleep(Duration::from_millis(pause));
                    }
                }
                None => sleep(Duration::from_millis(79 + me * 17)),
            }
        }
        Ok(values)
    };

    let (churned, values) = beside(|threads| -> TestResult {
        for me in 0..CLIENTS {
            threads.spawn(move |stop| client(me, stop));
        }
        for _ in 0..c.rounds {
            if cluster.chance(200) {
                cluster.disconnect(cluster.random_peer());
            }
            if cluster.chance(500) {
                let i = cluster.random_peer();
                if !cluster.is_alive(i) {
                    cluster.restart(i)?;
                }
                cluster.connect(i);
            }
            // The draws are made either way, so a seed picks the same
            // faults with and without crashes.
            if cluster.chance(200) {
                let i = cluster.random_peer();
                if c.crash && cluster.is_alive(i) {
                    cluster.crash(i);
                }
            }
            // Often enough that peers are rarely settled, not so often
            // that they cannot keep up: below the election timeout.
            sleep(ELECTION_TIMEOUT * 7 / 10);
        }
        sleep(ELECTION_TIMEOUT);
        cluster.set_unreliable(false);
        cluster.set_stale(false);
        for i in cluster.all() {
            if !cluster.is_alive(i) {
                cluster.restart(i)?;
            }
            cluster.connect(i);
        }
        Ok(())
    });
    churned?;
    let mut seen = Vec::new();
    for v in values {
        seen.extend(v?);
    }

    sleep(ELECTION_TIMEOUT);
    let last = cluster.one(&cluster.random_cmd(), servers, true)?;
    let mut really = Vec::new();
    for index in 1..=last {
        match cluster.wait(index, servers, None)? {
            Some(c) => really.push(c),
            None => fail!("index {index} has no command"),
        }
    }
    for v in &seen {
        if !really.contains(v) {
            fail!(
                "didn't find a value: {} was seen committed but is not in the final log",
                String::from_utf8_lossy(v)
            );
        }
    }
    println!("  {} client values committed, all in the final log of {last} entries", seen.len());
    cluster.end()
}

/// Churn on a reliable network.
pub fn reliable_churn(t: &TestCase) -> TestResult {
    churn(t, Churn::DEFAULT)
}

/// Churn on an unreliable network.
pub fn unreliable_churn(t: &TestCase) -> TestResult {
    churn(t, Churn { unreliable: true, ..Churn::DEFAULT })
}
