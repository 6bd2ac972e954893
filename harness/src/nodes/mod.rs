//! The node processes of one test: start, crash, restart, and talk to them.

pub mod leaders;
mod views;
mod watch;

pub use watch::{HANDLER_LIMIT, RAFT_HANDLER_LIMIT, handler_limit};

use crate::activity::Activity;
use crate::dir::TestDir;
use crate::failure::Failure;
use crate::invariants::Invariants;
use crate::net::Network;
use crate::node_conn::{self, NodeConn};
use crate::process::{self, NodeProcess};
use crate::timeline::Timeline;
use control::{Reply, Request};
use runner::sandbox::{Sandbox, View, node_uid};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Mixed into the test seed for the network's generator, so the network's
/// choices and the test's own draw from different streams.
const NETWORK_SEED_SALT: u64 = 0x006e_6574_776f_726b;

/// How long a node may take from spawn to Ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a control request (Start, GetState) may take. A node that does
/// not answer in this time is stuck (a deadlock in `start` or `state`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Log lines quoted in a diagnosis.
pub const LOG_TAIL_LINES: usize = 12;

struct Live {
    process: NodeProcess,
    conn: Arc<NodeConn>,
}

/// The nodes of a test and what they observed.
pub struct Nodes {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) dir: TestDir,
    pub(crate) net: Network,
    pub(crate) inv: Arc<Mutex<Invariants>>,
    pub(crate) timeline: Arc<Timeline>,
    /// Applies and commits over time, for `timeline.html`.
    pub(crate) activity: Arc<Activity>,
    pub(crate) seed: u64,
    pub(crate) binary: PathBuf,
    /// The sandbox the grader asked for, if any, as this process's own
    /// uid (slot 0: the clerk host's).
    pub(crate) sandbox: Option<Sandbox>,
    /// Per node, when sandboxed: the same sandbox as the node's own uid.
    node_sandboxes: Vec<Sandbox>,
    /// The subcommand and its mode arguments, e.g. `["raft", "--snapshot-every", "10"]`.
    mode_args: Vec<String>,
    /// Per node: arguments after the mode's, from its next start on
    /// ([`Nodes::set_node_args`]).
    node_args: Vec<Mutex<Vec<String>>>,
    n: usize,
    live: Vec<Mutex<Option<Live>>>,
    /// Per node: whether its process is paused (SIGSTOP).
    paused: Vec<AtomicBool>,
    /// Per node: how long each save of its current process waits (a slow
    /// disk, [`Nodes::slow_disk`]), in milliseconds; 0 for a normal disk.
    slow_save_ms: Vec<AtomicU64>,
    /// The leadership each node claims, checked against what it sends.
    leaders: leaders::Leaders,
    /// Per node: the incarnation whose events count (0: none).
    current: Arc<Vec<AtomicU64>>,
    incarnations: AtomicU64,
}

