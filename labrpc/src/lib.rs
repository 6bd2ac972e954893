//! # labrpc — what your Raft and KV code links against
//!
//! This crate is the lab's contract: the RPC client and server your peers
//! talk through, the [`Persister`] that holds your durable state, and the
//! [`ApplyMsg`] you send to the service. Its docs are the handout for the API.
//!
//! ## Cheat-sheet
//!
//! * Each peer runs in its own `node` process. Your `Raft::new` receives
//!   `peers: Vec<Client>` (`peers[i]` calls peer `i`; `peers[me]` is yourself),
//!   `me`, an `Arc<Persister>` and an apply channel.
//! * `client.call::<Args, Reply>("Raft.RequestVote", &args).await` sends a
//!   request through the test network. It returns `Err` when the network lost
//!   the request or the reply (6.824's `Call` returning false): the handler
//!   may or may not have run. Calls may take long to fail (up to 7 s in the
//!   Raft tests), so never hold a lock across `.await` on a call, and run
//!   calls to different peers concurrently (`tokio::spawn`).
//! * `server.register("Raft.AppendEntries", move |args: Args| async move { … })`
//!   makes a handler callable by name. Argument and reply types are your own
//!   `serde` structs.
//! * [`Persister::save`] is durable when it returns. Save before you reply or
//!   act on a change to persistent state, and once per batch, not per entry.
//! * Send `ApplyMsg`s in index order, without holding a lock while sending.
//!
//! ## The network
//! Calls go through a proxy run by the tester, which may delay, drop and
//! reorder them, cut peers off, and crash and restart whole processes. A
//! restarted peer is a new process on the same data directory: only what you
//! saved with the [`Persister`] survives.
//!
//! ## Example
//!
//! ```
//! use labrpc::{Client, Server};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct EchoArgs { text: String }
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct EchoReply { text: String }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("echo.sock");
//! let server = Server::new();
//! server.register("Echo.Say", |args: EchoArgs| async move { EchoReply { text: args.text } });
//! tokio::spawn(server.serve(tokio::net::UnixListener::bind(&path).unwrap()));
//!
//! let client = Client::new(&path);
//! let reply: EchoReply = client.call("Echo.Say", &EchoArgs { text: "hi".into() }).await.unwrap();
//! assert_eq!(reply, EchoReply { text: "hi".into() });
//! // An unknown method is an error, not a crash.
//! assert!(client.call::<_, EchoReply>("Echo.Shout", &EchoArgs { text: "x".into() }).await.is_err());
//! # }
//! ```
#![deny(missing_docs)]

mod apply;
mod client;
pub mod codec;
pub mod persister;
pub mod random;
mod server;
pub mod sink;
pub mod wire;

pub use apply::{ApplyMsg, NotLeader};
pub use client::{Client, DEFAULT_DEADLINE, RpcError};
pub use persister::Persister;
pub use random::rng;
pub use server::Server;
