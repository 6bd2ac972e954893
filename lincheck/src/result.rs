//! What a check reports.

/// The verdict on a history, or on one part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Verdict {
    /// Linearizable.
    Ok,
    /// Not linearizable.
    Illegal,
    /// The time limit (or a verdict elsewhere) stopped the search first.
    Unknown,
}

/// The result of [`check_operations`](crate::check_operations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckResult {
    /// Every part of the history is linearizable.
    Ok,
    /// Some part is not; the details say which and how far it got.
    Illegal(Illegal),
    /// No part was found illegal, but the time limit stopped the search of
    /// at least one. Never to be read as a pass.
    Unknown,
}

impl CheckResult {
    /// The verdict without details.
    pub fn verdict(&self) -> Verdict {
        match self {
            CheckResult::Ok => Verdict::Ok,
            CheckResult::Illegal(_) => Verdict::Illegal,
            CheckResult::Unknown => Verdict::Unknown,
        }
    }
}

/// Why a history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Illegal {
    /// The parts found illegal (at least one). The search stops at the first
    /// illegal part, so other parts may be illegal too; use
    /// [`analyze`](crate::analyze) to check them all.
    pub parts: Vec<PartReport>,
}

/// The check of one independent part of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartReport {
    /// The part's operations, as indices into the history.
    pub operations: Vec<usize>,
    /// The part's verdict.
    pub verdict: Verdict,
    /// For [`Verdict::Ok`], one linearization of the whole part; for
    /// [`Verdict::Illegal`], the longest partial linearizations found (all of
    /// the same length, at most [`MAX_LONGEST`](crate::MAX_LONGEST)); empty
    /// for [`Verdict::Unknown`]. Each lists indices into the history in
    /// linearization order.
    pub linearizations: Vec<Vec<usize>>,
}

/// The check of every part of a history, for the view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// The verdict on the whole history.
    pub verdict: Verdict,
    /// One report per part, in the model's partition order.
    pub parts: Vec<PartReport>,
}

/// The verdict on a whole history from those on its parts: illegal if one
/// part is, else unknown if one part is, else ok.
pub(crate) fn combine(parts: &[PartReport]) -> Verdict {
    let any = |v| parts.iter().any(|p| p.verdict == v);
    if any(Verdict::Illegal) {
        Verdict::Illegal
    } else if any(Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::Ok
    }
}
