//! The self-check's mutants: the `.mut` format, a catalogue folder of them,
//! and applying one to a copy of the reference crates.
//!
//! A mutant reintroduces one classic bug into the reference `raft/` or
//! `kvraft/` with one or more textual edits:
//!
//! ```text
//! # comments and blank lines are ignored
//! name: no-prev-check                 # = the file name without .mut
//! bug: follower accepts AppendEntries without the prev_log_index/prev_log_term check
//! groups: 2B 2C                       # the groups that teach it (the full matrix)
//! ci: FailAgree2B Rejoin2B            # the test(s) that kill it fastest (the CI matrix)
//! known: why it survives              # optional: a recorded survivor, reported but not failed
//! expect: pass                        # optional: a correct variant, which every test must pass
//! diagnosis: FailAgree2B agreement    # optional, repeatable: TEST REGEX (see below)
//! edit raft/src/replication.rs
//! <<<<
//!     exact lines of the reference (the anchor)
//! ====
//!     what replaces them (may be empty)
//! >>>>
//! ```
//!
//! The rule that keeps mutants honest: each anchor occurs exactly once in its
//! file when its edit applies (edits apply in order, each to the text the
//! ones before it left). A mutant whose anchor drifted from the reference
//! fails loudly, naming the `.mut` file, the line of its `edit` and the
//! mutant, instead of silently testing nothing.
//!
//! A `diagnosis: TEST REGEX` line says why TEST must fail against the
//! mutant: whenever TEST fails against it, that run's output must
//! match REGEX (a Rust [`regex`], the rest of the line, no trailing comment;
//! matched line by line as `grep` does: `^` and `$` match at each line's
//! ends and `.` does not cross one), or the kill is a wrong reason. A
//! mutant may have several, for one test or more; TEST must be on its `ci:`
//! line (what `grader selfcheck --ci` runs), and a correct variant has none.

use regex::{Regex, RegexBuilder};
use std::path::{Component, Path, PathBuf};

/// The crates a mutant may edit, copied whole into its scratch folder: the
/// student crates of the workspace at `root`, found as the skeletons in its
/// `handout/` (a folder with a `Cargo.toml` each; `cargo test -p labs` holds
/// them to the labs' declaration), sorted.
///
/// # Errors
/// When `root/handout` cannot be read or holds no skeleton.
pub fn student_crates(root: &Path) -> Result<Vec<String>, String> {
    let handout = root.join("handout");
    let entries =
        std::fs::read_dir(&handout).map_err(|e| format!("cannot read {}: {e}", handout.display()))?;
    let mut crates = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", handout.display()))?.path();
        if path.join("Cargo.toml").is_file()
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            crates.push(name.to_string());
        }
    }
    crates.sort();
    if crates.is_empty() {
        return Err(format!("{} holds no skeleton crate (a folder with a Cargo.toml)", handout.display()));
    }
    Ok(crates)
}
/// The catalogue folder, relative to the workspace, when none is given.
pub const DEFAULT_CATALOGUE: &str = "selfcheck/mutants";
/// The environment variable that names another catalogue folder
/// (`--catalogue` wins over it).
pub const CATALOGUE_VAR: &str = "SELFCHECK_MUTANTS";
/// A mutant file's extension.
const EXTENSION: &str = "mut";

/// One mutant, as its file says.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutant {
    /// Its name, the same as its file's.
    pub name: String,
    /// The bug it reintroduces, in one line.
    pub bug: String,
    /// The groups that teach the bug: the full matrix runs each.
    pub groups: Vec<String>,
    /// The tests that kill it fastest: the CI matrix runs these.
    pub ci: Vec<String>,
    /// Why it is a recorded survivor, if it is one: its survival is reported
    /// but does not fail the self-check.
    pub known: Option<String>,
    /// A correct design other than the reference's (`expect: pass`), not a
    /// bug: every test it runs must pass, and a kill is a finding against
    /// that test (it fails a correct Raft).
    pub variant: bool,
    /// Its `diagnosis:` lines, in file order: what the output of a test
    /// that fails against it must say.
    pub diagnoses: Vec<Diagnosis>,
    /// Its edits, in order.
    pub edits: Vec<Edit>,
    /// The file it was read from.
    pub file: PathBuf,
}

/// One `diagnosis: TEST REGEX` line: when `test` fails against the mutant,
/// the run's output must match `pattern`, or it failed for another reason.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// The catalogue id of the test ("InitialElection2A"); on the mutant's `ci:` line.
    pub test: String,
    /// What its output must match, line by line (multi-line mode).
    pub pattern: Regex,
    /// The line of the `diagnosis:` in the mutant file (1-based).
    pub line: usize,
}

