//! A compare-and-set register, as in the Jepsen etcd histories.

use crate::model::Model;

/// What a register client asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterInput {
    /// Read the value.
    Read,
    /// Set the value.
    Write(i64),
    /// Set the value to `to` if it is `from`.
    Cas {
        /// The value expected.
        from: i64,
        /// The value to set.
        to: i64,
    },
}

/// What a register client is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterOutput {
    /// A read's value (`None`: the register was never written).
    Read(Option<i64>),
    /// A write took effect.
    Written,
    /// A compare-and-set found `from` and wrote `to`.
    CasOk,
    /// A compare-and-set did not find `from` and changed nothing.
    CasFailed,
    /// The operation definitely did not take effect.
    Failed,
}

/// A register holding an integer, initially absent (`None`).
///
/// An operation with an unknown outcome may take effect with the effect it
/// would have at that point: a write writes; a compare-and-set writes `to`
/// only if the register holds `from`; a read changes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type State = Option<i64>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<i64> {
        None
    }

    #[inline]
    fn step(
        &self,
        &state: &Option<i64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<i64>> {
        use RegisterInput as I;
        use RegisterOutput as O;
        match (*input, output) {
            (I::Read, Some(&O::Read(value))) => (value == state).then_some(state),
            (I::Read, None | Some(O::Failed)) => Some(state),
            (I::Write(value), None | Some(O::Written)) => Some(Some(value)),
            (I::Cas { from, to }, Some(O::CasOk)) => (state == Some(from)).then_some(Some(to)),
            (I::Cas { from, .. }, Some(O::CasFailed)) => (state != Some(from)).then_some(state),
            (I::Cas { from, to }, None) => Some(if state == Some(from) { Some(to) } else { state }),
            (I::Write(_) | I::Cas { .. }, Some(O::Failed)) => Some(state),
            // An answer of the wrong kind cannot be explained by any state.
            _ => None,
        }
    }

    fn is_read_only(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> bool {
        matches!(
            (input, output),
            (RegisterInput::Read, _) | (_, Some(RegisterOutput::CasFailed | RegisterOutput::Failed))
        )
    }

    fn describe_operation(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        let value = |v: Option<i64>| v.map_or("nil".to_string(), |v| v.to_string());
        let input = match *input {
            RegisterInput::Read => "read()".to_string(),
            RegisterInput::Write(v) => format!("write({v})"),
            RegisterInput::Cas { from, to } => format!("cas({from}, {to})"),
        };
        let output = match output {
            None => "?".to_string(),
            Some(RegisterOutput::Read(v)) => value(*v),
            Some(RegisterOutput::Written | RegisterOutput::CasOk) => "ok".to_string(),
            Some(RegisterOutput::CasFailed) => "fail".to_string(),
            Some(RegisterOutput::Failed) => "not applied".to_string(),
        };
        format!("{input} -> {output}")
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        state.map_or("nil".to_string(), |v| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_with_unknown_outcome_applies_only_on_match() {
        let cas = RegisterInput::Cas { from: 1, to: 2 };
        assert_eq!(RegisterModel.step(&Some(1), &cas, None), Some(Some(2)));
        assert_eq!(RegisterModel.step(&Some(3), &cas, None), Some(Some(3)));
        assert_eq!(RegisterModel.step(&None, &cas, Some(&RegisterOutput::CasOk)), None);
        assert_eq!(RegisterModel.step(&None, &cas, Some(&RegisterOutput::CasFailed)), Some(None));
    }
}
