//! Times the check of each public history (parsing excluded): warm, the
//! median of many repeats, beside the Go reference checker's time where one
//! was measured. Run with `cargo bench -p lincheck --bench histories`
//! (or `cargo run --release -p lincheck --example bench_histories`);
//! an argument or `LINCHECK_HISTORIES` names another folder laid out the same
//! way (`jepsen/*.log`, `kv/*.txt`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lincheck::parse::{read_etcd_file, read_kv_file};
use lincheck::{KvModel, Model, Operation, RegisterModel, Verdict, check_operations};

/// Time spent repeating each file's check, about.
const BUDGET_PER_FILE: Duration = Duration::from_millis(300);
/// Fewest and most repeats per file.
const MIN_REPEATS: usize = 11;
const MAX_REPEATS: usize = 2001;

/// The Go reference checker (porcupine v1.3.0) on the project's 2-core
/// machines, in ms, as given in the histories' FORMAT.md.
const GO_REFERENCE_MS: &[(&str, f64)] = &[
    ("etcd_002.log", 300.0),
    ("etcd_007.log", 220.0),
    ("etcd_040.log", 26.0),
    ("c01-ok.txt", 0.1),
    ("c01-bad.txt", 0.1),
    ("c10-ok.txt", 0.76),
    ("c10-bad.txt", 0.58),
];
/// The Go reference's median over the etcd logs, in ms (FORMAT.md).
const GO_TYPICAL_ETCD_MS: f64 = 0.15;
/// The Go reference on all 50 etcd logs together, in ms.
const GO_ETCD_TOTAL_MS: f64 = 550.0;

/// One file's timing.
struct Row {
    name: String,
    operations: usize,
    verdict: Verdict,
    median_ms: f64,
    repeats: usize,
}

/// Checks `history` repeatedly after one warm-up run; the median time.
fn time<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>], name: String) -> Row {
    let verdict = check_operations(model, history, None).verdict();
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < MIN_REPEATS || (start.elapsed() < BUDGET_PER_FILE && samples.len() < MAX_REPEATS) {
        let t = Instant::now();
        std::hint::black_box(check_operations(model, std::hint::black_box(history), None));
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    Row {
        name,
        operations: history.len(),
        verdict,
        median_ms: samples[samples.len() / 2],
        repeats: samples.len(),
    }
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn print(row: &Row) {
    let reference = GO_REFERENCE_MS.iter().find(|(n, _)| *n == row.name).map(|&(_, ms)| ms);
    let (go, speedup, within) = match reference {
        Some(go) => (format!("{go:10.3}"), format!("{:7.1}x", go / row.median_ms), row.median_ms <= go / 2.0),
        None => (format!("{:>10}", "-"), format!("{:>8}", "-"), true),
    };
    println!(
        "{:<16} {:>5} {:>8} {:>11.4} {go} {speedup} {:>7} {:>6}",
        row.name,
        row.operations,
        format!("{:?}", row.verdict),
        row.median_ms,
        if within { "yes" } else { "NO" },
        row.repeats
    );
}

pub fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .or_else(|| std::env::var("LINCHECK_HISTORIES").ok())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/porcupine"));
    println!("histories: {}", dir.display());
    println!(
        "{:<16} {:>5} {:>8} {:>11} {:>10} {:>8} {:>7} {:>6}",
        "file", "ops", "verdict", "median ms", "Go ms", "speedup", "<=Go/2", "runs"
    );
    let mut etcd_total = 0.0;
    let mut etcd_medians = Vec::new();
    let mut slowest: Option<Row> = None;
    for path in files(&dir.join("jepsen"), "log") {
        let history = read_etcd_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let row = time(&RegisterModel, &history, name(&path));
        print(&row);
        etcd_total += row.median_ms;
        etcd_medians.push(row.median_ms);
        if slowest.as_ref().is_none_or(|s| s.median_ms < row.median_ms) {
            slowest = Some(row);
        }
    }
    for path in files(&dir.join("kv"), "txt") {
        let history = read_kv_file(&path).unwrap_or_else(|e| panic!("{e}"));
        print(&time(&KvModel, &history, name(&path)));
    }
    println!(
        "etcd, all files: {etcd_total:.3} ms (sum of medians); Go {GO_ETCD_TOTAL_MS} ms; goal <= {} ms: {}",
        GO_ETCD_TOTAL_MS / 2.0,
        if etcd_total <= GO_ETCD_TOTAL_MS / 2.0 { "yes" } else { "NO" }
    );
    etcd_medians.sort_by(f64::total_cmp);
    if let Some(median) = etcd_medians.get(etcd_medians.len() / 2) {
        println!("median etcd file: {median:.4} ms; Go: about {GO_TYPICAL_ETCD_MS} ms on a typical etcd log");
    }
    if let Some(slowest) = slowest {
        println!("slowest etcd file: {} at {:.3} ms", slowest.name, slowest.median_ms);
    }
}
