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
//! [`Network::replay_held`] delivers copies of them later, stale.

pub mod rules;
pub mod stats;

use labrpc::sink::FrameSink;
use labrpc::wire::{Frame, FrameReader, Kind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rules::{Mode, ReplyVerdict, RequestVerdict};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::net::{UnixListener, UnixStream};

pub use stats::Stats;

/// Frames gathered from one read and written with one write, at most.
const MAX_BATCH: usize = 256;

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
    started: Instant,
}

struct ServerSlot {
    index: usize,
    socket: PathBuf,
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
    callers: Mutex<Vec<Weak<Caller>>>,
}

/// Requests of some methods kept back on a link, oldest first.
#[derive(Default)]
struct Held {
    /// The methods whose new requests are held.
    methods: Vec<String>,
    frames: Vec<Frame>,
}

/// One connection from a caller on a link.
struct Caller {
    to_caller: FrameSink,
    /// Calls forwarded and not yet answered: call id → server incarnation.
    pending: Mutex<HashMap<u64, u64>>,
    upstream: tokio::sync::Mutex<Option<(u64, FrameSink)>>,
}

impl Network {
    /// A network whose choices all come from `seed`. With `trace`, every
    /// decision is written to that file.
    pub fn new(seed: u64, trace: Option<&Path>) -> std::io::Result<Network> {
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
                stats: Stats::default(),
                trace,
                started: Instant::now(),
            }),
        })
    }

    /// Declares server `index`, reached at `socket`; it starts down.
    pub fn add_server(&self, index: usize, socket: &Path) {
        let mut servers = self.inner.servers.lock().expect("servers lock");
        assert_eq!(servers.len(), index, "servers must be added in order");
        servers.push(Arc::new(ServerSlot {
            index,
            socket: socket.to_path_buf(),
            alive: AtomicBool::new(false),
            incarnation: AtomicU64::new(0),
        }));
    }

    /// Opens the link `from → to` on a new socket at `listen`, disabled.
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
            callers: Mutex::default(),
        });
        let _ = std::fs::remove_file(listen);
        let listener = UnixListener::bind(listen)?;
        crate::sandbox::open_socket(listen)?;
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
        let Ok(stream) = UnixStream::connect(&link.to.socket).await else { return 0 };
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

    /// Whether the link `from → to` is enabled.
    pub fn link_enabled(&self, from: EndId, to: usize) -> bool {
        self.inner
            .links
            .lock()
            .expect("links lock")
            .get(&(from, to))
            .is_some_and(|l| l.enabled.load(Ordering::SeqCst))
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
            let at = self.inner.started.elapsed().as_secs_f64();
            let _ = writeln!(t.lock().expect("trace lock"), "{at:10.6} {line}");
        }
    }

    async fn serve_caller(self, link: Arc<Link>, stream: UnixStream) {
        let (read, write) = stream.into_split();
        let caller = Arc::new(Caller {
            to_caller: FrameSink::new(write),
            pending: Mutex::default(),
            upstream: tokio::sync::Mutex::new(None),
        });
        {
            let mut callers = link.callers.lock().expect("callers lock");
            callers.retain(|w| w.strong_count() > 0);
            callers.push(Arc::downgrade(&caller));
        }
        let mut frames = FrameReader::new(read);
        // Frames that arrived in one read are forwarded with one write.
        let mut out = Outgoing::default();
        'conn: loop {
            let mut batch = match frames.next().await {
                Ok(Some(f)) => vec![f],
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("proxy {}->{}: closing a caller: {e}", link.from, link.to.index);
                    break;
                }
            };
            while batch.len() < MAX_BATCH {
                match frames.try_next_buffered() {
                    Ok(Some(f)) => batch.push(f),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!("proxy {}->{}: closing a caller: {e}", link.from, link.to.index);
                        break 'conn;
                    }
                }
            }
            for frame in batch {
                if frame.kind() != Kind::Request {
                    tracing::warn!(
                        "proxy {}->{}: closing a caller that sent {frame:?}",
                        link.from,
                        link.to.index
                    );
                    out.flush(&caller);
                    break 'conn;
                }
                self.on_request(&link, &caller, frame, &mut out).await;
            }
            out.flush(&caller);
        }
        // The caller is gone: close its upstream so late replies go nowhere.
        if let Some((_, up)) = caller.upstream.lock().await.take() {
            up.close();
        }
    }

    async fn on_request(&self, link: &Arc<Link>, caller: &Arc<Caller>, frame: Frame, out: &mut Outgoing) {
        self.inner.stats.call(frame.payload().len());
        let reachable = link.enabled.load(Ordering::SeqCst)
            && link.to.alive.load(Ordering::SeqCst)
            && !link.requests_blocked.load(Ordering::SeqCst);
        let mode = self.mode();
        if reachable && self.hold(link, &frame) {
            self.trace(format_args!(
                "{}->{} {} #{}: held",
                link.from,
                link.to.index,
                frame.method(),
                frame.call_id()
            ));
            return caller.lose_now(frame.call_id());
        }
        let verdict = rules::request_verdict(mode, reachable, &mut *self.inner.rng.lock().expect("rng lock"));
        self.trace(format_args!(
            "{}->{} {} #{}: {verdict:?}",
            link.from,
            link.to.index,
            frame.method(),
            frame.call_id()
        ));
        match verdict {
            RequestVerdict::Deliver(d) if d.is_zero() => self.forward(link, caller, frame, out).await,
            RequestVerdict::Deliver(d) => {
                let (net, link, caller) = (self.clone(), link.clone(), caller.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    let mut out = Outgoing::default();
                    net.forward(&link, &caller, frame, &mut out).await;
                    out.flush(&caller);
                });
            }
            RequestVerdict::Lose(d) => caller.lose_later(frame.call_id(), d),
        }
    }

    /// Keeps `frame` if its method is held on `link`; says whether it did.
    fn hold(&self, link: &Link, frame: &Frame) -> bool {
        let mut held = link.held.lock().expect("held lock");
        if !held.methods.iter().any(|m| m == frame.method()) {
            return false;
        }
        held.frames.push(frame.clone());
        true
    }

    /// Queues `frame` in `out` for the server's current incarnation.
    async fn forward(&self, link: &Arc<Link>, caller: &Arc<Caller>, frame: Frame, out: &mut Outgoing) {
        let incarnation = link.to.incarnation.load(Ordering::SeqCst);
        let upstream = match self.upstream(link, caller, incarnation).await {
            Some(tx) => tx,
            None => return caller.lose_now(frame.call_id()),
        };
        caller.pending.lock().expect("pending lock").insert(frame.call_id(), incarnation);
        self.inner.stats.delivered(link.to.index, frame.method());
        out.push(&upstream, caller, frame);
    }

    /// The caller's connection to the server's current incarnation, dialled
    /// on first use.
    async fn upstream(&self, link: &Arc<Link>, caller: &Arc<Caller>, incarnation: u64) -> Option<FrameSink> {
        let mut slot = caller.upstream.lock().await;
        if let Some((inc, tx)) = slot.as_ref()
            && *inc == incarnation
            && !tx.is_closed()
        {
            return Some(tx.clone());
        }
        if let Some((_, old)) = slot.take() {
            old.close();
        }
        let stream = UnixStream::connect(&link.to.socket).await.ok()?;
        let (read, write) = stream.into_split();
        let tx = FrameSink::new(write);
        let (net, link, weak) = (self.clone(), link.clone(), Arc::downgrade(caller));
        tokio::spawn(async move { net.relay_replies(link, weak, read, incarnation).await });
        *slot = Some((incarnation, tx.clone()));
        Some(tx)
    }

    async fn relay_replies(
        self,
        link: Arc<Link>,
        caller: Weak<Caller>,
        read: tokio::net::unix::OwnedReadHalf,
        incarnation: u64,
    ) {
        let mut frames = FrameReader::new(read);
        'conn: while let Ok(Some(first)) = frames.next().await {
            let Some(caller) = caller.upgrade() else { return };
            let mut now = Vec::new();
            let mut frame = Some(first);
            while let Some(f) = frame.take() {
                self.relay_one(&link, &caller, f, &mut now);
                if now.len() < MAX_BATCH {
                    match frames.try_next_buffered() {
                        Ok(next) => frame = next,
                        Err(_) => {
                            let _ = caller.to_caller.send_batch(now);
                            break 'conn;
                        }
                    }
                }
            }
            let _ = caller.to_caller.send_batch(now);
        }
        // The server's connection ended: its unanswered calls are lost.
        if let Some(caller) = caller.upgrade() {
            caller.fail_incarnation(incarnation);
        }
    }
}

