//! Files the trusted side did not write.
//!
//! Every path that a submission, its build or its nodes could have created or
//! changed — the submission folder, the build folder, the built `node`, the
//! lock file after the build, a node's data and socket folders — is hostile
//! data. The kit reads, walks and copies such files only through this module,
//! which holds to one rule:
//!
//! * **no link is followed**: every name is resolved with `openat2` from a
//!   folder the trusted side opened itself, `RESOLVE_BENEATH |
//!   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`, and `O_NOFOLLOW` on the
//!   last component; a link anywhere in the path is refused;
//! * **only what was expected is opened**: a file is first opened `O_PATH`
//!   and checked to be a regular file (never a FIFO, socket or device, which
//!   could hang or act on open), then opened for reading `O_NONBLOCK` and
//!   checked again to be the same inode — no check-then-use;
//! * **every read is bounded** in bytes, and a walk in bytes (a sparse file
//!   counted by its length), entries, depth and time;
//! * **nothing is written through it**: a copy creates fresh files
//!   (`O_CREAT | O_EXCL`) in a folder the trusted side made.
//!
//! On the portable path ([`platform`]: not Linux, or
//! `LAB_PORTABLE` set), which has no `openat2` and no `O_PATH`, the same
//! rule holds by other means: a name is resolved one folder at a time, each
//! opened `O_DIRECTORY | O_NOFOLLOW` from the one before (a link on the way
//! is refused), and looked at with `fstatat(AT_SYMLINK_NOFOLLOW)` before it
//! is opened. Only [`Links::KeepInside`], which needs the kernel to resolve
//! a link beneath a folder, is refused there (only the grader, Linux-only,
//! keeps links).
//!
//! A refusal is a [`Refused`]: the path and why, for the user.

use nix::errno::Errno;
use nix::fcntl::OFlag;
#[cfg(target_os = "linux")]
use nix::fcntl::{OpenHow, ResolveFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};
use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a hostile file was not read, walked or copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The path as the user knows it.
    pub path: PathBuf,
    /// What is wrong with it.
    pub why: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.why)
    }
}

impl std::error::Error for Refused {}

/// What a name in a hostile folder is, seen without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file of this many bytes (its length, sparse or not).
    File(u64),
    /// A folder.
    Dir,
    /// A symbolic link.
    Link,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character or block device.
    Device,
}

impl Kind {
    fn of(st: &FileStat) -> Kind {
        match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
            SFlag::S_IFREG => Kind::File(st.st_size.max(0) as u64),
            SFlag::S_IFDIR => Kind::Dir,
            SFlag::S_IFLNK => Kind::Link,
            SFlag::S_IFIFO => Kind::Fifo,
            SFlag::S_IFSOCK => Kind::Socket,
            _ => Kind::Device,
        }
    }

    /// How a refusal names it.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::File(_) => "a regular file",
            Kind::Dir => "a folder",
            Kind::Link => "a symbolic link",
            Kind::Fifo => "a named pipe (FIFO)",
            Kind::Socket => "a socket",
            Kind::Device => "a device file",
        }
    }
}

/// The resolution every open here uses: beneath the folder, no links at all.
#[cfg(target_os = "linux")]
fn beneath() -> ResolveFlag {
    ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS
}

/// Whether names are resolved by `openat2` (else one folder at a time).
fn by_openat2() -> bool {
    cfg!(target_os = "linux") && !platform::portable()
}

/// Opens the plain relative path `rel` beneath `dir`, following no link.
fn open_beneath(dir: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    #[cfg(target_os = "linux")]
    if by_openat2() {
        let how = OpenHow::new().flags(flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).resolve(beneath());
        loop {
            match nix::fcntl::openat2(dir, rel, how) {
                // The kernel asks a racing resolution to be retried.
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => continue,
                other => return other,
            }
        }
    }
    let (held, name) = parent_beneath(dir, rel)?;
    let at = held.as_ref().map_or(dir, |f| f.as_fd());
    nix::fcntl::openat(at, name, flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC, Mode::empty())
}

