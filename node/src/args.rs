//! Command-line arguments, validated up front with errors naming the argument.

use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Longest path a Unix socket address can hold (sun_path, with its NUL).
const MAX_SOCKET_PATH: usize = 107;

#[derive(Parser, Debug)]
#[command(name = "node", about = "One process of a raftlab test (started by the harness)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The test's zero, in nanoseconds of CLOCK_MONOTONIC: log lines are
    /// stamped with seconds since it, as the harness's `timeline.log` is.
    /// Without it, since the node started.
    #[arg(long = "clock-zero", global = true)]
    pub clock_zero: Option<u64>,
    /// Seeds `labrpc::rng()`, so that a test's seed replays this process's
    /// draws (the harness derives it from the test's seed, the node and its
    /// incarnation). Without it, seeded from the operating system.
    #[arg(long, global = true)]
    pub seed: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Host one Raft peer with the lab 2 tester service.
    Raft(RaftArgs),
    /// Host one KV server (lab 3) and its Raft peer on one RPC server.
    KvServer(KvServerArgs),
    /// Host the clerks of a lab 3 test, driven over the control socket.
    KvClients(KvClientsArgs),
}

#[derive(Args, Debug, Clone)]
pub struct KvServerArgs {
    /// This server's index among --peer.
    #[arg(long)]
    pub me: usize,
    /// Socket on which this server serves RPCs (KV and Raft).
    #[arg(long)]
    pub listen: PathBuf,
    /// Socket through which to call Raft peer i, once per server in order.
    #[arg(long = "peer", required = true)]
    pub peers: Vec<PathBuf>,
    /// Data directory for the Persister.
    #[arg(long)]
    pub data: PathBuf,
    /// The harness's control socket.
    #[arg(long)]
    pub control: PathBuf,
    /// Snapshot when the Raft state reaches this many bytes; -1 never snapshots.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub maxraftstate: i64,
}

#[derive(Args, Debug, Clone)]
pub struct KvClientsArgs {
    /// An index for logs (the harness runs one clerk host per test).
    #[arg(long, default_value_t = 0)]
    pub me: usize,
    /// The harness's control socket.
    #[arg(long)]
    pub control: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct RaftArgs {
    /// This peer's index among --peer.
    #[arg(long)]
    pub me: usize,
    /// Socket on which this peer serves RPCs.
    #[arg(long)]
    pub listen: PathBuf,
    /// Socket through which to call peer i, once per peer in order (this
    /// peer's own included).
    #[arg(long = "peer", required = true)]
    pub peers: Vec<PathBuf>,
    /// Data directory for the Persister.
    #[arg(long)]
    pub data: PathBuf,
    /// The harness's control socket.
    #[arg(long)]
    pub control: PathBuf,
    /// Snapshot every N applied entries (at index N-1, 2N-1, …), as 6.824's
    /// 2D tester does; 0 never snapshots.
    #[arg(long, default_value_t = 0)]
    pub snapshot_every: u64,
}

/// An argument that cannot work, named.
#[derive(Debug, thiserror::Error)]
#[error("invalid --{arg}: {why}")]
pub struct BadArg {
    arg: &'static str,
    why: String,
}

fn socket_ok(arg: &'static str, p: &Path) -> Result<(), BadArg> {
    let len = p.as_os_str().len();
    if len == 0 || len > MAX_SOCKET_PATH {
        return Err(BadArg {
            arg,
            why: format!("{} is {len} bytes; a socket path needs 1..={MAX_SOCKET_PATH}", p.display()),
        });
    }
    Ok(())
}

impl Command {
    pub fn me(&self) -> usize {
        match self {
            Command::Raft(a) => a.me,
            Command::KvServer(a) => a.me,
            Command::KvClients(a) => a.me,
        }
    }

    pub fn validate(&self) -> Result<(), BadArg> {
        match self {
            Command::Raft(a) => validate_peer(a.me, &a.listen, &a.peers, &a.data, &a.control),
            Command::KvServer(a) => {
                if a.maxraftstate < -1 || a.maxraftstate == 0 {
                    return Err(BadArg {
                        arg: "maxraftstate",
                        why: format!("{} is neither -1 (off) nor a positive size", a.maxraftstate),
                    });
                }
                validate_peer(a.me, &a.listen, &a.peers, &a.data, &a.control)
            }
            Command::KvClients(a) => socket_ok("control", &a.control),
        }
    }
}

fn validate_peer(
    me: usize,
    listen: &Path,
    peers: &[PathBuf],
    data: &Path,
    control: &Path,
) -> Result<(), BadArg> {
    if me >= peers.len() {
        return Err(BadArg { arg: "me", why: format!("{me} but only {} --peer given", peers.len()) });
    }
    socket_ok("listen", listen)?;
    socket_ok("control", control)?;
    for p in peers {
        socket_ok("peer", p)?;
    }
    if data.as_os_str().is_empty() {
        return Err(BadArg { arg: "data", why: "empty path".into() });
    }
    Ok(())
}
