//! What travels between a [`Clerk`](crate::Clerk) and a [`KvServer`](crate::KvServer),
//! and what goes into the Raft log: RPC names, argument and reply types,
//! and the errors a server may answer with.
//!
//! Every request carries the clerk's id and a sequence number. Together they
//! name one client operation across all its retries, which is what lets the
//! servers apply each Put and Append exactly once.

use serde::{Deserialize, Serialize};

/// RPC method for [`GetArgs`] → [`GetReply`].
pub const GET: &str = "KVServer.Get";
/// RPC method for [`PutAppendArgs`] → [`PutAppendReply`].
pub const PUT_APPEND: &str = "KVServer.PutAppend";

/// A clerk's id: random, so two clerks (or two runs) never share one.
pub type ClientId = u64;
/// A clerk's request number: 1 for its first operation, one more for each
/// next one. Retries of an operation reuse its number.
pub type Seq = u64;

/// Why a server did not complete a request. Either way the clerk tries
/// another server; the operation may or may not have taken effect, and the
/// duplicate table makes a retry safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvError {
    /// This server is not the leader, lost leadership while the request
    /// waited, or a different command was committed at the request's index.
    WrongLeader,
    /// The request was not applied within the server's wait bound (e.g. the
    /// leader is cut off in a minority).
    Timeout,
}

/// Arguments of [`GET`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    /// The key to read.
    pub key: String,
    /// The clerk asking.
    pub client: ClientId,
    /// Its request number.
    pub seq: Seq,
}

/// Reply of [`GET`].
pub type GetReply = Result<String, KvError>;

/// Whether a [`PutAppendArgs`] replaces or extends the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PutOrAppend {
    /// Replace the value.
    Put,
    /// Append to the value (to "" for a missing key).
    Append,
}

/// Arguments of [`PUT_APPEND`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendArgs {
    /// The key to write.
    pub key: String,
    /// The value to put or append.
    pub value: String,
    /// Put or Append.
    pub op: PutOrAppend,
    /// The clerk asking.
    pub client: ClientId,
    /// Its request number.
    pub seq: Seq,
}

/// Reply of [`PUT_APPEND`].
pub type PutAppendReply = Result<(), KvError>;

/// One client operation as it is written in the Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    /// The clerk that sent it.
    pub client: ClientId,
    /// Its request number.
    pub seq: Seq,
    /// What to do.
    pub kind: OpKind,
}

/// The three operations of the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    /// Read `key`.
    Get {
        /// The key.
        key: String,
    },
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Append `value` to `key`'s value.
    Append {
        /// The key.
        key: String,
        /// The suffix.
        value: String,
    },
}

impl Op {
    /// The operation a [`GetArgs`] asks for.
    pub fn get(args: GetArgs) -> Op {
        Op { client: args.client, seq: args.seq, kind: OpKind::Get { key: args.key } }
    }

    /// The operation a [`PutAppendArgs`] asks for.
    pub fn put_append(args: PutAppendArgs) -> Op {
        let PutAppendArgs { key, value, op, client, seq } = args;
        let kind = match op {
            PutOrAppend::Put => OpKind::Put { key, value },
            PutOrAppend::Append => OpKind::Append { key, value },
        };
        Op { client, seq, kind }
    }

    /// Whether this operation writes (and so must be applied at most once).
    pub fn is_write(&self) -> bool {
        !matches!(self.kind, OpKind::Get { .. })
    }
}
