//! The harness's two ends of a Unix socket in the test directory, made so
//! that no node can turn either against it.
//!
//! * [`bind`]: the harness's own listening sockets (the proxy's links, the
//!   control sockets) lie in folders no node can write (`n{i}/`, owned by
//!   the harness): a stale socket is replaced, the new one opened to every
//!   uid ([`runner::sandbox::open_socket`]).
//! * [`NodeSocket`]: a socket a node binds lies in a folder the node owns
//!   (`n{i}/own/`), where the node could put a link to any socket of the
//!   machine, or another socket of the harness, in its place. The proxy
//!   never connects there by path: it opens the name beneath a handle on
//!   the folder it opened itself, follows no link on the way, takes only a
//!   socket (of the node's uid, when it knows it), and connects to what it
//!   opened. Anything else fails as a dead server does: the call is lost.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use tokio::net::{UnixListener, UnixStream};

/// Binds a listener at `path`, replacing a stale socket there, and lets any
/// uid connect to it. `path`'s folder must be one no node can write.
///
/// # Errors
/// If something other than a socket is at `path`, or binding fails.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    runner::sandbox::open_socket(path)?;
    Ok(listener)
}

/// A socket a node binds, reached only through the folder the harness
/// opened for it.
#[derive(Debug)]
pub struct NodeSocket {
    /// The folder, opened when the harness made it (`O_PATH`).
    folder: OwnedFd,
    /// Its path, for messages.
    folder_path: PathBuf,
    /// The socket's name in it: one path component.
    name: OsString,
    /// The uid the socket must belong to, when known (the node's).
    owner: Option<u32>,
}

