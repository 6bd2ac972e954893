//! 2A, scripted: election stories the random 6.824 tests reach only by
//! luck (found by the self-check: without them `timer-reset-any-rpc` and
//! `vote-from-earlier-election` survive 2A and 2B).

use crate::case::TestCase;
use harness::threads::beside;
use harness::{Cluster, ELECTION_TIMEOUT, Options, SessionVerbs, TestResult, fail, wait_until};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The method whose requests the story holds back and replays.
const APPEND_ENTRIES: &str = "Raft.AppendEntries";
/// How long the tester waits for the request it holds back from a server
/// to each other: a leader sends each follower an AppendEntries well within
/// an election timeout. Only the first is held; the follower misses no more.
const HOLD_LIMIT: Duration = ELECTION_TIMEOUT;
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
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    let l1 = cluster.check_one_leader()?;

    // 1. Hold one heartbeat to each follower.
    let followers = cluster.others(l1);
    let missed = hold_one_each(&cluster, l1, &followers, APPEND_ENTRIES)?;
    if !missed.is_empty() {
        fail!("node {l1}, the leader, sent no AppendEntries to nodes {missed:?} within {HOLD_LIMIT:?}");
    }

    // 2. A second leader, in a later term, and its crash.
    cluster.crash(l1);
    let (l2, t2) = steady_leader(&cluster)?;
    cluster.crash(l2);

    // 3. The three left elect a leader despite the stale heartbeats.
    let left: Vec<usize> = followers.into_iter().filter(|&j| j != l2).collect();
    let elected = replaying(&cluster, l1, &left, APPEND_ENTRIES, || cluster.check_one_leader());
    match elected {
        Ok(l3) if l3 != l1 && l3 != l2 => {
            println!("  node {l3} leads {:?}, after node {l2} led term {t2}", cluster.state(l3)?)
        }
        Ok(l3) => fail!("node {l3} was crashed, yet the tester found it leading"),
        Err(e) => {
            return Err(e.with_context(&format!(
                "  (no leader among the three servers left while the first leader's stale AppendEntries, of an older term, reached them every {REPLAY_EVERY:?}: a refused request must not reset the election timer)"
            )));
        }
    }
    cluster.end()
}

/// The method of the vote requests [`stale_vote`] watches.
const REQUEST_VOTE: &str = "Raft.RequestVote";
/// How long the granted vote's answer is held: far longer than any election
/// timeout, so that the candidate has moved on to a later term.
const VOTE_REPLY_DELAY: Duration = Duration::from_secs(2);
/// How long the tester waits for a server cut off from its leader to send
/// its first RequestVote.
const CAMPAIGN_DEADLINE: Duration = Duration::from_secs(3);

/// A candidate counts only the votes granted in its current election: a
/// grant that arrives after it moved to a later term was given for another
/// election (Figure 2: a vote is for a term). Kills
/// `vote-from-earlier-election`. With three servers, `c` a follower and
/// `a` the other:
/// 1. `c` hears nothing more from anyone and its calls to the leader are
///    lost, so it times out and asks `a` for its vote in term t; `a`'s
///    answer (a grant) is held for two seconds, and as soon as `a` has
///    received the request, `c`'s calls to `a` are lost too;
/// 2. cut off, `c` times out again and campaigns in later terms, none of
///    whose requests reach anyone;
/// 3. `a`'s grant for term t arrives. `c` must not lead any term after t:
///    no one voted for it there. A candidate that counts the stale grant
///    becomes leader with one real vote, its own.
pub fn stale_vote(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&harness::cmd(1), servers, true)?;
    let leader = cluster.check_one_leader()?;
    let [c, a] = <[usize; 2]>::try_from(cluster.others(leader)).expect("three servers");
    let Some((t0, _)) = cluster.state(c)? else { fail!("node {c} is not running") };

    // 1. `c` campaigns; only `a` hears it, once, and its answer is held.
    cluster.delay_replies(&[c], &[a], VOTE_REPLY_DELAY);
    cluster.partition_oneway(&[leader, a], &[c]);
    cluster.partition_oneway(&[c], &[leader]);
    let asked = cluster.rpc_count_method(a, REQUEST_VOTE);
    if !wait_until(CAMPAIGN_DEADLINE, || Ok(cluster.rpc_count_method(a, REQUEST_VOTE) != asked))? {
        fail!("node {c}, cut off from its leader, sent no RequestVote within {CAMPAIGN_DEADLINE:?}");
    }
    cluster.partition_oneway(&[c], &[a]);

    // 2 and 3. The grant arrives while `c` campaigns in a later term.
    sleep(VOTE_REPLY_DELAY + ELECTION_TIMEOUT / 2);
    let stale: Vec<u64> = cluster.terms_led(c).into_iter().filter(|&term| term > t0 + 1).collect();
    if let Some(term) = stale.first() {
        fail!(
            "node {c} led term {term}, though none of its RequestVotes after term {} reached anyone: it counted a vote granted for an earlier election",
            t0 + 1
        );
    }

    cluster.lift_one_way_faults();
    cluster.one(&harness::cmd(3), servers, true)?;
    cluster.end()
}

