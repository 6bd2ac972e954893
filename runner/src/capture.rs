//! Captured output with a size cap: the first and the last [`CAP`] bytes are
//! kept and the middle is counted, so a run that floods its output costs
//! neither memory nor disk.
//!
//! What a capture holds is hostile text (a run's output quotes node logs and
//! messages; a build's is the compiler's on a submission's code), and every
//! report shows it: so it leaves a capture only as safe text, with hidden
//! characters and bytes that are not UTF-8 escaped
//! ([`crate::text::escape_bytes`]). This is the last line of defence: the
//! runner escapes what it quotes too, and escaping again changes nothing.

use std::collections::VecDeque;

/// Bytes kept at each end.
pub const CAP: usize = 64 * 1024;

/// A run's output: head, tail, and how much was dropped between them.
#[derive(Debug, Default, Clone)]
pub struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    omitted: u64,
    cap: usize,
}

impl Capture {
    /// An empty capture keeping `cap` bytes at each end.
    pub fn new(cap: usize) -> Capture {
        Capture { head: Vec::new(), tail: VecDeque::new(), omitted: 0, cap }
    }

    /// Adds output.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if self.head.len() < self.cap {
            let n = (self.cap - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        if bytes.len() >= self.cap {
            self.omitted += (self.tail.len() + bytes.len() - self.cap) as u64;
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.cap..]);
            return;
        }
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(self.cap);
        if excess > 0 {
            self.tail.drain(..excess);
            self.omitted += excess as u64;
        }
    }

    /// Bytes dropped from the middle.
    #[cfg(test)]
    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    /// The kept output as safe text (see the [module](self) doc), with a
    /// line where bytes were dropped.
    pub fn text(&self) -> String {
        let mut s = crate::text::escape_bytes(&self.head).into_owned();
        if self.omitted > 0 {
            s.push_str(&format!("\n[… {} bytes of output omitted …]\n", self.omitted));
        }
        let (a, b) = self.tail.as_slices();
        s.push_str(&crate::text::escape_bytes(&[a, b].concat()));
        s
    }

    /// The last `n` lines of the kept output, each cut to 400 characters.
    pub fn tail_lines(&self, n: usize) -> String {
        let text = self.text();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(n);
        lines[start..].iter().map(|l| crate::text::truncate_chars(l, 400)).collect::<Vec<_>>().join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::Capture;

    #[test]
    fn keeps_both_ends_of_a_flood() {
        let mut c = Capture::new(4);
        c.push(b"ab");
        assert_eq!(c.text(), "ab");
        c.push(b"cdefg");
        c.push(b"hij");
        assert_eq!(c.omitted(), 2);
        c.push(&[b'x'; 100]);
        c.push(b"END");
        assert_eq!(c.omitted(), 105);
        assert_eq!(c.text(), format!("abcd\n[… {} bytes of output omitted …]\nxEND", 105));
    }

    #[test]
    fn output_leaves_a_capture_as_safe_text() {
        let mut c = Capture::new(1024);
        c.push(b"test X ... ok\n\x1b[1A\x1b[2K\rtest Y ... ok\x07\xff\xe2\x80\xae\n");
        let shown = r"test X ... ok
\x1b[1A\x1b[2K\rtest Y ... ok\x07\xff\u{202e}";
        assert_eq!(c.text(), format!("{shown}\n"));
        assert_eq!(c.tail_lines(1), shown.lines().last().unwrap());
        assert_eq!(crate::text::escape_controls(&c.text()), c.text(), "escaping again changes nothing");
        let mut honest = Capture::new(1024);
        honest.push("Test (2A): initial election ...\n\t★ ok\n".as_bytes());
        assert_eq!(honest.text(), "Test (2A): initial election ...\n\t★ ok\n");
    }

    #[test]
    fn a_character_cut_by_the_cap_is_shown_as_its_bytes() {
        let mut c = Capture::new(4);
        c.push("ab★".as_bytes()); // ★ is 3 bytes: the head keeps one of them
        c.push(b"0123456789");
        assert_eq!(c.text(), "ab\\xe2\\x98\n[… 7 bytes of output omitted …]\n6789");
    }

    #[test]
    fn tail_lines_are_the_last_ones() {
        let mut c = Capture::new(1024);
        c.push(b"1\n2\n3\n4\n");
        assert_eq!(c.tail_lines(2), "3\n4");
    }
}
