//! The versioned key/value service of the course's 2025+ editions (its
//! single-server lab and its KV on Raft): `Get(key) → (value, version)` or
//! `ErrNoKey`, and `Put(key, value, version)`, which takes effect only when
//! `version` is the key's current version (0 for a key that does not exist
//! yet, which the put creates) and then increments it; otherwise it answers
//! `ErrVersion` (the key exists at another version) or `ErrNoKey` (it does
//! not exist and `version` > 0). One independent register per key.
//!
//! A put whose clerk answered `ErrMaybe` (a resent put that met
//! `ErrVersion`: the first attempt may or may not have taken effect, and a
//! copy of it may still be on its way) is recorded as **pending** with an
//! unknown outcome: it may take effect at any moment after its call, or
//! never. Do not close it at the clerk's answer: a delayed copy can be
//! applied after that.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::history::Operation;
use crate::model::{Model, Prune};

/// What a clerk asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionedInput {
    /// The key.
    pub key: String,
    /// The operation.
    pub op: VersionedOp,
}

/// A versioned operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionedOp {
    /// Read the key's value and version.
    Get,
    /// Write `value` if the key is at `version`.
    Put {
        /// The new value.
        value: String,
        /// The version the put expects the key to be at.
        version: u64,
    },
}

/// What a clerk is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionedOutput {
    /// A get's answer: the key's value and version (≥ 1).
    Value {
        /// The value.
        value: String,
        /// Its version.
        version: u64,
    },
    /// The put took effect.
    Ok,
    /// The key exists at another version than the put's.
    ErrVersion,
    /// The key does not exist (a get, or a put with version > 0).
    ErrNoKey,
}

/// A key's state: its value and version; version 0 is a key that does not
/// exist. The value is reference-counted, so the search copies a pointer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VersionedState {
    /// The value (empty while the key does not exist).
    pub value: Arc<str>,
    /// The version: 0 until the first put, then the number of puts that took effect.
    pub version: u64,
}

/// The versioned key/value store. Keys are independent, so a history is
/// checked one key at a time.
#[derive(Clone, Copy, Debug, Default)]
pub struct VersionedKvModel;

impl VersionedKvModel {
    /// What `op` answers in `state`, and the state after it.
    #[inline]
    fn apply(state: &VersionedState, op: &VersionedOp) -> (VersionedOutput, Option<VersionedState>) {
        match op {
            VersionedOp::Get if state.version == 0 => (VersionedOutput::ErrNoKey, None),
            VersionedOp::Get => {
                (VersionedOutput::Value { value: state.value.to_string(), version: state.version }, None)
            }
            VersionedOp::Put { value, version } if *version == state.version => (
                VersionedOutput::Ok,
                Some(VersionedState { value: Arc::from(value.as_str()), version: state.version + 1 }),
            ),
            VersionedOp::Put { .. } if state.version == 0 => (VersionedOutput::ErrNoKey, None),
            VersionedOp::Put { .. } => (VersionedOutput::ErrVersion, None),
        }
    }
}

impl Model for VersionedKvModel {
    type State = VersionedState;
    type Input = VersionedInput;
    type Output = VersionedOutput;

    fn init(&self) -> VersionedState {
        VersionedState { value: Arc::from(""), version: 0 }
    }

    #[inline]
    fn step(
        &self,
        state: &VersionedState,
        input: &VersionedInput,
        output: Option<&VersionedOutput>,
    ) -> Option<VersionedState> {
        // A get is compared without building its answer.
        if let (VersionedOp::Get, Some(out)) = (&input.op, output) {
            let legal = match out {
                VersionedOutput::Value { value, version } => {
                    *version == state.version && state.version > 0 && **value == *state.value
                }
                VersionedOutput::ErrNoKey => state.version == 0,
                VersionedOutput::Ok | VersionedOutput::ErrVersion => false,
            };
            return legal.then(|| state.clone());
        }
        let (answer, next) = Self::apply(state, &input.op);
        match output {
            Some(out) if *out != answer => None,
            _ => Some(next.unwrap_or_else(|| state.clone())),
        }
    }

    fn is_read_only(&self, input: &VersionedInput, output: Option<&VersionedOutput>) -> bool {
        match input.op {
            VersionedOp::Get => true,
            // A put that failed changed nothing wherever it is legal.
            VersionedOp::Put { .. } => {
                matches!(output, Some(VersionedOutput::ErrVersion | VersionedOutput::ErrNoKey))
            }
        }
    }

