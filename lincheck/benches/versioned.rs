//! The versioned KV model against the lab's KV model on histories of the
//! same shape: the same clients, the same call and return times, the same
//! linearization points, one key or many; only the operations differ. Each
//! client repeats what the course's generic tests do: the 2025+ versioned
//! test's `Get` then `Put(value, version read)` (a stale version answers
//! `ErrVersion`; on an unreliable network a resent put answers `ErrMaybe`,
//! recorded pending), and 2023's `Get` then `Append`. Every history is
//! linearizable by construction (each operation takes effect at a point
//! inside its interval, on one sequential store), so both checkers must say
//! `ok`; one read made wrong must then be `illegal`.
//!
//! Run with `cargo bench -p lincheck --bench versioned`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use lincheck::{
    KvInput, KvModel, KvOp, KvOutput, Model, Operation, Verdict, VersionedInput, VersionedKvModel,
    VersionedOp, VersionedOutput, check_operations,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Most repeats of each check; the median is reported.
const REPEATS: usize = 15;
/// Repeats stop once this much time went into one check.
const BUDGET: Duration = Duration::from_secs(2);

/// One operation of the shared schedule: who, when, where it takes effect,
/// and whether it is the get or the write of its client's pair.
struct Slot {
    client: usize,
    key: usize,
    call: u64,
    point: u64,
    ret: u64,
    write: bool,
    /// A write whose answer was lost (a put answered `ErrMaybe`, an append
    /// whose clerk gave up): pending in both histories.
    lost: bool,
}

/// `clients` clients, each doing `pairs` get-then-write pairs on `keys` keys,
/// with overlapping random intervals.
fn schedule(rng: &mut ChaCha8Rng, clients: usize, pairs: usize, keys: usize, lossy: bool) -> Vec<Slot> {
    let mut slots = Vec::new();
    for client in 0..clients {
        let mut now = rng.random_range(0..50);
        for _ in 0..pairs {
            let key = rng.random_range(0..keys);
            for write in [false, true] {
                let call = now;
                let len = rng.random_range(5..60);
                let point = call + rng.random_range(0..=len);
                let ret = call + len;
                let lost = write && lossy && rng.random_bool(0.05);
                slots.push(Slot { client, key, call, point, ret, write, lost });
                now = ret + rng.random_range(1..10);
            }
        }
    }
    slots
}

/// The versioned history of a schedule: each get reads the key at its
/// point; each put uses the version its client's get read just before.
fn versioned(slots: &[Slot]) -> Vec<Operation<VersionedInput, VersionedOutput>> {
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_key(|&i| (slots[i].point, i));
    let mut store: BTreeMap<usize, (String, u64)> = BTreeMap::new();
    let mut read_version: BTreeMap<usize, u64> = BTreeMap::new();
    let mut ops: Vec<Option<Operation<VersionedInput, VersionedOutput>>> =
        (0..slots.len()).map(|_| None).collect();
    for i in order {
        let s = &slots[i];
        let key = format!("k{}", s.key);
        let (value, version) = store.get(&s.key).cloned().unwrap_or_default();
        let (op, output) = if s.write {
            let expect = read_version.get(&s.client).copied().unwrap_or(0);
            let new = format!("c{} {}", s.client, s.call);
            let out = if expect == version {
                store.insert(s.key, (new.clone(), version + 1));
                VersionedOutput::Ok
            } else if version == 0 {
                VersionedOutput::ErrNoKey
            } else {
                VersionedOutput::ErrVersion
            };
            (VersionedOp::Put { value: new, version: expect }, out)
        } else {
            read_version.insert(s.client, version);
            let out = if version == 0 {
                VersionedOutput::ErrNoKey
            } else {
                VersionedOutput::Value { value: value.clone(), version }
            };
            (VersionedOp::Get, out)
        };
        let (output, ret) = if s.lost { (None, None) } else { (Some(output), Some(s.ret)) };
        ops[i] = Some(Operation {
            client: s.client,
            input: VersionedInput { key, op },
            call: s.call,
            output,
            ret,
        });
    }
    ops.into_iter().map(|o| o.expect("every slot")).collect()
}

