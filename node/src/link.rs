//! The node's end of the control socket.

use control::{ToHarness, ToNode, encode_message, read_message};
use std::path::Path;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::OwnedReadHalf;
use tokio::sync::mpsc;

/// Sends messages to the harness in order, from any task.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

impl Outbox {
    pub fn send(&self, msg: &ToHarness) {
        // If the harness is gone the node is about to be killed; nothing to do.
        let _ = self.tx.send(encode_message(msg));
    }
}

/// Requests from the harness.
pub struct Inbox {
    read: OwnedReadHalf,
}

impl Inbox {
    /// The next request; `None` when the harness closed the socket.
    pub async fn next(&mut self) -> Result<Option<ToNode>, control::ControlError> {
        read_message(&mut self.read).await
    }
}

/// Connects to the harness and says hello.
pub async fn connect(path: &Path, me: usize) -> Result<(Outbox, Inbox), String> {
    let stream = UnixStream::connect(path)
        .await
        .map_err(|e| format!("cannot connect to control socket {}: {e}", path.display()))?;
    let (read, mut write) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = first;
            while let Ok(more) = rx.try_recv() {
                batch.extend_from_slice(&more);
            }
            if write.write_all(&batch).await.is_err() {
                // The harness went away: a node must not outlive it.
                eprintln!("control socket closed by the harness; exiting");
                std::process::exit(0);
            }
        }
    });
    let out = Outbox { tx };
    out.send(&ToHarness::Hello { pid: std::process::id(), me: me as u32 });
    Ok((out, Inbox { read }))
}

/// Watches the peer's term and role through `state` (every
/// [`control::ROLE_POLL_MS`] ms, on a thread of its own so that a slow
/// `state()` delays no task) and reports each change to the harness.
pub fn watch_role(state: impl Fn() -> (u64, bool) + Send + 'static, out: Outbox) {
    std::thread::Builder::new()
        .name("role-watch".into())
        .spawn(move || {
            let mut last = None;
            loop {
                let now = state();
                if last != Some(now) {
                    out.send(&ToHarness::Role { term: now.0, leader: now.1 });
                    last = Some(now);
                }
                std::thread::sleep(std::time::Duration::from_millis(control::ROLE_POLL_MS));
            }
        })
        .expect("start the role watcher");
}

/// The answer to [`control::Request::Handlers`]: `server`'s handlers in flight.
pub fn handlers(server: &labrpc::Server) -> control::Reply {
    let running = server.in_flight().into_iter().map(|(m, d)| (m, d.as_millis() as u64)).collect();
    control::Reply::Handlers { running }
}
