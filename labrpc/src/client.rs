//! The RPC client: one per peer, many calls in flight at once.

use crate::codec;
use crate::sink::FrameSink;
use crate::wire::{Frame, FrameReader, Kind};
use serde::{Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::oneshot;

/// How long a call may wait for an answer before [`RpcError::Timeout`]. The
/// test network always answers a call, with a reply or a loss, well within
/// this; the deadline only guards against a network that says nothing.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// Why a call returned no reply. Every call site must cope with all of these:
/// to Raft, each one means "no answer; maybe the handler ran, maybe not".
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The network lost the request or the reply (labrpc's `Call` returning false).
    #[error("the network lost the call")]
    Lost,
    /// No answer within the client's deadline.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The connection to the network failed or closed.
    #[error("connection to {path} failed: {reason}")]
    Disconnected {
        /// The socket the client dials.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The server could not run the handler: unknown method or arguments it
    /// could not decode.
    #[error("server fault: {0}")]
    Fault(String),
    /// The arguments could not be encoded, or the reply decoded.
    #[error("{0}")]
    Codec(#[from] codec::CodecError),
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Frame, RpcError>>>>>;

struct Conn {
    tx: FrameSink,
    pending: Pending,
    /// Set by the reader when the connection ends, so the next call dials again.
    dead: Arc<AtomicBool>,
}

/// An RPC client for one peer (6.824's `ClientEnd`). Cheap to clone; clones
/// share one connection.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    deadline: Duration,
    next_id: AtomicU64,
    conn: tokio::sync::Mutex<Option<Arc<Conn>>>,
}

impl Client {
    /// A client that dials the Unix socket at `path` on first use (and again
    /// after the connection fails).
    pub fn new(path: impl AsRef<Path>) -> Client {
        Client::with_deadline(path, DEFAULT_DEADLINE)
    }

    /// As [`Client::new`], with another per-call deadline.
    pub fn with_deadline(path: impl AsRef<Path>, deadline: Duration) -> Client {
        Client {
            inner: Arc::new(Inner {
                path: path.as_ref().to_path_buf(),
                deadline,
                next_id: AtomicU64::new(1),
                conn: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// Calls `method` ("Service.Method") with `args` and waits for the reply.
    ///
    /// # Errors
    /// [`RpcError::Lost`] when the network lost the request or the reply,
    /// [`RpcError::Timeout`] at the deadline, and the other variants when the
    /// connection or the encoding failed. A failed call may or may not have
    /// run its handler.
    pub async fn call<A, R>(&self, method: &str, args: &A) -> Result<R, RpcError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let payload = codec::encode(args)?;
        let reply = self.call_raw(method, &payload).await?;
        Ok(codec::decode(reply.payload())?)
    }

    /// Sends an already encoded request and returns the reply frame.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn call_raw(&self, method: &str, payload: &[u8]) -> Result<Frame, RpcError> {
        let conn = self.connection().await?;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        conn.pending.lock().expect("pending lock").insert(id, tx);
        if conn.dead.load(Ordering::Acquire)
            || conn.tx.send(Frame::new(Kind::Request, id, method, payload).bytes()).is_err()
        {
            conn.pending.lock().expect("pending lock").remove(&id);
            self.forget(&conn).await;
            return Err(self.disconnected("connection closed"));
        }
        match tokio::time::timeout(self.inner.deadline, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.disconnected("connection closed")),
            Err(_) => {
                conn.pending.lock().expect("pending lock").remove(&id);
                Err(RpcError::Timeout(self.inner.deadline))
            }
        }
    }

    fn disconnected(&self, reason: &str) -> RpcError {
        RpcError::Disconnected { path: self.inner.path.clone(), reason: reason.to_string() }
    }

    async fn forget(&self, conn: &Arc<Conn>) {
        let mut slot = self.inner.conn.lock().await;
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *slot = None;
        }
    }

    async fn connection(&self) -> Result<Arc<Conn>, RpcError> {
        let mut slot = self.inner.conn.lock().await;
        if let Some(conn) = slot.as_ref()
            && !conn.tx.is_closed()
            && !conn.dead.load(Ordering::Acquire)
        {
            return Ok(conn.clone());
        }
        let stream =
            UnixStream::connect(&self.inner.path).await.map_err(|e| self.disconnected(&e.to_string()))?;
        let (read, write) = stream.into_split();
        let tx = FrameSink::new(write);
        let pending: Pending = Arc::default();
        let dead = Arc::new(AtomicBool::new(false));
        let conn = Arc::new(Conn { tx, pending: pending.clone(), dead: dead.clone() });
        let path = self.inner.path.clone();
        tokio::spawn(async move {
            let mut reader = FrameReader::new(read);
            let end = loop {
                match reader.next().await {
                    Ok(Some(frame)) => {
                        let result = match frame.kind() {
                            Kind::Reply => Ok(frame.clone()),
                            Kind::Lost => Err(RpcError::Lost),
                            Kind::Fault => {
                                Err(RpcError::Fault(String::from_utf8_lossy(frame.payload()).into()))
                            }
                            Kind::Request => {
                                break format!("unexpected request frame {frame:?} on a client connection");
                            }
                        };
                        if let Some(tx) = pending.lock().expect("pending lock").remove(&frame.call_id()) {
                            let _ = tx.send(result);
                        }
                    }
                    Ok(None) => break "closed by peer".to_string(),
                    Err(e) => break e.to_string(),
                }
            };
            tracing::debug!("rpc client connection to {} ended: {end}", path.display());
            dead.store(true, Ordering::Release);
            let waiting: Vec<_> = pending.lock().expect("pending lock").drain().collect();
            for (_, tx) in waiting {
                let _ = tx.send(Err(RpcError::Disconnected { path: path.clone(), reason: end.clone() }));
            }
        });
        *slot = Some(conn.clone());
        Ok(conn)
    }
}
