//! One test run, whichever cluster it is written against: its name, seed
//! and generator, its time limit, the story between `begin` and `end`, and
//! the one failure report every failure ends in.
//!
//! [`Cluster`](crate::Cluster) and [`KvCluster`](crate::KvCluster) each own
//! a `Session` and add their own vocabulary on top of it, through its
//! accessors ([`Session::net`], [`Session::nodes`], [`Session::record`]); the
//! verbs every cluster type shares ([`crate::SessionVerbs`]) and the
//! bookkeeping live here once. The session owns every check: the
//! invariants, the checks a cluster type adds ([`Session::add_check`]) and
//! the end-of-story checks ([`Session::end`]), so no cluster type has a
//! check of its own to remember.
//!
//! Every failure is reported the same way, whether a verb found it (a
//! violation, a node that did not answer) or the test body's own `fail!`:
//! the verb's failure is marked in the timeline when it is found
//! ([`Session::failed`]), and when the session ends without having passed
//! it prints the report — the seed and how to replay it, the artifact
//! folder, the recent timeline and the last lines of each node's log.

use crate::failure::{Failure, TestResult};
use crate::nodes::Nodes;
use rand::Rng;
use rand::distr::uniform::{SampleRange, SampleUniform};
use rand::distr::{Distribution, StandardUniform};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Every test must end within this long (6.824's `end()` check).
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// The counters a summary line reports, read at `begin` and at `end`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Calls made (labrpc's `GetTotalCount`).
    pub rpcs: u64,
    /// Bytes carried (labrpc's `BytesTotal`).
    pub bytes: u64,
    /// The highest index applied anywhere: commands committed.
    pub commands: u64,
    /// Clerk operations completed (lab 3).
    pub ops: u64,
}

/// What happened between `begin` and `end`: the summary line's numbers.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Seconds since `begin`.
    pub secs: f64,
    /// Counters at `end` minus counters at `begin`.
    pub delta: Counters,
}

struct Story {
    title: String,
    at: Instant,
    start: Counters,
}

/// One test run over a set of nodes.
pub struct Session {
    nodes: Nodes,
    name: String,
    rng: Mutex<ChaCha8Rng>,
    created: Instant,
    story: Mutex<Option<Story>>,
    passed: AtomicBool,
    failure_marked: AtomicBool,
    /// Clerk operations completed, counted by the KV cluster's clerks.
    ops: std::sync::Arc<AtomicU64>,
    /// The checks cluster types added ([`Session::add_check`]).
    checks: Mutex<Vec<Check>>,
}

/// A check a cluster type adds to its session: a problem found, if any.
type Check = Box<dyn Fn() -> Option<String> + Send + Sync>;

impl Session {
    /// Prepares `n` nodes of the test `name` running `node` with `mode_args`
    /// (none started), and prints the seed.
    pub fn new(name: &str, n: usize, mode_args: Vec<String>) -> TestResult<Session> {
        let seed = crate::seed::test_seed();
        println!("seed {seed} (rerun with LAB_SEED={seed})");
        // Nothing of the code under test has run yet: whatever fails here is the kit's.
        let nodes = Nodes::new(n, seed, mode_args).map_err(Failure::into_setup)?;
        Ok(Session {
            nodes,
            name: name.to_string(),
            rng: Mutex::new(crate::seed::rng(seed)),
            created: Instant::now(),
            story: Mutex::new(None),
            passed: AtomicBool::new(false),
            failure_marked: AtomicBool::new(false),
            ops: std::sync::Arc::default(),
            checks: Mutex::default(),
        })
    }

    /// The nodes of the test: their processes, control connections and
    /// observations.
    pub(crate) fn nodes(&self) -> &Nodes {
        &self.nodes
    }

    /// The proxy every call between nodes passes through.
    pub(crate) fn net(&self) -> &crate::net::Network {
        &self.nodes.net
    }

    /// Notes `event` in the test's timeline.
    pub(crate) fn record(&self, event: impl AsRef<str>) {
        self.nodes.timeline.record(event);
    }