/// How long [`stale_tally`] watches the candidate once it may reach a
/// second voter: several of its election timeouts, each a new term in which
/// that voter may grant it a vote.
const TALLY_WATCH: Duration = Duration::from_secs(4);

/// A candidate starts each election with only its own vote: votes counted
/// in an earlier election are not votes for this one (Figure 2: a vote is
/// for a term). Kills `vote-from-earlier-election-votes-kept` (a tally kept
/// from term to term), which [`stale_vote`] cannot see: with three servers
/// any one grant is a majority. With five servers, `c` a follower and `a`
/// and `b` two others:
/// 1. nothing reaches `c`, and its calls reach only `a`: it times out and
///    asks `a`, which grants its vote (two of five);
/// 2. as soon as `a` has the request, `a` is muted; once `c` is in a later
///    term its calls reach only `b`, so each of its elections from then on
///    can win at most `b`'s vote (two of five again);
/// 3. for four seconds `c` must never lead: in no term did a majority vote
///    for it. A candidate that kept `a`'s vote leads as soon as `b` grants
///    it one in a later term.
pub fn stale_tally(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&harness::cmd(1), servers, true)?;
    let leader = cluster.check_one_leader()?;
    let others = cluster.others(leader);
    let (c, a, b, d) = (others[0], others[1], others[2], others[3]);
    let led_before = cluster.terms_led(c).len();

    // 1. `c` campaigns; only `a` hears it. `a`'s answers to the leader are
    // held, so the term `a` adopts from `c` never unseats the leader: the
    // others stay in their term, below each later term of `c`.
    cluster.hold_replies(&[leader], &[a]);
    cluster.partition_oneway(&cluster.others(c), &[c]);
    cluster.partition_oneway(&[c], &[leader, b, d]);
    let asked = cluster.rpc_count_method(a, REQUEST_VOTE);
    if !wait_until(CAMPAIGN_DEADLINE, || Ok(cluster.rpc_count_method(a, REQUEST_VOTE) != asked))? {
        fail!("node {c}, cut off from its leader, sent no RequestVote within {CAMPAIGN_DEADLINE:?}");
    }
    // 2. From now on only `b` hears `c`, and `a` (whose answer to `c` is
    // still delivered) hears and reaches no one: its own elections cannot
    // move `b` to a later term than `c`'s, whose answers would turn `c`
    // into a follower and reset any tally. `b` hears `c` only once `c` has
    // moved past the term it is in now (which `a` may have granted, so that
    // `b`'s vote would make a real majority): each later term began with
    // `a` muted.
    cluster.mute(&[a]);
    let Some((asked_in, _)) = cluster.state(c)? else { fail!("node {c} is not running") };
    let moved_on = || Ok(cluster.state(c)?.is_some_and(|(term, _)| term > asked_in));
    if !wait_until(CAMPAIGN_DEADLINE, moved_on)? {
        fail!(
            "node {c}, cut off from every server, stayed in term {asked_in} for {CAMPAIGN_DEADLINE:?}: it must start a new election when one times out"
        );
    }
    cluster.repair_oneway(&[c], &[b]);

    // 3. `c` never has a majority of one later term's votes.
    let later = || cluster.terms_led(c).into_iter().skip(led_before).find(|&term| term > asked_in);
    if wait_until(TALLY_WATCH, || Ok(later().is_some()))?
        && let Some(term) = later()
    {
        fail!(
            "node {c} led term {term}, though in each of its elections after term {asked_in} its RequestVotes could reach one server only (node {b}): two votes of five. It counted a vote granted in an earlier election (node {a}'s, in term {asked_in} or before); each election starts with the candidate's own vote alone"
        );
    }

    cluster.lift_one_way_faults();
    cluster.one(&harness::cmd(2), servers, true)?;
    cluster.end()
}

