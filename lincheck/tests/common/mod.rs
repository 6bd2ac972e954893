//! The small vocabulary the tests are written in.

#![allow(dead_code)]

use std::path::PathBuf;

use lincheck::{KvInput, KvOp, KvOutput, Model, Operation, OperationOf, RegisterInput, RegisterOutput};

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

/// Whether some order of all of `history` respects real time and `model`,
/// from its initial state: every order tried, no memoisation, no pruning
/// (the oracle the checker is compared with, on small histories).
pub fn brute_force<M: Model>(model: &M, history: &[OperationOf<M>]) -> bool {
    fn search<M: Model>(
        model: &M,
        history: &[OperationOf<M>],
        remaining: &mut Vec<usize>,
        state: M::State,
    ) -> bool {
        if remaining.is_empty() {
            return true;
        }
        for k in 0..remaining.len() {
            let x = remaining[k];
            // x may go first unless another remaining operation returned before x was called.
            let blocked = remaining.iter().any(|&y| history[y].ret.is_some_and(|r| r < history[x].call));
            let Some(next) = (!blocked)
                .then(|| model.step(&state, &history[x].input, history[x].output.as_ref()))
                .flatten()
            else {
                continue;
            };
            remaining.remove(k);
            let found = search(model, history, remaining, next);
            remaining.insert(k, x);
            if found {
                return true;
            }
        }
        false
    }
    search(model, history, &mut (0..history.len()).collect(), model.init())
}
