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

/// Copies regular files (not sockets) recursively.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}
