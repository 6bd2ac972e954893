//! The raftlab test harness: starts `node` processes behind a
//! fault-injecting proxy and gives tests the vocabulary of 6.824's
//! config.go — [`Cluster::one`], [`Cluster::check_one_leader`],
//! [`Cluster::disconnect`], [`Cluster::crash`] and the rest — with checks
//! that run on every event ([`invariants`]). Beyond labrpc's faults,
//! one-way ones over sets of peers, in pairs that undo each other
//! ([`SessionVerbs::partition_oneway`] / [`SessionVerbs::repair_oneway`],
//! [`SessionVerbs::mute`] / [`SessionVerbs::unmute`],
//! [`SessionVerbs::hold_calls`], [`SessionVerbs::hold_replies`],
//! [`SessionVerbs::delay_replies`], [`KvCluster::drop_client_replies`],
//! [`KvCluster::block_client_calls`]), let a scripted test force one
//! interleaving.
//!
//! Each cluster type owns its test's [`Session`] and adds its vocabulary on
//! top; the verbs they share are [`SessionVerbs`], which a test imports.
//!
//! The harness never links student code: students' crates run only inside
//! node processes.
#![deny(missing_docs)]

pub mod activity;
pub mod artifacts;
pub mod cluster;
pub mod dir;
pub mod failure;
pub mod invariants;
pub mod kv;
pub mod net;
pub mod node_conn;
pub mod nodes;
pub mod process;
pub mod seed;
pub mod session;
pub mod threads;
pub mod timeline;
pub mod verbs;

pub use cluster::{Cluster, ELECTION_TIMEOUT, Options};
pub use control::platform;
pub use failure::{Failure, TestResult};
pub use kv::{Clerk, KvCluster, Options as KvOptions};
pub use session::{Session, wait_until};
pub use verbs::SessionVerbs;

/// A command from a number, as the tests write them: its decimal digits.
pub fn cmd(n: impl std::fmt::Display) -> Vec<u8> {
    n.to_string().into_bytes()
}
