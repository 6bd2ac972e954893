//! Applies and commits over time, counted per [`BUCKET_MS`] bucket, with
//! the network's RPC rates: what a failing test's `timeline.html` draws as
//! ticks. Counted in memory as events arrive (a few increments under the
//! invariants' lock) and written to `activity.log` when a test keeps its
//! folder.
//!
//! `activity.log` has a header line, then one line per non-zero count:
//!
//! ```text
//! # activity: bucket 0.1 s; seconds what node count
//!   1.200000s apply 0 5
//!   1.200000s commit - 5
//!   1.200000s rpc 2 31
//! ```
//!
//! `apply N k`: node N applied k commands; `commit - k`: k indices were
//! applied for the first time anywhere (committed, as far as the harness can
//! see); `rpc N k`: k requests were delivered to server N.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// The width of a bucket, the same as the network's rate buckets.
pub const BUCKET_MS: u64 = crate::net::stats::RATE_BUCKET_MS;

/// One line of `activity.log`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Commands applied by a node.
    Apply,
    /// Indices applied for the first time anywhere.
    Commit,
    /// Requests delivered to a server.
    Rpc,
}

/// A count in one bucket: (bucket start in seconds, kind, node, count).
pub type Count = (f64, Kind, Option<usize>, u32);

#[derive(Default, Clone)]
struct Bucket {
    applies: Vec<u32>,
    commits: u32,
}

/// The applies and commits of one test.
pub struct Activity {
    zero: u64,
    buckets: Mutex<Vec<Bucket>>,
}

impl Activity {
    /// Counting from `zero`, the test's zero on [`control::clock`].
    pub fn new(zero: u64) -> Activity {
        Activity { zero, buckets: Mutex::default() }
    }

    /// `node` applied a command; `first` if no node had applied its index.
    pub fn applied(&self, node: usize, first: bool) {
        let ms = control::clock::monotonic_ns().saturating_sub(self.zero) / 1_000_000;
        let b = (ms / BUCKET_MS) as usize;
        let mut buckets = self.buckets.lock().expect("activity lock");
        if buckets.len() <= b {
            buckets.resize_with(b + 1, Bucket::default);
        }
        let bucket = &mut buckets[b];
        if bucket.applies.len() <= node {
            bucket.applies.resize(node + 1, 0);
        }
        bucket.applies[node] += 1;
        bucket.commits += u32::from(first);
    }

    /// Every non-zero count, with the network's `rates` (per bucket, per
    /// server, as [`crate::net::Stats::rates`] gives them), in time order.
    pub fn counts(&self, rates: &[Vec<u32>]) -> Vec<Count> {
        let buckets = self.buckets.lock().expect("activity lock");
        let mut out = Vec::new();
        for b in 0..buckets.len().max(rates.len()) {
            let at = (b as u64 * BUCKET_MS) as f64 / 1000.0;
            if let Some(bucket) = buckets.get(b) {
                for (node, &k) in bucket.applies.iter().enumerate().filter(|(_, k)| **k > 0) {
                    out.push((at, Kind::Apply, Some(node), k));
                }
                if bucket.commits > 0 {
                    out.push((at, Kind::Commit, None, bucket.commits));
                }
            }
            for (server, &k) in rates.get(b).into_iter().flatten().enumerate().filter(|(_, k)| **k > 0) {
                out.push((at, Kind::Rpc, Some(server), k));
            }
        }
        out
    }
}

/// Writes `counts` as `activity.log` at `path`.
pub fn write(path: &Path, counts: &[Count]) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "# activity: bucket {} s; seconds what node count", BUCKET_MS as f64 / 1000.0)?;
    for &(at, kind, node, k) in counts {
        let what = match kind {
            Kind::Apply => "apply",
            Kind::Commit => "commit",
            Kind::Rpc => "rpc",
        };
        let node = node.map_or("-".to_string(), |n| n.to_string());
        writeln!(f, "{} {what} {node} {k}", control::clock::stamp(at))?;
    }
    f.flush()
}

/// Reads what [`write`] wrote; lines it cannot read are skipped.
pub fn read(text: &str) -> Vec<Count> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let at = w.next()?.strip_suffix('s')?.parse().ok()?;
            let kind = match w.next()? {
                "apply" => Kind::Apply,
                "commit" => Kind::Commit,
                "rpc" => Kind::Rpc,
                _ => return None,
            };
            let node = w.next()?.parse().ok();
            Some((at, kind, node, w.next()?.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_through_the_file() {
        let a = Activity::new(control::clock::monotonic_ns());
        a.applied(0, true);
        a.applied(1, false);
        a.applied(1, false);
        let rates = vec![vec![0, 7], vec![], vec![3]];
        let counts = a.counts(&rates);
        assert_eq!(
            counts,
            vec![
                (0.0, Kind::Apply, Some(0), 1),
                (0.0, Kind::Apply, Some(1), 2),
                (0.0, Kind::Commit, None, 1),
                (0.0, Kind::Rpc, Some(1), 7),
                (0.2, Kind::Rpc, Some(0), 3),
            ]
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("activity.log");
        write(&path, &counts).unwrap();
        assert_eq!(read(&std::fs::read_to_string(&path).unwrap()), counts);
    }
}