/// The portable path's split of `rel` beneath `dir`: its folder, opened
/// ([`folder_beneath`]; `None` for `dir` itself), and its last component.
fn parent_beneath<'a>(
    dir: BorrowedFd<'_>,
    rel: &'a Path,
) -> nix::Result<(Option<OwnedFd>, &'a std::ffi::OsStr)> {
    let (parent, name) = split(rel);
    Ok((parent.map(|p| folder_beneath(dir, p)).transpose()?, name))
}

/// The portable path's resolution of the folder `rel` beneath `dir`: one
/// component at a time, each a folder and not a link.
fn folder_beneath(dir: BorrowedFd<'_>, rel: &Path) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut held: Option<OwnedFd> = None;
    for c in rel.components() {
        let Component::Normal(name) = c else { return Err(Errno::EXDEV) };
        let at = held.as_ref().map_or(dir, |f| f.as_fd());
        held = Some(nix::fcntl::openat(at, name, flags, Mode::empty())?);
    }
    held.ok_or(Errno::EINVAL)
}

/// What the plain relative path `rel` beneath `dir` is, without following
/// it or any link on the way.
fn stat_beneath(dir: BorrowedFd<'_>, rel: &Path) -> nix::Result<FileStat> {
    #[cfg(target_os = "linux")]
    if by_openat2() {
        // The last component may be a link: O_PATH|O_NOFOLLOW opens the link itself.
        return nix::sys::stat::fstat(&open_beneath(dir, rel, OFlag::O_PATH)?);
    }
    let (held, name) = parent_beneath(dir, rel)?;
    let at = held.as_ref().map_or(dir, |f| f.as_fd());
    nix::sys::stat::fstatat(at, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
}

/// A folder whose contents are hostile, held open by the trusted side.
#[derive(Debug)]
pub struct Tree {
    fd: OwnedFd,
    path: PathBuf,
}

impl Tree {
    /// Opens the folder at `path`. The path is the trusted caller's (its
    /// parent folders are resolved as usual); its last component must be a
    /// folder itself, not a link to one.
    ///
    /// # Errors
    /// If it is missing, not a folder, or a link.
    pub fn open(path: &Path) -> Result<Tree, Refused> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        match nix::fcntl::open(path, flags, Mode::empty()) {
            Ok(fd) => Ok(Tree { fd, path: path.to_path_buf() }),
            Err(e) => Err(Refused { path: path.to_path_buf(), why: describe_open_error(e, path) }),
        }
    }

    /// Where it is, as the user knows it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn refused(&self, rel: &Path, why: impl Into<String>) -> Refused {
        Refused { path: self.path.join(rel), why: why.into() }
    }

    fn check_rel(&self, rel: &Path) -> Result<(), Refused> {
        let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
        if plain && rel.components().next().is_some() {
            Ok(())
        } else {
            Err(self.refused(rel, "not a plain relative path"))
        }
    }

    fn stat(&self, rel: &Path) -> Result<Option<FileStat>, Refused> {
        self.check_rel(rel)?;
        match stat_beneath(self.fd.as_fd(), rel) {
            Ok(st) => Ok(Some(st)),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(self.refused(rel, describe_open_error(e, rel))),
        }
    }

    /// What `rel` is, without following it; `None` if it does not exist.
    ///
    /// # Errors
    /// If a folder on the way is a link, or it cannot be looked at.
    pub fn kind(&self, rel: impl AsRef<Path>) -> Result<Option<Kind>, Refused> {
        Ok(self.stat(rel.as_ref())?.map(|st| Kind::of(&st)))
    }

    /// The folder `rel` inside this one.
    ///
    /// # Errors
    /// If it is missing, not a folder, or reached through a link.
    pub fn dir(&self, rel: impl AsRef<Path>) -> Result<Tree, Refused> {
        let rel = rel.as_ref();
        match self.stat(rel)?.map(|st| Kind::of(&st)) {
            Some(Kind::Dir) => {}
            Some(k) => return Err(self.refused(rel, format!("{}, not a folder", k.describe()))),
            None => return Err(self.refused(rel, "missing")),
        }
        let fd = open_beneath(self.fd.as_fd(), rel, OFlag::O_RDONLY | OFlag::O_DIRECTORY)
            .map_err(|e| self.refused(rel, describe_open_error(e, rel)))?;
        Ok(Tree { fd, path: self.path.join(rel) })
    }

    /// Opens the regular file `rel` for reading and returns it with its
    /// length. Anything else — a link, a FIFO, a socket, a device, a file
    /// swapped while it was being opened — is refused without being opened
    /// for reading.
    ///
    /// # Errors
    /// As said, or if it is missing.
    pub fn open_file(&self, rel: impl AsRef<Path>) -> Result<(File, u64), Refused> {
        let rel = rel.as_ref();
        let first = match self.stat(rel)? {
            Some(st) => st,
            None => return Err(self.refused(rel, "missing")),
        };
        let kind = Kind::of(&first);
        if !matches!(kind, Kind::File(_)) {
            return Err(self.refused(rel, format!("{}, not a regular file", kind.describe())));
        }
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
        let fd = open_beneath(self.fd.as_fd(), rel, flags)
            .map_err(|e| self.refused(rel, describe_open_error(e, rel)))?;
        let st = nix::sys::stat::fstat(&fd).map_err(|e| self.refused(rel, e.desc()))?;
        if (st.st_dev, st.st_ino) != (first.st_dev, first.st_ino) || !matches!(Kind::of(&st), Kind::File(_)) {
            return Err(self.refused(rel, "changed while it was being opened"));
        }
        Ok((File::from(fd), st.st_size.max(0) as u64))
    }

    /// The bytes of the regular file `rel`, at most `limit` of them.
    ///
    /// # Errors
    /// As [`Tree::open_file`], or if it holds more than `limit` bytes.
    pub fn read(&self, rel: impl AsRef<Path>, limit: u64) -> Result<Vec<u8>, Refused> {
        let rel = rel.as_ref();
        let (file, len) = self.open_file(rel)?;
        if len > limit {
            return Err(self.refused(rel, format!("{len} bytes, more than the {limit} allowed")));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| self.refused(rel, e.to_string()))?;
        if bytes.len() as u64 > limit {
            return Err(self.refused(rel, format!("grew past the {limit} bytes allowed while being read")));
        }
        Ok(bytes)
    }

    /// The text of the regular file `rel` (UTF-8), at most `limit` bytes.
    ///
    /// # Errors
    /// As [`Tree::read`], or if it is not UTF-8.
    pub fn read_string(&self, rel: impl AsRef<Path>, limit: u64) -> Result<String, Refused> {
        let rel = rel.as_ref();
        String::from_utf8(self.read(rel, limit)?).map_err(|_| self.refused(rel, "not UTF-8 text"))
    }

    /// Copies the regular file `rel` to a new file `dest` (which must not
    /// exist), at most `limit` bytes, with permissions `mode`. Returns the
    /// bytes copied.
    ///
    /// # Errors
    /// As [`Tree::open_file`], if it is larger than `limit`, or if `dest`
    /// cannot be created or written.
    pub fn copy_file(
        &self,
        rel: impl AsRef<Path>,
        dest: &Path,
        limit: u64,
        mode: u32,
    ) -> Result<u64, Refused> {
        let rel = rel.as_ref();
        let (file, len) = self.open_file(rel)?;
        if len > limit {
            return Err(self.refused(rel, format!("{len} bytes, more than the {limit} allowed")));
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        copy_bounded(file, dest, limit, mode, deadline).map_err(|why| self.refused(rel, why))
    }

    /// Copies this folder's contents into `dest` (created if missing; it
    /// must be the trusted side's own) by `rules`.
    ///
    /// # Errors
    /// The first thing `rules` refuse, or an error reading or writing.
    pub fn copy_into(&self, dest: &Path, rules: &Rules) -> Result<Copied, Refused> {
        std::fs::create_dir_all(dest)
            .map_err(|e| Refused { path: dest.to_path_buf(), why: e.to_string() })?;
        let mut walk =
            Walk { rules, copied: Copied::default(), deadline: Instant::now() + rules.time, root: self };
        walk.dir(self, Path::new(""), dest, 0)?;
        Ok(walk.copied)
    }

    /// The names in this folder, sorted, at most `limit` of them.
    ///
    /// # Errors
    /// If it cannot be listed or holds more than `limit` names.
    pub fn names(&self, limit: usize) -> Result<Vec<std::ffi::OsString>, Refused> {
        let fd = nix::unistd::dup(&self.fd).map_err(|e| self.refused(Path::new(""), e.desc()))?;
        let mut dir = nix::dir::Dir::from_fd(fd).map_err(|e| self.refused(Path::new(""), e.desc()))?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let entry = entry.map_err(|e| Refused { path: self.path.clone(), why: e.desc().to_string() })?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if names.len() >= limit {
                return Err(Refused { path: self.path.clone(), why: format!("more than {limit} entries") });
            }
            names.push(std::ffi::OsStr::from_bytes(name).to_os_string());
        }
        names.sort();
        Ok(names)
    }

    fn read_link(&self, rel: &Path) -> Result<PathBuf, Refused> {
        // The link's own folder, opened beneath; the link read in it.
        let (parent, name) = split(rel);
        let target = match parent {
            Some(p) => {
                let d = self.dir(p)?;
                nix::fcntl::readlinkat(&d.fd, name)
            }
            None => nix::fcntl::readlinkat(&self.fd, name),
        }
        .map_err(|e| self.refused(rel, e.desc()))?;
        Ok(PathBuf::from(target))
    }
}

