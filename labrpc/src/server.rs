//! The RPC server: dispatches each request by "Service.Method" to a handler.

use crate::codec;
use crate::sink::FrameSink;
use crate::wire::{Frame, FrameReader, Kind};
use serde::{Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::net::{UnixListener, UnixStream};

type BoxFuture = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send>>;
type Handler = Arc<dyn Fn(&[u8]) -> BoxFuture + Send + Sync>;

/// A set of named handlers served on a Unix socket (6.824's `Server` and
/// `Service` in one). Cheap to clone; clones share the handler table, so
/// handlers may be registered before or after [`Server::serve`] starts.
#[derive(Clone, Default)]
pub struct Server {
    handlers: Arc<RwLock<HashMap<String, Handler>>>,
    running: Arc<Running>,
}

/// The handlers running now: a key per run → its method and start.
#[derive(Default)]
struct Running {
    next: AtomicU64,
    runs: Mutex<HashMap<u64, (String, Instant)>>,
}

/// Removes its run from [`Running`] when the handler's task ends, however
/// it ends.
struct RunGuard {
    running: Arc<Running>,
    key: u64,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.running.runs.lock().expect("running lock").remove(&self.key);
    }
}

impl Server {
    /// A server with no handlers.
    pub fn new() -> Server {
        Server::default()
    }

    /// Registers `handler` for `method` ("Raft.AppendEntries"). Each request
    /// runs the handler in a task of its own, so handlers run concurrently
    /// and may await. Registering a name again replaces the handler.
    ///
    /// # Panics
    /// If `method` is longer than 255 bytes.
    pub fn register<A, R, F, Fut>(&self, method: &str, handler: F)
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        assert!(method.len() <= 255, "method name {method:?} longer than 255 bytes");
        let handler = Arc::new(handler);
        let name = method.to_string();
        let erased: Handler = Arc::new(move |payload: &[u8]| {
            let args: Result<A, _> = codec::decode(payload);
            let handler = handler.clone();
            let name = name.clone();
            Box::pin(async move {
                let args = args.map_err(|e| format!("{name}: bad arguments: {e}"))?;
                let reply = handler(args).await;
                codec::encode(&reply).map_err(|e| format!("{name}: {e}"))
            })
        });
        self.handlers.write().expect("handler table lock").insert(method.to_string(), erased);
    }

    /// Whether a handler is registered for `method`.
    pub fn has(&self, method: &str) -> bool {
        self.handlers.read().expect("handler table lock").contains_key(method)
    }

    /// The handlers that have started and not yet answered: each one's
    /// method and how long it has been running, longest first.
    pub fn in_flight(&self) -> Vec<(String, Duration)> {
        let runs = self.running.runs.lock().expect("running lock");
        let mut out: Vec<_> = runs.values().map(|(m, at)| (m.clone(), at.elapsed())).collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.1));
        out
    }

    /// Accepts connections on `listener` and serves them until the listener
    /// fails. A connection that sends a malformed frame is closed and logged;
    /// an unknown method is answered with a fault; neither stops the server.
    pub async fn serve(self, listener: UnixListener) -> std::io::Result<()> {
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(self.clone().serve_connection(stream));
        }
    }

    /// Serves requests arriving on one connection until it closes.
    pub async fn serve_connection(self, stream: UnixStream) {
        let (read, write) = stream.into_split();
        let tx = FrameSink::new(write);
        let mut reader = FrameReader::new(read);
        loop {
            let frame = match reader.next().await {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!("rpc server closes a connection: {e}");
                    return;
                }
            };
            if frame.kind() != Kind::Request {
                tracing::warn!("rpc server closes a connection: expected a request frame, got {frame:?}");
                return;
            }
            let handler = self.handlers.read().expect("handler table lock").get(frame.method()).cloned();
            let tx = tx.clone();
            let id = frame.call_id();
            match handler {
                None => {
                    let msg = format!("unknown method {:?}", frame.method());
                    let _ = tx.send(Frame::new(Kind::Fault, id, "", msg.as_bytes()).bytes());
                }
                Some(h) => {
                    let fut = h(frame.payload());
                    let key = self.running.next.fetch_add(1, Ordering::Relaxed);
                    self.running
                        .runs
                        .lock()
                        .expect("running lock")
                        .insert(key, (frame.method().to_string(), Instant::now()));
                    let guard = RunGuard { running: self.running.clone(), key };
                    tokio::spawn(async move {
                        let _running = guard;
                        let answer = match fut.await {
                            Ok(reply) => Frame::new(Kind::Reply, id, "", &reply),
                            Err(msg) => Frame::new(Kind::Fault, id, "", msg.as_bytes()),
                        };
                        let _ = tx.send(answer.bytes());
                    });
                }
            }
        }
    }
}
