//! The sequential specification a history is checked against.

use std::hash::Hash;

use crate::history::Operation;

/// A sequential object: what each operation does to a state, and which
/// outputs are legal.
///
/// The checker calls [`Model::step`] in its hot loop, so it should be cheap:
/// borrow from `input` and `output`, and make `State` cheap to clone and to
/// hash (an integer, or a reference-counted string rather than a `String`).
///
/// # Contract
///
/// * `step` is a pure function of its arguments.
/// * An `output` of `None` means the outcome is unknown (the client gave up or
///   crashed). `step` must then return the state the operation would produce
///   if it took effect now; a model should not declare such a step illegal
///   unless no outcome at all could make it legal.
/// * `partition` returns parts such that the history is linearizable exactly
///   when every part is (P-compositionality); by default there is one part.
pub trait Model: Sync {
    /// The object's state. Hashed and compared by the memoisation table.
    type State: Clone + Eq + Hash + Send;
    /// What a client asked for.
    type Input: Sync;
    /// What a client was told.
    type Output: Sync;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `input` answered with `output` in `state`, or `None`
    /// if that answer is impossible in `state`.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Whether the operation leaves the state unchanged whenever it is legal
    /// (a read, a failed compare-and-set), in every state. The search then
    /// linearizes it as soon as it is legal, without trying alternatives.
    /// Answering `false` is always safe; answering `true` for an operation
    /// that may change the state makes the checker wrong.
    fn is_read_only(&self, input: &Self::Input, output: Option<&Self::Output>) -> bool {
        let _ = (input, output);
        false
    }

    /// Whether the operation is legal in `state`, leaves it unchanged, and
    /// would do the same in every state reachable from `state` (a put at a
    /// version the key has already passed, whose outcome is unknown: it can
    /// no longer take effect). The search then linearizes it as soon as it
    /// may come next, as it does a read-only one. Answering `false` is
    /// always safe.
    fn is_inert(&self, state: &Self::State, input: &Self::Input, output: Option<&Self::Output>) -> bool {
        let _ = (state, input, output);
        false
    }

    /// Splits a history into independent parts, each a list of indices into
    /// `history`. Every operation must appear in exactly one part.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// An optional pruning for one part of a history, built once per part
    /// from its operations (local number `j` is `part[j]`). `None`, the
    /// default, prunes nothing.
    fn pruner(&self, part: &[&Operation<Self::Input, Self::Output>]) -> Option<Box<dyn Prune<Self::State>>> {
        let _ = part;
        None
    }

    /// A short human-readable description of one operation, for the view.
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;

    /// A short human-readable description of a state, for the view.
    fn describe_state(&self, state: &Self::State) -> String;
}

/// An operation of `M`'s history.
pub type OperationOf<M> = Operation<<M as Model>::Input, <M as Model>::Output>;

/// A necessary condition for a partial linearization to be completed.
///
/// The search asks [`Prune::viable`] after each step and abandons the
/// configuration when it answers `false`. It must answer `true` whenever the
/// operations not yet linearized can still be linearized from `state`;
/// answering `true` is always safe.
pub trait Prune<S>: Send {
    /// Whether some linearization may continue from `state`, given which
    /// operations (local numbers) are already linearized.
    fn viable(&self, state: &S, linearized: &dyn Fn(usize) -> bool) -> bool;
}
