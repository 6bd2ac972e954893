//! 2C, scripted: persistence and commit-rule stories that the random 6.824
//! tests reach only by luck, written as fixed sequences of partitions and
//! crashes (found by the self-check: without them the mutants
//! `commit-old-term`, `no-persist-term`, `persist-after-reply` and
//! `no-persist-vote` survive the 2C group).

use crate::case::TestCase;
use harness::net::rules::LONG_LOSS_DELAY_MS;
use harness::{Cluster, ELECTION_TIMEOUT, Options, SessionVerbs, TestResult, cmd, fail, wait_until};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Time for a leader to copy an entry to the followers it can reach: a few
/// heartbeats (100 ms each in a Raft the tests accept).
const REPLICATE: Duration = Duration::from_millis(500);
/// Time for a change to persistent state that a peer has already reported
/// (a term) to reach its disk: one save costs a few milliseconds.
const SETTLE: Duration = Duration::from_millis(200);
/// Elections run without any new entry before the crash.
const TERM_ROUNDS: usize = 3;
/// Rounds of "crash the follower that acknowledged an entry at once".
const ACK_ROUNDS: u64 = 5;
/// How often the tester looks for the leader's apply, to crash the follower
/// as soon as possible after its acknowledgement.
const ACK_POLL: Duration = Duration::from_micros(200);
/// Rounds of "restart a voter and ask it again in the same term". A round
/// catches a forgotten vote when the candidate's timer fires before the
/// voter's (about half the time), so ten rounds miss it about once in a
/// thousand runs.
const VOTE_ROUNDS: usize = 10;
/// The longest an entry may take to commit with a live follower.
const COMMIT_DEADLINE: Duration = Duration::from_secs(10);

/// Figure 8 of the extended Raft paper, step by step, with five servers:
/// (a) s1 leads and copies index 2 to s2 only; (b) s3, s4, s5 elect s5,
/// which alone takes a different index 2 in a later term; (c) s1, s2, s3
/// return and s1 or s2 leads, copying its index 2 (an earlier term's) to s3,
/// a majority, then takes index 3 of its own term, which reaches only the
/// other of s1 and s2; (d) s1 and s2 leave, s4 and s5 return: only s5 can
/// win, and it commits its own index 2. A leader that committed the earlier
/// term's index 2 in (c) by counting replicas (`commit-old-term`), or
/// because its last entry, not the entry at index 2, is of its term
/// (`commit-old-term-last-entry`), makes s5 overwrite a committed entry,
/// which the apply check reports.
pub fn figure8_scripted(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(1), servers, true)?;

    // (a) The leader and one follower alone get index 2.
    let s1 = cluster.check_one_leader()?;
    let others = cluster.others(s1);
    let (s2, rest) = (others[0], others[1..].to_vec());
    for &i in &rest {
        cluster.disconnect(i);
    }
    if cluster.start(s1, &cmd(2))?.is_none() {
        fail!("node {s1} stopped leading while two followers were still connected");
    }
    sleep(REPLICATE);
    cluster.disconnect(s1);
    cluster.disconnect(s2);

    // (b) The other three elect a leader of a later term, which alone takes
    // a different index 2.
    for &i in &rest {
        cluster.connect(i);
    }
    let s5 = cluster.check_one_leader()?;
    let [s3, s4] = <[usize; 2]>::try_from(rest.iter().copied().filter(|&i| i != s5).collect::<Vec<_>>())
        .expect("three servers minus their leader are two");
    cluster.disconnect(s3);
    cluster.disconnect(s4);
    if cluster.start(s5, &cmd(3))?.is_none() {
        fail!("node {s5} stopped leading right after its election");
    }
    sleep(REPLICATE);
    cluster.disconnect(s5);

    // (c) s1, s2 and s3 return: s3's log is shorter, so s1 or s2 leads and
    // copies index 2 of the earlier term to s3. It is on a majority now, yet
    // it must not commit: no entry of the new leader's term is.
    cluster.connect(s1);
    cluster.connect(s2);
    cluster.connect(s3);
    let leader = cluster.check_one_leader()?;
    sleep(ELECTION_TIMEOUT);
    // As drawn in the paper, the new leader then takes an entry of its own
    // term, which reaches the other of s1 and s2 but not s3 (cut off both
    // ways, so it cannot disturb them either): index 2 is still on the
    // majority s1, s2, s3 and still of an earlier term, and index 3 is on
    // two servers only. Nothing may commit.
    cluster.mute(&[s3]);
    if cluster.start(leader, &cmd(6))?.is_none() {
        fail!("node {leader} stopped leading with two followers still connected");
    }
    sleep(REPLICATE);

    // (d) s1 and s2 leave; s4 and s5 return. s5 has the latest last term, so
    // only it can win, and its index 2 commits with its next entry. If index
    // 2 had committed in (c), this overwrites a committed entry.
    cluster.disconnect(s1);
    cluster.disconnect(s2);
    cluster.unmute(&[s3]);
    cluster.connect(s4);
    cluster.connect(s5);
    cluster.one(&cmd(4), 3, true)?;
    cluster.n_committed(2)?;

    for i in cluster.all() {
        cluster.connect(i);
    }
    cluster.one(&cmd(5), servers, true)?;
    cluster.end()
}

