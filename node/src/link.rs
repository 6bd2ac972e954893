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
