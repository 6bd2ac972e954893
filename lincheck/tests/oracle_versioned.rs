//! The versioned KV model agrees with brute force (every real-time-respecting
//! order, no memoisation, no pruning) on many small random histories of one
//! key, including pending puts (`ErrMaybe`) and gets with unknown outcomes.

mod common;

use lincheck::{
    Operation, Verdict, VersionedInput, VersionedKvModel, VersionedOp, VersionedOutput, check_operations,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Random histories to compare.
const CASES: u64 = 3000;
/// Largest history (brute force tries up to this many factorial orders).
const MAX_OPERATIONS: usize = 7;
/// Calls and returns fall in `0..TIME_SPAN`, so equal times are common.
const TIME_SPAN: u64 = 12;

type Op = Operation<VersionedInput, VersionedOutput>;

/// A history that is often nearly right: versions and values from a small
/// range, so that both verdicts are common.
fn random_history(rng: &mut ChaCha8Rng) -> Vec<Op> {
    let value = |rng: &mut ChaCha8Rng| ["a", "b"][rng.random_range(0..2)].to_string();
    (0..rng.random_range(1..=MAX_OPERATIONS))
        .map(|client| {
            let version = rng.random_range(0..3);
            let (op, output) = if rng.random_bool(0.4) {
                let out = match rng.random_range(0..4) {
                    0 => VersionedOutput::ErrNoKey,
                    _ => VersionedOutput::Value { value: value(rng), version: rng.random_range(1..3) },
                };
                (VersionedOp::Get, out)
            } else {
                let out = match rng.random_range(0..5) {
                    0 => VersionedOutput::ErrNoKey,
                    1 | 2 => VersionedOutput::ErrVersion,
                    _ => VersionedOutput::Ok,
                };
                (VersionedOp::Put { value: value(rng), version }, out)
            };
            let input = VersionedInput { key: "k".into(), op };
            let call = rng.random_range(0..TIME_SPAN);
            let (output, ret) = match rng.random_range(0..10) {
                0 => (None, None), // pending: a put that answered ErrMaybe
                1 => (None, Some(call + rng.random_range(0..TIME_SPAN / 2))),
                _ => (Some(output), Some(call + rng.random_range(0..TIME_SPAN / 2))),
            };
            Operation { client, input, call, output, ret }
        })
        .collect()
}

#[test]
fn agrees_with_brute_force_on_small_versioned_histories() {
    let seed = common::seed(6_5840);
    let mut verdicts = [0; 2];
    for case in 0..CASES {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(case));
        let history = random_history(&mut rng);
        let expected = common::brute_force(&VersionedKvModel, &history);
        let got = check_operations(&VersionedKvModel, &history, None).verdict();
        let want = if expected { Verdict::Ok } else { Verdict::Illegal };
        assert_eq!(got, want, "seed {seed}, case {case}: history {history:#?}");
        verdicts[usize::from(expected)] += 1;
    }
    assert!(verdicts.iter().all(|&n| n > CASES / 10), "seed {seed}: illegal/ok counts {verdicts:?}");
}
