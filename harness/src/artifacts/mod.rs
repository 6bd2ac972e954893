//! Reading a test's artifact folder back: the node logs (`nN.log`), the
//! harness's `timeline.log`, `activity.log` and `network.log`. Every file
//! stamps its lines with seconds since the test began on one clock
//! ([`control::clock`]), so they merge exactly.
//!
//! * [`merge`] + [`render`]: one time-ordered text view with a column per
//!   node and the harness's events across all of them (`labs logs DIR`).
//! * [`page`]: a self-contained HTML timeline of the run (`timeline.html`,
//!   written into every failing test's folder; `labs timeline DIR`).

pub mod events;
pub mod logline;
pub mod merge;
pub mod page;
pub mod render;
pub mod topics;

use std::path::{Path, PathBuf};

/// The name of the harness's events file.
pub const TIMELINE_LOG: &str = "timeline.log";
/// The name of the applies/commits/RPC-rates file ([`crate::activity`]).
pub const ACTIVITY_LOG: &str = "activity.log";
/// The name of the network trace (`LAB_TRACE_NET=1`).
pub const NETWORK_LOG: &str = "network.log";
/// The name of the visual timeline.
pub const TIMELINE_HTML: &str = "timeline.html";

/// The files of an artifact folder.
#[derive(Debug)]
pub struct Folder {
    /// The folder.
    pub path: PathBuf,
    /// Each node's log, by node index, in index order.
    pub logs: Vec<(usize, PathBuf)>,
}

impl Folder {
    /// The artifact folder at `path`: it must hold a `timeline.log` or a
    /// node log.
    pub fn open(path: &Path) -> Result<Folder, String> {
        let entries =
            std::fs::read_dir(path).map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
        let mut logs: Vec<(usize, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let n = name.strip_prefix('n')?.strip_suffix(".log")?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect();
        logs.sort();
        let folder = Folder { path: path.to_path_buf(), logs };
        if folder.logs.is_empty() && !folder.file(TIMELINE_LOG).is_file() {
            return Err(format!(
                "{} is not a test's artifact folder: it has neither {TIMELINE_LOG} nor node logs (n0.log, …)",
                path.display()
            ));
        }
        Ok(folder)
    }

    /// A file of the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The contents of a file of the folder; empty if it is missing.
    pub fn read(&self, name: &str) -> String {
        read_lossy(&self.file(name))
    }

    /// Each node's log, read.
    pub fn read_logs(&self) -> Vec<(usize, String)> {
        self.logs.iter().map(|(n, p)| (*n, read_lossy(p))).collect()
    }
}

/// A file's text, invalid UTF-8 replaced; empty if it cannot be read.
fn read_lossy(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        }
        Err(_) => String::new(),
    }
}
