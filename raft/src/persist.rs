//! The persisted Raft state: a versioned encoding, and batched durable saves.
//!
//! Layout of the bytes given to [`labrpc::Persister::save`]:
//!
//! ```text
//! "RAFT" | format version u8 | postcard(PersistentState)
//! ```
//!
//! Batching: every change to persistent state bumps `State::version`. A save
//! takes `Inner::persist_lock`, encodes the state as it is at that moment and
//! records which version it covers; a caller that needs version `v` durable
//! returns at once if a save covering `v` already completed. So concurrent
//! handlers and a stream of `start` calls share saves instead of paying one
//! fsync each.

use crate::Inner;
use crate::commit;
use crate::log::{Entry, Log};
use crate::state::State;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::Arc;

/// First bytes of every persisted Raft state.
const MAGIC: &[u8; 4] = b"RAFT";
/// Version of [`PersistentState`]'s encoding. Bump it when the struct changes.
pub const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1;

/// What survives a crash (Figure 2's persistent state plus the snapshot's
/// position; the snapshot bytes are saved beside it by the Persister).
#[derive(Serialize, Deserialize)]
struct PersistentState<'a> {
    term: u64,
    voted_for: Option<u64>,
    snapshot_index: u64,
    snapshot_term: u64,
    entries: Cow<'a, [Entry]>,
}

/// The state restored by [`decode`].
#[derive(Debug, PartialEq, Eq)]
pub struct Restored {
    /// The current term.
    pub term: u64,
    /// The vote cast in `term`.
    pub voted_for: Option<usize>,
    /// The log, with its snapshot offset.
    pub log: Log,
}

/// Why persisted bytes cannot be trusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PersistError {
    /// Shorter than the header.
    #[error("truncated: {len} bytes, shorter than the {HEADER_LEN}-byte header")]
    Truncated {
        /// Bytes found.
        len: usize,
    },
    /// Does not start with the magic bytes.
    #[error("starts with {found:?}, not the magic \"RAFT\": not a Raft state")]
    BadMagic {
        /// The first bytes found.
        found: Vec<u8>,
    },
    /// Written by another version of this crate.
    #[error("format version {found}, but this build reads version {FORMAT_VERSION}")]
    UnknownVersion {
        /// The version byte found.
        found: u8,
    },
    /// The body does not decode (truncated or corrupt).
    #[error("corrupt or truncated body: {0}")]
    Body(String),
    /// Bytes follow the body.
    #[error("{extra} unexpected bytes after the body")]
    Trailing {
        /// How many.
        extra: usize,
    },
    /// The body decodes but breaks an invariant.
    #[error("inconsistent state: {0}")]
    Invalid(String),
}

/// Encodes the persistent part of `s`.
pub fn encode(s: &State) -> Vec<u8> {
    let body = PersistentState {
        term: s.term,
        voted_for: s.voted_for.map(|v| v as u64),
        snapshot_index: s.log.snapshot_index(),
        snapshot_term: s.log.snapshot_term(),
        entries: Cow::Borrowed(s.log.entries()),
    };
    let mut bytes = Vec::with_capacity(HEADER_LEN + 16 + s.log.entries().len() * 8);
    bytes.extend_from_slice(MAGIC);
    bytes.push(FORMAT_VERSION);
    postcard::to_extend(&body, bytes).expect("encoding into a Vec cannot fail")
}

/// Decodes what [`encode`] wrote, for a cluster of `n` peers. Empty bytes
/// (a first start) give the initial state.
///
/// # Errors
/// A [`PersistError`] naming what is wrong.
pub fn decode(bytes: &[u8], n: usize) -> Result<Restored, PersistError> {
    if bytes.is_empty() {
        return Ok(Restored { term: 0, voted_for: None, log: Log::new() });
    }
    if bytes.len() < HEADER_LEN {
        return Err(PersistError::Truncated { len: bytes.len() });
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err(PersistError::BadMagic { found: bytes[..MAGIC.len()].to_vec() });
    }
    if bytes[MAGIC.len()] != FORMAT_VERSION {
        return Err(PersistError::UnknownVersion { found: bytes[MAGIC.len()] });
    }
    let (body, rest): (PersistentState, _) =
        postcard::take_from_bytes(&bytes[HEADER_LEN..]).map_err(|e| PersistError::Body(e.to_string()))?;
    if !rest.is_empty() {
        return Err(PersistError::Trailing { extra: rest.len() });
    }
    let voted_for = match body.voted_for {
        Some(v) if v >= n as u64 => {
            return Err(PersistError::Invalid(format!("voted for peer {v}, but there are {n} peers")));
        }
        v => v.map(|v| v as usize),
    };
    let log = Log::from_parts(body.snapshot_index, body.snapshot_term, body.entries.into_owned());
    log.check().map_err(PersistError::Invalid)?;
    if log.last_term() > body.term {
        return Err(PersistError::Invalid(format!(
            "log holds term {} after term {}",
            log.last_term(),
            body.term
        )));
    }
    Ok(Restored { term: body.term, voted_for, log })
}

