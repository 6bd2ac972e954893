//! The control protocol: how the harness drives a `node` process and how the
//! node reports back. It runs on a socket of its own, never through the test
//! network, and student code cannot reach it.
//!
//! Each message is a frame: a `u32` little-endian length, then the message in
//! postcard. A node connects to the socket given by `--control`, sends
//! [`ToHarness::Hello`], then [`ToHarness::Ready`] once it serves RPCs, then
//! events as they happen and one [`ToHarness::Reply`] per request.
#![deny(missing_docs)]

pub mod clock;
pub use platform;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest control message accepted (64 MiB: snapshots travel here).
pub const MAX_MESSAGE_LEN: usize = 64 << 20;

/// A message from a node to the harness.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToHarness {
    /// First message on a connection.
    Hello {
        /// The node's process id.
        pid: u32,
        /// The node's index in its cluster.
        me: u32,
    },
    /// The node serves RPCs.
    Ready,
    /// Raft applied a command (lab 2 tester service).
    Applied {
        /// Log index.
        index: u64,
        /// Term of the entry.
        term: u64,
        /// The command bytes.
        command: Vec<u8>,
    },
    /// The tester service installed a snapshot: delivered by Raft, or read
    /// from the persister at start (`restored`).
    Snapshot {
        /// Last index the snapshot covers.
        index: u64,
        /// The term Raft's `ApplyMsg::Snapshot` gave for the entry at
        /// `index` (its last included term); `None` when `restored`.
        term: Option<u64>,
        /// The commands at indexes 1..=index, as the snapshot holds them.
        commands: Vec<Vec<u8>>,
        /// Read from disk at start rather than delivered by Raft.
        restored: bool,
    },
    /// The peer's term or role changed: what `state()` answers now. The
    /// node watches it all the time (every [`ROLE_POLL_MS`] ms), so that two
    /// leaders in one term are seen whenever they happen, not only when a
    /// test asks.
    Role {
        /// Current term.
        term: u64,
        /// Whether the peer believes it leads.
        leader: bool,
    },
    /// The node's tester service found a problem it must report (a snapshot
    /// it cannot decode, say).
    Problem {
        /// What went wrong.
        message: String,
    },
    /// The answer to a request.
    Reply {
        /// The request's id.
        req: u64,
        /// The answer.
        body: Reply,
    },
}

/// How often a node looks at its peer's term and role, in milliseconds.
pub const ROLE_POLL_MS: u64 = 5;

/// A request from the harness to a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToNode {
    /// Chosen by the harness, echoed in the reply.
    pub req: u64,
    /// What to do.
    pub body: Request,
}

/// What the harness asks of a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Call `Raft::start(command)`.
    Start {
        /// The command.
        command: Vec<u8>,
    },
    /// Call `Raft::state()` and report persistence counters.
    GetState,
    /// List the RPC handlers that have started and not answered.
    Handlers,
    /// Create a clerk that talks to the servers at these sockets (lab 3).
    MakeClerk {
        /// The clerk's id, unique within the test.
        clerk: u32,
        /// One socket per server, in server order.
        servers: Vec<String>,
    },
    /// Run one operation on a clerk (lab 3).
    ClerkOp {
        /// The clerk.
        clerk: u32,
        /// The operation.
        op: KvOp,
    },
    /// A slow disk: from now on each save of the node's Persister waits this
    /// long before it writes (0 ends it). Answered with [`Reply::Done`].
    SlowDisk {
        /// The wait before each save, in milliseconds.
        millis: u64,
    },
}

/// A key/value operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// Read a key ("" if missing).
    Get {
        /// The key.
        key: String,
    },
    /// Replace a key's value.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Append to a key's value.
    Append {
        /// The key.
        key: String,
        /// The suffix.
        value: String,
    },
}

/// A node's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// `start` accepted the command.
    Started {
        /// Its index.
        index: u64,
        /// The leader's term.
        term: u64,
    },
    /// `start` was refused: not the leader.
    NotLeader,
    /// `state()` and counters.
    State {
        /// Current term.
        term: u64,
        /// Whether the peer believes it leads.
        is_leader: bool,
        /// Persister saves since the process started.
        saves: u64,
        /// Persister fsyncs since the process started.
        fsyncs: u64,
    },
    /// The RPC handlers in flight, longest-running first.
    Handlers {
        /// Each one's method and how long it has run, in milliseconds.
        running: Vec<(String, u64)>,
    },
    /// A clerk was created.
    ClerkMade,
    /// The request was carried out; it has no answer of its own.
    Done,
    /// A clerk operation finished; `value` is the read value for a Get.
    OpDone {
        /// What Get returned; empty for Put and Append.
        value: String,
    },
    /// The request could not be carried out.
    Error {
        /// Why.
        message: String,
    },
}

/// A control message that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The socket failed or closed.
    #[error("control socket: {0}")]
    Io(#[from] std::io::Error),
    /// The length prefix is too large.
    #[error("control message of {0} bytes exceeds the {MAX_MESSAGE_LEN}-byte limit")]
    TooLarge(usize),
    /// The message does not decode.
    #[error("undecodable control message: {0}")]
    Decode(String),
}

/// Reads one message; `Ok(None)` at a clean end of stream.
///
/// # Errors
/// On a socket failure, an oversized or undecodable message.
pub async fn read_message<T, R>(r: &mut R) -> Result<Option<T>, ControlError>
where
    T: DeserializeOwned,
    R: AsyncRead + Unpin,
{
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_MESSAGE_LEN {
        return Err(ControlError::TooLarge(len));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await?;
    postcard::from_bytes(&buf).map(Some).map_err(|e| ControlError::Decode(e.to_string()))
}

/// Encodes one message as a frame.
pub fn encode_message<T: Serialize>(msg: &T) -> Vec<u8> {
    let body = postcard::to_stdvec(msg).expect("control messages always encode");
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Writes one message.
///
/// # Errors
/// When the socket fails.
pub async fn write_message<T: Serialize, W: AsyncWrite + Unpin>(w: &mut W, msg: &T) -> std::io::Result<()> {
    w.write_all(&encode_message(msg)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_round_trip_and_oversize_is_refused() {
        let msg = ToHarness::Applied { index: 3, term: 2, command: b"x".to_vec() };
        let bytes = encode_message(&msg);
        let got: ToHarness = read_message(&mut &bytes[..]).await.unwrap().unwrap();
        assert_eq!(got, msg);
        let huge = (MAX_MESSAGE_LEN as u32 + 1).to_le_bytes();
        assert!(matches!(read_message::<ToHarness, _>(&mut &huge[..]).await, Err(ControlError::TooLarge(_))));
        let empty: &[u8] = &[];
        assert!(read_message::<ToHarness, _>(&mut &empty[..]).await.unwrap().is_none());
    }
}
