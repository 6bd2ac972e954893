//! The frame format shared by RPC clients, servers and the test proxy.
//!
//! Every message on a socket is one frame:
//!
//! ```text
//! len: u32 LE      number of bytes that follow this field
//! kind: u8         1 request, 2 reply, 3 lost, 4 fault
//! call_id: u64 LE  chosen by the caller, echoed by the reply
//! mlen: u8         length of the method name
//! method: [u8]     "Service.Method", UTF-8 (may be empty in replies)
//! payload: [u8]    the argument or reply, encoded by [`crate::codec`]
//! ```
//!
//! The header can be read without decoding the payload, so the proxy counts,
//! delays and drops whole calls. [`FrameReader`] checks every frame where it
//! enters and names what was wrong in a [`FrameError`].

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest frame accepted, length prefix excluded (64 MiB).
pub const MAX_FRAME_LEN: usize = 64 << 20;

/// Bytes of the fixed part of a frame after the length prefix: kind, call id, mlen.
const FIXED_HEADER: usize = 1 + 8 + 1;

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A call of a method, sent by a client.
    Request = 1,
    /// The handler's answer to a request.
    Reply = 2,
    /// The network lost the request or its reply (sent by the proxy).
    Lost = 3,
    /// The server could not run the handler (unknown method, undecodable
    /// arguments); the payload is a UTF-8 explanation.
    Fault = 4,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Request),
            2 => Some(Kind::Reply),
            3 => Some(Kind::Lost),
            4 => Some(Kind::Fault),
            _ => None,
        }
    }
}

/// A malformed frame, with what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix exceeds [`MAX_FRAME_LEN`].
    #[error("frame of {len} bytes exceeds the maximum of {MAX_FRAME_LEN} bytes (see labrpc::wire)")]
    TooLarge {
        /// The length the prefix announced.
        len: usize,
    },
    /// The frame is shorter than its own header says.
    #[error("frame of {len} bytes is too short for its header (needs {needed}) (see labrpc::wire)")]
    Truncated {
        /// Bytes after the length prefix.
        len: usize,
        /// Bytes the header requires.
        needed: usize,
    },
    /// The kind byte is not one of 1..=4.
    #[error("frame kind byte {0} is not 1 (request), 2 (reply), 3 (lost) or 4 (fault) (see labrpc::wire)")]
    BadKind(u8),
    /// The method name is not UTF-8.
    #[error("frame method name is not valid UTF-8 (see labrpc::wire)")]
    BadMethod,
    /// The stream ended in the middle of a frame.
    #[error("connection closed in the middle of a frame ({got} of {want} bytes)")]
    UnexpectedEof {
        /// Bytes received.
        got: usize,
        /// Bytes the length prefix announced.
        want: usize,
    },
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}

/// One whole frame, length prefix included, validated on construction.
#[derive(Clone)]
pub struct Frame {
    buf: Bytes,
    method_end: usize,
}

impl Frame {
    /// Builds a frame. Panics if `method` is longer than 255 bytes, which is a
    /// bug in the caller (method names are short literals).
    pub fn new(kind: Kind, call_id: u64, method: &str, payload: &[u8]) -> Frame {
        assert!(method.len() <= 255, "method name {method:?} longer than 255 bytes");
        let body = FIXED_HEADER + method.len() + payload.len();
        let mut buf = BytesMut::with_capacity(4 + body);
        buf.extend_from_slice(&(body as u32).to_le_bytes());
        buf.extend_from_slice(&[kind as u8]);
        buf.extend_from_slice(&call_id.to_le_bytes());
        buf.extend_from_slice(&[method.len() as u8]);
        buf.extend_from_slice(method.as_bytes());
        buf.extend_from_slice(payload);
        Frame { buf: buf.freeze(), method_end: 4 + FIXED_HEADER + method.len() }
    }

    /// Validates a whole frame held in `buf` (length prefix included).
    pub fn parse(buf: Bytes) -> Result<Frame, FrameError> {
        let len = buf.len().saturating_sub(4);
        if buf.len() < 4 + FIXED_HEADER {
            return Err(FrameError::Truncated { len, needed: FIXED_HEADER });
        }
        let announced = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
        if announced != len {
            return Err(FrameError::Truncated { len, needed: announced });
        }
        Kind::from_byte(buf[4]).ok_or(FrameError::BadKind(buf[4]))?;
        let mlen = buf[13] as usize;
        let method_end = 4 + FIXED_HEADER + mlen;
        if buf.len() < method_end {
            return Err(FrameError::Truncated { len, needed: FIXED_HEADER + mlen });
        }
        std::str::from_utf8(&buf[4 + FIXED_HEADER..method_end]).map_err(|_| FrameError::BadMethod)?;
        Ok(Frame { buf, method_end })
    }

    /// What the frame carries.
    pub fn kind(&self) -> Kind {
        Kind::from_byte(self.buf[4]).expect("validated in parse")
    }

    /// The caller's id for this call.
    pub fn call_id(&self) -> u64 {
        u64::from_le_bytes(self.buf[5..13].try_into().expect("8 bytes"))
    }

