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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Host one Raft peer with the lab 2 tester service.
    Raft(RaftArgs),
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
        }
    }

    pub fn validate(&self) -> Result<(), BadArg> {
        match self {
            Command::Raft(a) => a.validate(),
        }
    }
}

impl RaftArgs {
    fn validate(&self) -> Result<(), BadArg> {
        if self.me >= self.peers.len() {
            return Err(BadArg {
                arg: "me",
                why: format!("{} but only {} --peer given", self.me, self.peers.len()),
            });
        }
        socket_ok("listen", &self.listen)?;
        socket_ok("control", &self.control)?;
        for p in &self.peers {
            socket_ok("peer", p)?;
        }
        if self.data.as_os_str().is_empty() {
            return Err(BadArg { arg: "data", why: "empty path".into() });
        }
        Ok(())
    }
}