/// Opens the regular file at `path` for reading, as [`Tree::open_file`]
/// does, in its folder: the folder's path is the trusted caller's (followed
/// as usual), the file itself is hostile (a link, a FIFO, a socket or a
/// device is refused). Returns it with its length.
///
/// # Errors
/// As [`Tree::open_file`], or if its folder cannot be opened.
pub fn open_file_at(path: &Path) -> Result<(File, u64), Refused> {
    let refused = |why: String| Refused { path: path.to_path_buf(), why };
    let name = path.file_name().ok_or_else(|| refused("names no file".into()))?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let fd = nix::fcntl::open(parent, flags, Mode::empty())
        .map_err(|e| refused(describe_open_error(e, parent)))?;
    Tree { fd, path: parent.to_path_buf() }.open_file(Path::new(name))
}

fn split(rel: &Path) -> (Option<&Path>, &std::ffi::OsStr) {
    let name = rel.file_name().unwrap_or(rel.as_os_str());
    let parent = rel.parent().filter(|p| !p.as_os_str().is_empty());
    (parent, name)
}

fn describe_open_error(e: Errno, rel: &Path) -> String {
    match e {
        Errno::ELOOP => "a symbolic link (links are never followed here)".into(),
        Errno::EXDEV => "leads outside its folder (links are never followed here)".into(),
        Errno::ENOTDIR => format!("{} is not a folder, or a folder on its way is not", rel.display()),
        Errno::ENOENT => "missing".into(),
        Errno::ENOSYS => "this kernel has no openat2 (Linux 5.6 or later is needed)".into(),
        e => e.desc().into(),
    }
}