/// A leader that learns of a newer term from an answer steps down at once
/// (Figure 2: "if RPC request or response contains term T > currentTerm:
/// set currentTerm = T, convert to follower"). Kills
/// `leader-ignores-higher-term`. With three servers:
/// 1. the leader `l` is cut off both ways; the others elect a new leader
///    in a later term and commit a command (so `l` cannot win again);
/// 2. `l`'s calls reach the others again, but nothing they send reaches `l`:
///    it hears of the newer term only in the answers to its heartbeats;
/// 3. within one election timeout `l` must no longer claim to lead its old
///    term. A leader that ignores the term of answers leads on, alone,
///    taking commands it can never commit.
pub fn step_down(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&harness::cmd(1), servers, true)?;
    let old = cluster.check_one_leader()?;
    let Some((old_term, true)) = cluster.state(old)? else { fail!("node {old} stopped leading at once") };

    // 1. A new leader without `old`, whose log is now behind.
    cluster.disconnect(old);
    cluster.one(&harness::cmd(2), servers - 1, true)?;
    let new = cluster.check_one_leader()?;
    let Some((new_term, _)) = cluster.state(new)? else { fail!("node {new} stopped") };

    // 2. `old` hears of the new term only in answers.
    cluster.partition_oneway(&cluster.others(old), &[old]);
    cluster.connect(old);
    sleep(ELECTION_TIMEOUT);

    // 3. It has stepped down.
    if let Some((term, true)) = cluster.state(old)?
        && term == old_term
    {
        fail!(
            "node {old} still leads term {term} one election timeout after its calls reached servers in term {new_term}: a leader must step down when an answer carries a newer term"
        );
    }
    cluster.lift_one_way_faults();
    cluster.one(&harness::cmd(3), servers, true)?;
    cluster.end()
}

/// Tries to find a leader whose term every connected server has adopted.
const STEADY_TRIES: usize = 3;

/// A leader that every connected server follows in its term, and that term:
/// with no election in progress anywhere, the crash of that leader starts
/// the next election afresh from each server's own timer, and a story that
/// then keeps those timers from firing decides who can win. (A campaign
/// already under way when the leader crashes could win whatever the timers
/// do.)
fn steady_leader(cluster: &Cluster) -> TestResult<(usize, u64)> {
    for _ in 0..STEADY_TRIES {
        let l = cluster.check_one_leader()?;
        let Some((term, true)) = cluster.state(l)? else { continue };
        let steady = wait_until(ELECTION_TIMEOUT, || {
            for j in cluster.all().into_iter().filter(|&j| cluster.is_connected(j)) {
                match cluster.state(j)? {
                    Some((t, leads)) if t == term && leads == (j == l) => {}
                    _ => return Ok(false),
                }
            }
            Ok(true)
        })?;
        if steady {
            return Ok((l, term));
        }
    }
    fail!(
        "no leader kept every connected server in its term for {ELECTION_TIMEOUT:?}, {STEADY_TRIES} times over"
    )
}

/// Holds back one `method` request from `from` to each of `to`, as soon as
/// it is sent (within [`HOLD_LIMIT`]), for [`replaying`]; then lets the
/// others through. Returns the servers that got none held.
fn hold_one_each(cluster: &Cluster, from: usize, to: &[usize], method: &str) -> TestResult<Vec<usize>> {
    cluster.hold_calls(&[from], to, method);
    let mut pending = to.to_vec();
    wait_until(HOLD_LIMIT, || {
        pending.retain(|&j| {
            let held = cluster.held_calls(from, j, method) > 0;
            if held {
                cluster.stop_holding_calls(&[from], &[j], method);
            }
            !held
        });
        Ok(pending.is_empty())
    })?;
    cluster.stop_holding_calls(&[from], &pending, method);
    Ok(pending)
}

