//! What the proxy costs: RPC round-trip latency (p50, p99) and frames per
//! second with 64 calls in flight, through the proxy versus a direct Unix
//! socket, in the same run. The echo server runs in a child process (this
//! binary re-executed), as a node would.
//!
//! Run: `make bench-proxy` (or `cargo bench -p harness --bench proxy`).

use harness::net::Network;
use labrpc::{Client, Server};
use std::path::Path;
use std::time::{Duration, Instant};

const SERVER_VAR: &str = "PROXY_BENCH_SERVER";
const SEQUENTIAL_CALLS: usize = 20_000;
const IN_FLIGHT: usize = 64;
const THROUGHPUT_CALLS: usize = 200_000;
const PAYLOAD: usize = 64;

fn main() {
    if let Ok(sock) = std::env::var(SERVER_VAR) {
        return serve(Path::new(&sock));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("echo.sock");
    let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env(SERVER_VAR, &sock)
        .spawn()
        .expect("start the echo server");
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        for _ in 0..200 {
            if sock.exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let net = Network::new(1, None).expect("network");
        net.add_server(0, &sock);
        net.add_link(1, 0, &dir.path().join("link.sock")).expect("link");
        net.server_up(0);
        net.set_link(1, 0, true);
        let direct = Client::new(&sock);
        let proxied = Client::new(dir.path().join("link.sock"));
        println!("{:<10} {:>10} {:>10} {:>14}", "path", "p50 µs", "p99 µs", "frames/s @64");
        let d = measure("direct", &direct).await;
        let p = measure("proxy", &proxied).await;
        println!(
            "proxy adds {:.1} µs at p50 and {:.1} µs at p99; carries {:.0}% of direct throughput",
            p.0 - d.0,
            p.1 - d.1,
            100.0 * p.2 / d.2
        );
    });
    let _ = child.kill();
    let _ = child.wait();
}

fn serve(sock: &Path) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    rt.block_on(async {
        let server = Server::new();
        server.register("Echo.Echo", |x: Vec<u8>| async move { x });
        let listener = tokio::net::UnixListener::bind(sock).expect("bind");
        let _ = server.serve(listener).await;
    });
}

/// Returns (p50 µs, p99 µs, frames per second) and prints them.
async fn measure(name: &str, client: &Client) -> (f64, f64, f64) {
    let payload = vec![7u8; PAYLOAD];
    for _ in 0..2_000 {
        client.call::<_, Vec<u8>>("Echo.Echo", &payload).await.expect("warm-up call");
    }
    let mut times = Vec::with_capacity(SEQUENTIAL_CALLS);
    for _ in 0..SEQUENTIAL_CALLS {
        let t = Instant::now();
        client.call::<_, Vec<u8>>("Echo.Echo", &payload).await.expect("call");
        times.push(t.elapsed());
    }
    times.sort();
    let p50 = times[times.len() / 2].as_secs_f64() * 1e6;
    let p99 = times[times.len() * 99 / 100].as_secs_f64() * 1e6;
    let t = Instant::now();
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (c, p) = (client.clone(), payload.clone());
            tokio::spawn(async move {
                for _ in 0..THROUGHPUT_CALLS / IN_FLIGHT {
                    c.call::<_, Vec<u8>>("Echo.Echo", &p).await.expect("call");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let rate = THROUGHPUT_CALLS as f64 / t.elapsed().as_secs_f64();
    println!("{name:<10} {p50:>10.1} {p99:>10.1} {rate:>14.0}");
    (p50, p99, rate)
}
