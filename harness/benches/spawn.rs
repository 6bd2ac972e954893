//! What the sandbox costs a node start: the time from spawning a `node`
//! process to its Ready on the control socket (p50, p99 over many starts),
//! without a sandbox and, when this runs as root with bubblewrap installed,
//! inside one as the grader runs untrusted nodes. Each way runs in a child
//! process of its own (this binary re-executed), since the harness reads the
//! sandbox from the environment once.
//!
//! Run: `make bench-spawn` (or build `node` in release and
//! `cargo bench -p harness --bench spawn`).

use harness::nodes::Nodes;
use std::time::Instant;

const WAY_VAR: &str = "SPAWN_BENCH_WAY";
const STARTS: usize = 200;
const WARM_UP: usize = 10;
const BWRAP_PATHS: [&str; 2] = ["/usr/bin/bwrap", "/bin/bwrap"];

fn main() {
    if let Ok(way) = std::env::var(WAY_VAR) {
        return measure(&way);
    }
    println!("{:<12} {:>8} {:>8} {:>8}", "way", "p50 ms", "p99 ms", "max ms");
    run_way("plain", None);
    // SAFETY: geteuid cannot fail and touches no memory.
    let root = unsafe { nix::libc::geteuid() } == 0;
    match BWRAP_PATHS.iter().find(|p| std::path::Path::new(p).is_file()) {
        Some(bwrap) if root => run_way("sandboxed", Some(bwrap)),
        Some(_) => println!("sandboxed: skipped (needs root)"),
        None => println!("sandboxed: skipped (bubblewrap is not installed; scripts/install-sandbox.sh)"),
    }
}

fn run_way(way: &str, bwrap: Option<&str>) {
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = std::process::Command::new(exe);
    cmd.env(WAY_VAR, way).env_remove(protocol::env::SANDBOX);
    if let Some(bwrap) = bwrap {
        cmd.env(protocol::env::SANDBOX, bwrap);
    }
    let status = cmd.status().expect("run the measuring child");
    assert!(status.success(), "{way}: the measuring child failed ({status})");
}

/// Starts and kills node 0 of a one-node Raft cluster [`STARTS`] times and
/// prints the start times' percentiles.
fn measure(way: &str) {
    let nodes = Nodes::new(1, 1, vec!["raft".into()]).unwrap_or_else(|f| panic!("{way}: {f}"));
    let mut times = Vec::with_capacity(STARTS);
    for k in 0..WARM_UP + STARTS {
        let t = Instant::now();
        nodes.start(0).unwrap_or_else(|f| panic!("{way}: {f}"));
        if k >= WARM_UP {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        nodes.kill(0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!("{way:<12} {:>8.2} {:>8.2} {:>8.2}", at(0.5), at(0.99), at(1.0));
}
