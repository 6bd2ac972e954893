//! What the self-check runs against each mutant, and how a group of tests
//! judges it: the first test in catalogue order that fails killed the
//! mutant, whatever order the tests ran in ([`judge`]), unless a test with
//! `diagnosis:` lines failed without the output they require.

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
    /// By position: whether the mutant has `diagnosis:` lines for that
    /// test. Such a test always runs (it is never skipped), and the verdict
    /// waits for it.
    pub diagnosed: Vec<bool>,
}

/// Checks that every test on the mutants' `ci:` lines and every group on
/// their `groups:` lines is in the lab catalogue: a test filter that matches
/// nothing would pass, and report a false survivor. A `diagnosis:` line's
/// test must be in the catalogue too, and in a group of the mutant's
/// `groups:` line, so that the full matrix runs it as `--ci` does (the
/// parser checks that it is on the `ci:` line).
///
/// # Errors
/// Every unknown test and group, with the mutants that name them (a
/// diagnosis's with its file and line).
pub fn validate(mutants: &[&Mutant], catalogue: &[Entry]) -> Result<(), String> {
    let mut unknown = Vec::new();
    for m in mutants {
        for t in m.ci.iter().filter(|t| !catalogue.iter().any(|e| &e.id == *t)) {
            unknown.push(format!("test {t} (ci: of {})", m.name));
        }
        for g in m.groups.iter().filter(|g| !catalogue.iter().any(|e| &e.group == *g)) {
            unknown.push(format!("group {g} (groups: of {})", m.name));
        }
        for d in &m.diagnoses {
            match catalogue.iter().find(|e| e.id == d.test) {
                None => unknown.push(format!("test {} (diagnosis: at {})", d.test, m.place(d))),
                Some(e) if !m.groups.contains(&e.group) => unknown.push(format!(
                    "test {} of group {} in no group of `groups: {}` (diagnosis: at {}; the full matrix \
                     would never run it)",
                    d.test,
                    e.group,
                    m.groups.join(" "),
                    m.place(d)
                )),
                Some(_) => {}
            }
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
    let unit = |name: &str, tests: Vec<Entry>| Unit {
        name: name.into(),
        diagnosed: tests.iter().map(|e| mutant.diagnoses_of(&e.id).next().is_some()).collect(),
        tests,
    };
    if ci {
        return vec![unit(CI_COLUMN, mutant.ci.iter().filter_map(entry).collect())];
    }
    mutant
        .groups
        .iter()
        .map(|g| unit(g, catalogue.iter().filter(|e| &e.group == g).cloned().collect()))
        .collect()
}

/// One test's run against a mutant, and what its diagnosis lines found.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The run.
    pub run: Run,
    /// The patterns of the mutant's diagnosis lines for this test that the
    /// run's output did not match; looked at only when the run failed
    /// (empty when the test has none, the run passed, or all matched).
    pub unmatched: Vec<String>,
}

impl Ran {
    /// A run of `test` against `mutant`: when it failed, `output` (its
    /// captured output) is read and checked against the test's diagnosis
    /// lines; a failing run whose output cannot be read matches none.
    pub fn check(run: Run, mutant: &Mutant, test: &str, output: impl FnOnce() -> Option<String>) -> Ran {
        let failed = matches!(run.outcome, Outcome::Failed { .. } | Outcome::TimedOut { .. });
        let unmatched = match failed && mutant.diagnoses_of(test).next().is_some() {
            false => Vec::new(),
            true => mutant.unmatched(test, &output().unwrap_or_default()),
        };
        Ran { run, unmatched }
    }
}

/// A unit's verdict from what is known of its tests' runs (by position in
/// the unit's order; `None`: not run yet, or skipped): the first test in
/// that order that did not pass decides, as if they ran one by one; but a
/// kill stands only if no test with diagnosis lines failed without the
/// output they require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// A test before the deciding one, or a test with diagnosis lines, has
    /// not finished yet.
    Pending,
    /// This test failed (or was stopped at its time limit), and every test
    /// with diagnosis lines that failed said what they require: it killed
    /// the mutant.
    Killed(usize),
    /// This test has diagnosis lines and failed, but its output did not
    /// match one ([`Ran::unmatched`]): it failed for another reason than
    /// the bug, so the mutant is not killed (the deciding test's is looked
    /// at first).
    WrongReason(usize),
    /// Every test passed (an exit status 0 without the tester's proof
    /// counts as a pass here: never a false kill).
    Survived,
    /// This test could not be judged (it never started, or the kit could
    /// not set it up): not a kill.
    Error(usize),
}

