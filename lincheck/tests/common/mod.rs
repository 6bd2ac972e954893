//! The small vocabulary the tests are written in.

#![allow(dead_code)]

use std::path::PathBuf;

use lincheck::{KvInput, KvOp, KvOutput, Operation, RegisterInput, RegisterOutput};

/// A key/value operation in a test history.
pub type KvOperation = Operation<KvInput, KvOutput>;
/// A register operation in a test history.
pub type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

/// The public histories, read where they are shared (never copied here).
///
/// # Panics
///
/// If the folder is missing, saying where it was expected.
pub fn porcupine_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/porcupine");
    assert!(
        dir.join("EXPECTED.tsv").is_file(),
        "the public histories are missing: expected {}/EXPECTED.tsv (the shared folder beside the repository)",
        dir.display()
    );
    dir
}

/// `client` puts `value` at `key`, called at `call`, answered at `ret`.
pub fn put(client: usize, key: &str, value: &str, call: u64, ret: u64) -> KvOperation {
    kv(client, KvOp::Put, key, value, call, Some(ret), Some(""))
}

/// `client` appends `value` at `key`, called at `call`, answered at `ret`.
pub fn append(client: usize, key: &str, value: &str, call: u64, ret: u64) -> KvOperation {
    kv(client, KvOp::Append, key, value, call, Some(ret), Some(""))
}

/// `client` gets `key` and reads `read`, called at `call`, answered at `ret`.
pub fn get(client: usize, key: &str, read: &str, call: u64, ret: u64) -> KvOperation {
    kv(client, KvOp::Get, key, "", call, Some(ret), Some(read))
}

/// `client` puts `value` at `key` at `call` and never hears back.
pub fn pending_put(client: usize, key: &str, value: &str, call: u64) -> KvOperation {
    kv(client, KvOp::Put, key, value, call, None, None)
}

fn kv(
    client: usize,
    op: KvOp,
    key: &str,
    value: &str,
    call: u64,
    ret: Option<u64>,
    read: Option<&str>,
) -> KvOperation {
    Operation {
        client,
        input: KvInput { op, key: key.to_string(), value: value.to_string() },
        call,
        output: read.map(|v| KvOutput { value: v.to_string() }),
        ret,
    }
}

/// The seed for a randomised test: `LINCHECK_SEED` if set, else `default`.
/// Printed so that a failure can be replayed.
pub fn seed(default: u64) -> u64 {
    let seed = std::env::var("LINCHECK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    println!("seed {seed} (set LINCHECK_SEED to replay)");
    seed
}
