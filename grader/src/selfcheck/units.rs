//! What the self-check runs against each mutant, and how a group of tests
//! judges it: the first test in catalogue order that fails killed the
//! mutant, whatever order the tests ran in ([`judge`]).

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

/// A unit's verdict from what is known of its tests' runs (by position in
/// the unit's order; `None`: not run yet, or skipped): the first test in
/// that order that did not pass decides, as if they ran one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// A test before the deciding one has not finished yet.
    Pending,
    /// This test failed (or was stopped at its time limit): it killed the mutant.
    Killed(usize),
    /// Every test passed (an exit status 0 without the tester's proof
    /// counts as a pass here: never a false kill).
    Survived,
    /// This test could not be judged (it never started, or the kit could
    /// not set it up): not a kill.
    Error(usize),
}

/// The verdict of a unit whose runs, by position, are `runs`.
pub fn judge(runs: &[Option<Run>]) -> Judgement {
    for (p, r) in runs.iter().enumerate() {
        match r.as_ref().map(|r| &r.outcome) {
            None => return Judgement::Pending,
            Some(Outcome::Passed | Outcome::Unproven) => continue,
            Some(Outcome::Failed { .. } | Outcome::TimedOut { .. }) => return Judgement::Killed(p),
            Some(Outcome::NotRun { .. } | Outcome::Error { .. }) => return Judgement::Error(p),
        }
    }
    Judgement::Survived
}

/// Whether a test before position `pos` has already ended without
/// passing: then the test at `pos` cannot change the verdict, and is skipped.
pub fn decided_before(runs: &[Option<Run>], pos: usize) -> bool {
    runs[..pos.min(runs.len())]
        .iter()
        .flatten()
        .any(|r| !matches!(r.outcome, Outcome::Passed | Outcome::Unproven))
}

/// The seconds of the runs that count for the verdict `j`: those up to
/// and including the deciding one (every one for a survivor).
pub fn seconds(runs: &[Option<Run>], j: &Judgement) -> f64 {
    let upto = match j {
        Judgement::Killed(p) | Judgement::Error(p) => p + 1,
        _ => runs.len(),
    };
    runs[..upto].iter().flatten().map(|r| r.secs).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(id: &str) -> Entry {
        let group = id[id.len() - 2..].to_string();
        Entry { id: id.into(), group, title: String::new(), points: 1.0, timeout_secs: 1 }
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
    fn the_first_test_in_order_that_did_not_pass_decides_whatever_ran_first() {
        let (pass, fail) = (Outcome::Passed, Outcome::Failed { code: Some(101), signal: None });
        let at = |v: &[Option<Outcome>]| v.iter().map(|o| o.clone().map(run)).collect::<Vec<_>>();
        // The third test failed first; the first two have not finished.
        let mut runs = at(&[None, None, Some(fail.clone()), None]);
        assert_eq!(judge(&runs), Judgement::Pending);
        assert!(decided_before(&runs, 3) && !decided_before(&runs, 2), "only later tests are skipped");
        runs[1] = Some(run(fail.clone()));
        assert_eq!(judge(&runs), Judgement::Pending, "the first may fail too");
        runs[0] = Some(run(pass.clone()));
        assert_eq!(judge(&runs), Judgement::Killed(1), "the first failure in order kills");
        assert_eq!(seconds(&runs, &Judgement::Killed(1)), 2.0);
        let timed_out = at(&[Some(Outcome::TimedOut { limit_secs: 1 })]);
        assert_eq!(judge(&timed_out), Judgement::Killed(0));
    }

    #[test]
    fn passes_are_survivals_and_a_run_that_was_not_judged_is_an_error() {
        let all = |o: Outcome| (0..3).map(|_| Some(run(o.clone()))).collect::<Vec<_>>();
        assert_eq!(judge(&all(Outcome::Passed)), Judgement::Survived);
        assert_eq!(judge(&all(Outcome::Unproven)), Judgement::Survived);
        assert_eq!(judge(&all(Outcome::NotRun { reason: "no labs".into() })), Judgement::Error(0));
        let setup = Outcome::Error { reason: "the kit could not set the test up".into() };
        let mut runs = all(Outcome::Passed);
        runs[1] = Some(run(setup));
        assert_eq!(judge(&runs), Judgement::Error(1), "an error is not a kill");
        assert!(decided_before(&runs, 2));
    }
}
