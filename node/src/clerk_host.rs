//! `node kv-clients`: the clerks of a lab 3 test. The harness creates clerks
//! and sends them operations; each operation runs in a task of its own and
//! is answered when the clerk returns (clerks retry until they succeed).

use crate::args::KvClientsArgs;
use crate::link;
use control::{KvOp, Reply, Request, ToHarness};
use kvraft::Clerk;
use labrpc::Client;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

pub async fn run(args: KvClientsArgs) -> Result<(), String> {
    let (out, mut inbox) = link::connect(&args.control, args.me).await?;
    out.send(&ToHarness::Ready);
    let mut clerks: HashMap<u32, Arc<Mutex<Clerk>>> = HashMap::new();
    while let Some(msg) = inbox.next().await.map_err(|e| e.to_string())? {
        match msg.body {
            Request::MakeClerk { clerk, servers } => {
                let clients = servers.iter().map(Client::new).collect();
                clerks.insert(clerk, Arc::new(Mutex::new(Clerk::new(clients))));
                out.send(&ToHarness::Reply { req: msg.req, body: Reply::ClerkMade });
            }
            Request::ClerkOp { clerk, op } => {
                let Some(ck) = clerks.get(&clerk).cloned() else {
                    let body = Reply::Error { message: format!("no clerk {clerk}") };
                    out.send(&ToHarness::Reply { req: msg.req, body });
                    continue;
                };
                let out = out.clone();
                tokio::spawn(async move {
                    let mut ck = ck.lock().await;
                    let value = match op {
                        KvOp::Get { key } => ck.get(&key).await,
                        KvOp::Put { key, value } => {
                            ck.put(&key, &value).await;
                            String::new()
                        }
                        KvOp::Append { key, value } => {
                            ck.append(&key, &value).await;
                            String::new()
                        }
                    };
                    out.send(&ToHarness::Reply { req: msg.req, body: Reply::OpDone { value } });
                });
            }
            other => {
                let body = Reply::Error { message: format!("a clerk host does not serve {other:?}") };
                out.send(&ToHarness::Reply { req: msg.req, body });
            }
        }
    }
    Ok(())
}
