//! JUnit XML for CI: one testsuite per group, one testcase per test; a test
//! with a failing run is a failure, with its reason and the failing run's
//! output tail. A test none of whose runs judged the code under test is an
//! error, not a failure: the build failed, the kit could not set it up, or
//! it never started. In a shard, a test whose runs are all another shard's
//! is skipped.

use crate::result::Grade;
use crate::score;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// Text a run or the build printed, hidden characters shown escaped
/// ([`runner::text::escape_controls`]): XML 1.0 cannot even hold most of
/// them, and a CI page shows the rest as they are.
fn shown(text: &str) -> String {
    runner::text::escape_controls(text).into_owned()
}

/// The report as XML.
pub fn xml(grade: &Grade) -> String {
    let mut report = Report::new("raftlab");
    report.set_time(Duration::from_secs_f64(grade.elapsed_secs.max(0.0)));
    for (group, tests) in super::groups(grade) {
        let mut suite = TestSuite::new(group);
        suite.add_property(Property::new("base_seed", grade.base_seed.to_string()));
        suite.add_property(Property::new("iterations", grade.iterations.to_string()));
        suite.add_property(Property::new("isolation", grade.isolation.mode.clone()));
        suite.add_property(Property::new("isolation_detail", grade.isolation.detail.clone()));
        for t in tests {
            let sc = score::score(t);
            let judged_failures: Vec<_> =
                t.runs.iter().filter(|r| r.outcome.judged() && !r.outcome.passed()).collect();
            let unjudged = t.runs.iter().find(|r| !r.outcome.judged());
            let status = if !score::counts(grade, t) {
                let mut s = TestCaseStatus::skipped();
                s.set_message("not in this shard: its runs are another shard's");
                s
            } else if sc.all_passed() {
                TestCaseStatus::success()
            } else if !grade.build.ok() {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_type("build")
                    .set_message("the submission did not build")
                    .set_description(shown(&grade.build.message));
                s
            } else if let Some(&r) = judged_failures.first() {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let mut message = format!(
                    "{} of {} runs failed; run {} (seed {}): {}",
                    judged_failures.len(),
                    sc.runs,
                    r.iteration,
                    r.seed,
                    r.reason()
                );
                let more = t.runs.iter().filter(|r| !r.outcome.judged()).count();
                if more > 0 {
                    message.push_str(&format!(" ({more} more could not be judged)"));
                }
                s.set_type("test").set_message(shown(&message));
                s.set_description(shown(&format!("replay: {}\n\n{}", r.replay(grade, &t.id), r.tail)));
                s
            } else {
                // Every run that did not pass judged nothing: no verdict.
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                let message = match unjudged {
                    Some(r) => format!("run {} (seed {}): {}", r.iteration, r.seed, r.reason()),
                    None => "no runs".to_string(),
                };
                s.set_type("setup").set_message(shown(&message));
                if let Some(r) = unjudged.filter(|r| r.outcome.ran()) {
                    s.set_description(shown(&format!("replay: {}\n\n{}", r.replay(grade, &t.id), r.tail)));
                }
                s
            };
            let mut case = TestCase::new(t.id.as_str(), status);
            case.set_classname(format!("raftlab.{group}"));
            let secs: f64 = t.runs.iter().map(|r| r.secs).sum();
            case.set_time(Duration::from_secs_f64(secs.max(0.0)));
            case.add_property(Property::new(
                "points",
                format!("{}/{}", score::fmt_points(sc.score), score::fmt_points(sc.max)),
            ));
            case.add_property(Property::new("passed_runs", format!("{}/{}", sc.passed, sc.runs)));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_else(|e| {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"raftlab\" tests=\"0\" failures=\"0\" errors=\"1\"><!-- cannot serialize: {} --></testsuites>\n", e.to_string().replace("--", "- -"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_suite_per_group_and_failures_with_output() {
        let x = super::xml(&crate::report::sample::grade());
        assert_eq!(x.matches("<testsuite ").count(), 2, "{x}");
        assert_eq!(x.matches("<testcase ").count(), 3, "{x}");
        assert_eq!(x.matches("<failure ").count(), 2, "{x}");
        assert!(x.contains("&lt;script&gt;"), "{x}");
        assert!(!x.contains("<script>"));
    }

    #[test]
    fn a_run_the_kit_could_not_set_up_is_an_error_not_a_failure() {
        let mut g = crate::report::sample::grade();
        g.tests[1].runs[1].outcome = crate::result::Outcome::Error { reason: "no node".into() };
        let x = super::xml(&g);
        assert!(
            x.contains(r#"<testsuites name="raftlab" tests="3" skipped="0" failures="1" errors="1""#),
            "{x}"
        );
        assert!(x.contains(r#"<error message="run 2 (seed 1002): error, not a verdict: no node"#), "{x}");
        assert!(x.contains(r#"type="setup">replay: LAB_SEED=1002"#), "{x}");
        assert!(!x.contains("runs failed; run 2 (seed 1002): error"), "{x}");
    }

    #[test]
    fn a_test_of_another_shard_is_skipped_not_failed() {
        let mut g = crate::report::sample::grade();
        g.shard = Some(crate::result::Shard { index: 1, count: 2 });
        g.tests[0].runs.clear();
        let x = super::xml(&g);
        assert!(x.contains(r#"tests="3" skipped="1" failures="2" errors="0""#), "{x}");
        assert!(!x.contains("no runs"), "{x}");
    }

    #[test]
    fn what_runs_and_builds_printed_is_shown_escaped() {
        let mut g = crate::report::sample::grade();
        g.tests[1].runs[1].tail = "---- Flaky2A ----\nnode 0: \x1b[31m\x00\u{202e}\n".into();
        let x = super::xml(&g);
        assert!(x.contains(r"node 0: \x1b[31m\x00\u{202e}"), "{x}");
        assert!(!x.chars().any(runner::text::is_hidden), "{x}");
        g.build.status = crate::result::BuildStatus::Failed;
        g.build.message = "error: \x1b[1m".into();
        assert!(super::xml(&g).contains(r"error: \x1b[1m"));
    }
}
