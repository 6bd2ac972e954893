//! 2B: what agreement costs — bytes per command and RPCs per election,
//! agreement and idle second.

use crate::case::TestCase;
use harness::{Cluster, ELECTION_TIMEOUT, Options, SessionVerbs, TestResult, cmd, fail};
use std::thread::sleep;
use std::time::Duration;

/// Each command is sent to each peer once: 10 commands of 5000 bytes cost at
/// most 3 × 50,000 + 50,000 bytes.
pub fn rpc_bytes(t: &TestCase) -> TestResult {
    const SLACK: u64 = 50_000;
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    cluster.one(&cmd(99), servers, false)?;
    let bytes0 = cluster.bytes_total();
    let mut sent = 0u64;
    for index in 2..12u64 {
        let command = cluster.random_text(5000);
        let xindex = cluster.one(&command, servers, false)?;
        if xindex != index {
            fail!("got index {xindex} but expected {index}");
        }
        sent += command.len() as u64;
    }
    let got = cluster.bytes_total() - bytes0;
    let expected = servers as u64 * sent;
    if got > expected + SLACK {
        fail!("too many RPC bytes; got {got}, expected {expected}");
    }
    println!("  RPC bytes: {got} for {sent} bytes of commands (limit {})", expected + SLACK);
    cluster.end()
}

/// Elections, agreement and idleness each cost few RPCs.
pub fn count(t: &TestCase) -> TestResult {
    const ENTRIES: u64 = 10;
    const TRIES: usize = 5;
    let servers = 3;
    let cluster = Cluster::new(t.id, servers, Options::default())?;
    cluster.begin(t.title);
    let rpcs = || cluster.all().into_iter().map(|j| cluster.rpc_count(j)).sum::<u64>();

    cluster.check_one_leader()?;
    let elect = rpcs();
    if !(1..=30).contains(&elect) {
        fail!("too many or few RPCs ({elect}) to elect initial leader");
    }

    let mut agreed = None;
    'tries: for attempt in 0..TRIES {
        if attempt > 0 {
            // Give the solution some time to settle.
            sleep(Duration::from_secs(3));
        }
        let leader = cluster.check_one_leader()?;
        let total1 = rpcs();
        let Some((starti, term)) = cluster.start(leader, &cmd(1))? else { continue };
        let mut cmds = Vec::new();
        for i in 1..=ENTRIES + 1 {
            let x = cluster.random_cmd();
            cmds.push(x.clone());
            match cluster.start(leader, &x)? {
                Some((index1, term1)) if term1 == term => {
                    if index1 != starti + i {
                        fail!("Start() failed: expected index {}, got {index1}", starti + i);
                    }
                }
                _ => continue 'tries,
            }
        }
        for i in 1..=ENTRIES {
            match cluster.wait(starti + i, servers, Some(term))? {
                None => continue 'tries,
                Some(c) if c != cmds[i as usize - 1] => {
                    fail!("wrong value {} committed for index {}", String::from_utf8_lossy(&c), starti + i)
                }
                Some(_) => {}
            }
        }
        for j in cluster.all() {
            if cluster.state(j)?.is_some_and(|(t, _)| t != term) {
                continue 'tries;
            }
        }
        let total2 = rpcs();
        let limit = (ENTRIES + 1 + 3) * 3;
        if total2 - total1 > limit {
            fail!("too many RPCs ({}) for {ENTRIES} entries (limit {limit})", total2 - total1);
        }
        println!("  RPCs: {elect} to elect, {} for {ENTRIES} entries (limit {limit})", total2 - total1);
        agreed = Some(total2);
        break;
    }
    let Some(total2) = agreed else { fail!("term changed too often") };

    sleep(ELECTION_TIMEOUT);
    let idle = rpcs() - total2;
    if idle > 3 * 20 {
        fail!("too many RPCs ({idle}) for 1 second of idleness (limit 60)");
    }
    println!("  RPCs: {idle} in one idle second (limit 60)");
    cluster.end()
}
