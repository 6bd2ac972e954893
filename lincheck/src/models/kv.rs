//! The lab's key/value service: get, put and append on string values, one
//! independent register per key.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::history::Operation;
use crate::model::{Model, Prune};

/// Reads looked at from the front of the pruning's list (see [`GrowOnly`]).
const PRUNE_SCAN: usize = 32;

/// A key/value operation kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    /// Read the key's value.
    Get,
    /// Replace the key's value.
    Put,
    /// Append to the key's value.
    Append,
}

/// What a clerk asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvInput {
    /// The kind of operation.
    pub op: KvOp,
    /// The key.
    pub key: String,
    /// The argument of a put or append (ignored for a get).
    pub value: String,
}

/// What a clerk is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvOutput {
    /// The value a get read (ignored for a put or append).
    pub value: String,
}

/// The lab's key/value store. Keys are independent, so a history is checked
/// one key at a time (the partition is by key). A key's state is its value,
/// initially `""`, reference-counted so that the search copies a pointer,
/// never the string.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

impl Model for KvModel {
    type State = Arc<str>;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> Arc<str> {
        Arc::from("")
    }

    #[inline]
    fn step(&self, state: &Arc<str>, input: &KvInput, output: Option<&KvOutput>) -> Option<Arc<str>> {
        match input.op {
            KvOp::Get => match output {
                Some(out) if *out.value != **state => None,
                _ => Some(Arc::clone(state)),
            },
            KvOp::Put => Some(Arc::from(input.value.as_str())),
            KvOp::Append if input.value.is_empty() => Some(Arc::clone(state)),
            KvOp::Append => {
                let mut value = String::with_capacity(state.len() + input.value.len());
                value.push_str(state);
                value.push_str(&input.value);
                Some(Arc::from(value))
            }
        }
    }

    fn is_read_only(&self, input: &KvInput, _output: Option<&KvOutput>) -> bool {
        input.op == KvOp::Get || (input.op == KvOp::Append && input.value.is_empty())
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(&op.input.key).or_default().push(i);
        }
        by_key.into_values().collect()
    }

    fn pruner(&self, part: &[&Operation<KvInput, KvOutput>]) -> Option<Box<dyn Prune<Arc<str>>>> {
        let mut puts: Vec<(u64, usize)> = Vec::new();
        let mut gets: Vec<(u64, usize, Arc<str>)> = Vec::new();
        for (j, op) in part.iter().enumerate() {
            match (op.input.op, &op.output, op.ret) {
                (KvOp::Put, _, _) => puts.push((op.call, j)),
                (KvOp::Get, Some(out), Some(ret)) => gets.push((ret, j, Arc::from(out.value.as_str()))),
                _ => {}
            }
        }
        if gets.is_empty() {
            return None;
        }
        puts.sort_unstable();
        gets.sort_unstable_by_key(|g| (g.0, g.1));
        Some(Box::new(GrowOnly {
            puts: puts.into_iter().map(|(_, j)| j).collect(),
            gets: gets.into_iter().map(|(_, j, v)| (j, v)).collect(),
        }))
    }

    fn describe_operation(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        let KvInput { op, key, value } = input;
        match (op, output) {
            (KvOp::Get, Some(out)) => format!("get({key:?}) -> {:?}", out.value),
            (KvOp::Get, None) => format!("get({key:?}) -> ?"),
            (KvOp::Put, _) => format!("put({key:?}, {value:?})"),
            (KvOp::Append, _) => format!("append({key:?}, {value:?})"),
        }
    }

    fn describe_state(&self, state: &Arc<str>) -> String {
        format!("{:?}", &**state)
    }
}

/// Once every put of a key is linearized, the key's value only grows (appends
/// extend it, gets leave it), so the value now must be a prefix of what every
/// get still to be linearized returned. Checked against the earliest
/// returning such get (within [`PRUNE_SCAN`]) and the last one: that turns
/// many concurrent appends ended by a read of the whole value from an
/// exponential search into a linear one.
struct GrowOnly {
    /// Local numbers of the puts, by call time.
    puts: Vec<usize>,
    /// Local numbers and results of the completed gets, by return time.
    gets: Vec<(usize, Arc<str>)>,
}

impl Prune<Arc<str>> for GrowOnly {
    fn viable(&self, state: &Arc<str>, linearized: &dyn Fn(usize) -> bool) -> bool {
        // The last put is usually the last to be linearized: check it first.
        if self.puts.last().is_some_and(|&j| !linearized(j)) || self.puts.iter().any(|&j| !linearized(j)) {
            return true;
        }
        let first = self.gets.iter().take(PRUNE_SCAN).find(|(j, _)| !linearized(*j));
        let last = self.gets.last().filter(|(j, _)| !linearized(*j));
        first.into_iter().chain(last).all(|(_, value)| value.starts_with(&**state))
    }
}
