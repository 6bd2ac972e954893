//! 3A and 3B, scripted: stories the random 6.824 tests reach only by luck,
//! written as fixed sequences of faults (found by the self-check: without
//! them the mutants named in each test's comment survive some or all runs
//! of their group).

use crate::case::TestCase;
use crate::lab2c_extra::{SAVE_WINDOW, SLOW_SAVE};
use harness::kv::OP_LIMIT;
use harness::kv::Op;
use harness::{ELECTION_TIMEOUT, KvCluster, KvOptions, SessionVerbs, TestResult, fail};
use std::thread::sleep;
use std::time::Duration;

/// Rounds of the story; each takes about two seconds.
const ROUNDS: usize = 3;
/// Raft state size at which servers snapshot.
const MAX_RAFT_STATE: usize = 1000;
/// Time for the first clerk's request to reach the leader's log before the
/// second clerk's requests go in after it.
const REACH_LOG: Duration = Duration::from_millis(300);
/// Puts by the second clerk after the append: each log entry is over 70
/// bytes, so 30 of them take every server's snapshot well past the append.
const PUTS_AFTER: usize = 30;

/// A retried request that a snapshot already covers is not applied again,
/// even after every server restarts from its snapshot: the table of each
/// clerk's last request must travel in the snapshot. Each round, with three
/// servers snapshotting at 1000 bytes of Raft state:
/// 1. clerk `ck1`'s answers are dropped, and it appends to "k": the append
///    is applied, but `ck1` never hears so and keeps retrying;
/// 2. clerk `ck2` puts 30 other keys, which take every server's snapshot
///    past the append;
/// 3. `ck1`'s calls are blocked, every server crashes and restarts from its
///    snapshot, and `ck1` is let through again;
/// 4. `ck1`'s retry must find its append done: "k" holds each round's
///    append once. A server whose snapshot lacks the table applies it again.
pub fn snapshot_retry(t: &TestCase) -> TestResult {
    let kv =
        KvCluster::new(t.id, 3, KvOptions { maxraftstate: Some(MAX_RAFT_STATE), ..KvOptions::default() })?;
    let ck1 = kv.make_client(&kv.all())?;
    let ck2 = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    kv.put(ck2, "k", "")?;
    let mut expected = String::new();
    for round in 1..=ROUNDS {
        // 1. The append is applied; `ck1` hears nothing and retries.
        kv.drop_client_replies(ck1);
        let value = format!("[{round}]");
        let append = kv.start_op(ck1, Op::Append, "k", &value);
        expected.push_str(&value);
        sleep(REACH_LOG);

        // 2. Later requests take the snapshots past it.
        for i in 0..PUTS_AFTER {
            kv.put(ck2, &format!("r{round}-{i}"), &"x".repeat(50))?;
        }

        // 3. Every server restarts from its snapshot, out of `ck1`'s reach.
        kv.block_client_calls(ck1);
        kv.shutdown_all();
        kv.restart_all()?;
        kv.deliver_client_replies(ck1);
        kv.unblock_client_calls(ck1);

        // 4. The retry completes without applying the append again.
        if append.wait(OP_LIMIT)?.is_none() {
            fail!("clerk 0's Append({value:?}) did not complete within {OP_LIMIT:?} after the restart");
        }
        kv.check(ck2, "k", &expected)?;
    }
    kv.end()
}

/// Servers of the scripted 3A stories.
const SERVERS: usize = 3;
/// How long a request waits at a cut-off leader before the partition heals.
const CUT_OFF: Duration = Duration::from_secs(1);
/// How long after the heal a handler that started before it may still run:
/// a server learns of the new term within a heartbeat or two, and a
/// handler's own timeout is at most a couple of seconds.
const HANDLER_GRACE: Duration = Duration::from_secs(5);

/// A server that paused while it led must not answer a read from its old
/// state when it resumes: it cannot know it still leads until a majority
/// says so (§8: a leader must check before it answers a read-only
/// request). Kills `kv-local-get` on every run. With three servers:
/// 1. the leader `l` is cut off from the other servers and paused (SIGSTOP)
///    for two election timeouts; the others elect a leader and "k" is set
///    to "2" through them;
/// 2. `l` resumes, still cut off and believing it leads, and a clerk that
///    reaches only `l` asks for "k": it must not answer while `l` is cut off;
/// 3. the partition heals and the clerk may reach every server: its Get
///    completes, and the history must be linearizable (it returns "2").
pub fn paused_leader(t: &TestCase) -> TestResult {
    let kv = KvCluster::new(t.id, SERVERS, KvOptions::default())?;
    let ck = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    kv.put(ck, "k", "1")?;
    let Some(old) = kv.leader()? else { fail!("no server leads after a Put completed") };
    let others: Vec<usize> = kv.all().into_iter().filter(|&i| i != old).collect();

    // 1. A new leader while `old` sleeps, cut off.
    kv.partition(&[old], &others);
    kv.pause(old);
    sleep(2 * ELECTION_TIMEOUT);
    let ck2 = kv.make_client(&others)?;
    kv.put(ck2, "k", "2")?;

    // 2. `old` wakes up and is asked first.
    let ck3 = kv.make_client(&[old])?;
    kv.resume(old);
    let get = kv.start_op(ck3, Op::Get, "k", "");
    if let Some(value) = get.wait(CUT_OFF)? {
        fail!(
            "node {old}, paused while it led and cut off from the others, answered Get(\"k\") with {value:?} when it resumed: a server must not answer from its own state before a majority confirms it leads"
        );
    }

    // 3. Healed: the Get completes and must see "2".
    kv.connect_all();
    kv.connect_client(ck3, &kv.all());
    if get.wait(OP_LIMIT)?.is_none() {
        fail!("clerk 2's Get(\"k\") did not complete within {OP_LIMIT:?} after the partition healed");
    }
    kv.end()
}

