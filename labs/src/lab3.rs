//! 3A and 3B: a linearizable key/value service on Raft.

use crate::case::TestCase;
use harness::kv::ELECTION_TIMEOUT;
use harness::kv::Op;
use harness::threads::{Stop, Threads, beside};
use harness::{Clerk, KvCluster, KvOptions, SessionVerbs, TestResult, fail};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// What a generic KV test does to the service.
#[derive(Clone, Copy, Default)]
pub struct Generic {
    pub clients: usize,
    pub servers: usize,
    pub unreliable: bool,
    pub crash: bool,
    pub partitions: bool,
    pub maxraftstate: Option<usize>,
    pub random_keys: bool,
    /// Deliver some requests again, late ([`harness::Session::set_stale`]).
    pub stale: bool,
}

impl Generic {
    /// One client, five servers, a reliable network, no crashes, no
    /// partitions, no snapshots, one key per client: what a catalogue entry
    /// changes from.
    pub const DEFAULT: Generic = Generic {
        clients: 1,
        servers: 5,
        unreliable: false,
        crash: false,
        partitions: false,
        maxraftstate: None,
        random_keys: false,
        stale: false,
    };
}

/// Fails unless `v` holds each of client `clnt`'s `count` appends exactly
/// once, in order.
fn check_clnt_appends(clnt: usize, v: &str, count: usize) -> TestResult {
    let mut last = None;
    for j in 0..count {
        let wanted = format!("x {clnt} {j} y");
        let Some(off) = v.find(&wanted) else {
            fail!("{clnt} missing element {wanted:?} in Append result {v:?}")
        };
        if v.rfind(&wanted) != Some(off) {
            fail!("duplicate element {wanted:?} in Append result");
        }
        if last.is_some_and(|l| off <= l) {
            fail!("wrong order for element {wanted:?} in Append result");
        }
        last = Some(off);
    }
    Ok(())
}

/// As [`check_clnt_appends`] for several clients' appends to one key.
fn check_concurrent_appends(v: &str, counts: &[usize]) -> TestResult {
    for (i, &n) in counts.iter().enumerate() {
        check_clnt_appends(i, v, n)?;
    }
    Ok(())
}

/// Re-splits the servers at random every 1–1.2 s until told to stop.
fn partitioner(kv: &KvCluster, stop: &Stop) {
    while !stop.is_set() {
        let (mut p1, mut p2) = (Vec::new(), Vec::new());
        for i in kv.all() {
            if kv.random_range(0..2) == 0 { p1.push(i) } else { p2.push(i) }
        }
        kv.partition(&p1, &p2);
        sleep(ELECTION_TIMEOUT + Duration::from_millis(kv.random_range(0..200)));
    }
}

/// One client's loop: appends of unique values and gets (random keys: also
/// puts), checking its own key's value when keys are not random.
fn client_loop(kv: &KvCluster, g: Generic, cli: usize, ck: Clerk, stop: &Stop) -> TestResult<usize> {
    let mut j = 0;
    let mut last = String::new();
    if !g.random_keys {
        kv.put(ck, &cli.to_string(), &last)?;
    }
    while !stop.is_set() {
        let key = if g.random_keys { kv.random_range(0..g.clients).to_string() } else { cli.to_string() };
        let nv = format!("x {cli} {j} y");
        if kv.chance(500) {
            kv.append(ck, &key, &nv)?;
            if !g.random_keys {
                last.push_str(&nv);
            }
            j += 1;
        } else if g.random_keys && kv.chance(100) {
            // Only with random keys: a put would break the get check below.
            kv.put(ck, &key, &nv)?;
            j += 1;
        } else {
            let v = kv.get(ck, &key)?;
            if !g.random_keys && v != last {
                fail!("get wrong value, key {key:?}, wanted:\n{last:?}\n, got\n{v:?}");
            }
        }
    }
    Ok(j)
}

