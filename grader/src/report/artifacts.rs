//! A failing run's artifacts folder in `index.html`: the kit's timeline,
//! its other views, and every file, each shown as what it is.
//!
//! The folder holds what the harness wrote beside what the nodes wrote. The
//! kit's views are only the pages the harness listed in a test folder's
//! manifest (`harness::artifacts::MANIFEST`, at `<test>/kit-views.txt`)
//! that are regular files at the top of that folder: a page a node wrote
//! (its own `timeline.html`, in its data folder or anywhere) is never linked
//! as one. Any other file is linked only as plain text (a `.txt` name, as
//! the artifacts copy gives every file of a node's folders, or a log the
//! manifest lists), else named, escaped, without a link.

use super::html::text;
use maud::{Markup, html};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Most artifact files listed per run.
const MAX_ARTIFACTS: usize = 200;

/// A file of a run's artifacts folder, as the page presents it.
#[derive(Debug, PartialEq)]
enum Shown {
    /// The kit's timeline of the run.
    Timeline,
    /// Another page of the kit's (the linearizability view).
    View,
    /// Linked as plain text: a `.txt` name, or a log the kit listed.
    Text,
    /// Named only: a file the kit did not list, that a browser could take
    /// for something other than text.
    Named,
}

/// How the file at `rel` (relative to the artifacts folder) is shown, given
/// each test folder's manifest: a page is the kit's only if it sits at the
/// top of a test folder (`<test>/<name>`) whose manifest lists it, as a
/// regular file.
fn shown(rel: &Path, kit: &[(PathBuf, Vec<String>)], root: &Path) -> Shown {
    let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let listed = rel.parent().is_some_and(|test| {
        kit.iter().any(|(t, names)| t == test && names.contains(&name))
            && std::fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.is_file())
    });
    match (listed, Path::new(&name).extension().and_then(|e| e.to_str())) {
        (true, _) if name == protocol::artifacts::TIMELINE_HTML => Shown::Timeline,
        (true, Some("html")) => Shown::View,
        (true, Some("log" | "txt")) | (false, Some("txt")) => Shown::Text,
        _ => Shown::Named,
    }
}

/// The manifest of each test folder of the artifacts folder `root` (its
/// subfolders, not links): the test folder relative to `root`, and the
/// names it lists.
fn manifests(root: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut out: Vec<(PathBuf, Vec<String>)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (PathBuf::from(e.file_name()), runner::manifest::read(&e.path())))
        .collect();
    out.sort();
    out
}

/// The timeline, the other kit views and every file of a run's artifacts
/// folder, `a` relative to the report folder and at `root` on disk.
pub fn section(a: &Path, root: &Path) -> Markup {
    let files = list_files(root);
    let kit = manifests(root);
    let shown: Vec<(&PathBuf, Shown)> =
        files.iter().take(MAX_ARTIFACTS).map(|f| (f, shown(f, &kit, root))).collect();
    let of = |kind: Shown| shown.iter().filter(move |(_, s)| *s == kind).map(|(f, _)| *f);
    let link = |f: &Path| html! { li { a href=(href(&a.join(f))) { (text(&f.to_string_lossy())) } } };
    html! {
        @if of(Shown::Timeline).next().is_some() {
            p { "Timeline of the run (roles, terms, faults, applies, the failure):" }
            ul { @for f in of(Shown::Timeline) { (link(f)) } }
        }
        @if of(Shown::View).next().is_some() {
            p { "Linearizability view:" }
            ul { @for f in of(Shown::View) { (link(f)) } }
        }
        details {
            summary { "Node logs and artifacts (" (files.len()) " files)" }
            ul {
                @for (f, how) in &shown {
                    @if *how == Shown::Text {
                        (link(f))
                    } @else if *how == Shown::Named {
                        li { code { (text(&f.to_string_lossy())) } " (a node's file: not linked)" }
                    }
                }
            }
        }
    }
}

