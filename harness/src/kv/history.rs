//! The history of clerk operations, timed by the harness's own monotonic
//! clock, and its linearizability check.

use lincheck::{CheckResult, KvInput, KvModel, KvOp, KvOutput, Model, Operation, Prune};
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

    /// Checks the history; on a violation writes the HTML view to `view`
    /// (its keys and values, which servers chose, with hidden characters
    /// escaped) and lists it in its folder's manifest as the kit's
    /// ([`crate::artifacts::manifest`]).
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
                match lincheck::write_html(&Shown(KvModel), &ops, &analysis, "KV history", view)
                    .and_then(|()| list(view))
                {
                    Ok(()) => Judgement::Illegal(view.display().to_string()),
                    Err(e) => {
                        Judgement::Illegal(format!("(cannot write the view to {}: {e})", view.display()))
                    }
                }
            }
        }
    }
}

/// Lists the view at `view` in its folder's manifest.
fn list(view: &Path) -> std::io::Result<()> {
    match (view.parent(), view.file_name().and_then(|n| n.to_str())) {
        (Some(dir), Some(name)) => crate::artifacts::manifest::record(dir, name),
        _ => Ok(()),
    }
}

/// A model as the view shows it: `M` in every respect, its descriptions of
/// operations and states (what clerks were told, what servers hold) with
/// hidden characters escaped ([`runner::text::escape_controls`]), whatever
/// the model's own quoting does (the KV model's `Debug` quotes escape most
/// of them already). The check itself runs on `M`: escaping is for the eye
/// only.
struct Shown<M>(M);

impl<M: Model> Model for Shown<M> {
    type State = M::State;
    type Input = M::Input;
    type Output = M::Output;

    fn init(&self) -> M::State {
        self.0.init()
    }

    fn step(&self, state: &M::State, input: &M::Input, output: Option<&M::Output>) -> Option<M::State> {
        self.0.step(state, input, output)
    }

    fn is_read_only(&self, input: &M::Input, output: Option<&M::Output>) -> bool {
        self.0.is_read_only(input, output)
    }

    fn partition(&self, history: &[Operation<M::Input, M::Output>]) -> Vec<Vec<usize>> {
        self.0.partition(history)
    }

    fn pruner(&self, part: &[&Operation<M::Input, M::Output>]) -> Option<Box<dyn Prune<M::State>>> {
        self.0.pruner(part)
    }

    fn describe_operation(&self, input: &M::Input, output: Option<&M::Output>) -> String {
        runner::text::escape_controls(&self.0.describe_operation(input, output)).into_owned()
    }

    fn describe_state(&self, state: &M::State) -> String {
        runner::text::escape_controls(&self.0.describe_state(state)).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_illegal_history_gets_a_listed_view_with_values_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::default();
        let put = h.call(0, KvOp::Put, "k", "v\u{202e}1");
        h.ret(put, String::new());
        // A read after the put returned cannot see a value never written.
        let get = h.call(1, KvOp::Get, "k", "");
        h.ret(get, "\x1b[2Jforged".into());
        let view = dir.path().join(crate::artifacts::LINEARIZABILITY_HTML);
        assert!(matches!(h.judge(&view), Judgement::Illegal(v) if v == view.display().to_string()));
        let page = std::fs::read_to_string(&view).unwrap();
        // The model quotes values with Debug, which escapes them too; in the
        // page's JSON a backslash is doubled.
        assert!(page.contains(r"v\\u{202e}1") && page.contains(r"\\u{1b}[2Jforged"), "escaped in the data");
        assert!(!page.chars().any(runner::text::is_hidden), "and not there as themselves");
        assert!(!page.contains("\\u001b"), "nor as a JSON escape the script would decode");
        assert_eq!(crate::artifacts::manifest::read(dir.path()), [crate::artifacts::LINEARIZABILITY_HTML]);
    }
}
