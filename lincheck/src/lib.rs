//! A linearizability checker for the lab's histories, with an HTML view of
//! violations.
//!
//! # Cheat-sheet
//!
//! * A [`Model`] is the sequential specification: [`Model::init`],
//!   [`Model::step`], [`Model::partition`] into independent parts, and
//!   descriptions for the view. Shipped: [`KvModel`] (the lab's get/put/append
//!   service, one register per key), [`VersionedKvModel`] (the course's
//!   2025+ versioned get/put, a put that answered `ErrMaybe` pending) and
//!   [`RegisterModel`] (a compare-and-set register, as in the Jepsen etcd
//!   histories).
//! * A history is a slice of [`Operation`]s (call and return times, closed
//!   intervals; `ret: None` = pending to the end, `output: None` = outcome
//!   unknown), or a list of ordered [`Event`]s turned into operations by
//!   [`operations_from_events`].
//! * [`check_operations`] answers [`CheckResult::Ok`], [`CheckResult::Illegal`]
//!   (with the longest partial linearizations) or [`CheckResult::Unknown`]
//!   (out of time — never a pass).
//! * [`analyze`] checks every part and [`write_html`] draws the result as one
//!   self-contained HTML file.
//! * [`parse`] reads the two public formats, naming file and line on errors.
//!
//! The search is Wing & Gong's, with Lowe's memoisation of (set of
//! linearized operations, state), one part per thread.
//!
//! # Example
//!
//! ```
//! use lincheck::{CheckResult, KvInput, KvModel, KvOp, KvOutput, Operation, check_operations};
//!
//! let put = |value: &str| KvInput { op: KvOp::Put, key: "k".into(), value: value.into() };
//! let get = KvInput { op: KvOp::Get, key: "k".into(), value: String::new() };
//! let read = |value: &str| Some(KvOutput { value: value.into() });
//! let history = vec![
//!     // Client 0 writes "a"; client 1 reads "" concurrently: fine either way.
//!     Operation { client: 0, input: put("a"), call: 0, output: read(""), ret: Some(10) },
//!     Operation { client: 1, input: get.clone(), call: 5, output: read(""), ret: Some(8) },
//!     // After both, client 1 reads "" again: the write is lost.
//!     Operation { client: 1, input: get, call: 20, output: read(""), ret: Some(30) },
//! ];
//! assert!(matches!(check_operations(&KvModel, &history, None), CheckResult::Illegal(_)));
//! ```

#![deny(missing_docs)]

mod bitset;
mod cache;
mod check;
mod history;
mod model;
pub mod models;
pub mod parse;
mod result;
mod search;
mod timeline;
mod view;

pub use check::{analyze, check_events, check_operations};
pub use history::{Event, EventKind, HistoryError, Operation, operations_from_events};
pub use model::{Model, OperationOf, Prune};
pub use models::kv::{KvInput, KvModel, KvOp, KvOutput};
pub use models::register::{RegisterInput, RegisterModel, RegisterOutput};
pub use models::versioned::{VersionedInput, VersionedKvModel, VersionedOp, VersionedOutput, VersionedState};
pub use result::{Analysis, CheckResult, Illegal, PartReport, Verdict};
pub use search::MAX_LONGEST;
pub use view::{render_html, write_html};
