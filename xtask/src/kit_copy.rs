//! Whether the handout's copy of a kit file or folder is the kit's: each
//! file the same, or as the handout derives it (the wording rules; the
//! workspace manifest and lock file without this tool), and anything
//! missing left out on purpose. Build folders (`target/`) are not compared.

use crate::{lockfile, select, wording};
use std::fs;
use std::path::Path;

/// What is wrong with the handout's copy of the kit's `rel`, one line each
/// (none: it is the kit's).
pub fn problems(root: &Path, dest: &Path, rel: &str) -> Vec<String> {
    let mut out = Vec::new();
    compare(root, dest, rel, &mut out);
    out
}

fn compare(root: &Path, dest: &Path, rel: &str, out: &mut Vec<String>) {
    let (kit, copy) = (root.join(rel), dest.join(rel));
    match (kit.is_dir(), copy.is_dir(), copy.exists()) {
        (_, _, false) => {
            if !select::staff_only(rel) {
                out.push(format!("left out: {rel}"));
            }
        }
        (true, true, _) => {
            let names = |dir: &Path| -> Vec<String> {
                let mut v: Vec<String> = fs::read_dir(dir)
                    .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                    .unwrap_or_default();
                v.retain(|n| n != "target");
                v.sort();
                v
            };
            let kit_names = names(&kit);
            for name in &kit_names {
                compare(root, dest, &format!("{rel}/{name}"), out);
            }
            for name in names(&copy).into_iter().filter(|n| !kit_names.contains(n)) {
                out.push(format!("not in the kit: {rel}/{name}"));
            }
        }
        (false, false, _) => {
            if !same_file(root, &kit, &copy, rel) {
                out.push(format!("changed beyond {}: {rel}", wording::RULES));
            }
        }
        _ => out.push(format!("a file in one and a folder in the other: {rel}")),
    }
}

fn same_file(root: &Path, kit: &Path, copy: &Path, rel: &str) -> bool {
    let (Ok(a), Ok(b)) = (fs::read(kit), fs::read(copy)) else { return false };
    if a == b {
        return true;
    }
    let text = String::from_utf8_lossy(&a);
    let derived = match rel {
        "Cargo.toml" => lockfile::without_member(&text, select::TOOL_CRATE).into_bytes(),
        "Cargo.lock" => lockfile::without_package(&text, select::TOOL_CRATE).into_bytes(),
        _ => return wording::reworded(root, kit).is_ok_and(|r| r == b),
    };
    derived == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (rel, text) in files {
            let path = dir.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    /// A kit and its handout copy holding `kit` and `copy`.
    fn pair(kit: &[(&str, &str)], copy: &[(&str, &str)]) -> (tempfile::TempDir, tempfile::TempDir) {
        let (root, dest) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write(root.path(), kit);
        write(dest.path(), copy);
        (root, dest)
    }

    #[test]
    fn the_same_files_are_the_kits() {
        let files = [("grader/src/main.rs", "fn main() {}"), ("grader/Cargo.toml", "[package]")];
        let (root, dest) = pair(&files, &files);
        assert!(problems(root.path(), dest.path(), "grader").is_empty());
    }

    #[test]
    fn only_staff_files_may_be_missing() {
        let kit = [("grader/src/main.rs", "x"), ("grader/README.md", "staff"), ("grader/NOTES.md", "notes")];
        let (root, dest) = pair(&kit, &[("grader/src/main.rs", "x")]);
        assert_eq!(problems(root.path(), dest.path(), "grader"), ["left out: grader/NOTES.md"]);
    }

    #[test]
    fn a_file_the_kit_lacks_or_a_change_no_rule_makes_is_named() {
        let (root, dest) = pair(&[("docs/a.md", "a")], &[("docs/a.md", "b"), ("docs/b.md", "b")]);
        assert_eq!(
            problems(root.path(), dest.path(), "docs"),
            ["changed beyond handout/wording.pl: docs/a.md", "not in the kit: docs/b.md"]
        );
    }

    #[test]
    fn build_folders_are_not_compared() {
        let (root, dest) =
            pair(&[("labs/target/x", "1"), ("labs/a", "a")], &[("labs/a", "a"), ("labs/target/y", "2")]);
        assert!(problems(root.path(), dest.path(), "labs").is_empty());
    }

    #[test]
    fn the_workspace_may_lack_the_tool_and_nothing_else() {
        let kit = "[workspace]\nmembers = [\"labs\", \"xtask\"]\n";
        let (root, dest) =
            pair(&[("Cargo.toml", kit)], &[("Cargo.toml", "[workspace]\nmembers = [\"labs\"]\n")]);
        assert!(problems(root.path(), dest.path(), "Cargo.toml").is_empty());
        let (root, dest) = pair(&[("Cargo.toml", kit)], &[("Cargo.toml", "[workspace]\nmembers = []\n")]);
        assert_eq!(problems(root.path(), dest.path(), "Cargo.toml").len(), 1);
    }
}
