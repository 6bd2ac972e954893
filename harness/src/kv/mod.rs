//! The KV cluster a lab 3 test is written against: 6.824's kvraft config.go
//! as verbs. Servers are `node kv-server` processes; clerks live in one
//! `node kv-clients` process and reach the servers through the proxy, each
//! clerk on links of its own, so partitions cut clients off as in 6.824.
//! Every clerk operation is recorded in a [`history::History`] and the whole
//! history is checked for linearizability at [`KvCluster::end`].

mod clerk_ops;
pub mod clerks;
pub mod history;

use crate::failure::{Failure, TestResult};
use crate::net::EndId;
use crate::net::rules::Mode;
use crate::session::Session;
use crate::verbs::SessionVerbs;
use clerks::ClerkHost;
use control::{Reply, Request};
use history::{History, Judgement};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The folder of the clerk host's sockets (its control socket and the
/// clerks' links to the servers), all a sandboxed clerk host sees of the
/// test directory.
const CLERK_SOCKETS: &str = "ck";

/// The tester's election allowance, the same in the KV tests as in lab 2
/// (6.824's `electionTimeout`).
pub use crate::cluster::ELECTION_TIMEOUT;
/// A clerk operation, as tests name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Read a key.
    Get,
    /// Replace a key's value.
    Put,
    /// Append to a key's value.
    Append,
}

impl From<Op> for lincheck::KvOp {
    fn from(op: Op) -> lincheck::KvOp {
        match op {
            Op::Get => lincheck::KvOp::Get,
            Op::Put => lincheck::KvOp::Put,
            Op::Append => lincheck::KvOp::Append,
        }
    }
}

/// Caller ids of clerks start here; servers are 0..n.
pub const CLERK_BASE: EndId = 1000;
/// How long one clerk operation may take before the harness stops waiting
/// (the operation then stays pending in the history). Clerks retry forever,
/// so this only bounds a test that is stuck anyway.
pub const OP_LIMIT: Duration = Duration::from_secs(120);

/// A clerk, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clerk(u32);

/// Options of a KV cluster (6.824's kvraft `make_config` arguments).
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Start with an unreliable network.
    pub unreliable: bool,
    /// Servers snapshot when their Raft state reaches this many bytes.
    pub maxraftstate: Option<usize>,
}

/// A cluster of KV servers and a host of clerks.
///
/// Like [`Cluster`](crate::Cluster), it owns its test's [`Session`] and adds
/// the kvraft tester's vocabulary on top; the verbs every cluster type
/// shares come with [`SessionVerbs`]. The clerk host's death is one of the
/// session's checks ([`Session::add_check`]).
pub struct KvCluster {
    session: Session,
    host: ClerkHost,
    clerks: AtomicU64,
    history: Arc<History>,
}

impl SessionVerbs for KvCluster {
    fn session(&self) -> &Session {
        &self.session
    }
}

/// An operation running on a clerk; see [`KvCluster::start_op`].
pub struct PendingOp {
    rx: std::sync::mpsc::Receiver<Result<String, String>>,
}

impl PendingOp {
    /// Waits up to `limit` for the result: `Ok(None)` if still running.
    pub fn wait(&self, limit: Duration) -> TestResult<Option<String>> {
        match self.rx.recv_timeout(limit) {
            Ok(Ok(v)) => Ok(Some(v)),
            Ok(Err(e)) => Err(Failure::new(e)),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Err(Failure::new("the clerk operation was abandoned"))
            }
        }
    }
}

impl KvCluster {
    /// Starts `n` KV servers of the test `name`, all connected, and the
    /// clerk host.
    pub fn new(name: &str, n: usize, opts: Options) -> TestResult<KvCluster> {
        let limit = opts.maxraftstate.map_or(-1, |m| m as i64).to_string();
        let session = Session::new(name, n, vec!["kv-server".into(), "--maxraftstate".into(), limit])?;
        let nodes = session.nodes();
        // KV tests fail lost calls fast (6.824's short delays).
        nodes.net.set_mode(Mode {
            reliable: !opts.unreliable,
            long_reordering: false,
            long_delays: false,
            stale: false,
        });
        let host_exit: Arc<Mutex<Option<String>>> = Arc::default();
        let record = host_exit.clone();
        let view = nodes.clerk_host_view(&nodes.dir.join(CLERK_SOCKETS)).map_err(|f| session.failed(f))?;
        let host = ClerkHost::start(
            &nodes.rt,
            &nodes.binary,
            nodes.sandbox.as_ref().map(|s| (s, &view)),
            &nodes.dir.join(CLERK_SOCKETS).join("ck.sock"),
            &nodes.dir.join(protocol::artifacts::CLERKS_LOG),
            // The clerk host's draws (clerk ids) replay too: a slot past every node's.
            crate::seed::process_seed(nodes.seed, u64::from(u32::MAX), 0),
            move |why| {
                record.lock().expect("host lock").get_or_insert(why);
            },
        )
        .map_err(|f| session.failed(f))?;
        session.record(format!("clerk host started (pid {})", host.pid()));
        let log = nodes.dir.join(protocol::artifacts::CLERKS_LOG);
        session.add_check(move || {
            let why = host_exit.lock().expect("host lock").clone()?;
            Some(format!(
                "the clerk host exited unexpectedly ({why}); last lines of {}:\n{}",
                log.display(),
                crate::nodes::indent(&crate::process::tail(&log, crate::nodes::LOG_TAIL_LINES))
            ))
        });
        let kv = KvCluster { session, host, clerks: AtomicU64::new(0), history: Arc::default() };
        for i in 0..n {
            kv.session.nodes().start(i).map_err(|f| kv.session.failed(f))?;
        }
        kv.connect_all();
        Ok(kv)
    }

