//! The grading kit's stamp: a name for its content. A grader (or the
//! self-check) rebuilds its warm build of the skeletons when the stamp
//! changes, and only then, so the stamp is rewritten only when the content
//! changed.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The stamp of the regular files under `folders` of `root` (links and
/// special files are not content): the SHA-256 of one line per file,
/// `<sha-256 of the file>  <path from root>`, sorted by path byte for byte —
/// what `find FOLDERS -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
/// | sha256sum` prints, run in `root`.
pub fn of(root: &Path, folders: &[&str]) -> std::io::Result<String> {
    let mut files: Vec<PathBuf> = Vec::new();
    for folder in folders {
        regular_files(root, Path::new(folder), &mut files)?;
    }
    files.sort_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
    let mut all = Sha256::new();
    for rel in &files {
        let digest = file_digest(&root.join(rel))?;
        all.update(format!("{digest}  {}\n", rel.display()));
    }
    Ok(hex(&all.finalize()))
}

/// Writes `stamp` to `file` unless it already says so; whether it wrote.
pub fn write_if_changed(file: &Path, stamp: &str) -> std::io::Result<bool> {
    if std::fs::read_to_string(file).is_ok_and(|old| old.trim_end() == stamp) {
        return Ok(false);
    }
    std::fs::write(file, format!("{stamp}\n"))?;
    Ok(true)
}

/// Appends the regular files under `root/rel` (paths from `root`), links not followed.
fn regular_files(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let child = rel.join(entry.file_name());
        if kind.is_dir() {
            regular_files(root, &child, out)?;
        } else if kind.is_file() {
            out.push(child);
        }
    }
    Ok(())
}

/// The SHA-256 of a file's bytes, in hex.
fn file_digest(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hash.update(&buf[..n]),
        }
    }
    Ok(hex(&hash.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) {
        for (p, text) in [("a/x.rs", "x"), ("a/sub/y.rs", "y"), ("b/Z.toml", "z"), ("c/ignored", "c")] {
            std::fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
            std::fs::write(root.join(p), text).unwrap();
        }
        std::os::unix::fs::symlink("x.rs", root.join("a/link.rs")).unwrap();
    }

    #[test]
    fn the_stamp_names_the_content_of_its_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        let first = of(dir.path(), &["a", "b"]).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(of(dir.path(), &["a", "b"]).unwrap(), first, "the same content, the same stamp");
        std::fs::write(dir.path().join("c/ignored"), "changed").unwrap();
        assert_eq!(of(dir.path(), &["a", "b"]).unwrap(), first, "c/ is not stamped");
        std::fs::write(dir.path().join("a/sub/y.rs"), "y2").unwrap();
        assert_ne!(of(dir.path(), &["a", "b"]).unwrap(), first, "a file's bytes");
        std::fs::write(dir.path().join("a/sub/y.rs"), "y").unwrap();
        std::fs::rename(dir.path().join("b/Z.toml"), dir.path().join("b/W.toml")).unwrap();
        assert_ne!(of(dir.path(), &["a", "b"]).unwrap(), first, "a file's name");
    }

    #[test]
    fn the_stamp_is_what_sha256sum_prints_over_sorted_files() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        let shell = std::process::Command::new("sh")
            .arg("-c")
            .arg("find a b -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1")
            .current_dir(dir.path())
            .output();
        let Some(shell) = shell.ok().filter(|o| o.status.success()) else {
            eprintln!("skipped: no sh, find or sha256sum here");
            return;
        };
        assert_eq!(String::from_utf8_lossy(&shell.stdout).trim(), of(dir.path(), &["a", "b"]).unwrap());
    }

    #[test]
    fn the_stamp_file_is_rewritten_only_when_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stamp");
        assert!(write_if_changed(&file, "abc").unwrap());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "abc\n");
        let before = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!write_if_changed(&file, "abc").unwrap());
        assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), before, "not touched");
        assert!(write_if_changed(&file, "abd").unwrap());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "abd\n");
    }
}
