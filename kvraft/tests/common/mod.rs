//! In-process KV clusters for the integration tests: each server in a tokio
//! runtime of its own (so a crash is a runtime shutdown and a restart is a
//! new runtime on the same data directory), serving on a Unix socket in a
//! temporary directory. Peers and clerks dial each other's sockets directly:
//! there is no proxy, so the network is reliable and a crashed server is
//! the only fault.
#![allow(dead_code)] // each test file uses part of this module

use kvraft::{Clerk, KvServer};
use labrpc::{Client, Persister, Server};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// How long a leader may take to emerge (the labs allow 5 s).
pub const ELECTION_DEADLINE: Duration = Duration::from_secs(5);
/// Poll period of every wait.
pub const POLL: Duration = Duration::from_millis(10);
/// How long a server's runtime may take to stop on a crash.
const SHUTDOWN: Duration = Duration::from_secs(2);

/// A running incarnation of a server.
struct Running {
    runtime: Runtime,
    kv: KvServer,
    persister: Arc<Persister>,
}

/// `n` KV servers, each on its own data directory and socket.
pub struct Cluster {
    dir: tempfile::TempDir,
    n: usize,
    maxraftstate: Option<usize>,
    servers: Vec<Option<Running>>,
}

impl Cluster {
    /// Starts `n` servers with `maxraftstate`.
    pub fn new(n: usize, maxraftstate: Option<usize>) -> Cluster {
        // Server logs on stderr when asked for: RUST_LOG=kvraft=debug.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let dir = tempfile::Builder::new().prefix("kv").tempdir_in("/tmp").expect("tempdir");
        let mut cluster = Cluster { dir, n, maxraftstate, servers: (0..n).map(|_| None).collect() };
        for i in 0..n {
            cluster.start(i);
        }
        cluster
    }

    /// Server `i`'s RPC socket.
    pub fn socket(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("s{i}.sock"))
    }

    /// A client that calls server `i` directly.
    pub fn client(&self, i: usize) -> Client {
        Client::new(self.socket(i))
    }

    /// A clerk that knows every server.
    pub fn clerk(&self) -> Clerk {
        self.clerk_of(&(0..self.n).collect::<Vec<_>>())
    }

    /// A clerk that reaches only `servers` (the others' calls fail at once).
    pub fn clerk_of(&self, servers: &[usize]) -> Clerk {
        let missing = self.dir.path().join("nowhere.sock");
        Clerk::new(
            (0..self.n)
                .map(|i| if servers.contains(&i) { self.client(i) } else { Client::new(&missing) })
                .collect(),
        )
    }

    /// Starts (or restarts) server `i` on its data directory.
    pub fn start(&mut self, i: usize) {
        assert!(self.servers[i].is_none(), "server {i} is already running");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let _context = runtime.enter();
        let _ = std::fs::remove_file(self.socket(i));
        let listener = tokio::net::UnixListener::bind(self.socket(i)).expect("bind the server socket");
        let peers = (0..self.n).map(|j| self.client(j)).collect();
        let persister = Arc::new(
            Persister::open(self.dir.path().join(format!("data{i}"))).expect("open the data directory"),
        );
        let kv = KvServer::new(peers, i, persister.clone(), self.maxraftstate);
        let server = Server::new();
        kv.register(&server);
        runtime.spawn(server.serve(listener));
        self.servers[i] = Some(Running { runtime, kv, persister });
    }

    /// Kills server `i`: its tasks stop; only its data directory remains.
    pub fn crash(&mut self, i: usize) {
        let running = self.servers[i].take().expect("server is running");
        running.runtime.shutdown_timeout(SHUTDOWN);
    }

    /// Every server except `i`.
    pub fn others(&self, i: usize) -> Vec<usize> {
        (0..self.n).filter(|&j| j != i).collect()
    }

    /// Servers that are running.
    pub fn live(&self) -> Vec<usize> {
        (0..self.n).filter(|&i| self.servers[i].is_some()).collect()
    }

    /// Waits up to [`ELECTION_DEADLINE`] for a running server to lead, and
    /// returns the one with the highest term.
    pub fn leader(&self) -> usize {
        wait_for("a leader", ELECTION_DEADLINE, || {
            let leaders: Vec<_> = self
                .live()
                .into_iter()
                .filter_map(|i| {
                    let (term, leads) = self.kv(i).state();
                    leads.then_some((term, i))
                })
                .collect();
            leaders.iter().max().map(|&(_, i)| i).ok_or_else(|| "no running server leads".to_string())
        })
    }

    fn kv(&self, i: usize) -> &KvServer {
        &self.servers[i].as_ref().expect("server is running").kv
    }

    /// Bytes of server `i`'s Raft state (it must be running).
    pub fn raft_state_size(&self, i: usize) -> usize {
        self.servers[i].as_ref().expect("server is running").persister.raft_state_size()
    }

    /// Bytes of server `i`'s snapshot (it must be running).
    pub fn snapshot_size(&self, i: usize) -> usize {
        self.servers[i].as_ref().expect("server is running").persister.snapshot_size()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for running in self.servers.iter_mut().filter_map(Option::take) {
            running.runtime.shutdown_timeout(SHUTDOWN);
        }
    }
}

/// A runtime for the test's own clerks, apart from the servers'.
pub fn clerk_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

/// Polls `probe` every [`POLL`] until it returns `Ok`, for at most
/// `timeout`; panics with the last thing it saw otherwise.
pub fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(value) => return value,
            Err(seen) if start.elapsed() >= timeout => {
                panic!("waited {timeout:?} for {what}; last saw: {seen}")
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}
