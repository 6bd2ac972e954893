//! The KV cluster's clerk verbs: 6.824's makeClient, connectClient and the
//! operations, each recorded in the history the linearizability check reads,
//! and the one-way faults on a clerk's links.

use super::{CLERK_BASE, CLERK_SOCKETS, Clerk, KvCluster, OP_LIMIT, Op, PendingOp};
use crate::failure::{Failure, TestResult};
use crate::verbs::SessionVerbs;
use control::{KvOp as WireOp, Reply, Request};
use std::sync::atomic::Ordering;
use std::time::Duration;

impl KvCluster {
    /// Creates a clerk that can reach the servers in `to` (links to the others
    /// exist but are cut).
    pub fn make_client(&self, to: &[usize]) -> TestResult<Clerk> {
        let id = self.clerks.fetch_add(1, Ordering::SeqCst) as u32;
        let from = CLERK_BASE + id;
        let mut sockets = Vec::new();
        {
            let _guard = self.session.runtime().enter();
            for j in self.all() {
                let path = self.session.dir().join(CLERK_SOCKETS).join(format!("k{id}-{j}.sock"));
                self.session.net().add_link(from, j, &path).map_err(|e| {
                    self.session.failed(Failure::new(format!("cannot open clerk link {path:?}: {e}")))
                })?;
                sockets.push(path.display().to_string());
            }
        }
        let ck = Clerk(id);
        self.connect_client(ck, to);
        match self
            .host_request(Request::MakeClerk { clerk: id, servers: sockets }, Duration::from_secs(10))?
        {
            Reply::ClerkMade => Ok(ck),
            other => self.session.fail(format!("the clerk host answered MakeClerk with {other:?}")),
        }
    }

    /// Lets clerk `ck` reach the servers in `to` (others stay as they were).
    pub fn connect_client(&self, ck: Clerk, to: &[usize]) {
        for &j in to {
            self.session.net().set_link(CLERK_BASE + ck.0, j, true);
        }
        self.session.record(format!("clerk {} reaches {to:?}", ck.0));
    }

    /// Blocks clerk `ck`'s new calls to every server, until
    /// [`KvCluster::unblock_client_calls`]: each is lost, while calls already
    /// delivered are still answered.
    pub fn block_client_calls(&self, ck: Clerk) {
        self.set_client_calls_blocked(ck, true);
    }

    /// Undoes [`KvCluster::block_client_calls`].
    pub fn unblock_client_calls(&self, ck: Clerk) {
        self.set_client_calls_blocked(ck, false);
    }

    fn set_client_calls_blocked(&self, ck: Clerk, blocked: bool) {
        for j in self.all() {
            self.session.net().set_requests_blocked(CLERK_BASE + ck.0, j, blocked);
        }
        self.session.record(format!(
            "clerk {} calls {}",
            ck.0,
            if blocked { "blocked" } else { "unblocked" }
        ));
    }

    /// Drops every answer to clerk `ck`, until
    /// [`KvCluster::deliver_client_replies`]: its calls are handled, but it
    /// hears of none and keeps retrying.
    pub fn drop_client_replies(&self, ck: Clerk) {
        self.set_client_replies_dropped(ck, true);
    }

    /// Undoes [`KvCluster::drop_client_replies`]: later answers reach the
    /// clerk (those dropped stay lost).
    pub fn deliver_client_replies(&self, ck: Clerk) {
        self.set_client_replies_dropped(ck, false);
    }

    fn set_client_replies_dropped(&self, ck: Clerk, dropped: bool) {
        for j in self.all() {
            self.session.net().set_replies_dropped(CLERK_BASE + ck.0, j, dropped);
        }
        self.session.record(format!(
            "clerk {} replies {}",
            ck.0,
            if dropped { "dropped" } else { "delivered" }
        ));
    }

    fn host_request(&self, body: Request, limit: Duration) -> TestResult<Reply> {
        self.check_invariants()?;
        let conn = self.host.conn.clone();
        match self.session.block_on(conn.request(body, limit)) {
            Ok(reply) => Ok(reply),
            Err(e) => {
                self.check_invariants()?;
                self.session.fail(format!("the clerk host did not answer: {e}"))
            }
        }
    }

    /// Starts an operation on clerk `ck` and returns at once; the call and
    /// its return are recorded in the history with the harness's clock.
    pub fn start_op(&self, ck: Clerk, op: Op, key: &str, value: &str) -> PendingOp {
        let slot = self.history.call(ck.0 as usize, op.into(), key, value);
        let wire = match op {
            Op::Get => WireOp::Get { key: key.into() },
            Op::Put => WireOp::Put { key: key.into(), value: value.into() },
            Op::Append => WireOp::Append { key: key.into(), value: value.into() },
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let (conn, history, ops) =
            (self.host.conn.clone(), self.history.clone(), self.session.ops_counter().clone());
        self.session.runtime().spawn(async move {
            let result = match conn.request(Request::ClerkOp { clerk: ck.0, op: wire }, OP_LIMIT).await {
                Ok(Reply::OpDone { value }) => {
                    history.ret(slot, value.clone());
                    ops.fetch_add(1, Ordering::Relaxed);
                    Ok(value)
                }
                Ok(other) => Err(format!("clerk {} answered {other:?}", ck.0)),
                Err(e) => Err(format!("clerk {} did not finish an operation: {e}", ck.0)),
            };
            let _ = tx.send(result);
        });
        PendingOp { rx }
    }

    fn run_op(&self, ck: Clerk, op: Op, key: &str, value: &str) -> TestResult<String> {
        self.check_invariants()?;
        let pending = self.start_op(ck, op, key, value);
        match pending.wait(OP_LIMIT + Duration::from_secs(1)) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => self
                .session
                .fail(format!("clerk {} did not finish {op:?}({key:?}) within {OP_LIMIT:?}", ck.0)),
            Err(f) => {
                self.check_invariants()?;
                Err(self.session.failed(f))
            }
        }
    }

    /// `ck.Get(key)`, recorded.
    pub fn get(&self, ck: Clerk, key: &str) -> TestResult<String> {
        self.run_op(ck, Op::Get, key, "")
    }

    /// `ck.Put(key, value)`, recorded.
    pub fn put(&self, ck: Clerk, key: &str, value: &str) -> TestResult {
        self.run_op(ck, Op::Put, key, value).map(drop)
    }

    /// `ck.Append(key, value)`, recorded.
    pub fn append(&self, ck: Clerk, key: &str, value: &str) -> TestResult {
        self.run_op(ck, Op::Append, key, value).map(drop)
    }

    /// Gets `key` and fails unless it reads `value` (6.824's `check`).
    pub fn check(&self, ck: Clerk, key: &str, value: &str) -> TestResult {
        let got = self.get(ck, key)?;
        if got != value {
            return self.session.fail(format!("Get({key:?}): expected:\n{value:?}\nreceived:\n{got:?}"));
        }
        Ok(())
    }
}