/// The verdict of a unit whose runs, by position, are `runs`, and whose
/// tests with diagnosis lines are those `diagnosed` marks ([`Unit::diagnosed`]).
pub fn judge(runs: &[Option<Ran>], diagnosed: &[bool]) -> Judgement {
    let killed = 'first: {
        for (p, r) in runs.iter().enumerate() {
            match r.as_ref().map(|r| &r.run.outcome) {
                None => return Judgement::Pending,
                Some(Outcome::Passed | Outcome::Unproven) => continue,
                Some(Outcome::Failed { .. } | Outcome::TimedOut { .. }) => break 'first p,
                Some(Outcome::NotRun { .. } | Outcome::Error { .. }) => return Judgement::Error(p),
            }
        }
        return Judgement::Survived;
    };
    let is_diagnosed = |q: usize| diagnosed.get(q).copied().unwrap_or(false);
    if (0..runs.len()).any(|q| is_diagnosed(q) && runs[q].is_none()) {
        return Judgement::Pending;
    }
    let wrong = |q: &usize| runs[*q].as_ref().is_some_and(|r| !r.unmatched.is_empty());
    match std::iter::once(killed).chain(0..runs.len()).find(wrong) {
        Some(q) => Judgement::WrongReason(q),
        None => Judgement::Killed(killed),
    }
}

/// Whether a test before position `pos` has already ended without
/// passing: then the test at `pos` cannot change which test decides.
pub fn decided_before(runs: &[Option<Ran>], pos: usize) -> bool {
    runs[..pos.min(runs.len())]
        .iter()
        .flatten()
        .any(|r| !matches!(r.run.outcome, Outcome::Passed | Outcome::Unproven))
}

/// Whether the test at `pos` of `unit` is skipped: a test before it has
/// already decided ([`decided_before`]), and it has no diagnosis lines (a
/// test with some always runs, so that what they say is checked).
pub fn skipped(unit: &Unit, runs: &[Option<Ran>], pos: usize) -> bool {
    decided_before(runs, pos) && !unit.diagnosed.get(pos).copied().unwrap_or(false)
}