impl NodeSocket {
    /// The socket at `path`, whose folder exists and is opened now, once:
    /// what later becomes of the path above it does not matter. With
    /// `owner`, only a socket of that uid is taken (so not one of the
    /// harness's own, linked in by the node).
    ///
    /// # Errors
    /// If `path` has no file name or its folder cannot be opened.
    pub fn new(path: &Path, owner: Option<u32>) -> io::Result<NodeSocket> {
        use nix::fcntl::{OFlag, open};
        use nix::sys::stat::Mode;
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no socket", path.display()))
        })?;
        let folder_path = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // O_PATH where there is one; the portable path reads the folder.
        #[cfg(target_os = "linux")]
        let access = if control::platform::portable() { OFlag::O_RDONLY } else { OFlag::O_PATH };
        #[cfg(not(target_os = "linux"))]
        let access = OFlag::O_RDONLY;
        let flags = access | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let folder = open(&folder_path, flags, Mode::empty())?;
        Ok(NodeSocket { folder, folder_path, name: name.to_os_string(), owner })
    }

    /// Where it is, for messages.
    pub fn path(&self) -> PathBuf {
        self.folder_path.join(&self.name)
    }

    /// A handle (`O_PATH`) on the socket, found beneath the folder without
    /// following any link (nor `/proc`'s magic ones).
    ///
    /// # Errors
    /// If nothing is there, or what is there is a link, not a socket, or
    /// (with an owner) someone else's socket.
    #[cfg(target_os = "linux")]
    pub fn open(&self) -> io::Result<OwnedFd> {
        use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat, openat2};
        use nix::sys::stat::{Mode, fstat};
        let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let how = OpenHow::new().flags(flags).resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
        let handle = match openat2(&self.folder, self.name.as_os_str(), how) {
            // Before Linux 5.6: the name is one component, so O_NOFOLLOW
            // alone keeps to the folder and off links.
            Err(nix::errno::Errno::ENOSYS) => {
                openat(&self.folder, self.name.as_os_str(), flags, Mode::empty())?
            }
            other => other?,
        };
        self.check(&fstat(&handle)?)?;
        Ok(handle)
    }

    /// Whether `stat` is a socket of the owner's.
    fn check(&self, stat: &nix::sys::stat::FileStat) -> io::Result<()> {
        use nix::sys::stat::SFlag;
        let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        if kind != SFlag::S_IFSOCK {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a socket (mode {:o}): refused", self.path().display(), stat.st_mode),
            ));
        }
        if let Some(owner) = self.owner
            && stat.st_uid != owner
        {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} belongs to uid {}, not the node's {owner}: refused",
                    self.path().display(),
                    stat.st_uid
                ),
            ));
        }
        Ok(())
    }

    /// Connects to the socket [`NodeSocket::open`] finds, through its
    /// handle (`/proc/self/fd/N` names the very socket opened).
    ///
    /// On the portable path (no `O_PATH`, no `/proc`; no sandbox either, so
    /// the node is the student's own code as the student's own uid), the
    /// name is looked at without following it (`fstatat`, `AT_SYMLINK_NOFOLLOW`)
    /// and then connected to by path.
    ///
    /// # Errors
    /// As [`NodeSocket::open`], or if no one listens on it.
    pub async fn connect(&self) -> io::Result<UnixStream> {
        if control::platform::portable() {
            use nix::fcntl::AtFlags;
            let stat =
                nix::sys::stat::fstatat(&self.folder, self.name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
            self.check(&stat)?;
            return UnixStream::connect(self.path()).await;
        }
        self.connect_by_handle().await
    }

    #[cfg(not(target_os = "linux"))]
    async fn connect_by_handle(&self) -> io::Result<UnixStream> {
        unreachable!("off Linux, the portable path is always taken")
    }

    #[cfg(target_os = "linux")]
    async fn connect_by_handle(&self) -> io::Result<UnixStream> {
        let handle = self.open()?;
        let stream = UnixStream::connect(format!("/proc/self/fd/{}", handle.as_raw_fd())).await;
        drop(handle);
        stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn folder() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("own");
        std::fs::create_dir(&own).unwrap();
        (dir, own)
    }

    /// The uid this test runs as: the owner of what it creates.
    fn my_uid() -> u32 {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::metadata(dir.path()).unwrap().uid()
    }

    #[tokio::test]
    async fn a_real_socket_connects() {
        let (_d, own) = folder();
        let listener = UnixListener::bind(own.join("n0.sock")).unwrap();
        let socket = NodeSocket::new(&own.join("n0.sock"), Some(my_uid())).unwrap();
        let (client, server) = tokio::join!(socket.connect(), listener.accept());
        client.unwrap();
        server.unwrap();
    }

    #[tokio::test]
    async fn a_link_in_place_of_the_socket_is_refused() {
        let (d, own) = folder();
        // The link leads to a live socket: following it would connect.
        let elsewhere = d.path().join("host.sock");
        let _listener = UnixListener::bind(&elsewhere).unwrap();
        symlink(&elsewhere, own.join("n0.sock")).unwrap();
        let socket = NodeSocket::new(&own.join("n0.sock"), None).unwrap();
        let e = socket.connect().await.unwrap_err();
        assert!(e.to_string().contains("not a socket"), "{e}");
        // So is a link to a folder above the socket's name.
        std::fs::create_dir(d.path().join("real")).unwrap();
        let _l2 = UnixListener::bind(d.path().join("real/n1.sock")).unwrap();
        symlink(d.path().join("real"), own.join("sub")).unwrap();
        assert!(NodeSocket::new(&own.join("sub/n1.sock"), None).is_err(), "the folder is a link");
    }

    #[tokio::test]
    async fn a_fifo_or_a_file_is_refused_and_never_opened() {
        let (_d, own) = folder();
        nix::unistd::mkfifo(&own.join("n0.sock"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        std::fs::write(own.join("n1.sock"), "x").unwrap();
        for name in ["n0.sock", "n1.sock"] {
            let socket = NodeSocket::new(&own.join(name), None).unwrap();
            // A FIFO opened for reading would block: O_PATH never does.
            let e = socket.connect().await.unwrap_err();
            assert!(e.to_string().contains("not a socket"), "{name}: {e}");
        }
    }

    #[tokio::test]
    async fn nothing_there_fails_like_a_dead_server() {
        let (_d, own) = folder();
        let socket = NodeSocket::new(&own.join("n0.sock"), None).unwrap();
        assert_eq!(socket.connect().await.unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn someone_elses_socket_is_refused() {
        let (_d, own) = folder();
        let _listener = UnixListener::bind(own.join("n0.sock")).unwrap();
        let socket = NodeSocket::new(&own.join("n0.sock"), Some(my_uid().wrapping_add(1))).unwrap();
        let e = socket.connect().await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
    }

    #[tokio::test]
    async fn bind_replaces_a_stale_socket_and_nothing_else() {
        let (_d, own) = folder();
        let path = own.join("c0.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let _listener = bind(&path).unwrap();
        let file = own.join("f.sock");
        std::fs::write(&file, "x").unwrap();
        assert!(bind(&file).is_err());
        assert!(file.is_file(), "a file is left alone");
    }
}
