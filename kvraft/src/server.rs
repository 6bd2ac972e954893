//! The RPC handlers: propose the operation to Raft, wait (boundedly) for it
//! to be applied at its index, answer.
//!
//! A handler answers [`KvError::WrongLeader`] when this peer does not lead,
//! loses leadership (its term changes) while waiting, or finds another
//! command applied at its index; [`KvError::Timeout`] when nothing is
//! applied there within [`APPLY_WAIT`] (a leader cut off in a minority).
//! Either way the clerk tries another server.

use crate::Inner;
use crate::apply::{Applied, Waiter};
use crate::common::{GetArgs, GetReply, KvError, Op, PutAppendArgs, PutAppendReply};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// The longest a handler waits for its operation to be applied. Well above
/// a commit's round trip on the unreliable network (tens of ms), and well
/// below the 1 s within which a clerk talking only to a minority must not
/// be answered, so it retries several times before the partition heals.
pub const APPLY_WAIT: Duration = Duration::from_millis(700);

/// How often a waiting handler checks that its peer still leads the term it
/// proposed in.
const LEADERSHIP_POLL: Duration = Duration::from_millis(20);

/// "KVServer.Get": reads through the log.
pub async fn get(inner: Arc<Inner>, args: GetArgs) -> GetReply {
    submit(&inner, Op::get(args)).await
}

/// "KVServer.PutAppend": writes through the log, once per clerk request.
pub async fn put_append(inner: Arc<Inner>, args: PutAppendArgs) -> PutAppendReply {
    submit(&inner, Op::put_append(args)).await.map(|_| ())
}

/// Proposes `op` and waits until it is applied; returns its result.
async fn submit(inner: &Inner, op: Op) -> Result<String, KvError> {
    let (client, seq) = (op.client, op.seq);
    let command = labrpc::codec::encode(&op).expect("a KV operation always encodes");
    let (index, term, rx) = {
        let mut s = inner.lock();
        // Under our lock, so the apply loop cannot pass `index` before the
        // waiter is in place.
        let (index, term) = inner.raft.start(command).map_err(|_| KvError::WrongLeader)?;
        let (tx, rx) = oneshot::channel();
        // A stale waiter at this index (an older term) is dropped: its
        // proposal can no longer commit there.
        s.waiters.insert(index, Waiter { term, tx });
        (index, term, rx)
    };
    tracing::debug!(server = inner.me, index, term, client, seq, "proposed");
    let outcome = tokio::select! {
        applied = rx => match applied {
            Ok(Applied { term: t, client: c, seq: q, value }) if (t, c, q) == (term, client, seq) => Ok(value),
            // Another command won the index, or a snapshot covered it.
            _ => Err(KvError::WrongLeader),
        },
        lost = leadership_lost(inner, term) => Err(lost),
    };
    if outcome.is_err() {
        forget(inner, index, term);
        tracing::debug!(server = inner.me, index, term, client, seq, ?outcome, "gives up");
    }
    outcome
}

/// Completes when this peer stops leading `term` (→ WrongLeader) or after
/// [`APPLY_WAIT`] (→ Timeout), whichever comes first.
async fn leadership_lost(inner: &Inner, term: u64) -> KvError {
    let deadline = tokio::time::Instant::now() + APPLY_WAIT;
    loop {
        tokio::time::sleep(LEADERSHIP_POLL).await;
        if inner.raft.state() != (term, true) {
            return KvError::WrongLeader;
        }
        if tokio::time::Instant::now() >= deadline {
            return KvError::Timeout;
        }
    }
}

/// Removes this handler's waiter, if it is still there.
fn forget(inner: &Inner, index: u64, term: u64) {
    let mut s = inner.lock();
    if s.waiters.get(&index).is_some_and(|w| w.term == term) {
        s.waiters.remove(&index);
    }
}
