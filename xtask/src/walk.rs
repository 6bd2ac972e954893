//! Walking and copying folders.

use std::fs;
use std::io;
use std::path::Path;

/// Every file under `dir`, as `/`-separated paths relative to it, sorted;
/// a folder for which `skip` (given its relative path) is true is not
/// entered. Symlinks are listed as files.
pub fn files(dir: &Path, skip: &dyn Fn(&str) -> bool) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    walk(dir, "", skip, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, skip: &dyn Fn(&str) -> bool, out: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if entry.file_type()?.is_dir() {
            if !skip(&rel) {
                walk(&entry.path(), &rel, skip, out)?;
            }
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// Copies the file `from` to `to`, creating `to`'s folder, with its
/// permissions and its modification time (so that a build of the copy
/// kept between runs stays warm).
pub fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::copy(from, to)?;
    keep_mtime(from, to)
}

/// Gives `to` the modification time of `from`.
pub fn keep_mtime(from: &Path, to: &Path) -> io::Result<()> {
    let modified = fs::metadata(from)?.modified()?;
    fs::File::options().write(true).open(to)?.set_modified(modified)
}

/// Copies the folder `from` to `to`, leaving out its build output
/// (`target/` at its top).
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for rel in files(from, &|rel| rel == "target")? {
        copy_file(&from.join(&rel), &to.join(&rel))?;
    }
    Ok(())
}
