//! The kill matrix: what every (round, mutant, group) gave, and its views —
//! the console table, `matrix.tsv` and `matrix.json` — and the self-check's
//! verdict on it.

use serde::Serialize;

/// The version of the `matrix.json` layout.
pub const MATRIX_FORMAT: u32 = 1;
/// The column of the CI matrix (a mutant's `ci:` tests).
pub const CI_COLUMN: &str = "ci";
/// The order of the columns: the labs' groups, then the CI tests.
const COLUMN_ORDER: [&str; 7] = ["2A", "2B", "2C", "2D", "3A", "3B", CI_COLUMN];

/// What one group (or the CI tests) did to one mutant in one round.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A test failed against the mutant.
    Killed,
    /// Every test passed against the mutant: a finding against the tests.
    Survived,
    /// A test failed against the mutant, but its output did not say what
    /// the mutant's `diagnosis:` lines for it require: not a kill (the test
    /// failed for another reason than the bug), and a finding.
    WrongReason,
    /// The mutant did not build, so nothing ran: a finding against the mutant.
    BuildFailed,
    /// A test could not be judged (it never started, or the kit could not
    /// set it up): not a kill, and the self-check could not judge the mutant.
    Error,
}

/// One cell of one round.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Row {
    /// 1-based.
    pub round: u32,
    /// The mutant's name.
    pub mutant: String,
    /// The group, or [`CI_COLUMN`].
    pub group: String,
    /// What happened.
    pub result: Verdict,
    /// The test that killed it.
    pub killed_by: Option<String>,
    /// That run's seed (`LAB_SEED` replays it).
    pub seed: Option<u64>,
    /// Seconds the group's runs took.
    pub seconds: f64,
    /// For an [`Verdict::Error`]: the test and why it could not be judged;
    /// for a [`Verdict::WrongReason`]: the test, the diagnoses its output
    /// did not match, and where that output is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A whole self-check.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Matrix {
    /// [`MATRIX_FORMAT`].
    pub format: u32,
    /// "ci" or "full".
    pub mode: String,
    /// Rounds run.
    pub rounds: u32,
    /// The seed every run's seed derives from.
    pub base_seed: u64,
    /// Wall-clock seconds of the whole self-check.
    pub elapsed_secs: f64,
    /// The mutants run that are recorded survivors (a `known:` line).
    pub known: Vec<String>,
    /// The correct variants run (`expect: pass`): they must survive.
    pub variants: Vec<String>,
    /// Every cell of every round: by mutant (catalogue order), round and group, whatever order they ran in.
    pub rows: Vec<Row>,
}

/// The self-check's verdict.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// Every mutant was killed wherever it ran, on every round (recorded survivors aside).
    AllKilled,
    /// These mutants survived somewhere and are not recorded survivors.
    Survivors(Vec<String>),
    /// These mutants did not build: the matrix is incomplete.
    BuildFailed(Vec<String>),
    /// These correct variants failed a test: (variant, test) pairs.
    VariantsKilled(Vec<(String, String)>),
    /// A test failed against these mutants without the output their
    /// `diagnosis:` lines require.
    WrongReason(Vec<String>),
    /// A test of these mutants could not be judged (kit or setup errors):
    /// the matrix is incomplete.
    Errors(Vec<String>),
}

impl Matrix {
    /// The rows as tab-separated values with a header line.
    pub fn tsv(&self) -> String {
        let mut out = String::from("round\tmutant\tgroup\tresult\tkilled_by\tseconds\tseed\n");
        for r in &self.rows {
            let seed = r.seed.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
            out += &format!(
                "{}\t{}\t{}\t{}\t{}\t{:.0}\t{seed}\n",
                r.round,
                r.mutant,
                r.group,
                verdict_word(r.result),
                r.killed_by.as_deref().unwrap_or("-"),
                r.seconds
            );
        }
        out
    }

