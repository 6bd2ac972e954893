//! `node`: one process of a raftlab test.
//!
//! `node raft …` hosts one Raft peer and the lab 2 tester service;
//! `node kv-server …` one KV server with its Raft peer; `node kv-clients …`
//! the clerks of a lab 3 test. The harness starts them, talks to them over
//! the control socket, and kills them to crash them. Student code (the
//! `raft` and `kvraft` crates) runs only here.

mod args;
mod clerk_host;
mod kv_host;
mod link;
mod raft_host;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // On the portable path, a node ends with the harness that started it.
    control::platform::exit_with_parent();
    let cli = args::Cli::parse();
    if let Some(seed) = cli.seed {
        labrpc::random::seed(seed);
    }
    let me = cli.command.me();
    install_panic_hook(me);
    init_logging(me, cli.clock_zero.unwrap_or_else(control::clock::monotonic_ns));
    if let Err(e) = cli.command.validate() {
        eprintln!("node: {e}");
        return ExitCode::from(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime");
    let result = rt.block_on(async {
        match cli.command {
            args::Command::Raft(a) => raft_host::run(a).await,
            args::Command::KvServer(a) => kv_host::run(a).await,
            args::Command::KvClients(a) => clerk_host::run(a).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("node {me}: {e}");
            eprintln!("node {me}: {e}");
            ExitCode::from(1)
        }
    }
}

/// A panic anywhere (student code included) ends the whole process with a
/// line the harness quotes, instead of leaving a half-dead node.
fn install_panic_hook(me: usize) {
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic)".to_string());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("node {me} panicked: {msg}{at}");
        std::process::exit(101);
    }));
}

/// Stamps log lines with seconds since the test's zero, in the format of
/// the harness's `timeline.log` ([`control::clock`]), so that the two merge
/// exactly (`labs logs`).
struct SinceTestBegan(u64);

impl tracing_subscriber::fmt::time::FormatTime for SinceTestBegan {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        w.write_str(&control::clock::stamp(control::clock::since(self.0)))
    }
}

/// Logs to stderr (the node's `nN.log`) in `tracing-subscriber`'s text
/// format with targets (module paths name topics for `labs logs`).
fn init_logging(me: usize, clock_zero: u64) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NODE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .with_timer(SinceTestBegan(clock_zero))
        .init();
    tracing::info!("node {me} starting, pid {}", std::process::id());
}
