//! The fault-injecting proxy: the test network, with labrpc's semantics.
//!
//! Every directed link (caller endpoint → server) has a socket of its own;
//! the proxy knows the caller from the socket it was reached on, so no node
//! can claim to be another. For each request the proxy asks [`rules`] for a
//! verdict and carries it out: deliver (maybe after a delay), or answer the
//! caller with a `lost` frame at the chosen time. Replies are judged again
//! when they come back. Each caller connection gets its own connection to the
//! server, so call ids pass through untouched and a dead caller's replies
//! have nowhere to go.
//!
//! Faults are data with symmetric verbs: [`Network::set_link`],
//! [`Network::set_mode`], [`Network::server_down`] / [`Network::server_up`].
//! Three one-way faults go beyond labrpc, for scripted tests that need a
//! precise interleaving: [`Network::set_requests_blocked`] (new calls on a
//! link are lost, calls already delivered are still answered),
//! [`Network::set_replies_dropped`] (calls are delivered and handled, every
//! answer is lost) and [`Network::set_reply_delay`] (every reply on a link
//! waits longer). And one lets a test deliver a request late, as a real
//! network may: [`Network::set_requests_held`] keeps the requests of one
//! method on a link (the caller sees each lost) and
//! [`Network::replay_held`] delivers copies of them later, stale; and
//! [`Network::set_replies_held`] keeps a link's answers until released.
//! The same late delivery as a random fault is a mode ([`rules::Mode`]'s
//! `stale`): some delivered requests are delivered a second time, 0.1–1 s
//! later, past newer traffic on their link, and the caller hears either
//! the first answer or, late, the copy's ([`rules::stale_copy`]).
//!
//! The proxy reaches a server only through [`socket::NodeSocket`], which
//! follows no link a node could have planted in its own folder.

mod proxy;
pub mod rules;
pub mod socket;
pub mod stats;

use labrpc::sink::FrameSink;
use labrpc::wire::{Frame, FrameReader};
use proxy::Caller;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rules::Mode;
use socket::NodeSocket;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub use stats::Stats;

/// A caller: a server's index, or a clerk's id (lab 3).
pub type EndId = u32;

/// The test network. Cheap to clone.
#[derive(Clone)]
pub struct Network {
    inner: Arc<NetInner>,
}

struct NetInner {
    mode: Mutex<Mode>,
    rng: Mutex<ChaCha8Rng>,
    links: Mutex<HashMap<(EndId, usize), Arc<Link>>>,
    servers: Mutex<Vec<Arc<ServerSlot>>>,
    stats: Stats,
    trace: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
    /// The test's zero on [`control::clock`].
    zero: u64,
}

struct ServerSlot {
    index: usize,
    socket: NodeSocket,
    alive: AtomicBool,
    /// Bumped at every crash: replies from an older incarnation are lost.
    incarnation: AtomicU64,
}

struct Link {
    from: EndId,
    to: Arc<ServerSlot>,
    enabled: AtomicBool,
    /// New requests are lost; replies to delivered ones still pass.
    requests_blocked: AtomicBool,
    /// Requests are delivered; every reply is lost.
    replies_dropped: AtomicBool,
    /// Added to every delivered reply's delay, in microseconds.
    reply_delay_us: AtomicU64,
    /// Requests kept back for a later replay.
    held: Mutex<Held>,
    /// While `Some`: replies kept back (with the caller they go to), to be
    /// delivered when the hold is lifted.
    held_replies: Mutex<Option<Vec<(FrameSink, Frame)>>>,
    callers: Mutex<Vec<Weak<Caller>>>,
}

/// Requests of some methods kept back on a link, oldest first.
#[derive(Default)]
struct Held {
    /// The methods whose new requests are held.
    methods: Vec<String>,
    frames: Vec<Frame>,
}

impl Network {
    /// A network whose choices all come from `seed`. With `trace`, every
    /// decision is written to that file, stamped with seconds since now.
    pub fn new(seed: u64, trace: Option<&Path>) -> std::io::Result<Network> {
        Network::new_at(seed, trace, control::clock::monotonic_ns())
    }

    /// [`Network::new`] with its times counted from `zero` (the test's zero
    /// on [`control::clock`]) in `network.log` and the RPC rates.
    pub fn new_at(seed: u64, trace: Option<&Path>, zero: u64) -> std::io::Result<Network> {
        let trace = match trace {
            Some(p) => Some(Mutex::new(std::io::BufWriter::new(std::fs::File::create(p)?))),
            None => None,
        };
        Ok(Network {
            inner: Arc::new(NetInner {
                mode: Mutex::new(Mode::default()),
                rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
                links: Mutex::default(),
                servers: Mutex::default(),
                stats: Stats::new(zero),
                trace,
                zero,
            }),
        })
    }

