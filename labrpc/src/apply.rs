//! What Raft sends to the service it replicates for.

use serde::{Deserialize, Serialize};

/// A message from Raft to its service, sent on the apply channel in order.
///
/// Indexes start at 1. After a `Snapshot { index, .. }` the next `Command`
/// has index `index + 1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApplyMsg {
    /// A committed log entry.
    Command {
        /// Its log index.
        index: u64,
        /// The term in which it was created.
        term: u64,
        /// The command as the service passed it to `start`.
        command: Vec<u8>,
    },
    /// A snapshot the service must install in place of everything through `index`.
    Snapshot {
        /// The last log index the snapshot covers.
        index: u64,
        /// The term of that entry.
        term: u64,
        /// The service's snapshot bytes.
        data: Vec<u8>,
    },
}

/// `start` was called on a peer that is not the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("not the leader")]
pub struct NotLeader;