/// An RPC handler whose operation can no longer commit must give up and
/// answer, so that the clerk tries another server: waiting only for its
/// index to be applied waits forever when nothing is ever applied there.
/// Kills `kv-wait-forever`. With three servers:
/// 1. the leader `l` is cut off from the other servers, and a clerk that
///    reaches only `l` puts "k": `l` takes it into its log, past anything
///    the others will hold;
/// 2. after a second the partition heals; `l` hears of the new term and
///    steps down, its entry never commits, and nothing is applied at its
///    index for as long as no one writes;
/// 3. five seconds later no handler on `l` that started before the heal
///    may still be running (handlers in flight are reported by the node);
/// 4. the clerk may reach every server, and its Put completes.
pub fn abandoned_request(t: &TestCase) -> TestResult {
    let kv = KvCluster::new(t.id, SERVERS, KvOptions::default())?;
    let ck = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    kv.put(ck, "a", "x")?;
    let Some(old) = kv.leader()? else { fail!("no server leads after a Put completed") };
    let others: Vec<usize> = kv.all().into_iter().filter(|&i| i != old).collect();

    // 1. The put reaches only the cut-off leader.
    kv.partition(&[old], &others);
    let ck1 = kv.make_client(&[old])?;
    let put = kv.start_op(ck1, Op::Put, "k", "v");
    sleep(CUT_OFF);

    // 2 and 3. Healed; every handler that began before must have answered.
    kv.connect_all();
    let healed = std::time::Instant::now();
    sleep(HANDLER_GRACE);
    let since_heal = healed.elapsed();
    let stuck: Vec<String> = kv
        .handlers_in_flight(old)?
        .into_iter()
        .filter(|(method, age)| method.starts_with("KVServer.") && *age > since_heal)
        .map(|(method, age)| format!("{method} (running {:.1} s)", age.as_secs_f64()))
        .collect();
    if !stuck.is_empty() {
        fail!(
            "node {old} still runs {} that started while it led a minority, {:.1} s after the partition healed: {}. A handler must give up when its server loses the lead or its entry cannot commit",
            if stuck.len() == 1 { "a handler" } else { "handlers" },
            since_heal.as_secs_f64(),
            stuck.join(", ")
        );
    }

    // 4. The clerk completes its put through the others.
    kv.connect_client(ck1, &kv.all());
    if put.wait(OP_LIMIT)?.is_none() {
        fail!("clerk 1's Put(\"k\") did not complete within {OP_LIMIT:?} once it could reach every server");
    }
    kv.end()
}

/// Rounds of [`overwritten_request`].
const OVERWRITE_ROUNDS: u64 = 4;
/// Operations the majority commits while the old leader is cut off: more
/// than the cut-off leader can take from its one clerk in that time.
const MAJORITY_OPS: usize = 6;

/// A handler answers success only for its own operation: when another one
/// is applied at the index it proposed at (a new leader's entry replaced
/// it), the request failed and the clerk must try again. Kills
/// `kv-any-op-at-index`. Each round, with three servers:
/// 1. the leader `l` is cut off from the others; a clerk that reaches only
///    `l` puts "k" = this round's value, which `l` takes into its log;
/// 2. another clerk does six puts of other keys through the majority, whose
///    log now holds other operations at every index `l` proposed at;
/// 3. the partition heals and the first clerk may reach every server; `l`
///    learns the new term and applies the majority's operations at its
///    indices. Its put must complete only once it is really applied, so a
///    Get of "k" sees this round's value. A handler that took the other
///    operation at its index for its own reports a put that never happened,
///    and the history is not linearizable. Until the put completes, `l`'s
///    own calls to the others are lost: it learns of the new term only from
///    the AppendEntries that also replaces its entry, not from the answers
///    to its heartbeats first, so a handler that also watches for a lost
///    lead (`kv-any-op-at-index-leader-check`) has no time to give up
///    before the other operation is applied at its index.
pub fn overwritten_request(t: &TestCase) -> TestResult {
    let kv = KvCluster::new(t.id, SERVERS, KvOptions::default())?;
    let ck = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    kv.put(ck, "k", "0")?;
    for round in 1..=OVERWRITE_ROUNDS {
        let Some(old) = kv.leader()? else { fail!("no server leads after a Put completed") };
        let others: Vec<usize> = kv.all().into_iter().filter(|&i| i != old).collect();

        // 1. The put reaches only the cut-off leader.
        kv.partition(&[old], &others);
        let ck1 = kv.make_client(&[old])?;
        let value = round.to_string();
        let put = kv.start_op(ck1, Op::Put, "k", &value);
        sleep(CUT_OFF / 2);

        // 2. The majority goes on.
        let ck2 = kv.make_client(&others)?;
        for j in 0..MAJORITY_OPS {
            kv.put(ck2, &format!("r{round}-{j}"), "x")?;
        }

        // 3. Healed, but `old` cannot call the others: it learns of the new
        // term only from the new leader's AppendEntries, the one that
        // replaces its entry and commits the other operation there, so its
        // handler has no time to see the lead lost first.
        kv.partition_oneway(&[old], &others);
        kv.connect_all();
        kv.connect_client(ck1, &kv.all());
        let completed = put.wait(OP_LIMIT);
        kv.repair_oneway(&[old], &others);
        if completed?.is_none() {
            fail!(
                "the cut-off clerk's Put(\"k\") did not complete within {OP_LIMIT:?} after the partition healed"
            );
        }
        kv.check(ck, "k", &value)?;
    }
    kv.end()
}