    /// Declares server `index`, reached at `socket`; it starts down. The
    /// socket's folder must exist: it is opened now, and the socket found
    /// in it at each connection without following links (see
    /// [`socket::NodeSocket`]).
    ///
    /// # Panics
    /// If the folder cannot be opened (create it first).
    pub fn add_server(&self, index: usize, socket: &Path) {
        self.add_server_owned_by(index, socket, None).unwrap_or_else(|e| {
            panic!(
                "Network::add_server: cannot open the folder of {}: {e} (create it first)",
                socket.display()
            )
        });
    }

    /// [`Network::add_server`] for a server whose socket must belong to
    /// uid `owner` (a sandboxed node's), when given: any other socket there
    /// is refused, and the calls to it lost.
    ///
    /// # Errors
    /// If the socket's folder cannot be opened.
    pub fn add_server_owned_by(
        &self,
        index: usize,
        socket: &Path,
        owner: Option<u32>,
    ) -> std::io::Result<()> {
        let socket = NodeSocket::new(socket, owner)?;
        let mut servers = self.inner.servers.lock().expect("servers lock");
        assert_eq!(servers.len(), index, "servers must be added in order");
        servers.push(Arc::new(ServerSlot {
            index,
            socket,
            alive: AtomicBool::new(false),
            incarnation: AtomicU64::new(0),
        }));
        Ok(())
    }