/// A restarted peer's term never goes back: elections move the term on
/// without any new entry, then every peer crashes and restarts, and each
/// must come back with at least the term it had reported (Figure 2:
/// currentTerm is persistent state; a peer that forgets it may vote twice
/// in one term). Each deposed leader rejoins unable to call anyone until it
/// follows the new one, so the last leader handles no request after its
/// election: a candidate that does not save its term before asking for
/// votes (`no-persist-term-candidate`) cannot have it saved by the next
/// request it handles, and comes back in an older term.
pub fn persist_term(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(1), servers, true)?;

    // New leaders, and no new entries: only the term moves on.
    for _ in 0..TERM_ROUNDS {
        let old = cluster.check_one_leader()?;
        cluster.disconnect(old);
        let new = cluster.check_one_leader()?;
        // `old` rejoins and hears before it speaks: its calls are lost until
        // it follows `new`, so that `new` handles no request after its
        // election (a peer that saves on every request it handles would
        // then save the term its candidacy did not).
        let Some((term, _)) = cluster.state(new)? else { fail!("node {new} stopped") };
        cluster.partition_oneway(&[old], &cluster.others(old));
        cluster.connect(old);
        wait_until(ELECTION_TIMEOUT, || Ok(matches!(cluster.state(old)?, Some((t, false)) if t >= term)))?;
        cluster.repair_oneway(&[old], &cluster.others(old));
    }
    cluster.check_one_leader()?;
    let term = cluster.check_terms()?;
    sleep(SETTLE);

    // Crash everyone, restart each on its own (disconnected, so no election
    // can lower anything it reports): each must still be in `term` or later.
    cluster.crash_all();
    for i in cluster.all() {
        cluster.restart(i)?;
        if let Some((restored, _)) = cluster.state(i)?
            && restored < term
        {
            fail!(
                "node {i} restarted in term {restored}, but had reported term {term} before its crash: currentTerm must be persisted"
            );
        }
    }
    for i in cluster.all() {
        cluster.connect(i);
    }
    cluster.one(&cmd(2), servers, true)?;
    cluster.end()
}

/// An acknowledgement is a promise: a follower persists an entry before it
/// replies that it holds it. Each round cuts one follower off, starts an
/// entry, and crashes the other follower the moment the leader applies the
/// entry (so its acknowledgement has just been sent), then the leader too.
/// The restarted follower and the one that was cut off must elect a leader
/// that keeps the committed entry; a follower that saves after replying
/// loses it, and its index is committed again with another command.
pub fn persist_before_reply(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(0), servers, true)?;

    for round in 1..=ACK_ROUNDS {
        let leader = cluster.check_one_leader()?;
        let [acker, away] = <[usize; 2]>::try_from(cluster.others(leader)).expect("three servers");
        cluster.disconnect(away);
        let Some((index, _)) = cluster.start(leader, &cmd(round * 100))? else {
            fail!("node {leader} stopped leading with one follower still connected");
        };
        // Only `acker` can make the entry commit: crash it as soon as it has.
        let t0 = Instant::now();
        while !cluster.has_applied(leader, index) {
            if t0.elapsed() > COMMIT_DEADLINE {
                fail!(
                    "index {index} did not commit within {COMMIT_DEADLINE:?} with nodes {leader} and {acker}"
                );
            }
            sleep(ACK_POLL);
        }
        cluster.crash(acker);
        cluster.crash(leader);

        // The acknowledged, committed entry must survive in `acker`.
        cluster.reboot(acker)?;
        cluster.connect(away);
        cluster.one(&cmd(round * 100 + 1), 2, true)?;
        cluster.n_committed(index)?;

        cluster.reboot(leader)?;
        cluster.one(&cmd(round * 100 + 2), servers, true)?;
    }
    cluster.end()
}

