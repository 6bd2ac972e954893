//! Writing the student handout: the kit's shipped files (`select.rs`), the
//! skeletons in place of the kit's own raft/ and kvraft/, the student guide
//! as README.md, the Makefile without the staff targets (`makefile.rs`),
//! the workspace without this tool (`lockfile.rs`), and the kit files that
//! call its own crates "the reference" reworded (`wording.rs`). The
//! skeletons are also kept, pristine, in handout/raft and handout/kvraft:
//! what the grading kit builds from (`make grade SUBMISSION=…`).

use crate::{lockfile, makefile, select, walk, wording};
use flate2::Compression;
use flate2::write::GzEncoder;
use regex::bytes::Regex;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The handout's folder (and tarball) name.
pub const NAME: &str = "raftlab-handout";

/// What the handout needs from handout/ (the skeletons of
/// [`select::student_crates`], the guide, the wording rules).
const NEEDED: &[&str] = &[
    "handout/raft/Cargo.toml",
    "handout/raft/src/lib.rs",
    "handout/kvraft/Cargo.toml",
    "handout/kvraft/src/lib.rs",
    "handout/README.md",
    wording::RULES,
];

/// Definitions that exist only in the kit's own crates (and in the material
/// left out): none may be found in the handout.
pub static KIT_DEFINITIONS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"fn (next_index_after_reject|accept_append|accept_snapshot|decide_vote|advance_commit|is_duplicate)\b",
    )
    .expect("a valid pattern")
});

/// The file kinds searched for [`KIT_DEFINITIONS`]: sources, patches, mutants.
const SOURCE_KINDS: &[&str] = &[".rs", ".patch", ".mut"];

