//! Scoring: from a test's runs and its rubric policy to points.

use crate::result::{Grade, Outcome, TestReport};
use crate::rubric::Policy;

/// What a test earned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestScore {
    /// Runs that passed.
    pub passed: usize,
    /// Runs in all (including runs that never started).
    pub runs: usize,
    /// Points earned.
    pub score: f64,
    /// Points possible.
    pub max: f64,
}

impl TestScore {
    /// Every run passed (and there was at least one).
    pub fn all_passed(&self) -> bool {
        self.runs > 0 && self.passed == self.runs
    }
}

/// Scores one test: under [`Policy::All`] its points only if every run
/// passed; under [`Policy::Proportional`] points × passed / runs. A test with
/// no runs earns nothing.
pub fn score(test: &TestReport) -> TestScore {
    let runs = test.runs.len();
    let passed = test.runs.iter().filter(|r| r.outcome.passed()).count();
    let score = if runs == 0 {
        0.0
    } else {
        match test.policy {
            Policy::All if passed == runs => test.points,
            Policy::All => 0.0,
            Policy::Proportional => test.points * passed as f64 / runs as f64,
        }
    };
    TestScore { passed, runs, score, max: test.points }
}

/// Total points earned and possible.
pub fn total(grade: &Grade) -> (f64, f64) {
    grade.tests.iter().map(score).fold((0.0, 0.0), |(s, m), t| (s + t.score, m + t.max))
}

/// Whether the grading is a full pass: the build worked and every run
/// passed. In a shard, tests with no runs in it do not count.
pub fn all_passed(grade: &Grade) -> bool {
    grade.build.ok()
        && grade
            .tests
            .iter()
            .filter(|t| grade.shard.is_none() || !t.runs.is_empty())
            .all(|t| score(t).all_passed())
}

/// Mean and sample standard deviation of the seconds of the runs that ran.
pub fn time_stats(test: &TestReport) -> Option<(f64, f64)> {
    let secs: Vec<f64> = test.runs.iter().filter(|r| r.outcome.ran()).map(|r| r.secs).collect();
    if secs.is_empty() {
        return None;
    }
    let n = secs.len() as f64;
    let mean = secs.iter().sum::<f64>() / n;
    let sd = if secs.len() > 1 {
        (secs.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some((mean, sd))
}

/// Points for people: "5", "2.5", "3.33".
pub fn fmt_points(p: f64) -> String {
    let rounded = (p * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded}") }
}

/// How many runs could not judge the submission: the kit could not set
/// their test up (see [`crate::result::Outcome::Error`]).
pub fn errors(grade: &Grade) -> usize {
    grade.tests.iter().flat_map(|t| &t.runs).filter(|r| matches!(r.outcome, Outcome::Error { .. })).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{Outcome, Run};
    use crate::rubric::Visibility;

    fn test_with(policy: Policy, outcomes: &[bool]) -> TestReport {
        TestReport {
            id: "T2A".into(),
            group: "2A".into(),
            title: "t".into(),
            points: 6.0,
            policy,
            visibility: Visibility::Visible,
            runs: outcomes
                .iter()
                .enumerate()
                .map(|(i, &ok)| Run {
                    iteration: i as u32 + 1,
                    seed: i as u64,
                    outcome: if ok {
                        Outcome::Passed
                    } else {
                        Outcome::Failed { code: Some(101), signal: None }
                    },
                    secs: 1.0 + i as f64,
                    output: None,
                    tail: String::new(),
                    artifacts: None,
                    suspicious: None,
                    load: None,
                })
                .collect(),
        }
    }

    #[test]
    fn all_policy_needs_every_run() {
        assert_eq!(score(&test_with(Policy::All, &[true, true, true])).score, 6.0);
        assert_eq!(score(&test_with(Policy::All, &[true, false, true])).score, 0.0);
        assert_eq!(score(&test_with(Policy::All, &[])).score, 0.0);
    }

    #[test]
    fn proportional_policy_gives_partial_credit() {
        let s = score(&test_with(Policy::Proportional, &[true, false, true]));
        assert_eq!((s.passed, s.runs, s.score), (2, 3, 4.0));
        assert!(!s.all_passed());
    }

    #[test]
    fn time_stats_are_mean_and_sample_sd() {
        let (mean, sd) = time_stats(&test_with(Policy::All, &[true, true, true])).unwrap();
        assert_eq!(mean, 2.0);
        assert!((sd - 1.0).abs() < 1e-9);
        assert_eq!(time_stats(&test_with(Policy::All, &[])), None);
    }

    #[test]
    fn points_print_briefly() {
        assert_eq!(fmt_points(5.0), "5");
        assert_eq!(fmt_points(2.5), "2.5");
        assert_eq!(fmt_points(10.0 / 3.0), "3.33");
    }
}