    /// Opens the link `from → to` on a new socket at `listen`, disabled.
    /// `listen`'s folder must be one no node can write ([`socket::bind`]).
    /// Must be called inside the network's tokio runtime.
    pub fn add_link(&self, from: EndId, to: usize, listen: &Path) -> std::io::Result<()> {
        let slot = self.inner.servers.lock().expect("servers lock")[to].clone();
        let link = Arc::new(Link {
            from,
            to: slot,
            enabled: AtomicBool::new(false),
            requests_blocked: AtomicBool::new(false),
            replies_dropped: AtomicBool::new(false),
            reply_delay_us: AtomicU64::new(0),
            held: Mutex::default(),
            held_replies: Mutex::default(),
            callers: Mutex::default(),
        });
        let listener = socket::bind(listen)?;
        self.inner.links.lock().expect("links lock").insert((from, to), link.clone());
        let net = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(net.clone().serve_caller(link.clone(), stream));
            }
        });
        Ok(())
    }

    /// Enables or disables the link `from → to`. Disabling fails the calls in
    /// flight on it at once, as labrpc does when it finds an endpoint disabled.
    pub fn set_link(&self, from: EndId, to: usize, enabled: bool) {
        let link = self.link(from, to);
        link.enabled.store(enabled, Ordering::SeqCst);
        if !enabled {
            let callers: Vec<_> =
                link.callers.lock().expect("callers lock").iter().filter_map(Weak::upgrade).collect();
            for c in callers {
                c.fail_all();
            }
        }
    }

    fn link(&self, from: EndId, to: usize) -> Arc<Link> {
        let link = self.inner.links.lock().expect("links lock").get(&(from, to)).cloned();
        link.unwrap_or_else(|| panic!("no link {from} -> {to}: add_link it first"))
    }

    /// Blocks or unblocks new requests on the link `from → to`, a one-way
    /// cut: while blocked, each new call is lost (after the mode's loss
    /// delay), but calls the server already received are still answered.
    pub fn set_requests_blocked(&self, from: EndId, to: usize, blocked: bool) {
        self.link(from, to).requests_blocked.store(blocked, Ordering::SeqCst);
    }

    /// Drops (or stops dropping) every reply on the link `from → to`: calls
    /// are delivered and their handlers run, but each caller sees a loss,
    /// as with labrpc's unreliable replies, on every call.
    pub fn set_replies_dropped(&self, from: EndId, to: usize, dropped: bool) {
        self.link(from, to).replies_dropped.store(dropped, Ordering::SeqCst);
    }

    /// Delays every reply on the link `from → to` by `delay` more than the
    /// mode would (zero restores the mode's timing). A reply already on its
    /// way keeps the delay it was given.
    pub fn set_reply_delay(&self, from: EndId, to: usize, delay: Duration) {
        let us = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.link(from, to).reply_delay_us.store(us, Ordering::SeqCst);
    }

    /// Holds (or stops holding) the new requests for `method` on the link
    /// `from → to`: while held, each one that would have been delivered is
    /// kept instead, and its caller sees it lost at once, as if the network had dropped it. What is kept stays until
    /// [`Network::clear_held`], for [`Network::replay_held`].
    pub fn set_requests_held(&self, from: EndId, to: usize, method: &str, held: bool) {
        let link = self.link(from, to);
        let mut h = link.held.lock().expect("held lock");
        h.methods.retain(|m| m != method);
        if held {
            h.methods.push(method.to_string());
        }
    }

    /// Holds (or releases) every reply on the link `from → to`: while held,
    /// each answer the server sends (that the mode would deliver) is kept;
    /// releasing delivers them all at once, in order, to their callers —
    /// answers that arrive late, maybe after the caller has moved on.
    pub fn set_replies_held(&self, from: EndId, to: usize, held: bool) {
        let link = self.link(from, to);
        let mut slot = link.held_replies.lock().expect("held replies lock");
        match (held, slot.is_some()) {
            (true, false) => *slot = Some(Vec::new()),
            (false, true) => {
                for (tx, frame) in slot.take().unwrap_or_default() {
                    let _ = tx.send(frame.bytes());
                }
            }
            _ => {}
        }
    }

    /// How many replies are held on the link `from → to`.
    pub fn held_replies(&self, from: EndId, to: usize) -> usize {
        self.link(from, to).held_replies.lock().expect("held replies lock").as_ref().map_or(0, Vec::len)
    }

    /// How many requests for `method` are kept on the link `from → to`.
    pub fn held_count(&self, from: EndId, to: usize, method: &str) -> usize {
        self.link(from, to)
            .held
            .lock()
            .expect("held lock")
            .frames
            .iter()
            .filter(|f| f.method() == method)
            .count()
    }

    /// Forgets the requests kept on the link `from → to`.
    pub fn clear_held(&self, from: EndId, to: usize) {
        self.link(from, to).held.lock().expect("held lock").frames.clear();
    }

    /// Delivers a copy of every request for `method` kept on the link
    /// `from → to` to the server's current incarnation, past every fault (a
    /// request that was delayed in the network arrives late): oldest first,
    /// each once the one before was answered. Their answers are dropped:
    /// the caller gave up on them long ago. Stops when `wait` has passed and
    /// returns how many were answered. The requests stay kept, so a test
    /// may replay them again. Must be called inside the network's runtime.
    pub async fn replay_held(&self, from: EndId, to: usize, method: &str, wait: Duration) -> usize {
        let link = self.link(from, to);
        let frames: Vec<Frame> = link
            .held
            .lock()
            .expect("held lock")
            .frames
            .iter()
            .filter(|f| f.method() == method)
            .cloned()
            .collect();
        if frames.is_empty() || !link.to.alive.load(Ordering::SeqCst) {
            return 0;
        }
        let stream = match link.to.socket.connect().await {
            Ok(stream) => stream,
            Err(e) => {
                self.trace(format_args!("{from}->{to} replay: server unreachable: {e}"));
                return 0;
            }
        };
        let (read, mut write) = stream.into_split();
        let mut replies = FrameReader::new(read);
        let deadline = tokio::time::Instant::now() + wait;
        let mut answered = 0;
        // One at a time: the server handles each before it sees the next.
        for f in &frames {
            self.inner.stats.delivered(link.to.index, f.method());
            self.trace(format_args!("{}->{} {} #{}: replayed", from, to, f.method(), f.call_id()));
            if tokio::io::AsyncWriteExt::write_all(&mut write, f.as_bytes()).await.is_err() {
                break;
            }
            match tokio::time::timeout_at(deadline, replies.next()).await {
                Ok(Ok(Some(_))) => answered += 1,
                _ => break,
            }
        }
        answered
    }

    /// Lifts every one-way fault on every link: blocked requests, dropped
    /// and delayed replies, held requests (those already held are
    /// forgotten), held replies (delivered now). Links stay enabled or disabled as they were.
    pub fn lift_one_way_faults(&self) {
        let links: Vec<Arc<Link>> = self.inner.links.lock().expect("links lock").values().cloned().collect();
        for link in links {
            link.requests_blocked.store(false, Ordering::SeqCst);
            link.replies_dropped.store(false, Ordering::SeqCst);
            link.reply_delay_us.store(0, Ordering::SeqCst);
            *link.held.lock().expect("held lock") = Held::default();
            for (tx, frame) in link.held_replies.lock().expect("held replies lock").take().unwrap_or_default()
            {
                let _ = tx.send(frame.bytes());
            }
        }
    }

    /// Sets the network's mode.
    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().expect("mode lock") = mode;
    }

    /// The network's mode.
    pub fn mode(&self) -> Mode {
        *self.inner.mode.lock().expect("mode lock")
    }

    /// Server `index` died (or is about to be killed): calls to it are lost,
    /// and replies from this incarnation are never delivered.
    pub fn server_down(&self, index: usize) {
        let slot = self.inner.servers.lock().expect("servers lock")[index].clone();
        slot.alive.store(false, Ordering::SeqCst);
        slot.incarnation.fetch_add(1, Ordering::SeqCst);
    }

    /// Server `index` (a new incarnation) serves at its socket.
    pub fn server_up(&self, index: usize) {
        let slot = self.inner.servers.lock().expect("servers lock")[index].clone();
        slot.alive.store(true, Ordering::SeqCst);
    }

    /// The network's counters.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    fn trace(&self, line: std::fmt::Arguments<'_>) {
        if let Some(t) = &self.inner.trace {
            let at = control::clock::stamp(control::clock::since(self.inner.zero));
            let _ = writeln!(t.lock().expect("trace lock"), "{at} {line}");
        }
    }
}
