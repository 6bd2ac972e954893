//! Hostile text made safe to show: the one place where what a node or a
//! submission's build wrote (log lines, control-socket messages, compiler
//! output) loses its power over a terminal or a report.
//!
//! [`escape_controls`] (and [`escape_bytes`] for bytes that may not be
//! UTF-8) shows every character a reader cannot see for what it is as an
//! escape, and leaves everything else alone:
//!
//! | what                                             | shown as        |
//! |--------------------------------------------------|-----------------|
//! | carriage return                                  | `\r`            |
//! | other C0 controls (ESC, BEL, backspace, NUL, …) and DEL | `\x1b`, `\x07`, `\x08`, `\x00`, `\x7f` |
//! | C1 controls U+0080–U+009F                        | `\u{85}`, `\u{9b}`, … |
//! | bidi embeddings, overrides and isolates U+202A–U+202E, U+2066–U+2069 | `\u{202e}`, … |
//! | line and paragraph separators U+2028, U+2029     | `\u{2028}`, `\u{2029}` |
//! | a byte that is not UTF-8 ([`escape_bytes`])      | `\xff` (always `\x80` or above) |
//!
//! Newline and tab are kept, and so is every other character: honest text
//! (ASCII or UTF-8, with newlines and tabs) comes out byte for byte as it
//! went in, borrowed, without a copy.
//!
//! # Idempotent, by design
//!
//! A backslash is *not* escaped. The output holds no character that is
//! escaped, so escaping it again changes nothing
//! (`escape_controls(escape_controls(s)) == escape_controls(s)`): text can
//! pass through several boundaries (the harness's diagnosis, the grader's
//! capture, a report) without piling up backslashes, and honest text with
//! backslashes in it (a `Debug`-printed string, a Windows path in a panic
//! message) stays as it was. The price: a node that writes the four
//! characters `\x1b` reads the same as one that wrote an ESC. Both are
//! inert text, and nothing is hidden: every character the node wrote is
//! there to read.
//!
//! An escape never spans lines and never moves the cursor, so a quoted line
//! cannot pass for the kit's own (a libtest header, the tester's proof):
//! what starts a line in the output started a line in the input.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown escaped: a control character other than newline
/// and tab, or a character that changes the direction or the lines of
/// what follows it (see the [module](self) table).
pub fn is_hidden(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' => true,
        _ => false,
    }
}

/// `s` with every hidden character ([`is_hidden`]) escaped; borrowed when
/// there is none.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    match s.char_indices().find(|(_, c)| is_hidden(*c)) {
        None => Cow::Borrowed(s),
        Some((at, _)) => {
            let mut out = String::with_capacity(s.len() + 16);
            out.push_str(&s[..at]);
            push_escaped(&mut out, &s[at..]);
            Cow::Owned(out)
        }
    }
}

