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
    "fixtures/raft-all-leaders",
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

/// The handout test of the kit at `root` (see the module's doc).
pub fn run(root: &Path) -> ExitCode {
    let mut c = Checks::default();
    let out = root.join("target/handout-test");
    let target = std::env::var_os("HANDOUT_TARGET").map_or_else(|| root.join(DEFAULT_TARGET), PathBuf::from);
    let limit_secs = std::env::var("HANDOUT_RUN_LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_RUN_LIMIT_SECS);
    let log = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("test-handout: cannot make a scratch folder: {e}");
            return ExitCode::FAILURE;
        }
    };
    let log = log.path();
    let cargo = |args: &[&str]| {
        let mut cmd = Command::new("nice");
        cmd.args(["-n", "10", "cargo"]).args(args).env("CARGO_TARGET_DIR", &target);
        cmd
    };
    let make = |dest: &Path, args: &[&str]| {
        let mut cmd = Command::new("make");
        cmd.arg("-C").arg(dest).arg("--no-print-directory").args(args).env("CARGO_TARGET_DIR", &target);
        cmd
    };

    // 1. Make it.
    let made = std::env::current_exe().and_then(|me| {
        Command::new(me)
            .arg("handout")
            .arg(&out)
            .stderr(Stdio::from(fs::File::create(log.join("make.err"))?))
            .output()
    });
    let printed = match made {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim_end().to_string(),
        _ => {
            print!("{}", read(&log.join("make.err")));
            c.check("xtask handout succeeds", false);
            return c.finish();
        }
    };
    let dest = out.join(NAME);
    c.check("xtask handout prints the folder", Path::new(&printed) == dest && dest.is_dir());
    let inside = format!("{NAME}/raft/src/lib.rs");
    c.check(
        "the tarball holds the skeleton",
        tarball_entries(&out.join(format!("{NAME}.tar.gz"))).contains(&inside),
    );

    // 2. What it holds.
    c.check("raft/ is the skeleton", same_tree(&root.join("handout/raft"), &dest.join("raft")));
    c.check("kvraft/ is the skeleton", same_tree(&root.join("handout/kvraft"), &dest.join("kvraft")));
    c.check(
        "README.md is the student guide",
        fs::read(root.join("handout/README.md")).ok() == fs::read(dest.join("README.md")).ok()
            && !dest.join("STUDENT.md").exists(),
    );
    c.check(
        "the pristine skeletons are there for the grading kit",
        same_tree(&root.join("handout/raft"), &dest.join("handout/raft"))
            && same_tree(&root.join("handout/kvraft"), &dest.join("handout/kvraft")),
    );
    c.check(
        "no tests or sources of the kit's own crates",
        !dest.join("raft/tests").exists()
            && !dest.join("kvraft/tests").exists()
            && !dest.join("raft/src/leader.rs").exists(),
    );
    // Before the grading kit is made in it (under target/).
    c.check(
        "no mutants, build output or history, and handout/ holds only the skeletons",
        ["selfcheck", "target", ".git"].iter().all(|p| !dest.join(p).exists())
            && entries(&dest.join("handout")) == ["kvraft", "raft"],
    );
    c.check(
        "the grading kit can be made in the handout (make grade SUBMISSION=… needs it)",
        logged(&mut make(&dest, &["grading-kit"]), &log.join("grading-kit")),
    );
    // What only course staff use, left out on purpose (the kit's README is
    // replaced by the student guide).
    let present: Vec<&str> = select::STAFF_ONLY
        .iter()
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| dest.join(p).exists())
        .collect();
    if !c.check("the course staff's files are left out", present.is_empty()) {
        println!("  still there: {}", present.join(" "));
    }
    for part in KIT_PARTS {
        let problems = kit_copy::problems(root, &dest, part);
        c.check(
            &format!("{part} is the kit's (reworded where {} says)", wording::RULES),
            problems.is_empty(),
        );
        for p in problems {
            println!("  {p}");
        }
    }
    c.check(
        "the grader is in the handout",
        dest.join("grader/Cargo.toml").is_file() && dest.join("grader/src").is_dir(),
    );
    let everything = walk::files(&dest, &|_| false).unwrap_or_default();
    c.check(
        "no definitions of the kit's own crates anywhere",
        !everything.iter().any(|f| fs::read(dest.join(f)).is_ok_and(|b| KIT_DEFINITIONS.is_match(&b))),
    );

    // 2b. No text of the handout speaks of a solution of the course's own.
    let texts = walk::files(&dest, &|rel| rel == "target").unwrap_or_default();
    let mut said = Vec::new();
    for f in &texts {
        let Ok(bytes) = fs::read(dest.join(f)) else { continue };
        if bytes.is_empty() || !wording::is_text(&bytes) {
            continue;
        }
        for (n, line) in wording::hits(f, &String::from_utf8_lossy(&bytes)) {
            said.push(format!("{f}:{n}: {line}"));
        }
    }
    if !c.check("no text of the handout speaks of a reference solution, Raft or KV", said.is_empty()) {
        for s in said.iter().take(40) {
            println!("  {s}");
        }
    }

    // 3. It builds as a student gets it, and the skeletons are lint-clean.
    let built = logged(
        cargo(&["build", "--release", "-p", "node", "-p", "labs", "-p", "grader"]).current_dir(&dest),
        &log.join("build"),
    );
    if !c.check("the handout builds (cargo build --release -p node -p labs -p grader)", built) {
        print!("{}", tail(&read(&log.join("build")), 40, ""));
        return c.finish();
    }
    c.check("the skeletons build without warnings", !skeleton_warnings(&read(&log.join("build"))));
    let fmt = logged(
        Command::new("cargo").args(["fmt", "-p", "raft", "-p", "kvraft", "--", "--check"]).current_dir(&dest),
        &log.join("fmt"),
    );
    c.check("the skeletons are rustfmt-clean", fmt);
    let clippy = logged(
        cargo(&["clippy", "-p", "raft", "-p", "kvraft", "--all-targets", "--", "-D", "warnings"])
            .current_dir(&dest),
        &log.join("clippy"),
    );
    if !c.check("the skeletons are clippy-clean", clippy) {
        print!("{}", tail(&read(&log.join("clippy")), 30, ""));
    }

    // The Makefile: the students' targets (one test-<group> per group the
    // labs declare), without the ones that need what is left out.
    let labs = target.join("release/labs");
    let groups = Command::new(&labs)
        .arg("--groups")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let groups: Vec<&str> =
        groups.lines().filter_map(|l| l.split('\t').next()).filter(|g| !g.is_empty()).collect();
    let help = make(&dest, &["help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr));
    let help = help.unwrap_or_default();
    let listed = |t: &str| {
        help.lines().any(|l| {
            l.strip_prefix("  make ").and_then(|r| r.strip_prefix(t)).is_some_and(|r| r.starts_with(' '))
        })
    };
    let students: Vec<String> = ["build".to_string(), "test".to_string()]
        .into_iter()
        .chain(groups.iter().map(|g| format!("test-{g}")))
        .chain(["grade".to_string(), "lint".to_string()])
        .collect();
    let missing: Vec<&String> = students.iter().filter(|t| !listed(t)).collect();
    if !c.check("make help lists the students' targets", !groups.is_empty() && missing.is_empty()) {
        println!("  groups from labs --groups: {groups:?}; not listed: {missing:?}");
    }
    c.check(
        "make help lists no target that needs what is left out",
        !STAFF_TARGETS.iter().any(|t| listed(t)),
    );
    let first = format!("test-{}", groups.first().copied().unwrap_or("2A"));
    c.check(
        &format!("the Makefile still reads (make -n {first} grade)"),
        make(&dest, &["-n", &first, "grade"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
    );

    // 4. Every test fails cleanly against the skeletons.
    let catalogue = Command::new(&labs)
        .arg("--catalogue")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let total =
        Regex::new(r#""id": *"[A-Za-z0-9]+""#).expect("a valid pattern").find_iter(&catalogue).count();
    // The failing tests' folders go under the scratch folder, not /tmp.
    let run_log = log.join("run");
    let ended = fs::File::create(&run_log).and_then(|f| {
        let err = f.try_clone()?;
        run::with_limit(
            Command::new(&labs)
                .current_dir(&dest)
                .env("LAB_ARTIFACTS", log.join("artifacts"))
                .stdout(f)
                .stderr(err),
            Duration::from_secs(limit_secs),
        )
    });
    let (status, timed_out, took) = match ended {
        Ok(e) => (e.status, e.timed_out, e.took.as_secs()),
        Err(e) => {
            println!("  cannot run {}: {e}", labs.display());
            (None, false, 0)
        }
    };
    let output = read(&run_log);
    c.check(
        &format!("the run ends by itself within {limit_secs} s (took {took} s)"),
        status.is_some() && !timed_out,
    );
    c.check("the run fails", status.is_some_and(|s| !s.success()));
    c.check(
        &format!("all {total} tests ran and failed, none passed"),
        output.contains(&format!("test result: FAILED. 0 passed; {total} failed")),
    );
    let failures = sections::failures(&output);
    if !c.check(
        &format!(
            "each of the {total} failures quotes \"node N panicked: not yet implemented: …\" ({} sections)",
            failures.sections
        ),
        failures.sections == total && failures.unclear.is_empty(),
    ) && !failures.unclear.is_empty()
    {
        println!("  without the quote: {}", failures.unclear.join(" "));
    }
    let crash = Regex::new(r"panicked at (harness|labs)/|harness bug").expect("a valid pattern");
    c.check("no harness crash", !crash.is_match(&output));
    if c.failed != 0 {
        println!("--- last lines of the run:");
        print!("{}", tail(&output, 40, ""));
    }
    c.finish()
}

/// Whether a build log warns about the skeletons: a `warning` line, or one
/// of the three after it, names raft/src or kvraft/src.
fn skeleton_warnings(build: &str) -> bool {
    let lines: Vec<&str> = build.lines().collect();
    let names = Regex::new(r"(raft|kvraft)/src").expect("a valid pattern");
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
        assert!(skeleton_warnings(log));
        let log = "warning: unused variable\n a\n b\n c\n --> kvraft/src/lib.rs:1:1\n";
        assert!(!skeleton_warnings(log));
        assert!(!skeleton_warnings("warning: labs/src/x.rs\n"));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2, "  "), "  b\n  c\n");
        assert_eq!(tail("a", 5, ""), "a\n");
    }
}