/// The seconds of the runs that count for the verdict `j`: those up to
/// and including the deciding one (every one for a survivor).
pub fn seconds(runs: &[Option<Ran>], j: &Judgement) -> f64 {
    let upto = match j {
        Judgement::Killed(p) | Judgement::WrongReason(p) | Judgement::Error(p) => p + 1,
        _ => runs.len(),
    };
    runs[..upto].iter().flatten().map(|r| r.run.secs).sum()
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
            diagnoses: Vec::new(),
            edits: Vec::new(),
            file: PathBuf::from("m.mut"),
        }
    }

    fn run(outcome: Outcome) -> Ran {
        Ran { run: plain(outcome), unmatched: Vec::new() }
    }

    fn plain(outcome: Outcome) -> Run {
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
        assert_eq!(ci[0].diagnosed, [false, false]);
        let m = diagnosed(&["D2B", "B2B"], &[("B2B", "x")]);
        assert_eq!(units(&m, &c, true)[0].diagnosed, [false, true]);
        assert_eq!(units(&m, &c, false)[0].diagnosed, [true, false, false], "B2B, C2B, D2B");
    }

    #[test]
    fn the_first_test_in_order_that_did_not_pass_decides_whatever_ran_first() {
        let (pass, fail) = (Outcome::Passed, Outcome::Failed { code: Some(101), signal: None });
        let at = |v: &[Option<Outcome>]| v.iter().map(|o| o.clone().map(run)).collect::<Vec<_>>();
        // The third test failed first; the first two have not finished.
        let mut runs = at(&[None, None, Some(fail.clone()), None]);
        assert_eq!(judge(&runs, &[]), Judgement::Pending);
        assert!(decided_before(&runs, 3) && !decided_before(&runs, 2), "only later tests are skipped");
        runs[1] = Some(run(fail.clone()));
        assert_eq!(judge(&runs, &[]), Judgement::Pending, "the first may fail too");
        runs[0] = Some(run(pass.clone()));
        assert_eq!(judge(&runs, &[]), Judgement::Killed(1), "the first failure in order kills");
        assert_eq!(seconds(&runs, &Judgement::Killed(1)), 2.0);
        let timed_out = at(&[Some(Outcome::TimedOut { limit_secs: 1 })]);
        assert_eq!(judge(&timed_out, &[]), Judgement::Killed(0));
    }

    #[test]
    fn passes_are_survivals_and_a_run_that_was_not_judged_is_an_error() {
        let all = |o: Outcome| (0..3).map(|_| Some(run(o.clone()))).collect::<Vec<_>>();
        assert_eq!(judge(&all(Outcome::Passed), &[]), Judgement::Survived);
        assert_eq!(judge(&all(Outcome::Unproven), &[]), Judgement::Survived);
        assert_eq!(judge(&all(Outcome::NotRun { reason: "no labs".into() }), &[]), Judgement::Error(0));
        let setup = Outcome::Error { reason: "the kit could not set the test up".into() };
        let mut runs = all(Outcome::Passed);
        runs[1] = Some(run(setup));
        assert_eq!(judge(&runs, &[]), Judgement::Error(1), "an error is not a kill");
        assert!(decided_before(&runs, 2));
    }

    /// `mutant` with a `diagnosis:` line for each (test, regex).
    fn diagnosed(ci: &[&str], lines: &[(&str, &str)]) -> Mutant {
        let mut m = mutant(&["2B"], ci);
        for (i, (test, pattern)) in lines.iter().enumerate() {
            m.diagnoses.push(crate::mutant::Diagnosis::parse(&format!("{test} {pattern}"), 10 + i).unwrap());
        }
        m
    }

    #[test]
    fn a_kill_counts_only_when_the_output_says_what_its_diagnosis_lines_require() {
        let m = diagnosed(&["B2B", "C2B"], &[("B2B", r"applied index \d+ again"), ("B2B", "LAB_SEED=")]);
        let d = [true, false]; // B2B has diagnosis lines, C2B none
        let fail = || plain(Outcome::Failed { code: Some(1), signal: None });
        let said = "test B2B failed: node 1 applied index 4 again\nreplay: LAB_SEED=7\n";
        let right = Ran::check(fail(), &m, "B2B", || Some(said.into()));
        assert!(right.unmatched.is_empty(), "{:?}", right.unmatched);
        assert_eq!(judge(&[Some(right.clone()), None], &d), Judgement::Killed(0));
        // Failed, but not for the bug: a panic elsewhere, no seed printed.
        let other = Ran::check(fail(), &m, "B2B", || Some("thread panicked at harness/src/x.rs\n".into()));
        assert_eq!(other.unmatched, [r"applied index \d+ again", "LAB_SEED="]);
        assert_eq!(judge(&[Some(other.clone()), None], &d), Judgement::WrongReason(0));
        assert_eq!(seconds(&[Some(other.clone()), None], &Judgement::WrongReason(0)), 1.0);
        // One line of two missing is a wrong reason too; an unreadable output matches nothing.
        let half = Ran::check(fail(), &m, "B2B", || Some("node 1 applied index 4 again\n".into()));
        assert_eq!(half.unmatched, ["LAB_SEED="]);
        assert_eq!(Ran::check(fail(), &m, "B2B", || None).unmatched.len(), 2);
        // A test without diagnosis lines kills as before, and a passing run is not read.
        let by_c = Ran::check(fail(), &m, "C2B", || panic!("C2B has no diagnosis: not read"));
        let passed = Ran::check(plain(Outcome::Passed), &m, "B2B", || panic!("a pass is not read"));
        assert_eq!(judge(&[Some(passed.clone()), Some(by_c.clone())], &d), Judgement::Killed(1));
        let timed_out =
            Ran::check(plain(Outcome::TimedOut { limit_secs: 1 }), &m, "B2B", || Some(String::new()));
        assert_eq!(judge(&[Some(timed_out), None], &d), Judgement::WrongReason(0), "stopped, saying nothing");
        // The unit's order is C2B, then B2B: C2B decides, but B2B is not
        // skipped, the verdict waits for it, and its wrong reason counts.
        let unit =
            Unit { name: "ci".into(), tests: vec![entry("C2B"), entry("B2B")], diagnosed: vec![false, true] };
        let waiting = [Some(by_c.clone()), None];
        assert!(!skipped(&unit, &waiting, 1), "a diagnosed test always runs");
        assert_eq!(judge(&waiting, &unit.diagnosed), Judgement::Pending);
        assert_eq!(judge(&[Some(by_c.clone()), Some(other)], &unit.diagnosed), Judgement::WrongReason(1));
        assert_eq!(judge(&[Some(by_c.clone()), Some(right)], &unit.diagnosed), Judgement::Killed(0));
        assert_eq!(judge(&[Some(by_c.clone()), Some(passed)], &unit.diagnosed), Judgement::Killed(0));
        let plain_unit = Unit { diagnosed: vec![false, false], ..unit };
        assert!(skipped(&plain_unit, &waiting, 1), "an undiagnosed test after the decider is skipped");
    }

    #[test]
    fn a_diagnosis_must_name_a_catalogue_test_of_the_mutants_groups() {
        let c = catalogue();
        assert!(validate(&[&diagnosed(&["C2B"], &[("C2B", "x")])], &c).is_ok());
        let e = validate(&[&diagnosed(&["Nope2B"], &[("Nope2B", "x")])], &c).unwrap_err();
        assert!(e.contains("test Nope2B (diagnosis: at m.mut:10)"), "{e}");
        let e = validate(&[&diagnosed(&["E2C"], &[("E2C", "x")])], &c).unwrap_err();
        assert!(
            e.contains("test E2C of group 2C in no group of `groups: 2B` (diagnosis: at m.mut:10;"),
            "{e}"
        );
    }
}
