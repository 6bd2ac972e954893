//! The handout's wording: no text in it may speak of a solution of the
//! course's own.
//!
//! The kit's files that call its own crates "the reference" are reworded by
//! the rules in handout/wording.pl (Perl substitutions, run as
//! `perl -0777 -p handout/wording.pl`, kept as data beside the guide). What
//! no rule covers is caught by [`hits`], which names the file and line.

use regex::Regex;
use std::path::Path;
use std::process::Command;
use std::sync::LazyLock;

/// The rewording rules, relative to the kit's root.
pub const RULES: &str = "handout/wording.pl";

/// Whether `bytes` look like text (grep's test: no NUL byte).
pub fn is_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0)
}

/// Whether the rules could apply to `bytes`: a text mentioning "reference".
pub fn may_need_rewording(bytes: &[u8]) -> bool {
    is_text(bytes) && String::from_utf8_lossy(bytes).to_lowercase().contains("reference")
}

/// `file` as the rules reword it (the whole file at once).
pub fn reworded(root: &Path, file: &Path) -> Result<Vec<u8>, String> {
    let out = Command::new("perl")
        .arg("-0777")
        .arg("-p")
        .arg(root.join(RULES))
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run perl for {RULES}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{RULES} failed on {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// The nouns that make "reference …", "staff …" and the like name a solution.
const NOUN: &str = r"(?:solutions?|implementations?|raft|kv\w*|crates?|tester|labs|ones?)\b";

/// "reference solution", "staff raft", "the instructor's `kvraft`", …
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r#"(?i)\b(?:reference|staff|official|sample|instructor(?:'s)?)\s+[`'"]?{NOUN}"#))
        .expect("a valid pattern")
});

/// "the reference", "our reference's", … (see [`bare_ends`]).
static BARE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:the|a|our)\s+reference\b").expect("a valid pattern"));

/// What may follow "the reference" without naming a solution: the
/// reference checker (porcupine), a reference count.
static BARE_ALLOWED_NEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^[\s-]*(?:checker|count)").expect("a valid pattern"));

/// A comment marker and the spaces around it, at the start of a line.
static COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?://[/!]?|#|\*|--)?\s*").expect("a valid pattern"));

/// Where each bare mention in `text` ends: "the reference", optionally with
/// "'s", not followed by "checker" or "count" (the longest such ending).
fn bare_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut from = 0;
    while let Some(m) = BARE.find_at(text, from) {
        let with_s = text[m.end()..].starts_with("'s").then_some(m.end() + 2);
        let end = with_s.into_iter().chain([m.end()]).find(|&e| !BARE_ALLOWED_NEXT.is_match(&text[e..]));
        match end {
            Some(e) => {
                ends.push(e);
                from = e;
            }
            None => from = m.end(),
        }
    }
    ends
}

/// The lines of the file `path` (relative to the handout's root, holding
/// `text`) that speak of a solution of the course's own, as `(line number,
/// line)`. Each line is read with the last two words of the line before, so
/// that a phrase broken over two lines of a comment is caught (on the line
/// where it ends). In lincheck, "the reference" is porcupine, the Go
/// checker it reproduces, and stays.
pub fn hits(path: &str, text: &str) -> Vec<(usize, String)> {
    let bare_counts = !path.starts_with("lincheck/");
    let mut out = Vec::new();
    let mut tail = String::new();
    for (i, line) in text.lines().enumerate() {
        let body = COMMENT.replace(line, "");
        let joined = format!("{tail} {body}");
        let past_tail = tail.len() + 1;
        let named = NAMED.find_iter(&joined).any(|m| m.end() > past_tail);
        let bare = bare_counts && bare_ends(&joined).iter().any(|&e| e > past_tail);
        if named || bare {
            out.push((i + 1, line.to_string()));
        }
        let words: Vec<&str> = body.split_whitespace().collect();
        tail = words[words.len().saturating_sub(2)..].join(" ");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &str, text: &str) -> Vec<usize> {
        hits(path, text).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn a_named_solution_is_caught() {
        assert_eq!(lines("a.rs", "ok\n// Grade the reference solution.\n"), [2]);
        assert_eq!(lines("a.md", "the staff `raft` crate\n"), [1]);
        assert_eq!(lines("a.md", "The instructor's kvraft\n"), [1]);
        assert_eq!(lines("a.md", "an Official Implementation\n"), [1]);
    }

    #[test]
    fn a_bare_reference_is_caught_but_not_a_checker_or_a_count() {
        assert_eq!(lines("a.rs", "compare with the reference.\n"), [1]);
        assert_eq!(lines("a.rs", "our reference's log\n"), [1]);
        assert_eq!(lines("a.rs", "the reference checker\n"), Vec::<usize>::new());
        assert_eq!(lines("a.rs", "the reference-count drops\n"), Vec::<usize>::new());
        assert_eq!(lines("a.rs", "see the references\n"), Vec::<usize>::new());
        assert_eq!(lines("a.rs", "a reference to x\n"), [1]);
    }

    #[test]
    fn a_possessive_before_an_allowed_word_still_counts() {
        // As Perl's backtracking reads it: "the reference" followed by "'s".
        assert_eq!(lines("a.rs", "the reference's checker\n"), [1]);
    }

    #[test]
    fn lincheck_may_speak_of_the_reference_checker_it_reproduces() {
        assert_eq!(lines("lincheck/src/lib.rs", "// as the reference does\n"), Vec::<usize>::new());
        assert_eq!(lines("lincheck/src/lib.rs", "// the reference solution\n"), [1]);
    }

    #[test]
    fn a_phrase_broken_over_a_comment_is_caught_where_it_ends() {
        let text = "/// Runs the\n/// reference solution and\n";
        assert_eq!(lines("a.rs", text), [2]);
        let text = "# Grade the sample\n# solution here\n";
        assert_eq!(lines("Makefile", text), [2]);
    }

    #[test]
    fn a_phrase_is_reported_once_not_again_on_the_next_line() {
        let text = "the reference solution\nand more words\n";
        assert_eq!(lines("a.md", text), [1]);
        let text = "x reference\nsolution\n";
        assert_eq!(lines("a.md", text), [2]);
    }

    #[test]
    fn plain_text_passes() {
        assert!(hits("a.md", "Your raft crate, the workspace's crates.\n").is_empty());
    }

    #[test]
    fn text_and_rewording_candidates() {
        assert!(may_need_rewording(b"The Reference crates"));
        assert!(!may_need_rewording(b"ref\0erence"));
        assert!(!may_need_rewording(b"no such word"));
    }
}