/// A vote is a promise too: a peer that voted in a term, crashed and
/// restarted must not vote again in that term. Each round: with one
/// follower `c` crashed (its term frozen one below the next election's), the
/// other two elect `w` in the very next term with the vote of `x`; `w` is cut
/// off (still leading that term in its own view), `x` and `c` restart and
/// meet. If `c`'s first candidacy (in `w`'s term) reaches `x` before `x`
/// times out, a voter that forgot its vote makes `c` a second leader of
/// `w`'s term, which the one-leader-per-term check reports.
pub fn persist_vote(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    let mut asked_again = 0;
    for round in 1..=VOTE_ROUNDS {
        cluster.one(&cmd(round), servers, true)?;
        let before = cluster.check_terms()?;
        let leader = cluster.check_one_leader()?;
        let [c, v] = <[usize; 2]>::try_from(cluster.others(leader)).expect("three servers");

        // `c` sleeps through the next election, its term frozen at `before`.
        cluster.crash(c);
        // The leader restarts: it and `v` elect `w` with the other's vote.
        cluster.reboot(leader)?;
        let w = cluster.check_one_leader()?;
        let x = if w == leader { v } else { leader };
        let Some((term, true)) = cluster.state(w)? else { continue };
        if term == before + 1 {
            // `w` leads `term` alone, cut off; `x` voted for it in `term`.
            asked_again += 1;
            cluster.disconnect(w);
            cluster.restart(x)?;
            cluster.restart(c)?;
            cluster.connect(x);
            cluster.connect(c);
            // `c`'s first candidacy is for `term`: `x` must refuse it.
            cluster.check_one_leader()?;
        }
        if !cluster.is_alive(c) {
            cluster.restart(c)?;
        }
        for i in cluster.all() {
            cluster.connect(i);
        }
    }
    println!("  {asked_again} of {VOTE_ROUNDS} rounds asked a restarted voter again in the term it voted in");
    cluster.one(&cmd(0), servers, true)?;
    cluster.end()
}

/// How long the tester waits for a leader to lead, or for an entry it can
/// see committed, in [`stale_reply`].
const STORY_DEADLINE: Duration = Duration::from_secs(5);
/// How long a follower the leader could not reach may take to catch up once
/// the leader reaches it again: a correct Raft may resend a lost
/// AppendEntries only when the network reports it lost, which in the Raft
/// tests is up to [`LONG_LOSS_DELAY_MS`] after the call.
const CATCH_UP_DEADLINE: Duration = Duration::from_millis(LONG_LOSS_DELAY_MS).saturating_add(STORY_DEADLINE);

