//! What the self-check runs against each mutant, and how a group of tests
//! judges it: the tests one by one, in catalogue order, until the first
//! failure — that test killed the mutant.

use crate::catalogue::Entry;
use crate::mutant::Mutant;
use crate::result::{Outcome, Run};
use crate::selfcheck::matrix::CI_COLUMN;

/// Tests run against a mutant until one fails: one of its groups, or its CI tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The group ("2B"), or [`CI_COLUMN`].
    pub name: String,
    /// Its tests, in the order they run.
    pub tests: Vec<Entry>,
}

/// Checks that every test on the mutants' `ci:` lines and every group on
/// their `groups:` lines is in the lab catalogue: a test filter that matches
/// nothing would pass, and report a false survivor.
///
/// # Errors
/// Every unknown test and group, with the mutants that name them.
pub fn validate(mutants: &[&Mutant], catalogue: &[Entry]) -> Result<(), String> {
    let mut unknown = Vec::new();
    for m in mutants {
        for t in m.ci.iter().filter(|t| !catalogue.iter().any(|e| &e.id == *t)) {
            unknown.push(format!("test {t} (ci: of {})", m.name));
        }
        for g in m.groups.iter().filter(|g| !catalogue.iter().any(|e| &e.group == *g)) {
            unknown.push(format!("group {g} (groups: of {})", m.name));
        }
    }
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!("not in the lab catalogue (see `labs --list`): {}; fix the mutants", unknown.join(", ")))
    }
}

/// The units of `mutant`: with `ci`, one unit of its `ci:` tests in the
/// order given; else one unit per group of its `groups:` line, with the
/// group's tests in catalogue order. Call [`validate`] first.
pub fn units(mutant: &Mutant, catalogue: &[Entry], ci: bool) -> Vec<Unit> {
    let entry = |id: &String| catalogue.iter().find(|e| &e.id == id).cloned();
    if ci {
        return vec![Unit { name: CI_COLUMN.into(), tests: mutant.ci.iter().filter_map(entry).collect() }];
    }
    mutant
        .groups
        .iter()
        .map(|g| Unit {
            name: g.clone(),
            tests: catalogue.iter().filter(|e| &e.group == g).cloned().collect(),
        })
        .collect()
}

/// Runs `tests` one at a time, in order, with `run`, and stops at the first
/// that fails (or is stopped at its time limit): that test and its run.
/// `None` when every test passed (an exit status 0 without the tester's
/// proof counts as a pass here: never a false kill).
///
/// # Errors
/// The reason, when a test could not be started at all.
pub fn first_failure(
    tests: &[Entry],
    mut run: impl FnMut(&Entry) -> Run,
) -> Result<Option<(&Entry, Run)>, String> {
    for test in tests {
        let r = run(test);
        match &r.outcome {
            Outcome::Passed | Outcome::Unproven => continue,
            Outcome::NotRun { reason } => return Err(format!("{} could not run: {reason}", test.id)),
            Outcome::Failed { .. } | Outcome::TimedOut { .. } => return Ok(Some((test, r))),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(id: &str) -> Entry {
        let group = id[id.len() - 2..].to_string();
        Entry { id: id.into(), group, title: String::new(), points: 1.0, timeout_secs: 1, min_secs: 0.0 }
    }

    fn catalogue() -> Vec<Entry> {
        ["A2A", "B2B", "C2B", "D2B", "E2C"].into_iter().map(entry).collect()
    }

    fn mutant(groups: &[&str], ci: &[&str]) -> Mutant {
        Mutant {
            name: "m".into(),
            bug: "b".into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            ci: ci.iter().map(|s| s.to_string()).collect(),
            known: None,
            variant: false,
            edits: Vec::new(),
            file: PathBuf::from("m.mut"),
        }
    }

    fn run(outcome: Outcome) -> Run {
        Run {
            iteration: 1,
            seed: 9,
            outcome,
            secs: 1.0,
            output: None,
            tail: String::new(),
            artifacts: None,
            suspicious: None,
            load: None,
        }
    }

    #[test]
    fn unknown_tests_and_groups_are_refused_up_front() {
        let c = catalogue();
        assert!(validate(&[&mutant(&["2B"], &["C2B"])], &c).is_ok());
        let e = validate(&[&mutant(&["2B", "9Z"], &["C2B", "Nope2B"])], &c).unwrap_err();
        assert!(e.contains("test Nope2B (ci: of m), group 9Z (groups: of m)"), "{e}");
    }

    #[test]
    fn a_full_unit_is_a_group_in_catalogue_order_and_ci_is_one_unit() {
        let c = catalogue();
        let ids = |u: &Unit| u.tests.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        let full = units(&mutant(&["2C", "2B"], &["D2B", "B2B"]), &c, false);
        assert_eq!(full.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["2C", "2B"]);
        assert_eq!(ids(&full[1]), ["B2B", "C2B", "D2B"]);
        let ci = units(&mutant(&["2C", "2B"], &["D2B", "B2B"]), &c, true);
        assert_eq!(ci.len(), 1);
        assert_eq!((ci[0].name.as_str(), ids(&ci[0])), ("ci", vec!["D2B".into(), "B2B".into()]));
    }

    #[test]
    fn a_group_stops_at_its_first_failure() {
        let c = catalogue();
        let mut ran = Vec::new();
        let killed = first_failure(&c, |e| {
            ran.push(e.id.clone());
            run(if e.id == "C2B" {
                Outcome::Failed { code: Some(101), signal: None }
            } else {
                Outcome::Passed
            })
        })
        .unwrap();
        assert_eq!(killed.map(|(e, r)| (e.id.clone(), r.seed)), Some(("C2B".into(), 9)));
        assert_eq!(ran, ["A2A", "B2B", "C2B"]);
        let timed_out = first_failure(&c, |_| run(Outcome::TimedOut { limit_secs: 1 })).unwrap();
        assert_eq!(timed_out.unwrap().0.id, "A2A");
    }

    #[test]
    fn passes_are_survivals_and_a_run_that_never_started_is_an_error() {
        let c = catalogue();
        assert!(first_failure(&c, |_| run(Outcome::Passed)).unwrap().is_none());
        assert!(first_failure(&c, |_| run(Outcome::Unproven)).unwrap().is_none());
        let e = first_failure(&c, |_| run(Outcome::NotRun { reason: "no labs".into() })).unwrap_err();
        assert_eq!(e, "A2A could not run: no labs");
    }
}
