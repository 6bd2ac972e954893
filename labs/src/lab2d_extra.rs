//! 2D, scripted: an InstallSnapshot story that the random 6.824 tests reach
//! only by luck, written as a fixed sequence of one-way faults and a crash
//! (found by the self-check: without it the mutant `install-drops-suffix`
//! survives the 2D group).

use crate::case::TestCase;
use crate::story::{Step, await_step};
use harness::{Cluster, Options, SessionVerbs, TestResult, cmd, fail};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Rounds of the story that must play; each takes about three seconds.
const ROUNDS: u64 = 3;
/// Rounds tried at most, counting those where the leader lost its lead.
const MAX_ROUNDS: u64 = 6;
/// How long `b`'s answers to the leader are held: longer than a heartbeat
/// interval (at most 10 a second, so at least 100 ms; 150 ms is common),
/// so that `a` hears of the later entries before the snapshot index commits.
const B_REPLY_DELAY: Duration = Duration::from_millis(400);
/// How long `a`'s answers to the leader are held: long enough that the
/// leader, not having heard from `a`, sends it the new snapshot after the
/// snapshot index commits.
const A_REPLY_DELAY: Duration = Duration::from_millis(1000);
/// How long the tester waits to see the leader's first send to `b` after
/// the snapshot entry went in (a leader sends new entries within a
/// heartbeat interval).
const FIRST_SEND_DEADLINE: Duration = Duration::from_millis(300);
/// How often the tester looks at the leader's progress, to act at once.
const POLL: Duration = Duration::from_micros(200);
/// Polls of the leader's applies between asks whether it still leads.
const LEADS_EVERY: u32 = 100;
/// The longest an entry may take to commit with a live follower.
const COMMIT_DEADLINE: Duration = Duration::from_secs(10);

/// A follower keeps the log after a snapshot it is sent, when its log
/// agrees with the snapshot's last entry (Figure 13, step 6). Each round,
/// with three servers and the tester snapshotting at every index `s` with
/// `s + 1` a multiple of 10:
/// 1. the leader takes `s`; follower `b` receives it and answers, but its
///    answer is held 400 ms, and `b` is muted at once (it hears nothing
///    more, but that answer still arrives); the leader's calls to follower
///    `a` are lost meanwhile, and `a`'s answers are held 1 s;
/// 2. the leader takes `s + 1` and `s + 2`; `a` is reachable again and
///    receives `s` to `s + 2` together, with a commit index below `s`;
/// 3. `b`'s answer commits `s`; the leader snapshots there and, not having
///    heard from `a`, sends `a` that snapshot: `a`'s log agrees at `s` and
///    goes on to `s + 2`, which it has acknowledged;
/// 4. `a`'s answers arrive and the leader commits `s + 1` and `s + 2` with
///    them, applies them, and crashes at once;
/// 5. `a` and `b` elect a leader. A follower that discarded `s + 1` and
///    `s + 2` when it installed the snapshot lets `b` win, or wins with a log
///    ending at `s`, and a new command commits at `s + 1`: a committed entry
///    changed, which the apply check reports.
///
/// Rounds run until three have played (the snapshot reached `a` while it
/// held the later entries), six at most; a round where the leader loses its
/// lead on the way, or `a` hears of the commit before the snapshot, does
/// not count. The test prints how many played; the reference plays every
/// round.
pub fn keeps_suffix(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options { snapshot: true, ..Options::default() })?;
    cluster.begin(t.title);
    let (mut played, mut rounds) = (0, 0);
    while played < ROUNDS && rounds < MAX_ROUNDS {
        rounds += 1;
        let base = rounds * 1000;
        // Fill the log up to just before a snapshot index.
        let mut filler = 0;
        loop {
            filler += 1;
            let index = cluster.one(&cmd(base + filler), servers, true)?;
            if (index + 2) % 10 == 0 {
                break;
            }
        }
        let leader = cluster.check_one_leader()?;
        let [a, b] = <[usize; 2]>::try_from(cluster.others(leader)).expect("three servers");
        let installs_on_a = cluster.snapshots_installed(a);

        let story = play(&cluster, base, leader, a, b);
        cluster.lift_one_way_faults();

        if let Some(s) = story? {
            // The story played if `a` installed the snapshot (not if `a`
            // heard of the commit of `s` first, or `b` missed `s`).
            if cluster.snapshots_installed(a) > installs_on_a {
                played += 1;
            }
            // 5. The survivors must keep `s + 1` and `s + 2`.
            cluster.one(&cmd(base + 200), servers - 1, true)?;
            for index in [s + 1, s + 2] {
                let expected = cmd(base + 100 + index - s);
                let (n, command) = cluster.n_committed(index)?;
                if command.as_deref() != Some(&expected[..]) || n < 2 {
                    fail!(
                        "index {index}, committed by node {leader} before its crash, holds {:?} on {n} nodes; expected {:?}",
                        command.map(|c| String::from_utf8_lossy(&c).into_owned()),
                        String::from_utf8_lossy(&expected)
                    );
                }
            }
            cluster.reboot(leader)?;
        }
        cluster.one(&cmd(base + 300), servers, true)?;
    }
    println!("  {played} of {rounds} rounds sent a snapshot to a follower holding entries past it");
    cluster.end()
}