/// Why the handout was not written.
#[derive(Debug)]
pub enum Error {
    /// A file the handout is made from is missing.
    Missing(&'static str),
    /// Reading or writing failed.
    Io(String),
    /// The kit's own code was found in the result.
    Leak(Vec<String>),
}

impl Error {
    /// The exit status that says which.
    pub fn status(&self) -> u8 {
        match self {
            Error::Missing(_) => 2,
            Error::Io(_) => 1,
            Error::Leak(_) => 3,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Missing(file) => write!(f, "{file} is missing"),
            Error::Io(e) => write!(f, "{e}"),
            Error::Leak(files) => {
                write!(
                    f,
                    "the kit's own raft/kvraft code found in the handout, refusing:\n{}",
                    files.join("\n")
                )
            }
        }
    }
}

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> Error {
    let what = format!("cannot {what} {}", path.display());
    move |e| Error::Io(format!("{what}: {e}"))
}

/// A written handout.
pub struct Made {
    pub folder: PathBuf,
    pub tarball: PathBuf,
    /// The files the wording rules changed, relative to the folder.
    pub reworded: Vec<String>,
}

/// Writes OUT/raftlab-handout/ and OUT/raftlab-handout.tar.gz from the kit
/// at `root`, replacing what was there. Fails, leaving no tarball, if any of
/// [`KIT_DEFINITIONS`] is found in the result.
pub fn make(root: &Path, out: &Path) -> Result<Made, Error> {
    if let Some(missing) = NEEDED.iter().find(|f| !root.join(f).is_file()) {
        return Err(Error::Missing(missing));
    }
    fs::create_dir_all(out).map_err(io("create", out))?;
    let out = fs::canonicalize(out).map_err(io("find", out))?;
    let dest = out.join(NAME);
    let tarball = out.join(format!("{NAME}.tar.gz"));
    if dest.exists() {
        fs::remove_dir_all(&dest).map_err(io("remove", &dest))?;
    }
    if tarball.exists() {
        fs::remove_file(&tarball).map_err(io("remove", &tarball))?;
    }
    fs::create_dir_all(&dest).map_err(io("create", &dest))?;

    let students = select::student_crates(root).map_err(io("read", &root.join("handout")))?;
    for f in select::shipped(select::kit_files(root).map_err(Error::Io)?, &students) {
        walk::copy_file(&root.join(&f), &dest.join(&f)).map_err(io("copy", &root.join(&f)))?;
    }
    // The skeletons in place of the kit's own crates, and the student guide
    // as the front page.
    for krate in &students {
        let skeleton = root.join("handout").join(krate);
        walk::copy_tree(&skeleton, &dest.join(krate)).map_err(io("copy", &skeleton))?;
    }
    walk::copy_file(&root.join("handout/README.md"), &dest.join("README.md"))
        .map_err(io("copy", &root.join("handout/README.md")))?;

    derive(root, &dest, "Makefile", |text| makefile::without_targets(text, makefile::STAFF_TARGETS))?;
    derive(root, &dest, "Cargo.toml", |text| lockfile::without_member(text, select::TOOL_CRATE))?;
    derive(root, &dest, "Cargo.lock", |text| lockfile::without_package(text, select::TOOL_CRATE))?;

    let reworded = reword(root, &dest)?;
    let leaks = leaks(&dest)?;
    if !leaks.is_empty() {
        return Err(Error::Leak(leaks));
    }
    write_tarball(&out, &tarball).map_err(io("write", &tarball))?;
    Ok(Made { folder: dest, tarball, reworded })
}

/// Writes the handout's `rel` as `change` makes it from the kit's, with the
/// kit file's modification time.
fn derive(root: &Path, dest: &Path, rel: &str, change: impl Fn(&str) -> String) -> Result<(), Error> {
    let from = root.join(rel);
    let to = dest.join(rel);
    let text = fs::read_to_string(&from).map_err(io("read", &from))?;
    fs::write(&to, change(&text)).map_err(io("write", &to))?;
    walk::keep_mtime(&from, &to).map_err(io("date", &to))
}

/// The handout's files outside any build folder, relative to `dest`.
fn handout_files(dest: &Path) -> Result<Vec<String>, Error> {
    let skip = |rel: &str| rel.rsplit('/').next() == Some("target");
    walk::files(dest, &skip).map_err(io("list", dest))
}

/// Rewords, in place, the handout's files the rules change; returns them.
fn reword(root: &Path, dest: &Path) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    for rel in handout_files(dest)? {
        let file = dest.join(&rel);
        let before = fs::read(&file).map_err(io("read", &file))?;
        if !wording::may_need_rewording(&before) {
            continue;
        }
        let after = wording::reworded(root, &file).map_err(Error::Io)?;
        if after != before {
            let mtime = fs::metadata(&file).and_then(|m| m.modified()).map_err(io("date", &file))?;
            fs::write(&file, after).map_err(io("write", &file))?;
            fs::File::options()
                .write(true)
                .open(&file)
                .and_then(|f| f.set_modified(mtime))
                .map_err(io("date", &file))?;
            changed.push(rel);
        }
    }
    Ok(changed)
}

/// The handout's sources that hold one of [`KIT_DEFINITIONS`].
fn leaks(dest: &Path) -> Result<Vec<String>, Error> {
    let mut found = Vec::new();
    for rel in handout_files(dest)? {
        if SOURCE_KINDS.iter().any(|k| rel.ends_with(k)) {
            let file = dest.join(&rel);
            if KIT_DEFINITIONS.is_match(&fs::read(&file).map_err(io("read", &file))?) {
                found.push(rel);
            }
        }
    }
    Ok(found)
}

