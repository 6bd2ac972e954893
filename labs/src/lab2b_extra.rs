//! 2B beyond 6.824: the fast-backup bound, and log replication stories the
//! random 6.824 tests reach only by luck, written as fixed sequences of
//! faults (found by the self-check: without them the mutants named in each
//! test's comment survive).

use crate::case::TestCase;
use crate::story::{Step, await_step};
use harness::{Cluster, ELECTION_TIMEOUT, Options, SessionVerbs, TestResult, cmd, fail, wait_until};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The method whose requests the stories hold back and replay.
const APPEND_ENTRIES: &str = "Raft.AppendEntries";
/// Rounds of a story that must play.
const ROUNDS: u64 = 2;
/// Rounds tried at most, counting those a leader change spoiled.
const MAX_ROUNDS: u64 = 5;
/// The longest the tester holds a follower's AppendEntries: well below any
/// election timeout, so that the follower does not campaign meanwhile.
const HOLD_LIMIT: Duration = Duration::from_millis(120);
/// The longest an entry may take to commit with a live majority.
const COMMIT_DEADLINE: Duration = Duration::from_secs(5);

/// A follower must not cut its log on a stale AppendEntries: it deletes
/// entries only from the first one that conflicts with the leader's (Figure
/// 2, AppendEntries step 3), never everything after `prev_log_index`. Kills
/// `stale-append-truncates` (the Students' Guide's first warning). Each
/// round, with three servers, leader `l` and followers `a` and `b`:
/// 1. `l`'s AppendEntries to `a` are held back in the network (lost, as far
///    as `l` knows) while `l` takes X at index k and commits it with `b`:
///    the held requests end at k − 1 or carry X;
/// 2. `b` is cut off; `l` takes Y and Z at k + 1 and k + 2, sends them to
///    `a` (X with them), and commits them with `a`'s acknowledgement;
/// 3. `l`'s calls to `a` are blocked, so it cannot repair `a`, and the held,
///    stale requests are delivered to `a` now, in order;
/// 4. `l` crashes and `b` comes back. `a` holds Y and Z, which a majority
///    (`l` and `a`) acknowledged, so only `a` can win and both stay
///    committed. A follower that cut its log at the stale request's
///    `prev_log_index` has lost them, and a new command commits at k + 1:
///    a committed entry changed, which the apply check reports.
///
/// A round where a leader change spoils the story (a busy machine can delay
/// a heartbeat into an election) does not count; two must play.
pub fn stale_append(t: &TestCase) -> TestResult {
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    let (mut played, mut rounds) = (0, 0);
    while played < ROUNDS && rounds < MAX_ROUNDS {
        rounds += 1;
        let base = rounds * 1000;
        cluster.one(&cmd(base), servers, true)?;
        let leader = cluster.check_one_leader()?;
        let [a, b] = <[usize; 2]>::try_from(cluster.others(leader)).expect("three servers");
        let story = play_stale_append(&cluster, base, leader, a, b);
        cluster.lift_one_way_faults();
        cluster.connect(b);
        if let Some(k) = story? {
            played += 1;
            // 4. The survivors keep Y and Z.
            cluster.one(&cmd(base + 200), servers - 1, true)?;
            for (index, expected) in [(k + 1, cmd(base + 101)), (k + 2, cmd(base + 102))] {
                let (n, command) = cluster.n_committed(index)?;
                if command.as_deref() != Some(&expected[..]) || n < 2 {
                    fail!(
                        "index {index}, committed by node {leader} with node {a} before its crash, holds {:?} on {n} nodes; expected {:?}",
                        command.map(|c| String::from_utf8_lossy(&c).into_owned()),
                        String::from_utf8_lossy(&expected)
                    );
                }
            }
        }
        if !cluster.is_alive(leader) {
            cluster.reboot(leader)?;
        }
        cluster.one(&cmd(base + 300), servers, true)?;
    }
    println!("  {played} of {rounds} rounds delivered stale AppendEntries to a follower");
    if played < ROUNDS {
        fail!(
            "only {played} of {rounds} rounds kept one leader long enough to play; leaders changed without faults"
        )
    }
    cluster.end()
}