/// Steps 1 to 4 of [`keeps_suffix`], faults set and left for the caller to
/// lift. `Some(s)`: the leader committed `s + 2` and was crashed. `None`:
/// it stopped leading on the way (a busy machine can delay a heartbeat into
/// an election), so this round tells nothing.
fn play(cluster: &Cluster, base: u64, leader: usize, a: usize, b: usize) -> TestResult<Option<u64>> {
    // 1. `s` goes to `b` alone; `b`'s answer will commit it. (Were `a` sent
    // `s` by itself, its answer would make the leader send `s + 1` and
    // `s + 2` again right after the snapshot.)
    cluster.delay_replies(&[leader], &[a], A_REPLY_DELAY);
    cluster.delay_replies(&[leader], &[b], B_REPLY_DELAY);
    cluster.partition_oneway(&[leader], &[a]);
    let sends_to_b = cluster.rpc_count(b);
    let Some((s, _)) = cluster.start(leader, &cmd(base + 100))? else { return Ok(None) };
    let t0 = Instant::now();
    while cluster.rpc_count(b) == sends_to_b && t0.elapsed() < FIRST_SEND_DEADLINE {
        sleep(POLL);
    }
    cluster.mute(&[b]);

    // 2. Two more entries; `a` hears of all three together.
    for k in 1..=2 {
        match cluster.start(leader, &cmd(base + 100 + k))? {
            Some((index, _)) if index == s + k => {}
            Some((index, _)) => {
                fail!(
                    "node {leader} took the entry it was given after index {s} at index {index}; expected {}",
                    s + k
                )
            }
            None => return Ok(None),
        }
    }
    cluster.repair_oneway(&[leader], &[a]);

    // 3 and 4. The leader commits `s` with `b`, then `s + 2` with `a`.
    let t0 = Instant::now();
    let mut polls = 0u32;
    while !cluster.has_applied(leader, s + 2) {
        polls += 1;
        if polls.is_multiple_of(LEADS_EVERY) && !matches!(cluster.state(leader)?, Some((_, true))) {
            return Ok(None);
        }
        if t0.elapsed() > COMMIT_DEADLINE {
            fail!(
                "index {} did not commit within {COMMIT_DEADLINE:?} on node {leader}, its leader, with node {a} connected (its answers held {A_REPLY_DELAY:?})",
                s + 2
            );
        }
        sleep(POLL);
    }
    cluster.crash(leader);
    Ok(Some(s))
}

/// The method whose requests [`old_snapshot`] holds back and replays.
const INSTALL_SNAPSHOT: &str = "Raft.InstallSnapshot";
/// The method whose requests [`boundary_term`] holds while the leader takes its entries.
const APPEND_ENTRIES: &str = "Raft.AppendEntries";
/// How long the tester waits for the leader to send a restarted follower
/// a snapshot.
const SNAPSHOT_SEND_DEADLINE: Duration = Duration::from_secs(3);