    /// A put the key's version has passed can never take effect again (the
    /// version only grows): whatever its outcome, it fails wherever it goes.
    fn is_inert(
        &self,
        state: &VersionedState,
        input: &VersionedInput,
        output: Option<&VersionedOutput>,
    ) -> bool {
        match (&input.op, output) {
            (VersionedOp::Put { version, .. }, None | Some(VersionedOutput::ErrVersion)) => {
                *version < state.version
            }
            _ => false,
        }
    }

    fn partition(&self, history: &[Operation<VersionedInput, VersionedOutput>]) -> Vec<Vec<usize>> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(&op.input.key).or_default().push(i);
        }
        by_key.into_values().collect()
    }

    fn pruner(
        &self,
        part: &[&Operation<VersionedInput, VersionedOutput>],
    ) -> Option<Box<dyn Prune<VersionedState>>> {
        // The version never goes down, so every operation still to be
        // linearized whose answer fixes the version it saw bounds the
        // version now: a get that read version k (or no key: 0), a put that
        // took effect at k, a put that met no key.
        let mut bounds: Vec<(u64, usize)> = part
            .iter()
            .enumerate()
            .filter_map(|(j, op)| {
                let bound = match (&op.input.op, op.output.as_ref()?) {
                    (VersionedOp::Get, VersionedOutput::Value { version, .. }) => *version,
                    (VersionedOp::Put { version, .. }, VersionedOutput::Ok) => *version,
                    (_, VersionedOutput::ErrNoKey) => 0,
                    _ => return None,
                };
                Some((bound, j))
            })
            .collect();
        if bounds.is_empty() {
            return None;
        }
        bounds.sort_unstable();
        Some(Box::new(VersionBound { bounds }))
    }

    fn describe_operation(&self, input: &VersionedInput, output: Option<&VersionedOutput>) -> String {
        let key = &input.key;
        let call = match &input.op {
            VersionedOp::Get => format!("get({key:?})"),
            VersionedOp::Put { value, version } => format!("put({key:?}, {value:?}, v{version})"),
        };
        match output {
            None => format!("{call} -> ?"),
            Some(VersionedOutput::Value { value, version }) => format!("{call} -> {value:?} v{version}"),
            Some(VersionedOutput::Ok) => format!("{call} -> ok"),
            Some(VersionedOutput::ErrVersion) => format!("{call} -> ErrVersion"),
            Some(VersionedOutput::ErrNoKey) => format!("{call} -> ErrNoKey"),
        }
    }

    fn describe_state(&self, state: &VersionedState) -> String {
        if state.version == 0 {
            "no key".to_string()
        } else {
            format!("{:?} v{}", &*state.value, state.version)
        }
    }
}

/// The operations whose answers bound the version, smallest bound first: a
/// configuration whose version is above the bound of one not yet linearized
/// cannot be completed (the version would have to go down).
struct VersionBound {
    /// (bound, local number), sorted.
    bounds: Vec<(u64, usize)>,
}