impl Network {
    /// Judges one reply; one to deliver now goes into `now`.
    fn relay_one(&self, link: &Arc<Link>, caller: &Arc<Caller>, frame: Frame, now: &mut Vec<bytes::Bytes>) {
        let Some(inc) = caller.pending.lock().expect("pending lock").remove(&frame.call_id()) else {
            return;
        };
        let reachable = link.enabled.load(Ordering::SeqCst)
            && link.to.alive.load(Ordering::SeqCst)
            && link.to.incarnation.load(Ordering::SeqCst) == inc
            && !link.replies_dropped.load(Ordering::SeqCst);
        let verdict = match rules::reply_verdict(
            self.mode(),
            reachable,
            &mut *self.inner.rng.lock().expect("rng lock"),
        ) {
            ReplyVerdict::Deliver(d) => {
                ReplyVerdict::Deliver(d + Duration::from_micros(link.reply_delay_us.load(Ordering::SeqCst)))
            }
            lose => lose,
        };
        self.trace(format_args!("{}->{} reply #{}: {verdict:?}", link.from, link.to.index, frame.call_id()));
        match verdict {
            ReplyVerdict::Lose => now.push(Frame::new(Kind::Lost, frame.call_id(), "", &[]).bytes()),
            ReplyVerdict::Deliver(d) => {
                self.inner.stats.reply(frame.payload().len());
                if d.is_zero() {
                    now.push(frame.bytes());
                } else {
                    let tx = caller.to_caller.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(d).await;
                        let _ = tx.send(frame.bytes());
                    });
                }
            }
        }
    }
}