/// A leader acts only on answers to what it sent in its current term: an
/// answer to an AppendEntries of an earlier term says what the follower held
/// then, against the leader's log of then (Figure 2; the Students' Guide's
/// "term confusion"). Kills `append-reply-old-term`. With five servers,
/// leader `l`, follower `a` and the others:
/// 1. only `a` hears `l`, and `a`'s answers are held in the network; `l`
///    sends `a` entries E1–E4 of its term at k+1..k+4, which `a` stores;
/// 2. `l` and `a` are cut off; the other three elect `m`, which commits F at
///    k+1;
/// 3. `l` hears `m` (F replaces E1–E4 in its log) and receives F2 at k+2,
///    which no one else does, while `x1` and `x2` and `m` cannot reach each
///    other (so that their campaigns do not depose `m` before `l` has
///    caught up, however long its Raft takes to resend what was lost);
///    `m` crashes; with the longest log, only `l` can win, and it does, in
///    a later term;
/// 4. `x1` is cut off; `l` takes G1 and G2 at k+3 and k+4, and only `x2`
///    receives them: they are on two servers of five, not committed;
/// 5. `a`'s held answers arrive: "E1–E4 stored". A leader that counts them
///    for its current log believes G2 (its own term's) is on three servers
///    and commits it, and F2 and G1 with it;
/// 6. `l` and `x2` crash; `a`, `x1` and `m` elect a leader, which commits a
///    command after F2. If `l` had committed G1 and G2, a committed entry
///    changed, which the apply check reports.
pub fn stale_reply(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    let k = cluster.one(&cmd(100), servers, true)?;
    let l = cluster.check_one_leader()?;
    let others = cluster.others(l);
    let (a, rest) = (others[0], others[1..].to_vec());

    // 1. `l` and `a` can reach no one else, and no one else them; `l`'s
    // calls to `a` pass and `a`'s answers wait. E1–E4 reach `a`.
    cluster.partition_oneway(&[l, a], &rest);
    cluster.partition_oneway(&rest, &[l, a]);
    cluster.partition_oneway(&[a], &[l]);
    cluster.hold_replies(&[l], &[a]);
    for j in 1..=4 {
        match cluster.start(l, &cmd(110 + j))? {
            Some((index, _)) if index == k + j => {}
            Some((index, _)) => fail!("node {l} took entry E{j} at index {index}; expected {}", k + j),
            None => fail!("node {l} stopped leading with no fault that could depose it"),
        }
    }
    sleep(REPLICATE);

    // 2. `a` is cut off from `l` too; the other three commit F at k + 1.
    cluster.partition_oneway(&[l], &[a]);
    let m = leader_among(&cluster, &rest)?;
    let Some((f, _)) = cluster.start(m, &cmd(120))? else {
        fail!("node {m} stopped leading among nodes {rest:?} with no fault that could depose it")
    };
    if f != k + 1 {
        fail!("node {m} took F at index {f}, though it never saw E1; expected {}", k + 1);
    }
    if !wait_until(STORY_DEADLINE, || Ok(cluster.has_applied(m, f)))? {
        fail!("F did not commit within {STORY_DEADLINE:?} on node {m}, leading nodes {rest:?}");
    }
    let [x1, x2] = <[usize; 2]>::try_from(rest.iter().copied().filter(|&x| x != m).collect::<Vec<_>>())
        .expect("five servers");

    // 3. `l` learns F, and F2 that only it receives, from `m`; `m`
    // crashes. With the longest log now, only `l` can win.
    cluster.partition_oneway(&[m], &[x1, x2]);
    cluster.partition_oneway(&[x1, x2], &[m]);
    cluster.repair_oneway(&[m], &[l]);
    let Some((f2, _)) = cluster.start(m, &cmd(121))? else {
        fail!("node {m} stopped leading with no fault that could depose it")
    };
    if !wait_until(CATCH_UP_DEADLINE, || Ok(cluster.has_applied(l, f)))? {
        fail!("node {l} did not learn F from node {m}, the leader, within {CATCH_UP_DEADLINE:?}");
    }
    sleep(REPLICATE);
    cluster.crash(m);
    cluster.repair_oneway(&[l], &[x1, x2]);
    cluster.repair_oneway(&[x1, x2], &[l]);
    if !wait_until(STORY_DEADLINE, || Ok(matches!(cluster.state(l)?, Some((_, true)))))? {
        fail!("node {l}, the only server holding index {f2}, did not win within {STORY_DEADLINE:?}");
    }

    // 4. G1 and G2, at k+3 and k+4, reach `x2` only; `x1` is cut off (so
    // that its campaigns disturb no one).
    cluster.mute(&[x1]);
    for j in 1..=2 {
        match cluster.start(l, &cmd(130 + j))? {
            Some((index, _)) if index == f2 + j => {}
            Some((index, _)) => fail!("node {l} took G{j} at index {index}; expected {}", f2 + j),
            None => fail!("node {l} stopped leading with no fault that could depose it"),
        }
    }
    sleep(REPLICATE);

    // 5. The old answers arrive. (Only a leader that counts them commits
    // G3; give it the time to apply it, so that the check below sees it.)
    if !matches!(cluster.state(l)?, Some((_, true))) {
        fail!("node {l} stopped leading while only node {x2}, which it reaches, could hear it");
    }
    cluster.release_replies(&[l], &[a]);
    wait_until(REPLICATE * 2, || Ok(cluster.has_applied(l, f2 + 2)))?;

    // 6. Without `l` and `x2`, the others go on from F.
    cluster.crash(l);
    cluster.crash(x2);
    cluster.lift_one_way_faults();
    cluster.reboot(m)?;
    cluster.one(&cmd(140), 3, true)?;
    cluster.reboot(l)?;
    cluster.reboot(x2)?;
    cluster.one(&cmd(150), servers, true)?;
    cluster.end()
}

