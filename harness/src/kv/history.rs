//! The history of clerk operations, timed by the harness's own monotonic
//! clock, and its linearizability check.

use lincheck::{CheckResult, KvInput, KvModel, KvOp, KvOutput, Operation};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the checker may search before answering Unknown (6.824's
/// `linearizabilityCheckTimeout`).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Operations as the harness saw them. An operation that never returned
/// stays pending to the end of the history: it may or may not have happened.
pub struct History {
    start: Instant,
    ops: Mutex<Vec<Operation<KvInput, KvOutput>>>,
}

/// A recorded operation's place in the history.
#[derive(Clone, Copy, Debug)]
pub struct Slot(usize);

/// What the check concluded.
pub enum Judgement {
    /// Linearizable.
    Ok,
    /// The checker ran out of time: reported, not failed (6.824 does the same).
    Unknown,
    /// Not linearizable; the view was written to the given file.
    Illegal(String),
}

impl Default for History {
    fn default() -> History {
        History { start: Instant::now(), ops: Mutex::default() }
    }
}

impl History {
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Records the call of an operation by `client`, now.
    pub fn call(&self, client: usize, op: KvOp, key: &str, value: &str) -> Slot {
        let input = KvInput { op, key: key.to_string(), value: value.to_string() };
        let mut ops = self.ops.lock().expect("history lock");
        ops.push(Operation { client, input, call: self.now(), output: None, ret: None });
        Slot(ops.len() - 1)
    }

    /// Records the return of the operation in `slot`, now, with its result
    /// (the value read, or "" for Put and Append).
    pub fn ret(&self, slot: Slot, value: String) {
        let at = self.now();
        let mut ops = self.ops.lock().expect("history lock");
        let op = &mut ops[slot.0];
        op.ret = Some(at);
        op.output = Some(KvOutput { value });
    }

    /// Number of operations recorded.
    pub fn len(&self) -> usize {
        self.ops.lock().expect("history lock").len()
    }

    /// Whether no operation was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the history; on a violation writes the HTML view to `view`.
    pub fn judge(&self, view: &Path) -> Judgement {
        let ops = self.ops.lock().expect("history lock").clone();
        let t = Instant::now();
        let verdict = lincheck::check_operations(&KvModel, &ops, Some(CHECK_TIMEOUT));
        println!(
            "  linearizability: {} operations checked in {:.1} ms",
            ops.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        match verdict {
            CheckResult::Ok => Judgement::Ok,
            CheckResult::Unknown => Judgement::Unknown,
            CheckResult::Illegal(_) => {
                let analysis = lincheck::analyze(&KvModel, &ops, Some(CHECK_TIMEOUT));
                match lincheck::write_html(&KvModel, &ops, &analysis, "KV history", view) {
                    Ok(()) => Judgement::Illegal(view.display().to_string()),
                    Err(e) => {
                        Judgement::Illegal(format!("(cannot write the view to {}: {e})", view.display()))
                    }
                }
            }
        }
    }
}