/// Frames on their way to one upstream connection, written together.
#[derive(Default)]
struct Outgoing {
    sink: Option<FrameSink>,
    frames: Vec<bytes::Bytes>,
    ids: Vec<u64>,
}

impl Outgoing {
    fn push(&mut self, sink: &FrameSink, caller: &Caller, frame: Frame) {
        if self.sink.as_ref().is_some_and(|s| !s.same(sink)) {
            self.flush(caller);
        }
        self.sink.get_or_insert_with(|| sink.clone());
        self.ids.push(frame.call_id());
        self.frames.push(frame.bytes());
    }

    /// Writes what is queued; calls whose frames could not be written are lost.
    fn flush(&mut self, caller: &Caller) {
        let ids = std::mem::take(&mut self.ids);
        let frames = std::mem::take(&mut self.frames);
        if let Some(sink) = self.sink.take()
            && sink.send_batch(frames).is_err()
        {
            for id in ids {
                if caller.pending.lock().expect("pending lock").remove(&id).is_some() {
                    caller.lose_now(id);
                }
            }
        }
    }
}

impl Caller {
    fn lose_now(&self, call_id: u64) {
        let _ = self.to_caller.send(Frame::new(Kind::Lost, call_id, "", &[]).bytes());
    }

    fn lose_later(&self, call_id: u64, after: Duration) {
        if after.is_zero() {
            return self.lose_now(call_id);
        }
        let tx = self.to_caller.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = tx.send(Frame::new(Kind::Lost, call_id, "", &[]).bytes());
        });
    }

    fn fail_all(&self) {
        let ids: Vec<u64> = self.pending.lock().expect("pending lock").drain().map(|(id, _)| id).collect();
        for id in ids {
            self.lose_now(id);
        }
    }

    fn fail_incarnation(&self, incarnation: u64) {
        let mut pending = self.pending.lock().expect("pending lock");
        let ids: Vec<u64> =
            pending.iter().filter(|(_, inc)| **inc == incarnation).map(|(id, _)| *id).collect();
        for id in &ids {
            pending.remove(id);
        }
        drop(pending);
        for id in ids {
            self.lose_now(id);
        }
    }
}
