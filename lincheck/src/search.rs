//! The search for a linearization of one part of a history: Wing & Gong's
//! backtracking over the real-time order, with Lowe's memoisation of
//! (set of linearized operations, state).
//!
//! One pruning is added: if an operation that may come next is legal now
//! and never changes the state ([`Model::is_read_only`]: a read, a failed
//! compare-and-set), linearizing it first loses nothing — any linearization
//! from here can be reordered to start with it, since it changes no state
//! where it was and no operation still open must precede it — so the search
//! commits to it and never tries the alternatives. The length of the
//! longest partial linearization is unchanged by this pruning.
//!
//! The same holds for an operation that is legal and changes nothing in
//! the current state and in every state reachable from it
//! ([`Model::is_inert`]: a put whose outcome is unknown at a version the key
//! has passed): wherever a linearization puts it, it can move to the front.
//!
//! A model may add its own necessary condition ([`Model::pruner`]), asked
//! after each state-changing step.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::bitset::HashedBitset;
use crate::cache::Cache;
use crate::history::Operation;
use crate::model::Model;
use crate::timeline::Timeline;

/// How many partial linearizations of the greatest length to keep.
pub const MAX_LONGEST: usize = 8;

/// How many configurations to enter between two looks at the clock and the
/// cancel flag (a look costs about 25 ns; a configuration about 50 ns).
const CONFIGURATIONS_PER_CHECK: u32 = 1 << 10;

/// When to give up.
pub(crate) struct Limits<'a> {
    /// Give up at this instant.
    pub(crate) deadline: Option<Instant>,
    /// Give up when this becomes true (another part was found illegal).
    pub(crate) cancel: &'a AtomicBool,
}

impl Limits<'_> {
    fn exceeded(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// What the search of one part found. Operations are indices into the
/// whole history.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A linearization of every operation of the part.
    Linearizable(Vec<usize>),
    /// No linearization; the longest partial ones (at most [`MAX_LONGEST`]).
    Illegal(Vec<Vec<usize>>),
    /// The limits were reached first.
    Stopped,
}

/// One linearized operation on the search stack.
struct Frame<S> {
    /// Its call entry in the timeline.
    entry: u32,
    /// The state before it, or `None` if it left the state unchanged and was
    /// linearized by the pruning (so its configuration had no alternative).
    before: Option<S>,
}

/// Searches for a linearization of `history[part]`.
pub(crate) fn search<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    part: &[usize],
    limits: &Limits,
) -> Outcome {
    let step = |state: &M::State, j: usize| {
        let op = &history[part[j]];
        model.step(state, &op.input, op.output.as_ref())
    };
    let read_only: Vec<bool> =
        part.iter().map(|&i| model.is_read_only(&history[i].input, history[i].output.as_ref())).collect();
    let ops: Vec<&Operation<M::Input, M::Output>> = part.iter().map(|&i| &history[i]).collect();
    let pruner = model.pruner(&ops);
    let mut timeline = Timeline::new(history, part);
    let mut bits = HashedBitset::new(part.len());
    let mut cache = Cache::new(bits.words().len());
    let mut state = model.init();
    let mut stack: Vec<Frame<M::State>> = Vec::with_capacity(part.len());
    let mut longest = Longest::default();
    let mut budget = CONFIGURATIONS_PER_CHECK;

    // Each turn of 'enter starts in a configuration entered for the first time.
    'enter: loop {
        if timeline.is_empty() {
            let ops = stack.iter().map(|f| part[timeline.op(f.entry)]).collect();
            return Outcome::Linearizable(ops);
        }
        budget -= 1;
        if budget == 0 {
            budget = CONFIGURATIONS_PER_CHECK;
            if limits.exceeded() {
                return Outcome::Stopped;
            }
        }

        // The pruning: a legal read-only operation that may come next.
        let mut cursor = Some(timeline.first());
        let mut e = timeline.first();
        while timeline.is_call(e) {
            let j = timeline.op(e);
            let op = ops[j];
            if (read_only[j] && step(&state, j).is_some())
                || model.is_inert(&state, &op.input, op.output.as_ref())
            {
                bits.insert(j);
                if cache.insert(&bits, &state) {
                    stack.push(Frame { entry: e, before: None });
                    timeline.lift(e);
                    continue 'enter;
                }
                // Entered before and failed: so does this configuration.
                bits.remove(j);
                cursor = None;
                break;
            }
            e = timeline.next(e);
        }

        loop {
            // Try each operation that may come next, from `cursor` on.
            if let Some(mut e) = cursor {
                while timeline.is_call(e) {
                    let j = timeline.op(e);
                    if let Some(next) = step(&state, j) {
                        bits.insert(j);
                        let viable = pruner.as_ref().is_none_or(|p| p.viable(&next, &|k| bits.contains(k)));
                        if !viable {
                            // A dead end one step on: it still counts for the longest.
                            longest.offer(stack.len() + 1, || {
                                let mut ops: Vec<usize> =
                                    stack.iter().map(|f| part[timeline.op(f.entry)]).collect();
                                ops.push(part[j]);
                                ops
                            });
                        }
                        if viable && cache.insert(&bits, &next) {
                            let before = Some(std::mem::replace(&mut state, next));
                            stack.push(Frame { entry: e, before });
                            timeline.lift(e);
                            continue 'enter;
                        }
                        bits.remove(j);
                    }
                    e = timeline.next(e);
                }
            }
            // A dead end: undo the last choice that had alternatives.
            longest.offer(stack.len(), || stack.iter().map(|f| part[timeline.op(f.entry)]).collect());
            loop {
                let Some(frame) = stack.pop() else {
                    return Outcome::Illegal(longest.found);
                };
                bits.remove(timeline.op(frame.entry));
                timeline.unlift(frame.entry);
                if let Some(before) = frame.before {
                    state = before;
                    cursor = Some(timeline.next(frame.entry));
                    break;
                }
            }
        }
    }
}

/// The longest partial linearizations seen at dead ends.
#[derive(Default)]
struct Longest {
    len: usize,
    found: Vec<Vec<usize>>,
}

impl Longest {
    /// Considers a dead end reached after `len` operations, listed by `ops`.
    fn offer(&mut self, len: usize, ops: impl FnOnce() -> Vec<usize>) {
        if len > self.len || self.found.is_empty() {
            self.len = len;
            self.found.clear();
            self.found.push(ops());
        } else if len == self.len && self.found.len() < MAX_LONGEST {
            self.found.push(ops());
        }
    }
}
