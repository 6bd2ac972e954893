//! `results.json` in Gradescope's autograder schema: a top-level score,
//! execution time and output, and one entry per test.

use crate::result::{Grade, TestReport};
use crate::rubric::Visibility;
use crate::score::{self, fmt_points};
use runner::text::truncate_chars;
use serde::Serialize;

/// How much of a failing run's output a test's entry quotes.
const OUTPUT_CHARS: usize = 6000;

/// The whole file.
#[derive(Serialize, Debug)]
pub struct Results {
    /// Points earned.
    pub score: f64,
    /// Seconds.
    pub execution_time: f64,
    /// Shown above the tests.
    pub output: String,
    /// One per test.
    pub tests: Vec<GsTest>,
}

/// One test's entry.
#[derive(Serialize, Debug)]
pub struct GsTest {
    /// "2A InitialElection2A: Test (2A): initial election".
    pub name: String,
    /// "2A.1".
    pub number: String,
    /// Points earned.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// "passed" or "failed".
    pub status: &'static str,
    /// Runs, times and the first failure.
    pub output: String,
    /// When students see it.
    pub visibility: &'static str,
}

/// Gradescope's name for a visibility.
pub fn visibility(v: Visibility) -> &'static str {
    match v {
        Visibility::Visible => "visible",
        Visibility::Hidden => "hidden",
        Visibility::AfterDueDate => "after_due_date",
        Visibility::AfterPublished => "after_published",
    }
}

/// Builds the results from a grading. In a shard, only the tests it ran
/// have an entry ([`score::counts`]): the others are another shard's.
pub fn results(grade: &Grade) -> Results {
    let (got, max) = score::total(grade);
    let mut output = format!(
        "{}/{} points: {}; {} run(s) of each test; base seed {}.",
        fmt_points(got),
        fmt_points(max),
        score::verdict(grade),
        grade.iterations,
        grade.base_seed
    );
    output.push_str(&format!("\n{}.", grade.isolation.describe()));
    if !grade.build.ok() {
        output.push_str("\n\nThe submission did not build, so every test scores 0.\n\n");
        output.push_str(&truncate_chars(&grade.build.message, OUTPUT_CHARS * 2));
    }
    let mut tests = Vec::new();
    for (group, members) in super::groups(grade) {
        for (i, t) in members.into_iter().enumerate().filter(|(_, t)| score::counts(grade, t)) {
            tests.push(entry(grade, t, format!("{group}.{}", i + 1)));
        }
    }
    Results { score: exact(got), execution_time: round2(grade.elapsed_secs), output: shown(output), tests }
}

