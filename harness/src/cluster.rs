//! The Raft cluster a lab 2 test is written against: 6.824's config.go as
//! verbs with exact contracts.

use crate::failure::{Failure, TestResult};
use crate::invariants::show;
use crate::net::rules::Mode;
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

    // ---- the network ----

    /// Connects peer `i` to every connected peer, both ways.
    pub fn connect(&self, i: usize) {
        let mut connected = self.connected.lock().expect("connected lock");
        connected[i] = true;
        for j in 0..self.n() {
            if connected[j] {
                self.nodes.net.set_link(i as u32, j, true);
                self.nodes.net.set_link(j as u32, i, true);
            }
        }
        self.nodes.timeline.record(format!("connect {i}"));
    }

    /// Cuts peer `i` off from every peer, both ways. Calls in flight to or
    /// from it are lost.
    pub fn disconnect(&self, i: usize) {
        let mut connected = self.connected.lock().expect("connected lock");
        connected[i] = false;
        for j in 0..self.n() {
            self.nodes.net.set_link(i as u32, j, false);
            self.nodes.net.set_link(j as u32, i, false);
        }
        self.nodes.timeline.record(format!("disconnect {i}"));
    }

    /// Mutes peer `i` (or lifts the mute): every new call to or from it is
    /// lost, but calls it has already received are still answered, so an
    /// acknowledgement already on its way arrives. Independent of
    /// [`Cluster::connect`] / [`Cluster::disconnect`].
    pub fn mute(&self, i: usize, muted: bool) {
        for j in self.others(i) {
            self.nodes.net.set_requests_blocked(i as u32, j, muted);
            self.nodes.net.set_requests_blocked(j as u32, i, muted);
        }
        self.nodes.timeline.record(format!("mute {i} {muted}"));
    }

    /// Blocks (or unblocks) new calls from `caller` to `server`, one way:
    /// while blocked each is lost, but calls `server` already received are
    /// still answered.
    pub fn block_calls(&self, caller: usize, server: usize, blocked: bool) {
        self.nodes.net.set_requests_blocked(caller as u32, server, blocked);
        self.nodes.timeline.record(format!("calls {caller}->{server} blocked {blocked}"));
    }

    /// Delays the answers `server` sends to `caller` by `delay` (zero lifts
    /// it); the requests themselves are not delayed. Answers already on
    /// their way keep their delay.
    pub fn delay_replies(&self, caller: usize, server: usize, delay: Duration) {
        self.nodes.net.set_reply_delay(caller as u32, server, delay);
        self.nodes.timeline.record(format!("replies {server}->{caller} delayed {delay:?}"));
    }

    /// Holds (or stops holding) the `method` requests `caller` sends to
    /// `server`: each is kept instead of delivered, and the caller sees it
    /// lost at once. [`Cluster::replay_held`] delivers them later, stale.
    pub fn hold_requests(&self, caller: usize, server: usize, method: &str, held: bool) {
        self.nodes.net.set_requests_held(caller as u32, server, method, held);
        self.nodes.timeline.record(format!("{method} calls {caller}->{server} held {held}"));
    }

    /// How many `method` requests from `caller` to `server` are held.
    pub fn held_count(&self, caller: usize, server: usize, method: &str) -> usize {
        self.nodes.net.held_count(caller as u32, server, method)
    }

    /// Delivers the held `method` requests from `caller` to `server` now,
    /// oldest first, each after the one before was answered (their answers
    /// go nowhere), and returns how many were answered within a second.
    /// They stay held, for another replay, until [`Cluster::clear_held`].
    pub fn replay_held(&self, caller: usize, server: usize, method: &str) -> usize {
        let answered =
            self.nodes.rt.block_on(self.nodes.net.replay_held(caller as u32, server, method, REPLAY_WAIT));
        self.nodes
            .timeline
            .record(format!("{method} calls {caller}->{server} replayed: {answered} answered"));
        answered
    }

    /// Forgets the requests held from `caller` to `server`.
    pub fn clear_held(&self, caller: usize, server: usize) {
        self.nodes.net.clear_held(caller as u32, server);
    }

    /// Lifts every one-way fault at once — [`Cluster::mute`],
    /// [`Cluster::block_calls`], [`Cluster::delay_replies`],
    /// [`Cluster::hold_requests`] (what was held is forgotten) — leaving
    /// connections as they are.
    pub fn lift_one_way_faults(&self) {
        self.nodes.net.lift_one_way_faults();
        self.nodes.timeline.record("one-way faults lifted");
    }

    /// Unreliable network: requests delayed 0–26 ms, 10% of requests and 10%
    /// of replies lost.
    pub fn set_unreliable(&self, unreliable: bool) {
        let mode = self.nodes.net.mode();
        self.nodes.net.set_mode(Mode { reliable: !unreliable, ..mode });
        self.nodes.timeline.record(format!("unreliable {unreliable}"));
    }

    /// Long reordering: 2 of 3 replies held 200–2200 ms.
    pub fn set_long_reordering(&self, on: bool) {
        let mode = self.nodes.net.mode();
        self.nodes.net.set_mode(Mode { long_reordering: on, ..mode });
        self.nodes.timeline.record(format!("long reordering {on}"));
    }

    /// Calls made so far, delivered or not (labrpc's `GetTotalCount`).
    pub fn rpc_total(&self) -> u64 {
        self.nodes.net.stats().total_calls()
    }

    /// Requests delivered to peer `i` so far (labrpc's `GetCount`).
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.nodes.net.stats().delivered_to(i)
    }

    /// Requests for `method` delivered to peer `i` so far.
    pub fn rpc_count_method(&self, i: usize, method: &str) -> u64 {
        self.nodes.net.stats().delivered_method(i, method)
    }

    /// Payload bytes carried so far (labrpc's `GetTotalBytes`).
    pub fn bytes_total(&self) -> u64 {
        self.nodes.net.stats().total_bytes()
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

    // ---- checks ----

    /// Waits for exactly one leader among the connected peers and returns it.
    ///
    /// Polls [`LEADER_POLLS`] times, sleeping 450–550 ms before each poll
    /// (about five seconds in all). Fails at once if one poll finds two
    /// leaders in one term; fails if no poll finds a leader. Returns the
    /// leader of the highest term that has one.
    pub fn check_one_leader(&self) -> TestResult<usize> {
        for _ in 0..LEADER_POLLS {
            let jitter = self.random_range(0..LEADER_POLL_JITTER_MS);
            std::thread::sleep(LEADER_POLL_SLEEP + Duration::from_millis(jitter));
            self.check_invariants()?;
            let mut leaders: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
            for i in self.all().into_iter().filter(|&i| self.is_connected(i)) {
                if let Some((term, true)) = self.state(i)? {
                    leaders.entry(term).or_default().push(i);
                }
            }
            for (term, ls) in &leaders {
                if ls.len() > 1 {
                    return self.fail(format!("term {term} has {} (>1) leaders: {ls:?}", ls.len()));
                }
            }
            if let Some((term, ls)) = leaders.iter().next_back() {
                self.nodes.timeline.record(format!("check_one_leader: node {} leads term {term}", ls[0]));
                return Ok(ls[0]);
            }
        }
        self.fail("expected one leader, got none")
    }

    /// Checks that every connected peer reports the same term, and returns it
    /// (0 if none is connected).
    pub fn check_terms(&self) -> TestResult<u64> {
        let mut term = None;
        for i in self.all().into_iter().filter(|&i| self.is_connected(i)) {
            if let Some((t, _)) = self.state(i)? {
                match term {
                    None => term = Some(t),
                    Some(t0) if t0 != t => {
                        return self.fail(format!("servers disagree on term: {t0} and {t} (node {i})"));
                    }
                    Some(_) => {}
                }
            }
        }
        self.check_invariants()?;
        Ok(term.unwrap_or(0))
    }

    /// Checks that no connected peer believes it is the leader.
    pub fn check_no_leader(&self) -> TestResult {
        for i in self.all().into_iter().filter(|&i| self.is_connected(i)) {
            if let Some((term, true)) = self.state(i)? {
                return self.fail(format!(
                    "expected no leader among connected servers, but node {i} claims to lead term {term}"
                ));
            }
        }
        self.check_invariants()
    }

    /// How many peers have applied `index` (in any incarnation), and the
    /// command there. Fails if peers applied different commands (continuous
    /// check) or any other invariant broke.
    pub fn n_committed(&self, index: u64) -> TestResult<(usize, Option<Vec<u8>>)> {
        self.check_invariants()?;
        Ok(self.nodes.inv.lock().expect("invariants lock").n_committed(index))
    }

    /// How many snapshots peer `i` installed while running (sent by a
    /// leader, not restored at a start), in all its incarnations.
    pub fn snapshots_installed(&self, i: usize) -> u64 {
        self.nodes.inv.lock().expect("invariants lock").snapshots_installed(i)
    }

    /// The terms peer `i` was seen leading so far: reported by the node as
    /// its role changed, or answered to [`Cluster::state`].
    pub fn terms_led(&self, i: usize) -> Vec<u64> {
        self.nodes.inv.lock().expect("invariants lock").terms_led(i)
    }

    /// Whether peer `i` has applied `index` (in any incarnation).
    pub fn has_applied(&self, i: usize, index: u64) -> bool {
        self.nodes.inv.lock().expect("invariants lock").has_applied(i, index)
    }

    /// Waits for at least `n` peers to apply `index`; returns the command.
    ///
    /// Polls up to [`WAIT_POLLS`] times, sleeping 10 ms and doubling up to
    /// about 1 s (about 30 s in all). With `start_term`, gives up early
    /// (returning `None`) once any running peer has moved past that term,
    /// since the entry may then never commit. Fails if fewer than `n` applied.
    pub fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> TestResult<Option<Vec<u8>>> {
        let mut pause = Duration::from_millis(10);
        for _ in 0..WAIT_POLLS {
            if self.n_committed(index)?.0 >= n {
                break;
            }
            std::thread::sleep(pause);
            if pause < Duration::from_secs(1) {
                pause *= 2;
            }
            if let Some(t0) = start_term {
                for i in self.all() {
                    if let Some((t, _)) = self.state(i)?
                        && t > t0
                    {
                        return Ok(None);
                    }
                }
            }
        }
        let (nd, cmd) = self.n_committed(index)?;
        if nd < n {
            return self.fail(format!("only {nd} decided for index {index}; wanted {n}"));
        }
        Ok(cmd)
    }

    /// Gets `command` committed by at least `expected` peers, and returns its
    /// index.
    ///
    /// For up to [`ONE_TIMEOUT`]: offers the command to the connected peers
    /// in turn until one accepts as leader, then watches for [`ONE_TRY`] for
    /// `expected` peers to apply that command at that index. If that fails,
    /// tries again from the start when `retry` is set, else fails at once.
    /// Another command at the index is not agreement: the leader may have
    /// lost its term. Fails with "one(…) failed to reach agreement".
    pub fn one(&self, command: &[u8], expected: usize, retry: bool) -> TestResult<u64> {
        let t0 = Instant::now();
        let mut starts = 0;
        while t0.elapsed() < ONE_TIMEOUT {
            self.check_invariants()?;
            let mut index = None;
            for _ in 0..self.n() {
                starts = (starts + 1) % self.n();
                if self.is_connected(starts)
                    && let Some((i, _)) = self.start(starts, command)?
                {
                    index = Some(i);
                    break;
                }
            }
            match index {
                Some(index) => {
                    let t1 = Instant::now();
                    while t1.elapsed() < ONE_TRY {
                        let (nd, cmd) = self.n_committed(index)?;
                        if nd > 0 && nd >= expected && cmd.as_deref() == Some(command) {
                            return Ok(index);
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    if !retry {
                        return self.fail(format!("one({}) failed to reach agreement", show(command)));
                    }
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        self.fail(format!("one({}) failed to reach agreement", show(command)))
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
