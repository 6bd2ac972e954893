//! A frame writer that writes inline when the socket is idle and hands the
//! rest to a background flusher, in order.
//!
//! Sending a frame costs one non-blocking `write` on the caller's own task
//! when nothing is queued: no hop through another task. Only when the
//! socket's buffer is full does the frame wait in a queue, which a flusher
//! task drains with vectored writes as the socket becomes writable.

use bytes::Bytes;
use std::collections::VecDeque;
use std::io::{ErrorKind, IoSlice};
use std::sync::{Arc, Mutex};
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::Notify;

/// Frames queued at most per vectored write.
const MAX_IOVECS: usize = 64;

/// The write side of a connection, shared by every task that sends on it.
#[derive(Clone)]
pub struct FrameSink {
    inner: Arc<Inner>,
}

struct Inner {
    half: OwnedWriteHalf,
    state: Mutex<State>,
    /// Wakes the flusher: frames were queued, the sink closed, or the last
    /// sender went away.
    wake: Arc<Notify>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

#[derive(Default)]
struct State {
    /// Frames not yet fully written, oldest first.
    // Invariant: `written` < queue[0].len() whenever the queue is not empty.
    queue: VecDeque<Bytes>,
    /// Bytes of `queue[0]` already written.
    written: usize,
    /// The connection failed or was closed: every later send fails.
    closed: bool,
}

/// The connection is closed or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is closed")]
pub struct Closed;

impl FrameSink {
    /// Wraps a socket's write half and starts its flusher task (so it must be
    /// called inside a tokio runtime).
    pub fn new(half: OwnedWriteHalf) -> FrameSink {
        let inner = Arc::new(Inner { half, state: Mutex::default(), wake: Arc::new(Notify::new()) });
        tokio::spawn(flush(Arc::downgrade(&inner)));
        FrameSink { inner }
    }

    /// Sends one whole frame, after every frame sent before it.
    ///
    /// # Errors
    /// [`Closed`] if the connection failed or was closed.
    pub fn send(&self, frame: Bytes) -> Result<(), Closed> {
        let mut st = self.inner.state.lock().expect("sink lock");
        if st.closed {
            return Err(Closed);
        }
        if st.queue.is_empty() {
            match self.inner.half.try_write(&frame) {
                Ok(n) if n == frame.len() => return Ok(()),
                Ok(n) => st.written = n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => st.written = 0,
                Err(_) => {
                    st.closed = true;
                    return Err(Closed);
                }
            }
            st.queue.push_back(frame);
            drop(st);
            self.inner.wake.notify_one();
        } else {
            st.queue.push_back(frame);
        }
        Ok(())
    }

    /// Sends several whole frames in order, with one write when the socket
    /// is idle.
    ///
    /// # Errors
    /// [`Closed`] if the connection failed or was closed.
    pub fn send_batch(&self, frames: Vec<Bytes>) -> Result<(), Closed> {
        if frames.len() <= 1 {
            return frames.into_iter().try_for_each(|f| self.send(f));
        }
        let mut st = self.inner.state.lock().expect("sink lock");
        if st.closed {
            return Err(Closed);
        }
        let idle = st.queue.is_empty();
        st.queue.extend(frames);
        if !idle {
            return Ok(());
        }
        match write_some(&self.inner.half, &mut st) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                drop(st);
                self.inner.wake.notify_one();
                Ok(())
            }
            Err(_) => {
                st.closed = true;
                st.queue.clear();
                Err(Closed)
            }
        }
    }

    /// Whether two sinks write to the same connection.
    pub fn same(&self, other: &FrameSink) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Whether sends now fail.
    pub fn is_closed(&self) -> bool {
        self.inner.state.lock().expect("sink lock").closed
    }

    /// Closes the sink: later sends fail, queued frames are dropped.
    pub fn close(&self) {
        let mut st = self.inner.state.lock().expect("sink lock");
        st.closed = true;
        st.queue.clear();
        drop(st);
        self.inner.wake.notify_one();
    }
}

