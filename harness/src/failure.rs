//! A failed test, as a diagnosis.

use runner::text::escape_controls;
use std::fmt;

/// How a [`Failure::setup`]'s message begins.
const SETUP_SAID: &str = "the kit could not set the test up: ";

/// Why a test failed: which check, what was seen versus expected, and
/// (added by the cluster) the seed, the artifact folder and the recent
/// timeline. Test bodies propagate it with `?`.
///
/// A failure is a verdict on the code under test, unless it is a
/// [`Failure::setup`]: the kit itself could not set the test up (no node
/// binary, no test directory, …), so the test never judged anything. The
/// runner exits with a status of its own for those, and the grader and the
/// self-check count them as errors, never as failed tests or kills.
///
/// A diagnosis quotes what nodes said (their log tails, the messages they
/// sent over the control socket), so it is hostile text: every way into a
/// failure escapes it ([`runner::text::escape_controls`]), and whoever
/// prints a failure prints no terminal control a node chose.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Invariant: no hidden character ([`runner::text::is_hidden`]).
    message: String,
    setup: bool,
}

impl Failure {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure { message: shown(message.into()), setup: false }
    }

    /// The kit could not set the test up: not a verdict on the code under test.
    pub fn setup(message: impl Into<String>) -> Failure {
        Failure { message: format!("{SETUP_SAID}{}", shown(message.into())), setup: true }
    }

    /// This failure, as the kit's own (see [`Failure::setup`]).
    pub fn into_setup(self) -> Failure {
        if self.setup { self } else { Failure::setup(self.message) }
    }

    /// Whether the kit could not set the test up (see [`Failure::setup`]).
    pub fn is_setup(&self) -> bool {
        self.setup
    }

    /// Why the kit could not set the test up, if it could not: the
    /// message's first line, without the words that say so.
    pub fn setup_reason(&self) -> Option<&str> {
        let first = self.message.lines().next().unwrap_or_default();
        self.setup.then(|| first.strip_prefix(SETUP_SAID).unwrap_or(first))
    }

    /// The full diagnosis.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Appends context lines.
    pub fn with_context(mut self, context: &str) -> Failure {
        self.message.push('\n');
        self.message.push_str(&escape_controls(context));
        self
    }
}

/// `message`, hidden characters escaped; not copied when it has none.
fn shown(message: String) -> String {
    match escape_controls(&message) {
        std::borrow::Cow::Borrowed(_) => message,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A test's result.
pub type TestResult<T = ()> = Result<T, Failure>;

/// Fails the test with a formatted message: `fail!("expected {a}, got {b}")`.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::Failure::new(format!($($arg)*)).into())
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setup_failure_keeps_its_kind_through_context() {
        let f = Failure::setup("LAB_NODE=/nope is not a file").with_context("seed 7");
        assert!(f.is_setup());
        assert_eq!(f.setup_reason(), Some("LAB_NODE=/nope is not a file"));
        assert_eq!(f.message(), "the kit could not set the test up: LAB_NODE=/nope is not a file\nseed 7");
        assert!(!Failure::new("node 1 applied 4 at index 2").is_setup());
        assert_eq!(Failure::new("node 1 applied 4 at index 2").setup_reason(), None);
        assert!(Failure::new("x").into_setup().into_setup().is_setup());
        assert_eq!(Failure::new("x").into_setup().message(), "the kit could not set the test up: x");
    }

    #[test]
    fn what_a_node_said_is_escaped_on_every_way_in() {
        let said = "node 0 refused Start: \x1b[2J\x1b[32mtest X ... ok\r\u{202e}";
        let shown = "node 0 refused Start: \\x1b[2J\\x1b[32mtest X ... ok\\r\\u{202e}";
        assert_eq!(Failure::new(said).message(), shown);
        assert_eq!(Failure::new(said).to_string(), shown);
        assert_eq!(Failure::setup(said).message(), format!("the kit could not set the test up: {shown}"));
        let f = Failure::new("two leaders").with_context("  last lines:\n      \x07boom\tend");
        assert_eq!(f.message(), "two leaders\n  last lines:\n      \\x07boom\tend");
        // Escaped once, whatever the path: into_setup does not escape again.
        assert_eq!(
            Failure::new(said).into_setup().message(),
            format!("the kit could not set the test up: {shown}")
        );
    }
}
