//! The apply loop: the one task that reads Raft's apply channel and changes
//! the machine.
//!
//! For each committed command it applies the [`Op`] and hands the result to
//! the handler waiting at that index, if any, through a oneshot channel.
//! The handler, not this loop, decides whether the result is its own (same
//! term, same clerk and request number): a different command at its index
//! means its proposal was lost with a leadership change.
//!
//! After each batch of commands it checks the Raft state's size and, past
//! `maxraftstate`, saves a snapshot and lets Raft trim the log. A snapshot
//! from Raft (a restart, or InstallSnapshot from the leader) replaces the
//! machine; handlers waiting at indexes it covers are dropped, which tells
//! them to make their clerk retry.

use crate::Inner;
use crate::common::{ClientId, Op, Seq};
use crate::machine::Machine;
use labrpc::ApplyMsg;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What was applied at an index, as sent to the handler waiting there.
#[derive(Debug)]
pub struct Applied {
    /// The term of the entry.
    pub term: u64,
    /// The clerk of the operation applied.
    pub client: ClientId,
    /// Its request number.
    pub seq: Seq,
    /// The value read (Get) or "" (a write).
    pub value: String,
}

/// A handler waiting for an index.
pub struct Waiter {
    /// The term its proposal was made in (to tell a newer proposal at the
    /// same index from it).
    pub term: u64,
    /// Where to send what was applied there.
    pub tx: oneshot::Sender<Applied>,
}

/// Most messages applied between two snapshot checks. A snapshot costs a
/// durable save of the whole store, so a server that is behind (a restart, a
/// burst of commits) first applies what is already delivered, then saves once
/// at the highest index; the bound keeps the log from growing unchecked
/// meanwhile.
const APPLY_BATCH: usize = 256;

/// Applies everything Raft delivers until the channel closes.
pub async fn apply_loop(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<ApplyMsg>) {
    while let Some(first) = rx.recv().await {
        handle(&inner, first);
        for _ in 1..APPLY_BATCH {
            match rx.try_recv() {
                Ok(msg) => handle(&inner, msg),
                Err(_) => break,
            }
        }
        maybe_snapshot(&inner);
    }
    tracing::info!(server = inner.me, "apply channel closed; the apply loop stops");
}

/// Applies one message from Raft.
fn handle(inner: &Inner, msg: ApplyMsg) {
    match msg {
        ApplyMsg::Command { index, term, command } => apply_command(inner, index, term, &command),
        ApplyMsg::Snapshot { index, term, data } => install_snapshot(inner, index, term, &data),
    }
}

/// Applies one committed command and answers its waiter.
fn apply_command(inner: &Inner, index: u64, term: u64, command: &[u8]) {
    let mut s = inner.lock();
    if index <= s.machine.applied() {
        // Already covered by the snapshot we restored from.
        return;
    }
    let op: Op = match labrpc::codec::decode(command) {
        Ok(op) => op,
        Err(e) => {
            tracing::error!(server = inner.me, index, "skips a log entry that is not a KV operation: {e}");
            s.machine.skip(index);
            return;
        }
    };
    let value = s.machine.apply(index, &op);
    tracing::debug!(server = inner.me, index, term, ?op, "applied");
    if let Some(waiter) = s.waiters.remove(&index) {
        // The handler may have given up already; then nobody listens.
        let _ = waiter.tx.send(Applied { term, client: op.client, seq: op.seq, value });
    }
}

/// Replaces the machine with a snapshot newer than it.
fn install_snapshot(inner: &Inner, index: u64, term: u64, data: &[u8]) {
    let mut s = inner.lock();
    if index <= s.machine.applied() {
        tracing::debug!(server = inner.me, index, applied = s.machine.applied(), "ignores an older snapshot");
        return;
    }
    let machine = Machine::restore(data).unwrap_or_else(|e| {
        panic!("kv server {}: Raft delivered a snapshot it cannot restore (index {index}): {e}", inner.me)
    });
    tracing::info!(server = inner.me, index, term, keys = machine.store().len(), "installs a snapshot");
    s.machine = machine;
    // Whatever those handlers proposed is either in the snapshot or lost;
    // dropping them makes their clerks retry, and the table absorbs repeats.
    s.waiters.retain(|&i, _| i > index);
}

/// Saves a snapshot if the Raft state has reached `maxraftstate`.
fn maybe_snapshot(inner: &Inner) {
    let Some(max) = inner.maxraftstate else { return };
    if inner.persister.raft_state_size() < max {
        return;
    }
    let (index, data) = {
        let s = inner.lock();
        (s.machine.applied(), s.machine.snapshot())
    };
    tracing::debug!(server = inner.me, index, bytes = data.len(), "takes a snapshot");
    // Without our lock: Raft saves durably before returning. Nothing else
    // changes the machine meanwhile (this loop is its only writer).
    inner.raft.snapshot(index, data);
}