/// A follower ignores a snapshot older than what it has already committed
/// (Figure 13, step 6, and the Students' Guide: an InstallSnapshot may
/// arrive late): installing it would move its commit index and the
/// service's state back. Kills `install-old-snapshot`. With three servers
/// and the tester snapshotting every 10 entries:
/// 1. follower `a` crashes; the leader commits 12 entries with `b` and
///    snapshots past `a`'s log;
/// 2. `a` restarts while the leader's InstallSnapshot requests to it are
///    held back in the network (lost, as far as the leader knows); once one
///    is held, they pass again and `a` installs the leader's snapshot at s;
/// 3. 22 more entries commit on all three, so `a` applies well past s;
/// 4. the held, now old, InstallSnapshot reaches `a` — same leader, same
///    term. `a` must ignore it. A follower that installs it hands its
///    service a snapshot older than what it applied, which the tester
///    reports at once.
pub fn old_snapshot(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options { snapshot: true, ..Options::default() })?;
    cluster.begin(t.title);
    let mut played = 0;
    for round in 1..=MAX_ROUNDS {
        let base = round * 1000;
        cluster.one(&cmd(base), servers, true)?;
        let leader = cluster.check_one_leader()?;
        let a = cluster.others(leader)[0];
        let story = play_old_snapshot(&cluster, base, leader, a);
        cluster.lift_one_way_faults();
        if !cluster.is_alive(a) {
            cluster.restart(a)?;
        }
        cluster.connect(a);
        if story? {
            played += 1;
        }
        cluster.one(&cmd(base + 500), servers, true)?;
        cluster.check_invariants()?;
        if played > 0 {
            break;
        }
    }
    if played == 0 {
        fail!(
            "in {MAX_ROUNDS} rounds the leader never kept its lead while a restarted follower caught up; leaders changed without faults"
        )
    }
    cluster.end()
}

/// Waits until an InstallSnapshot from `leader` to `a` is held: `false`
/// if `leader` stopped leading `term` meanwhile, a failure if it leads and
/// sent none within [`SNAPSHOT_SEND_DEADLINE`] (`a` is described by `why`).
fn held_snapshot(cluster: &Cluster, leader: usize, a: usize, term: u64, why: &str) -> TestResult<bool> {
    let held = || cluster.held_calls(leader, a, INSTALL_SNAPSHOT) > 0;
    match await_step(cluster, leader, term, SNAPSHOT_SEND_DEADLINE, held)? {
        Step::Done => Ok(true),
        Step::LeaderChanged => Ok(false),
        Step::TimedOut => fail!(
            "node {leader}, the leader, sent no InstallSnapshot within {SNAPSHOT_SEND_DEADLINE:?} to node {a}, {why}"
        ),
    }
}

/// Steps 1 to 4 of [`old_snapshot`]; `false` when a leader change spoiled
/// the story.
fn play_old_snapshot(cluster: &Cluster, base: u64, leader: usize, a: usize) -> TestResult<bool> {
    let servers = cluster.n();
    // 1. `a` misses enough for a snapshot.
    cluster.crash(a);
    for k in 1..=12 {
        cluster.one(&cmd(base + k), servers - 1, true)?;
    }
    let Some((term, true)) = cluster.state(leader)? else { return Ok(false) };

    // 2. `a` is back; one InstallSnapshot is held, then they pass.
    cluster.hold_calls(&[leader], &[a], INSTALL_SNAPSHOT);
    cluster.reboot(a)?;
    if !held_snapshot(cluster, leader, a, term, "restarted behind its snapshot")? {
        return Ok(false);
    }
    cluster.stop_holding_calls(&[leader], &[a], INSTALL_SNAPSHOT);

    // 3. `a` catches up past the snapshot it was sent.
    let mut last = 0;
    for k in 13..=34 {
        last = cluster.one(&cmd(base + k), servers, true)?;
    }
    cluster.wait(last, servers, None)?;

    // 4. The old InstallSnapshot arrives, in the same term.
    if !matches!(cluster.state(leader)?, Some((t, true)) if t == term)
        || !matches!(cluster.state(a)?, Some((t, false)) if t == term)
    {
        return Ok(false);
    }
    let delivered = cluster.replay_held(leader, a, INSTALL_SNAPSHOT);
    // Give the follower's service time to receive what Raft hands it.
    sleep(Duration::from_millis(100));
    cluster.check_invariants()?;
    Ok(delivered > 0)
}

