//! The per-test directory: sockets, data directories, logs.

use std::path::{Path, PathBuf};

/// Where a test keeps everything. Short (socket paths hold at most 107
/// bytes), under the system temp folder; removed when the test passes, kept
/// (or copied to `LAB_ARTIFACTS`) when it fails.
pub struct TestDir {
    path: PathBuf,
    keep: bool,
}

/// If set, a failing test's files are copied into a folder of this one.
pub const ARTIFACTS_VAR: &str = "LAB_ARTIFACTS";

impl TestDir {
    /// Creates a fresh directory `/tmp/rl-XXXXXX`.
    pub fn create() -> std::io::Result<TestDir> {
        let path = tempfile::Builder::new().prefix("rl-").tempdir_in("/tmp")?.keep();
        Ok(TestDir { path, keep: false })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file or socket inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Keep the directory (the test failed). Returns where its files can be
    /// found: a copy under `LAB_ARTIFACTS` if that is set, else the directory.
    pub fn keep(&mut self, test_name: &str) -> PathBuf {
        self.keep = true;
        match std::env::var_os(ARTIFACTS_VAR) {
            Some(root) => {
                let dest = Path::new(&root).join(sanitize(test_name));
                match copy_tree(&self.path, &dest) {
                    Ok(()) => {
                        self.keep = false;
                        dest
                    }
                    Err(e) => {
                        eprintln!(
                            "cannot copy artifacts to {}: {e}; they stay in {}",
                            dest.display(),
                            self.path.display()
                        );
                        self.path.clone()
                    }
                }
            }
            None => self.path.clone(),
        }
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// At most this many bytes of a test's files are copied to `LAB_ARTIFACTS`:
/// logs and data directories of an honest test are far smaller; a node
/// that fills its data directory does not fill the report.
pub const ARTIFACTS_BUDGET: u64 = 256 * 1024 * 1024;

/// Copies regular files (not sockets, not links) recursively, within
/// [`ARTIFACTS_BUDGET`]; what does not fit is listed in `NOT-COPIED.txt`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut budget = ARTIFACTS_BUDGET;
    let mut skipped = Vec::new();
    copy_within(from, to, &mut budget, &mut skipped)?;
    if !skipped.is_empty() {
        let note = format!(
            "These files were not copied: the artifacts hold at most {ARTIFACTS_BUDGET} bytes.\n{}\n",
            skipped.join("\n")
        );
        std::fs::write(to.join("NOT-COPIED.txt"), note)?;
    }
    Ok(())
}

fn copy_within(from: &Path, to: &Path, budget: &mut u64, skipped: &mut Vec<String>) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_within(&entry.path(), &dest, budget, skipped)?;
        } else if kind.is_file() {
            let len = entry.metadata()?.len();
            if len > *budget {
                skipped.push(format!("{} ({len} bytes)", entry.path().display()));
                continue;
            }
            *budget -= len;
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}