/// A relative link to `path`: every byte but unreserved ones and `/`
/// percent-encoded, so that no name (with `#`, `?`, `:`, quotes or bytes
/// that are not UTF-8) links anywhere but to itself.
fn href(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut o = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// Regular files under `dir`, relative to it, sorted; symlinks are not followed.
fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else { continue };
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            let path = rel.join(e.file_name());
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's artifacts folder as the harness leaves it, the kit's views
    /// listed in the manifest, and what a node wrote beside them.
    fn folder() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let test = root.path().join("Flaky2A");
        for d in ["d0", "n0/own"] {
            std::fs::create_dir_all(test.join(d)).unwrap();
        }
        for f in ["timeline.html", "linearizability.html", "n0.log", "timeline.log"] {
            std::fs::write(test.join(f), "kit").unwrap();
            runner::manifest::record(&test, f).unwrap();
        }
        let forged = "<script>document.body.innerHTML='all passed'</script>";
        // A node's pages, as the artifacts copy names them and as it might not.
        for f in ["d0/timeline.html.txt", "d0/timeline.html", "n0/own/view.svg", "d0/raft-state.txt"] {
            std::fs::write(test.join(f), forged).unwrap();
        }
        // A page at the top that the harness did not list, and a listed name
        // that is a link, not a file.
        std::fs::write(test.join("report.html"), forged).unwrap();
        std::fs::write(test.join("d0/elsewhere.html"), forged).unwrap();
        std::fs::remove_file(test.join("linearizability.html")).unwrap();
        std::os::unix::fs::symlink("d0/elsewhere.html", test.join("linearizability.html")).unwrap();
        root
    }

    #[test]
    fn only_the_manifests_pages_are_the_kits_views() {
        let root = folder();
        let kit = manifests(root.path());
        let of = |rel: &str| shown(Path::new(rel), &kit, root.path());
        assert_eq!(of("Flaky2A/timeline.html"), Shown::Timeline);
        assert_eq!(of("Flaky2A/n0.log"), Shown::Text);
        assert_eq!(of("Flaky2A/timeline.log"), Shown::Text);
        assert_eq!(of("Flaky2A/d0/timeline.html"), Shown::Named, "a node's timeline.html is not the kit's");
        assert_eq!(of("Flaky2A/d0/timeline.html.txt"), Shown::Text, "it is shown as the text it is");
        assert_eq!(of("Flaky2A/d0/elsewhere.html"), Shown::Named);
        assert_eq!(of("Flaky2A/n0/own/view.svg"), Shown::Named);
        assert_eq!(of("Flaky2A/report.html"), Shown::Named, "not in the manifest");
        assert_eq!(of("Flaky2A/linearizability.html"), Shown::Named, "listed, but a link");
        assert_eq!(of("Other/timeline.html"), Shown::Named, "another folder's manifest does not count");
    }

    #[test]
    fn the_section_links_the_kits_pages_and_names_the_nodes() {
        let root = folder();
        let s = section(Path::new("runs/Flaky2A/2/artifacts"), root.path()).into_string();
        let at = |needle: &str| s.find(needle).unwrap_or_else(|| panic!("{needle} in {s}"));
        let base = "runs/Flaky2A/2/artifacts/Flaky2A";
        assert!(at("Timeline of the run") < at(&format!("<a href=\"{base}/timeline.html\">")));
        assert!(!s.contains("Linearizability view"), "the link to elsewhere is no view: {s}");
        assert_eq!(s.matches(".html\">").count(), 1, "one page is linked, the kit's timeline: {s}");
        assert!(s.contains(&format!("<a href=\"{base}/d0/timeline.html.txt\">")));
        assert!(s.contains(&format!("<a href=\"{base}/n0.log\">")));
        assert!(s.contains("<li><code>Flaky2A/d0/timeline.html</code> (a node's file: not linked)</li>"));
        assert!(
            s.contains("<code>Flaky2A/report.html</code>")
                && s.contains("<code>Flaky2A/n0/own/view.svg</code>")
        );
        assert!(!s.contains("<script>"));
    }

    #[test]
    fn links_go_only_to_their_file_and_names_are_shown_escaped() {
        assert_eq!(href(Path::new("runs/X/1/a b#c?d:e\"f'.txt")), "runs/X/1/a%20b%23c%3Fd%3Ae%22f%27.txt");
        let root = tempfile::tempdir().unwrap();
        let test = root.path().join("X");
        std::fs::create_dir_all(test.join("d0")).unwrap();
        std::fs::write(test.join("d0/\u{202e}lmth.txt"), "x").unwrap();
        std::fs::write(test.join("d0/\x1b[2J<i>.bin"), "x").unwrap();
        let s = section(Path::new("runs/X/1/artifacts"), root.path()).into_string();
        assert!(s.contains(r">X/d0/\u{202e}lmth.txt</a>"), "{s}");
        assert!(s.contains("href=\"runs/X/1/artifacts/X/d0/%E2%80%AElmth.txt\""), "{s}");
        assert!(s.contains(r"<code>X/d0/\x1b[2J&lt;i&gt;.bin</code>"), "{s}");
        assert!(!s.chars().any(runner::text::is_hidden));
    }
}
