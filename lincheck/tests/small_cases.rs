//! Hand-written histories, each a small story with a known verdict.

mod common;

use std::time::Duration;

use common::{append, get, pending_put, porcupine_dir, put};
use lincheck::parse::read_etcd_file;
use lincheck::{
    CheckResult, Event, EventKind, HistoryError, KvModel, RegisterInput, RegisterModel, RegisterOutput,
    Verdict, analyze, check_events, check_operations, operations_from_events,
};

fn verdict(history: &[common::KvOperation]) -> Verdict {
    check_operations(&KvModel, history, None).verdict()
}

#[test]
fn concurrent_operations_may_be_reordered() {
    // A get overlapping a put may see it or not.
    assert_eq!(verdict(&[put(0, "k", "a", 0, 10), get(1, "k", "a", 1, 5)]), Verdict::Ok);
    assert_eq!(verdict(&[put(0, "k", "a", 0, 10), get(1, "k", "", 1, 5)]), Verdict::Ok);
    // Two overlapping appends may land in either order.
    let appends = [append(0, "k", "x", 0, 10), append(1, "k", "y", 2, 8)];
    for read in ["xy", "yx"] {
        let history = [appends[0].clone(), appends[1].clone(), get(2, "k", read, 11, 12)];
        assert_eq!(verdict(&history), Verdict::Ok, "read {read:?}");
    }
}

#[test]
fn a_stale_read_after_a_completed_write_is_illegal() {
    // The put returned before the get was called, yet the get misses it.
    let history = [put(0, "k", "a", 0, 1), get(1, "k", "", 2, 3)];
    let CheckResult::Illegal(details) = check_operations(&KvModel, &history, None) else {
        panic!("a stale read must be illegal");
    };
    // The longest partial linearization is the put alone.
    assert_eq!(details.parts.len(), 1);
    assert_eq!(details.parts[0].linearizations, vec![vec![0]]);
}

#[test]
fn a_pending_write_may_or_may_not_take_effect() {
    // The put never answers: reading before it or after it are both fine...
    let history = [pending_put(0, "k", "a", 0), get(1, "k", "", 5, 6), get(1, "k", "a", 7, 8)];
    assert_eq!(verdict(&history), Verdict::Ok);
    assert_eq!(verdict(&[pending_put(0, "k", "a", 0), get(1, "k", "", 5, 6)]), Verdict::Ok);
    // ...but once seen it cannot be undone.
    let history = [pending_put(0, "k", "a", 0), get(1, "k", "a", 5, 6), get(1, "k", "", 7, 8)];
    assert_eq!(verdict(&history), Verdict::Illegal);
    // And it cannot take effect before it was called.
    assert_eq!(verdict(&[get(1, "k", "a", 0, 1), pending_put(0, "k", "a", 2)]), Verdict::Illegal);
}

#[test]
fn equal_times_are_concurrent() {
    // Closed intervals: a call at the instant of a return overlaps it.
    assert_eq!(verdict(&[put(0, "k", "a", 0, 5), get(1, "k", "", 5, 6)]), Verdict::Ok);
    assert_eq!(verdict(&[put(0, "k", "a", 0, 5), get(1, "k", "", 6, 7)]), Verdict::Illegal);
    // An operation of zero length is fine too.
    assert_eq!(verdict(&[put(0, "k", "a", 3, 3), get(1, "k", "a", 3, 3)]), Verdict::Ok);
}

#[test]
fn keys_are_independent_and_every_illegal_key_is_reported_by_analyze() {
    let history = [
        put(0, "a", "1", 0, 1),
        get(1, "a", "", 2, 3), // stale
        put(0, "b", "2", 4, 5),
        get(1, "b", "2", 6, 7),
        put(0, "c", "3", 8, 9),
        get(1, "c", "", 10, 11), // stale
    ];
    let analysis = analyze(&KvModel, &history, None);
    assert_eq!(analysis.verdict, Verdict::Illegal);
    let verdicts: Vec<Verdict> = analysis.parts.iter().map(|p| p.verdict).collect();
    assert_eq!(verdicts, [Verdict::Illegal, Verdict::Ok, Verdict::Illegal]);
}