/// Drains the queue whenever it holds frames, until the sink is dropped or closed.
async fn flush(weak: std::sync::Weak<Inner>) {
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let pending = {
            let st = inner.state.lock().expect("sink lock");
            if st.closed {
                return;
            }
            !st.queue.is_empty()
        };
        if !pending {
            let wake = inner.wake.clone();
            drop(inner);
            wake.notified().await;
            continue;
        }
        if inner.half.writable().await.is_err() {
            inner.state.lock().expect("sink lock").closed = true;
            return;
        }
        let mut st = inner.state.lock().expect("sink lock");
        if let Err(e) = write_some(&inner.half, &mut st)
            && e.kind() != ErrorKind::WouldBlock
        {
            st.closed = true;
            st.queue.clear();
            return;
        }
    }
}

/// Writes as much of the queue as the socket takes now.
fn write_some(half: &OwnedWriteHalf, st: &mut State) -> std::io::Result<()> {
    while !st.queue.is_empty() {
        let mut slices = Vec::with_capacity(st.queue.len().min(MAX_IOVECS));
        for (i, frame) in st.queue.iter().take(MAX_IOVECS).enumerate() {
            slices.push(IoSlice::new(if i == 0 { &frame[st.written..] } else { frame }));
        }
        let mut n = half.try_write_vectored(&slices)?;
        while n > 0 {
            let left = st.queue[0].len() - st.written;
            if n >= left {
                n -= left;
                st.queue.pop_front();
                st.written = 0;
            } else {
                st.written += n;
                n = 0;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Frame, FrameReader, Kind};
    use tokio::net::UnixStream;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn frames_arrive_whole_and_in_order_even_when_the_socket_is_full() {
        let (a, b) = UnixStream::pair().unwrap();
        let (_ra, wa) = a.into_split();
        let (rb, _wb) = b.into_split();
        let sink = FrameSink::new(wa);
        // Far more than a socket buffer holds, sent before anyone reads.
        let payload = vec![7u8; 10_000];
        for id in 0..2_000u64 {
            sink.send(Frame::new(Kind::Request, id, "A.B", &payload).bytes()).unwrap();
        }
        let mut reader = FrameReader::new(rb);
        for id in 0..2_000u64 {
            let f = reader.next().await.unwrap().unwrap();
            assert_eq!((f.call_id(), f.payload().len()), (id, payload.len()));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_and_single_frames_interleave_in_order() {
        let (a, b) = UnixStream::pair().unwrap();
        let (_ra, wa) = a.into_split();
        let (rb, _wb) = b.into_split();
        let sink = FrameSink::new(wa);
        let payload = vec![1u8; 3_000];
        let mut id = 0u64;
        let mut next = || {
            id += 1;
            Frame::new(Kind::Reply, id, "", &payload).bytes()
        };
        for round in 0..300 {
            if round % 2 == 0 {
                sink.send(next()).unwrap();
            } else {
                let batch = (0..7).map(|_| next()).collect();
                sink.send_batch(batch).unwrap();
            }
        }
        let total = 150 + 150 * 7;
        let mut reader = FrameReader::new(rb);
        for want in 1..=total as u64 {
            assert_eq!(reader.next().await.unwrap().unwrap().call_id(), want);
        }
    }

    #[tokio::test]
    async fn sends_fail_after_the_peer_is_gone() {
        let (a, b) = UnixStream::pair().unwrap();
        let (_ra, wa) = a.into_split();
        drop(b);
        let sink = FrameSink::new(wa);
        let frame = Frame::new(Kind::Reply, 1, "", b"x").bytes();
        let mut failed = false;
        for _ in 0..100 {
            if sink.send(frame.clone()).is_err() {
                failed = true;
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(failed && sink.is_closed());
    }
}
