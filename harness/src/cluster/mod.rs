//! The Raft cluster a lab 2 test is written against: 6.824's config.go as
//! verbs with exact contracts.

mod checks;
mod network;

use crate::failure::{Failure, TestResult};
use crate::nodes::Nodes;
use control::{Reply, Request};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
/// How long [`Cluster::replay_held`] waits for the answers.
pub const REPLAY_WAIT: Duration = Duration::from_secs(1);
/// Every test must end within this long.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Options of a cluster (6.824's `make_config` arguments).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Start with an unreliable network.
    pub unreliable: bool,
    /// Snapshot every 10 applied entries (lab 2D's tester service).
    pub snapshot: bool,
}

struct Began {
    title: String,
    at: Instant,
    rpcs: u64,
    bytes: u64,
    max_index: u64,
}

/// A cluster of Raft peers, each a `node raft` process, behind the proxy.
pub struct Cluster {
    nodes: Nodes,
    name: String,
    connected: Mutex<Vec<bool>>,
    rng: Mutex<ChaCha8Rng>,
    began: Mutex<Option<Began>>,
    created: Instant,
    passed: AtomicBool,
}

thread_local! {
    static TEST_NAME: std::cell::RefCell<String> = std::cell::RefCell::new("test".into());
}

/// Names the test running on this thread (for artifact folders).
pub fn set_test_name(name: &str) {
    TEST_NAME.with(|n| *n.borrow_mut() = name.to_string());
}

/// The test running on this thread.
pub fn test_name() -> String {
    TEST_NAME.with(|n| n.borrow().clone())
}

impl Cluster {
    /// Starts `n` peers, all connected, and prints the seed.
    pub fn new(n: usize, opts: Options) -> TestResult<Cluster> {
        let seed = crate::seed::test_seed();
        println!("seed {seed} (rerun with LAB_SEED={seed})");
        let mut mode = vec!["raft".to_string()];
        if opts.snapshot {
            mode.extend(["--snapshot-every".into(), "10".into()]);
        }
        let nodes = Nodes::new(n, seed, mode)?;
        let cluster = Cluster {
            nodes,
            name: crate::cluster::test_name(),
            connected: Mutex::new(vec![false; n]),
            rng: Mutex::new(crate::seed::rng(seed)),
            began: Mutex::new(None),
            created: Instant::now(),
            passed: AtomicBool::new(false),
        };
        cluster.set_unreliable(opts.unreliable);
        for i in 0..n {
            cluster.nodes.start(i).map_err(|f| cluster.diagnose(f))?;
            cluster.connect(i);
        }
        Ok(cluster)
    }

    /// Number of peers.
    pub fn n(&self) -> usize {
        self.nodes.len()
    }

