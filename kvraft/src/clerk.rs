//! The Clerk: a client of the key/value service.
//!
//! It sends one request at a time, to the server it last saw leading; on a
//! lost call (any [`labrpc::RpcError`]), [`KvError::WrongLeader`] or
//! [`KvError::Timeout`] it moves to the next server, and it pauses briefly
//! only after a whole round of servers has failed. It never gives up.
//! Requests carry the clerk's random id and a number that grows by one per
//! operation (retries keep theirs), so the servers apply each write once.

use crate::common::{
    self, ClientId, GetArgs, GetReply, KvError, PutAppendArgs, PutAppendReply, PutOrAppend, Seq,
};
use labrpc::Client;
use rand::Rng;
use std::time::Duration;

/// Pause after every server in turn has failed a request: enough not to
/// spin while there is no leader, short against an election (~1 s).
const ROUND_PAUSE: Duration = Duration::from_millis(15);

/// A client of the key/value service. One operation at a time (`&mut self`).
///
/// Sends each request to the server it believes leads; on a lost call or an
/// error reply it tries the next server, pausing briefly only after a whole
/// round of servers failed. It never gives up. Each request carries the
/// Clerk's id and its number (retries keep theirs).
pub struct Clerk {
    servers: Vec<Client>,
    /// This clerk's id, random.
    id: ClientId,
    /// The number of the last request made.
    seq: Seq,
    /// The server that last answered successfully; tried first.
    leader: usize,
}

impl Clerk {
    /// A clerk for the service whose server `i` is reached through
    /// `servers[i]`.
    pub fn new(servers: Vec<Client>) -> Clerk {
        assert!(!servers.is_empty(), "a Clerk needs at least one server");
        let id = labrpc::rng().random();
        tracing::debug!(clerk = id, servers = servers.len(), "clerk created");
        Clerk { servers, id, seq: 0, leader: 0 }
    }

    /// The current value of `key` ("" if it is missing). Keeps trying
    /// forever.
    pub async fn get(&mut self, key: &str) -> String {
        self.seq += 1;
        let args = GetArgs { key: key.to_string(), client: self.id, seq: self.seq };
        self.until_done(common::GET, &args, |reply: GetReply| reply).await
    }

    /// Sets `key` to `value`. Keeps trying forever; takes effect once.
    pub async fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOrAppend::Put).await
    }

    /// Appends `value` to `key`'s value (a Put if `key` is missing). Keeps
    /// trying forever; takes effect once.
    pub async fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOrAppend::Append).await
    }

    async fn put_append(&mut self, key: &str, value: &str, op: PutOrAppend) {
        self.seq += 1;
        let args = PutAppendArgs {
            key: key.to_string(),
            value: value.to_string(),
            op,
            client: self.id,
            seq: self.seq,
        };
        self.until_done(common::PUT_APPEND, &args, |reply: PutAppendReply| reply).await
    }

    /// Calls `method` on one server after another until one completes it.
    async fn until_done<A, R, T>(
        &mut self,
        method: &str,
        args: &A,
        outcome: impl Fn(R) -> Result<T, KvError>,
    ) -> T
    where
        A: serde::Serialize + std::fmt::Debug,
        R: serde::de::DeserializeOwned,
    {
        let n = self.servers.len();
        let mut failures = 0usize;
        loop {
            let server = self.leader;
            let why = match self.servers[server].call::<A, R>(method, args).await {
                Ok(reply) => match outcome(reply) {
                    Ok(value) => return value,
                    Err(e) => format!("{e:?}"),
                },
                Err(e) => e.to_string(),
            };
            tracing::trace!(clerk = self.id, server, ?args, why, "retries");
            self.leader = (server + 1) % n;
            failures += 1;
            if failures.is_multiple_of(n) {
                tokio::time::sleep(ROUND_PAUSE).await;
            }
        }
    }
}
