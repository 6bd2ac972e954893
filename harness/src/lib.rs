//! The raftlab test harness: starts `node` processes behind a
//! fault-injecting proxy and gives tests the vocabulary of 6.824's
//! config.go — [`Cluster::one`], [`Cluster::check_one_leader`],
//! [`Cluster::disconnect`], [`Cluster::crash`] and the rest — with checks
//! that run on every event ([`invariants`]). Beyond labrpc's faults, a few
//! one-way ones ([`Cluster::block_calls`], [`Cluster::mute`],
//! [`Cluster::delay_replies`], [`KvCluster::drop_client_replies`],
//! [`KvCluster::block_client_calls`]) let a scripted test force one
//! interleaving.
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
pub mod load;
pub mod net;
pub mod node_conn;
pub mod nodes;
pub mod process;
pub mod proof;
pub mod sandbox;
pub mod seed;
pub mod session;
pub mod text;
pub mod threads;
pub mod timeline;
pub mod untrusted;

pub use cluster::{Cluster, ELECTION_TIMEOUT, Options};
pub use control::platform;
pub use failure::{Failure, TestResult};
pub use kv::{Clerk, KvCluster, Options as KvOptions};
pub use session::{Session, wait_until};

/// A command from a number, as the tests write them: its decimal digits.
pub fn cmd(n: impl std::fmt::Display) -> Vec<u8> {
    n.to_string().into_bytes()
}
