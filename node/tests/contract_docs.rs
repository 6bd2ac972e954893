//! The student's contract is written twice: in the handout's skeletons
//! (`handout/raft`, `handout/kvraft`), which students read, and in the
//! reference crates, which the tests are checked against. Every public item
//! of a skeleton's `lib.rs` must exist in the reference with the same doc
//! comment, word for word, so that the two never say different things.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The kit's root (this crate sits in `node/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("node/ has a parent").to_path_buf()
}

/// Each public const, fn, struct, enum or type of `source`, named
/// `Type::item` inside an `impl Type` block, with the doc comment right
/// above it (attributes skipped), whitespace-normalised.
fn public_docs(source: &str) -> BTreeMap<String, String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut items = BTreeMap::new();
    let mut within: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("impl") {
            let ty = rest.split(" for ").last().unwrap_or(rest);
            within = ty
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .rfind(|w| !w.is_empty())
                .map(str::to_string);
        } else if line.starts_with('}') {
            within = None;
        }
        let Some(item) = public_item(line.trim_start()) else { continue };
        let name = match (&within, line.starts_with(' ')) {
            (Some(ty), true) => format!("{ty}::{item}"),
            _ => item,
        };
        let mut doc = Vec::new();
        for above in lines[..i].iter().rev().map(|l| l.trim()) {
            if let Some(text) = above.strip_prefix("///") {
                doc.push(text.trim());
            } else if !above.starts_with("#[") {
                break;
            }
        }
        doc.reverse();
        items.insert(name, doc.join(" ").split_whitespace().collect::<Vec<_>>().join(" "));
    }
    items
}

/// The name a line declares, if it declares a public item.
fn public_item(line: &str) -> Option<String> {
    let rest = line.strip_prefix("pub ")?;
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let (_, rest) = ["const ", "fn ", "struct ", "enum ", "type "]
        .iter()
        .find_map(|kw| rest.strip_prefix(kw).map(|r| (kw, r)))?;
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// Differences between the skeleton's and the reference's public docs.
fn drift(skeleton: &str, reference: &str) -> Vec<String> {
    let theirs = public_docs(reference);
    public_docs(skeleton)
        .into_iter()
        .filter_map(|(name, doc)| match theirs.get(&name) {
            None => Some(format!("`{name}` is in the handout but not in the reference")),
            Some(r) if *r != doc => {
                Some(format!("`{name}` is documented differently:\n  handout:   {doc}\n  reference: {r}"))
            }
            Some(_) => None,
        })
        .collect()
}

#[test]
fn the_handout_and_the_reference_document_the_same_api() {
    let root = root();
    if !root.join("handout").is_dir() {
        println!("no handout/ folder here (a student's copy of the kit): nothing to compare");
        return;
    }
    // Every skeleton in handout/ (a folder with a Cargo.toml: one per
    // student crate the labs declare, which a test of `labs` checks), against
    // the kit's crate of the same name.
    let mut skeletons: Vec<String> = std::fs::read_dir(root.join("handout"))
        .expect("cannot read handout/")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| p.file_name().expect("a folder's name").to_string_lossy().into_owned())
        .collect();
    skeletons.sort();
    assert!(!skeletons.is_empty(), "no skeleton crate in handout/");
    let mut problems = Vec::new();
    for krate in skeletons.iter().map(String::as_str) {
        // Every source file of the crate's src/ folder, one after the other.
        let read = |dir: &str| {
            let src = root.join(dir).join("src");
            let mut files: Vec<_> = std::fs::read_dir(&src)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()))
                .map(|e| e.expect("directory entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .collect();
            files.sort();
            files
                .iter()
                .map(|p| {
                    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (skeleton, reference) = (read(&format!("handout/{krate}")), read(krate));
        assert!(!public_docs(&skeleton).is_empty(), "no public item found in handout/{krate}/src");
        problems.extend(drift(&skeleton, &reference).into_iter().map(|p| format!("{krate}: {p}")));
    }
    assert!(
        problems.is_empty(),
        "the handout's API docs drifted from the reference's:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_changed_word_or_a_missing_item_is_drift() {
    let skeleton = "/// Proposes `command`.\n/// Returns at once.\n#[inline]\npub fn start() {}\n\n/// The term.\npub const TERM: u64 = 1;\n";
    assert!(drift(skeleton, skeleton).is_empty());
    let reworded = skeleton.replace("at once", "soon");
    assert_eq!(drift(skeleton, &reworded).len(), 1, "{:?}", drift(skeleton, &reworded));
    let missing = "/// Proposes `command`.\n/// Returns at once.\npub fn start() {}\n";
    assert_eq!(
        drift(skeleton, missing),
        vec!["`TERM` is in the handout but not in the reference".to_string()]
    );
}