/// Streams `from` into a new file `dest`, at most `limit` bytes, before `deadline`.
fn copy_bounded(from: File, dest: &Path, limit: u64, mode: u32, deadline: Instant) -> Result<u64, String> {
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(dest)
        .map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let mut from = from.take(limit + 1);
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        if Instant::now() > deadline {
            return Err("took too long to copy".into());
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        total += n as u64;
        if total > limit {
            return Err(format!("grew past the {limit} bytes allowed while being copied"));
        }
        out.write_all(&buf[..n]).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    }
    Ok(total)
}

/// What a copy does with links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Refuse the copy.
    Refuse,
    /// Leave them out (listed in [`Copied::skipped`]).
    Skip,
    /// Copy a relative link whose target the kernel resolves inside the
    /// folder being copied as a link (never following it); refuse an
    /// absolute one or one that leads outside; leave out (listed) one that
    /// leads nowhere.
    KeepInside,
}

/// What a copy does with FIFOs, sockets and devices, and with what exceeds
/// its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Otherwise {
    /// Refuse the copy.
    Refuse,
    /// Leave it out (listed in [`Copied::skipped`]).
    Skip,
}

/// How a hostile folder is copied.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Links.
    pub links: Links,
    /// FIFOs, sockets and devices.
    pub specials: Otherwise,
    /// A file that would take the copy past `max_bytes`, an entry past
    /// `max_entries`, a folder deeper than `max_depth`.
    pub overflow: Otherwise,
    /// Bytes of regular files, by their length (a sparse file counts whole).
    pub max_bytes: u64,
    /// Entries of any kind.
    pub max_entries: u64,
    /// Folders below the top.
    pub max_depth: usize,
    /// The time the whole copy may take; past it the copy is refused.
    pub time: Duration,
    /// Top-level names not copied.
    pub skip_top: Vec<String>,
    /// Which regular files (by path relative to the top) get `.txt` added to
    /// their name unless they end in it, so that no browser renders what a
    /// node wrote as a page.
    pub inert: fn(&Path) -> bool,
}

