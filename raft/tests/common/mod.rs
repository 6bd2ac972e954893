//! In-process clusters for the integration tests: peers each in their own
//! tokio runtime (so a crash is a runtime shutdown), serving on Unix sockets
//! in a temporary directory, and calling each other through a reliable
//! counting network (network.rs). A small service per peer checks what
//! arrives on the apply channel, and snapshots every few entries as the 2D
//! tester does.
#![allow(dead_code)] // each test file uses part of this module

pub mod network;

use network::Network;

use labrpc::{ApplyMsg, Client, Persister, Server};
use raft::Raft;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// How long a leader may take to emerge (the labs allow 5 s).
pub const ELECTION_DEADLINE: Duration = Duration::from_secs(5);
/// How long a command may take to be applied everywhere expected.
pub const AGREE_DEADLINE: Duration = Duration::from_secs(10);
/// How long one proposal is given before trying again elsewhere.
const TRY_DEADLINE: Duration = Duration::from_secs(2);
/// Poll period of every wait.
pub const POLL: Duration = Duration::from_millis(10);

/// The service's snapshot: the last index and every command through it.
type SnapshotData = (u64, Vec<Vec<u8>>);

/// What one incarnation of a peer's service saw on its apply channel.
#[derive(Debug, Default)]
pub struct Service {
    /// Commands applied, index 1 first (restored from snapshots).
    pub commands: Vec<Vec<u8>>,
    /// Snapshots delivered.
    pub snapshots: u64,
    /// Whether the first message was a snapshot.
    pub first_was_snapshot: Option<bool>,
    /// Broken apply-channel contracts.
    pub problems: Vec<String>,
}

/// A running incarnation of a peer.
struct Running {
    runtime: Runtime,
    raft: Raft,
    persister: Arc<Persister>,
    service: Arc<Mutex<Service>>,
}

pub struct Cluster {
    dir: tempfile::TempDir,
    n: usize,
    snapshot_every: u64,
    peers: Vec<Option<Running>>,
    /// The links between peers; counts RPCs and bytes.
    pub net: Network,
}

impl Cluster {
    /// A cluster of `n` peers, none started yet.
    pub fn new(n: usize, snapshot_every: u64) -> Cluster {
        // Peer logs on stderr when asked for: RUST_LOG=raft=debug.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let dir = tempfile::Builder::new().prefix("rl").tempdir_in("/tmp").expect("tempdir");
        let net = Network::new(dir.path(), n, |j| dir.path().join(format!("p{j}.sock")));
        Cluster { dir, n, snapshot_every, peers: (0..n).map(|_| None).collect(), net }
    }