/// `bytes` as text: valid UTF-8 as [`escape_controls`] shows it, and each
/// byte that is not part of valid UTF-8 as `\xNN` (NN is then always 80 or
/// above, so it cannot be mistaken for an escaped control, `\x00`–`\x1f` or
/// `\x7f`). Borrowed when the bytes are honest UTF-8 text.
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return escape_controls(s);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        push_escaped(&mut out, chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// Appends `s` to `out`, hidden characters escaped.
fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if is_hidden(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// At most `n` characters of `s`, with "…" if cut: for a report's
/// bounded quote of text that is safe already.
pub fn truncate_chars(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n).collect::<String>() + "…" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_text_is_borrowed_and_unchanged() {
        for s in [
            "",
            "  1.234567s DEBUG raft::election: became candidate peer=0 term=3\n",
            "tabs\tand\nnewlines\n\n",
            "UTF-8: é, ★, ━━━, 日本語, emoji 🦀 with a ZWJ 👩\u{200d}💻",
            r#"a Debug string "a\nb" and C:\path\x1b as typed"#,
        ] {
            assert!(matches!(escape_controls(s), Cow::Borrowed(b) if b == s), "{s:?}");
            assert!(matches!(escape_bytes(s.as_bytes()), Cow::Borrowed(b) if b == s), "{s:?}");
        }
    }

    #[test]
    fn terminal_controls_are_shown_escaped() {
        assert_eq!(escape_controls("\x1b[2J\x1b[31mFAKE PASS\x1b[0m"), "\\x1b[2J\\x1b[31mFAKE PASS\\x1b[0m");
        assert_eq!(escape_controls("ok\rtest X ... ok"), "ok\\rtest X ... ok");
        assert_eq!(escape_controls("bell\x07 bs\x08 nul\0 del\x7f"), "bell\\x07 bs\\x08 nul\\x00 del\\x7f");
        assert_eq!(escape_controls("\x0b\x0c\x1f"), "\\x0b\\x0c\\x1f");
        // An OSC 8 hyperlink and a title change.
        assert_eq!(
            escape_controls("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b]0;title\x07"),
            "\\x1b]8;;http://x\\x1b\\link\\x1b]8;;\\x1b\\ \\x1b]0;title\\x07"
        );
    }

    #[test]
    fn c1_controls_bidi_and_line_separators_are_shown_escaped() {
        // U+009B is a one-character CSI on some terminals.
        assert_eq!(escape_controls("\u{9b}31m \u{85} \u{80}"), "\\u{9b}31m \\u{85} \\u{80}");
        // Trojan Source: "ok" reads backwards from the override on.
        assert_eq!(escape_controls("grade \u{202e}kO\u{202c}"), "grade \\u{202e}kO\\u{202c}");
        for c in ['\u{202a}', '\u{202b}', '\u{202d}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert_eq!(escape_controls(&c.to_string()), format!("\\u{{{:x}}}", c as u32));
        }
        assert_eq!(escape_controls("a\u{2028}b\u{2029}c"), "a\\u{2028}b\\u{2029}c");
        // Neighbours of the ranges are ordinary characters.
        for c in ['\u{a0}', '\u{2027}', '\u{202f}', '\u{2065}', '\u{206a}', '\u{200e}', '\u{7e}'] {
            assert!(!is_hidden(c), "{c:?}");
        }
    }

    #[test]
    fn exactly_the_documented_characters_are_hidden() {
        let hidden: Vec<u32> =
            (0..=0x10ffff).filter_map(char::from_u32).filter(|c| is_hidden(*c)).map(|c| c as u32).collect();
        let expected: Vec<u32> = (0..0x20)
            .filter(|c| *c != 0x0a && *c != 0x09)
            .chain(0x7f..=0x9f)
            .chain([0x2028, 0x2029])
            .chain(0x202a..=0x202e)
            .chain(0x2066..=0x2069)
            .collect();
        assert_eq!(hidden, expected);
    }

    #[test]
    fn invalid_utf8_is_shown_byte_by_byte() {
        assert_eq!(escape_bytes(b"ok \xff\xfe end"), "ok \\xff\\xfe end");
        // A truncated sequence, a lone continuation byte, controls beside them.
        assert_eq!(escape_bytes(b"\xe2\x82 \x80\x1b[1m\xc3\xa9"), "\\xe2\\x82 \\x80\\x1b[1mé");
        // A C1 control encoded as UTF-8 is a character, not two bytes.
        assert_eq!(escape_bytes("\u{9b}".as_bytes()), "\\u{9b}");
        assert_eq!(escape_bytes(b"\xc2\x9b"), "\\u{9b}");
    }

    #[test]
    fn escaping_twice_changes_nothing_and_hides_nothing() {
        let mut all = String::new();
        for c in (0..0x3000).filter_map(char::from_u32) {
            all.push(c);
        }
        let inputs: Vec<Vec<u8>> = vec![
            all.clone().into_bytes(),
            b"\x1b[31m\r\n\t\xff\xc2\x85\\x1b".to_vec(),
            (0..=255u8).collect(),
        ];
        for bytes in inputs {
            let once = escape_bytes(&bytes).into_owned();
            assert!(!once.chars().any(is_hidden), "nothing hidden is left");
            assert_eq!(escape_controls(&once), once, "escaping again changes nothing");
            assert_eq!(escape_bytes(once.as_bytes()), once);
            // Every visible character and line of the input is still there, in order.
            let visible: String = String::from_utf8_lossy(&bytes)
                .chars()
                .filter(|c| !is_hidden(*c) && *c != '\u{fffd}')
                .collect();
            let mut rest = once.as_str();
            for c in visible.chars() {
                let at = rest.find(c).unwrap_or_else(|| panic!("{c:?} was lost"));
                rest = &rest[at + c.len_utf8()..];
            }
            assert_eq!(once.matches('\n').count(), bytes.iter().filter(|b| **b == b'\n').count());
        }
    }
}
