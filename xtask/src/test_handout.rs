//! The handout test: make the handout, check that it holds the kit and not
//! the kit's own raft/ and kvraft/, that its front page is the student guide
//! and that none of its texts speaks of a reference solution, build it as a
//! student would, lint the skeletons, and run every lab test against them:
//! each must fail, quickly, quoting the node's "not yet implemented" panic —
//! never pass, hang or crash the harness.

use crate::handout::{KIT_DEFINITIONS, NAME};
use crate::makefile::STAFF_TARGETS;
use crate::{kit_copy, run, sections, select, walk, wording};
use flate2::read::GzDecoder;
use regex::Regex;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

/// Where the handout's build goes unless `HANDOUT_TARGET` says; kept
/// between runs.
const DEFAULT_TARGET: &str = "target/handout-build";
/// Every lab test against the skeletons must be over within this many
/// seconds unless `HANDOUT_RUN_LIMIT` says (each fails at its first node
/// start; a hang would hit it).
const DEFAULT_RUN_LIMIT_SECS: u64 = 180;

/// The kit's files and folders whose handout copies must be the kit's.
const KIT_PARTS: &[&str] = &[
    "labrpc",
    "control",
    "platform",
    "protocol",
    "runner",
    "node",
    "harness",
    "labs",
    "lincheck",
    "grader",
    "docs",
    "scripts",
    "Cargo.toml",
    "Cargo.lock",
    "rustfmt.toml",
];

/// The tally of checks, one line each as they are made.
#[derive(Default)]
struct Checks {
    passed: usize,
    failed: usize,
}

impl Checks {
    /// Records and prints one check; returns `ok`.
    fn check(&mut self, what: &str, ok: bool) -> bool {
        if ok {
            self.passed += 1;
            println!("ok: {what}");
        } else {
            self.failed += 1;
            println!("FAILED: {what}");
        }
        ok
    }

    fn finish(self) -> ExitCode {
        println!("handout: {} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
    }
}

/// Runs `cmd` with its output (both streams) in `log`; whether it succeeded.
fn logged(cmd: &mut Command, log: &Path) -> bool {
    let Ok(file) = fs::File::create(log) else { return false };
    let Ok(err) = file.try_clone() else { return false };
    cmd.stdout(file).stderr(err).status().is_ok_and(|s| s.success())
}

fn read(log: &Path) -> String {
    fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

/// The last `n` lines of `text`, each indented by `indent`.
fn tail(text: &str, n: usize, indent: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| format!("{indent}{l}\n")).collect()
}

/// Whether the trees `a` and `b` hold the same files with the same bytes.
fn same_tree(a: &Path, b: &Path) -> bool {
    let none = |_: &str| false;
    match (walk::files(a, &none), walk::files(b, &none)) {
        (Ok(fa), Ok(fb)) => {
            fa == fb && fa.iter().all(|f| fs::read(a.join(f)).ok() == fs::read(b.join(f)).ok())
        }
        _ => false,
    }
}

/// The tarball's entry names.
fn tarball_entries(tarball: &Path) -> Vec<String> {
    let Ok(file) = fs::File::open(tarball) else { return Vec::new() };
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let Ok(entries) = archive.entries() else { return Vec::new() };
    entries.flatten().filter_map(|e| e.path().ok().map(|p| p.to_string_lossy().into_owned())).collect()
}

/// The names of the entries of folder `dir`.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// One handout test: where things are, and the tally so far.
struct Session<'a> {
    root: &'a Path,
    /// Where the handout is made: OUT/raftlab-handout/ and its tarball.
    out: PathBuf,
    dest: PathBuf,
    /// The handout's build output (`HANDOUT_TARGET`).
    target: PathBuf,
    /// The scratch folder: the commands' logs and the failing tests' folders.
    log: &'a Path,
    checks: Checks,
}