    fn socket(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("p{i}.sock"))
    }

    /// Opens peer `i`'s data directory (only while it is not running).
    fn persister(&self, i: usize) -> Arc<Persister> {
        Arc::new(Persister::open(self.dir.path().join(format!("data{i}"))).expect("open persister"))
    }

    /// Starts (or restarts) peer `i` on its data directory.
    pub fn start(&mut self, i: usize) {
        assert!(self.peers[i].is_none(), "peer {i} is already running");
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let _context = runtime.enter();
        let _ = std::fs::remove_file(self.socket(i));
        let listener = tokio::net::UnixListener::bind(self.socket(i)).expect("bind");
        let clients = (0..self.n).map(|j| Client::new(self.net.link(i, j))).collect();
        let (tx, rx) = mpsc::unbounded_channel();
        let persister = self.persister(i);
        let raft = Raft::new(clients, i, persister.clone(), tx);
        let server = Server::new();
        raft.register(&server);
        runtime.spawn(server.serve(listener));
        let service = Arc::new(Mutex::new(Service::default()));
        runtime.spawn(apply_loop(raft.clone(), rx, service.clone(), self.snapshot_every));
        self.peers[i] = Some(Running { runtime, raft, persister, service });
    }

    pub fn start_all(&mut self) {
        for i in 0..self.n {
            self.start(i);
        }
    }

    /// Kills peer `i`: its tasks stop, only its Persister's contents remain.
    pub fn crash(&mut self, i: usize) {
        let running = self.peers[i].take().expect("peer is running");
        running.runtime.shutdown_timeout(Duration::from_secs(2));
    }

    pub fn live(&self) -> Vec<usize> {
        (0..self.n).filter(|&i| self.peers[i].is_some()).collect()
    }

    /// Bytes of Raft state peer `i` has saved.
    pub fn raft_state_size(&self, i: usize) -> usize {
        self.peers[i].as_ref().expect("peer is running").persister.raft_state_size()
    }

    pub fn raft(&self, i: usize) -> &Raft {
        &self.peers[i].as_ref().expect("peer is running").raft
    }

    pub fn service(&self, i: usize) -> std::sync::MutexGuard<'_, Service> {
        self.peers[i].as_ref().expect("peer is running").service.lock().unwrap()
    }

    /// Waits until exactly one live peer leads, with no other leader in its term.
    pub fn check_one_leader(&self) -> usize {
        wait_for("one leader", ELECTION_DEADLINE, || {
            let states: Vec<_> = self.live().into_iter().map(|i| (i, self.raft(i).state())).collect();
            let leaders: Vec<_> = states.iter().filter(|(_, (_, leader))| *leader).collect();
            let top = states.iter().map(|(_, (term, _))| *term).max().unwrap_or(0);
            match leaders.as_slice() {
                [(i, (term, _))] if *term == top => Ok(*i),
                _ => Err(format!("(peer, (term, is_leader)): {states:?}")),
            }
        })
    }

    /// How many live peers applied `command` at `index` (and checks that
    /// no two disagree there).
    pub fn n_applied(&self, index: u64) -> (usize, Option<Vec<u8>>) {
        let mut count = 0;
        let mut seen: Option<Vec<u8>> = None;
        for i in self.live() {
            let service = self.service(i);
            assert!(service.problems.is_empty(), "peer {i}: {:?}", service.problems);
            if let Some(cmd) = service.commands.get(index as usize - 1) {
                if let Some(other) = &seen {
                    assert_eq!(other, cmd, "peers disagree at index {index}");
                }
                seen = Some(cmd.clone());
                count += 1;
            }
        }
        (count, seen)
    }

    /// Proposes `command` until some leader commits it on `expected` live
    /// peers; returns its index (as 6.824's `one`).
    pub fn one(&self, command: &[u8], expected: usize) -> u64 {
        let deadline = Instant::now() + AGREE_DEADLINE;
        while Instant::now() < deadline {
            let started = self.live().into_iter().find_map(|i| self.raft(i).start(command.to_vec()).ok());
            if let Some((index, _term)) = started {
                let try_until = Instant::now() + TRY_DEADLINE;
                while Instant::now() < try_until {
                    if let (count, Some(cmd)) = self.n_applied(index)
                        && count >= expected
                        && cmd == command
                    {
                        return index;
                    }
                    std::thread::sleep(POLL);
                }
            } else {
                std::thread::sleep(POLL);
            }
        }
        panic!("one({command:?}) failed to reach agreement on {expected} peers within {AGREE_DEADLINE:?}");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for running in self.peers.iter_mut().filter_map(Option::take) {
            // Wait for saves in progress: the directory goes away next.
            running.runtime.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// Polls `probe` until it returns `Ok`, or panics after `timeout` with
/// the last state it reported.
pub fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {seen}")
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// `Ok(())` if `ok`, else what was seen.
pub fn seen(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// The test service: checks order and gaps, snapshots every `every` entries.
async fn apply_loop(
    raft: Raft,
    mut rx: mpsc::UnboundedReceiver<ApplyMsg>,
    service: Arc<Mutex<Service>>,
    every: u64,
) {
    while let Some(msg) = rx.recv().await {
        let mut s = service.lock().unwrap();
        s.first_was_snapshot.get_or_insert(matches!(msg, ApplyMsg::Snapshot { .. }));
        match msg {
            ApplyMsg::Command { index, command, .. } => {
                if index as usize != s.commands.len() + 1 {
                    let problem = format!("applied index {index} after {}", s.commands.len());
                    s.problems.push(problem);
                    continue;
                }
                s.commands.push(command);
                if every > 0 && index % every == 0 {
                    let data = postcard::to_stdvec(&(index, s.commands.clone())).unwrap();
                    drop(s);
                    raft.snapshot(index, data);
                }
            }
            ApplyMsg::Snapshot { index, data, .. } => {
                let (at, commands): SnapshotData = postcard::from_bytes(&data).unwrap();
                if at != index || (index as usize) < s.commands.len() {
                    let problem =
                        format!("snapshot at {index} (holding {at}) after applying {}", s.commands.len());
                    s.problems.push(problem);
                }
                s.commands = commands;
                s.snapshots += 1;
            }
        }
    }
}