/// Rounds of [`boundary_term`] tried at most (a round spoiled by a leader
/// change before the story starts is tried again).
const TERM_ROUNDS: u64 = 4;
/// How long the leader is given to make the calls a Start asks for, and
/// the followers to answer those already delivered: milliseconds, with
/// room to spare, and short enough that no election timer fires.
const CALLS_SETTLED: Duration = Duration::from_millis(30);
/// How long the followers are given to receive the leader's last entries,
/// whose answers are held (ten heartbeat intervals and more).
const RECEIVE_TIME: Duration = Duration::from_millis(1000);

/// A snapshot's last included term is the term of the entry at its index,
/// not the term the peer is in when it takes it (Figure 13:
/// lastIncludedTerm). The 6.824 tests snapshot entries of the current term
/// almost always, so a peer that labels its snapshot with its current term
/// (or its last entry's) lives through them. With three servers and the
/// tester snapshotting at every index `s` with `s + 1` a multiple of 10:
/// 1. the leader appends the entries up to `s`, in its term `t`, while its
///    AppendEntries are lost, so that it sends them together; both followers
///    receive them, but their answers are held: nothing past the last
///    committed index commits;
/// 2. the leader crashes; a follower wins a later term `T` and commits the
///    entries up to `s` with one of its own term: both survivors apply `s`
///    while in term `T`, and snapshot it;
/// 3. the old leader restarts behind the new leader's snapshot and is sent
///    it; then a survivor restarts from its own saved snapshot.
///
/// Each snapshot Raft hands a service (installed or restored) must carry
/// term `t`, the term of entry `s` as every server applied it: the tester
/// checks every `ApplyMsg::Snapshot` against the applied entries' terms.
pub fn boundary_term(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options { snapshot: true, ..Options::default() })?;
    cluster.begin(t.title);
    let mut played = false;
    for round in 1..=TERM_ROUNDS {
        let last = cluster.one(&cmd(round * 1000), servers, true)?;
        let leader = cluster.check_one_leader()?;
        let story = play_boundary_term(&cluster, round * 1000, leader, last);
        let followers = cluster.others(leader);
        cluster.stop_holding_calls(&[leader], &followers, APPEND_ENTRIES);
        cluster.release_replies(&[leader], &followers);
        cluster.forget_held(&[leader], &followers);
        if !cluster.is_alive(leader) {
            cluster.restart(leader)?;
        }
        for i in 0..servers {
            cluster.connect(i);
        }
        played = story?;
        cluster.one(&cmd(round * 1000 + 900), servers, true)?;
        cluster.check_invariants()?;
        if played {
            break;
        }
    }
    if !played {
        fail!(
            "in {TERM_ROUNDS} rounds the leader never kept its lead long enough to append the entries up to a snapshot index"
        )
    }
    cluster.end()
}

