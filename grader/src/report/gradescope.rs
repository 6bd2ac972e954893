//! `results.json` in Gradescope's autograder schema: a top-level score,
//! execution time and output, and one entry per test.

use crate::result::{Grade, TestReport};
use crate::rubric::Visibility;
use crate::score::{self, fmt_points};
use crate::text::truncate_chars;
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

/// Builds the results from a grading.
pub fn results(grade: &Grade) -> Results {
    let (got, max) = score::total(grade);
    let mut output = format!(
        "{}/{} points; {} run(s) of each test; base seed {}.",
        fmt_points(got),
        fmt_points(max),
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
        for (i, t) in members.into_iter().enumerate() {
            tests.push(entry(grade, t, format!("{group}.{}", i + 1)));
        }
    }
    Results { score: round2(got), execution_time: round2(grade.elapsed_secs), output: shown(output), tests }
}

/// Text a run or the build printed, hidden characters shown escaped
/// ([`harness::text::escape_controls`]): Gradescope shows it to students
/// as it is.
fn shown(text: String) -> String {
    match harness::text::escape_controls(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

fn entry(grade: &Grade, t: &TestReport, number: String) -> GsTest {
    let sc = score::score(t);
    let mut output = format!("{} of {} run(s) passed", sc.passed, sc.runs);
    if let Some((mean, sd)) = score::time_stats(t) {
        output.push_str(&format!("; time {mean:.1} ± {sd:.1} s"));
    }
    output.push('.');
    if !grade.build.ok() {
        output.push_str(" Not run: the submission did not build (see the top of the report).");
    }
    for r in t.runs.iter().filter(|r| r.suspicious.is_some()) {
        output.push_str(&format!(
            "\nSuspicious run {}: {}.",
            r.iteration,
            r.suspicious.as_deref().unwrap_or("")
        ));
    }
    if let Some(r) = t.runs.iter().find(|r| !r.outcome.passed() && r.outcome.ran()) {
        output.push_str(&format!("\n\nRun {} (seed {}): {}\n", r.iteration, r.seed, r.reason()));
        output.push_str(&format!(
            "Replay: LAB_SEED={} make test-{} ARGS=\"--exact {}\"\n\n",
            r.seed, t.group, t.id
        ));
        output.push_str(&truncate_chars(&r.tail, OUTPUT_CHARS));
    }
    GsTest {
        name: format!("{} {}: {}", t.group, t.id, t.title),
        number,
        score: round2(sc.score),
        max_score: t.points,
        status: if sc.all_passed() { "passed" } else { "failed" },
        output: shown(output),
        visibility: visibility(t.visibility),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
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
