//! Copying the kit's own folders exactly (a link is copied as the same
//! link, never followed), and the kit's permissions: only its writer may
//! change it, everyone may read it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Copies folder `from` to `to` (which must not exist): folders, regular
/// files with their permissions, and links as links with the same target;
/// the top-level entries named in `skip` are left out.
///
/// # Errors
/// On a special file (FIFO, socket, device): the kit holds none.
pub fn copy(from: &Path, to: &Path, skip: &[&str]) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    let mut entries: Vec<_> = std::fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            copy(&src, &dst, &[])?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)?;
        } else {
            return Err(std::io::Error::other(format!("{} is not a file, folder or link", src.display())));
        }
    }
    std::fs::set_permissions(to, std::fs::symlink_metadata(from)?.permissions())
}

/// What `chmod -R go-w DIR; chmod -R a+rX DIR` does: under `dir`, no write
/// permission for group and others, read for all, and search (execute) for
/// all on folders and on files someone may execute. Links are not
/// followed (their own permissions mean nothing).
pub fn make_read_only_to_others(dir: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = meta.permissions().mode() & 0o7777;
    let executable = meta.is_dir() || mode & 0o111 != 0;
    let wanted = (mode & !0o022) | 0o444 | if executable { 0o111 } else { 0 };
    if wanted != mode {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(wanted))?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            make_read_only_to_others(&entry?.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_exact_and_follows_no_link() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        std::fs::create_dir_all(from.join("src")).unwrap();
        std::fs::create_dir_all(from.join("target/release")).unwrap();
        std::fs::write(from.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        std::fs::write(from.join("run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(from.join("run.sh"), std::fs::Permissions::from_mode(0o750)).unwrap();
        std::os::unix::fs::symlink("lib.rs", from.join("src/alias.rs")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", from.join("out")).unwrap();
        let to = dir.path().join("to");
        copy(&from, &to, &["target"]).unwrap();
        assert_eq!(std::fs::read_to_string(to.join("src/lib.rs")).unwrap(), "pub fn f() {}\n");
        assert_eq!(std::fs::read_link(to.join("src/alias.rs")).unwrap(), Path::new("lib.rs"));
        assert_eq!(std::fs::read_link(to.join("out")).unwrap(), Path::new("/etc/passwd"));
        assert_eq!(std::fs::metadata(to.join("run.sh")).unwrap().permissions().mode() & 0o777, 0o750);
        assert!(!to.join("target").exists());
        nix::unistd::mkfifo(&from.join("pipe"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        let e = copy(&from, &dir.path().join("again"), &[]).unwrap_err();
        assert!(e.to_string().contains("not a file, folder or link"), "{e}");
    }

    #[test]
    fn permissions_are_go_minus_w_and_a_plus_r_capital_x() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("kit");
        std::fs::create_dir_all(root.join("d")).unwrap();
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
        let set = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        for (name, before) in [("plain", 0o660), ("tool", 0o700), ("open", 0o666)] {
            std::fs::write(root.join("d").join(name), "").unwrap();
            set(&root.join("d").join(name), before);
        }
        set(&root.join("d"), 0o770);
        std::os::unix::fs::symlink("plain", root.join("d/link")).unwrap();
        make_read_only_to_others(&root).unwrap();
        assert_eq!(mode(&root.join("d")), 0o755);
        assert_eq!(mode(&root.join("d/plain")), 0o644);
        assert_eq!(mode(&root.join("d/tool")), 0o755);
        assert_eq!(mode(&root.join("d/open")), 0o644);
    }
}