/// Steps 1 to 3 of [`boundary_term`]; `false` when a leader change spoiled
/// step 1.
fn play_boundary_term(cluster: &Cluster, base: u64, leader: usize, last: u64) -> TestResult<bool> {
    let servers = cluster.n();
    let followers = cluster.others(leader);
    // 1. Entries up to the next snapshot index s, uncommitted.
    let s = (last + 1).div_ceil(10) * 10 - 1;
    let s = if s <= last { s + 10 } else { s };
    // The leader's AppendEntries are lost at once while it takes the
    // entries (held and then forgotten), so they go out together once let
    // through: a leader that keeps one AppendEntries in flight per follower
    // sends them all in that one, whose answer is held. Answers to calls
    // delivered before are back by then, so no call stays in flight.
    cluster.hold_calls(&[leader], &followers, APPEND_ENTRIES);
    sleep(CALLS_SETTLED);
    let mut term = None;
    for (k, index) in (last + 1..=s).enumerate() {
        match cluster.start(leader, &cmd(base + 1 + k as u64))? {
            Some((i, t)) if i == index && term.is_none_or(|x| x == t) => term = Some(t),
            _ => return Ok(false),
        }
    }
    sleep(CALLS_SETTLED);
    cluster.hold_replies(&[leader], &followers);
    cluster.forget_held(&[leader], &followers);
    cluster.stop_holding_calls(&[leader], &followers, APPEND_ENTRIES);
    sleep(RECEIVE_TIME);
    let Some(term) = term else { return Ok(false) };
    if !matches!(cluster.state(leader)?, Some((t, true)) if t == term) {
        return Ok(false);
    }
    // 2. A survivor leads a later term and commits through s.
    cluster.crash(leader);
    cluster.one(&cmd(base + 100), servers - 1, true)?;
    cluster.wait(s, servers - 1, None)?;
    let new_leader = cluster.check_one_leader()?;
    match cluster.state(new_leader)? {
        Some((t, true)) if t > term => {}
        other => {
            fail!("node {new_leader} leads after node {leader} crashed in term {term}, yet answers {other:?}")
        }
    }
    // 3. The old leader is sent the snapshot; a survivor restores its own.
    cluster.reboot(leader)?;
    cluster.one(&cmd(base + 200), servers, true)?;
    let survivor = followers.iter().copied().find(|&f| f != new_leader).expect("three servers");
    cluster.crash(survivor);
    cluster.reboot(survivor)?;
    cluster.one(&cmd(base + 300), servers, true)?;
    Ok(true)
}

/// Rounds of [`behind_commit`] tried at most (a round spoiled by a leader
/// change is tried again).
const BEHIND_ROUNDS: u64 = 4;

/// A follower ignores an InstallSnapshot that is not newer than its commit
/// index, even one newer than its own snapshot (Figure 13, step 6: the
/// follower's log already holds that prefix, committed). A follower that
/// compares the offered index with its own snapshot index instead survives
/// [`old_snapshot`], where it has snapshotted past the old request by the
/// time it arrives. Kills `install-old-snapshot-own-index` and
/// `install-old-snapshot`. With three servers, the tester snapshotting at
/// every index `s` with `s + 1` a multiple of 10 on all but follower `a`,
/// which never snapshots:
/// 1. `a` restarts as a peer that never snapshots; entries commit on all
///    three up to `s - 1`;
/// 2. `a`'s answers to the leader are held, and so are the leader's
///    InstallSnapshot requests to `a`; the leader appends `s` and `s + 1`,
///    sends them to both followers and commits them with `b`, snapshots at
///    `s` and, not having heard from `a`, sends `a` an InstallSnapshot for
///    `s`, which is held;
/// 3. `a`'s answers arrive at once: the leader learns that `a` holds the
///    entries and commits them on it by AppendEntries; `a` applies past `s`,
///    its own snapshot still older than `s`;
/// 4. the held InstallSnapshot reaches `a` — same leader, same term. A
///    follower that installs it hands its service a snapshot older than
///    what it applied, which the tester reports at once.
///
/// Step 2 keeps `a` without an AppendEntries for two heartbeat intervals at
/// most, below the shortest election timeout; a round where a leader
/// change spoils the story is played again.
pub fn behind_commit(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options { snapshot: true, ..Options::default() })?;
    cluster.begin(t.title);
    let mut played = false;
    for round in 1..=BEHIND_ROUNDS {
        let base = round * 1000;
        cluster.one(&cmd(base), servers, true)?;
        let leader = cluster.check_one_leader()?;
        let a = cluster.others(leader)[0];
        let story = play_behind_commit(&cluster, base, leader, a);
        cluster.lift_one_way_faults();
        if !cluster.is_alive(a) {
            cluster.restart(a)?;
        }
        cluster.connect(a);
        played = story?;
        cluster.one(&cmd(base + 500), servers, true)?;
        cluster.check_invariants()?;
        if played {
            break;
        }
    }
    if !played {
        fail!(
            "in {BEHIND_ROUNDS} rounds the leader never kept its lead while a follower's answers were held; leaders changed without faults"
        )
    }
    cluster.end()
}