impl Nodes {
    /// Prepares `n` nodes (none started) with their network links.
    pub fn new(n: usize, seed: u64, mode_args: Vec<String>) -> Result<Nodes, Failure> {
        let binary = process::node_binary().map_err(Failure::new)?;
        let dir =
            TestDir::create().map_err(|e| Failure::new(format!("cannot create the test directory: {e}")))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("harness")
            .enable_all()
            .build()
            .map_err(|e| Failure::new(format!("cannot start the harness runtime: {e}")))?;
        // The timeline's zero is the test's: the network and every node count from it.
        let timeline = Arc::new(Timeline::new(&dir.join(protocol::artifacts::TIMELINE_LOG)));
        let trace =
            std::env::var_os(protocol::env::TRACE_NET).map(|_| dir.join(protocol::artifacts::NETWORK_LOG));
        let net = Network::new_at(seed ^ NETWORK_SEED_SALT, trace.as_deref(), timeline.zero())
            .map_err(|e| Failure::new(format!("cannot create the network trace: {e}")))?;
        let sandbox = sandbox().map_err(Failure::new)?;
        let node_sandboxes = match &sandbox {
            Some(s) => (0..n)
                .map(|i| node_uid(std::process::id(), i).map(|uid| s.with_uid(uid)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Failure::new(format!("a test of {n} nodes cannot be sandboxed: {e}")))?,
            None => Vec::new(),
        };
        for i in 0..n {
            let node = node_sandboxes.get(i);
            make_node_folders(&dir, i, node)?;
            let socket = rpc_socket(&dir, i);
            net.add_server_owned_by(i, &socket, node.map(Sandbox::uid))
                .map_err(|e| Failure::new(format!("cannot open the folder of {}: {e}", socket.display())))?;
        }
        {
            let _guard = rt.enter();
            for from in 0..n {
                for to in 0..n {
                    let path = sockets_dir(&dir, from).join(format!("l{from}-{to}.sock"));
                    net.add_link(from as u32, to, &path)
                        .map_err(|e| Failure::new(format!("cannot open link {from}->{to}: {e}")))?;
                }
            }
        }
        Ok(Nodes {
            seed,
            rt,
            dir,
            leaders: leaders::Leaders::new(n, net.clone()),
            net,
            inv: Arc::new(Mutex::new(Invariants::new(n))),

            activity: Arc::new(Activity::new(timeline.zero())),
            timeline,
            binary,
            sandbox,
            node_sandboxes,
            mode_args,
            node_args: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
            n,
            live: (0..n).map(|_| Mutex::new(None)).collect(),
            paused: (0..n).map(|_| AtomicBool::new(false)).collect(),
            slow_save_ms: (0..n).map(|_| AtomicU64::new(0)).collect(),
            current: Arc::new((0..n).map(|_| AtomicU64::new(0)).collect()),
            incarnations: AtomicU64::new(0),
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The log file of node `i`.
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.dir.join(&format!("n{i}.log"))
    }

    /// The data directory of node `i`.
    pub fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.join(&format!("d{i}"))
    }

    /// Whether node `i` has a live process.
    pub fn is_alive(&self, i: usize) -> bool {
        self.live[i].lock().expect("live lock").is_some()
    }

    /// Sets the arguments node `i` gets after the mode's (e.g. its own
    /// `--snapshot-every`), from its next [`Nodes::start`] on.
    pub fn set_node_args(&self, i: usize, args: Vec<String>) {
        *self.node_args[i].lock().expect("node args lock") = args;
    }

    /// Starts a new process for node `i` on its data directory and waits for
    /// Ready. Kills the old one first if it is still running.
    pub fn start(&self, i: usize) -> Result<(), Failure> {
        self.kill(i);
        let incarnation = self.incarnations.fetch_add(1, Ordering::SeqCst) + 1;
        let sockets = sockets_dir(&self.dir, i);
        let control = sockets.join(format!("c{i}.sock"));
        let listener = {
            let _guard = self.rt.enter();
            node_conn::listen(&control)
                .map_err(|e| Failure::setup(format!("cannot listen on {}: {e}", control.display())))?
        };
        let log = self.log_path(i);
        let mut args = vec![self.mode_args[0].clone(), "--me".into(), i.to_string()];
        args.extend(self.mode_args[1..].iter().cloned());
        args.extend(self.node_args[i].lock().expect("node args lock").iter().cloned());
        args.extend(["--listen".into(), rpc_socket(&self.dir, i).display().to_string()]);
        for j in 0..self.n {
            args.extend(["--peer".into(), sockets.join(format!("l{i}-{j}.sock")).display().to_string()]);
        }
        args.extend(["--data".into(), self.data_dir(i).display().to_string()]);
        args.extend(["--control".into(), control.display().to_string()]);
        args.extend([control::clock::CLOCK_ZERO_ARG.into(), self.timeline.zero().to_string()]);
        // The node's draws (labrpc::rng) replay with the test's seed.
        let seed = crate::seed::process_seed(self.seed, i as u64, incarnation);
        args.extend(["--seed".into(), seed.to_string()]);
        let _ = std::fs::OpenOptions::new().create(true).append(true).open(&log).and_then(|mut f| {
            std::io::Write::write_all(
                &mut f,
                format!(
                    "{}  === incarnation {incarnation} ===\n",
                    control::clock::stamp(self.timeline.now())
                )
                .as_bytes(),
            )
        });
        let view = self.node_view(i)?;
        let mut process =
            NodeProcess::spawn(&self.binary, &args, &log, self.node_sandboxes.get(i).map(|s| (s, &view)))
                .map_err(|e| Failure::setup(format!("cannot start {}: {e}", self.binary.display())))?;
        self.inv.lock().expect("invariants lock").restarted(i);
        self.leaders.reset(i);
        self.current[i].store(incarnation, Ordering::SeqCst);
        let observe = self.observer(i, incarnation);
        match self.rt.block_on(node_conn::accept(listener, i, READY_TIMEOUT, observe)) {
            Ok((conn, _pid)) => {
                self.net.server_up(i);
                self.timeline
                    .record(format!("node {i} started (pid {}, incarnation {incarnation})", process.pid()));
                *self.live[i].lock().expect("live lock") = Some(Live { process, conn: Arc::new(conn) });
                Ok(())
            }
            Err(e) => {
                self.current[i].store(0, Ordering::SeqCst);
                let status = process.exited().map(|s| format!(" (it exited: {s})")).unwrap_or_default();
                process.kill();
                Err(Failure::new(format!(
                    "node {i} did not start: {e}{status}\n  last lines of {}:\n{}",
                    log.display(),
                    indent(&process::tail(&log, LOG_TAIL_LINES))
                )))
            }
        }
    }

    /// What the clerk host sees in its sandbox: the node binary and
    /// `sockets`, the harness's folder of its sockets (created now, owned by
    /// the harness, mode 0755), read-only: the host binds nothing and writes
    /// nothing of the test folder. Empty without a sandbox.
    pub(crate) fn clerk_host_view(&self, sockets: &std::path::Path) -> Result<View, Failure> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(sockets)
            .and_then(|()| std::fs::set_permissions(sockets, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| Failure::setup(format!("cannot prepare {}: {e}", sockets.display())))?;
        self.view_of(self.sandbox.as_ref(), &[sockets.to_path_buf()], &[])
    }

    /// What node `i` sees in its sandbox: the node binary and its socket
    /// folder `n{i}/` (the harness's sockets) read-only, and its own socket
    /// folder and data directory (created now, given to its uid) writable.
    /// Empty without a sandbox.
    fn node_view(&self, i: usize) -> Result<View, Failure> {
        let writable = [own_dir(&self.dir, i), self.data_dir(i)];
        self.view_of(self.node_sandboxes.get(i), &[sockets_dir(&self.dir, i)], &writable)
    }

    fn view_of(
        &self,
        sandbox: Option<&Sandbox>,
        read: &[PathBuf],
        writable: &[PathBuf],
    ) -> Result<View, Failure> {
        let prepare = |dir: &PathBuf| {
            std::fs::create_dir_all(dir)
                .and_then(|()| sandbox.map_or(Ok(()), |s| s.give(dir)))
                .map_err(|e| Failure::setup(format!("cannot prepare {}: {e}", dir.display())))
        };
        writable.iter().try_for_each(prepare)?;
        if sandbox.is_none() {
            return Ok(View::default());
        }
        let env = ["NODE_LOG", "RUST_LOG"]
            .into_iter()
            .filter_map(|k| std::env::var_os(k).map(|v| (k.to_string(), v)))
            .collect();
        let read = std::iter::once(self.binary.clone()).chain(read.iter().cloned()).collect();
        Ok(View { read, write: writable.to_vec(), env, chdir: None })
    }

    /// Pauses node `i` (SIGSTOP of all its processes): it does nothing, its
    /// timers included, until [`Nodes::resume`]; what is sent to it waits in
    /// its sockets. Control requests to it answer `None` meanwhile, as for a
    /// node that is not running. Does nothing if it is not running.
    pub fn pause(&self, i: usize) {
        if let Some(live) = self.live[i].lock().expect("live lock").as_mut() {
            live.process.signal_all(nix::sys::signal::Signal::SIGSTOP);
            self.paused[i].store(true, Ordering::SeqCst);
            self.timeline.record(format!("node {i} paused"));
        }
    }

    /// Resumes node `i` after [`Nodes::pause`] (SIGCONT).
    pub fn resume(&self, i: usize) {
        if let Some(live) = self.live[i].lock().expect("live lock").as_mut()
            && self.paused[i].swap(false, Ordering::SeqCst)
        {
            live.process.signal_all(nix::sys::signal::Signal::SIGCONT);
            self.leaders.reset(i);
            self.timeline.record(format!("node {i} resumed"));
        }
    }

    /// Gives node `i` a slow disk: each later save of its Persister waits
    /// `delay` before it writes anything, so a crash in that window loses
    /// the save. Lasts until the node restarts or a zero `delay` ends it.
    ///
    /// # Errors
    /// If the node is not running or answers anything but done.
    pub fn slow_disk(&self, i: usize, delay: Duration) -> Result<(), Failure> {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        match self.request(i, Request::SlowDisk { millis })? {
            Some(Reply::Done) => {
                self.slow_save_ms[i].store(millis, Ordering::SeqCst);
                self.timeline.record(format!("node {i} disk slow: each save waits {millis} ms"));
                Ok(())
            }
            Some(other) => Err(Failure::new(format!("node {i} answered SlowDisk with {other:?}"))),
            None => Err(Failure::new(format!("node {i} is not running: it cannot be given a slow disk"))),
        }
    }

    /// Whether node `i` is paused.
    pub fn is_paused(&self, i: usize) -> bool {
        self.paused[i].load(Ordering::SeqCst)
    }

    /// Kills node `i`'s process group (a crash). Its events stop counting and
    /// the network forgets its incarnation. Does nothing if it is not running.
    pub fn kill(&self, i: usize) {
        self.current[i].store(0, Ordering::SeqCst);
        let taken = self.live[i].lock().expect("live lock").take();
        self.paused[i].store(false, Ordering::SeqCst);
        // The next process starts with a normal disk.
        self.slow_save_ms[i].store(0, Ordering::SeqCst);
        if let Some(mut live) = taken {
            self.net.server_down(i);
            live.process.kill();
            self.timeline.record(format!("node {i} killed (pid {})", live.process.pid()));
        }
    }

    /// How long a control request to node `i` may take: [`REQUEST_TIMEOUT`],
    /// plus two of its saves while its disk is slow. A correct peer may save
    /// inside `start` under its lock (the classic design), and find the lock
    /// held by a save already under way: it answers after two slow saves,
    /// and is not stuck.
    fn request_limit(&self, i: usize) -> Duration {
        REQUEST_TIMEOUT + 2 * Duration::from_millis(self.slow_save_ms[i].load(Ordering::SeqCst))
    }

    /// Sends a control request to node `i`. `Ok(None)` if it is not running.
    pub fn request(&self, i: usize, body: Request) -> Result<Option<Reply>, Failure> {
        if self.is_paused(i) {
            return Ok(None);
        }
        let conn = match self.live[i].lock().expect("live lock").as_ref() {
            Some(live) => live.conn.clone(),
            None => return Ok(None),
        };
        let what = format!("{body:?}");
        match self.rt.block_on(conn.request(body, self.request_limit(i))) {
            Ok(Reply::Error { message }) => Err(Failure::new(format!("node {i} refused {what}: {message}"))),
            Ok(reply) => Ok(Some(reply)),
            Err(node_conn::RequestError::Closed) => Ok(None),
            Err(e) => Err(Failure::new(format!(
                "node {i} did not answer {what}: {e} (is Raft::start or Raft::state blocked on a lock?)"
            ))),
        }
    }

    /// The first invariant violation, if any.
    pub fn violation(&self) -> Option<String> {
        self.inv.lock().expect("invariants lock").violation().map(str::to_string)
    }

    /// Node `i` was seen at `term`, leading or not (`how`: how it said so):
    /// one leader per term, and a leader acts as one ([`leaders`]).
    pub fn saw_role(&self, i: usize, term: u64, leader: bool, how: &str) {
        let wanting = self.leaders.observe(i, term, leader);
        let mut inv = self.inv.lock().expect("invariants lock");
        if leader {
            inv.leader_seen(i, term, how);
        }
        if let Some(why) = wanting {
            self.timeline
                .record(format!("VIOLATION: node {i} leads term {term} without acting as its leader"));
            inv.violate(why);
        }
    }

    /// Kills every node.
    pub fn kill_all(&self) {
        for i in 0..self.n {
            self.kill(i);
        }
    }

    /// The last lines of every node's log, for a diagnosis. Each log is
    /// named as it is in the artifacts folder the report names (the test
    /// folder itself is gone by the time anyone reads it, or lies in a
    /// private `/tmp`).
    pub fn log_tails(&self) -> String {
        (0..self.n)
            .map(|i| {
                format!(
                    "  node {i} (n{i}.log):\n{}",
                    indent(&process::tail(&self.log_path(i), LOG_TAIL_LINES))
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The largest Raft state and the largest snapshot saved by any node,
    /// read from the data directories by the harness itself.
    pub fn max_stored_sizes(&self) -> Result<labrpc::persister::StoredSizes, Failure> {
        let mut max = labrpc::persister::StoredSizes::default();
        for i in 0..self.n {
            let s = stored_sizes(&self.data_dir(i))?;
            max.raft_state = max.raft_state.max(s.raft_state);
            max.snapshot = max.snapshot.max(s.snapshot);
        }
        Ok(max)
    }

    /// Kills every node and, if the test did not pass, keeps its files and
    /// prints the failure report: the seed and how to replay it, where the
    /// files are, the recent timeline and each node's last log lines.
    pub fn finish(&mut self, passed: bool, test_name: &str) {
        self.kill_all();
        if passed && views::keep_passing() {
            let kept = self.keep_with_views(test_name);
            println!("  artifacts ({}): {}", views::KEEP_VAR, kept.display());
        }
        if !passed {
            self.timeline.flush();
            let recent = self.timeline.recent();
            let tails = self.log_tails();
            let kept = self.keep_with_views(test_name);
            println!(
                "  ... FAILED (seed {}, rerun with LAB_SEED={})\n  artifacts: {} (timeline.html; `labs logs` merges the logs)\n  recent events:\n{recent}\n  last lines of each node's log:\n{}",
                self.seed,
                self.seed,
                kept.display(),
                indent(&tails)
            );
        }
    }

    /// PIDs of the live processes (for tests of the kit itself).
    pub fn pids(&self) -> Vec<u32> {
        self.live
            .iter()
            .filter_map(|l| l.lock().expect("live lock").as_ref().map(|l| l.process.pid()))
            .collect()
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        self.kill_all();
        self.timeline.flush();
    }
}

/// Indents every line by six spaces.
pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      {l}")).collect::<Vec<_>>().join("\n")
}

/// The folder of node `i`'s sockets: the harness's (its control socket
/// `c{i}.sock` and its links to the peers `l{i}-{j}.sock`), in a folder
/// the harness owns and the node may only read, and [`own_dir`] for its
/// own. With its data directory, all a sandboxed node sees of the test
/// directory.
fn sockets_dir(dir: &TestDir, i: usize) -> PathBuf {
    dir.join(&format!("n{i}"))
}

/// The sizes of the state a node saved in its data directory `dir` (zeros
/// if none), read as hostile data: the state file through a handle, a
/// regular file of at most [`STATE_BYTES`] or refused (a link in its place
/// is not measured).
fn stored_sizes(dir: &std::path::Path) -> Result<labrpc::persister::StoredSizes, Failure> {
    use runner::untrusted::{Kind, Tree};
    let name = labrpc::persister::STATE_FILE;
    let tree = Tree::open(dir).map_err(|e| Failure::new(format!("cannot read the node's state: {e}")))?;
    match tree.kind(name) {
        Ok(None) => return Ok(labrpc::persister::StoredSizes::default()),
        Ok(Some(Kind::File(_))) => {}
        Ok(Some(k)) => {
            return Err(Failure::new(format!(
                "{}: {}, not the regular file a Persister saves",
                dir.join(name).display(),
                k.describe()
            )));
        }
        Err(e) => return Err(Failure::new(format!("cannot read the node's state: {e}"))),
    }
    let bytes = tree
        .read(name, STATE_BYTES)
        .map_err(|e| Failure::new(format!("cannot read the node's state: {e}")))?;
    labrpc::persister::sizes_in(&dir.join(name), &bytes).map_err(|e| Failure::new(e.to_string()))
}

/// The largest state file the harness reads (a sandboxed node cannot write
/// a larger one: its file size limit is lower).
const STATE_BYTES: u64 = 1 << 30;

/// The folder node `i` binds its RPC socket in, `n{i}/own/`: the node's
/// (given to its uid), so the proxy reaches that socket only through a
/// handle on the folder ([`crate::net::socket::NodeSocket`]).
fn own_dir(dir: &TestDir, i: usize) -> PathBuf {
    sockets_dir(dir, i).join("own")
}

/// Node `i`'s RPC socket, which it binds and the proxy connects to.
fn rpc_socket(dir: &TestDir, i: usize) -> PathBuf {
    own_dir(dir, i).join(format!("n{i}.sock"))
}

/// Creates node `i`'s socket folders: `n{i}/`, the harness's, readable by
/// all (mode 0755 whatever the umask, so the node's uid may enter it), and
/// `n{i}/own/`, given to the node's uid in `sandbox` and private to it.
fn make_node_folders(dir: &TestDir, i: usize, sandbox: Option<&Sandbox>) -> Result<(), Failure> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let make = |path: &PathBuf, mode: u32| {
        std::fs::DirBuilder::new()
            .mode(mode)
            .create(path)
            .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
            .map_err(|e| Failure::new(format!("cannot create {}: {e}", path.display())))
    };
    make(&sockets_dir(dir, i), 0o755)?;
    let own = own_dir(dir, i);
    make(&own, 0o700)?;
    if let Some(s) = sandbox {
        s.give(&own).map_err(|e| Failure::new(format!("cannot give {} to the node: {e}", own.display())))?;
    }
    Ok(())
}

/// The sandbox the grader asked for, read once per process.
fn sandbox() -> Result<Option<Sandbox>, String> {
    static SANDBOX: std::sync::OnceLock<Result<Option<Sandbox>, String>> = std::sync::OnceLock::new();
    SANDBOX.get_or_init(Sandbox::from_env).clone()
}