    /// The distinct (mutant, group) pairs that survived at least one round, in run order.
    pub fn survivors(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for r in self.rows.iter().filter(|r| r.result == Verdict::Survived) {
            let pair = (r.mutant.clone(), r.group.clone());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
        out
    }

    /// The correct variants that a test failed, with that test, in run order
    /// (a variant with a `known:` line is a recorded finding: not counted).
    pub fn variants_killed(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let counted = |m: &String| self.variants.contains(m) && !self.known.contains(m);
        for r in self.rows.iter().filter(|r| r.result == Verdict::Killed && counted(&r.mutant)) {
            let pair = (r.mutant.clone(), r.killed_by.clone().unwrap_or_default());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
        out
    }

    /// The mutants with a row of verdict `v`, in run order.
    fn mutants_with(&self, v: Verdict) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.rows.iter().filter(|r| r.result == v) {
            if !out.contains(&r.mutant) {
                out.push(r.mutant.clone());
            }
        }
        out
    }

    /// The verdict: build failures and errors first (the check is
    /// incomplete), then correct variants a test failed, then kills for a
    /// wrong reason, then survivors.
    pub fn status(&self) -> Status {
        let broken = self.mutants_with(Verdict::BuildFailed);
        if !broken.is_empty() {
            return Status::BuildFailed(broken);
        }
        let errors = self.mutants_with(Verdict::Error);
        if !errors.is_empty() {
            return Status::Errors(errors);
        }
        let killed = self.variants_killed();
        if !killed.is_empty() {
            return Status::VariantsKilled(killed);
        }
        let wrong = self.mutants_with(Verdict::WrongReason);
        if !wrong.is_empty() {
            return Status::WrongReason(wrong);
        }
        let mut new: Vec<String> = Vec::new();
        for (m, _) in self.survivors() {
            if !self.known.contains(&m) && !self.variants.contains(&m) && !new.contains(&m) {
                new.push(m);
            }
        }
        if new.is_empty() { Status::AllKilled } else { Status::Survivors(new) }
    }

    /// The console view: one row per mutant, one column per group (or
    /// "ci"); a cell is the test that killed the mutant (the distinct
    /// killers over the rounds joined by "/"), SURVIVED, WRONG-REASON, or
    /// BUILD-FAILED; then the findings.
    pub fn table(&self) -> String {
        let mut mutants: Vec<&str> = Vec::new();
        let mut columns: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !mutants.contains(&r.mutant.as_str()) {
                mutants.push(&r.mutant);
            }
            if !columns.contains(&r.group.as_str()) {
                columns.push(&r.group);
            }
        }
        columns.sort_by_key(|g| COLUMN_ORDER.iter().position(|c| c == g).unwrap_or(COLUMN_ORDER.len()));
        let cell = |m: &str, g: &str| -> String {
            let mut seen: Vec<&str> = Vec::new();
            for r in self.rows.iter().filter(|r| r.mutant == m && r.group == g) {
                let word = match r.result {
                    Verdict::Killed => r.killed_by.as_deref().unwrap_or("killed"),
                    Verdict::Survived => "SURVIVED",
                    Verdict::WrongReason => "WRONG-REASON",
                    Verdict::BuildFailed => "BUILD-FAILED",
                    Verdict::Error => "ERROR",
                };
                if !seen.contains(&word) {
                    seen.push(word);
                }
            }
            if seen.is_empty() { "-".into() } else { seen.join("/") }
        };
        let first = mutants.iter().map(|m| m.len()).max().unwrap_or(0).max("mutant".len());
        let widths: Vec<usize> = columns
            .iter()
            .map(|g| mutants.iter().map(|m| cell(m, g).len()).max().unwrap_or(0).max(g.len()))
            .collect();
        let line = |head: &str, cells: Vec<String>| -> String {
            let cells: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:w$}")).collect();
            format!("  {head:first$}  {}", cells.join("  ")).trim_end().to_string() + "\n"
        };
        let plural = if self.rounds == 1 { "" } else { "s" };
        let mut out = format!(
            "\nkill matrix ({} mutants, {} matrix, {} round{plural}): the test that killed each mutant, per group\n",
            mutants.len(),
            self.mode,
            self.rounds
        );
        out += &line("mutant", columns.iter().map(|c| c.to_string()).collect());
        for m in &mutants {
            out += &line(m, columns.iter().map(|g| cell(m, g)).collect());
        }
        out += "\n";
        let survivors = self.survivors();
        let survivors: Vec<_> = survivors.into_iter().filter(|(m, _)| !self.variants.contains(m)).collect();
        let (known, new): (Vec<_>, Vec<_>) = survivors.iter().partition(|(m, _)| self.known.contains(m));
        let killed = self.variants_killed();
        if !killed.is_empty() {
            let list: Vec<_> = killed.iter().map(|(m, t)| format!("{m} (by {t})")).collect();
            out += &format!("CORRECT VARIANTS FAILED (a test fails a correct Raft): {}\n", list.join(", "));
        }
        let mut recorded: Vec<String> = Vec::new();
        for r in self.rows.iter().filter(|r| r.result == Verdict::Killed) {
            let finding = format!("{} (by {})", r.mutant, r.killed_by.as_deref().unwrap_or("?"));
            if self.variants.contains(&r.mutant)
                && self.known.contains(&r.mutant)
                && !recorded.contains(&finding)
            {
                recorded.push(finding);
            }
        }
        if !recorded.is_empty() {
            out += &format!(
                "recorded findings: correct variants a test fails (a `known:` line; not failures): {}\n",
                recorded.join(", ")
            );
        }
        let variants = mutants.iter().filter(|m| self.variants.iter().any(|v| v == *m)).count();
        let mutants: Vec<&str> =
            mutants.into_iter().filter(|m| !self.variants.iter().any(|v| v == m)).collect();
        if variants > 0 && killed.is_empty() && recorded.is_empty() {
            out += &format!("all {variants} correct variants passed every test they were run against\n");
        }
        if mutants.is_empty() {
            return out;
        }
        let list = |v: &[&(String, String)]| {
            v.iter().map(|(m, g)| format!("{m} ({g})")).collect::<Vec<_>>().join(", ")
        };
        if !known.is_empty() {
            out += &format!("recorded survivors (a `known:` line; not failures): {}\n", list(&known));
        }
        let broken = match self.status() {
            Status::BuildFailed(m) => m,
            _ => Vec::new(),
        };
        if !broken.is_empty() {
            out += &format!("DID NOT BUILD (the matrix is incomplete): {}\n", broken.join(", "));
        }
        let errors: Vec<String> = self
            .rows
            .iter()
            .filter(|r| r.result == Verdict::Error)
            .map(|r| format!("{} ({})", r.mutant, r.error.as_deref().unwrap_or("?")))
            .collect();
        if !errors.is_empty() {
            out += &format!(
                "COULD NOT JUDGE (kit or setup errors, not kills; the matrix is incomplete): {}\n",
                errors.join(", ")
            );
        }
        let wrong: Vec<String> = self
            .rows
            .iter()
            .filter(|r| r.result == Verdict::WrongReason)
            .map(|r| {
                format!(
                    "{} ({}, round {}: {})",
                    r.mutant,
                    r.group,
                    r.round,
                    r.error.as_deref().unwrap_or("?")
                )
            })
            .collect();
        if !wrong.is_empty() {
            out += &format!(
                "WRONG REASON (a test failed, but its output lacks what the mutant's diagnosis lines require; \
                 not kills): {}\n",
                wrong.join("; ")
            );
        }
        if !new.is_empty() {
            out += &format!("SURVIVORS: {}\n", list(&new));
        } else if broken.is_empty() && errors.is_empty() && wrong.is_empty() {
            out += &match known.is_empty() {
                true => format!(
                    "all {} mutants killed in every group they were run against, on every round\n",
                    mutants.len()
                ),
                false => {
                    "every other mutant killed in every group it was run against, on every round\n".into()
                }
            };
        }
        out
    }
}