/// Makes every change up to `version` durable (no-op if a save already did),
/// on a blocking thread. Call before replying or acting on those changes.
pub async fn persist(inner: &Arc<Inner>, version: u64) {
    if inner.lock().persisted_version >= version {
        return;
    }
    let inner = inner.clone();
    tokio::task::spawn_blocking(move || save_through(&inner, version)).await.expect("a Raft save panicked");
}

/// Saves the state, and the snapshot if it changed, in one durable write,
/// unless a completed save already covers `version`. Blocks; a leader then
/// counts the entries it has now persisted towards commit ([`commit`]).
pub fn save_through(inner: &Inner, version: u64) {
    let _one_save_at_a_time = inner.persist_lock.lock().expect("persist lock poisoned");
    let (bytes, snapshot, covers, durable) = {
        let mut s = inner.lock();
        if s.persisted_version >= version {
            return;
        }
        let snapshot = std::mem::take(&mut s.snapshot_dirty).then(|| s.snapshot.clone());
        (encode(&s), snapshot, s.version, (s.term, s.log.last_index()))
    };
    inner.persister.save(&bytes, snapshot.as_ref().map(|data| data.as_slice()));
    let mut s = inner.lock();
    s.persisted_version = s.persisted_version.max(covers);
    s.durable = durable;
    commit::commit(inner, &mut s);
}

/// Saves whatever changed whenever woken (by `start`, or a term learnt from
/// a reply), so the leader's own copy of new entries becomes durable.
pub async fn persister_task(inner: Arc<Inner>) {
    loop {
        inner.persist_wake.notified().await;
        let version = inner.lock().version;
        persist(&inner, version).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with(log: Log) -> State {
        let mut s = State::restored(1, 3, 7, Some(2), log, Vec::new());
        s.term = 7;
        s
    }

    #[test]
    fn encoding_round_trips() {
        let mut log = Log::from_terms(&[1, 1, 3, 5, 7]);
        log.compact_through(2, 1);
        let bytes = encode(&state_with(log.clone()));
        assert_eq!(&bytes[..5], b"RAFT\x01");
        let restored = decode(&bytes, 3).unwrap();
        assert_eq!(restored, Restored { term: 7, voted_for: Some(2), log });
    }

    #[test]
    fn empty_bytes_are_a_first_start() {
        assert_eq!(decode(&[], 3).unwrap(), Restored { term: 0, voted_for: None, log: Log::new() });
    }

    #[test]
    fn corrupt_states_are_errors_that_name_the_problem() {
        let bytes = encode(&state_with(Log::from_terms(&[1, 2, 3])));
        let err = decode(&bytes[..3], 3).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let err = decode(&bytes[..bytes.len() - 2], 3).unwrap_err();
        assert!(matches!(err, PersistError::Body(_)), "{err}");
        let mut other = bytes.clone();
        other[4] = 9;
        assert_eq!(decode(&other, 3).unwrap_err(), PersistError::UnknownVersion { found: 9 });
        other[0] = b'X';
        assert!(matches!(decode(&other, 3).unwrap_err(), PersistError::BadMagic { .. }));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer, 3).unwrap_err(), PersistError::Trailing { extra: 1 });
        let err = decode(&bytes, 2).unwrap_err();
        assert!(err.to_string().contains("voted for peer 2"), "{err}");
    }

    #[test]
    fn a_log_newer_than_the_term_is_rejected() {
        let mut s = state_with(Log::from_terms(&[1, 9]));
        s.term = 3;
        let err = decode(&encode(&s), 3).unwrap_err();
        assert!(err.to_string().contains("term 9 after term 3"), "{err}");
    }
}