/// OUT/raftlab-handout.tar.gz: the folder, under its own name.
fn write_tarball(out: &Path, tarball: &Path) -> std::io::Result<()> {
    let gz = GzEncoder::new(fs::File::create(tarball)?, Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(NAME, out.join(NAME))?;
    tar.into_inner()?.finish()?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small kit (not a git checkout): a workspace with the tool, the
    /// kit's own raft/, a skeleton, the guide and one wording rule.
    fn kit(extra: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let files = [
            ("Cargo.toml", "[workspace]\nmembers = [\"raft\", \"kvraft\", \"labs\", \"xtask\"]\n"),
            (
                "Cargo.lock",
                "version = 4\n\n[[package]]\nname = \"labs\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"xtask\"\nversion = \"0.1.0\"\n",
            ),
            (
                "Makefile",
                ".PHONY: build handout\n\nbuild: ## Build\n\tcargo build\n\nhandout: ## The handout\n\tcargo run -q -p xtask -- handout\n",
            ),
            ("README.md", "the kit's README"),
            ("raft/src/lib.rs", "pub fn decide_vote() {}"),
            ("raft/Cargo.toml", "[package]\nname = \"raft\""),
            ("kvraft/src/lib.rs", "pub fn is_duplicate() {}"),
            ("handout/raft/Cargo.toml", "[package]\nname = \"raft\""),
            ("handout/raft/src/lib.rs", "todo!()"),
            ("handout/kvraft/Cargo.toml", "[package]\nname = \"kvraft\""),
            ("handout/kvraft/src/lib.rs", "todo!()"),
            ("handout/README.md", "the student guide"),
            ("handout/wording.pl", "s{the reference tester}{the kit's tester}g;\n"),
            ("labs/src/main.rs", "// Run by the reference tester.\n"),
            ("xtask/src/main.rs", "fn main() {}"),
            ("selfcheck/mutants/a.mut", "fn decide_vote"),
        ];
        for (rel, text) in files.iter().chain(extra) {
            let path = root.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        root
    }

    #[test]
    fn the_handout_holds_the_skeletons_the_guide_and_the_kit_without_the_tool() {
        let root = kit(&[]);
        let out = tempfile::tempdir().unwrap();
        let made = make(root.path(), out.path()).unwrap();
        let d = &made.folder;
        let read = |rel: &str| fs::read_to_string(d.join(rel)).unwrap();
        assert_eq!(read("raft/src/lib.rs"), "todo!()");
        assert_eq!(read("handout/raft/src/lib.rs"), "todo!()");
        assert_eq!(read("README.md"), "the student guide");
        assert!(!d.join("xtask").exists() && !d.join("selfcheck").exists());
        assert!(!d.join("handout/README.md").exists() && !d.join("handout/wording.pl").exists());
        assert_eq!(read("Cargo.toml"), "[workspace]\nmembers = [\"raft\", \"kvraft\", \"labs\"]\n");
        assert!(!read("Cargo.lock").contains("xtask"));
        assert_eq!(read("Makefile"), ".PHONY: build\n\nbuild: ## Build\n\tcargo build\n\n");
        assert_eq!(read("labs/src/main.rs"), "// Run by the kit's tester.\n");
        assert_eq!(made.reworded, ["labs/src/main.rs"]);
        assert!(made.tarball.is_file());
    }

    #[test]
    fn the_kits_own_code_in_the_result_is_refused_without_a_tarball() {
        let root = kit(&[("labs/src/leak.rs", "fn advance_commit(x: u64) {}")]);
        let out = tempfile::tempdir().unwrap();
        match make(root.path(), out.path()) {
            Err(Error::Leak(files)) => assert_eq!(files, ["labs/src/leak.rs"]),
            other => panic!("expected a leak, got {:?}", other.map(|m| m.folder)),
        }
        assert!(!out.path().join(format!("{NAME}.tar.gz")).exists());
    }

    #[test]
    fn a_missing_skeleton_is_named() {
        let root = kit(&[]);
        fs::remove_file(root.path().join("handout/kvraft/src/lib.rs")).unwrap();
        let out = tempfile::tempdir().unwrap();
        assert!(matches!(make(root.path(), out.path()), Err(Error::Missing("handout/kvraft/src/lib.rs"))));
    }
}
