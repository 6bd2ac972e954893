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

/// Whether `test` is graded here: always, except that a shard does not
/// grade a test none of whose runs fell to it (another shard has them).
pub fn counts(grade: &Grade, test: &TestReport) -> bool {
    grade.shard.is_none() || !test.runs.is_empty()
}

/// Total points earned and possible, over the tests graded here ([`counts`]).
pub fn total(grade: &Grade) -> (f64, f64) {
    grade
        .tests
        .iter()
        .filter(|t| counts(grade, t))
        .map(score)
        .fold((0.0, 0.0), |(s, m), t| (s + t.score, m + t.max))
}

/// Whether the grading is a full pass: the build worked and every run
/// passed. In a shard, tests with no runs in it do not count.
pub fn all_passed(grade: &Grade) -> bool {
    grade.build.ok() && grade.tests.iter().filter(|t| counts(grade, t)).all(|t| score(t).all_passed())
}

/// What became of the runs of a grading, counted by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Every run.
    pub runs: usize,
    /// Runs that passed.
    pub passed: usize,
    /// Runs that judged the code under test and did not pass: failed,
    /// timed out, or passed without the tester's proof.
    pub failed: usize,
    /// Runs whose test the kit could not set up: no verdict.
    pub errors: usize,
    /// Runs that never started.
    pub not_run: usize,
}

/// Counts the runs of `grade`.
pub fn tally(grade: &Grade) -> Tally {
    let mut t = Tally::default();
    for r in grade.tests.iter().flat_map(|t| &t.runs) {
        t.runs += 1;
        match &r.outcome {
            Outcome::Passed => t.passed += 1,
            Outcome::Error { .. } => t.errors += 1,
            Outcome::NotRun { .. } => t.not_run += 1,
            _ => t.failed += 1,
        }
    }
    t
}

/// The grading's verdict in a phrase, as every report states it: "all runs
/// passed", or what kept it from that, counted ("2 of 7 runs failed; 1
/// could not be judged …"). A submission that did not build ran nothing,
/// and no run of it is called failed.
pub fn verdict(grade: &Grade) -> String {
    let t = tally(grade);
    if !grade.build.ok() {
        return "the submission did not build, so no test ran".into();
    }
    if t.runs == 0 {
        return "no run was graded here".into();
    }
    if all_passed(grade) {
        return "all runs passed".into();
    }
    let runs = |n: usize| if n == 1 { "1 run".to_string() } else { format!("{n} runs") };
    let mut parts = Vec::new();
    if t.failed > 0 {
        parts.push(format!("{} of {} failed", t.failed, runs(t.runs)));
    }
    if t.errors > 0 {
        parts.push(format!(
            "{} could not be judged (the kit could not set the test up: no verdict either way)",
            runs(t.errors)
        ));
    }
    if t.not_run > 0 {
        parts.push(format!("{} never started", runs(t.not_run)));
    }
    parts.join("; ")
}

/// The wall time of a test's runs: the mean, and the sample standard
/// deviation when there are two or more to take it from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Times {
    /// Mean seconds.
    pub mean: f64,
    /// Sample standard deviation of the seconds; none for a single run.
    pub sd: Option<f64>,
}

impl Times {
    /// "3.2" for one run, "3.5 ± 0.7" for more.
    pub fn describe(&self) -> String {
        match self.sd {
            Some(sd) => format!("{:.1} ± {sd:.1}", self.mean),
            None => format!("{:.1}", self.mean),
        }
    }
}

/// The times of the runs that ran their test ([`Outcome::judged`]: a run
/// whose test the kit could not set up, or that never started, timed nothing).
pub fn time_stats(test: &TestReport) -> Option<Times> {
    let secs: Vec<f64> = test.runs.iter().filter(|r| r.outcome.judged()).map(|r| r.secs).collect();
    if secs.is_empty() {
        return None;
    }
    let n = secs.len() as f64;
    let mean = secs.iter().sum::<f64>() / n;
    let sd =
        (secs.len() > 1).then(|| (secs.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some(Times { mean, sd })
}

/// [`time_stats`] for people: "3.2", "3.5 ± 0.7", or "-" when no run ran.
pub fn fmt_time(test: &TestReport) -> String {
    time_stats(test).map(|t| t.describe()).unwrap_or_else(|| "-".into())
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
        let t = time_stats(&test_with(Policy::All, &[true, true, true])).unwrap();
        assert_eq!(t.mean, 2.0);
        assert!((t.sd.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(t.describe(), "2.0 ± 1.0");
        assert_eq!(time_stats(&test_with(Policy::All, &[])), None);
        assert_eq!(fmt_time(&test_with(Policy::All, &[])), "-");
    }

    #[test]
    fn one_run_has_a_time_and_no_spread() {
        let one = test_with(Policy::All, &[true]);
        assert_eq!(time_stats(&one), Some(Times { mean: 1.0, sd: None }), "no deviation of one sample");
        assert_eq!(fmt_time(&one), "1.0");
    }

    #[test]
    fn runs_that_timed_no_test_are_left_out_of_its_time() {
        let mut t = test_with(Policy::All, &[true, true]);
        t.runs[1].outcome = Outcome::Error { reason: "no node".into() };
        t.runs[1].secs = 0.01;
        assert_eq!(fmt_time(&t), "1.0", "the kit's error took no test's time");
    }

    fn grade_of(tests: Vec<TestReport>) -> Grade {
        let mut g = crate::report::sample::grade();
        g.tests = tests;
        g
    }

    #[test]
    fn the_verdict_counts_what_kept_a_grade_from_passing() {
        let mut g = grade_of(vec![test_with(Policy::All, &[true, false]), test_with(Policy::All, &[true])]);
        assert_eq!(verdict(&g), "1 of 3 runs failed");
        g.tests[0].runs[1].outcome = Outcome::Error { reason: "no node".into() };
        assert_eq!(
            verdict(&g),
            "1 run could not be judged (the kit could not set the test up: no verdict either way)",
            "a kit error is no failure"
        );
        g.tests[0].runs[1].outcome = Outcome::Passed;
        assert_eq!(verdict(&g), "all runs passed");
    }

    #[test]
    fn a_submission_that_did_not_build_failed_no_run() {
        let mut g = grade_of(vec![test_with(Policy::All, &[true])]);
        g.build.status = crate::result::BuildStatus::Failed;
        g.tests[0].runs[0] = crate::result::Run::not_run(1, 1, "the submission did not build");
        assert_eq!(verdict(&g), "the submission did not build, so no test ran");
        assert_eq!(tally(&g), Tally { runs: 1, not_run: 1, ..Tally::default() });
    }

    #[test]
    fn a_shard_grades_only_the_tests_it_ran() {
        let mut g = grade_of(vec![test_with(Policy::All, &[true]), test_with(Policy::All, &[])]);
        assert_eq!(total(&g), (6.0, 12.0), "a whole grading counts every test");
        g.shard = Some(crate::result::Shard { index: 1, count: 2 });
        assert!(!counts(&g, &g.tests[1]));
        assert_eq!(total(&g), (6.0, 6.0), "the other shard's test is not this shard's to score");
        assert_eq!(verdict(&g), "all runs passed");
    }

    #[test]
    fn points_print_briefly() {
        assert_eq!(fmt_points(5.0), "5");
        assert_eq!(fmt_points(2.5), "2.5");
        assert_eq!(fmt_points(10.0 / 3.0), "3.33");
    }
}
