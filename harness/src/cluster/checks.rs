//! The cluster's checks: 6.824's checkOneLeader, checkTerms,
//! checkNoLeader, nCommitted, wait and one, each an exact contract.

use super::{
    Cluster, LEADER_POLL_JITTER_MS, LEADER_POLL_SLEEP, LEADER_POLLS, ONE_TIMEOUT, ONE_TRY, WAIT_POLLS,
};
use crate::failure::TestResult;
use crate::invariants::show;
use crate::verbs::SessionVerbs;
use std::time::{Duration, Instant};

impl Cluster {
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
                    return self.session.fail(format!("term {term} has {} (>1) leaders: {ls:?}", ls.len()));
                }
            }
            if let Some((term, ls)) = leaders.iter().next_back() {
                self.session.record(format!("check_one_leader: node {} leads term {term}", ls[0]));
                return Ok(ls[0]);
            }
        }
        self.session.fail("expected one leader, got none")
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
                        return self
                            .session
                            .fail(format!("servers disagree on term: {t0} and {t} (node {i})"));
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
                return self.session.fail(format!(
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
        Ok(self.session.invariants().n_committed(index))
    }

    /// How many snapshots peer `i` installed while running (sent by a
    /// leader, not restored at a start), in all its incarnations.
    pub fn snapshots_installed(&self, i: usize) -> u64 {
        self.session.invariants().snapshots_installed(i)
    }

    /// The terms peer `i` was seen leading so far: reported by the node as
    /// its role changed, or answered to [`Cluster::state`].
    pub fn terms_led(&self, i: usize) -> Vec<u64> {
        self.session.invariants().terms_led(i)
    }

    /// Whether peer `i` has applied `index` (in any incarnation).
    pub fn has_applied(&self, i: usize, index: u64) -> bool {
        self.session.invariants().has_applied(i, index)
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
            return self.session.fail(format!("only {nd} decided for index {index}; wanted {n}"));
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
                        return self
                            .session
                            .fail(format!("one({}) failed to reach agreement", show(command)));
                    }
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        self.session.fail(format!("one({}) failed to reach agreement", show(command)))
    }
}