impl Prune<VersionedState> for VersionBound {
    fn viable(&self, state: &VersionedState, linearized: &dyn Fn(usize) -> bool) -> bool {
        // The first one not yet linearized has the smallest bound of those left.
        self.bounds.iter().find(|(_, j)| !linearized(*j)).is_none_or(|(bound, _)| state.version <= *bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckResult, check_operations};

    type Op = Operation<VersionedInput, VersionedOutput>;

    fn get(client: usize, call: u64, ret: u64, out: VersionedOutput) -> Op {
        let input = VersionedInput { key: "k".into(), op: VersionedOp::Get };
        Operation { client, input, call, output: Some(out), ret: Some(ret) }
    }

    fn put(client: usize, value: &str, version: u64, call: u64, done: Option<(u64, VersionedOutput)>) -> Op {
        let input = VersionedInput { key: "k".into(), op: VersionedOp::Put { value: value.into(), version } };
        let (ret, output) = match done {
            Some((ret, out)) => (Some(ret), Some(out)),
            None => (None, None),
        };
        Operation { client, input, call, output, ret }
    }

    fn value(v: &str, version: u64) -> VersionedOutput {
        VersionedOutput::Value { value: v.into(), version }
    }

    fn ok(history: &[Op]) -> bool {
        matches!(check_operations(&VersionedKvModel, history, None), CheckResult::Ok)
    }

    #[test]
    fn a_put_creates_a_key_at_version_zero_and_increments_it() {
        let h = vec![
            get(0, 0, 1, VersionedOutput::ErrNoKey),
            put(0, "a", 0, 2, Some((3, VersionedOutput::Ok))),
            get(0, 4, 5, value("a", 1)),
            put(0, "b", 1, 6, Some((7, VersionedOutput::Ok))),
            get(0, 8, 9, value("b", 2)),
        ];
        assert!(ok(&h));
    }

    #[test]
    fn a_put_at_a_stale_version_must_fail() {
        // Two clerks both put at version 0, one after the other: both OK is impossible.
        let h = vec![
            put(0, "a", 0, 0, Some((1, VersionedOutput::Ok))),
            put(1, "b", 0, 2, Some((3, VersionedOutput::Ok))),
        ];
        assert!(!ok(&h));
        let h = vec![
            put(0, "a", 0, 0, Some((1, VersionedOutput::Ok))),
            put(1, "b", 0, 2, Some((3, VersionedOutput::ErrVersion))),
        ];
        assert!(ok(&h));
    }

    #[test]
    fn err_no_key_only_while_the_key_does_not_exist() {
        let h = vec![
            put(0, "a", 3, 0, Some((1, VersionedOutput::ErrNoKey))),
            put(0, "a", 0, 2, Some((3, VersionedOutput::Ok))),
            put(1, "b", 5, 4, Some((5, VersionedOutput::ErrNoKey))),
        ];
        assert!(!ok(&h), "after the key exists a put at another version is ErrVersion, not ErrNoKey");
        let h = vec![put(0, "a", 0, 0, Some((1, VersionedOutput::ErrVersion)))];
        assert!(!ok(&h), "a put at version 0 of a key that does not exist takes effect");
    }

    #[test]
    fn a_get_must_see_the_value_and_the_version() {
        let h = vec![put(0, "a", 0, 0, Some((1, VersionedOutput::Ok))), get(1, 2, 3, value("a", 2))];
        assert!(!ok(&h), "right value, wrong version");
        let h = vec![put(0, "a", 0, 0, Some((1, VersionedOutput::Ok))), get(1, 2, 3, value("b", 1))];
        assert!(!ok(&h), "right version, wrong value");
    }

    #[test]
    fn a_maybe_put_may_take_effect_late_or_never() {
        // Pending (ErrMaybe): seen by a get that starts after the clerk gave up…
        let late = vec![put(0, "a", 0, 0, None), get(1, 10, 11, value("a", 1))];
        assert!(ok(&late));
        // …or never seen at all.
        let never = vec![put(0, "a", 0, 0, None), get(1, 10, 11, VersionedOutput::ErrNoKey)];
        assert!(ok(&never));
        // But it cannot take effect twice.
        let twice =
            vec![put(0, "a", 0, 0, None), get(1, 10, 11, value("a", 1)), get(1, 12, 13, value("a", 2))];
        assert!(!ok(&twice));
    }

    #[test]
    fn pending_puts_the_version_has_passed_do_not_blow_up_an_illegal_search() {
        // Two clerks race on each version; the loser's put is lost (ErrMaybe,
        // pending). A last get reads a value no one wrote: illegal, and found
        // so at once, not after trying every place of every lost put.
        let mut h = Vec::new();
        for v in 0..30u64 {
            h.push(put(v as usize, &format!("x{v}"), v, v * 10, Some((v * 10 + 5, VersionedOutput::Ok))));
            h.push(put(100 + v as usize, "lost", v, v * 10, None));
        }
        h.push(get(999, 400, 401, value("never written", 30)));
        let timeout = Some(std::time::Duration::from_secs(2));
        assert!(matches!(check_operations(&VersionedKvModel, &h, timeout), CheckResult::Illegal(_)));
    }

    #[test]
    fn the_version_bound_prunes_only_what_cannot_complete() {
        // Many concurrent failed and successful puts, a chain of versions:
        // legal, and found (not Unknown) with a short timeout.
        let mut h = Vec::new();
        for v in 0..40u64 {
            h.push(put(v as usize, &format!("x{v}"), v, v * 2, Some((v * 2 + 5, VersionedOutput::Ok))));
            h.push(put(100 + v as usize, "lost", v, v * 2, Some((v * 2 + 5, VersionedOutput::ErrVersion))));
        }
        h.push(get(999, 200, 201, value("x39", 40)));
        let timeout = Some(std::time::Duration::from_secs(5));
        assert!(matches!(check_operations(&VersionedKvModel, &h, timeout), CheckResult::Ok));
    }
}