/// The handout test of the kit at `root` (see the module's doc).
pub fn run(root: &Path) -> ExitCode {
    let log = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("test-handout: cannot make a scratch folder: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = root.join("target/handout-test");
    let mut s = Session {
        root,
        dest: out.join(NAME),
        out,
        target: std::env::var_os("HANDOUT_TARGET").map_or_else(|| root.join(DEFAULT_TARGET), PathBuf::from),
        log: log.path(),
        checks: Checks::default(),
    };
    if s.make_it() {
        s.contents();
        s.wording();
        if s.build_and_lint() {
            let groups = s.groups();
            s.makefile(&groups);
            s.lab_run();
        }
    }
    s.checks.finish()
}

impl Session<'_> {
    fn check(&mut self, what: &str, ok: bool) -> bool {
        self.checks.check(what, ok)
    }

    /// `nice -n 10 cargo ARGS` in the handout, building into its target folder.
    fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("nice");
        cmd.args(["-n", "10", "cargo"])
            .args(args)
            .current_dir(&self.dest)
            .env("CARGO_TARGET_DIR", &self.target);
        cmd
    }

    /// `make -C DEST ARGS`.
    fn make(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("make");
        cmd.arg("-C").arg(&self.dest).arg("--no-print-directory").args(args);
        cmd.env("CARGO_TARGET_DIR", &self.target);
        cmd
    }

    /// The built handout's `labs ARGS`, its standard output.
    fn labs(&self, args: &[&str]) -> String {
        let out = Command::new(self.target.join("release/labs")).args(args).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
    }

    /// Make it (step 1: `xtask handout OUT`, this program); whether it was made.
    fn make_it(&mut self) -> bool {
        let err = self.log.join("make.err");
        let made = std::env::current_exe().and_then(|me| {
            Command::new(me)
                .arg("handout")
                .arg(&self.out)
                .stderr(Stdio::from(fs::File::create(&err)?))
                .output()
        });
        let printed = match made {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim_end().to_string(),
            _ => {
                print!("{}", read(&err));
                return self.check("xtask handout succeeds", false);
            }
        };
        let dest = self.dest.clone();
        self.check("xtask handout prints the folder", Path::new(&printed) == dest && dest.is_dir());
        let inside = format!("{NAME}/raft/src/lib.rs");
        let entries = tarball_entries(&self.out.join(format!("{NAME}.tar.gz")));
        self.check("the tarball holds the skeleton", entries.contains(&inside));
        true
    }

    /// What it holds (step 2): the skeletons, the guide, the kit's files
    /// (reworded where the rules say), nothing of the kit's own crates or for staff.
    fn contents(&mut self) {
        let (root, dest) = (self.root, self.dest.clone());
        let skeleton = |krate: &str, at: &str| same_tree(&root.join("handout").join(krate), &dest.join(at));
        let students = select::student_crates(root).unwrap_or_default();
        for krate in &students {
            self.check(&format!("{krate}/ is the skeleton"), skeleton(krate, krate));
        }
        let guide = fs::read(root.join("handout/README.md")).ok() == fs::read(dest.join("README.md")).ok();
        self.check("README.md is the student guide", guide && !dest.join("STUDENT.md").exists());
        self.check(
            "the pristine skeletons are there for the grading kit",
            !students.is_empty() && students.iter().all(|k| skeleton(k, &format!("handout/{k}"))),
        );
        // Each shipped crate file is the skeleton's (checked above); the kit's
        // own tests and a source file only the kit's raft has are not there.
        let kit_own = students.iter().map(|k| format!("{k}/tests")).chain(["raft/src/leader.rs".to_string()]);
        self.check(
            "no tests or sources of the kit's own crates",
            kit_own.into_iter().all(|p| !dest.join(p).exists()),
        );
        // Before the grading kit is made in it (under target/).
        self.check(
            "no mutants, build output or history, and handout/ holds only the skeletons",
            ["selfcheck", "target", ".git"].iter().all(|p| !dest.join(p).exists())
                && entries(&dest.join("handout")) == students,
        );
        // What only course staff use, left out on purpose (the kit's README is
        // replaced by the student guide).
        let present: Vec<&str> = select::STAFF_ONLY
            .iter()
            .map(|p| p.trim_end_matches('/'))
            .filter(|p| dest.join(p).exists())
            .collect();
        if !self.check("the course staff's files are left out", present.is_empty()) {
            println!("  still there: {}", present.join(" "));
        }
        for part in KIT_PARTS {
            let problems = kit_copy::problems(root, &dest, part);
            self.check(
                &format!("{part} is the kit's (reworded where {} says)", wording::RULES),
                problems.is_empty(),
            );
            for p in problems {
                println!("  {p}");
            }
        }
        let grader = dest.join("grader/Cargo.toml").is_file() && dest.join("grader/src").is_dir();
        self.check("the grader is in the handout", grader);
        let everything = walk::files(&dest, &|_| false).unwrap_or_default();
        let defines = |f: &String| fs::read(dest.join(f)).is_ok_and(|b| KIT_DEFINITIONS.is_match(&b));
        self.check("no definitions of the kit's own crates anywhere", !everything.iter().any(defines));
        // Last: making the kit builds the handout, and that build trims its
        // Cargo.lock to the skeletons' dependencies, as a student's first
        // build does; the copies above are what the handout ships.
        let kit_log = self.log.join("grading-kit");
        let made = logged(&mut self.make(&["grading-kit"]), &kit_log);
        self.check("the grading kit can be made in the handout (make grade SUBMISSION=… needs it)", made);
    }

    /// No text of the handout speaks of a solution of the course's own (step 2b).
    fn wording(&mut self) {
        let texts = walk::files(&self.dest, &|rel| rel == "target").unwrap_or_default();
        let mut said = Vec::new();
        for f in &texts {
            let Ok(bytes) = fs::read(self.dest.join(f)) else { continue };
            if bytes.is_empty() || !wording::is_text(&bytes) {
                continue;
            }
            for (n, line) in wording::hits(f, &String::from_utf8_lossy(&bytes)) {
                said.push(format!("{f}:{n}: {line}"));
            }
        }
        if !self.check("no text of the handout speaks of a reference solution, Raft or KV", said.is_empty()) {
            for s in said.iter().take(40) {
                println!("  {s}");
            }
        }
    }

    /// It builds as a student gets it, and the skeletons are lint-clean
    /// (step 3); whether it built.
    fn build_and_lint(&mut self) -> bool {
        let build_log = self.log.join("build");
        let built = logged(
            &mut self.cargo(&["build", "--release", "-p", "node", "-p", "labs", "-p", "grader"]),
            &build_log,
        );
        if !self.check("the handout builds (cargo build --release -p node -p labs -p grader)", built) {
            print!("{}", tail(&read(&build_log), 40, ""));
            return false;
        }
        let students = select::student_crates(self.root).unwrap_or_default();
        self.check("the skeletons build without warnings", !skeleton_warnings(&read(&build_log), &students));
        let packages: Vec<&str> = students.iter().flat_map(|k| ["-p", k.as_str()]).collect();
        let mut fmt = Command::new("cargo");
        fmt.arg("fmt").args(&packages).args(["--", "--check"]).current_dir(&self.dest);
        let fmt = logged(&mut fmt, &self.log.join("fmt"));
        self.check("the skeletons are rustfmt-clean", fmt);
        let clippy_log = self.log.join("clippy");
        let clippy_args: Vec<&str> = ["clippy"]
            .into_iter()
            .chain(packages.iter().copied())
            .chain(["--all-targets", "--", "-D", "warnings"])
            .collect();
        let mut clippy = self.cargo(&clippy_args);
        if !self.check("the skeletons are clippy-clean", logged(&mut clippy, &clippy_log)) {
            print!("{}", tail(&read(&clippy_log), 30, ""));
        }
        true
    }

    /// The groups the built handout's labs declare (`labs --groups`: id, lab,
    /// title), their ids.
    fn groups(&self) -> Vec<String> {
        let listed = self.labs(&["--groups"]);
        listed
            .lines()
            .filter_map(|l| l.split('\t').next())
            .filter(|g| !g.is_empty())
            .map(String::from)
            .collect()
    }

    /// The Makefile: the students' targets (a `test-<id>` per group), without
    /// the ones that need what is left out.
    fn makefile(&mut self, groups: &[String]) {
        let help = self.make(&["help"]).output();
        let help = help
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr));
        let help = help.unwrap_or_default();
        let listed = |t: &str| {
            help.lines().any(|l| {
                l.strip_prefix("  make ").and_then(|r| r.strip_prefix(t)).is_some_and(|r| r.starts_with(' '))
            })
        };
        let students: Vec<String> = ["build", "test"]
            .into_iter()
            .map(String::from)
            .chain(groups.iter().map(|g| format!("test-{g}")))
            .chain(["grade", "lint"].map(String::from))
            .collect();
        let missing: Vec<&String> = students.iter().filter(|t| !listed(t)).collect();
        if !self.check("make help lists the students' targets", !groups.is_empty() && missing.is_empty()) {
            println!("  groups from labs --groups: {groups:?}; not listed: {missing:?}");
        }
        let staff = STAFF_TARGETS.iter().any(|t| listed(t));
        self.check("make help lists no target that needs what is left out", !staff);
        let first = format!("test-{}", groups.first().map_or("2A", String::as_str));
        let mut dry = self.make(&["-n", &first, "grade"]);
        let reads = dry.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        self.check(&format!("the Makefile still reads (make -n {first} grade)"), reads);
    }

    /// Every test fails cleanly against the skeletons, within the limit (step 4).
    fn lab_run(&mut self) {
        let limit_secs = std::env::var("HANDOUT_RUN_LIMIT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(DEFAULT_RUN_LIMIT_SECS);
        let total = Regex::new(r#""id": *"[A-Za-z0-9]+""#)
            .expect("a valid pattern")
            .find_iter(&self.labs(&["--catalogue"]))
            .count();
        let run_log = self.log.join("run");
        let labs = self.target.join("release/labs");
        let ended = fs::File::create(&run_log).and_then(|f| {
            let err = f.try_clone()?;
            let mut cmd = Command::new(&labs);
            // The failing tests' folders go under the scratch folder, not /tmp.
            cmd.current_dir(&self.dest)
                .env("LAB_ARTIFACTS", self.log.join("artifacts"))
                .stdout(f)
                .stderr(err);
            run::with_limit(&mut cmd, Duration::from_secs(limit_secs))
        });
        let (status, timed_out, took) = match ended {
            Ok(e) => (e.status, e.timed_out, e.took.as_secs()),
            Err(e) => {
                println!("  cannot run {}: {e}", labs.display());
                (None, false, 0)
            }
        };
        let output = read(&run_log);
        let by_itself = status.is_some() && !timed_out;
        self.check(&format!("the run ends by itself within {limit_secs} s (took {took} s)"), by_itself);
        self.check("the run fails", status.is_some_and(|s| !s.success()));
        let all_failed = output.contains(&format!("test result: FAILED. 0 passed; {total} failed"));
        self.check(&format!("all {total} tests ran and failed, none passed"), all_failed);
        let f = sections::failures(&output);
        let quoted = f.sections == total && f.unclear.is_empty();
        let what = format!(
            "each of the {total} failures quotes \"node N panicked: not yet implemented: …\" ({} sections)",
            f.sections
        );
        if !self.check(&what, quoted) && !f.unclear.is_empty() {
            println!("  without the quote: {}", f.unclear.join(" "));
        }
        let crash = Regex::new(r"panicked at (harness|labs)/|harness bug").expect("a valid pattern");
        self.check("no harness crash", !crash.is_match(&output));
        if self.checks.failed != 0 {
            println!("--- last lines of the run:");
            print!("{}", tail(&output, 40, ""));
        }
    }
}

/// Whether a build log warns about the skeletons: a `warning` line, or one
/// of the three after it, names raft/src or kvraft/src.
fn skeleton_warnings(build: &str, students: &[String]) -> bool {
    if students.is_empty() {
        return false;
    }
    let lines: Vec<&str> = build.lines().collect();
    let alternatives: Vec<String> = students.iter().map(|k| regex::escape(k)).collect();
    let names =
        Regex::new(&format!(r"(^|[^A-Za-z0-9_])({})/src", alternatives.join("|"))).expect("a valid pattern");
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("warning"))
        .any(|(i, _)| lines[i..(i + 4).min(lines.len())].iter().any(|l| names.is_match(l)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_about_a_skeleton_is_seen_within_three_lines() {
        let log = "   Compiling raft\nwarning: unused variable: `x`\n  |\n --> raft/src/lib.rs:3:9\n";
        let students = ["kvraft".to_string(), "raft".to_string()];
        assert!(skeleton_warnings(log, &students));
        let log = "warning: unused variable\n a\n b\n c\n --> kvraft/src/lib.rs:1:1\n";
        assert!(!skeleton_warnings(log, &students));
        assert!(!skeleton_warnings("warning: labs/src/x.rs\n", &students));
        assert!(skeleton_warnings("warning: x\n --> echo/src/lib.rs:1:1\n", &["echo".to_string()]));
        assert!(!skeleton_warnings("warning: x\n --> myraft/src/lib.rs:1:1\n", &students));
        assert!(!skeleton_warnings("warning: x\n --> raft/src/lib.rs:1:1\n", &[]));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2, "  "), "  b\n  c\n");
        assert_eq!(tail("a", 5, ""), "a\n");
    }
}
