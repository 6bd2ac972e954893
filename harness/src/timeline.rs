//! What the harness did and saw, with times, for the failure diagnosis.
//! Written by the verbs themselves; test bodies never log by hand.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Entries kept in memory for the diagnosis (the file keeps them all).
const RECENT: usize = 25;

/// A test's timeline: every entry goes to `timeline.log`; the most recent
/// are also kept for the failure message. Its zero is the test's zero on
/// [`control::clock`]: nodes stamp their logs from the same instant.
pub struct Timeline {
    /// When the test began, in nanoseconds of `CLOCK_MONOTONIC`.
    zero: u64,
    file: Mutex<Option<std::io::BufWriter<std::fs::File>>>,
    recent: Mutex<VecDeque<String>>,
}

impl Timeline {
    /// A timeline written to `path`.
    pub fn new(path: &Path) -> Timeline {
        let file = std::fs::File::create(path).ok().map(std::io::BufWriter::new);
        Timeline { zero: control::clock::monotonic_ns(), file: Mutex::new(file), recent: Mutex::default() }
    }

    /// Records one event.
    pub fn record(&self, what: impl AsRef<str>) {
        // An event can quote a node (a violation, a message): shown escaped.
        let what = runner::text::escape_controls(what.as_ref());
        let line = format!("{}  {}", control::clock::stamp(self.now()), what);
        if let Some(f) = self.file.lock().expect("timeline lock").as_mut() {
            let _ = writeln!(f, "{line}");
        }
        let mut recent = self.recent.lock().expect("timeline lock");
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back(line);
    }

    /// When the test began, in nanoseconds of `CLOCK_MONOTONIC` (what
    /// nodes get as `--clock-zero`).
    pub fn zero(&self) -> u64 {
        self.zero
    }

    /// Seconds since the test began.
    pub fn now(&self) -> f64 {
        control::clock::since(self.zero)
    }

    /// The most recent entries, one per line.
    pub fn recent(&self) -> String {
        self.recent
            .lock()
            .expect("timeline lock")
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Writes buffered entries to the file.
    pub fn flush(&self) {
        if let Some(f) = self.file.lock().expect("timeline lock").as_mut() {
            let _ = f.flush();
        }
    }
}