    /// All peers, in order.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n()).collect()
    }

    /// Every peer but `i`.
    pub fn others(&self, i: usize) -> Vec<usize> {
        (0..self.n()).filter(|&j| j != i).collect()
    }

    /// A random number in `0..n`, from the test's seeded generator.
    pub fn random(&self, n: usize) -> usize {
        self.rng.lock().expect("rng lock").random_range(0..n)
    }

    /// A random number in `range`, from the test's seeded generator.
    pub fn random_range(&self, range: std::ops::Range<u64>) -> u64 {
        self.rng.lock().expect("rng lock").random_range(range)
    }

    /// True with probability `per_mille` / 1000, from the test's seeded
    /// generator (6.824's `rand.Int() % 1000 < per_mille`).
    pub fn chance(&self, per_mille: u64) -> bool {
        self.random_range(0..1000) < per_mille
    }

    /// A random peer, from the test's seeded generator.
    pub fn random_peer(&self) -> usize {
        self.random(self.n())
    }

    /// A random numeric command (6.824's `rand.Int()`), from the seeded generator.
    pub fn random_cmd(&self) -> Vec<u8> {
        let x: u32 = self.rng.lock().expect("rng lock").random();
        crate::cmd(x)
    }

    /// `len` random bytes of printable text.
    pub fn random_text(&self, len: usize) -> Vec<u8> {
        let mut rng = self.rng.lock().expect("rng lock");
        (0..len).map(|_| rng.random_range(b'a'..=b'z')).collect()
    }

    /// Whether peer `i` is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.connected.lock().expect("connected lock")[i]
    }

    /// Fails with the first invariant violation seen so far, if any.
    pub fn check_invariants(&self) -> TestResult {
        match self.nodes.violation() {
            Some(v) => Err(self.diagnose(Failure::new(v))),
            None => Ok(()),
        }
    }

    fn fail<T>(&self, msg: impl Into<String>) -> TestResult<T> {
        Err(self.diagnose(Failure::new(msg)))
    }

    /// Adds the seed, the test directory and the recent timeline to a failure.
    pub fn diagnose(&self, f: Failure) -> Failure {
        self.nodes.diagnose(f)
    }

    // ---- processes ----

    /// Crashes peer `i`: cuts it off, then SIGKILLs its process group. Its
    /// data directory stays; replies from this incarnation are never delivered.
    pub fn crash(&self, i: usize) {
        self.disconnect(i);
        self.nodes.kill(i);
    }

    /// Starts a new process for peer `i` on its data directory (crashing the
    /// running one first) and waits until it serves. It is not connected:
    /// call [`Cluster::connect`].
    pub fn restart(&self, i: usize) -> TestResult {
        if self.nodes.is_alive(i) {
            self.crash(i);
        }
        self.nodes.start(i).map_err(|f| self.diagnose(f))
    }

    /// Pauses peer `i` (SIGSTOP of its processes): it stays connected, but
    /// does nothing, its timers included, until [`Cluster::resume`]; what is
    /// sent to it waits. Verbs that ask peers skip it meanwhile, as if it
    /// were not running.
    pub fn pause(&self, i: usize) {
        self.nodes.pause(i);
    }

    /// Resumes peer `i` after [`Cluster::pause`].
    pub fn resume(&self, i: usize) {
        self.nodes.resume(i);
    }

    /// The RPC handlers peer `i` has started and not answered: each one's
    /// method and how long it has run.
    pub fn handlers_in_flight(&self, i: usize) -> TestResult<Vec<(String, Duration)>> {
        self.nodes.handlers_in_flight(i).map_err(|f| self.diagnose(f))
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

    /// Whether peer `i` has a running process.
    pub fn is_alive(&self, i: usize) -> bool {
        self.nodes.is_alive(i)
    }

    /// The largest Raft state saved by any peer, in bytes, read from the data
    /// directories.
    pub fn log_size(&self) -> TestResult<u64> {
        Ok(self.nodes.max_stored_sizes()?.raft_state)
    }

    /// The largest snapshot saved by any peer, in bytes.
    pub fn snapshot_size(&self) -> TestResult<u64> {
        Ok(self.nodes.max_stored_sizes()?.snapshot)
    }

    // ---- talking to peers ----

    /// Calls `Raft::state()` on peer `i`: `(term, is_leader)`, or `None` if it
    /// is not running. Every observation feeds the one-leader-per-term check.
    pub fn state(&self, i: usize) -> TestResult<Option<(u64, bool)>> {
        match self.nodes.request(i, Request::GetState).map_err(|f| self.diagnose(f))? {
            Some(Reply::State { term, is_leader, .. }) => {
                if is_leader {
                    self.nodes.inv.lock().expect("invariants lock").leader_seen(
                        i,
                        term,
                        "answered state() so",
                    );
                }
                Ok(Some((term, is_leader)))
            }
            Some(other) => self.fail(format!("node {i} answered GetState with {other:?}")),
            None => Ok(None),
        }
    }

    /// Persister saves and fsyncs of peer `i`'s current process.
    pub fn persist_counts(&self, i: usize) -> TestResult<Option<(u64, u64)>> {
        match self.nodes.request(i, Request::GetState).map_err(|f| self.diagnose(f))? {
            Some(Reply::State { saves, fsyncs, .. }) => Ok(Some((saves, fsyncs))),
            _ => Ok(None),
        }
    }

    /// Calls `Raft::start(command)` on peer `i`: `Some((index, term))` if it
    /// accepted as leader, `None` if it refused or is not running.
    pub fn start(&self, i: usize, command: &[u8]) -> TestResult<Option<(u64, u64)>> {
        match self
            .nodes
            .request(i, Request::Start { command: command.to_vec() })
            .map_err(|f| self.diagnose(f))?
        {
            Some(Reply::Started { index, term }) => Ok(Some((index, term))),
            Some(Reply::NotLeader) | None => Ok(None),
            Some(other) => self.fail(format!("node {i} answered Start with {other:?}")),
        }
    }

    // ---- begin / end ----

    /// Starts a test's story: prints `title …` and resets the counters of
    /// the summary line.
    pub fn begin(&self, title: &str) {
        println!("{title} ...");
        self.nodes.timeline.record(format!("begin {title}"));
        self.passed.store(false, Ordering::SeqCst);
        *self.began.lock().expect("began lock") = Some(Began {
            title: title.to_string(),
            at: Instant::now(),
            rpcs: self.rpc_total(),
            bytes: self.bytes_total(),
            max_index: self.nodes.inv.lock().expect("invariants lock").max_index(),
        });
    }

    /// Ends the story: checks the invariants and the time limit, then prints
    /// 6.824's summary line — seconds, peers, RPCs, bytes, commands committed.
    pub fn end(&self) -> TestResult {
        self.check_invariants()?;
        self.nodes.check_handlers().map_err(|f| self.diagnose(f))?;
        if self.created.elapsed() > TEST_TIME_LIMIT {
            return self.fail(format!("test took longer than {} seconds", TEST_TIME_LIMIT.as_secs()));
        }
        let began = self.began.lock().expect("began lock").take();
        let Some(b) = began else { panic!("end() without begin(): call cluster.begin(title) first") };
        let cmds = self.nodes.inv.lock().expect("invariants lock").max_index() - b.max_index;
        println!(
            "  ... Passed --  {:4.1}  {} {:4} {:7} {:4}",
            b.at.elapsed().as_secs_f64(),
            self.n(),
            self.rpc_total() - b.rpcs,
            self.bytes_total() - b.bytes,
            cmds
        );
        self.nodes.timeline.record(format!("passed {}", b.title));
        self.passed.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// The test's directory (sockets, data directories, logs).
    pub fn dir(&self) -> &std::path::Path {
        self.nodes.dir.path()
    }

    /// The log file of peer `i`.
    pub fn log_path(&self, i: usize) -> std::path::PathBuf {
        self.nodes.log_path(i)
    }

    /// PIDs of the running node processes.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes.pids()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let passed = self.passed.load(Ordering::SeqCst);
        self.nodes.finish(passed, &self.name);
    }
}