impl Rules {
    /// Bounds for a folder of the given size, refusing what is not plain:
    /// links, special files and overflow all refused.
    pub fn strict(max_bytes: u64, max_entries: u64) -> Rules {
        Rules {
            links: Links::Refuse,
            specials: Otherwise::Refuse,
            overflow: Otherwise::Refuse,
            max_bytes,
            max_entries,
            max_depth: 32,
            time: Duration::from_secs(120),
            skip_top: Vec::new(),
            inert: |_| false,
        }
    }
}

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    /// Regular files copied.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Links copied as links.
    pub links: u64,
    /// What was left out, and why (one line each, relative paths).
    pub skipped: Vec<String>,
}

struct Walk<'a> {
    rules: &'a Rules,
    copied: Copied,
    deadline: Instant,
    root: &'a Tree,
}

impl Walk<'_> {
    fn entries(&self) -> u64 {
        self.copied.files + self.copied.links + self.copied.skipped.len() as u64
    }

    /// Leaves `rel` out, or refuses the copy, as `policy` says.
    fn otherwise(&mut self, policy: Otherwise, rel: &Path, why: String) -> Result<(), Refused> {
        match policy {
            Otherwise::Refuse => Err(self.root.refused(rel, why)),
            Otherwise::Skip => {
                self.copied.skipped.push(format!("{}: {why}", rel.display()));
                Ok(())
            }
        }
    }

    fn dir(&mut self, tree: &Tree, rel: &Path, dest: &Path, depth: usize) -> Result<(), Refused> {
        let limit = (self.rules.max_entries.saturating_sub(self.entries()) as usize).saturating_add(1);
        let names = match tree.names(limit) {
            Ok(n) => n,
            Err(_) if self.rules.overflow == Otherwise::Skip => {
                let why = format!("more than {} entries in all", self.rules.max_entries);
                return self.otherwise(Otherwise::Skip, rel, why);
            }
            Err(e) => {
                return Err(self
                    .root
                    .refused(rel, format!("more than {} entries ({})", self.rules.max_entries, e.why)));
            }
        };
        for name in names {
            if depth == 0 && self.rules.skip_top.iter().any(|s| std::ffi::OsStr::new(s) == name) {
                continue;
            }
            if Instant::now() > self.deadline {
                return Err(self
                    .root
                    .refused(rel, format!("copying took more than {} s", self.rules.time.as_secs())));
            }
            let here = rel.join(&name);
            if self.entries() >= self.rules.max_entries {
                let why = format!("past the {} entries allowed", self.rules.max_entries);
                self.otherwise(self.rules.overflow, &here, why)?;
                continue;
            }
            let name_path = Path::new(&name);
            let kind = match tree.kind(name_path)? {
                Some(k) => k,
                None => continue, // removed meanwhile
            };
            let to = dest.join(&name);
            match kind {
                Kind::Dir if depth + 1 > self.rules.max_depth => {
                    let why = format!("deeper than the {} levels allowed", self.rules.max_depth);
                    self.otherwise(self.rules.overflow, &here, why)?;
                }
                Kind::Dir => {
                    let sub = tree.dir(name_path)?;
                    std::fs::create_dir(&to).map_err(|e| Refused { path: to.clone(), why: e.to_string() })?;
                    self.dir(&sub, &here, &to, depth + 1)?;
                }
                Kind::File(len) => {
                    if self.copied.bytes + len > self.rules.max_bytes {
                        let why = format!(
                            "{len} bytes would take the copy past the {} allowed",
                            self.rules.max_bytes
                        );
                        self.otherwise(self.rules.overflow, &here, why)?;
                        continue;
                    }
                    let (file, _) = tree.open_file(name_path)?;
                    let mode = file
                        .metadata()
                        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()))
                        .unwrap_or(0o644);
                    let mode = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
                    let to = if (self.rules.inert)(&here) { inert_name(&to) } else { to };
                    let left = self.rules.max_bytes - self.copied.bytes;
                    let n = copy_bounded(file, &to, left, mode, self.deadline)
                        .map_err(|why| self.root.refused(&here, why))?;
                    self.copied.files += 1;
                    self.copied.bytes += n;
                }
                Kind::Link => self.link(&here, &to)?,
                special => {
                    let why = format!("{}: only folders and regular files are copied", special.describe());
                    self.otherwise(self.rules.specials, &here, why)?;
                }
            }
        }
        Ok(())
    }

    fn link(&mut self, here: &Path, to: &Path) -> Result<(), Refused> {
        match self.rules.links {
            Links::Refuse => Err(self.root.refused(here, "a symbolic link (links are never followed here)")),
            Links::Skip => self.otherwise(Otherwise::Skip, here, "a symbolic link, not copied".into()),
            Links::KeepInside => {
                let target = self.root.read_link(here)?;
                if target.is_absolute() {
                    return Err(self.root.refused(
                        here,
                        format!(
                            "a symbolic link to the absolute path {} (a link must stay inside)",
                            target.display()
                        ),
                    ));
                }
                match self.resolve_inside(here) {
                    Ok(_) => {
                        std::os::unix::fs::symlink(&target, to)
                            .map_err(|e| Refused { path: to.to_path_buf(), why: e.to_string() })?;
                        self.copied.links += 1;
                        Ok(())
                    }
                    Err(Errno::ENOENT) => self.otherwise(
                        Otherwise::Skip,
                        here,
                        format!("a link to {}, which is missing", target.display()),
                    ),
                    Err(e) => Err(self.root.refused(
                        here,
                        format!(
                            "a symbolic link to {} that {}",
                            target.display(),
                            match e {
                                Errno::EXDEV => "leads outside (a link must stay inside)".to_string(),
                                Errno::ELOOP => "loops".to_string(),
                                Errno::ENOTSUP =>
                                    "cannot be checked on the portable path (links are kept only on Linux)"
                                        .to_string(),
                                e => format!("cannot be resolved inside ({})", e.desc()),
                            }
                        ),
                    )),
                }
            }
        }
    }
}

