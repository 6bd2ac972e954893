//! Text helpers shared by the reports and the capture.

/// At most `n` characters of `s`, with "…" if cut.
pub fn truncate_chars(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n).collect::<String>() + "…" }
}
