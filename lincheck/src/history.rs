//! Histories: operations with call and return times, and the ordered
//! call/return events they are built from.

/// One client operation with its real-time interval.
///
/// Intervals are closed: an operation returning at `t` and one called at `t`
/// are concurrent (on equal times a call precedes a return).
///
/// Invariant: `ret`, when known, is not before `call`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client (process) that issued the operation.
    pub client: usize,
    /// What the client asked for.
    pub input: I,
    /// When the client called.
    pub call: u64,
    /// What the client was told, or `None` if the outcome is unknown.
    pub output: Option<O>,
    /// When the client was answered, or `None` if the operation is pending:
    /// it may take effect at any moment after `call`, up to the end of the
    /// history and beyond, or never.
    pub ret: Option<u64>,
}

impl<I, O> Operation<I, O> {
    /// Whether the operation never returned (it stays open to the end).
    pub fn is_pending(&self) -> bool {
        self.ret.is_none()
    }
}

/// One line of an ordered history: a client calls, or is answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<I, O> {
    /// The client the event belongs to. A client has at most one open call.
    pub client: usize,
    /// What happened.
    pub kind: EventKind<I, O>,
}

/// What an [`Event`] records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind<I, O> {
    /// The client called with this input.
    Call(I),
    /// The client's open call returned here, with this output (`None`: it
    /// returned without telling what happened, e.g. a read that timed out).
    Return(Option<O>),
    /// The client gave up on its open call: it neither knows whether nor
    /// when it took effect. The operation stays pending to the end of the
    /// history, and the client may call again.
    Indeterminate,
}

/// An ordered history that does not pair up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// A return (or give-up) for a client with no open call.
    #[error("event {event}: client {client} returns but has no open call")]
    UnmatchedReturn {
        /// Index of the event in the history.
        event: usize,
        /// The client.
        client: usize,
    },
    /// A call from a client whose previous call is still open.
    #[error("event {event}: client {client} calls again while its call at event {open} is open")]
    AlreadyOpen {
        /// Index of the second call.
        event: usize,
        /// The client.
        client: usize,
        /// Index of the call that is still open.
        open: usize,
    },
}

impl HistoryError {
    /// Index of the offending event.
    pub fn event(&self) -> usize {
        match self {
            HistoryError::UnmatchedReturn { event, .. } | HistoryError::AlreadyOpen { event, .. } => *event,
        }
    }
}

/// Pairs calls with returns, using each event's position as its time.
///
/// Calls never answered, and calls given up on ([`EventKind::Indeterminate`]),
/// become pending operations with unknown output. Operations come out in
/// order of their calls.
///
/// # Errors
///
/// A return from a client with no open call, or a second call from a
/// client with an open one.
pub fn operations_from_events<I, O>(events: Vec<Event<I, O>>) -> Result<Vec<Operation<I, O>>, HistoryError> {
    let mut ops: Vec<Operation<I, O>> = Vec::new();
    // Per client: (index of its open operation, index of the call event).
    let mut open: Vec<Option<(usize, usize)>> = Vec::new();
    for (event, Event { client, kind }) in events.into_iter().enumerate() {
        if open.len() <= client {
            open.resize(client + 1, None);
        }
        let time = event as u64;
        match kind {
            EventKind::Call(input) => {
                if let Some((_, call_event)) = open[client] {
                    return Err(HistoryError::AlreadyOpen { event, client, open: call_event });
                }
                open[client] = Some((ops.len(), event));
                ops.push(Operation { client, input, call: time, output: None, ret: None });
            }
            EventKind::Return(output) => {
                let (op, _) = open[client].take().ok_or(HistoryError::UnmatchedReturn { event, client })?;
                ops[op].output = output;
                ops[op].ret = Some(time);
            }
            EventKind::Indeterminate => {
                open[client].take().ok_or(HistoryError::UnmatchedReturn { event, client })?;
            }
        }
    }
    Ok(ops)
}
