//! What travels between a [`Clerk`](crate::Clerk) and a
//! [`KvServer`](crate::KvServer): the RPC names (fixed) and their argument
//! and reply types (yours to fill in; keep the serde derives).
//!
//! `labrpc::codec::encode` / `decode` turn any serde value into bytes and
//! back: use them for the commands you pass to `raft.start` and for your
//! snapshots.

use serde::{Deserialize, Serialize};

/// RPC method for [`GetArgs`] → [`GetReply`].
pub const GET: &str = "KVServer.Get";
/// RPC method for [`PutAppendArgs`] → [`PutAppendReply`].
pub const PUT_APPEND: &str = "KVServer.PutAppend";

/// Arguments of [`GET`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetArgs {
    // TODO(3A): the key (a Get needs no id or number: running it twice is
    // harmless; see the crate docs).
}

/// Reply of [`GET`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetReply {
    // TODO(3A): the value ("" for a missing key), or why the server did not
    // complete the request (not the leader, lost leadership, timed out).
}

/// Arguments of [`PUT_APPEND`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutAppendArgs {
    // TODO(3A): the key, the value, Put or Append; the clerk's id and the
    // request's number.
}

/// Reply of [`PUT_APPEND`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutAppendReply {
    // TODO(3A): success, or why the server did not complete the request.
}
