//! `node kv-server`: one KV server and its Raft peer on one RPC server.

use crate::args::KvServerArgs;
use crate::link;
use control::{Reply, Request, ToHarness};
use kvraft::KvServer;
use labrpc::{Client, Persister, Server};
use std::sync::Arc;
use tokio::net::UnixListener;

pub async fn run(args: KvServerArgs) -> Result<(), String> {
    let persister = Arc::new(Persister::open(&args.data).map_err(|e| e.to_string())?);
    let (out, mut inbox) = link::connect(&args.control, args.me).await?;
    let _ = std::fs::remove_file(&args.listen);
    let listener = UnixListener::bind(&args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen.display()))?;
    let peers: Vec<Client> = args.peers.iter().map(Client::new).collect();
    let maxraftstate = usize::try_from(args.maxraftstate).ok();
    let kv = Arc::new(KvServer::new(peers, args.me, persister.clone(), maxraftstate));
    let server = Server::new();
    kv.register(&server);
    tokio::spawn(server.clone().serve(listener));
    out.send(&ToHarness::Ready);
    let watched = kv.clone();
    link::watch_role(move || watched.state(), out.clone());
    tracing::info!("kv server {} ready (maxraftstate {:?})", args.me, maxraftstate);

    while let Some(msg) = inbox.next().await.map_err(|e| e.to_string())? {
        let body = match msg.body {
            Request::GetState => {
                let (term, is_leader) = kv.state();
                Reply::State {
                    term,
                    is_leader,
                    saves: persister.save_count(),
                    fsyncs: persister.fsync_count(),
                }
            }
            Request::Handlers => link::handlers(&server),
            Request::SlowDisk { millis } => {
                persister.set_save_delay(std::time::Duration::from_millis(millis));
                Reply::Done
            }
            other => Reply::Error { message: format!("a kv server does not serve {other:?}") },
        };
        out.send(&ToHarness::Reply { req: msg.req, body });
    }
    Ok(())
}