/// The word a verdict is written as in `matrix.tsv`.
fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Killed => "killed",
        Verdict::Survived => "SURVIVED",
        Verdict::WrongReason => "WRONG-REASON",
        Verdict::BuildFailed => "BUILD-FAILED",
        Verdict::Error => "ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(round: u32, mutant: &str, group: &str, killer: Option<&str>) -> Row {
        Row {
            round,
            mutant: mutant.into(),
            group: group.into(),
            result: if killer.is_some() { Verdict::Killed } else { Verdict::Survived },
            killed_by: killer.map(String::from),
            seed: killer.map(|_| 7),
            seconds: 12.4,
            error: None,
        }
    }

    fn matrix(rows: Vec<Row>, known: &[&str]) -> Matrix {
        Matrix {
            format: MATRIX_FORMAT,
            mode: "full".into(),
            rounds: 2,
            base_seed: 1,
            elapsed_secs: 3.0,
            known: known.iter().map(|s| s.to_string()).collect(),
            variants: Vec::new(),
            rows,
        }
    }

    #[test]
    fn the_table_has_a_column_per_group_in_lab_order_and_joins_killers_over_rounds() {
        let m = matrix(
            vec![
                row(1, "vote-any-log", "2C", Some("Persist12C")),
                row(1, "vote-any-log", "2B", Some("Rejoin2B")),
                row(2, "vote-any-log", "2B", Some("Backup2B")),
                row(2, "vote-any-log", "2C", Some("Persist12C")),
                row(1, "kv-no-dedup", "3A", None),
            ],
            &[],
        );
        let t = m.table();
        assert!(t.contains("  mutant        2B                 2C          3A\n"), "{t}");
        assert!(t.contains("  vote-any-log  Rejoin2B/Backup2B  Persist12C  -\n"), "{t}");
        assert!(t.contains("  kv-no-dedup   -                  -           SURVIVED\n"), "{t}");
        assert!(t.contains("SURVIVORS: kv-no-dedup (3A)"), "{t}");
        assert_eq!(m.status(), Status::Survivors(vec!["kv-no-dedup".into()]));
    }

    #[test]
    fn a_correct_variant_must_survive_and_a_kill_is_the_finding() {
        let mut m = matrix(vec![row(1, "v", "2B", None), row(1, "v", "2C", Some("StaleReply2C"))], &[]);
        m.variants = vec!["v".into()];
        assert_eq!(m.status(), Status::VariantsKilled(vec![("v".into(), "StaleReply2C".into())]));
        assert!(
            m.table().contains("CORRECT VARIANTS FAILED (a test fails a correct Raft): v (by StaleReply2C)")
        );
        assert!(!m.table().contains("SURVIVORS"), "a variant's survival is what it is for: {}", m.table());
        assert!(!m.table().contains("mutants killed"), "a variant is not counted as a mutant: {}", m.table());
        let mut m = matrix(vec![row(1, "v", "2B", None)], &[]);
        m.variants = vec!["v".into()];
        assert_eq!(m.status(), Status::AllKilled);
        let mut m = matrix(vec![row(1, "v", "2C", Some("StaleReply2C"))], &["v"]);
        m.variants = vec!["v".into()];
        assert_eq!(m.status(), Status::AllKilled, "a recorded finding does not fail the check");
        assert!(m.table().contains("recorded findings: correct variants a test fails"), "{}", m.table());
    }

    #[test]
    fn a_survivor_on_one_round_is_a_survivor() {
        let m = matrix(vec![row(1, "a", "ci", Some("X2A")), row(2, "a", "ci", None)], &[]);
        assert!(m.table().contains("  a       X2A/SURVIVED\n"), "{}", m.table());
        assert_eq!(m.status(), Status::Survivors(vec!["a".into()]));
    }

    #[test]
    fn recorded_survivors_do_not_fail_the_check_and_build_failures_do() {
        let m = matrix(vec![row(1, "a", "ci", Some("X2A")), row(1, "b", "ci", None)], &["b"]);
        assert_eq!(m.status(), Status::AllKilled);
        assert!(m.table().contains("recorded survivors (a `known:` line; not failures): b (ci)"));
        let mut broken = row(1, "c", "ci", None);
        broken.result = Verdict::BuildFailed;
        let m = matrix(vec![row(1, "a", "ci", None), broken], &[]);
        assert_eq!(m.status(), Status::BuildFailed(vec!["c".into()]));
        assert!(m.table().contains("  c       BUILD-FAILED\n"), "{}", m.table());
        assert!(m.table().contains("DID NOT BUILD (the matrix is incomplete): c\nSURVIVORS: a (ci)\n"));
    }

    #[test]
    fn a_test_that_could_not_be_judged_is_an_error_not_a_kill() {
        let mut e = row(1, "c", "ci", None);
        e.result = Verdict::Error;
        e.error = Some("StepDown2A: error, not a verdict: the kit could not set the test up".into());
        let m = matrix(vec![row(1, "a", "ci", Some("X2A")), e], &[]);
        assert_eq!(m.status(), Status::Errors(vec!["c".into()]));
        let t = m.table();
        assert!(t.contains("  c       ERROR\n"), "{t}");
        assert!(t.contains("COULD NOT JUDGE (kit or setup errors, not kills; the matrix is incomplete): c (StepDown2A: error"), "{t}");
        assert!(!t.contains("all 2 mutants killed"), "{t}");
        assert!(m.tsv().contains("1\tc\tci\tERROR\t-\t"), "{}", m.tsv());
        let json: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(json["rows"][1]["result"], "error");
        assert!(json["rows"][0].get("error").is_none());
    }

    #[test]
    fn all_killed_is_said_and_the_tsv_has_a_row_per_cell() {
        let m = matrix(vec![row(1, "a", "2A", Some("X2A")), row(1, "a", "2B", Some("Y2B"))], &[]);
        assert_eq!(m.status(), Status::AllKilled);
        assert!(m.table().contains("all 1 mutants killed in every group"));
        assert_eq!(
            m.tsv(),
            "round\tmutant\tgroup\tresult\tkilled_by\tseconds\tseed\n\
             1\ta\t2A\tkilled\tX2A\t12\t7\n1\ta\t2B\tkilled\tY2B\t12\t7\n"
        );
        let json: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(json["rows"][0]["result"], "killed");
        assert_eq!(json["rows"][1]["killed_by"], "Y2B");
    }

    #[test]
    fn a_kill_for_a_wrong_reason_is_a_finding_not_a_kill() {
        let mut w = row(1, "apply-twice", "ci", None);
        w.result = Verdict::WrongReason;
        w.seed = Some(7);
        w.error = Some("BasicAgree2B: its output did not match `applied index`".into());
        let m = matrix(vec![row(1, "a", "ci", Some("X2A")), w], &["apply-twice"]);
        assert_eq!(
            m.status(),
            Status::WrongReason(vec!["apply-twice".into()]),
            "a `known:` line does not excuse it"
        );
        let t = m.table();
        assert!(t.contains("  apply-twice  WRONG-REASON\n"), "{t}");
        assert!(
            t.contains("not kills): apply-twice (ci, round 1: BasicAgree2B: its output did not match `applied index`)"),
            "{t}"
        );
        assert!(!t.contains("mutants killed"), "{t}");
        assert!(m.tsv().contains("1\tapply-twice\tci\tWRONG-REASON\t-\t12\t7\n"), "{}", m.tsv());
        let json: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(json["rows"][1]["result"], "wrong_reason");
        assert!(json["rows"][1]["error"].as_str().unwrap().contains("BasicAgree2B"));
    }
}