/// Text a run or the build printed, hidden characters shown escaped
/// ([`runner::text::escape_controls`]): Gradescope shows it to students
/// as it is.
fn shown(text: String) -> String {
    match runner::text::escape_controls(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

fn entry(grade: &Grade, t: &TestReport, number: String) -> GsTest {
    let sc = score::score(t);
    let mut output = if grade.build.ok() {
        format!("{} of {} run(s) passed", sc.passed, sc.runs)
    } else {
        "Not run: the submission did not build (see the top of the report)".to_string()
    };
    if let Some(times) = score::time_stats(t) {
        output.push_str(&format!("; time {} s", times.describe()));
    }
    output.push('.');
    for r in t.runs.iter().filter(|r| r.suspicious.is_some()) {
        output.push_str(&format!(
            "\nSuspicious run {}: {}.",
            r.iteration,
            r.suspicious.as_deref().unwrap_or("")
        ));
    }
    if let Some(r) = t.runs.iter().find(|r| !r.outcome.passed() && r.outcome.ran()) {
        output.push_str(&format!("\n\nRun {} (seed {}): {}\n", r.iteration, r.seed, r.reason()));
        output.push_str(&format!("Replay: {}\n\n", replay(r.seed, &t.group, &t.id)));
        output.push_str(&truncate_chars(&r.tail, OUTPUT_CHARS));
    } else if let Some(r) = t.runs.iter().find(|r| !r.outcome.ran()).filter(|_| grade.build.ok()) {
        output.push_str(&format!("\n\nRun {} (seed {}): {}", r.iteration, r.seed, r.reason()));
    }
    GsTest {
        name: format!("{} {}: {}", t.group, t.id, t.title),
        number,
        score: exact(sc.score),
        max_score: t.points,
        status: if sc.all_passed() { "passed" } else { "failed" },
        output: shown(output),
        visibility: visibility(t.visibility),
    }
}

/// The command a student runs to replay a run in their checkout: the
/// Makefile's one-test form (`TEST=` runs `labs <id> --exact`).
fn replay(seed: u64, group: &str, id: &str) -> String {
    format!("{}={seed} make test-{group} TEST={id}", protocol::env::SEED)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Points without float noise (3.3333333333333335 → 3.333333): rounded to
/// the millionth, not the hundredth, so that the entries add up to the
/// total as Gradescope shows them both.
fn exact(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_entry_per_test_with_scores() {
        let r = super::results(&crate::report::sample::grade());
        assert_eq!(r.score, 5.0);
        assert_eq!(r.tests.len(), 3);
        assert_eq!(r.tests[1].number, "2A.2");
        assert_eq!(r.tests[2].number, "2B.1");
        assert_eq!((r.tests[0].status, r.tests[1].status), ("passed", "failed"));
        assert!(r.tests[1].output.contains("seed 1002"), "{}", r.tests[1].output);
    }

    #[test]
    fn the_replay_command_is_one_the_makefile_runs() {
        let r = super::results(&crate::report::sample::grade());
        let out = &r.tests[1].output;
        assert!(out.contains("Replay: LAB_SEED=1002 make test-2A TEST=Flaky2A\n"), "{out}");
        assert!(!out.contains("ARGS="), "labs takes one filter: `2A --exact X` is refused: {out}");
    }

    #[test]
    fn the_entries_add_up_to_the_score() {
        let mut g = crate::report::sample::grade();
        for t in &mut g.tests {
            t.policy = crate::rubric::Policy::Proportional;
            t.runs.push(t.runs[0].clone());
            t.runs[0].outcome = crate::result::Outcome::Passed;
            t.runs[1].outcome = crate::result::Outcome::Passed;
            t.runs[2].outcome = crate::result::Outcome::Failed { code: Some(101), signal: None };
        }
        // Each test 2 of 3 runs of 5 points: 10 in all, not 3 × 3.33.
        let r = super::results(&g);
        let sum: f64 = r.tests.iter().map(|t| t.score).sum();
        assert_eq!(r.score, 10.0);
        assert!((sum - r.score).abs() < 1e-5, "entries {sum} against the score {}", r.score);
    }

    #[test]
    fn one_run_has_no_spread_and_a_failed_build_ran_nothing() {
        let mut g = crate::report::sample::grade();
        g.tests.iter_mut().for_each(|t| t.runs.truncate(1));
        let r = super::results(&g);
        assert!(r.tests[0].output.starts_with("1 of 1 run(s) passed; time 3.0 s."), "{}", r.tests[0].output);
        g.build.status = crate::result::BuildStatus::Failed;
        for t in &mut g.tests {
            t.runs[0] = crate::result::Run::not_run(1, 1, "the submission did not build");
        }
        let r = super::results(&g);
        assert_eq!(r.tests[0].output, "Not run: the submission did not build (see the top of the report).");
        assert!(r.output.contains("the submission did not build, so no test ran"), "{}", r.output);
    }

    #[test]
    fn a_shard_has_entries_only_for_the_tests_it_ran() {
        let mut g = crate::report::sample::grade();
        g.shard = Some(crate::result::Shard { index: 1, count: 2 });
        g.tests[0].runs.clear();
        let r = super::results(&g);
        let numbers: Vec<&str> = r.tests.iter().map(|t| t.number.as_str()).collect();
        assert_eq!(numbers, ["2A.2", "2B.1"], "a test of the other shard is not failed here");
    }

    #[test]
    fn what_runs_and_builds_printed_is_shown_escaped() {
        let mut g = crate::report::sample::grade();
        g.tests[1].runs[1].tail = "node 0: \x1b[31m\u{202e}ok\r".into();
        g.build.status = crate::result::BuildStatus::Failed;
        g.build.message = "error: \x07\x08".into();
        let r = super::results(&g);
        assert!(r.output.ends_with(r"error: \x07\x08"), "{}", r.output);
        assert!(r.tests[1].output.contains(r"node 0: \x1b[31m\u{202e}ok\r"), "{}", r.tests[1].output);
        let json = crate::report::pretty(&r);
        assert!(
            !json.contains("\\u001b") && !json.contains("\\u0007") && !json.contains('\u{202e}'),
            "{json}"
        );
    }
}