/// 6.824's GenericTest: three rounds of clients working for 5 s, with
/// optional partitions, crashes of every server, and snapshots.
pub fn generic(t: &TestCase, g: Generic) -> TestResult {
    const ROUNDS: usize = 3;
    const ROUND_TIME: Duration = Duration::from_secs(5);
    let kv = KvCluster::new(
        t.id,
        g.servers,
        KvOptions { unreliable: g.unreliable, maxraftstate: g.maxraftstate },
    )?;
    kv.set_stale(g.stale);
    kv.begin(t.title);
    let ck = kv.make_client(&kv.all())?;
    let clerks: Vec<Clerk> = (0..g.clients).map(|_| kv.make_client(&kv.all())).collect::<TestResult<_>>()?;

    for _ in 0..ROUNDS {
        let (round, counts) = beside(|clients| -> TestResult {
            for (cli, &ck) in clerks.iter().enumerate() {
                let kv = &kv;
                clients.spawn(move |stop| client_loop(kv, g, cli, ck, stop));
            }
            if g.partitions {
                // Let the clients work a while without interruption.
                sleep(Duration::from_secs(1));
                beside(|partitioners: &Threads<'_, '_, ()>| {
                    partitioners.spawn(|stop| partitioner(&kv, stop));
                    sleep(ROUND_TIME);
                    clients.stop();
                });
                // Reconnect and let a new term start: a client may have sent a
                // request to a minority, which returns only once that server
                // learns of the new term.
                kv.connect_all();
                sleep(ELECTION_TIMEOUT);
            } else {
                sleep(ROUND_TIME);
                clients.stop();
            }
            if g.crash {
                kv.shutdown_all();
                sleep(ELECTION_TIMEOUT);
                kv.restart_all()?;
            }
            Ok(())
        });
        round?;
        let counts = counts.into_iter().collect::<TestResult<Vec<usize>>>()?;

        for (i, &j) in counts.iter().enumerate() {
            let v = kv.get(ck, &i.to_string())?;
            if !g.random_keys {
                check_clnt_appends(i, &v, j)?;
            }
        }
        if let Some(max) = g.maxraftstate {
            // After the servers processed every request and had time to snapshot.
            let size = kv.log_size()?;
            if size > 8 * max as u64 {
                fail!("logs were not trimmed ({size} > 8*{max})");
            }
        } else {
            let snap = kv.snapshot_size()?;
            if snap > 0 {
                fail!("snapshot too large ({snap}), should not be used when maxraftstate = -1");
            }
        }
    }
    kv.end()
}

/// 1000 sequential Appends, each within a third of a 100 ms heartbeat.
pub fn speed(t: &TestCase, maxraftstate: Option<usize>) -> TestResult {
    const OPS: usize = 1000;
    const TIME_PER_OP: Duration = Duration::from_nanos(100_000_000 / 3);
    let kv = KvCluster::new(t.id, 3, KvOptions { maxraftstate, ..KvOptions::default() })?;
    let ck = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    // Wait until the first op completes, so a leader is elected and the
    // servers are ready.
    kv.get(ck, "x")?;
    let t0 = Instant::now();
    for i in 0..OPS {
        kv.append(ck, "x", &format!("x 0 {i} y"))?;
    }
    let dur = t0.elapsed();
    let v = kv.get(ck, "x")?;
    check_clnt_appends(0, &v, OPS)?;
    let per_op = dur / OPS as u32;
    if per_op > TIME_PER_OP {
        fail!("Operations completed too slowly {per_op:?}/op > {TIME_PER_OP:?}/op");
    }
    println!(
        "  {:.2} ms per operation (limit {:.1} ms)",
        per_op.as_secs_f64() * 1e3,
        TIME_PER_OP.as_secs_f64() * 1e3
    );
    kv.end()
}

/// Five clients append ten values each to one key on an unreliable network.
pub fn unreliable_one_key(t: &TestCase) -> TestResult {
    const CLIENTS: usize = 5;
    const UPTO: usize = 10;
    let kv = KvCluster::new(t.id, 3, KvOptions { unreliable: true, ..KvOptions::default() })?;
    let ck = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    kv.put(ck, "k", "")?;
    let clerks: Vec<Clerk> = (0..CLIENTS).map(|_| kv.make_client(&kv.all())).collect::<TestResult<_>>()?;
    let ((), appended) = beside(|threads| {
        for (me, &c) in clerks.iter().enumerate() {
            let kv = &kv;
            threads.spawn(move |_| -> TestResult {
                for n in 0..UPTO {
                    kv.append(c, "k", &format!("x {me} {n} y"))?;
                }
                Ok(())
            });
        }
    });
    appended.into_iter().collect::<TestResult>()?;
    let v = kv.get(ck, "k")?;
    check_concurrent_appends(&v, &[UPTO; CLIENTS])?;
    kv.end()
}

