//! Durable storage for one Raft peer: its Raft state and its snapshot.
//!
//! Both live in one file, `state.bin`, in the peer's data directory, so that a
//! save replaces them together or not at all:
//!
//! ```text
//! magic "RLPS" | version u32 LE = 1 | raft_len u64 LE | snap_len u64 LE
//! | crc32 u32 LE of the two payloads | raft state | snapshot
//! ```
//!
//! A save writes `state.bin.tmp`, fsyncs it, renames it over `state.bin` and
//! fsyncs the directory: when [`Persister::save`] returns, the new state
//! survives a crash, and a crash before the rename leaves the old one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Name of the state file inside a data directory.
pub const STATE_FILE: &str = "state.bin";
const TEMP_FILE: &str = "state.bin.tmp";
const MAGIC: &[u8; 4] = b"RLPS";
const VERSION: u32 = 1;
/// Bytes before the payloads.
pub const HEADER_LEN: usize = 4 + 4 + 8 + 8 + 4;

/// A state file that cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not a state file, is truncated, or fails its checksum.
    #[error("{path}: corrupt state file: {what}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
}

/// Sizes recorded in a state file's header, read without loading the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredSizes {
    /// Bytes of Raft state.
    pub raft_state: u64,
    /// Bytes of snapshot.
    pub snapshot: u64,
}

/// Reads the sizes of the state saved in `dir` (zeros if nothing was saved).
/// For a peer's own use; a tester reading a node's folder reads the file
/// itself, as hostile data, and calls [`sizes_in`].
///
/// # Errors
/// If the file exists but cannot be read or has a bad header.
pub fn stored_sizes(dir: &Path) -> Result<StoredSizes, PersistError> {
    let path = dir.join(STATE_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StoredSizes::default()),
        Err(source) => return Err(PersistError::Io { path, source }),
    };
    sizes_in(&path, &bytes)
}

/// The sizes of the state in `bytes`, the contents of the state file at `path`.
///
/// # Errors
/// If it is not a whole, valid state file.
pub fn sizes_in(path: &Path, bytes: &[u8]) -> Result<StoredSizes, PersistError> {
    let (raft, snap) = decode(path, bytes)?;
    Ok(StoredSizes { raft_state: raft.len() as u64, snapshot: snap.len() as u64 })
}

struct Contents {
    raft_state: Vec<u8>,
    snapshot: Vec<u8>,
}

/// A peer's durable state (6.824's `Persister`).
///
/// Reads are served from memory; [`Persister::save`] is durable when it
/// returns. Durable writes are what limit Raft's speed, so persist once per
/// batch of changes, not once per entry.
pub struct Persister {
    dir: PathBuf,
    contents: Mutex<Contents>,
    fsyncs: AtomicU64,
    saves: AtomicU64,
    /// The tester's slow disk: milliseconds each save waits before it writes.
    save_delay_ms: AtomicU64,
    /// Saves one at a time, the wait included, so a slow save never lets a
    /// later one overtake it; reads go on meanwhile.
    writer: Mutex<()>,
}

