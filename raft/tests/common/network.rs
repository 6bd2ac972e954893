//! A reliable network between in-process peers that counts, as the lab's
//! proxy does, RPCs delivered to servers and bytes carried (request payloads
//! plus reply payloads). One Unix socket per directed link; each connection
//! is forwarded frame by frame to the target peer's own socket.

use labrpc::wire::{FrameReader, Kind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::runtime::Runtime;

#[derive(Default)]
struct Counters {
    rpcs: AtomicU64,
    bytes: AtomicU64,
}

/// The links of one cluster, served by a runtime of their own (so they
/// outlive peer crashes).
pub struct Network {
    runtime: Option<Runtime>,
    dir: PathBuf,
    counters: Arc<Counters>,
}

impl Network {
    /// Links from every peer to every other, in `dir`; `target(j)` is peer
    /// `j`'s own socket.
    pub fn new(dir: &Path, n: usize, target: impl Fn(usize) -> PathBuf) -> Network {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mut net = Network { runtime: None, dir: dir.to_path_buf(), counters: Arc::default() };
        for i in 0..n {
            for j in (0..n).filter(|&j| j != i) {
                let _context = runtime.enter();
                let listener = UnixListener::bind(net.link(i, j)).expect("bind link");
                runtime.spawn(serve_link(listener, target(j), net.counters.clone()));
            }
        }
        net.runtime = Some(runtime);
        net
    }

    /// The socket peer `from` dials to reach peer `to`.
    pub fn link(&self, from: usize, to: usize) -> PathBuf {
        self.dir.join(format!("l{from}-{to}.sock"))
    }

    /// RPCs delivered to servers so far.
    pub fn rpcs(&self) -> u64 {
        self.counters.rpcs.load(Ordering::Relaxed)
    }

    /// Payload bytes carried so far (requests and replies).
    pub fn bytes(&self) -> u64 {
        self.counters.bytes.load(Ordering::Relaxed)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

async fn serve_link(listener: UnixListener, target: PathBuf, counters: Arc<Counters>) {
    while let Ok((caller, _)) = listener.accept().await {
        let (target, counters) = (target.clone(), counters.clone());
        tokio::spawn(async move {
            // A peer that is down: drop the caller's connection, a loss.
            let Ok(server) = UnixStream::connect(&target).await else { return };
            let (caller_read, caller_write) = caller.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::select! {
                () = forward(caller_read, server_write, counters.clone()) => {}
                () = forward(server_read, caller_write, counters) => {}
            }
        });
    }
}

/// Copies frames until either side closes, counting them.
async fn forward(from: OwnedReadHalf, mut to: OwnedWriteHalf, counters: Arc<Counters>) {
    let mut reader = FrameReader::new(from);
    while let Ok(Some(frame)) = reader.next().await {
        if frame.kind() == Kind::Request {
            counters.rpcs.fetch_add(1, Ordering::Relaxed);
        }
        counters.bytes.fetch_add(frame.payload().len() as u64, Ordering::Relaxed);
        if to.write_all(frame.as_bytes()).await.is_err() {
            return;
        }
    }
}
