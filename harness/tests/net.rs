//! The proxy's semantics, measured through real sockets with fixed seeds.

use harness::net::Network;
use harness::net::rules::Mode;
use labrpc::{Client, RpcError, Server};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::UnixListener;

/// A network with one server (index 0) and a link from caller 1 to it.
/// The handler echoes its argument after `delay_ms` and counts its runs.
async fn setup(dir: &Path, seed: u64, delay_ms: u64) -> (Network, Client, Arc<AtomicU64>) {
    let net = Network::new(seed, None).unwrap();
    let sock = dir.join("s0.sock");
    net.add_server(0, &sock);
    net.add_link(1, 0, &dir.join("l1-0.sock")).unwrap();
    let ran = Arc::new(AtomicU64::new(0));
    let server = Server::new();
    let counter = ran.clone();
    server.register("Echo.Echo", move |x: Vec<u8>| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            x
        }
    });
    tokio::spawn(server.serve(UnixListener::bind(&sock).unwrap()));
    net.server_up(0);
    net.set_link(1, 0, true);
    (net, Client::new(dir.join("l1-0.sock")), ran)
}

/// Starts a call of `byte` on `client` and waits 100 ms, so that it has
/// reached the handler (which answers after `setup`'s delay).
async fn call_in_flight(client: &Client, byte: u8) -> tokio::task::JoinHandle<Result<Vec<u8>, RpcError>> {
    let c = client.clone();
    let call = tokio::spawn(async move { c.call::<_, Vec<u8>>("Echo.Echo", &vec![byte]).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_bytes_are_exact_on_a_scripted_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 1, 0).await;
    for len in [0usize, 10, 1000] {
        let reply: Vec<u8> = client.call("Echo.Echo", &vec![7u8; len]).await.unwrap();
        assert_eq!(reply.len(), len);
    }
    // postcard: a Vec<u8> of n < 128 bytes is 1 + n bytes, of 1000 bytes 2 + 1000.
    let payload = [1, 1 + 10, 2 + 1000].iter().sum::<u64>();
    assert_eq!(net.stats().total_calls(), 3);
    assert_eq!(net.stats().delivered_to(0), 3);
    assert_eq!(net.stats().delivered_method(0, "Echo.Echo"), 3);
    assert_eq!(
        net.stats().total_bytes(),
        2 * payload,
        "request bytes when sent + reply bytes when delivered"
    );
    assert_eq!(ran.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreliable_loses_about_ten_percent_of_requests_and_of_replies() {
    const CALLS: u64 = 3000;
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 42, 0).await;
    net.set_mode(Mode { reliable: false, ..Mode::default() });
    let calls: Vec<_> = (0..CALLS)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.call::<_, Vec<u8>>("Echo.Echo", &i.to_le_bytes().to_vec()).await })
        })
        .collect();
    let mut ok = 0u64;
    for c in calls {
        match c.await.unwrap() {
            Ok(_) => ok += 1,
            Err(RpcError::Lost) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    let handled = ran.load(Ordering::SeqCst);
    let requests_lost = CALLS - handled;
    let replies_lost = handled - ok;
    // Each is binomial(≈3000, 0.1): mean ≈300, sd ≈16. Allow ±5 sd.
    assert!((220..=380).contains(&requests_lost), "{requests_lost} of {CALLS} requests lost");
    assert!((190..=350).contains(&replies_lost), "{replies_lost} of {handled} replies lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_link_loses_every_call_and_fails_calls_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 3, 2000).await;
    net.set_mode(Mode { long_delays: false, ..Mode::default() });
    // A call in flight when the link goes down fails at once.
    let in_flight = call_in_flight(&client, 1).await;
    let t = Instant::now();
    net.set_link(1, 0, false);
    assert!(matches!(in_flight.await.unwrap(), Err(RpcError::Lost)));
    assert!(t.elapsed() < Duration::from_millis(500));
    // Later calls never reach the server and fail within the short delay.
    for _ in 0..50 {
        let t = Instant::now();
        assert!(matches!(client.call::<_, Vec<u8>>("Echo.Echo", &vec![2u8]).await, Err(RpcError::Lost)));
        assert!(t.elapsed() < Duration::from_millis(100 + 200), "short loss delay is under 100 ms");
    }
    assert_eq!(ran.load(Ordering::SeqCst), 1, "only the first call reached the handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reply_from_a_dead_incarnation_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 4, 300).await;
    let call = call_in_flight(&client, 9).await;
    // The server "crashes" and comes back while the handler still runs: its
    // reply belongs to the dead incarnation.
    net.server_down(0);
    net.server_up(0);
    assert!(matches!(call.await.unwrap(), Err(RpcError::Lost)));
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    // A new call reaches the new incarnation.
    assert_eq!(client.call::<_, Vec<u8>>("Echo.Echo", &vec![5u8]).await.unwrap(), vec![5u8]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_reordering_delivers_replies_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, _) = setup(dir.path(), 5, 0).await;
    net.set_mode(Mode { long_reordering: true, ..Mode::default() });
    let t0 = Instant::now();
    let calls: Vec<_> = (0..60u8)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move {
                c.call::<_, Vec<u8>>("Echo.Echo", &vec![i]).await.unwrap();
                t0.elapsed()
            })
        })
        .collect();
    let mut held = 0;
    for c in calls {
        let took = c.await.unwrap();
        assert!(took < Duration::from_millis(2200 + 500), "{took:?}");
        if took >= Duration::from_millis(200) {
            held += 1;
        }
    }
    // 2/3 of 60 held, sd ≈ 3.7.
    assert!((25..=55).contains(&held), "{held} of 60 replies held back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_link_loses_new_calls_but_answers_delivered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 6, 300).await;
    net.set_mode(Mode { long_delays: false, ..Mode::default() });
    // Delivered before the block: the handler runs and its answer arrives.
    let delivered = call_in_flight(&client, 1).await;
    net.set_requests_blocked(1, 0, true);
    for _ in 0..20 {
        assert!(matches!(client.call::<_, Vec<u8>>("Echo.Echo", &vec![2u8]).await, Err(RpcError::Lost)));
    }
    assert_eq!(
        delivered.await.unwrap().unwrap(),
        vec![1u8],
        "the call delivered before the block is answered"
    );
    assert_eq!(ran.load(Ordering::SeqCst), 1, "no blocked call reached the handler");
    net.set_requests_blocked(1, 0, false);
    assert_eq!(client.call::<_, Vec<u8>>("Echo.Echo", &vec![3u8]).await.unwrap(), vec![3u8]);
    assert_eq!(ran.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_delay_holds_every_reply_on_its_link_and_only_there() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 7, 0).await;
    net.set_reply_delay(1, 0, Duration::from_millis(400));
    let t = Instant::now();
    let calls: Vec<_> = (0..5u8)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.call::<_, Vec<u8>>("Echo.Echo", &vec![i]).await })
        })
        .collect();
    // The handler runs at once; only the answers wait.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(ran.load(Ordering::SeqCst), 5, "requests are not delayed");
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert!(t.elapsed() >= Duration::from_millis(400), "answered after {:?}", t.elapsed());
    net.set_reply_delay(1, 0, Duration::ZERO);
    let t = Instant::now();
    client.call::<_, Vec<u8>>("Echo.Echo", &vec![9u8]).await.unwrap();
    assert!(t.elapsed() < Duration::from_millis(300), "cleared delay still held a reply {:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_replies_are_lost_after_the_handler_ran() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 8, 0).await;
    net.set_replies_dropped(1, 0, true);
    for i in 0..20u8 {
        assert!(matches!(client.call::<_, Vec<u8>>("Echo.Echo", &vec![i]).await, Err(RpcError::Lost)));
    }
    assert_eq!(ran.load(Ordering::SeqCst), 20, "every call reached the handler");
    net.set_replies_dropped(1, 0, false);
    assert_eq!(client.call::<_, Vec<u8>>("Echo.Echo", &vec![7u8]).await.unwrap(), vec![7u8]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_requests_are_lost_to_the_caller_and_replayed_late_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 9, 0).await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    // A second server, which logs what it handles, behind link 2 -> 1.
    let sock = dir.path().join("s1.sock");
    net.add_server(1, &sock);
    net.add_link(2, 1, &dir.path().join("l2-1.sock")).unwrap();
    let server = Server::new();
    let log = seen.clone();
    server.register("Log.Put", move |x: u8| {
        log.lock().unwrap().push(x);
        async move { x }
    });
    server.register("Log.Other", |x: u8| async move { x });
    tokio::spawn(server.serve(UnixListener::bind(&sock).unwrap()));
    net.server_up(1);
    net.set_link(2, 1, true);
    let logger = Client::new(dir.path().join("l2-1.sock"));

    net.set_requests_held(2, 1, "Log.Put", true);
    let t = Instant::now();
    for x in 1..=3u8 {
        assert!(matches!(logger.call::<_, u8>("Log.Put", &x).await, Err(RpcError::Lost)));
    }
    assert!(t.elapsed() < Duration::from_millis(500), "held calls are lost at once, took {:?}", t.elapsed());
    assert_eq!(logger.call::<_, u8>("Log.Other", &7u8).await.unwrap(), 7, "other methods pass");
    assert!(seen.lock().unwrap().is_empty(), "no held call reached the handler");
    assert_eq!(net.held_count(2, 1, "Log.Put"), 3);

    net.set_requests_held(2, 1, "Log.Put", false);
    assert_eq!(logger.call::<_, u8>("Log.Put", &9u8).await.unwrap(), 9);
    assert_eq!(net.replay_held(2, 1, "Log.Put", Duration::from_secs(5)).await, 3);
    assert_eq!(*seen.lock().unwrap(), vec![9, 1, 2, 3], "replayed late, oldest first");
    assert_eq!(net.replay_held(2, 1, "Log.Put", Duration::from_secs(5)).await, 3, "kept for another replay");
    net.clear_held(2, 1);
    assert_eq!(net.replay_held(2, 1, "Log.Put", Duration::from_secs(5)).await, 0);
    assert_eq!(seen.lock().unwrap().len(), 7);
    // Other links are untouched.
    assert_eq!(client.call::<_, Vec<u8>>("Echo.Echo", &vec![1u8]).await.unwrap(), vec![1u8]);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_replies_wait_for_their_release_and_then_all_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let (net, client, ran) = setup(dir.path(), 10, 0).await;
    net.set_replies_held(1, 0, true);
    let calls: Vec<_> = (0..3u8)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.call::<_, Vec<u8>>("Echo.Echo", &vec![i]).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ran.load(Ordering::SeqCst), 3, "the requests were handled");
    assert_eq!(net.held_replies(1, 0), 3);
    assert!(calls.iter().all(|c| !c.is_finished()), "no answer passes while held");
    net.set_replies_held(1, 0, false);
    for (i, c) in calls.into_iter().enumerate() {
        assert_eq!(c.await.unwrap().unwrap(), vec![i as u8]);
    }
    assert_eq!(net.held_replies(1, 0), 0);
    assert_eq!(client.call::<_, Vec<u8>>("Echo.Echo", &vec![7u8]).await.unwrap(), vec![7u8]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_copies_arrive_again_late_and_each_call_gets_one_answer() {
    const CALLERS: u32 = 10;
    const CALLS: u32 = 60;
    let dir = tempfile::tempdir().unwrap();
    let net = Network::new(12, None).unwrap();
    let sock = dir.path().join("s0.sock");
    net.add_server(0, &sock);
    net.add_link(1, 0, &dir.path().join("l1-0.sock")).unwrap();
    // Every argument the handler receives, in order of arrival.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let server = Server::new();
    let log = seen.clone();
    server.register("Log.Put", move |x: u32| {
        log.lock().unwrap().push(x);
        async move { x }
    });
    tokio::spawn(server.serve(UnixListener::bind(&sock).unwrap()));
    net.server_up(0);
    net.set_link(1, 0, true);
    net.set_mode(Mode { stale: true, ..Mode::default() });
    let client = Client::new(dir.path().join("l1-0.sock"));

    let callers: Vec<_> = (0..CALLERS)
        .map(|c| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut slow = 0;
                for k in 0..CALLS {
                    let x = c * 1000 + k;
                    let t = Instant::now();
                    assert_eq!(client.call::<_, u32>("Log.Put", &x).await.unwrap(), x, "its own answer");
                    slow += (t.elapsed() >= Duration::from_millis(100)) as u32;
                }
                slow
            })
        })
        .collect();
    let mut slow = 0;
    for c in callers {
        slow += c.await.unwrap();
    }
    // Every copy has arrived 1.1 s after its original at the latest.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let seen = seen.lock().unwrap().clone();
    let mut twice = 0;
    let mut past_newer = 0;
    let mut last_copied = 0;
    for c in 0..CALLERS {
        for k in 0..CALLS {
            let x = c * 1000 + k;
            let at: Vec<usize> = seen.iter().enumerate().filter(|(_, y)| **y == x).map(|(i, _)| i).collect();
            assert!(matches!(at.len(), 1 | 2), "{x} arrived {} times", at.len());
            if let [_, again] = at[..] {
                twice += 1;
                last_copied += (k + 1 == CALLS) as u32;
                // The caller's next request reached the server before the copy.
                past_newer += seen[..again].contains(&(x + 1)) as u32;
            }
        }
    }
    // 5% of 600 calls is 30, with a standard deviation near 5.
    assert!((12..=50).contains(&twice), "{twice} of {} requests delivered twice", CALLERS * CALLS);
    // Half of the copies carry their caller's answer, 100 ms late or more;
    // the caller of any other went on, and its next request came first.
    assert!(slow > 0 && slow < twice, "{slow} calls answered late, of {twice} copied");
    assert!(
        past_newer + slow + last_copied >= twice,
        "{past_newer} of {twice} copies came after newer requests, {slow} answered late"
    );
    assert_eq!(net.stats().delivered_to(0), u64::from(CALLERS * CALLS) + twice as u64);
}