impl Walk<'_> {
    /// Resolves the link `here` beneath the top, following links, by the
    /// kernel: `EXDEV` if it leads outside. Not on the portable path.
    fn resolve_inside(&self, here: &Path) -> nix::Result<OwnedFd> {
        #[cfg(target_os = "linux")]
        if by_openat2() {
            let how = OpenHow::new()
                .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
                .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
            return nix::fcntl::openat2(self.root.fd.as_fd(), here, how);
        }
        let _ = here;
        Err(Errno::ENOTSUP)
    }
}

/// `dest` with `.txt` added, unless it ends in `.txt` already.
fn inert_name(dest: &Path) -> PathBuf {
    if dest.extension().is_some_and(|e| e == "txt") {
        dest.to_path_buf()
    } else {
        let mut s = dest.as_os_str().to_os_string();
        s.push(".txt");
        PathBuf::from(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Tree) {
        let dir = tempfile::tempdir().unwrap();
        let t = Tree::open(dir.path()).unwrap();
        (dir, t)
    }

    fn fifo(p: &Path) {
        nix::unistd::mkfifo(p, Mode::from_bits_truncate(0o644)).unwrap();
    }

    #[test]
    fn a_regular_file_is_read_within_its_bound() {
        let (dir, t) = tree();
        std::fs::write(dir.path().join("a"), "hello").unwrap();
        assert_eq!(t.read("a", 5).unwrap(), b"hello");
        let e = t.read("a", 4).unwrap_err();
        assert!(e.why.contains("more than the 4 allowed"), "{e}");
        assert_eq!(t.kind("a").unwrap(), Some(Kind::File(5)));
        assert_eq!(t.kind("missing").unwrap(), None);
    }

    #[test]
    fn links_are_never_followed_at_any_level() {
        let (dir, t) = tree();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "SECRET").unwrap();
        symlink(outside.path().join("secret"), dir.path().join("abs")).unwrap();
        symlink("../x", dir.path().join("rel")).unwrap();
        symlink(outside.path(), dir.path().join("sub")).unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::fs::write(dir.path().join("real/f"), "ok").unwrap();
        symlink("real", dir.path().join("inside")).unwrap();
        for rel in ["abs", "rel", "sub/secret", "inside/f"] {
            let e = t.read(rel, 100).unwrap_err();
            assert!(!e.why.is_empty(), "{rel}");
        }
        assert_eq!(t.kind("abs").unwrap(), Some(Kind::Link));
        assert!(t.dir("sub").is_err() && t.dir("inside").is_err());
        assert!(t.read("../etc/passwd", 100).is_err() && t.read("/etc/passwd", 100).is_err());
        assert_eq!(t.read("real/f", 100).unwrap(), b"ok");
        // The top itself must not be a link.
        assert!(Tree::open(&dir.path().join("inside")).is_err());
    }

    #[test]
    fn special_files_are_refused_without_hanging() {
        let (dir, t) = tree();
        fifo(&dir.path().join("pipe"));
        let started = Instant::now();
        let e = t.read("pipe", 100).unwrap_err();
        assert!(e.why.contains("FIFO"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        let _l = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
        assert!(t.read("sock", 100).unwrap_err().why.contains("socket"));
        assert!(t.read(".", 100).is_err());
    }

    #[test]
    fn a_strict_copy_refuses_links_specials_and_overflow() {
        let (dir, t) = tree();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "fn f() {}").unwrap();
        let out = tempfile::tempdir().unwrap();
        let copied = t.copy_into(&out.path().join("a"), &Rules::strict(1 << 20, 100)).unwrap();
        assert_eq!((copied.files, copied.bytes), (1, 9));
        assert_eq!(std::fs::read_to_string(out.path().join("a/src/lib.rs")).unwrap(), "fn f() {}");
        // A sparse file counts by its length.
        let big = File::create(dir.path().join("sparse")).unwrap();
        big.set_len(1 << 40).unwrap();
        let e = t.copy_into(&out.path().join("b"), &Rules::strict(1 << 20, 100)).unwrap_err();
        assert!(e.why.contains("past the 1048576 allowed"), "{e}");
        std::fs::remove_file(dir.path().join("sparse")).unwrap();
        fifo(&dir.path().join("src/pipe"));
        let e = t.copy_into(&out.path().join("c"), &Rules::strict(1 << 20, 100)).unwrap_err();
        assert!(e.why.contains("FIFO") && e.path.ends_with("src/pipe"), "{e}");
        std::fs::remove_file(dir.path().join("src/pipe")).unwrap();
        symlink("lib.rs", dir.path().join("src/alias.rs")).unwrap();
        assert!(t.copy_into(&out.path().join("d"), &Rules::strict(1 << 20, 100)).is_err());
        assert!(t.copy_into(&out.path().join("e"), &Rules::strict(1 << 20, 1)).is_err());
    }

    #[test]
    fn links_kept_inside_stay_links_and_escapes_are_refused() {
        let (dir, t) = tree();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "x").unwrap();
        symlink("lib.rs", dir.path().join("src/alias.rs")).unwrap();
        symlink("missing-target", dir.path().join("src/.#lock")).unwrap();
        let rules = Rules { links: Links::KeepInside, ..Rules::strict(1 << 20, 100) };
        let out = tempfile::tempdir().unwrap();
        if !by_openat2() {
            let e = t.copy_into(&out.path().join("a"), &rules).unwrap_err();
            assert!(e.why.contains("portable path"), "{e}");
            return;
        }
        let copied = t.copy_into(&out.path().join("a"), &rules).unwrap();
        assert_eq!((copied.files, copied.links, copied.skipped.len()), (1, 1, 1), "{copied:?}");
        assert_eq!(std::fs::read_link(out.path().join("a/src/alias.rs")).unwrap(), Path::new("lib.rs"));
        for (name, target) in
            [("up", "../../etc/passwd"), ("abs", "/etc/passwd"), ("proc", "/proc/self/cwd/x")]
        {
            symlink(target, dir.path().join("src").join(name)).unwrap();
            let e = t.copy_into(&out.path().join(name), &rules).unwrap_err();
            assert!(e.why.contains("must stay inside"), "{name}: {e}");
            std::fs::remove_file(dir.path().join("src").join(name)).unwrap();
        }
        // A link to the top itself, then up: the kernel sees the escape.
        symlink(".", dir.path().join("self")).unwrap();
        symlink("../self/../..", dir.path().join("src/sneaky")).unwrap();
        assert!(t.copy_into(&out.path().join("s"), &rules).is_err());
    }

    #[test]
    fn a_lenient_copy_skips_and_says_what_and_makes_node_files_inert() {
        let (dir, t) = tree();
        std::fs::create_dir(dir.path().join("d0")).unwrap();
        std::fs::write(dir.path().join("d0/timeline.html"), "<script>").unwrap();
        std::fs::write(dir.path().join("d0/notes.txt"), "n").unwrap();
        std::fs::write(dir.path().join("timeline.html"), "kit").unwrap();
        symlink("/etc/passwd", dir.path().join("d0/passwd")).unwrap();
        fifo(&dir.path().join("d0/pipe"));
        let rules = Rules {
            links: Links::Skip,
            specials: Otherwise::Skip,
            overflow: Otherwise::Skip,
            inert: |p| p.starts_with("d0"),
            ..Rules::strict(1 << 20, 100)
        };
        let out = tempfile::tempdir().unwrap();
        let copied = t.copy_into(out.path(), &rules).unwrap();
        assert_eq!(copied.skipped.len(), 2, "{copied:?}");
        assert!(out.path().join("d0/timeline.html.txt").is_file());
        assert!(out.path().join("d0/notes.txt").is_file());
        assert!(!out.path().join("d0/timeline.html").exists());
        assert!(out.path().join("timeline.html").is_file());
        assert!(!out.path().join("d0/passwd").exists() && !out.path().join("d0/pipe").exists());
    }

    #[test]
    fn copy_file_refuses_what_it_would_overwrite_or_follow() {
        let (dir, t) = tree();
        std::fs::write(dir.path().join("node"), "bin").unwrap();
        let out = tempfile::tempdir().unwrap();
        assert_eq!(t.copy_file("node", &out.path().join("node"), 10, 0o755).unwrap(), 3);
        assert!(t.copy_file("node", &out.path().join("node"), 10, 0o755).is_err());
        assert!(t.copy_file("node", &out.path().join("n2"), 2, 0o755).is_err());
    }
}