/// An entry is committed only once a majority holds it on disk: a request
/// that completed survives any crash that leaves a majority running. The
/// random crash tests almost never crash a server inside its save, so each
/// round gives one server a slow disk (each save waits four seconds before
/// it writes) and crashes it there. Kills a leader that counts its own,
/// not yet saved, entries toward commit (`persist-after-reply-leader-own`)
/// and a follower that acknowledges entries before saving them
/// (`persist-after-reply`). Two rounds, with three servers: the slow server
/// `s` is the leader `l` in the first and a follower in the second, and
/// `o` is the third server:
/// 1. `o` is cut off from both, and `s`'s disk is made slow;
/// 2. a clerk that reaches only `l` puts "k" = this round's value: `l` and
///    its one connected peer hold the entry, but `s` cannot save it for
///    four seconds, so a correct server lets the Put wait;
/// 3. a second later `s` crashes, before its save could finish, and
///    restarts; the one of `l` and the connected follower that is not `s`
///    is cut off, and `s` and `o` form the new majority;
/// 4. a clerk of `s` and `o` reads "k": if the Put completed in step 2,
///    the read must see it (otherwise the entry was acknowledged while only
///    one server held it on disk, and the crash lost it);
/// 5. the network heals; the Put completes and "k" holds its value.
pub fn crash_mid_save(t: &TestCase) -> TestResult {
    let kv = KvCluster::new(t.id, SERVERS, KvOptions::default())?;
    let ck = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    kv.put(ck, "k", "0")?;
    for (round, slow_leader) in [(1, true), (2, false)] {
        let Some(l) = kv.leader()? else { fail!("no server leads after a Put completed") };
        let followers: Vec<usize> = kv.all().into_iter().filter(|&i| i != l).collect();
        let (f, o) = (followers[0], followers[1]);
        let (s, survivor) = if slow_leader { (l, f) } else { (f, l) };
        let who = if slow_leader { "the leader" } else { "a follower" };

        // 1 and 2. The entry reaches `l` and `f`; `s` cannot save it in time.
        kv.disconnect(o, &kv.all());
        kv.slow_disk(s, SLOW_SAVE)?;
        let ck1 = kv.make_client(&[l])?;
        let value = round.to_string();
        let put = kv.start_op(ck1, Op::Put, "k", &value);
        let completed = put.wait(SAVE_WINDOW)?.is_some();

        // 3. `s` crashes inside its save; `s` and `o` are the majority now.
        kv.shutdown_server(s);
        kv.disconnect(survivor, &kv.all());
        kv.start_server(s)?;
        kv.connect(s, &[o]);

        // 4. The new majority must know of a Put that completed.
        let ck2 = kv.make_client(&[s, o])?;
        let seen = kv.get(ck2, "k")?;
        if completed && seen != value {
            fail!(
                "Put(\"k\", {value:?}) completed while only nodes {l} and {f} were connected and node {s} ({who}) could not save anything for {SLOW_SAVE:?}; node {s} was crashed {SAVE_WINDOW:?} later, node {survivor} cut off, and the new majority of nodes {s} and {o} read \"k\" = {seen:?}: the Put was acknowledged before a majority held it on disk. A leader counts its own copy of an entry toward commit only once it is saved, and a follower answers AppendEntries only after saving what it accepted"
            );
        }

        // 5. Healed: the Put completes, and "k" holds it.
        kv.connect_all();
        kv.connect_client(ck1, &kv.all());
        if !completed && put.wait(OP_LIMIT)?.is_none() {
            fail!(
                "clerk 1's Put(\"k\", {value:?}) did not complete within {OP_LIMIT:?} after the network healed"
            );
        }
        kv.check(ck, "k", &value)?;
    }
    kv.end()
}