/// Waits up to [`STORY_DEADLINE`] for one of `nodes` to lead, and returns it.
fn leader_among(cluster: &Cluster, nodes: &[usize]) -> TestResult<usize> {
    let mut leader = None;
    let found = wait_until(STORY_DEADLINE, || {
        for &x in nodes {
            if let Some((_, true)) = cluster.state(x)? {
                leader = Some(x);
            }
        }
        Ok(leader.is_some())
    })?;
    match leader {
        Some(x) if found => Ok(x),
        _ => fail!("none of nodes {nodes:?} led within {STORY_DEADLINE:?}"),
    }
}

/// How long each save takes on the peer given a slow disk in
/// [`crash_mid_save`] (and in lab 3's, `lab3_extra::crash_mid_save`): far
/// longer than the wait before the crash.
pub(crate) const SLOW_SAVE: Duration = Duration::from_secs(4);
/// How long [`crash_mid_save`] watches for the entry to commit before the
/// crash: ample for a commit by a majority that holds it on disk, well
/// inside [`SLOW_SAVE`]. Lab 3's story waits as long for its Put.
pub(crate) const SAVE_WINDOW: Duration = Duration::from_secs(1);

/// An entry commits only once a majority holds it on disk, the leader's own
/// copy included: a committed entry survives any crash that leaves a
/// majority. The random crash tests almost never crash a peer inside its
/// save, so each round gives one peer a slow disk (each save waits four
/// seconds before it writes) and crashes it there. Kills a leader that
/// counts its own, not yet saved, entries toward commit
/// (`persist-after-reply-leader-own`) and a follower that acknowledges
/// entries before saving them (`persist-after-reply`). Two rounds, with
/// three peers: the slow peer `s` is the leader `l` in the first and its
/// follower `f` in the second, and `o` is the third peer:
/// 1. `o` is cut off, and `s`'s disk is made slow;
/// 2. `l` takes a command at index k: `l` and `f` hold it, but `s` cannot
///    save it for four seconds, so a correct `l` cannot commit it;
/// 3. a second later `s` crashes, before its save could finish, and
///    restarts; the one of `l` and `f` that is not `s` is cut off, and `s`
///    and `o` form the new majority and commit a command: if k was applied
///    in step 2, this one must not take its place (the apply check reports
///    two commands at one index);
/// 4. the network heals, and all three agree on a last command.
pub fn crash_mid_save(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(0), servers, true)?;
    for (round, slow_leader) in [(1, true), (2, false)] {
        let l = cluster.check_one_leader()?;
        let [f, o] = <[usize; 2]>::try_from(cluster.others(l)).expect("three servers");
        let (s, survivor) = if slow_leader { (l, f) } else { (f, l) };
        let who = if slow_leader { "the leader" } else { "its follower" };

        // 1 and 2. The entry reaches `l` and `f`; `s` cannot save it in time.
        cluster.disconnect(o);
        cluster.slow_disk(s, SLOW_SAVE)?;
        let Some((index, _)) = cluster.start(l, &cmd(round * 100))? else {
            fail!("node {l} stopped leading with one follower still connected");
        };
        let committed = wait_until(SAVE_WINDOW, || Ok(cluster.n_committed(index)?.0 > 0))?;

        // 3. `s` crashes inside its save; `s` and `o` are the majority now.
        cluster.crash(s);
        cluster.disconnect(survivor);
        cluster.reboot(s)?;
        cluster.connect(o);
        let story = || {
            format!(
                "index {index} was applied while only nodes {l} and {f} were connected and node {s} ({who}) could not \
                 save anything for {SLOW_SAVE:?}; node {s} was crashed inside that save, node {survivor} cut off, and \
                 the new majority of nodes {s} and {o} does not hold the entry: it was committed before a majority held \
                 it on disk. A leader counts its own copy of an entry toward commit only once it is saved, and a \
                 follower answers AppendEntries only after saving what it accepted"
            )
        };
        let next = cluster.one(&cmd(round * 100 + 1), 2, true);
        let next = if committed { next.map_err(|e| e.with_context(&story()))? } else { next? };
        if committed && next <= index {
            fail!("{}", story());
        }

        // 4. Healed: all three agree.
        cluster.connect(survivor);
        cluster.one(&cmd(round * 100 + 2), servers, true)?;
    }
    cluster.end()
}