impl PartialEq for Diagnosis {
    fn eq(&self, other: &Diagnosis) -> bool {
        (&self.test, self.pattern.as_str(), self.line) == (&other.test, other.pattern.as_str(), other.line)
    }
}

impl Diagnosis {
    /// Parses the value of a `diagnosis:` line: a test id, blanks, a regex.
    ///
    /// # Errors
    /// If the test or the regex is missing, or the regex does not compile.
    pub fn parse(value: &str, line: usize) -> Result<Diagnosis, String> {
        let value = value.trim();
        let Some((test, pattern)) = value.split_once(char::is_whitespace) else {
            return Err(format!(
                "`diagnosis:` is `TEST REGEX` (a test id, then what its output must match), found `{value}`"
            ));
        };
        let pattern = pattern.trim();
        let pattern = RegexBuilder::new(pattern)
            .multi_line(true)
            .build()
            .map_err(|e| format!("the diagnosis of {test} is not a regex: {e}"))?;
        Ok(Diagnosis { test: test.to_string(), pattern, line })
    }

    /// Whether `output`, a run's captured output, says what this line requires.
    pub fn matches(&self, output: &str) -> bool {
        self.pattern.is_match(output)
    }
}

/// One `edit` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The file it changes, relative to the workspace ("raft/src/election.rs").
    pub target: String,
    /// The line of its `edit` in the mutant file (1-based).
    pub line: usize,
    /// The exact text to find (whole lines, each ending in a newline).
    pub anchor: String,
    /// What replaces it (whole lines, or empty).
    pub replacement: String,
}

/// A mutant file that cannot be read or parsed, or a mutant that no longer
/// applies to the reference. `place` is the file, with the line when one is at fault.
#[derive(Debug, thiserror::Error)]
#[error("{place}: {why}")]
pub struct MutantError {
    /// "selfcheck/mutants/no-prev-check.mut:5".
    pub place: String,
    /// What is wrong, naming the mutant.
    pub why: String,
}

impl MutantError {
    fn at(file: &Path, line: Option<usize>, why: impl Into<String>) -> MutantError {
        let place = match line {
            Some(l) => format!("{}:{l}", file.display()),
            None => file.display().to_string(),
        };
        MutantError { place, why: why.into() }
    }
}

/// The catalogue folder: `explicit`, else `$SELFCHECK_MUTANTS`, else
/// [`DEFAULT_CATALOGUE`] in `workspace`.
pub fn catalogue_dir(explicit: Option<&Path>, workspace: &Path) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(CATALOGUE_VAR).filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| workspace.join(DEFAULT_CATALOGUE))
}

/// Reads every `*.mut` file of `dir`, in file name order.
///
/// # Errors
/// If the folder cannot be read, holds no mutant, or a file is malformed.
pub fn load(dir: &Path) -> Result<Vec<Mutant>, MutantError> {
    let io = |e: std::io::Error| MutantError::at(dir, None, format!("cannot read the mutant catalogue: {e}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    files.retain(|p| p.extension().is_some_and(|x| x == EXTENSION) && p.is_file());
    files.sort();
    if files.is_empty() {
        return Err(MutantError::at(dir, None, "no *.mut file: not a mutant catalogue"));
    }
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).map_err(|e| MutantError::at(f, None, e.to_string()))?;
            parse(f, &text)
        })
        .collect()
}

/// The mutant called `name`.
///
/// # Errors
/// If there is none, listing those there are.
pub fn find<'a>(mutants: &'a [Mutant], name: &str, dir: &Path) -> Result<&'a Mutant, MutantError> {
    mutants.iter().find(|m| m.name == name).ok_or_else(|| {
        let known: Vec<&str> = mutants.iter().map(|m| m.name.as_str()).collect();
        MutantError::at(dir, None, format!("no mutant {name} (known: {})", known.join(", ")))
    })
}

