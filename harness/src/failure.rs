//! A failed test, as a diagnosis.

use std::fmt;

/// Why a test failed: which check, what was seen versus expected, and
/// (added by the cluster) the seed, the artifact folder and the recent
/// timeline. Test bodies propagate it with `?`.
#[derive(Debug, Clone)]
pub struct Failure {
    message: String,
}

impl Failure {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure { message: message.into() }
    }

    /// The full diagnosis.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Appends context lines.
    pub fn with_context(mut self, context: &str) -> Failure {
        self.message.push('\n');
        self.message.push_str(context);
        self
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