/// A majority without the leader makes progress; the minority cannot; after
/// healing the minority's pending operations complete.
pub fn one_partition(t: &TestCase) -> TestResult {
    let kv = KvCluster::new(t.id, 5, KvOptions::default())?;
    let ck = kv.make_client(&kv.all())?;
    kv.put(ck, "1", "13")?;

    kv.begin(t.title);
    let (p1, p2) = kv.make_partition()?;
    kv.partition(&p1, &p2);
    let ckp1 = kv.make_client(&p1)?; // connect ckp1 to p1
    let ckp2a = kv.make_client(&p2)?; // connect ckp2a to p2
    let ckp2b = kv.make_client(&p2)?; // connect ckp2b to p2
    kv.put(ckp1, "1", "14")?;
    kv.check(ckp1, "1", "14")?;
    kv.end()?;

    kv.begin("Test: no progress in minority (3A)");
    let put = kv.start_op(ckp2a, Op::Put, "1", "15");
    let get = kv.start_op(ckp2b, Op::Get, "1", "");
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if put.wait(Duration::from_millis(10))?.is_some() {
            fail!("Put in minority completed");
        }
        if get.wait(Duration::from_millis(10))?.is_some() {
            fail!("Get in minority completed");
        }
    }
    kv.check(ckp1, "1", "14")?;
    kv.put(ckp1, "1", "16")?;
    kv.check(ckp1, "1", "16")?;
    kv.end()?;

    kv.begin("Test: completion after heal (3A)");
    kv.connect_all();
    kv.connect_client(ckp2a, &kv.all());
    kv.connect_client(ckp2b, &kv.all());
    sleep(ELECTION_TIMEOUT);
    if put.wait(Duration::from_secs(3))?.is_none() {
        fail!("Put did not complete");
    }
    if get.wait(Duration::from_secs(3))?.is_none() {
        fail!("Get did not complete");
    }
    kv.check(ck, "1", "15")?;
    kv.end()
}

/// A lagging server catches up through InstallSnapshot; logs stay trimmed.
pub fn snapshot_rpc(t: &TestCase) -> TestResult {
    const MAX: usize = 1000;
    let kv = KvCluster::new(t.id, 3, KvOptions { maxraftstate: Some(MAX), ..KvOptions::default() })?;
    let ck = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    kv.put(ck, "a", "A")?;
    kv.check(ck, "a", "A")?;

    // A bunch of puts into the majority partition.
    kv.partition(&[0, 1], &[2]);
    {
        let ck1 = kv.make_client(&[0, 1])?;
        for i in 0..50 {
            kv.put(ck1, &i.to_string(), &i.to_string())?;
        }
        sleep(ELECTION_TIMEOUT);
        kv.put(ck1, "b", "B")?;
    }

    // The majority must have thrown away most of its log.
    let size = kv.log_size()?;
    if size > 8 * MAX as u64 {
        fail!("logs were not trimmed ({size} > 8*{MAX})");
    }

    // A group that needs the lagging server, so it has to catch up.
    kv.partition(&[0, 2], &[1]);
    {
        let ck1 = kv.make_client(&[0, 2])?;
        kv.put(ck1, "c", "C")?;
        kv.put(ck1, "d", "D")?;
        kv.check(ck1, "a", "A")?;
        kv.check(ck1, "b", "B")?;
        kv.check(ck1, "1", "1")?;
        kv.check(ck1, "49", "49")?;
    }

    // Now everybody.
    kv.partition(&[0, 1, 2], &[]);
    kv.put(ck, "e", "E")?;
    kv.check(ck, "c", "C")?;
    kv.check(ck, "e", "E")?;
    kv.check(ck, "1", "1")?;
    kv.end()
}

/// Raft state and snapshots stay small under a steady overwrite.
pub fn snapshot_size(t: &TestCase) -> TestResult {
    const MAX: usize = 1000;
    const MAX_SNAPSHOT: u64 = 500;
    let kv = KvCluster::new(t.id, 3, KvOptions { maxraftstate: Some(MAX), ..KvOptions::default() })?;
    let ck = kv.make_client(&kv.all())?;
    kv.begin(t.title);
    for _ in 0..200 {
        kv.put(ck, "x", "0")?;
        kv.check(ck, "x", "0")?;
        kv.put(ck, "x", "1")?;
        kv.check(ck, "x", "1")?;
    }
    // The servers must have thrown away most of their logs …
    let size = kv.log_size()?;
    if size > 8 * MAX as u64 {
        fail!("logs were not trimmed ({size} > 8*{MAX})");
    }
    // … and their snapshots must not be unreasonably large.
    let snap = kv.snapshot_size()?;
    if snap > MAX_SNAPSHOT {
        fail!("snapshot too large ({snap} > {MAX_SNAPSHOT})");
    }
    kv.end()
}
