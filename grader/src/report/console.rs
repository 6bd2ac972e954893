//! The console report: a table per group (test, passed/runs, time mean ± sd,
//! points), the total and the verdict, and each run that did not pass with
//! its replay command.

use crate::result::{BuildStatus, Grade};
use crate::score::{self, fmt_points};
use std::fmt::Write;
use std::path::Path;

/// The report as text. It quotes what runs and the build printed (reasons,
/// the compiler's message), so hidden characters are shown escaped
/// ([`runner::text::escape_controls`]): the table carries no terminal
/// control, and no styling of its own either.
pub fn table(grade: &Grade, out: &Path) -> String {
    runner::text::escape_controls(&text(grade, out)).into_owned()
}

fn text(grade: &Grade, out: &Path) -> String {
    let mut s = String::new();
    let runs = if grade.iterations == 1 { "1 run".to_string() } else { format!("{} runs", grade.iterations) };
    let shard = grade.shard.map(|sh| format!(", shard {}/{}", sh.index, sh.count)).unwrap_or_default();
    let _ = writeln!(
        s,
        "\nGrade of {}: {runs} of each test{shard}, base seed {}",
        grade.submission, grade.base_seed
    );
    let _ = writeln!(s, "{}", grade.isolation.describe());
    if let Some(c) = &grade.concurrency {
        let _ = writeln!(s, "{}", c.describe());
    }
    match grade.build.status {
        BuildStatus::Failed | BuildStatus::TimedOut => {
            let _ =
                writeln!(s, "\nBUILD FAILED — every test scores 0.\n{}", indent(&grade.build.message, "  "));
        }
        BuildStatus::Built => {
            let _ = writeln!(s, "Built in {:.0} s.", grade.build.secs);
        }
        BuildStatus::Reference => {}
    }
    let width = grade.tests.iter().map(|t| t.id.len()).max().unwrap_or(0).max(12);
    for (group, tests) in super::groups(grade) {
        let _ = writeln!(s, "\n  {group:<width$}  {:>7}  {:>13}  {:>9}", "passed", "time (s)", "points");
        let (mut got, mut max) = (0.0, 0.0);
        for t in tests {
            if !score::counts(grade, t) {
                let _ =
                    writeln!(s, "  {:<width$}  {:>7}  {:>13}  {:>9}  not in this shard", t.id, "-", "-", "-");
                continue;
            }
            let sc = score::score(t);
            got += sc.score;
            max += sc.max;
            let time = score::fmt_time(t);
            let mark = if sc.all_passed() { " " } else { "✗" };
            let _ = writeln!(
                s,
                "{mark} {:<width$}  {:>7}  {time:>13}  {:>9}",
                t.id,
                format!("{}/{}", sc.passed, sc.runs),
                format!("{}/{}", fmt_points(sc.score), fmt_points(sc.max))
            );
        }
        let total = format!("{group} total");
        let _ = writeln!(
            s,
            "  {total:<width$}  {:>7}  {:>13}  {:>9}",
            "",
            "",
            format!("{}/{}", fmt_points(got), fmt_points(max))
        );
    }
    let (got, max) = score::total(grade);
    let verdict = score::verdict(grade);
    let _ = writeln!(
        s,
        "\nTotal {}/{} — {verdict} (elapsed {:.1} s)",
        fmt_points(got),
        fmt_points(max),
        grade.elapsed_secs
    );
    let failures: Vec<_> = grade
        .tests
        .iter()
        .flat_map(|t| t.runs.iter().filter(|r| !r.outcome.passed()).map(move |r| (t, r)))
        .filter(|(_, r)| grade.build.ok() || r.outcome.ran())
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "\nRuns that did not pass:");
        for (t, r) in failures {
            let _ = writeln!(s, "  {} #{} (seed {}): {}", t.id, r.iteration, r.seed, r.reason());
            if r.outcome.ran() {
                let _ = writeln!(s, "    replay: {}", r.replay(grade, &t.id));
            }
            if let Some(o) = &r.output {
                let _ = writeln!(s, "    output: {}", out.join(o).display());
            }
        }
    }
    for t in &grade.tests {
        for r in t.runs.iter() {
            if let Some(why) = &r.suspicious {
                let _ = writeln!(s, "\nSUSPICIOUS: {} #{} (seed {}): {why}", t.id, r.iteration, r.seed);
            }
        }
    }
    if !grade.isolation.sandboxed() {
        let _ = writeln!(s, "\nWARNING: {}", grade.isolation.describe());
    }
    let _ = writeln!(
        s,
        "\nReports: {} (also results.json, junit.xml, grade.json)",
        out.join(super::HTML_FILE).display()
    );
    s
}

