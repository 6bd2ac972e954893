//! A network between in-process peers that counts, as the lab's proxy does,
//! RPCs delivered to servers and bytes carried (request payloads plus reply
//! payloads), and can be made unreliable as labrpc's is. One Unix socket per
//! directed link; each connection is forwarded frame by frame to the target
//! peer's own socket.

use bytes::Bytes;
use labrpc::wire::{Frame, FrameReader, Kind, write_frames};
use rand::Rng;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::unix::OwnedReadHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::UnboundedSender;

/// labrpc's unreliable network: requests wait up to this long (ms)…
const UNRELIABLE_DELAY_MS: u64 = 27;
/// …and this share of requests, and of replies, is lost.
const UNRELIABLE_LOSS: f64 = 0.1;
/// labrpc's long reordering: this share of replies is held back…
const REORDER_SHARE: f64 = 600.0 / 900.0;
/// …for 200 ms plus up to this long (ms), skewed short.
const REORDER_EXTRA_MS: u64 = 2000;

#[derive(Default)]
struct Counters {
    rpcs: AtomicU64,
    bytes: AtomicU64,
    unreliable: AtomicBool,
    long_reordering: AtomicBool,
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

    /// Makes every link lose, delay and reorder calls (or stop doing so).
    pub fn set_unreliable(&self, unreliable: bool) {
        self.counters.unreliable.store(unreliable, Ordering::Relaxed);
    }

    /// Holds most replies back for a while, so they arrive out of order.
    pub fn set_long_reordering(&self, on: bool) {
        self.counters.long_reordering.store(on, Ordering::Relaxed);
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
            let (to_caller, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(write_frames(caller_write, rx));
            let (to_server, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(write_frames(server_write, rx));
            tokio::select! {
                () = requests(caller_read, to_server, to_caller.clone(), counters.clone()) => {}
                () = replies(server_read, to_caller, counters) => {}
            }
        });
    }
}

/// Forwards the caller's requests, counting them; when unreliable, delays
/// each and loses some (the caller gets a `Lost` frame).
async fn requests(
    from: OwnedReadHalf,
    to_server: UnboundedSender<Bytes>,
    to_caller: UnboundedSender<Bytes>,
    counters: Arc<Counters>,
) {
    let mut reader = FrameReader::new(from);
    while let Ok(Some(frame)) = reader.next().await {
        if !counters.unreliable.load(Ordering::Relaxed) {
            deliver_request(&frame, &to_server, &counters);
            continue;
        }
        let (delay, lost) = {
            let mut rng = rand::rng();
            (rng.random_range(0..UNRELIABLE_DELAY_MS), rng.random_bool(UNRELIABLE_LOSS))
        };
        let (to_server, to_caller, counters) = (to_server.clone(), to_caller.clone(), counters.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            if lost {
                let _ = to_caller.send(Frame::new(Kind::Lost, frame.call_id(), "", &[]).bytes());
            } else {
                deliver_request(&frame, &to_server, &counters);
            }
        });
    }
}

fn deliver_request(frame: &Frame, to_server: &UnboundedSender<Bytes>, counters: &Counters) {
    counters.rpcs.fetch_add(1, Ordering::Relaxed);
    counters.bytes.fetch_add(frame.payload().len() as u64, Ordering::Relaxed);
    let _ = to_server.send(frame.bytes());
}

/// Forwards the server's replies, counting them; when unreliable, loses
/// some; with long reordering, holds most back for a while.
async fn replies(from: OwnedReadHalf, to_caller: UnboundedSender<Bytes>, counters: Arc<Counters>) {
    let mut reader = FrameReader::new(from);
    while let Ok(Some(frame)) = reader.next().await {
        let unreliable = counters.unreliable.load(Ordering::Relaxed);
        let reordering = counters.long_reordering.load(Ordering::Relaxed);
        if !unreliable && !reordering {
            counters.bytes.fetch_add(frame.payload().len() as u64, Ordering::Relaxed);
            let _ = to_caller.send(frame.bytes());
            continue;
        }
        let (lost, hold) = {
            let mut rng = rand::rng();
            let hold = (reordering && rng.random_bool(REORDER_SHARE)).then(|| {
                let extra = rng.random_range(0..=REORDER_EXTRA_MS);
                200 + rng.random_range(0..=extra)
            });
            (unreliable && rng.random_bool(UNRELIABLE_LOSS), hold)
        };
        let reply = if lost { Frame::new(Kind::Lost, frame.call_id(), "", &[]) } else { frame };
        let (to_caller, counters) = (to_caller.clone(), counters.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(hold.unwrap_or(0))).await;
            counters.bytes.fetch_add(reply.payload().len() as u64, Ordering::Relaxed);
            let _ = to_caller.send(reply.bytes());
        });
    }
}