    /// The count of clerk operations completed, which the summary line
    /// reports (the KV cluster's clerks add to it).
    pub(crate) fn ops_counter(&self) -> &std::sync::Arc<AtomicU64> {
        &self.ops
    }

    /// What the invariant checks have seen of every node so far (what was
    /// applied where, the terms led, the snapshots installed).
    pub(crate) fn invariants(&self) -> std::sync::MutexGuard<'_, crate::invariants::Invariants> {
        self.nodes.inv.lock().expect("invariants lock")
    }

    /// The test's runtime, for the tasks a cluster type runs beside its
    /// test (the clerks' operations).
    pub(crate) fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.nodes.rt
    }

    /// Runs `future` to completion on the test's runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.nodes.rt.block_on(future)
    }

    /// Adds `check` to every [`Session::check_invariants`] from now on (and
    /// so to every verb that checks, and to [`Session::end`]): the problems
    /// a cluster type watches for beside the invariants, e.g. the death of
    /// the KV tests' clerk host. `check` returns the problem found, if any.
    pub fn add_check(&self, check: impl Fn() -> Option<String> + Send + Sync + 'static) {
        self.checks.lock().expect("checks lock").push(Box::new(check));
    }

    /// The test's name (its artifact folder is named after it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The test's seed.
    pub fn seed(&self) -> u64 {
        self.nodes.seed
    }

    /// A random value in `range`, from the test's seeded generator.
    pub fn random_range<T: SampleUniform, R: SampleRange<T>>(&self, range: R) -> T {
        self.rng.lock().expect("rng lock").random_range(range)
    }

    /// A random value of any type the standard distribution covers.
    pub fn random<T>(&self) -> T
    where
        StandardUniform: Distribution<T>,
    {
        self.rng.lock().expect("rng lock").random()
    }

    /// True with probability `per_mille` / 1000, from the test's seeded
    /// generator (6.824's `rand.Int() % 1000 < per_mille`).
    pub fn chance(&self, per_mille: u64) -> bool {
        self.random_range(0..1000) < per_mille
    }

    /// `len` random lowercase letters.
    pub fn random_text(&self, len: usize) -> Vec<u8> {
        let mut rng = self.rng.lock().expect("rng lock");
        (0..len).map(|_| rng.random_range(b'a'..=b'z')).collect()
    }

    /// Marks `f` in the timeline, at the moment it was found, and hands it
    /// back. Only the first failure is marked: later ones are consequences.
    pub fn failed(&self, f: Failure) -> Failure {
        if !self.failure_marked.swap(true, Ordering::SeqCst) {
            self.nodes.timeline.record(format!("FAILED: {}", f.message().lines().next().unwrap_or("")));
        }
        f
    }

    /// A failure with this message, marked (see [`Session::failed`]).
    pub fn fail<T>(&self, message: impl Into<String>) -> TestResult<T> {
        Err(self.failed(Failure::new(message)))
    }

    /// Fails with the first invariant violation seen so far, if any, else
    /// with the first problem an added check ([`Session::add_check`]) finds.
    pub fn check_invariants(&self) -> TestResult {
        if let Some(v) = self.nodes.violation() {
            return self.fail(v);
        }
        let problem = self.checks.lock().expect("checks lock").iter().find_map(|check| check());
        match problem {
            Some(p) => self.fail(p),
            None => Ok(()),
        }
    }

    /// Stale copies on or off (beyond labrpc): one in twenty delivered
    /// requests is delivered again 0.1–1 s later, past newer traffic on its
    /// link; half of those copies' answers are the ones their callers get,
    /// late (the original's dropped), the others' are dropped. See
    /// [`crate::net::rules::stale_copy`].
    pub fn set_stale(&self, on: bool) {
        let mode = self.nodes.net.mode();
        self.nodes.net.set_mode(crate::net::rules::Mode { stale: on, ..mode });
        self.nodes.timeline.record(format!("stale copies {on}"));
    }

    /// The counters now.
    pub fn counters(&self) -> Counters {
        let stats = self.nodes.net.stats();
        Counters {
            rpcs: stats.total_calls(),
            bytes: stats.total_bytes(),
            commands: self.invariants().max_index(),
            ops: self.ops.load(Ordering::Relaxed),
        }
    }

    /// Starts the story: prints `title …` and notes the counters.
    pub fn begin(&self, title: &str) {
        println!("{title} ...");
        self.nodes.timeline.record(format!("begin {title}"));
        self.passed.store(false, Ordering::SeqCst);
        let story = Story { title: title.to_string(), at: Instant::now(), start: self.counters() };
        *self.story.lock().expect("story lock") = Some(story);
    }

    /// Ends the story: the checks every story ends with — the invariants
    /// and added checks, RPC handlers stuck in the nodes, the time limit —
    /// then `own`, the cluster type's end-of-story checks (e.g.
    /// linearizability); if all pass, the story passed, and what it did is
    /// returned for the summary line.
    ///
    /// # Panics
    /// Without a `begin` first: a test written wrong.
    pub fn end(&self, own: impl FnOnce() -> TestResult) -> TestResult<Summary> {
        self.check_invariants()?;
        self.nodes.check_handlers().map_err(|f| self.failed(f))?;
        if self.created.elapsed() > TEST_TIME_LIMIT {
            return self.fail(format!("test took longer than {} seconds", TEST_TIME_LIMIT.as_secs()));
        }
        own()?;
        Ok(self.pass())
    }

    /// Marks the story passed: what it did, for the summary line.
    fn pass(&self) -> Summary {
        let story = self.story.lock().expect("story lock").take();
        let Some(s) = story else { panic!("end() without begin(): call begin(title) first") };
        let now = self.counters();
        self.nodes.timeline.record(format!("passed {}", s.title));
        self.passed.store(true, Ordering::SeqCst);
        Summary {
            secs: s.at.elapsed().as_secs_f64(),
            delta: Counters {
                rpcs: now.rpcs - s.start.rpcs,
                bytes: now.bytes - s.start.bytes,
                commands: now.commands - s.start.commands,
                ops: now.ops - s.start.ops,
            },
        }
    }

    /// The test's directory (sockets, data directories, logs).
    pub fn dir(&self) -> &std::path::Path {
        self.nodes.dir.path()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let passed = self.passed.load(Ordering::SeqCst);
        if !passed && !self.failure_marked.load(Ordering::SeqCst) {
            // The test body's own check failed (its message follows the report).
            self.nodes.timeline.record("FAILED: the test's own check (see its message)");
        }
        self.nodes.finish(passed, &self.name);
    }
}

