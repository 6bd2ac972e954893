//! The Raft cluster a lab 2 test is written against: 6.824's config.go as
//! verbs with exact contracts.

mod checks;
mod network;

use crate::failure::TestResult;
use crate::session::Session;
use crate::verbs::SessionVerbs;
use control::{Reply, Request};
use std::sync::Mutex;
use std::time::Duration;

/// The tester's allowance for an election: one second.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);
/// `check_one_leader` polls this many times …
pub const LEADER_POLLS: u32 = 10;
/// … sleeping this long plus up to [`LEADER_POLL_JITTER_MS`] milliseconds before each poll.
pub const LEADER_POLL_SLEEP: Duration = Duration::from_millis(450);
/// See [`LEADER_POLL_SLEEP`].
pub const LEADER_POLL_JITTER_MS: u64 = 100;
/// `one` gives up after this long in all.
pub const ONE_TIMEOUT: Duration = Duration::from_secs(10);
/// `one` waits this long for agreement after each successful Start.
pub const ONE_TRY: Duration = Duration::from_secs(2);
/// `wait` polls at most this many times, from 10 ms doubling to about 1 s.
pub const WAIT_POLLS: u32 = 30;
pub use crate::session::TEST_TIME_LIMIT;

/// Options of a cluster (6.824's `make_config` arguments).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Start with an unreliable network.
    pub unreliable: bool,
    /// Snapshot every [`SNAPSHOT_EVERY`] applied entries (lab 2D's tester
    /// service).
    pub snapshot: bool,
}

/// With [`Options::snapshot`]: the tester service snapshots at every index
/// `s` with `s + 1` a multiple of this (6.824's `SnapShotInterval`).
pub const SNAPSHOT_EVERY: u64 = 10;

/// A cluster of Raft peers, each a `node raft` process, behind the proxy.
///
/// A cluster owns its test's [`Session`] (seed, generator, begin, the
/// checks, the failure report) and adds 6.824's config.go vocabulary on
/// top; the verbs every cluster type shares come with [`SessionVerbs`].
pub struct Cluster {
    session: Session,
    connected: Mutex<Vec<bool>>,
}

impl SessionVerbs for Cluster {
    fn session(&self) -> &Session {
        &self.session
    }
}

impl Cluster {
    /// Starts `n` peers of the test `name`, all connected, and prints the seed.
    pub fn new(name: &str, n: usize, opts: Options) -> TestResult<Cluster> {
        let cluster = Cluster {
            session: Session::new(name, n, vec!["raft".to_string()])?,
            connected: Mutex::new(vec![false; n]),
        };
        for i in 0..n {
            cluster.set_snapshot_every(i, if opts.snapshot { SNAPSHOT_EVERY } else { 0 });
        }
        cluster.set_unreliable(opts.unreliable);
        for i in 0..n {
            cluster.session.nodes().start(i).map_err(|f| cluster.session.failed(f))?;
            cluster.connect(i);
        }
        Ok(cluster)
    }

    /// Makes peer `i`'s tester service snapshot every `every` applied
    /// entries (0: never) from its next start on: a story's peer whose own
    /// snapshot lags the others'.
    pub fn set_snapshot_every(&self, i: usize, every: u64) {
        let args = if every > 0 { vec!["--snapshot-every".into(), every.to_string()] } else { Vec::new() };
        self.session.nodes().set_node_args(i, args);
    }

    /// A random peer, from the test's seeded generator.
    pub fn random_peer(&self) -> usize {
        self.random_range(0..self.n())
    }

    /// A random numeric command (6.824's `rand.Int()`), from the seeded generator.
    pub fn random_cmd(&self) -> Vec<u8> {
        crate::cmd(self.random::<u32>())
    }

    /// Whether peer `i` is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.connected.lock().expect("connected lock")[i]
    }

    // ---- processes ----

    /// Crashes peer `i`: cuts it off, then SIGKILLs its process group. Its
    /// data directory stays; replies from this incarnation are never delivered.
    pub fn crash(&self, i: usize) {
        self.disconnect(i);
        self.session.nodes().kill(i);
    }

    /// Starts a new process for peer `i` on its data directory (crashing the
    /// running one first) and waits until it serves. It is not connected:
    /// call [`Cluster::connect`].
    pub fn restart(&self, i: usize) -> TestResult {
        if self.session.nodes().is_alive(i) {
            self.crash(i);
        }
        self.session.nodes().start(i).map_err(|f| self.session.failed(f))
    }

    /// Crashes and restarts peer `i`, then reconnects it (6.824's `start1`
    /// followed by `connect`).
    pub fn reboot(&self, i: usize) -> TestResult {
        self.restart(i)?;
        self.connect(i);
        Ok(())
    }

    /// Crashes every peer.
    pub fn crash_all(&self) {
        for i in self.all() {
            self.crash(i);
        }
    }

    // ---- talking to peers ----

    /// Calls `Raft::state()` on peer `i`: `(term, is_leader)`, or `None` if it
    /// is not running. Every observation feeds the one-leader-per-term check.
    pub fn state(&self, i: usize) -> TestResult<Option<(u64, bool)>> {
        match self.session.nodes().request(i, Request::GetState).map_err(|f| self.session.failed(f))? {
            Some(Reply::State { term, is_leader, .. }) => {
                self.session.nodes().saw_role(i, term, is_leader, "answered state() so");
                Ok(Some((term, is_leader)))
            }
            Some(other) => self.session.fail(format!("node {i} answered GetState with {other:?}")),
            None => Ok(None),
        }
    }

    /// Persister saves and fsyncs of peer `i`'s current process.
    pub fn persist_counts(&self, i: usize) -> TestResult<Option<(u64, u64)>> {
        match self.session.nodes().request(i, Request::GetState).map_err(|f| self.session.failed(f))? {
            Some(Reply::State { saves, fsyncs, .. }) => Ok(Some((saves, fsyncs))),
            _ => Ok(None),
        }
    }

    /// Calls `Raft::start(command)` on peer `i`: `Some((index, term))` if it
    /// accepted as leader, `None` if it refused or is not running.
    pub fn start(&self, i: usize, command: &[u8]) -> TestResult<Option<(u64, u64)>> {
        match self
            .session
            .nodes()
            .request(i, Request::Start { command: command.to_vec() })
            .map_err(|f| self.session.failed(f))?
        {
            Some(Reply::Started { index, term }) => Ok(Some((index, term))),
            Some(Reply::NotLeader) | None => Ok(None),
            Some(other) => self.session.fail(format!("node {i} answered Start with {other:?}")),
        }
    }

    // ---- end ----

    /// Ends the story: checks the invariants, stuck handlers and the time
    /// limit, then prints 6.824's summary line — seconds, peers, RPCs,
    /// bytes, commands committed.
    pub fn end(&self) -> TestResult {
        let sum = self.session.end(|| Ok(()))?;
        let d = sum.delta;
        println!(
            "  ... Passed --  {:4.1}  {} {:4} {:7} {:4}",
            sum.secs,
            self.n(),
            d.rpcs,
            d.bytes,
            d.commands
        );
        Ok(())
    }
}
