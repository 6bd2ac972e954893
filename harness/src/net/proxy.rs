//! The proxy's data path: each caller connection's requests judged and
//! forwarded (or lost, or held), and the server's replies judged and relayed
//! back, with the faults the [`Network`] handle has set.

use super::rules::{self, ReplyVerdict, RequestVerdict, StaleCopy};
use super::{Link, Network};
use labrpc::sink::FrameSink;
use labrpc::wire::{Frame, FrameReader, Kind};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::net::UnixStream;

/// Frames gathered from one read and written with one write, at most.
const MAX_BATCH: usize = 256;
/// How long a stale copy's answer is awaited once the copy is delivered.
const STALE_ANSWER_WAIT: Duration = Duration::from_secs(2);

/// One connection from a caller on a link.
pub(super) struct Caller {
    to_caller: FrameSink,
    /// Calls forwarded and not yet answered: call id → server incarnation.
    pending: Mutex<HashMap<u64, u64>>,
    /// Calls whose answer a stale copy carries: the original's is dropped.
    answered_late: Mutex<HashSet<u64>>,
    upstream: tokio::sync::Mutex<Option<(u64, FrameSink)>>,
}

/// The frame that tells a caller its call `call_id` was lost.
fn lost_frame(call_id: u64) -> bytes::Bytes {
    Frame::new(Kind::Lost, call_id, "", &[]).bytes()
}

impl Network {
    pub(super) async fn serve_caller(self, link: Arc<Link>, stream: UnixStream) {
        let (read, write) = stream.into_split();
        let caller = Arc::new(Caller {
            to_caller: FrameSink::new(write),
            pending: Mutex::default(),
            answered_late: Mutex::default(),
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
        self.inner.stats.sent(link.from, link.to.index, frame.method());
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
        let (verdict, copy) = {
            let mut rng = self.inner.rng.lock().expect("rng lock");
            let verdict = rules::request_verdict(mode, reachable, &mut *rng);
            let copy = match verdict {
                RequestVerdict::Deliver(_) => rules::stale_copy(mode, &mut *rng),
                RequestVerdict::Lose(_) => None,
            };
            (verdict, copy)
        };
        self.trace(format_args!(
            "{}->{} {} #{}: {verdict:?}",
            link.from,
            link.to.index,
            frame.method(),
            frame.call_id()
        ));
        if let (Some(copy), RequestVerdict::Deliver(d)) = (copy, verdict) {
            self.send_stale_copy(link, caller, &frame, d + copy.after, copy);
        }
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

    /// Delivers a copy of `frame` to the server `after` from now, on a
    /// connection of its own, if the server is still reachable then. When
    /// the copy answers for the caller, the original's answer is dropped
    /// and the caller gets the copy's, judged as any reply (or a loss).
    fn send_stale_copy(
        &self,
        link: &Arc<Link>,
        caller: &Arc<Caller>,
        frame: &Frame,
        after: Duration,
        copy: StaleCopy,
    ) {
        let id = frame.call_id();
        self.trace(format_args!(
            "{}->{} {} #{id}: stale copy in {after:?}{}",
            link.from,
            link.to.index,
            frame.method(),
            if copy.answers { ", answering" } else { "" }
        ));
        if copy.answers {
            caller.answered_late.lock().expect("answered late lock").insert(id);
        }
        let (net, link, caller, frame) = (self.clone(), link.clone(), Arc::downgrade(caller), frame.clone());
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let answer = net.deliver_copy(&link, &frame).await;
            let Some(caller) = caller.upgrade() else { return };
            if !copy.answers {
                return;
            }
            caller.answered_late.lock().expect("answered late lock").remove(&id);
            let verdict = match answer {
                Some((reply, inc)) => {
                    let reachable = link.enabled.load(Ordering::SeqCst)
                        && link.to.alive.load(Ordering::SeqCst)
                        && link.to.incarnation.load(Ordering::SeqCst) == inc;
                    match rules::reply_verdict(
                        net.mode(),
                        reachable,
                        &mut *net.inner.rng.lock().expect("rng lock"),
                    ) {
                        ReplyVerdict::Deliver(_) => Some(reply),
                        ReplyVerdict::Lose => None,
                    }
                }
                None => None,
            };
            net.trace(format_args!(
                "{}->{} reply #{id} from its stale copy: {}",
                link.from,
                link.to.index,
                if verdict.is_some() { "delivered" } else { "lost" }
            ));
            match verdict {
                Some(reply) => {
                    net.inner.stats.reply(reply.payload().len());
                    let _ = caller.to_caller.send(reply.bytes());
                }
                None => caller.lose_now(id),
            }
        });
    }

    /// Delivers `frame` to the server's current incarnation on a connection
    /// of its own, if the link and the server are up, and returns the
    /// answer with the incarnation that gave it.
    async fn deliver_copy(&self, link: &Link, frame: &Frame) -> Option<(Frame, u64)> {
        let reachable = link.enabled.load(Ordering::SeqCst)
            && link.to.alive.load(Ordering::SeqCst)
            && !link.requests_blocked.load(Ordering::SeqCst);
        if !reachable {
            self.trace(format_args!(
                "{}->{} stale copy #{}: unreachable",
                link.from,
                link.to.index,
                frame.call_id()
            ));
            return None;
        }
        let incarnation = link.to.incarnation.load(Ordering::SeqCst);
        let stream = link.to.socket.connect().await.ok()?;
        let (read, mut write) = stream.into_split();
        self.inner.stats.delivered(link.to.index, frame.method());
        self.trace(format_args!(
            "{}->{} {} #{}: stale copy delivered",
            link.from,
            link.to.index,
            frame.method(),
            frame.call_id()
        ));
        tokio::io::AsyncWriteExt::write_all(&mut write, frame.as_bytes()).await.ok()?;
        let mut replies = FrameReader::new(read);
        match tokio::time::timeout(STALE_ANSWER_WAIT, replies.next()).await {
            Ok(Ok(Some(reply))) => Some((reply, incarnation)),
            _ => None,
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
        let stream = match link.to.socket.connect().await {
            Ok(stream) => stream,
            Err(e) => {
                self.trace(format_args!("{}->{}: server unreachable: {e}", link.from, link.to.index));
                return None;
            }
        };
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
        if caller.answered_late.lock().expect("answered late lock").contains(&frame.call_id()) {
            self.trace(format_args!(
                "{}->{} reply #{}: dropped (its stale copy answers)",
                link.from,
                link.to.index,
                frame.call_id()
            ));
            return;
        }
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
            ReplyVerdict::Lose => now.push(lost_frame(frame.call_id())),
            ReplyVerdict::Deliver(d) => {
                self.inner.stats.reply(frame.payload().len());
                if let Some(held) = link.held_replies.lock().expect("held replies lock").as_mut() {
                    held.push((caller.to_caller.clone(), frame));
                    return;
                }
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
        let _ = self.to_caller.send(lost_frame(call_id));
    }

    fn lose_later(&self, call_id: u64, after: Duration) {
        if after.is_zero() {
            return self.lose_now(call_id);
        }
        let tx = self.to_caller.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = tx.send(lost_frame(call_id));
        });
    }

    pub(super) fn fail_all(&self) {
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
