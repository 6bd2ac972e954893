//! The client and server over a real Unix socket.

use labrpc::wire::{Frame, FrameReader, Kind};
use labrpc::{Client, RpcError, Server};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Add {
    a: u64,
    b: u64,
}

fn serve(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("s.sock");
    let server = Server::new();
    server.register("Math.Add", |args: Add| async move { args.a + args.b });
    server.register("Math.Slow", |ms: u64| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    });
    tokio::spawn(server.serve(UnixListener::bind(&path).unwrap()));
    path
}

#[tokio::test]
async fn many_calls_in_flight_each_get_their_own_reply() {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new(serve(dir.path()));
    let calls = (0..200u64).map(|i| {
        let c = client.clone();
        tokio::spawn(async move { c.call::<_, u64>("Math.Slow", &(i % 7)).await.unwrap() == i % 7 })
    });
    for c in calls {
        assert!(c.await.unwrap());
    }
    let sum: u64 = client.call("Math.Add", &Add { a: 2, b: 3 }).await.unwrap();
    assert_eq!(sum, 5);
}

#[tokio::test]
async fn unknown_method_and_bad_arguments_are_faults_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new(serve(dir.path()));
    let err = client.call::<_, u64>("Math.Mul", &Add { a: 1, b: 1 }).await.unwrap_err();
    assert!(matches!(&err, RpcError::Fault(m) if m.contains("unknown method \"Math.Mul\"")), "{err}");
    let err = client.call::<_, u64>("Math.Add", &()).await.unwrap_err();
    assert!(matches!(&err, RpcError::Fault(m) if m.contains("bad arguments")), "{err}");
    // The server still works.
    assert_eq!(client.call::<_, u64>("Math.Add", &Add { a: 1, b: 1 }).await.unwrap(), 2);
}

#[tokio::test]
async fn a_lost_frame_fails_the_call_and_a_silent_peer_hits_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.sock");
    let listener = UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut frames = FrameReader::new(read);
        // Answer the first call with a loss, swallow the second.
        let first = frames.next().await.unwrap().unwrap();
        write.write_all(Frame::new(Kind::Lost, first.call_id(), "", b"").as_bytes()).await.unwrap();
        let _second = frames.next().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let client = Client::with_deadline(&path, Duration::from_millis(200));
    assert!(matches!(client.call::<_, u64>("X.Y", &1u8).await, Err(RpcError::Lost)));
    assert!(matches!(client.call::<_, u64>("X.Y", &1u8).await, Err(RpcError::Timeout(_))));
}

#[tokio::test]
async fn a_malformed_frame_closes_only_that_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = serve(dir.path());
    let mut bad = UnixStream::connect(&path).await.unwrap();
    bad.write_all(&[10, 0, 0, 0, 77, 0, 0, 0, 0, 0, 0, 0, 0, 0]).await.unwrap();
    let client = Client::new(&path);
    assert_eq!(client.call::<_, u64>("Math.Add", &Add { a: 4, b: 4 }).await.unwrap(), 8);
}

#[tokio::test]
async fn a_client_redials_after_the_server_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sock");
    let server = Server::new();
    server.register("A.B", |x: u64| async move { x });
    let task = tokio::spawn(server.clone().serve(UnixListener::bind(&path).unwrap()));
    let client = Client::new(&path);
    assert_eq!(client.call::<_, u64>("A.B", &1u64).await.unwrap(), 1);
    task.abort();
    let _ = task.await;
    std::fs::remove_file(&path).unwrap();
    // Calls fail while nobody listens, then succeed once a server is back.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = client.call::<_, u64>("A.B", &2u64).await;
    tokio::spawn(server.serve(UnixListener::bind(&path).unwrap()));
    let mut ok = false;
    for _ in 0..20 {
        if client.call::<_, u64>("A.B", &3u64).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the client never reconnected");
}

#[tokio::test]
async fn the_server_knows_its_handlers_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let server = Server::new();
    server.register("Math.Slow", |ms: u64| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    });
    tokio::spawn(server.clone().serve(UnixListener::bind(&path).unwrap()));
    let client = Client::new(&path);
    assert!(server.in_flight().is_empty());
    let slow = {
        let c = client.clone();
        tokio::spawn(async move { c.call::<_, u64>("Math.Slow", &600u64).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _quick: u64 = client.call("Math.Slow", &1u64).await.unwrap();
    let running = server.in_flight();
    assert_eq!(running.len(), 1, "{running:?}");
    assert_eq!(running[0].0, "Math.Slow");
    assert!(running[0].1 >= Duration::from_millis(50), "{running:?}");
    slow.await.unwrap().unwrap();
    assert!(server.in_flight().is_empty(), "an answered handler is no longer in flight");
}