/// Parses the text of the mutant file `file`.
///
/// # Errors
/// Naming the line at fault: an unknown or repeated field, a line that is
/// neither a field, an edit nor a comment, an edit block without `<<<<`,
/// `====` or `>>>>`, an empty anchor, an edit that changes nothing or edits
/// outside a crate folder, a missing field, a name other than the file's, no edit;
/// a `diagnosis:` without a test and a regex, whose regex does not compile,
/// whose test is not on the `ci:` line, or on a correct variant.
pub fn parse(file: &Path, text: &str) -> Result<Mutant, MutantError> {
    let err = |line: usize, why: String| MutantError::at(file, Some(line), why);
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut fields: Vec<(&str, String, usize)> = Vec::new();
    let mut edits = Vec::new();
    let mut diagnoses: Vec<Diagnosis> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(target) = line.strip_prefix("edit ") {
            let (edit, next) = parse_edit(file, &lines, i, target.trim())?;
            edits.push(edit);
            i = next;
            continue;
        }
        let content = line.trim();
        i += 1;
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(err(
                i,
                format!("expected `field: value`, `edit FILE` or a # comment, found `{content}`"),
            ));
        };
        let key = key.trim();
        if key == DIAGNOSIS {
            diagnoses.push(Diagnosis::parse(value, i).map_err(|why| err(i, why))?);
            continue;
        }
        let Some(&known) = FIELDS.iter().find(|f| **f == key) else {
            return Err(err(i, format!("unknown field `{key}` (known: {}, {DIAGNOSIS})", FIELDS.join(", "))));
        };
        if let Some((_, _, first)) = fields.iter().find(|(k, _, _)| *k == known) {
            return Err(err(i, format!("field `{key}` given twice (first on line {first})")));
        }
        let value = value.split('#').next().unwrap_or("").trim().to_string();
        fields.push((known, value, i));
    }
    let field = |key: &str| -> Result<String, MutantError> {
        match fields.iter().find(|(k, _, _)| *k == key) {
            Some((_, v, _)) if !v.is_empty() => Ok(v.clone()),
            Some((_, _, line)) => Err(err(*line, format!("field `{key}` is empty"))),
            None => Err(MutantError::at(file, None, format!("missing `{key}:`"))),
        }
    };
    let name = field("name")?;
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if name != stem {
        return Err(MutantError::at(
            file,
            None,
            format!("name `{name}` differs from the file name `{stem}`"),
        ));
    }
    let words = |v: String| -> Vec<String> {
        v.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).map(String::from).collect()
    };
    let mutant = Mutant {
        bug: field("bug")?,
        groups: words(field("groups")?),
        ci: words(field("ci")?),
        known: field("known").ok(),
        variant: match fields.iter().find(|(k, _, _)| *k == "expect") {
            None => false,
            Some((_, v, _)) if v == "kill" => false,
            Some((_, v, _)) if v == "pass" => true,
            Some((_, v, line)) => {
                return Err(err(*line, format!("`expect:` is `pass` or `kill`, not `{v}`")));
            }
        },
        diagnoses,
        edits,
        file: file.to_path_buf(),
        name,
    };
    if mutant.edits.is_empty() {
        return Err(MutantError::at(file, None, format!("mutant {}: no `edit` block", mutant.name)));
    }
    for d in &mutant.diagnoses {
        if mutant.variant {
            return Err(err(
                d.line,
                "a correct variant (`expect: pass`) must pass: it has no diagnosis".into(),
            ));
        }
        if !mutant.ci.contains(&d.test) {
            return Err(err(
                d.line,
                format!(
                    "the diagnosis names {}, which is not on the `ci:` line ({}): \
                     `grader selfcheck --ci` would never run it",
                    d.test,
                    mutant.ci.join(" ")
                ),
            ));
        }
    }
    Ok(mutant)
}

/// The fields a mutant file may have once.
const FIELDS: [&str; 6] = ["name", "bug", "groups", "ci", "known", "expect"];
/// The field a mutant file may repeat: `diagnosis: TEST REGEX`.
const DIAGNOSIS: &str = "diagnosis";

/// Parses the edit block whose `edit` line is `lines[start]`; returns it and
/// the index of the line after its `>>>>`.
fn parse_edit(file: &Path, lines: &[&str], start: usize, target: &str) -> Result<(Edit, usize), MutantError> {
    let line = start + 1;
    let err = |at: usize, why: String| MutantError::at(file, Some(at), why);
    check_target(target).map_err(|why| err(line, why))?;
    if lines.get(start + 1) != Some(&"<<<<") {
        return Err(err(line + 1, format!("expected `<<<<` on the line after `edit {target}`")));
    }
    let (mut anchor, mut replacement, mut in_replacement) = (Vec::new(), Vec::new(), false);
    let mut j = start + 2;
    while j < lines.len() && lines[j] != ">>>>" {
        match lines[j] {
            "====" if !in_replacement => in_replacement = true,
            l if in_replacement => replacement.push(l),
            l => anchor.push(l),
        }
        j += 1;
    }
    if !in_replacement {
        return Err(err(
            line,
            format!("the edit of {target} has no `====` between its anchor and replacement"),
        ));
    }
    if j == lines.len() {
        return Err(err(line, format!("the edit of {target} has no closing `>>>>`")));
    }
    if anchor.iter().all(|l| l.trim().is_empty()) {
        return Err(err(line, format!("the edit of {target} has an empty anchor")));
    }
    let join = |v: Vec<&str>| if v.is_empty() { String::new() } else { v.join("\n") + "\n" };
    let edit =
        Edit { target: target.to_string(), line, anchor: join(anchor), replacement: join(replacement) };
    if edit.anchor == edit.replacement {
        return Err(err(line, format!("the edit of {target} changes nothing")));
    }
    Ok((edit, j + 1))
}