/// Steps 1 to 3 of [`stale_append`] and the crash of step 4, faults left
/// for the caller to lift. `Some(k)`: the story played, X is at `k`.
/// `None`: the leader changed on the way.
fn play_stale_append(
    cluster: &Cluster,
    base: u64,
    leader: usize,
    a: usize,
    b: usize,
) -> TestResult<Option<u64>> {
    // 1. X commits with `b` while `a`'s AppendEntries are held.
    cluster.hold_calls(&[leader], &[a], APPEND_ENTRIES);
    let Some((k, term)) = cluster.start(leader, &cmd(base + 100))? else { return Ok(None) };
    if !wait_until(HOLD_LIMIT, || {
        Ok(cluster.has_applied(leader, k) && cluster.held_calls(leader, a, APPEND_ENTRIES) > 0)
    })? {
        return Ok(None);
    }
    cluster.stop_holding_calls(&[leader], &[a], APPEND_ENTRIES);

    // 2. Y and Z commit with `a`.
    cluster.disconnect(b);
    for j in 1..=2 {
        match cluster.start(leader, &cmd(base + 100 + j))? {
            Some((index, _)) if index == k + j => {}
            Some((index, _)) => {
                fail!(
                    "node {leader} took the entry it was given after index {k} at index {index}; expected {}",
                    k + j
                )
            }
            None => return Ok(None),
        }
    }
    match await_step(cluster, leader, term, COMMIT_DEADLINE, || cluster.has_applied(leader, k + 2))? {
        Step::Done => {}
        Step::LeaderChanged => return Ok(None),
        Step::TimedOut => fail!(
            "index {} did not commit within {COMMIT_DEADLINE:?} on node {leader}, its leader, with node {a} connected",
            k + 2
        ),
    }

    // 3. The stale requests reach `a`, which `l` can no longer repair.
    cluster.partition_oneway(&[leader], &[a]);
    let delivered = cluster.replay_held(leader, a, APPEND_ENTRIES);
    let same_term = matches!(cluster.state(a)?, Some((t, _)) if t == term);
    cluster.crash(leader);
    Ok((delivered > 0 && same_term).then_some(k))
}

/// A leader paused past the election timeout resumes believing it leads;
/// the others must refuse what it sends in its old term, and nothing it
/// takes may commit. Kills `append-stale-term` (a follower that accepts
/// AppendEntries of an older term). With five servers:
/// 1. the leader `l` is paused (SIGSTOP) for two election timeouts, and hears
///    nothing from the others meanwhile; they elect a new leader `m`, which
///    commits a command at index k;
/// 2. `l` resumes, still believing it leads, and is given a command P; what
///    it sends is held back in the network until P is in its log, then
///    delivered to every other server: each must refuse it (older term);
/// 3. `m` crashes, and the others elect a leader and commit a command. P
///    must never commit: a follower that accepted `l`'s AppendEntries has
///    replaced the committed entry at k with P, and with `m` gone P commits
///    there, which the apply check reports.
pub fn paused_leader(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(101), servers, true)?;
    let old = cluster.check_one_leader()?;
    let others = cluster.others(old);

    // 1. A new leader while `old` sleeps and hears nothing.
    cluster.partition_oneway(&others, &[old]);
    cluster.pause(old);
    sleep(2 * ELECTION_TIMEOUT);
    let new = cluster.check_one_leader()?;
    if new == old {
        fail!("node {old} was paused, yet the tester found it leading");
    }
    let k = cluster.one(&cmd(102), servers - 1, true)?;

    // 2. `old` wakes up and takes P; what it sends arrives late.
    cluster.hold_calls(&[old], &others, APPEND_ENTRIES);
    cluster.resume(old);
    let stale = cluster.start(old, &cmd(666))?;
    sleep(HOLD_LIMIT);
    for &j in &others {
        cluster.replay_held(old, j, APPEND_ENTRIES);
    }
    cluster.lift_one_way_faults();

    // 3. Without `new`, the others go on; P never commits.
    cluster.crash(new);
    let last = cluster.one(&cmd(103), servers - 1, true)?;
    for index in k..=last {
        let (_, command) = cluster.n_committed(index)?;
        if command.as_deref() == Some(&cmd(666)[..]) {
            let took = stale
                .map(|(i, t)| format!(" (it took it at index {i} in its old term {t})"))
                .unwrap_or_default();
            fail!(
                "the command given to node {old} when it resumed, paused while it led, committed at index {index}{took}: the others must refuse a replaced leader's AppendEntries"
            );
        }
    }
    cluster.reboot(new)?;
    cluster.one(&cmd(104), servers, true)?;
    cluster.end()
}

