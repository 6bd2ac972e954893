//! The handout's Makefile: the kit's, without the targets that need what
//! the handout leaves out.
//!
//! Each rule, or group of variables, is a paragraph of its own (lines up to
//! a blank line) and is dropped whole: a paragraph that defines one of
//! [`STAFF_TARGETS`], or a `SELFCHECK_*` variable. Those targets' names also
//! leave `.PHONY`, and the help loses its `SELFCHECK_ARGS` mention.

use regex::Regex;

/// The targets for course staff only: what they run is left out of the
/// handout (the self-check, the grader's end-to-end tests, this tool).
pub const STAFF_TARGETS: &[&str] = &[
    "check",
    "grader-e2e",
    "handout",
    "test-handout",
    "selfcheck",
    "selfcheck-ci",
    "contract",
    "bench-checker",
    "portable",
];

/// The paragraphs of `text`, as Perl's paragraph mode reads them: runs of
/// blank lines end a paragraph and count as one (each paragraph but the last
/// ends in exactly one blank line), and blank lines at the start are skipped.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.trim_start_matches('\n');
    while !rest.is_empty() {
        match rest.find("\n\n") {
            Some(end) => {
                out.push(rest[..end + 2].to_string());
                rest = rest[end + 2..].trim_start_matches('\n');
            }
            None => {
                out.push(rest.to_string());
                rest = "";
            }
        }
    }
    out
}

/// The kit's Makefile `text` without the paragraphs that define one of
/// `drop` (or a `SELFCHECK_*` variable), and without `drop` in `.PHONY`.
pub fn without_targets(text: &str, drop: &[&str]) -> String {
    let rule = Regex::new(r"(?m)^([A-Za-z0-9_-]+):(=?)").expect("a valid pattern");
    let selfcheck_var = Regex::new(r"(?m)^SELFCHECK_\w+\s*[?:]?=").expect("a valid pattern");
    let phony = Regex::new(r"(?m)^\.PHONY:.*$").expect("a valid pattern");
    let help_mention = Regex::new(r", SELFCHECK_ARGS=\S+ \(for make selfcheck\)").expect("a valid pattern");
    let mut out = String::new();
    for p in paragraphs(text) {
        // A rule is `name:` not followed by `=` (`name:=` sets a variable).
        let defines = rule.captures_iter(&p).filter(|c| c[2].is_empty()).any(|c| drop.contains(&&c[1]));
        if defines || selfcheck_var.is_match(&p) {
            continue;
        }
        let p = phony.replace(&p, |c: &regex::Captures| {
            c[0].split_whitespace().filter(|w| !drop.contains(w)).collect::<Vec<_>>().join(" ")
        });
        out.push_str(&help_mention.replace(&p, ""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_end_at_blank_lines_which_collapse() {
        assert_eq!(paragraphs("\n\na\n\n\n\nb\nc\n\n\n"), ["a\n\n", "b\nc\n\n"]);
        assert_eq!(paragraphs("a\n\nb"), ["a\n\n", "b"]);
        // A line of spaces is not blank here.
        assert_eq!(paragraphs("a\n  \nb\n"), ["a\n  \nb\n"]);
    }

    const KIT: &str = "\
# Extra arguments for the self-check.
SELFCHECK_ARGS ?=

.PHONY: help build check handout portable

help: ## Show this help
\t@echo \"  SUBMISSION=dir, GRADE_ARGS='…' (for make grade), SELFCHECK_ARGS='…' (for make selfcheck)\"

build: ## Build
\tcargo build

check: build ## Everything
\tmake handout


handout: ## The handout
\tcargo run -q -p xtask -- handout target/handout

JOBS := 2
portable:=1
";

    #[test]
    fn staff_targets_go_paragraph_by_paragraph() {
        let out = without_targets(KIT, STAFF_TARGETS);
        assert!(!out.contains("check:"), "{out}");
        assert!(!out.contains("xtask"), "{out}");
        assert!(!out.contains("SELFCHECK_ARGS ?="), "{out}");
        assert!(out.contains("build: ## Build\n\tcargo build\n\n"), "{out}");
        // `name:=` sets a variable: that paragraph stays.
        assert!(out.ends_with("JOBS := 2\nportable:=1\n"), "{out}");
    }

    #[test]
    fn phony_and_help_lose_the_staff_targets() {
        let out = without_targets(KIT, STAFF_TARGETS);
        assert!(out.starts_with(".PHONY: help build\n\nhelp:"), "{out}");
        assert!(out.contains("(for make grade)\"\n"), "{out}");
        assert!(!out.contains("selfcheck"), "{out}");
    }

    #[test]
    fn nothing_dropped_keeps_every_rule_and_collapses_blank_runs() {
        let out = without_targets(KIT, &[]);
        assert!(out.starts_with(".PHONY: help build check handout portable\n\nhelp:"), "{out}");
        assert!(out.contains("\tmake handout\n\nhandout: ## The handout\n"), "{out}");
        // The self-check's variables go whatever is dropped: their paragraph is staff-only.
        assert!(!out.contains("SELFCHECK_ARGS ?="), "{out}");
    }
}