/// Steps 1 to 4 of [`behind_commit`]; `false` when a leader change spoiled
/// the story.
fn play_behind_commit(cluster: &Cluster, base: u64, leader: usize, a: usize) -> TestResult<bool> {
    let servers = cluster.n();
    // 1. `a` never snapshots from now on; all three hold entries to s - 1.
    cluster.set_snapshot_every(a, 0);
    cluster.reboot(a)?;
    let mut last = cluster.one(&cmd(base + 1), servers, true)?;
    let s = (last + 1).div_ceil(10) * 10 - 1;
    let s = if s <= last { s + 10 } else { s };
    let mut k = 2;
    while last + 1 < s {
        last = cluster.one(&cmd(base + k), servers, true)?;
        k += 1;
    }
    let Some((term, true)) = cluster.state(leader)? else { return Ok(false) };

    // 2. `s` and `s + 1` commit with `b`, the leader snapshots at `s`, and
    // its InstallSnapshot to `a`, which has not answered, is held.
    cluster.hold_calls(&[leader], &[a], INSTALL_SNAPSHOT);
    cluster.hold_replies(&[leader], &[a]);
    for index in [s, s + 1] {
        if cluster.start(leader, &cmd(base + index))? != Some((index, term)) {
            return Ok(false);
        }
    }
    if !held_snapshot(
        cluster,
        leader,
        a,
        term,
        &format!("which had not answered since before the leader's snapshot at {s}"),
    )? {
        return Ok(false);
    }

    // 3. `a`'s answers arrive; the entries commit on it by AppendEntries
    // (an InstallSnapshot sent meanwhile is held too).
    cluster.release_replies(&[leader], &[a]);
    last = cluster.one(&cmd(base + 900), servers, true)?;
    cluster.wait(last, servers, None)?;

    // 4. The held InstallSnapshot arrives, in the same term.
    if !matches!(cluster.state(leader)?, Some((t, true)) if t == term)
        || !matches!(cluster.state(a)?, Some((t, false)) if t == term)
    {
        return Ok(false);
    }
    let delivered = cluster.replay_held(leader, a, INSTALL_SNAPSHOT);
    // Give the follower's service time to receive what Raft hands it.
    sleep(Duration::from_millis(100));
    cluster.check_invariants()?;
    Ok(delivered > 0)
}

/// Rounds of [`append_into_snapshot`] tried at most (a round spoiled by a
/// leader change is tried again).
const INTO_ROUNDS: u64 = 4;
/// How long the tester waits for the leader's first AppendEntries to `a`
/// after it took its last entry (a leader sends within a heartbeat
/// interval).
const HELD_SEND_DEADLINE: Duration = Duration::from_millis(300);
/// How long the leader is given to answer the calls delivered before the
/// story starts (so that it knows what `a` holds): milliseconds.
const ANSWERS_SETTLED: Duration = Duration::from_millis(10);

/// A follower that receives an AppendEntries starting inside its snapshot
/// skips exactly the entries the snapshot covers, through its last
/// included index, and places the rest after it (Figure 13: the snapshot
/// replaces the log's prefix). A request like that is an old one: sent
/// before the follower installed the leader's snapshot, delivered after.
/// Kills `snapshot-off-by-one-append-skip` (one entry too few skipped, so
/// the entry at the snapshot index is stored again after it and the rest
/// shift by one), which the random tests cannot reach: a stale copy of an
/// older request carries only entries the follower holds, of the same
/// terms, so merging them shifted changes nothing. With three servers and
/// the tester snapshotting at every index `s` with `s + 1` a multiple of 10:
/// 1. entries commit on all three below `s - 1`; then the leader's
///    AppendEntries to `a` are held (lost, as far as the leader knows) and
///    `b`'s answers are held, and the leader takes every entry up to
///    `s + 3`: each AppendEntries it sends `a` starts below `s`, and the
///    first it sends after that carries them all;
/// 2. `b`'s answers arrive: the entries commit with `b`, the leader
///    snapshots at `s` and, `a` being behind it, sends `a` that snapshot,
///    which `a` installs (its log ends at `s` now; it went without an
///    AppendEntries for two heartbeat intervals at most, below the
///    shortest election timeout);
/// 3. the held AppendEntries reach `a`, oldest first: each starts inside
///    its snapshot and reaches past its log's end;
/// 4. a new command commits on all three. A follower that stored the
///    entries one index late applies at `s + 1` the command of `s`, which
///    the apply check reports.
pub fn append_into_snapshot(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options { snapshot: true, ..Options::default() })?;
    cluster.begin(t.title);
    let mut played = false;
    for round in 1..=INTO_ROUNDS {
        let base = round * 1000;
        cluster.one(&cmd(base), servers, true)?;
        let leader = cluster.check_one_leader()?;
        let others = cluster.others(leader);
        let story = play_append_into_snapshot(&cluster, base, leader, others[0], others[1]);
        cluster.stop_holding_calls(&[leader], &others, APPEND_ENTRIES);
        cluster.release_replies(&[leader], &others);
        cluster.forget_held(&[leader], &others);
        played = story?;
        let last = cluster.one(&cmd(base + 900), servers, true)?;
        cluster.wait(last, servers, None)?;
        cluster.check_invariants()?;
        if played {
            break;
        }
    }
    if !played {
        fail!(
            "in {INTO_ROUNDS} rounds the leader never kept its lead while it took the entries up to a snapshot index; leaders changed without faults"
        )
    }
    cluster.end()
}

