//! The per-test directory: sockets, data directories, logs.

use runner::untrusted::{Links, Otherwise, Rules, Tree};
use std::path::{Path, PathBuf};

/// Where a test keeps everything. Short (socket paths hold at most 107
/// bytes), under the system temp folder; removed when the test passes, kept
/// (or copied to `LAB_ARTIFACTS`) when it fails.
pub struct TestDir {
    path: PathBuf,
    keep: bool,
}

/// If set, a failing test's files are copied into a folder of this one.
pub const ARTIFACTS_VAR: &str = protocol::env::ARTIFACTS;

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
                let dest = runner::test_run::test_folder(Path::new(&root), test_name);
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

/// At most this many bytes of a test's files are copied to `LAB_ARTIFACTS`:
/// logs and data directories of an honest test are far smaller; a node
/// that fills its data directory does not fill the report.
pub const ARTIFACTS_BUDGET: u64 = 256 * 1024 * 1024;
/// At most this many entries are copied.
pub const ARTIFACTS_ENTRIES: u64 = 20_000;

/// Copies the test folder by [`artifact_rules`]; what was left out is listed
/// in `NOT-COPIED.txt`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let copied =
        Tree::open(from).and_then(|t| t.copy_into(to, &artifact_rules())).map_err(std::io::Error::other)?;
    // Sockets are left out of every test folder's copy: not worth a note.
    let skipped: Vec<&String> = copied.skipped.iter().filter(|s| !s.ends_with(SOCKET_SKIPPED)).collect();
    if !skipped.is_empty() {
        let note = format!(
            "These were not copied: only folders and regular files are, at most {ARTIFACTS_BUDGET} bytes \
             and {ARTIFACTS_ENTRIES} entries.\n{}\n",
            skipped.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
        );
        std::fs::write(to.join("NOT-COPIED.txt"), note)?;
    }
    Ok(())
}

/// How [`Kind::Socket`]'s refusal ends, to leave sockets out of the note.
const SOCKET_SKIPPED: &str = "a socket: only folders and regular files are copied";

/// How a test folder is copied: the folders nodes write (their data and
/// socket folders) are hostile ([`runner::untrusted`]): no links, no special
/// files, bounded, and every file in a subfolder gets `.txt` added to its
/// name, so that no browser opens what a node wrote as a page. The files at
/// the top are the harness's own (a node writes its log through a
/// descriptor, never by name).
fn artifact_rules() -> Rules {
    Rules {
        links: Links::Skip,
        specials: Otherwise::Skip,
        overflow: Otherwise::Skip,
        time: std::time::Duration::from_secs(60),
        inert: |rel| rel.components().count() > 1,
        ..Rules::strict(ARTIFACTS_BUDGET, ARTIFACTS_ENTRIES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_folder_copies_what_nodes_wrote_as_inert_text_and_nothing_else() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        let dest = to.path().join("T");
        std::fs::write(from.path().join("timeline.html"), "kit").unwrap();
        std::fs::write(from.path().join("n0.log"), "log").unwrap();
        std::fs::create_dir_all(from.path().join("d0")).unwrap();
        std::fs::write(from.path().join("d0/timeline.html"), "<script>forged</script>").unwrap();
        std::fs::write(from.path().join("d0/state"), "s").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", from.path().join("d0/passwd")).unwrap();
        nix::unistd::mkfifo(&from.path().join("d0/pipe"), nix::sys::stat::Mode::from_bits_truncate(0o644))
            .unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(from.path().join("d0/s.sock")).unwrap();
        copy_tree(from.path(), &dest).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("timeline.html")).unwrap(), "kit");
        assert!(dest.join("n0.log").is_file());
        assert!(dest.join("d0/timeline.html.txt").is_file() && dest.join("d0/state.txt").is_file());
        assert!(!dest.join("d0/timeline.html").exists() && !dest.join("d0/passwd").exists());
        let note = std::fs::read_to_string(dest.join("NOT-COPIED.txt")).unwrap();
        assert!(note.contains("d0/passwd") && note.contains("d0/pipe") && !note.contains("s.sock"), "{note}");
    }
}
