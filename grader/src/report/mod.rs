//! The reports, all written from one [`Grade`]: the console table, Gradescope's
//! `results.json`, JUnit XML, `index.html`, and `grade.json` (the result
//! itself, for `grader merge`).

pub mod artifacts;
pub mod console;
pub mod gradescope;
pub mod html;
pub mod junit;

use crate::error::GraderError;
use crate::result::{Grade, TestReport};
use std::path::Path;

/// The raw result, read back by `grader merge`.
pub const GRADE_FILE: &str = "grade.json";
/// Gradescope's results.
pub const RESULTS_FILE: &str = "results.json";
/// JUnit XML.
pub const JUNIT_FILE: &str = "junit.xml";
/// The HTML report.
pub const HTML_FILE: &str = "index.html";

/// Writes every report file into `out`, each through a temporary file and a
/// rename, so that whatever a run left under those names (a file, a symlink)
/// is replaced, never written through.
pub fn write_all(grade: &Grade, out: &Path) -> Result<(), GraderError> {
    write_atomic(out, GRADE_FILE, &pretty(grade))?;
    write_atomic(out, RESULTS_FILE, &pretty(&gradescope::results(grade)))?;
    write_atomic(out, JUNIT_FILE, &junit::xml(grade))?;
    write_atomic(out, HTML_FILE, &html::page(grade, out))?;
    Ok(())
}

/// Writes `name` in `dir` atomically.
pub fn write_atomic(dir: &Path, name: &str, text: &str) -> Result<(), GraderError> {
    let io = |what: &Path, e| GraderError::Io(format!("cannot write {}", what.display()), e);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| io(&dir.join(name), e))
}

/// Pretty JSON (serializing these types cannot fail: no maps with non-string keys).
pub fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("report types serialize to JSON")
}

/// The groups of a grading in catalogue order, with their tests.
pub fn groups(grade: &Grade) -> Vec<(&str, Vec<&TestReport>)> {
    let mut out: Vec<(&str, Vec<&TestReport>)> = Vec::new();
    for t in &grade.tests {
        match out.iter_mut().find(|(g, _)| *g == t.group) {
            Some((_, v)) => v.push(t),
            None => out.push((&t.group, vec![t])),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small grading for the report writers' tests.
    use crate::result::*;
    use crate::rubric::{Policy, Visibility};

    fn run(iteration: u32, outcome: Outcome) -> Run {
        Run {
            iteration,
            seed: 1000 + iteration as u64,
            outcome,
            secs: 2.0 + iteration as f64,
            output: Some(format!("runs/X/{iteration}/output.txt")),
            tail: "Test (2A): x ...\n  ... FAILED (seed 1001)\n<script>alert(1)</script> & \"quoted\"".into(),
            artifacts: None,
            suspicious: None,
            load: None,
        }
    }

    /// Two groups; one test fails one of two runs, one times out.
    pub fn grade() -> Grade {
        let t = |id: &str, group: &str, runs: Vec<Run>| TestReport {
            id: id.into(),
            group: group.into(),
            title: format!("Test ({group}): {id}"),
            points: 5.0,
            policy: Policy::All,
            visibility: Visibility::Visible,
            runs,
        };
        let failed = Outcome::Failed { code: Some(101), signal: None };
        Grade {
            format: GRADE_FORMAT,
            submission: "subs/alice".into(),
            base_seed: 7,
            iterations: 2,
            shard: None,
            build: Build { status: BuildStatus::Built, secs: 30.0, message: String::new() },
            tests: vec![
                t("Good2A", "2A", vec![run(1, Outcome::Passed), run(2, Outcome::Passed)]),
                t("Flaky2A", "2A", vec![run(1, Outcome::Passed), run(2, failed)]),
                t(
                    "Slow2B",
                    "2B",
                    vec![run(1, Outcome::TimedOut { limit_secs: 160 }), run(2, Outcome::Passed)],
                ),
            ],
            elapsed_secs: 42.0,
            labs: "/k/labs".into(),
            node: "/k/node".into(),
            isolation: crate::result::Isolation { mode: "none".into(), detail: "a test".into() },
            concurrency: None,
        }
    }
}