/// Runs `body` while the `method` requests held from `from` are delivered
/// again to each of `to` every [`REPLAY_EVERY`], a thread for each (so that
/// a server slow to answer holds up no other). Prints, for each, how many
/// replays it answered and the longest time between two answered ones: a
/// story whose replays stalled did not test what it exists for.
fn replaying<T>(cluster: &Cluster, from: usize, to: &[usize], method: &str, body: impl FnOnce() -> T) -> T {
    let (result, replays) = beside(|threads| {
        for &j in to {
            threads.spawn(move |stop| {
                let (mut answered, mut last, mut longest) = (0, Instant::now(), Duration::ZERO);
                while !stop.is_set() {
                    if cluster.replay_held(from, j, method) > 0 {
                        answered += 1;
                        longest = longest.max(last.elapsed());
                        last = Instant::now();
                    }
                    sleep(REPLAY_EVERY);
                }
                (j, answered, longest.max(last.elapsed()))
            });
        }
        body()
    });
    for (j, answered, longest) in replays {
        println!("  replays to node {j}: {answered} answered, at most {longest:?} apart");
    }
    result
}

/// A server's election timer is reset by a vote it grants, never by a
/// RequestVote it refuses (Figure 2; the Students' Guide's "resetting the
/// election timer": else a server with an out-of-date log that keeps
/// campaigning stops everyone else from ever timing out). Kills
/// `vote-timer-any-request`. With five servers, leader `l` and `s` a
/// follower:
/// 1. `s` hears no one, so it campaigns; its first RequestVote to each
///    other server is held back in the network, then `s` crashes; the
///    others commit a command `s` never received, so `s`'s log is behind;
/// 2. `l` crashes. While the three left elect a leader, the tester delivers
///    `s`'s held RequestVote to each of them every 30 ms. They must refuse
///    it (its log is out of date) without resetting their timers, and elect
///    a leader as usual. A server whose timer every RequestVote resets never
///    times out: no leader.
pub fn stale_candidate(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&harness::cmd(1), servers, true)?;
    let l = cluster.check_one_leader()?;
    let s = cluster.others(l)[0];
    let others = cluster.others(s);

    // 1. `s` campaigns, heard by no one; the others move on without it.
    cluster.hold_calls(&[s], &others, REQUEST_VOTE);
    cluster.partition_oneway(&others, &[s]);
    cluster.one(&harness::cmd(2), servers - 1, true)?;
    if !wait_until(CAMPAIGN_DEADLINE, || {
        Ok(others.iter().all(|&j| cluster.held_calls(s, j, REQUEST_VOTE) > 0))
    })? {
        fail!(
            "node {s}, cut off from its leader, sent no RequestVote to every other server within {CAMPAIGN_DEADLINE:?}"
        );
    }
    cluster.crash(s);

    // 2. The three left elect a leader despite the stale candidate.
    let (l, term) = steady_leader(&cluster)?;
    cluster.crash(l);
    let left: Vec<usize> = others.into_iter().filter(|&j| j != l).collect();
    let elected = replaying(&cluster, s, &left, REQUEST_VOTE, || cluster.check_one_leader());
    match elected {
        Ok(x) if x != l && x != s => {
            println!("  node {x} leads {:?}, after node {l} led term {term}", cluster.state(x)?)
        }
        Ok(x) => fail!("node {x} was crashed, yet the tester found it leading"),
        Err(e) => {
            return Err(e.with_context(&format!(
                "  (no leader among the three servers left while a RequestVote from node {s}, whose log is out of date, reached them every {REPLAY_EVERY:?}: a refused vote must not reset the election timer)"
            )));
        }
    }
    cluster.lift_one_way_faults();
    cluster.reboot(l)?;
    cluster.reboot(s)?;
    cluster.one(&harness::cmd(3), servers, true)?;
    cluster.end()
}
