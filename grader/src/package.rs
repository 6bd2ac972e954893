//! `grader package gradescope`: an autograder zip for Gradescope. At its root
//! are `setup.sh` (installs Rust, builds the kit, warms the submission build
//! folder) and `run_autograder` (grades `/autograder/submission`, writes
//! `/autograder/results/results.json`), beside the kit's source.

use crate::cli::{PackageArgs, PackageTarget};
use crate::error::GraderError;
use crate::locate;
use std::io::Write;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;

const SETUP: &str = include_str!("../package/setup.sh");
const RUN_AUTOGRADER: &str = include_str!("../package/run_autograder");
/// Where a shipped rubric goes in the package.
const RUBRIC_NAME: &str = "grader-rubric.toml";

/// Writes the package.
pub fn run(args: &PackageArgs) -> Result<(), GraderError> {
    let PackageTarget::Gradescope = args.target;
    let workspace = locate::workspace(args.workspace.as_deref())?;
    let crates = crate::crates::load(&locate::reference_labs(args.labs.as_deref(), Some(&workspace))?)?;
    let rubric = match &args.rubric {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| GraderError::Io(format!("cannot read the rubric {}", p.display()), e))?,
        ),
        None => None,
    };
    let mut grade_args = args.grade_args.trim().to_string();
    if rubric.is_some() {
        grade_args = format!("--rubric /autograder/source/{RUBRIC_NAME} {grade_args}");
    }
    let count = write_zip(&workspace, crates.all(), &args.out, rubric.as_deref(), grade_args.trim())
        .map_err(|e| GraderError::Io(format!("cannot write {}", args.out.display()), e))?;
    println!(
        "Wrote {} ({count} files): upload it as the autograder of a Gradescope programming assignment.",
        args.out.display()
    );
    Ok(())
}

/// Writes the zip of `workspace`, whose student crates are `crates`;
/// returns how many files it holds.
pub fn write_zip(
    workspace: &Path,
    crates: &[String],
    out: &Path,
    rubric: Option<&str>,
    grade_args: &str,
) -> std::io::Result<usize> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let out_abs = std::path::absolute(out)?;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out)?);
    let plain = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let exec = plain.unix_permissions(0o755);
    let mut count = 0;
    let mut add = |zip: &mut zip::ZipWriter<std::fs::File>,
                   name: &str,
                   data: &[u8],
                   executable: bool|
     -> std::io::Result<()> {
        zip.start_file(name, if executable { exec } else { plain }).map_err(std::io::Error::other)?;
        zip.write_all(data)?;
        count += 1;
        Ok(())
    };
    add(&mut zip, "setup.sh", SETUP.as_bytes(), true)?;
    add(&mut zip, "run_autograder", RUN_AUTOGRADER.replace("@GRADE_ARGS@", grade_args).as_bytes(), true)?;
    if let Some(r) = rubric {
        add(&mut zip, RUBRIC_NAME, r.as_bytes(), false)?;
    }
    for (rel, path) in shipped_files(workspace, crates)? {
        if path == out_abs {
            continue;
        }
        let executable =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path)?.permissions()) & 0o111 != 0;
        add(&mut zip, &rel.to_string_lossy(), &std::fs::read(&path)?, executable)?;
    }
    zip.finish().map_err(std::io::Error::other)?;
    Ok(count)
}

/// Top-level folders the package leaves out besides the student crates
/// (the kit's own, replaced by the handout's skeletons): build output,
/// version control, and what quotes the kit's own crates (the self-check's
/// mutants, the broken fixture crates).
const NOT_SHIPPED: [&str; 4] = ["target", ".git", "selfcheck", "fixtures"];

/// The files the package holds, as (name in the zip, file): the kit's
/// sources without [`NOT_SHIPPED`] and the student `crates`, and the
/// handout's skeletons of those crates in their place (`raft/`, `kvraft/`),
/// so that no reference solution reaches the machine where submissions run.
fn shipped_files(workspace: &Path, crates: &[String]) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
    let left_out = |name: &std::ffi::OsStr| {
        NOT_SHIPPED.iter().any(|n| name == *n) || crates.iter().any(|c| name == c.as_str())
    };
    let mut out: Vec<(PathBuf, PathBuf)> = source_files(workspace)?
        .into_iter()
        .filter(|rel| !rel.components().next().is_some_and(|c| left_out(c.as_os_str())))
        .map(|rel| (rel.clone(), workspace.join(rel)))
        .collect();
    for name in crates {
        let skeleton = workspace.join("handout").join(name);
        if !skeleton.is_dir() {
            return Err(std::io::Error::other(format!(
                "no skeleton crate in {}: the package ships skeletons in place of the reference",
                skeleton.display()
            )));
        }
        for rel in source_files(&skeleton)? {
            out.push((Path::new(name).join(&rel), skeleton.join(rel)));
        }
    }
    out.sort();
    Ok(out)
}

/// The source files under `workspace`, relative to it: everything but build
/// output (`target/`) and version control (`.git/`); symlinks are skipped.
fn source_files(workspace: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(workspace.join(&rel))? {
            let e = e?;
            let name = e.file_name();
            if name == "target" || name == ".git" {
                continue;
            }
            let kind = e.file_type()?;
            if kind.is_dir() {
                stack.push(rel.join(&name));
            } else if kind.is_file() {
                out.push(rel.join(&name));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    #[test]
    fn the_zip_has_the_scripts_at_its_root_and_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        for f in [
            "Cargo.toml",
            "scripts/install-sandbox.sh",
            "raft/src/lib.rs",
            "raft/src/election.rs",
            "kvraft/src/lib.rs",
            "handout/raft/src/lib.rs",
            "handout/kvraft/src/lib.rs",
            "selfcheck/mutants/a.mut",
            "target/release/labs",
            ".git/HEAD",
        ] {
            std::fs::create_dir_all(ws.join(f).parent().unwrap()).unwrap();
            std::fs::write(ws.join(f), f).unwrap();
        }
        let out = dir.path().join("ag.zip");
        let crates = ["raft".to_string(), "kvraft".to_string()];
        super::write_zip(&ws, &crates, &out, Some("policy = \"all\"\n"), "--groups 2A").unwrap();
        let mut z = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
        let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
        for n in [
            "setup.sh",
            "run_autograder",
            "grader-rubric.toml",
            "Cargo.toml",
            "scripts/install-sandbox.sh",
            "raft/src/lib.rs",
        ] {
            assert!(names.contains(&n.to_string()), "{n} missing from {names:?}");
        }
        assert!(!names.iter().any(|n| n.starts_with("target/") || n.starts_with(".git/")), "{names:?}");
        // No reference solution: the skeletons stand in its place.
        assert!(
            !names.iter().any(|n| n == "raft/src/election.rs" || n.starts_with("selfcheck/")),
            "{names:?}"
        );
        let mut lib = String::new();
        z.by_name("raft/src/lib.rs").unwrap().read_to_string(&mut lib).unwrap();
        assert_eq!(lib, "handout/raft/src/lib.rs");
        let mut run = z.by_name("run_autograder").unwrap();
        assert_eq!(run.unix_mode().unwrap() & 0o777, 0o755);
        let mut text = String::new();
        run.read_to_string(&mut text).unwrap();
        assert!(text.contains("--swap-root /autograder/swap --require-isolation --groups 2A 2>"), "{text}");
    }
}