impl Persister {
    /// Opens the data directory `dir`, creating it if needed, and loads what
    /// was saved there before (nothing on a first start).
    ///
    /// # Errors
    /// If the directory cannot be created or the state file is unreadable or
    /// corrupt: a peer must never silently start empty over lost state.
    pub fn open(dir: impl AsRef<Path>) -> Result<Persister, PersistError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|source| PersistError::Io { path: dir.clone(), source })?;
        // A temporary file is a save that never reached its rename: ignore it.
        let _ = fs::remove_file(dir.join(TEMP_FILE));
        let path = dir.join(STATE_FILE);
        let contents = match fs::read(&path) {
            Ok(bytes) => {
                let (raft, snap) = decode(&path, &bytes)?;
                Contents { raft_state: raft.to_vec(), snapshot: snap.to_vec() }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Contents { raft_state: Vec::new(), snapshot: Vec::new() }
            }
            Err(source) => return Err(PersistError::Io { path, source }),
        };
        Ok(Persister {
            dir,
            contents: Mutex::new(contents),
            fsyncs: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            save_delay_ms: AtomicU64::new(0),
            writer: Mutex::new(()),
        })
    }

    /// Saves `raft_state` and, when given, a new `snapshot` (otherwise the
    /// current snapshot is kept), durably and atomically together.
    ///
    /// # Panics
    /// Never returns on a failed write: the process prints the error and exits
    /// with status 3, since a peer that cannot persist must not go on.
    pub fn save(&self, raft_state: &[u8], snapshot: Option<&[u8]>) {
        let _one_at_a_time = self.writer.lock().expect("persister writer lock");
        let delay = self.save_delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        let mut contents = self.contents.lock().expect("persister lock");
        let snap = snapshot.unwrap_or(&contents.snapshot);
        if let Err(e) = self.write_durably(raft_state, snap) {
            eprintln!("fatal: cannot persist Raft state: {e}");
            std::process::exit(3);
        }
        contents.raft_state = raft_state.to_vec();
        if let Some(s) = snapshot {
            contents.snapshot = s.to_vec();
        }
        self.saves.fetch_add(1, Ordering::Relaxed);
    }

    /// The last saved Raft state (empty if none).
    pub fn raft_state(&self) -> Vec<u8> {
        self.contents.lock().expect("persister lock").raft_state.clone()
    }

    /// The last saved snapshot (empty if none).
    pub fn snapshot(&self) -> Vec<u8> {
        self.contents.lock().expect("persister lock").snapshot.clone()
    }

    /// Bytes of the last saved Raft state.
    pub fn raft_state_size(&self) -> usize {
        self.contents.lock().expect("persister lock").raft_state.len()
    }

    /// Bytes of the last saved snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.contents.lock().expect("persister lock").snapshot.len()
    }

    /// A fault the tester injects, not for lab code: from now on each save
    /// waits `delay` before it writes anything (a slow disk), so a crash in
    /// that window loses what the save would have made durable. Zero ends it.
    #[doc(hidden)]
    pub fn set_save_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.save_delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Number of completed saves since this process opened the directory.
    pub fn save_count(&self) -> u64 {
        self.saves.load(Ordering::Relaxed)
    }

    /// Number of fsync calls made since this process opened the directory
    /// (two per save: the file and the directory).
    pub fn fsync_count(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    fn write_durably(&self, raft_state: &[u8], snapshot: &[u8]) -> Result<(), PersistError> {
        let tmp = self.write_temp(raft_state, snapshot)?;
        let path = self.dir.join(STATE_FILE);
        fs::rename(&tmp, &path).map_err(|source| PersistError::Io { path: path.clone(), source })?;
        let dir =
            File::open(&self.dir).map_err(|source| PersistError::Io { path: self.dir.clone(), source })?;
        dir.sync_all().map_err(|source| PersistError::Io { path: self.dir.clone(), source })?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// First half of a save: the new contents, fsynced, under the temporary name.
    fn write_temp(&self, raft_state: &[u8], snapshot: &[u8]) -> Result<PathBuf, PersistError> {
        let tmp = self.dir.join(TEMP_FILE);
        let io = |source| PersistError::Io { path: tmp.clone(), source };
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp).map_err(io)?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&(raft_state.len() as u64).to_le_bytes());
        header.extend_from_slice(&(snapshot.len() as u64).to_le_bytes());
        header.extend_from_slice(&crc32(&[raft_state, snapshot]).to_le_bytes());
        file.write_all(&header).map_err(io)?;
        file.write_all(raft_state).map_err(io)?;
        file.write_all(snapshot).map_err(io)?;
        file.sync_all().map_err(io)?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        Ok(tmp)
    }
}

fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), PersistError> {
    let corrupt = |what: String| PersistError::Corrupt { path: path.to_path_buf(), what };
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(format!("{} bytes, shorter than the {HEADER_LEN}-byte header", bytes.len())));
    }
    if &bytes[0..4] != MAGIC {
        return Err(corrupt(format!("starts with {:?}, not the magic \"RLPS\"", &bytes[0..4])));
    }
    let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(corrupt(format!("format version {version}, this build reads version {VERSION}")));
    }
    let raft_len = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    let snap_len = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes")) as usize;
    let want = HEADER_LEN.saturating_add(raft_len).saturating_add(snap_len);
    if bytes.len() != want {
        return Err(corrupt(format!("{} bytes, but its header announces {want}", bytes.len())));
    }
    let crc = u32::from_le_bytes(bytes[24..28].try_into().expect("4 bytes"));
    let raft = &bytes[HEADER_LEN..HEADER_LEN + raft_len];
    let snap = &bytes[HEADER_LEN + raft_len..];
    if crc32(&[raft, snap]) != crc {
        return Err(corrupt("checksum mismatch".to_string()));
    }
    Ok((raft, snap))
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE) over several slices in sequence.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = !0u32;
    for part in parts {
        for &b in *part {
            c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
        }
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
    }

    #[test]
    fn save_survives_reopen_and_keeps_snapshot_when_none_given() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persister::open(dir.path()).unwrap();
        assert!(p.raft_state().is_empty());
        p.save(b"one", Some(b"snap"));
        p.save(b"two", None);
        drop(p);
        let p = Persister::open(dir.path()).unwrap();
        assert_eq!(p.raft_state(), b"two");
        assert_eq!(p.snapshot(), b"snap");
        assert_eq!(stored_sizes(dir.path()).unwrap(), StoredSizes { raft_state: 3, snapshot: 4 });
    }

    #[test]
    fn a_save_interrupted_before_the_rename_leaves_the_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persister::open(dir.path()).unwrap();
        p.save(b"old state", Some(b"old snap"));
        // The crash: the new contents reach the temporary file, never the rename.
        p.write_temp(b"new state", b"new snap").unwrap();
        drop(p);
        let p = Persister::open(dir.path()).unwrap();
        assert_eq!(p.raft_state(), b"old state");
        assert_eq!(p.snapshot(), b"old snap");
        assert!(!dir.path().join(TEMP_FILE).exists(), "the stale temporary file is cleared");
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persister::open(dir.path()).unwrap();
        p.save(b"state", None);
        drop(p);
        let path = dir.path().join(STATE_FILE);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        let err = Persister::open(dir.path()).err().expect("corrupt file must not open");
        let msg = err.to_string();
        assert!(msg.contains("state.bin") && msg.contains("checksum"), "{msg}");
        fs::write(&path, &bytes[..10]).unwrap();
        let msg = Persister::open(dir.path()).err().unwrap().to_string();
        assert!(msg.contains("shorter than"), "{msg}");
    }

    #[test]
    fn a_slow_save_writes_nothing_before_its_delay_and_blocks_no_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = std::sync::Arc::new(Persister::open(dir.path()).unwrap());
        p.save(b"old", None);
        p.set_save_delay(Duration::from_millis(1500));
        let saver = {
            let p = p.clone();
            std::thread::spawn(move || p.save(b"new", None))
        };
        std::thread::sleep(Duration::from_millis(50));
        // Mid-save: a read answers at once with the old state, and the disk
        // still holds it (a crash now would lose the new one).
        assert_eq!(p.raft_state(), b"old");
        let path = dir.path().join(STATE_FILE);
        let on_disk = fs::read(&path).unwrap();
        assert_eq!(decode(&path, &on_disk).unwrap().0, b"old");
        saver.join().unwrap();
        assert_eq!(p.raft_state(), b"new");
        p.set_save_delay(Duration::ZERO);
        p.save(b"fast", None);
        assert_eq!(p.raft_state(), b"fast");
    }

    #[test]
    fn every_save_fsyncs_file_and_directory() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persister::open(dir.path()).unwrap();
        p.save(b"a", None);
        p.save(b"b", None);
        assert_eq!((p.save_count(), p.fsync_count()), (2, 4));
    }
}