    /// The method name ("Raft.RequestVote"); may be empty in replies.
    pub fn method(&self) -> &str {
        std::str::from_utf8(&self.buf[4 + FIXED_HEADER..self.method_end]).expect("validated in parse")
    }

    /// The encoded argument or reply.
    pub fn payload(&self) -> &[u8] {
        &self.buf[self.method_end..]
    }

    /// The whole frame as sent on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The whole frame as a shared buffer.
    pub fn bytes(&self) -> Bytes {
        self.buf.clone()
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("kind", &self.kind())
            .field("call_id", &self.call_id())
            .field("method", &self.method())
            .field("payload_len", &self.payload().len())
            .finish()
    }
}

/// Reads frames from a byte stream, buffering so that many small frames cost
/// one system call.
pub struct FrameReader<R> {
    inner: R,
    buf: BytesMut,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Wraps a stream.
    pub fn new(inner: R) -> Self {
        FrameReader { inner, buf: BytesMut::with_capacity(64 * 1024) }
    }

    /// A frame already in the buffer, without reading from the stream: lets a
    /// forwarder gather what one read brought and write it in one go.
    pub fn try_next_buffered(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = (&self.buf[..4]).get_u32_le() as usize;
        if len > MAX_FRAME_LEN {
            return Err(FrameError::TooLarge { len });
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        Frame::parse(self.buf.split_to(4 + len).freeze()).map(Some)
    }

    /// The next frame, `Ok(None)` at a clean end of stream, or the reason the
    /// stream is unusable.
    pub async fn next(&mut self) -> Result<Option<Frame>, FrameError> {
        loop {
            if self.buf.len() >= 4 {
                let len = (&self.buf[..4]).get_u32_le() as usize;
                if len > MAX_FRAME_LEN {
                    return Err(FrameError::TooLarge { len });
                }
                if self.buf.len() >= 4 + len {
                    let whole = self.buf.split_to(4 + len).freeze();
                    return Frame::parse(whole).map(Some);
                }
                self.buf.reserve(4 + len - self.buf.len());
            }
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let want = if self.buf.len() >= 4 { 4 + (&self.buf[..4]).get_u32_le() as usize } else { 4 };
                return Err(FrameError::UnexpectedEof { got: self.buf.len(), want });
            }
        }
    }
}

/// Writes queued frames to a stream, coalescing whatever is queued into one
/// write. Returns when the queue closes or the stream fails.
pub async fn write_frames<W>(
    mut out: W,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Bytes>,
) -> std::io::Result<()>
where
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let mut batch: Vec<u8> = Vec::with_capacity(64 * 1024);
    while let Some(first) = rx.recv().await {
        if rx.is_empty() {
            out.write_all(&first).await?;
            continue;
        }
        batch.clear();
        batch.extend_from_slice(&first);
        while batch.len() < 256 * 1024 {
            match rx.try_recv() {
                Ok(more) => batch.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        out.write_all(&batch).await?;
    }
    out.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trips_its_header() {
        let f = Frame::new(Kind::Request, 42, "Raft.RequestVote", b"abc");
        let g = Frame::parse(f.bytes()).unwrap();
        assert_eq!(g.kind(), Kind::Request);
        assert_eq!(g.call_id(), 42);
        assert_eq!(g.method(), "Raft.RequestVote");
        assert_eq!(g.payload(), b"abc");
    }

    #[test]
    fn bad_kind_is_named() {
        let f = Frame::new(Kind::Reply, 1, "", b"");
        let mut raw = f.as_bytes().to_vec();
        raw[4] = 9;
        let err = Frame::parse(Bytes::from(raw)).unwrap_err();
        assert!(err.to_string().contains("kind byte 9"), "{err}");
    }

    #[test]
    fn method_longer_than_frame_is_truncated() {
        let f = Frame::new(Kind::Request, 1, "ab", b"");
        let mut raw = f.as_bytes().to_vec();
        raw[13] = 200;
        let err = Frame::parse(Bytes::from(raw)).unwrap_err();
        assert!(matches!(err, FrameError::Truncated { .. }), "{err}");
    }

    #[tokio::test]
    async fn oversized_length_is_rejected_before_reading() {
        let raw = ((MAX_FRAME_LEN + 1) as u32).to_le_bytes();
        let mut r = FrameReader::new(&raw[..]);
        let err = r.next().await.unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { .. }), "{err}");
    }

    #[tokio::test]
    async fn reader_splits_concatenated_frames_and_reports_eof_mid_frame() {
        let mut raw = Vec::new();
        raw.extend_from_slice(Frame::new(Kind::Request, 1, "A.b", b"x").as_bytes());
        raw.extend_from_slice(Frame::new(Kind::Reply, 1, "", b"yz").as_bytes());
        raw.extend_from_slice(&Frame::new(Kind::Reply, 2, "", b"cut").as_bytes()[..8]);
        let mut r = FrameReader::new(&raw[..]);
        assert_eq!(r.next().await.unwrap().unwrap().method(), "A.b");
        assert_eq!(r.next().await.unwrap().unwrap().payload(), b"yz");
        assert!(matches!(r.next().await, Err(FrameError::UnexpectedEof { got: 8, .. })));
    }
}