/// How often [`wait_until`] looks again: short, because scripted tests act
/// the moment a condition holds (release a held request, crash a node).
pub const POLL_EVERY: Duration = Duration::from_millis(1);

/// Looks at `cond` every [`POLL_EVERY`] until it holds (`Ok(true)`) or
/// `limit` has passed (`Ok(false)`); a failing look fails at once. The
/// polling loop of the scripted tests, written once.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> TestResult<bool>) -> TestResult<bool> {
    let t0 = Instant::now();
    loop {
        if cond()? {
            return Ok(true);
        }
        if t0.elapsed() > limit {
            return Ok(false);
        }
        std::thread::sleep(POLL_EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_until_reports_whether_the_condition_came_true() {
        let mut n = 0;
        assert!(
            wait_until(Duration::from_secs(5), || {
                n += 1;
                Ok(n == 3)
            })
            .unwrap()
        );
        assert_eq!(n, 3);
        let t0 = Instant::now();
        assert!(!wait_until(Duration::from_millis(20), || Ok(false)).unwrap());
        assert!(t0.elapsed() >= Duration::from_millis(20));
        let failed = wait_until(Duration::from_secs(5), || Err(Failure::new("node 1 did not answer")));
        assert_eq!(failed.unwrap_err().message(), "node 1 did not answer");
    }
}