/// The lab's KV history of the same schedule: gets read, writes append.
fn appends(slots: &[Slot]) -> Vec<Operation<KvInput, KvOutput>> {
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_key(|&i| (slots[i].point, i));
    let mut store: BTreeMap<usize, String> = BTreeMap::new();
    let mut ops: Vec<Option<Operation<KvInput, KvOutput>>> = (0..slots.len()).map(|_| None).collect();
    for i in order {
        let s = &slots[i];
        let key = format!("k{}", s.key);
        let value = store.entry(s.key).or_default();
        let (input, out) = if s.write {
            let arg = format!("x {} {} y", s.client, s.call);
            value.push_str(&arg);
            (KvInput { op: KvOp::Append, key, value: arg }, KvOutput { value: String::new() })
        } else {
            (KvInput { op: KvOp::Get, key, value: String::new() }, KvOutput { value: value.clone() })
        };
        let (output, ret) = if s.lost { (None, None) } else { (Some(out), Some(s.ret)) };
        ops[i] = Some(Operation { client: s.client, input, call: s.call, output, ret });
    }
    ops.into_iter().map(|o| o.expect("every slot")).collect()
}

/// The median time of checking `history`, and its verdict.
fn time<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> (Duration, Verdict) {
    let mut times = Vec::with_capacity(REPEATS);
    let mut verdict = Verdict::Unknown;
    let began = Instant::now();
    while times.len() < REPEATS && (times.is_empty() || began.elapsed() < BUDGET) {
        let start = Instant::now();
        verdict = check_operations(model, history, Some(Duration::from_secs(60))).verdict();
        times.push(start.elapsed());
    }
    times.sort();
    (times[times.len() / 2], verdict)
}

/// The last completed get that read a key someone wrote, made to read a value
/// no one wrote.
fn break_versioned(h: &mut [Operation<VersionedInput, VersionedOutput>]) {
    let last = h.iter_mut().rev().find(|o| matches!(o.output, Some(VersionedOutput::Value { .. })));
    if let Some(Operation { output: Some(VersionedOutput::Value { value, .. }), .. }) = last {
        *value = "never written".into();
    }
}

fn break_appends(h: &mut [Operation<KvInput, KvOutput>]) {
    let last = h
        .iter_mut()
        .rev()
        .find(|o| o.input.op == KvOp::Get && o.output.as_ref().is_some_and(|v| !v.value.is_empty()));
    if let Some(Operation { output: Some(out), .. }) = last {
        out.value = "never written".into();
    }
}

fn main() {
    let shapes: &[(&str, usize, usize, usize, bool)] = &[
        ("one key, 5 clients, reliable", 5, 40, 1, false),
        ("one key, 5 clients, lossy", 5, 40, 1, true),
        ("one key, 10 clients, lossy", 10, 40, 1, true),
        ("100 keys, 15 clients, lossy", 15, 100, 100, true),
        ("10 keys, 15 clients, lossy, long", 15, 400, 10, true),
    ];
    println!(
        "{:<36} {:>6} {:>14} {:>14} {:>14} {:>14}",
        "shape", "ops", "versioned ok", "append ok", "versioned bad", "append bad"
    );
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
    for (n, &(name, clients, pairs, keys, lossy)) in shapes.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(6_5840 + n as u64);
        let slots = schedule(&mut rng, clients, pairs, keys, lossy);
        let mut v = versioned(&slots);
        let mut a = appends(&slots);
        let (v_ok, v_verdict) = time(&VersionedKvModel, &v);
        let (a_ok, a_verdict) = time(&KvModel, &a);
        assert_eq!(
            (v_verdict, a_verdict),
            (Verdict::Ok, Verdict::Ok),
            "{name}: a history built linearizable"
        );
        break_versioned(&mut v);
        break_appends(&mut a);
        let (v_bad, v_verdict) = time(&VersionedKvModel, &v);
        let (a_bad, a_verdict) = time(&KvModel, &a);
        assert_eq!((v_verdict, a_verdict), (Verdict::Illegal, Verdict::Illegal), "{name}: a read made wrong");
        println!(
            "{name:<36} {:>6} {:>14} {:>14} {:>14} {:>14}",
            slots.len(),
            ms(v_ok),
            ms(a_ok),
            ms(v_bad),
            ms(a_bad)
        );
    }
}
