//! The checker agrees with brute force (every real-time-respecting order,
//! no memoisation, no pruning) on many small random register histories,
//! including pending operations and unknown outcomes.

mod common;

use lincheck::{Operation, RegisterInput, RegisterModel, RegisterOutput, Verdict, check_operations};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Random histories to compare.
const CASES: u64 = 3000;
/// Largest history (brute force tries up to this many factorial orders).
const MAX_OPERATIONS: usize = 7;
/// Calls and returns fall in `0..TIME_SPAN`, so equal times are common.
const TIME_SPAN: u64 = 12;

type Op = Operation<RegisterInput, RegisterOutput>;

fn random_history(rng: &mut ChaCha8Rng) -> Vec<Op> {
    let value = |rng: &mut ChaCha8Rng| rng.random_range(0..3);
    (0..rng.random_range(1..=MAX_OPERATIONS))
        .map(|client| {
            let (input, output) = match rng.random_range(0..3) {
                0 => {
                    let read = if rng.random_bool(0.2) { None } else { Some(value(rng)) };
                    (RegisterInput::Read, RegisterOutput::Read(read))
                }
                1 => (RegisterInput::Write(value(rng)), RegisterOutput::Written),
                _ => {
                    let ok = rng.random_bool(0.5);
                    let cas = RegisterInput::Cas { from: value(rng), to: value(rng) };
                    (cas, if ok { RegisterOutput::CasOk } else { RegisterOutput::CasFailed })
                }
            };
            let call = rng.random_range(0..TIME_SPAN);
            let (output, ret) = match rng.random_range(0..10) {
                0 => (None, None),                                            // pending
                1 => (None, Some(call + rng.random_range(0..TIME_SPAN / 2))), // returned, outcome unknown
                _ => (Some(output), Some(call + rng.random_range(0..TIME_SPAN / 2))),
            };
            Operation { client, input, call, output, ret }
        })
        .collect()
}

#[test]
fn agrees_with_brute_force_on_small_register_histories() {
    let seed = common::seed(6_824);
    let mut verdicts = [0; 2];
    for case in 0..CASES {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(case));
        let history = random_history(&mut rng);
        let expected = common::brute_force(&RegisterModel, &history);
        let got = check_operations(&RegisterModel, &history, None).verdict();
        let want = if expected { Verdict::Ok } else { Verdict::Illegal };
        assert_eq!(got, want, "seed {seed}, case {case}: history {history:#?}");
        verdicts[usize::from(expected)] += 1;
    }
    // Both verdicts must be well represented for the comparison to mean anything.
    assert!(verdicts.iter().all(|&n| n > CASES / 10), "seed {seed}: illegal/ok counts {verdicts:?}");
}
