//! The applier: the one task that sends on the apply channel.
//!
//! Being the only sender is what keeps delivery in order: it takes a batch
//! under the lock (advancing `last_applied`), then sends it with the lock
//! released, so the service may call back into Raft (e.g. `snapshot`) from
//! its apply loop.

use crate::Inner;
use crate::state::State;
use labrpc::ApplyMsg;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Most entries taken per batch, to keep the lock short.
const MAX_BATCH: u64 = 256;

/// Delivers the snapshot and committed entries, in order, until the service
/// drops its receiver.
pub async fn applier(inner: Arc<Inner>, tx: UnboundedSender<ApplyMsg>) {
    loop {
        let batch = next_batch(&mut inner.lock());
        if batch.is_empty() {
            inner.apply_wake.notified().await;
            continue;
        }
        for msg in batch {
            if tx.send(msg).is_err() {
                tracing::info!(peer = inner.me, "apply channel closed; the applier stops");
                return;
            }
        }
    }
}

/// What to deliver next: the pending snapshot alone, else the committed
/// entries after `last_applied` (at most [`MAX_BATCH`]). Marks them applied.
///
/// Never delivers an entry twice or out of order: a snapshot moves
/// `last_applied` to its index when it is installed (always forwards, see
/// snapshot.rs), and entries are taken strictly after `last_applied`.
pub fn next_batch(s: &mut State) -> Vec<ApplyMsg> {
    if s.snapshot_unapplied {
        s.snapshot_unapplied = false;
        tracing::debug!(peer = s.me, index = s.log.snapshot_index(), "applies a snapshot");
        return vec![ApplyMsg::Snapshot {
            index: s.log.snapshot_index(),
            term: s.log.snapshot_term(),
            data: s.snapshot.to_vec(),
        }];
    }
    let last = s.commit_index.min(s.last_applied + MAX_BATCH);
    let batch: Vec<_> = (s.last_applied + 1..=last)
        .map(|index| {
            let entry = s.log.entry(index).expect("committed entries after last_applied are in the log");
            ApplyMsg::Command { index, term: entry.term, command: entry.command.clone() }
        })
        .collect();
    s.last_applied = last.max(s.last_applied);
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Log;

    fn indexes(batch: &[ApplyMsg]) -> Vec<(char, u64)> {
        batch
            .iter()
            .map(|m| match m {
                ApplyMsg::Command { index, .. } => ('c', *index),
                ApplyMsg::Snapshot { index, .. } => ('s', *index),
            })
            .collect()
    }

    #[test]
    fn a_restart_delivers_the_snapshot_first_then_only_later_entries() {
        let mut log = Log::from_terms(&[1, 1, 1, 2, 2]);
        log.compact_through(3, 1);
        let mut s = State::restored(0, 3, 2, None, log, b"snap".to_vec());
        assert_eq!((s.commit_index, s.last_applied), (3, 3));
        assert_eq!(indexes(&next_batch(&mut s)), vec![('s', 3)]);
        assert!(next_batch(&mut s).is_empty(), "nothing committed after the snapshot yet");
        s.commit_index = 5;
        assert_eq!(indexes(&next_batch(&mut s)), vec![('c', 4), ('c', 5)]);
        assert!(next_batch(&mut s).is_empty(), "never re-applied");
    }
}
