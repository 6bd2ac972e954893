//! The models shipped with the checker.

pub mod kv;
pub mod register;
pub mod versioned;
