//! 2A: leader election.

use crate::case::TestCase;
use harness::{Cluster, ELECTION_TIMEOUT, Options, SessionVerbs, TestResult};
use std::thread::sleep;
use std::time::Duration;

/// One leader; all agree on a term ≥ 1; with no failures the term stays put.
pub fn initial_election(t: &TestCase) -> TestResult {
    let cluster = Cluster::new(t.id, 3, Options::default())?;
    cluster.begin(t.title);

    // Is there a leader?
    cluster.check_one_leader()?;

    // Sleep a bit to avoid racing with followers learning of the election,
    // then check that all peers agree on the term.
    sleep(Duration::from_millis(50));
    let term1 = cluster.check_terms()?;
    if term1 < 1 {
        harness::fail!("term is {term1}, but should be at least 1");
    }

    // Does the leader and term stay the same if there is no network failure?
    sleep(2 * ELECTION_TIMEOUT);
    let term2 = cluster.check_terms()?;
    if term1 != term2 {
        println!("warning: term changed even though there were no failures");
    }

    // There should still be a leader.
    cluster.check_one_leader()?;
    cluster.end()
}

/// A new leader after the old one is cut off; no leader without a majority.
pub fn re_election(t: &TestCase) -> TestResult {
    let cluster = Cluster::new(t.id, 3, Options::default())?;
    cluster.begin(t.title);
    let leader1 = cluster.check_one_leader()?;

    // If the leader disconnects, a new one should be elected.
    cluster.disconnect(leader1);
    cluster.check_one_leader()?;

    // If the old leader rejoins, that shouldn't disturb the new leader, and
    // the old leader should switch to follower.
    cluster.connect(leader1);
    let leader2 = cluster.check_one_leader()?;

    // If there's no quorum, no new leader should be elected.
    let other = cluster.others(leader2)[cluster.random_range(0..cluster.n() - 1)];
    cluster.disconnect(leader2);
    cluster.disconnect(other);
    sleep(2 * ELECTION_TIMEOUT);
    // Check that the one connected server does not think it is the leader.
    cluster.check_no_leader()?;

    // If a quorum arises, it should elect a leader.
    cluster.connect(other);
    cluster.check_one_leader()?;

    // Re-join of last node shouldn't prevent leader from existing.
    cluster.connect(leader2);
    cluster.check_one_leader()?;
    cluster.end()
}

/// Nine rounds of cutting off three random servers of seven.
pub fn many_elections(t: &TestCase) -> TestResult {
    const ROUNDS: usize = 9;
    let cluster = Cluster::new(t.id, 7, Options::default())?;
    cluster.begin(t.title);
    cluster.check_one_leader()?;

    for _ in 0..ROUNDS {
        // Disconnect three nodes, chosen independently as 6.824 does (they
        // may coincide): the rest keep a majority.
        let cut = [cluster.random_peer(), cluster.random_peer(), cluster.random_peer()];
        for &i in &cut {
            cluster.disconnect(i);
        }

        // Either the current leader should still be alive, or the remaining
        // four should elect a new one.
        cluster.check_one_leader()?;

        for &i in &cut {
            cluster.connect(i);
        }
    }
    cluster.check_one_leader()?;
    cluster.end()
}
