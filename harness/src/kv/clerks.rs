//! The clerk host: one `node kv-clients` process holding a test's clerks.

use crate::failure::Failure;
use crate::node_conn::{self, Event, NodeConn};
use crate::nodes::{LOG_TAIL_LINES, READY_TIMEOUT, indent};
use crate::process::{self, NodeProcess};
use runner::sandbox::{Sandbox, View};
use std::path::Path;
use std::sync::Arc;

/// The running clerk host.
pub struct ClerkHost {
    process: NodeProcess,
    /// Control requests: MakeClerk and ClerkOp.
    pub conn: Arc<NodeConn>,
}

impl ClerkHost {
    /// Starts `node kv-clients` with its control socket at `control` and its
    /// log at `log`. Unexpected exits go to `on_exit`.
    pub fn start(
        rt: &tokio::runtime::Runtime,
        binary: &Path,
        sandbox: Option<(&Sandbox, &View)>,
        control: &Path,
        log: &Path,
        seed: u64,
        on_exit: impl Fn(String) + Send + 'static,
    ) -> Result<ClerkHost, Failure> {
        let listener = {
            let _guard = rt.enter();
            node_conn::listen(control)
                .map_err(|e| Failure::new(format!("cannot listen on {}: {e}", control.display())))?
        };
        let args = vec![
            "kv-clients".to_string(),
            "--control".into(),
            control.display().to_string(),
            "--seed".into(),
            seed.to_string(),
        ];
        let mut process = NodeProcess::spawn(binary, &args, log, sandbox)
            .map_err(|e| Failure::new(format!("cannot start {}: {e}", binary.display())))?;
        let observe = move |event| match event {
            Event::Closed(why) => on_exit(why),
            Event::Message(m) => on_exit(format!("unexpected message {m:?}")),
        };
        match rt.block_on(node_conn::accept(listener, 0, READY_TIMEOUT, observe)) {
            Ok((conn, _)) => Ok(ClerkHost { process, conn: Arc::new(conn) }),
            Err(e) => {
                process.kill();
                Err(Failure::new(format!(
                    "the clerk host did not start: {e}\n  last lines of {}:\n{}",
                    log.display(),
                    indent(&process::tail(log, LOG_TAIL_LINES))
                )))
            }
        }
    }

    /// Kills the host (and with it every clerk).
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}
