//! The rubric: points per test and how runs are scored, from a TOML file.
//! See `rubric/default.toml` for the format. Every mistake is reported with
//! the file, the line, the key and what was expected.

use crate::catalogue::Entry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// The rubric that ships with the grader.
pub const DEFAULT_RUBRIC: &str = include_str!("../rubric/default.toml");
/// How the default rubric is named in messages.
pub const DEFAULT_RUBRIC_NAME: &str = "grader/rubric/default.toml (built in)";

/// How a test's runs become points.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Its points only if every run passes.
    #[default]
    All,
    /// Points × passed runs / runs.
    Proportional,
}

/// When students see a test's result (Gradescope's `visibility`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Always.
    #[default]
    Visible,
    /// Never.
    Hidden,
    /// After the due date.
    AfterDueDate,
    /// After the grades are published.
    AfterPublished,
}

/// A rubric that could not be used.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("rubric {file}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct RubricError {
    /// The rubric's file.
    pub file: String,
    /// The line at fault, when known.
    pub line: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    policy: Option<Policy>,
    visibility: Option<Visibility>,
    iterations: Option<Spanned<i64>>,
    #[serde(default)]
    tests: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

/// One test's row after the rubric and the catalogue are combined.
#[derive(Clone, Debug, PartialEq)]
pub struct Scoring {
    /// Points possible.
    pub points: f64,
    /// How runs are scored.
    pub policy: Policy,
    /// When students see it.
    pub visibility: Visibility,
}

/// A checked rubric.
#[derive(Clone, Debug, PartialEq)]
pub struct Rubric {
    /// Runs per test unless the command line says otherwise.
    pub iterations: Option<u32>,
    /// Per test id, for every test of the catalogue.
    pub tests: BTreeMap<String, Scoring>,
}

/// Reads a rubric file, or the default one when `path` is `None`.
pub fn load(path: Option<&Path>, catalogue: &[Entry]) -> Result<Rubric, RubricError> {
    match path {
        None => parse(DEFAULT_RUBRIC, DEFAULT_RUBRIC_NAME, catalogue),
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| RubricError {
                file: name.clone(),
                line: None,
                message: format!("cannot read it: {e}"),
            })?;
            parse(&text, &name, catalogue)
        }
    }
}

/// Parses and checks a rubric against the catalogue. Tests of the catalogue
/// that the rubric does not list get the catalogue's points and the default policy.
pub fn parse(text: &str, file: &str, catalogue: &[Entry]) -> Result<Rubric, RubricError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let err = |line: Option<usize>, message: String| RubricError { file: file.to_string(), line, message };
    let raw: RawRubric = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_string();
        err(e.span().map(|s| line_of(s.start)), message)
    })?;
    let policy = raw.policy.unwrap_or_default();
    let visibility = raw.visibility.unwrap_or_default();
    let iterations = match raw.iterations {
        None => None,
        Some(n) => match u32::try_from(*n.get_ref()) {
            Ok(v) if v >= 1 => Some(v),
            _ => {
                return Err(err(
                    Some(line_of(n.span().start)),
                    format!("`iterations` must be a whole number ≥ 1, not {}", n.get_ref()),
                ));
            }
        },
    };
    let mut tests: BTreeMap<String, Scoring> =
        catalogue.iter().map(|e| (e.id.clone(), Scoring { points: e.points, policy, visibility })).collect();
    for (key, value) in raw.tests {
        let line = Some(line_of(key.span().start));
        let id = key.get_ref();
        let Some(slot) = tests.get_mut(id) else {
            let known: Vec<&str> = catalogue.iter().map(|e| e.id.as_str()).collect();
            return Err(err(
                line,
                format!("key `tests.{id}`: no such test in the catalogue (known: {})", known.join(", ")),
            ));
        };
        *slot = test_entry(value.get_ref(), policy, visibility)
            .map_err(|m| err(line, format!("key `tests.{id}`: {m}")))?;
    }
    Ok(Rubric { iterations, tests })
}

