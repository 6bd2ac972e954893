//! The arguments and replies of Raft's three RPCs. They are yours to fill
//! in (Figure 2 of the extended paper lists the fields; Figure 13 those of
//! InstallSnapshot). They travel as postcard-encoded serde structs, so keep
//! the derives. Field names are up to you: only your own peers read them.
//!
//! A call returns `Err` when the network lost the request or the reply (the
//! handler may or may not have run), so every call site must cope with that.

use serde::{Deserialize, Serialize};

/// Arguments of [`crate::REQUEST_VOTE`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    // TODO(2A): the candidate's term and id.
    // TODO(2B): its last log index and the term of that entry (for the
    // election restriction).
}

/// Reply of [`crate::REQUEST_VOTE`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteReply {
    // TODO(2A): the voter's current term, and whether the vote was granted.
}

/// Arguments of [`crate::APPEND_ENTRIES`]. With no entries it is a
/// heartbeat, and it still carries the consistency check and the leader's
/// commit index.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    // TODO(2A): the leader's term and id.
    // TODO(2B): prev_log_index, prev_log_term, the entries (each with its
    // term and command bytes), the leader's commit index.
}

/// Reply of [`crate::APPEND_ENTRIES`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    // TODO(2A): the follower's current term, and success.
    // TODO(2B): for fast backup, XTerm, XIndex and XLen (see the crate docs).
}

/// Arguments of [`crate::INSTALL_SNAPSHOT`] (sent whole, not in chunks).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    // TODO(2D): the leader's term and id, the snapshot's last included index
    // and term, and the service's snapshot bytes.
}

/// Reply of [`crate::INSTALL_SNAPSHOT`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    // TODO(2D): the follower's current term.
}
