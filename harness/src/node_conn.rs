//! The harness's end of one node's control socket.

use control::{ControlError, Reply, Request, ToHarness, ToNode, encode_message, read_message};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tokio::net::unix::OwnedReadHalf;
use tokio::sync::{mpsc, oneshot};

/// What a node reported, handed to the cluster's observer in order.
#[derive(Debug)]
pub enum Event {
    /// A message from the node (other than replies).
    Message(ToHarness),
    /// The control connection ended: the node exited or was killed.
    Closed(String),
}

/// Requests to one live node incarnation.
pub struct NodeConn {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
    next: AtomicU64,
}

/// Why a control request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The node did not answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The node is gone.
    #[error("the node's control connection is closed")]
    Closed,
}

impl NodeConn {
    /// Sends a request and waits up to `limit` for the answer.
    pub async fn request(&self, body: Request, limit: Duration) -> Result<Reply, RequestError> {
        let req = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().expect("waiting lock").insert(req, tx);
        if self.tx.send(encode_message(&ToNode { req, body })).is_err() {
            return Err(RequestError::Closed);
        }
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Err(RequestError::Closed),
            Err(_) => {
                self.waiting.lock().expect("waiting lock").remove(&req);
                Err(RequestError::Timeout(limit))
            }
        }
    }
}

/// Accepts the node's connection on `listener`, checks its Hello, and waits
/// for Ready, all within `limit`. Events (including those before Ready) go to
/// `observe` in order, from a task of the runtime.
pub async fn accept(
    listener: UnixListener,
    me: usize,
    limit: Duration,
    observe: impl Fn(Event) + Send + 'static,
) -> Result<(NodeConn, u32), String> {
    let handshake = async {
        let (stream, _) = listener.accept().await.map_err(|e| format!("accept failed: {e}"))?;
        let (mut read, mut write) = stream.into_split();
        let pid = match read_message::<ToHarness, _>(&mut read).await {
            Ok(Some(ToHarness::Hello { pid, me: said })) if said as usize == me => pid,
            Ok(Some(ToHarness::Hello { me: said, .. })) => {
                return Err(format!("node says it is node {said}, but was started as node {me}"));
            }
            Ok(Some(other)) => return Err(format!("first control message was {other:?}, expected Hello")),
            Ok(None) => return Err("node closed its control socket before saying Hello".into()),
            Err(e) => return Err(e.to_string()),
        };
        loop {
            match read_message::<ToHarness, _>(&mut read).await {
                Ok(Some(ToHarness::Ready)) => break,
                Ok(Some(msg)) => observe(Event::Message(msg)),
                Ok(None) => return Err("node closed its control socket before Ready".into()),
                Err(e) => return Err(e.to_string()),
            }
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if write.write_all(&msg).await.is_err() {
                    break;
                }
            }
        });
        Ok::<_, String>((tx, read, pid))
    };
    let (tx, read, pid) = tokio::time::timeout(limit, handshake)
        .await
        .map_err(|_| format!("node {me} was not ready within {limit:?}"))??;
    let waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>> = Arc::default();
    tokio::spawn(read_events(read, waiting.clone(), observe));
    Ok((NodeConn { tx, waiting, next: AtomicU64::new(1) }, pid))
}

async fn read_events(
    mut read: OwnedReadHalf,
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
    observe: impl Fn(Event),
) {
    let end = loop {
        match read_message::<ToHarness, _>(&mut read).await {
            Ok(Some(ToHarness::Reply { req, body })) => {
                if let Some(tx) = waiting.lock().expect("waiting lock").remove(&req) {
                    let _ = tx.send(body);
                }
            }
            Ok(Some(msg)) => observe(Event::Message(msg)),
            Ok(None) => break "connection closed".to_string(),
            Err(ControlError::Io(e)) => break format!("connection failed: {e}"),
            Err(e) => break format!("bad control message: {e}"),
        }
    };
    waiting.lock().expect("waiting lock").clear();
    observe(Event::Closed(end));
}

/// Binds a control listener at `path`, replacing a stale socket, connectable
/// by any uid. `path`'s folder must be one no node can write (see
/// [`crate::net::socket::bind`]).
///
/// # Errors
/// If something other than a socket is at `path`, or binding fails.
pub fn listen(path: &Path) -> std::io::Result<UnixListener> {
    crate::net::socket::bind(path)
}