#[test]
fn a_compare_and_set_with_unknown_outcome_applies_only_if_it_matches() {
    let op = |client, input, call, output, ret| lincheck::Operation { client, input, call, output, ret };
    let cas = RegisterInput::Cas { from: 1, to: 2 };
    let read = |v| Some(RegisterOutput::Read(Some(v)));
    let write = |v| RegisterInput::Write(v);
    // Register starts absent; the cas can never match, so reading 2 is impossible.
    let history = [op(0, cas, 0, None, None), op(1, RegisterInput::Read, 1, read(2), Some(2))];
    assert_eq!(check_operations(&RegisterModel, &history, None).verdict(), Verdict::Illegal);
    // After a write of 1 it may match.
    let history = [
        op(1, write(1), 0, Some(RegisterOutput::Written), Some(1)),
        op(0, cas, 2, None, None),
        op(1, RegisterInput::Read, 3, read(2), Some(4)),
    ];
    assert_eq!(check_operations(&RegisterModel, &history, None).verdict(), Verdict::Ok);
}

#[test]
fn events_pair_into_operations_or_say_why_not() {
    let call = |client, value| Event { client, kind: EventKind::Call(RegisterInput::Write(value)) };
    let done = |client| Event { client, kind: EventKind::Return(Some(RegisterOutput::Written)) };
    let gave_up = |client| Event { client, kind: EventKind::Indeterminate };
    let ops = operations_from_events(vec![call(0, 1), call(1, 2), done(0), gave_up(1), call(1, 3)]).unwrap();
    assert_eq!(ops.iter().map(|o| (o.call, o.ret)).collect::<Vec<_>>(), [(0, Some(2)), (1, None), (4, None)]);
    assert_eq!(
        operations_from_events(vec![done(0)]),
        Err(HistoryError::UnmatchedReturn { event: 0, client: 0 })
    );
    assert_eq!(
        operations_from_events(vec![call(0, 1), call(0, 2)]),
        Err(HistoryError::AlreadyOpen { event: 1, client: 0, open: 0 })
    );
    assert_eq!(check_events(&RegisterModel, vec![call(0, 1), done(0)], None), Ok(CheckResult::Ok));
}

#[test]
fn the_time_limit_yields_unknown_never_ok() {
    // etcd_002 is linearizable but its search enters thousands of configurations.
    let history = read_etcd_file(&porcupine_dir().join("jepsen/etcd_002.log")).unwrap();
    assert_eq!(check_operations(&RegisterModel, &history, Some(Duration::ZERO)), CheckResult::Unknown);
    // A hopeless history: 24 writes that never answer, and a read of a value
    // no write wrote. Every subset of the writes is a configuration to visit.
    let mut history: Vec<_> = (0..24).map(|v| pending_put(v, "k", &v.to_string(), 0)).collect();
    history.push(get(99, "k", "never written", 1, 2));
    assert_eq!(check_operations(&KvModel, &history, Some(Duration::from_millis(50))), CheckResult::Unknown);
}

/// Five clients each append ten values to one key, all concurrently, then one
/// read returns the whole value (6.824's UnreliableOneKey). Without the
/// grow-only pruning the search tries the interleavings one by one; with it,
/// the read fixes the order and the check is immediate, both ways.
#[test]
fn many_concurrent_appends_to_one_key_then_one_read_are_checked_quickly() {
    const CLIENTS: usize = 5;
    const EACH: usize = 10;
    let mut history = vec![put(9, "k", "", 0, 1)];
    let mut order = Vec::new();
    for n in 0..EACH {
        for c in 0..CLIENTS {
            // Client c's n-th append overlaps every other client's n-th and (n±1)-th.
            let call = 10 + (n * 100 + c * 3) as u64;
            let value = format!("x {c} {n} y");
            history.push(append(c, "k", &value, call, call + 150));
            order.push(value);
        }
    }
    let whole: String = order.concat();
    let end = 10_000;
    let mut ok = history.clone();
    ok.push(get(9, "k", &whole, end, end + 1));
    let limit = Some(Duration::from_secs(2));
    assert!(matches!(check_operations(&KvModel, &ok, limit), CheckResult::Ok));

    // The same read with one element twice: no linearization can produce it.
    let mut bad = history;
    bad.push(get(9, "k", &format!("{whole}{}", order[0]), end, end + 1));
    assert!(matches!(check_operations(&KvModel, &bad, limit), CheckResult::Illegal(_)));
}
