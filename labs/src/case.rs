//! One graded test, as the runner runs it and the catalogue lists it.

use harness::TestResult;
use protocol::{CatalogueRow, Points};

/// One graded test.
#[derive(Clone, Copy)]
pub struct TestCase {
    /// The name filters match ("InitialElection2A"): 6.824's, with the group suffix.
    pub id: &'static str,
    /// The group ("2A").
    pub group: &'static str,
    /// What the test prints at its start ("Test (2A): initial election").
    pub title: &'static str,
    /// Default points in the grader's rubric.
    pub points: Points,
    /// Seconds after which a run is stopped and failed.
    pub timeout_secs: u64,
    /// The test body.
    pub run: fn(&TestCase) -> TestResult,
}

impl TestCase {
    /// The test's row of `labs --catalogue`, as the grader reads it.
    pub fn row(&self) -> CatalogueRow {
        CatalogueRow {
            id: self.id.into(),
            group: self.group.into(),
            title: self.title.into(),
            points: self.points,
            timeout_secs: self.timeout_secs,
        }
    }
}

/// Seconds any test may run before the runner stops it (6.824 fails a test
/// over 120 s in `end()`; this is the hard stop for a test that hangs).
pub const HARD_TIMEOUT_SECS: u64 = 150;
