//! Checking a whole history: partition it, search the parts (in parallel
//! threads when there is enough work), combine the verdicts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::history::{Event, HistoryError, Operation, operations_from_events};
use crate::model::Model;
use crate::result::{Analysis, CheckResult, Illegal, PartReport, Verdict, combine};
use crate::search::{Limits, Outcome, search};

/// Below this many operations a history is checked on the calling thread:
/// starting threads (tens of microseconds) would cost more than they save.
const PARALLEL_MIN_OPERATIONS: usize = 1000;

/// Checks whether `history` is linearizable with respect to `model`.
///
/// Parts (see [`Model::partition`]) are searched in parallel threads; the
/// search stops at the first illegal part. With a `timeout`, a search that
/// has not finished in time yields [`CheckResult::Unknown`] — never
/// [`CheckResult::Ok`].
///
/// # Panics
///
/// If an operation returns before its call, or if the model's partition does
/// not list every operation exactly once (bugs in the caller or the model).
pub fn check_operations<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> CheckResult {
    let parts = run(model, history, timeout, true);
    match combine(&parts) {
        Verdict::Ok => CheckResult::Ok,
        Verdict::Unknown => CheckResult::Unknown,
        Verdict::Illegal => CheckResult::Illegal(Illegal {
            parts: parts.into_iter().filter(|p| p.verdict == Verdict::Illegal).collect(),
        }),
    }
}

/// Like [`check_operations`], for an ordered list of call/return events
/// (see [`operations_from_events`]).
///
/// # Errors
///
/// If the events do not pair up into operations.
pub fn check_events<M: Model>(
    model: &M,
    events: Vec<Event<M::Input, M::Output>>,
    timeout: Option<Duration>,
) -> Result<CheckResult, HistoryError> {
    let history = operations_from_events(events)?;
    Ok(check_operations(model, &history, timeout))
}

/// Checks every part of `history`, without stopping at the first illegal
/// one, and reports each: what [`write_html`](crate::write_html) shows.
///
/// # Panics
///
/// As [`check_operations`].
pub fn analyze<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> Analysis {
    let parts = run(model, history, timeout, false);
    Analysis { verdict: combine(&parts), parts }
}

/// Searches every part; reports them in partition order.
fn run<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
    stop_on_illegal: bool,
) -> Vec<PartReport> {
    let parts = model.partition(history);
    validate_partition(&parts, history.len());
    let cancel = AtomicBool::new(false);
    let limits = Limits { deadline: timeout.map(|t| Instant::now() + t), cancel: &cancel };
    let check_part = |part: &Vec<usize>| {
        let report = report(part, search(model, history, part, &limits));
        if stop_on_illegal && report.verdict == Verdict::Illegal {
            cancel.store(true, Ordering::Relaxed);
        }
        report
    };

    let threads = thread::available_parallelism().map_or(1, |n| n.get()).min(parts.len());
    if threads <= 1 || history.len() < PARALLEL_MIN_OPERATIONS {
        return parts.iter().map(check_part).collect();
    }
    // Largest parts first, handed out one at a time to whichever thread is free.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&p| std::cmp::Reverse(parts[p].len()));
    let taken = AtomicUsize::new(0);
    let mut reports: Vec<Option<PartReport>> = vec![None; parts.len()];
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(&p) = order.get(taken.fetch_add(1, Ordering::Relaxed)) {
                        done.push((p, check_part(&parts[p])));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            let done = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (p, report) in done {
                reports[p] = Some(report);
            }
        }
    });
    reports.into_iter().map(|r| r.expect("every part is handed to a worker")).collect()
}

/// Turns a search outcome into a report.
fn report(part: &[usize], outcome: Outcome) -> PartReport {
    let (verdict, linearizations) = match outcome {
        Outcome::Linearizable(ops) => (Verdict::Ok, vec![ops]),
        Outcome::Illegal(longest) => (Verdict::Illegal, longest),
        Outcome::Stopped => (Verdict::Unknown, Vec::new()),
    };
    PartReport { operations: part.to_vec(), verdict, linearizations }
}

/// Panics unless `parts` lists each of `0..len` exactly once: an operation
/// left out would never be checked.
fn validate_partition(parts: &[Vec<usize>], len: usize) {
    let mut seen = vec![false; len];
    for &i in parts.iter().flatten() {
        assert!(i < len && !seen[i], "the model's partition lists operation {i} twice or out of range");
        seen[i] = true;
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        panic!("the model's partition leaves out operation {i}; every operation must be in one part");
    }
}