    // ---- the network ----

    fn set_peer_link(&self, from: usize, to: usize, on: bool) {
        self.session.net().set_link(from as EndId, to, on);
    }

    /// Connects server `i` to the servers in `to`, both ways.
    pub fn connect(&self, i: usize, to: &[usize]) {
        for &j in to {
            self.set_peer_link(i, j, true);
            self.set_peer_link(j, i, true);
        }
    }

    /// Cuts server `i` off from the servers in `from`, both ways.
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        for &j in from {
            self.set_peer_link(i, j, false);
            self.set_peer_link(j, i, false);
        }
    }

    /// Connects every server to every other.
    pub fn connect_all(&self) {
        for i in self.all() {
            self.connect(i, &self.all());
        }
        self.session.record("connect all");
    }

    /// Servers in `p1` reach only each other, and so do those in `p2`.
    /// Clerks' links are left as they are.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        for &i in p1 {
            self.disconnect(i, p2);
            self.connect(i, p1);
        }
        for &i in p2 {
            self.disconnect(i, p1);
            self.connect(i, p2);
        }
        self.session.record(format!("partition {p1:?} | {p2:?}"));
    }

    /// The 6.824 partition: a majority without the current leader, and a
    /// minority with it (the leader last).
    pub fn make_partition(&self) -> TestResult<(Vec<usize>, Vec<usize>)> {
        let leader = self.leader()?.unwrap_or(0);
        let rest: Vec<usize> = self.all().into_iter().filter(|&i| i != leader).collect();
        let majority = self.n() / 2 + 1;
        let p1 = rest[..majority].to_vec();
        let mut p2 = rest[majority..].to_vec();
        p2.push(leader);
        Ok((p1, p2))
    }

    // ---- servers ----

    /// A server that believes it leads, if any (asks each running server).
    pub fn leader(&self) -> TestResult<Option<usize>> {
        for i in self.all() {
            match self.session.nodes().request(i, Request::GetState).map_err(|f| self.session.failed(f))? {
                Some(Reply::State { term, is_leader: true, .. }) => {
                    self.session.nodes().saw_role(i, term, true, "answered state() so");
                    return Ok(Some(i));
                }
                Some(Reply::State { term, .. }) => {
                    self.session.nodes().saw_role(i, term, false, "answered state() so")
                }
                _ => continue,
            }
        }
        Ok(None)
    }

    /// Crashes server `i`: cuts it off from the other servers and kills its
    /// process. Its clerks' calls to it are lost.
    pub fn shutdown_server(&self, i: usize) {
        self.disconnect(i, &self.all());
        self.session.nodes().kill(i);
    }

    /// Starts a new process for server `i` on its data directory, not yet
    /// connected to the other servers (call [`KvCluster::connect_all`]).
    pub fn start_server(&self, i: usize) -> TestResult {
        self.session.nodes().start(i).map_err(|f| self.session.failed(f))
    }

    /// Crashes every server (6.824's `ShutdownServer` for each).
    pub fn shutdown_all(&self) {
        for i in self.all() {
            self.shutdown_server(i);
        }
    }

    /// Starts every server on its data directory and connects them all
    /// (6.824's `StartServer` for each, then `ConnectAll`).
    pub fn restart_all(&self) -> TestResult {
        for i in self.all() {
            self.start_server(i)?;
        }
        self.connect_all();
        Ok(())
    }

    // ---- begin / end ----

    /// Checks the history recorded so far for linearizability: a violation
    /// fails the test and saves the HTML view in the test's directory; a
    /// check that runs out of time passes with a warning.
    pub fn check_linearizable(&self) -> TestResult {
        if self.history.is_empty() {
            return Ok(());
        }
        match self.history.judge(&self.session.dir().join(protocol::artifacts::LINEARIZABILITY_HTML)) {
            Judgement::Ok => Ok(()),
            Judgement::Unknown => {
                println!("  WARNING: linearizability check timed out, assuming history is ok");
                self.session.record("linearizability check timed out");
                Ok(())
            }
            Judgement::Illegal(view) => self
                .session
                .fail(format!("history is not linearizable; the view of the violation is in {view}")),
        }
    }

    /// Ends a story: checks invariants, stuck handlers, the time limit
    /// and the linearizability of every operation so far, then prints the
    /// KV summary line (seconds, servers, RPCs, clerk operations).
    pub fn end(&self) -> TestResult {
        let sum = self.session.end(|| self.check_linearizable())?;
        println!("  ... Passed --  {:4.1}  {} {:5} {:4}", sum.secs, self.n(), sum.delta.rpcs, sum.delta.ops);
        Ok(())
    }
}

impl Drop for KvCluster {
    fn drop(&mut self) {
        // The clerks first: the session's report follows when its fields drop.
        self.host.kill();
    }
}
