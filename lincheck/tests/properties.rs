//! Property tests: a history made from a random sequential execution,
//! stretched into overlapping real-time intervals around each operation's
//! moment, is always linearizable; changing one read to a value no
//! linearization allows makes it illegal.

mod common;

use std::time::Duration;

use lincheck::{
    KvInput, KvModel, KvOp, KvOutput, Model, Operation, RegisterInput, RegisterModel, RegisterOutput,
    Verdict, check_operations,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Histories per property.
const CASES: u64 = 150;
/// Operations per history.
const OPERATIONS: usize = 120;
/// Ticks between two consecutive moments of the sequential execution.
const GAP: u64 = 10;
/// How far a call may come before its moment and a return after it, in
/// ticks: up to about `2 * STRETCH / GAP` operations overlap.
const STRETCH: u64 = 35;
/// The chance that a write never answers (it stays pending, outcome unknown).
const PENDING: f64 = 0.1;
/// Generous for histories this small; reaching it fails the test.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Gives each operation an interval around its moment `GAP * (i + 1)` and a
/// client with no other open call; a pending operation keeps its client.
fn stretch<I, O>(rng: &mut ChaCha8Rng, steps: Vec<(I, Option<O>)>) -> Vec<Operation<I, O>> {
    let mut busy_until: Vec<Option<u64>> = Vec::new(); // per client; None = pending forever
    steps
        .into_iter()
        .enumerate()
        .map(|(i, (input, output))| {
            let moment = GAP * (i as u64 + 1);
            let call = moment - rng.random_range(0..=STRETCH.min(moment));
            let ret = output.as_ref().map(|_| moment + rng.random_range(0..=STRETCH));
            let client = match busy_until.iter().position(|b| b.is_some_and(|t| t < call)) {
                Some(c) => c,
                None => {
                    busy_until.push(None);
                    busy_until.len() - 1
                }
            };
            busy_until[client] = ret;
            Operation { client, input, call, output, ret }
        })
        .collect()
}

/// A random sequential execution of the KV store over a few keys.
fn kv_history(rng: &mut ChaCha8Rng) -> Vec<Operation<KvInput, KvOutput>> {
    kv_history_of(rng, OPERATIONS, &["a", "b", "c"], PENDING)
}

/// A random sequential execution of `operations` KV operations on `keys`,
/// each write left pending with probability `pending`.
fn kv_history_of(
    rng: &mut ChaCha8Rng,
    operations: usize,
    keys: &[&'static str],
    pending: f64,
) -> Vec<Operation<KvInput, KvOutput>> {
    let mut values = std::collections::HashMap::<&str, String>::new();
    let steps = (0..operations)
        .map(|i| {
            let key = keys[rng.random_range(0..keys.len())];
            let value = format!("<{i}>");
            let (op, output) = match rng.random_range(0..3) {
                0 => (KvOp::Get, Some(values.get(key).cloned().unwrap_or_default())),
                1 => {
                    values.insert(key, value.clone());
                    (KvOp::Put, Some(String::new()))
                }
                _ => {
                    values.entry(key).or_default().push_str(&value);
                    (KvOp::Append, Some(String::new()))
                }
            };
            // A write that never answers still took effect at its moment.
            let output = if op != KvOp::Get && rng.random_bool(pending) { None } else { output };
            let input = KvInput {
                op,
                key: key.to_string(),
                value: if op == KvOp::Get { String::new() } else { value },
            };
            (input, output.map(|value| KvOutput { value }))
        })
        .collect();
    stretch(rng, steps)
}

/// A random sequential execution of a compare-and-set register.
fn register_history(rng: &mut ChaCha8Rng) -> Vec<Operation<RegisterInput, RegisterOutput>> {
    let mut state: Option<i64> = None;
    let steps = (0..OPERATIONS)
        .map(|_| {
            let (input, output) = match rng.random_range(0..3) {
                0 => (RegisterInput::Read, RegisterOutput::Read(state)),
                1 => {
                    let v = rng.random_range(0..5);
                    state = Some(v);
                    (RegisterInput::Write(v), RegisterOutput::Written)
                }
                _ => {
                    let (from, to) = (rng.random_range(0..5), rng.random_range(0..5));
                    let matched = state == Some(from);
                    if matched {
                        state = Some(to);
                    }
                    (
                        RegisterInput::Cas { from, to },
                        if matched { RegisterOutput::CasOk } else { RegisterOutput::CasFailed },
                    )
                }
            };
            let pending = input != RegisterInput::Read && rng.random_bool(PENDING);
            (input, (!pending).then_some(output))
        })
        .collect();
    stretch(rng, steps)
}

/// Checks the property on `CASES` histories: generated ones are `Ok`, and
/// `Illegal` once `spoil` changes one read (if it finds one to change).
fn property<M: Model>(
    model: &M,
    seed: u64,
    generate: impl Fn(&mut ChaCha8Rng) -> Vec<Operation<M::Input, M::Output>>,
    spoil: impl Fn(&mut ChaCha8Rng, &mut [Operation<M::Input, M::Output>]) -> bool,
) {
    let mut spoiled = 0;
    for case in 0..CASES {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(case));
        let mut history = generate(&mut rng);
        let verdict = check_operations(model, &history, Some(TIMEOUT)).verdict();
        assert_eq!(
            verdict,
            Verdict::Ok,
            "seed {seed}, case {case}: a sequential execution must be linearizable"
        );
        if spoil(&mut rng, &mut history) {
            spoiled += 1;
            let verdict = check_operations(model, &history, Some(TIMEOUT)).verdict();
            assert_eq!(
                verdict,
                Verdict::Illegal,
                "seed {seed}, case {case}: an impossible read must be illegal"
            );
        }
    }
    assert!(spoiled > CASES / 2, "seed {seed}: only {spoiled} of {CASES} histories had a read to change");
}

/// Picks a random element of `candidates`.
fn pick(rng: &mut ChaCha8Rng, candidates: Vec<usize>) -> Option<usize> {
    (!candidates.is_empty()).then(|| candidates[rng.random_range(0..candidates.len())])
}

#[test]
fn kv_sequential_executions_are_linearizable_until_a_read_is_changed() {
    property(&KvModel, common::seed(6_824), kv_history, |rng, history| {
        let gets = (0..history.len()).filter(|&i| history[i].input.op == KvOp::Get).collect();
        let Some(i) = pick(rng, gets) else { return false };
        // No put or append writes a `!`, so no state ever holds one.
        history[i].output = Some(KvOutput { value: "!".to_string() });
        true
    });
}

#[test]
fn register_sequential_executions_are_linearizable_until_a_read_is_changed() {
    property(&RegisterModel, common::seed(6_824), register_history, |rng, history| {
        let reads = (0..history.len()).filter(|&i| history[i].input == RegisterInput::Read).collect();
        let Some(i) = pick(rng, reads) else { return false };
        // Values written are 0..5; nothing ever writes 99.
        history[i].output = Some(RegisterOutput::Read(Some(99)));
        true
    });
}

#[test]
fn a_large_history_is_checked_one_key_per_thread() {
    // Enough operations that the parts are searched in parallel threads. No
    // write is left pending: each one that is stays a candidate to the end,
    // doubling the configurations an illegal search must rule out.
    let seed = common::seed(6_824);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut history = kv_history_of(&mut rng, 3000, &["a", "b", "c", "d", "e", "f", "g", "h"], 0.0);
    assert_eq!(check_operations(&KvModel, &history, Some(TIMEOUT)).verdict(), Verdict::Ok, "seed {seed}");
    // Spoil the last get of one key: only that part is illegal.
    let last_get = history.iter().rposition(|op| op.input.op == KvOp::Get && op.output.is_some()).unwrap();
    history[last_get].output = Some(KvOutput { value: "!".to_string() });
    let lincheck::CheckResult::Illegal(details) = check_operations(&KvModel, &history, Some(TIMEOUT)) else {
        panic!("seed {seed}: an impossible read must be illegal");
    };
    assert!(details.parts.iter().all(|p| p.operations.contains(&last_get)), "seed {seed}: {details:?}");
}
