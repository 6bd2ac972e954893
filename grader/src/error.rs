//! What stops the grader itself from running (exit status 2).

use crate::catalogue::CatalogueError;
use crate::mutant::MutantError;
use crate::rubric::RubricError;

/// A reason the grader could not grade. Never caused by what a submission
/// does at run time: that is scored instead.
#[derive(Debug, thiserror::Error)]
pub enum GraderError {
    /// A bad command line.
    #[error("{0}")]
    Usage(String),
    /// The rubric is missing or malformed.
    #[error(transparent)]
    Rubric(#[from] RubricError),
    /// The submission folder cannot be used.
    #[error("submission {0}: {1}")]
    Submission(String, String),
    /// The test catalogue could not be read from the labs binary.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// A file or folder the grader needs could not be read or written.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// A self-check mutant is malformed or no longer applies.
    #[error(transparent)]
    Mutant(#[from] MutantError),
    /// Shards that cannot be merged.
    #[error("cannot merge: {0}")]
    Merge(String),
    /// The grading kit could not be made.
    #[error("cannot make the grading kit: {0}")]
    Kit(String),
}
