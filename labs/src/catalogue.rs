//! The table of graded tests: one row per test, read by the test runner and
//! (as JSON, `labs --catalogue`) by the grader. Nothing about a test is
//! parsed out of its function's name.

use harness::TestResult;
use serde::Serialize;

/// One graded test.
#[derive(Serialize)]
pub struct TestCase {
    /// The name filters match ("InitialElection2A"): 6.824's, with the group suffix.
    pub id: &'static str,
    /// The group ("2A").
    pub group: &'static str,
    /// What the test prints at its start ("Test (2A): initial election").
    pub title: &'static str,
    /// Default points in the grader's rubric.
    pub points: u32,
    /// Seconds after which a run is stopped and failed.
    pub timeout_secs: u64,
    /// The test body.
    #[serde(skip)]
    pub run: fn(&TestCase) -> TestResult,
}

/// Seconds any test may run before the runner stops it (6.824 fails a test
/// over 120 s in `end()`; this is the hard stop for a test that hangs).
pub const HARD_TIMEOUT_SECS: u64 = 150;

macro_rules! case {
    ($id:literal, $group:literal, $title:literal, $points:expr, $run:path) => {
        TestCase {
            id: $id,
            group: $group,
            title: $title,
            points: $points,
            timeout_secs: HARD_TIMEOUT_SECS,
            run: $run,
        }
    };
}

/// Every graded test, in the order they run.
pub fn all() -> Vec<TestCase> {
    use crate::lab2a as a;
    vec![
        case!("InitialElection2A", "2A", "Test (2A): initial election", 5, a::initial_election),
        case!("ReElection2A", "2A", "Test (2A): election after network failure", 5, a::re_election),
        case!("ManyElections2A", "2A", "Test (2A): multiple elections", 5, a::many_elections),
    ]
}
