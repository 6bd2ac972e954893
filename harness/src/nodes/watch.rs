//! What the harness watches in every node as a test runs: the events it
//! reports (applies, snapshots, role changes, problems), checked as they
//! arrive, and its RPC handlers in flight, checked at the end of a test.

use super::{LOG_TAIL_LINES, Nodes, indent};
use crate::failure::Failure;
use crate::node_conn::Event;
use crate::process;
use control::{Reply, Request, ToHarness};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The longest a Raft RPC handler ("Raft.…") may run: it decides under a
/// lock and persists (milliseconds), and its caller gives up after 10 s, so
/// one past this is waiting for what will not happen.
pub const RAFT_HANDLER_LIMIT: Duration = Duration::from_secs(10);
/// The longest any other RPC handler (a KV server's) may run: far longer
/// than any test needs, since a server learns it lost the lead within a
/// heartbeat of a partition healing and the longest partition of a test
/// lasts seconds.
pub const HANDLER_LIMIT: Duration = Duration::from_secs(30);

/// The limit for a handler of `method`.
pub fn handler_limit(method: &str) -> Duration {
    if method.starts_with("Raft.") { RAFT_HANDLER_LIMIT } else { HANDLER_LIMIT }
}

impl Nodes {
    pub(super) fn observer(&self, i: usize, incarnation: u64) -> impl Fn(Event) + Send + 'static {
        let (inv, current, log, timeline, activity, leaders) = (
            self.inv.clone(),
            self.current.clone(),
            self.log_path(i),
            self.timeline.clone(),
            self.activity.clone(),
            self.leaders.clone(),
        );
        move |event| {
            if current[i].load(Ordering::SeqCst) != incarnation {
                return; // a killed incarnation's last words
            }
            if let Event::Closed(why) = &event {
                // Give the exit a moment to reach the log.
                std::thread::sleep(Duration::from_millis(50));
                let tail = indent(&process::tail(&log, LOG_TAIL_LINES));
                let msg =
                    format!("node {i} exited unexpectedly ({why}); last lines of {}:\n{tail}", log.display());
                timeline.record(format!("node {i} exited unexpectedly"));
                return inv.lock().expect("invariants lock").violate(msg);
            }
            let mut inv = inv.lock().expect("invariants lock");
            let clean = inv.violation().is_none();
            match event {
                Event::Message(ToHarness::Applied { index, term, command }) => {
                    activity.applied(i, index > inv.max_index());
                    inv.applied(i, index, term, &command)
                }
                Event::Message(ToHarness::Snapshot { index, term, commands, restored }) => {
                    timeline.record(format!("node {i} installed a snapshot through index {index}"));
                    if let Some(term) = term {
                        inv.snapshot_term(i, index, term);
                    }
                    inv.snapshot(i, index, &commands, restored)
                }
                Event::Message(ToHarness::Role { term, leader }) => {
                    let role = if leader { "leads" } else { "does not lead" };
                    timeline.record(format!("node {i} {role} in term {term}"));
                    if leader {
                        inv.leader_seen(i, term, "said so as it happened");
                    }
                    if let Some(why) = leaders.observe(i, term, leader) {
                        inv.violate(why);
                    }
                }
                Event::Message(ToHarness::Problem { message }) => inv.violate(format!("node {i}: {message}")),
                Event::Message(other) => {
                    inv.violate(format!("node {i} sent an unexpected control message {other:?}"))
                }
                Event::Closed(_) => unreachable!("handled above"),
            }
            if clean && let Some(v) = inv.violation() {
                timeline.record(format!("VIOLATION: {}", v.lines().next().unwrap_or_default()));
            }
        }
    }

    /// The RPC handlers node `i` has started and not answered, each with
    /// its method and how long it has run; empty if it is not running.
    pub fn handlers_in_flight(&self, i: usize) -> Result<Vec<(String, Duration)>, Failure> {
        match self.request(i, Request::Handlers)? {
            Some(Reply::Handlers { running }) => {
                Ok(running.into_iter().map(|(m, ms)| (m, Duration::from_millis(ms))).collect())
            }
            Some(other) => Err(Failure::new(format!("node {i} answered Handlers with {other:?}"))),
            None => Ok(Vec::new()),
        }
    }

    /// At the end of a test: notes every running node's RPC handlers in
    /// flight in the timeline, by method, and fails if one has run longer
    /// than its [`handler_limit`] (it will never answer: a handler waiting
    /// for something that cannot happen).
    pub fn check_handlers(&self) -> Result<(), Failure> {
        let mut stuck = Vec::new();
        for i in 0..self.n {
            let running = self.handlers_in_flight(i)?;
            if running.is_empty() {
                continue;
            }
            let mut by_method: std::collections::BTreeMap<&str, usize> = Default::default();
            for (m, _) in &running {
                *by_method.entry(m.as_str()).or_default() += 1;
            }
            let summary: Vec<String> = by_method.iter().map(|(m, k)| format!("{m} ×{k}")).collect();
            self.timeline.record(format!(
                "node {i}: RPC handlers in flight at the end: {} (longest {:.1} s)",
                summary.join(", "),
                running[0].1.as_secs_f64()
            ));
            if let Some((method, age)) = running.iter().find(|(m, age)| *age > handler_limit(m)) {
                stuck.push(format!(
                    "node {i}: a {method} handler has not answered after {:.1} s (in flight: {})",
                    age.as_secs_f64(),
                    summary.join(", ")
                ));
            }
        }
        if stuck.is_empty() {
            return Ok(());
        }
        Err(Failure::new(format!(
            "RPC handlers that never answer (no test needs a Raft handler to run longer than {} s, or a KV handler longer than {} s):\n  {}",
            RAFT_HANDLER_LIMIT.as_secs(),
            HANDLER_LIMIT.as_secs(),
            stuck.join("\n  ")
        )))
    }
}
