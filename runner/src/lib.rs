//! Running raftlab's tests as processes, and everything that takes: the
//! trusted side's half of the trust boundary (DESIGN.md, "the trust
//! boundary"). `labs` (repeat mode, `--jobs`), the grader and its
//! self-check run tests through it; the harness starts its nodes in its
//! sandbox and reads what they wrote through it.
//!
//! * [`test_run`]: the one way a test runs as a process of its own —
//!   `labs <id> --exact` with its seed, artifact folder, time limit and,
//!   when graded, the secret its pass is proven with.
//! * [`process`]: running any command in its own process group, with a
//!   time limit, capped [`capture`] of its output, limits, a private `/tmp`
//!   ([`isolation`]) and nothing left behind ([`reaper`]).
//! * [`proc_tree`]: a process's descendants, their CPU time, zombies and
//!   environments, from `/proc` (the `procfs` crate; Linux only).
//! * [`load`]: how many runs go at once, by measured load.
//! * [`sandbox`], [`isolation`]: bubblewrap for untrusted processes, and
//!   deciding whether a grading can use it.
//! * [`proof`]: the tester's unforgeable word that a run passed.
//! * [`untrusted`], [`manifest`], [`text`]: reading files the trusted side
//!   did not write, and showing hostile text safely.
#![deny(missing_docs)]

pub mod capture;
pub mod isolation;
pub mod load;
pub mod manifest;
pub mod proc_tree;
pub mod process;
pub mod proof;
pub mod reaper;
pub mod sandbox;
pub mod test_run;
pub mod text;
pub mod untrusted;