fn test_entry(value: &toml::Value, policy: Policy, visibility: Visibility) -> Result<Scoring, String> {
    let points_of = |v: &toml::Value| -> Result<f64, String> {
        let p = match v {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            other => return Err(format!("expected points (a number ≥ 0), found {}", other.type_str())),
        };
        if p.is_finite() && p >= 0.0 {
            Ok(p)
        } else {
            Err(format!("expected points (a number ≥ 0), found {p}"))
        }
    };
    match value {
        toml::Value::Table(t) => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Row {
                points: toml::Value,
                policy: Option<Policy>,
                visibility: Option<Visibility>,
            }
            let row: Row = toml::Value::Table(t.clone()).try_into().map_err(|e: toml::de::Error| {
                format!(
                    "{} (expected {{ points = N, policy = \"all\" | \"proportional\", visibility = \"…\" }})",
                    e.message().trim()
                )
            })?;
            Ok(Scoring {
                points: points_of(&row.points)?,
                policy: row.policy.unwrap_or(policy),
                visibility: row.visibility.unwrap_or(visibility),
            })
        }
        v => Ok(Scoring { points: points_of(v)?, policy, visibility }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Vec<Entry> {
        ["InitialElection2A", "ReElection2A", "BasicAgree2B"]
            .iter()
            .map(|id| Entry {
                id: id.to_string(),
                group: id[id.len() - 2..].to_string(),
                title: format!("Test: {id}"),
                points: 3.0,
                timeout_secs: 150,
            })
            .collect()
    }

    #[test]
    fn the_default_rubric_gives_every_test_the_catalogues_points() {
        let r = parse(DEFAULT_RUBRIC, DEFAULT_RUBRIC_NAME, &catalogue()).unwrap();
        for e in catalogue() {
            assert_eq!(r.tests[&e.id].points, e.points, "{}", e.id);
        }
        assert_eq!(r.iterations, Some(1));
    }

    #[test]
    fn unlisted_tests_get_catalogue_points_and_tables_override() {
        let text = "policy = \"proportional\"\n[tests]\nInitialElection2A = 7\nReElection2A = { points = 2.5, policy = \"all\", visibility = \"hidden\" }\n";
        let r = parse(text, "r.toml", &catalogue()).unwrap();
        assert_eq!(
            r.tests["InitialElection2A"],
            Scoring { points: 7.0, policy: Policy::Proportional, visibility: Visibility::Visible }
        );
        assert_eq!(
            r.tests["ReElection2A"],
            Scoring { points: 2.5, policy: Policy::All, visibility: Visibility::Hidden }
        );
        assert_eq!(r.tests["BasicAgree2B"].points, 3.0);
        assert_eq!(r.iterations, None);
    }

    #[test]
    fn a_test_not_in_the_catalogue_is_named_with_its_line() {
        let e =
            parse("[tests]\nInitialElection2A = 1\nNoSuchTest2Z = 3\n", "r.toml", &catalogue()).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.to_string().starts_with("rubric r.toml, line 3: key `tests.NoSuchTest2Z`: no such test"),
            "{e}"
        );
    }

    #[test]
    fn malformed_rubrics_say_what_was_expected() {
        let e = parse("policy = \"most\"\n", "r.toml", &catalogue()).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("all") && e.message.contains("proportional"), "{e}");

        let e = parse("[tests]\nReElection2A = \"five\"\n", "r.toml", &catalogue()).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("expected points"), "{e}");

        let e = parse("[tests]\nReElection2A = -1\n", "r.toml", &catalogue()).unwrap_err();
        assert!(e.message.contains("≥ 0"), "{e}");

        let e = parse("\n\nbonus = 3\n", "r.toml", &catalogue()).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("bonus"), "{e}");

        let e = parse("iterations = 0\n", "r.toml", &catalogue()).unwrap_err();
        assert!(e.message.contains("iterations"), "{e}");

        let e = parse("[tests\n", "r.toml", &catalogue()).unwrap_err();
        assert_eq!(e.line, Some(1));
    }
}
