//! Which of the kit's files go into the handout.
//!
//! A rule is a path relative to the kit's root: a file, or a folder when it
//! ends in `/` (everything under it). A path is left out when a rule of
//! [`NOT_SHIPPED`] or [`STAFF_ONLY`] covers it, or when it lies in a build
//! folder (`target/`) anywhere.

use std::path::Path;
use std::process::Command;

/// The student crates: the skeletons in `handout/` (each folder there with
/// a `Cargo.toml`), sorted. The kit's own crates of those names are left
/// out and the skeletons take their place. `cargo test -p labs` holds the
/// skeletons to the labs' declaration (`labs/src/lab.rs`), so a new lab's
/// crate is named nowhere here.
///
/// # Errors
/// When `handout/` cannot be read.
pub fn student_crates(root: &Path) -> std::io::Result<Vec<String>> {
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(root.join("handout"))? {
        let path = entry?.path();
        if path.join("Cargo.toml").is_file()
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            crates.push(name.to_string());
        }
    }
    crates.sort();
    Ok(crates)
}

/// Left out, besides the kit's own student crates, because the handout
/// replaces it or must not hold it: the self-check's mutants (fragments of
/// the kit's crates), the guide's source and rewording rules, the kit's
/// README (the guide replaces it), CI settings, build output and history.
/// The skeletons' own folder stays (handout/raft, handout/kvraft): the
/// grading kit builds from it, so `make grade SUBMISSION=…` works there too.
pub const NOT_SHIPPED: &[&str] =
    &["selfcheck/", "handout/README.md", "handout/wording.pl", "README.md", "target/", ".git/", ".ci/"];

/// What only course staff use, left out on purpose (and checked absent by
/// `test-handout`): grading untrusted code and grading in CI, adding a lab,
/// the grader's own tests against the kit's crates and its hostile
/// submissions, a test that compares the skeletons with the kit's crates,
/// and this tool.
pub const STAFF_ONLY: &[&str] = &[
    "docs/trust-boundary.md",
    "docs/adding-a-lab.md",
    "docs/ci/",
    "grader/README.md",
    "grader/tests/e2e.rs",
    "grader/tests/mutant.rs",
    "grader/fixtures/",
    "node/tests/contract_docs.rs",
    "xtask/",
];

/// The workspace member that is this tool: dropped from the handout's
/// Cargo.toml and Cargo.lock.
pub const TOOL_CRATE: &str = "xtask";

/// Whether `rule` covers `path` (both relative to the root, `/`-separated).
fn covers(rule: &str, path: &str) -> bool {
    match rule.strip_suffix('/') {
        Some(folder) => path == folder || path.starts_with(rule),
        None => path == rule,
    }
}

/// Whether a path (relative to the root) stays out of the handout.
pub fn excluded(path: &str, students: &[String]) -> bool {
    students.iter().any(|c| path.strip_prefix(c).is_some_and(|rest| rest.starts_with('/')))
        || NOT_SHIPPED.iter().chain(STAFF_ONLY).any(|rule| covers(rule, path))
        || path.contains("/target/")
}

/// Whether `path` is one of the course staff's files (or folders) as a
/// comparison names it: `docs/ci` as well as `docs/ci/`.
pub fn staff_only(path: &str) -> bool {
    STAFF_ONLY.iter().any(|rule| rule.trim_end_matches('/') == path)
}

/// The kit's files, relative to the root: tracked and untracked-but-not-ignored
/// ones when the root is a git checkout (work in progress included), else
/// every file outside target/ and .git/. Files deleted in the work tree are
/// not listed.
pub fn kit_files(root: &Path) -> Result<Vec<String>, String> {
    let git = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "-co", "--exclude-standard"])
        .output();
    let listed: Vec<String> = match git {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
        _ => crate::walk::files(root, &|rel| rel == "target" || rel == ".git")
            .map_err(|e| format!("cannot list {}: {e}", root.display()))?,
    };
    Ok(listed.into_iter().filter(|f| root.join(f).is_file()).collect())
}

/// The kit's files that go into the handout.
pub fn shipped(files: Vec<String>, students: &[String]) -> Vec<String> {
    files.into_iter().filter(|f| !excluded(f, students)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn students() -> Vec<String> {
        vec!["kvraft".to_string(), "raft".to_string()]
    }

    #[test]
    fn the_kit_crates_and_their_mutants_stay_out() {
        for p in ["raft/src/lib.rs", "kvraft/Cargo.toml", "selfcheck/mutants/a.mut", "selfcheck/README.md"] {
            assert!(excluded(p, &students()), "{p}");
        }
    }

    #[test]
    fn the_pristine_skeletons_go_in_but_not_the_guide_source() {
        assert!(!excluded("handout/raft/src/lib.rs", &students()));
        assert!(!excluded("handout/kvraft/Cargo.toml", &students()));
        assert!(excluded("handout/README.md", &students()));
        assert!(excluded("handout/wording.pl", &students()));
    }

    #[test]
    fn only_the_root_readme_is_replaced() {
        assert!(excluded("README.md", &students()));
        assert!(!excluded("labrpc/README.md", &students()));
        assert!(excluded("grader/README.md", &students()));
    }

    #[test]
    fn build_output_stays_out_at_any_depth() {
        assert!(excluded("target/release/labs", &students()));
        assert!(excluded("handout/raft/target/debug/x", &students()));
        assert!(!excluded("labs/src/target.rs", &students()));
        assert!(!excluded("targets.md", &students()));
    }

    #[test]
    fn a_folder_rule_covers_its_folder_and_nothing_with_a_longer_name() {
        assert!(excluded("xtask/src/main.rs", &students()));
        assert!(excluded("docs/ci/github-actions.yml", &students()));
        assert!(!excluded("xtasks/a", &students()));
        assert!(!excluded("docs/cinema.md", &students()));
        assert!(!excluded("raftlike/src/lib.rs", &students()));
    }

    #[test]
    fn the_student_crates_are_the_skeletons_in_handout() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["handout/raft", "handout/echo", "handout/notes"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        std::fs::write(root.path().join("handout/raft/Cargo.toml"), "").unwrap();
        std::fs::write(root.path().join("handout/echo/Cargo.toml"), "").unwrap();
        assert_eq!(student_crates(root.path()).unwrap(), ["echo", "raft"]);
    }

    #[test]
    fn the_kit_itself_is_shipped() {
        let kept = shipped(
            [
                "Makefile",
                "Cargo.toml",
                "labs/src/main.rs",
                "scripts/install-sandbox.sh",
                "xtask/Cargo.toml",
                ".ci/x",
                "raft/src/lib.rs",
            ]
            .map(String::from)
            .to_vec(),
            &students(),
        );
        assert_eq!(kept, ["Makefile", "Cargo.toml", "labs/src/main.rs", "scripts/install-sandbox.sh"]);
    }

    #[test]
    fn staff_files_are_recognised_as_a_comparison_names_them() {
        assert!(staff_only("docs/ci"));
        assert!(staff_only("grader/fixtures"));
        assert!(staff_only("xtask"));
        assert!(staff_only("node/tests/contract_docs.rs"));
        assert!(!staff_only("node/tests"));
        assert!(!staff_only("docs"));
    }
}