/// Steps 1 to 3 of [`append_into_snapshot`]; `false` when a leader change
/// spoiled the story.
fn play_append_into_snapshot(
    cluster: &Cluster,
    base: u64,
    leader: usize,
    a: usize,
    b: usize,
) -> TestResult<bool> {
    let servers = cluster.n();
    // 1. Committed on all three: every entry below `s - 1`.
    let mut last = cluster.one(&cmd(base + 1), servers, true)?;
    let s = (last + 3).div_ceil(10) * 10 - 1;
    let mut k = 2;
    while last + 2 < s {
        last = cluster.one(&cmd(base + k), servers, true)?;
        k += 1;
    }
    cluster.wait(last, servers, None)?;
    let Some((term, true)) = cluster.state(leader)? else { return Ok(false) };
    let installed = cluster.snapshots_installed(a);
    cluster.hold_calls(&[leader], &[a], APPEND_ENTRIES);
    cluster.hold_replies(&[leader], &[b]);
    sleep(ANSWERS_SETTLED);
    for index in last + 1..=s + 3 {
        if cluster.start(leader, &cmd(base + index))? != Some((index, term)) {
            return Ok(false);
        }
    }
    // Any AppendEntries the leader sends `a` from now on carries them all.
    let held = cluster.held_calls(leader, a, APPEND_ENTRIES);
    let sent = || cluster.held_calls(leader, a, APPEND_ENTRIES) > held;
    match await_step(cluster, leader, term, HELD_SEND_DEADLINE, sent)? {
        Step::Done => {}
        Step::LeaderChanged => return Ok(false),
        Step::TimedOut => fail!(
            "node {leader}, the leader, sent node {a} no AppendEntries within {HELD_SEND_DEADLINE:?} of taking entry {}, though {a} had not acknowledged it",
            s + 3
        ),
    }

    // 2. The entries commit with `b`; `a` is sent the leader's snapshot.
    cluster.release_replies(&[leader], &[b]);
    let snapshot_in = || cluster.snapshots_installed(a) > installed;
    match await_step(cluster, leader, term, SNAPSHOT_SEND_DEADLINE, snapshot_in)? {
        Step::Done => {}
        Step::LeaderChanged => return Ok(false),
        Step::TimedOut => fail!(
            "node {a} installed no snapshot within {SNAPSHOT_SEND_DEADLINE:?} of the leader's snapshot at {s}, though its log ended at {last} and the leader's AppendEntries to it were lost"
        ),
    }

    // 3. The old AppendEntries arrive, in the same term.
    if !matches!(cluster.state(leader)?, Some((t, true)) if t == term)
        || !matches!(cluster.state(a)?, Some((t, false)) if t == term)
    {
        return Ok(false);
    }
    let delivered = cluster.replay_held(leader, a, APPEND_ENTRIES);
    Ok(delivered > 0)
}