/// Beyond 6.824: the leader repairs a long conflicting follower log in a few
/// AppendEntries, not one per entry.
///
/// Each round, a victim holds 50 uncommitted entries of one stale term after
/// the common prefix; the leader's log holds 40 committed entries of two
/// later terms there. With XTerm/XIndex/XLen the leader needs one rejection
/// per conflicting term, then one AppendEntries carrying the entries, then
/// the commit index arrives with the next. The two rounds reach the two ways
/// a leader jumps back:
/// 1. the stale term's leader first committed an entry on every server, so
///    the repairing leader holds that term and resumes after its own last
///    entry of it;
/// 2. the stale term is new (its leader took no entry before the victim
///    was cut off with it), so the repairing leader holds none of it and
///    jumps to XIndex, the first entry of the victim's run: this kills a
///    leader that backs up one entry there (`backup-one-by-one-no-xterm`)
///    and a follower that reports the conflicting index itself as XIndex
///    (`backup-one-by-one-xindex`), which round 1 cannot tell apart.
///
/// The bound, `MAX_REPAIR_APPENDS` = 15, leaves room for about ten
/// heartbeats while the victim catches up; a leader that backs up one entry
/// per rejection needs more than 40.
pub fn fast_backup(t: &TestCase) -> TestResult {
    let servers = 5;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cluster.random_cmd(), servers, true)?;
    repair_conflict(&cluster, StaleTerm::HeldByLeader)?;

    // A term with no entry yet: its leader takes over from a cut-off one.
    let old = cluster.check_one_leader()?;
    cluster.disconnect(old);
    let new = cluster.check_one_leader()?;
    cluster.connect(old);
    if new == old {
        fail!("node {old} was cut off, yet the tester found it leading");
    }
    repair_conflict(&cluster, StaleTerm::New)?;
    cluster.end()
}

/// Whether the repairing leader of [`repair_conflict`] holds entries of the
/// term the victim's conflicting run has.
#[derive(Clone, Copy, Debug)]
enum StaleTerm {
    /// The stale leader committed an entry of its term on every server.
    HeldByLeader,
    /// The stale leader's term has no entry outside the victim's run.
    New,
}

/// One round of [`fast_backup`]: the current leader and a victim alone take
/// 50 entries; the others commit 40 in two later terms; the victim returns
/// and must be repaired in at most `MAX_REPAIR_APPENDS` AppendEntries.
fn repair_conflict(cluster: &Cluster, stale_term: StaleTerm) -> TestResult {
    const STALE: usize = 50;
    const FRESH: usize = 20;
    const MAX_REPAIR_APPENDS: u64 = 15;
    let servers = cluster.all().len();

    // The leader and a victim alone: 50 entries of this term reach the
    // victim but never commit.
    let leader1 = cluster.check_one_leader()?;
    let others = cluster.others(leader1);
    let victim = others[0];
    let majority = others[1..].to_vec();
    for &i in &majority {
        cluster.disconnect(i);
    }
    for _ in 0..STALE {
        cluster.start(leader1, &cluster.random_cmd())?;
    }
    sleep(ELECTION_TIMEOUT / 2);
    cluster.disconnect(leader1);
    cluster.disconnect(victim);

    // The majority commits entries in a new term …
    for &i in &majority {
        cluster.connect(i);
    }
    for _ in 0..FRESH {
        cluster.one(&cluster.random_cmd(), 3, true)?;
    }
    // … and, after its leader is swapped for the old leader, in another.
    let leader2 = cluster.check_one_leader()?;
    cluster.disconnect(leader2);
    cluster.connect(leader1);
    for _ in 0..FRESH {
        cluster.one(&cluster.random_cmd(), 3, true)?;
    }
    let last = cluster.one(&cluster.random_cmd(), 3, true)?;

    // The victim returns; count the AppendEntries it receives until it has
    // applied the leader's last entry.
    let before = cluster.rpc_count_method(victim, "Raft.AppendEntries");
    let t0 = Instant::now();
    cluster.connect(victim);
    let caught_up = wait_until(Duration::from_secs(10), || {
        cluster.check_invariants()?;
        Ok(cluster.has_applied(victim, last))
    })?;
    if !caught_up {
        fail!("node {victim} did not catch up to index {last} within 10 s of reconnecting");
    }
    let appends = cluster.rpc_count_method(victim, "Raft.AppendEntries") - before;
    let (held, jump) = match stale_term {
        StaleTerm::HeldByLeader => ("holds", "resumes after its own last entry of that term"),
        StaleTerm::New => {
            ("holds no entry of", "jumps to XIndex, the first entry of the follower's run of that term")
        }
    };
    if appends > MAX_REPAIR_APPENDS {
        fail!(
            "the leader needed {appends} AppendEntries to repair node {victim}'s log ({STALE} conflicting entries \
             of one term, a term the leader {held}); fast backup (XTerm, XIndex, XLen) needs about 3 \
             (limit {MAX_REPAIR_APPENDS}): on a rejection the leader {jump}"
        );
    }
    println!(
        "  repaired a {STALE}-entry conflict ({stale_term:?}) with {appends} AppendEntries in {:?}",
        t0.elapsed()
    );
    for i in cluster.all() {
        cluster.connect(i);
    }
    cluster.one(&cluster.random_cmd(), servers, true)?;
    Ok(())
}