/// A target must be a plain relative path inside a folder (a crate: which
/// ones are the student crates is known once the mutant meets a workspace,
/// [`Mutant::mutated_files`]).
fn check_target(target: &str) -> Result<(), String> {
    let path = Path::new(target);
    let plain = path.components().all(|c| matches!(c, Component::Normal(_))) && path.components().count() > 1;
    if plain {
        Ok(())
    } else {
        Err(format!("`edit {target}`: a mutant edits only files inside a student crate"))
    }
}

impl Mutant {
    /// Its diagnosis lines for `test`.
    pub fn diagnoses_of<'a>(&'a self, test: &'a str) -> impl Iterator<Item = &'a Diagnosis> + 'a {
        self.diagnoses.iter().filter(move |d| d.test == test)
    }

    /// Where diagnosis `d` is written: "selfcheck/contract/apply-twice.mut:5".
    pub fn place(&self, d: &Diagnosis) -> String {
        format!("{}:{}", self.file.display(), d.line)
    }

    /// The patterns of its diagnosis lines for `test` that `output` does
    /// not match, in file order (empty: `output` says all they require).
    pub fn unmatched(&self, test: &str, output: &str) -> Vec<String> {
        self.diagnoses_of(test)
            .filter(|d| !d.matches(output))
            .map(|d| d.pattern.as_str().to_string())
            .collect()
    }

    /// The files this mutant changes, with their mutated text, computed from
    /// the reference crates in `root` (which are only read).
    ///
    /// # Errors
    /// If a target file cannot be read, or an anchor does not occur exactly
    /// once when its edit applies.
    pub fn mutated_files(&self, root: &Path) -> Result<Vec<(String, String)>, MutantError> {
        let crates = student_crates(root).map_err(|why| MutantError::at(&self.file, None, why))?;
        let mut files: Vec<(String, String)> = Vec::new();
        for edit in &self.edits {
            let fail = |why: String| {
                MutantError::at(&self.file, Some(edit.line), format!("mutant {}: {why}", self.name))
            };
            if !crates.iter().any(|c| Path::new(&edit.target).starts_with(c)) {
                return Err(fail(format!(
                    "`edit {}`: a mutant edits only files inside the student crates ({}/)",
                    edit.target,
                    crates.join("/, ")
                )));
            }
            let at = match files.iter().position(|(t, _)| *t == edit.target) {
                Some(at) => at,
                None => {
                    let path = root.join(&edit.target);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
                    files.push((edit.target.clone(), text));
                    files.len() - 1
                }
            };
            let text = &mut files[at].1;
            let count = text.matches(edit.anchor.as_str()).count();
            if count != 1 {
                let first = edit.anchor.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
                return Err(fail(format!(
                    "the anchor starting `{first}` occurs {count} times in {} (want exactly 1): \
                     update the mutant to the reference",
                    edit.target
                )));
            }
            *text = text.replacen(edit.anchor.as_str(), &edit.replacement, 1);
        }
        Ok(files)
    }

    /// Writes `dest/raft` and `dest/kvraft`: copies of the reference crates
    /// in `root` (without build output) with this mutant's edits applied.
    /// Nothing is written when the mutant does not apply.
    ///
    /// # Errors
    /// As [`Mutant::mutated_files`], or if `dest` cannot be written.
    pub fn apply(&self, root: &Path, dest: &Path) -> Result<(), MutantError> {
        let files = self.mutated_files(root)?;
        let io = |what: &str, p: &Path, e: std::io::Error| {
            MutantError::at(
                &self.file,
                None,
                format!("mutant {}: cannot {what} {}: {e}", self.name, p.display()),
            )
        };
        for krate in student_crates(root).map_err(|why| MutantError::at(&self.file, None, why))? {
            let to = dest.join(&krate);
            crate::files::remove(&to).map_err(|e| io("clear", &to, e))?;
            crate::files::copy_tree(&root.join(&krate), &to, &["target"])
                .map_err(|e| io("copy to", &to, e))?;
        }
        for (target, text) in files {
            let path = dest.join(target);
            std::fs::write(&path, text).map_err(|e| io("write", &path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