fn indent(text: &str, pad: &str) -> String {
    text.lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_has_a_row_per_test_and_totals() {
        let g = crate::report::sample::grade();
        let t = super::table(&g, std::path::Path::new("out"));
        assert!(t.contains("  Good2A            2/2      3.5 ± 0.7        5/5"), "{t}");
        assert!(t.contains("✗ Flaky2A           1/2"), "{t}");
        assert!(t.contains("2A total"), "{t}");
        assert!(t.contains("Total 5/15 — 2 of 6 runs failed"), "{t}");
        assert!(t.contains("Slow2B #1 (seed 1001): timed out after 160 s"), "{t}");
        assert!(t.contains("replay: LAB_SEED=1002 LAB_NODE=/k/node /k/labs Flaky2A --exact"), "{t}");
    }

    #[test]
    fn a_single_run_shows_its_time_without_a_spread() {
        let mut g = crate::report::sample::grade();
        g.tests.iter_mut().for_each(|t| t.runs.truncate(1));
        let t = super::table(&g, std::path::Path::new("out"));
        assert!(t.contains("  Good2A            1/1            3.0        5/5"), "{t}");
        assert!(!t.contains("± 0.0"), "one run has no standard deviation: {t}");
    }

    #[test]
    fn a_build_that_failed_failed_no_run() {
        let mut g = crate::report::sample::grade();
        g.build.status = crate::result::BuildStatus::Failed;
        for t in &mut g.tests {
            for r in &mut t.runs {
                *r = crate::result::Run::not_run(r.iteration, r.seed, "the submission did not build");
            }
        }
        let t = super::table(&g, std::path::Path::new("out"));
        assert!(t.contains("Total 0/15 — the submission did not build, so no test ran"), "{t}");
        assert!(!t.contains("failed (") && !t.contains("runs failed"), "{t}");
    }

    #[test]
    fn a_shard_shows_the_tests_it_did_not_run_as_such() {
        let mut g = crate::report::sample::grade();
        g.shard = Some(crate::result::Shard { index: 2, count: 2 });
        g.tests[1].runs.clear();
        let t = super::table(&g, std::path::Path::new("out"));
        assert!(t.contains("  Flaky2A             -              -          -  not in this shard"), "{t}");
        assert!(t.contains("  2A total                                    5/5"), "{t}");
        assert!(t.contains("Total 5/10 — 1 of 4 runs failed"), "{t}");
    }

    #[test]
    fn what_runs_and_builds_printed_is_shown_escaped() {
        let mut g = crate::report::sample::grade();
        g.tests[1].runs[1].tail = "---- Flaky2A ----\nnode 0: \x1b[2K\rFlaky2A 2/2 ok\u{202e}\n".into();
        g.build.status = crate::result::BuildStatus::Failed;
        g.build.message = "error[E0308]: \x1b]0;title\x07mismatched types".into();
        let t = super::table(&g, std::path::Path::new("out"));
        assert!(t.contains(r"node 0: \x1b[2K\rFlaky2A 2/2 ok\u{202e}"), "{t}");
        assert!(t.contains(r"error[E0308]: \x1b]0;title\x07mismatched types"), "{t}");
        assert!(!t.chars().any(runner::text::is_hidden));
    }
}
