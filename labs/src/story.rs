//! What the scripted tests' stories share.

use harness::{Cluster, TestResult, wait_until};
use std::time::Duration;

/// What came of waiting for one step of a story that needs its leader to
/// keep leading.
pub enum Step {
    /// The step happened.
    Done,
    /// The leader stopped leading its term meanwhile (a busy machine can
    /// delay a heartbeat into an election): the round tells nothing.
    LeaderChanged,
    /// The leader still leads and the step never happened: the caller's
    /// failure to report.
    TimedOut,
}

/// Waits up to `limit` for `done` (polled every millisecond) while `leader`
/// should lead `term`; at the limit, tells a leader change from a step that
/// never came.
pub fn await_step(
    cluster: &Cluster,
    leader: usize,
    term: u64,
    limit: Duration,
    mut done: impl FnMut() -> bool,
) -> TestResult<Step> {
    if wait_until(limit, || Ok(done()))? {
        return Ok(Step::Done);
    }
    Ok(match cluster.state(leader)? {
        Some((t, true)) if t == term => Step::TimedOut,
        _ => Step::LeaderChanged,
    })
}
