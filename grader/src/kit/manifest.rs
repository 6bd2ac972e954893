//! The grading kit's edits of cargo's TOML files, each a pure function of
//! the text (with `toml_edit`, which keeps everything it does not change:
//! comments, order, layout). Also the grader's renaming of a submitted
//! crate, whose manifest is the submission's: its errors name a line, never
//! quote it.

use std::path::Path;
use toml_edit::{Array, DocumentMut, Item, Table, value};

/// Parses `text` as TOML; `what` names it in the error, which gives the
/// line and cargo's reason but no byte of the text.
fn parse(text: &str, what: &str) -> Result<DocumentMut, String> {
    text.parse::<DocumentMut>().map_err(|e| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        format!("{what} is not valid TOML (a TOML error{at})")
    })
}

/// The kit's workspace manifest with only `members` (in that order) and no
/// `exclude`: everything else (`[workspace.dependencies]`, profiles, …) as
/// it was.
///
/// # Errors
/// If `text` is not TOML or has no `[workspace]` table.
pub fn workspace_with_members(text: &str, members: &[&str]) -> Result<String, String> {
    let mut doc = parse(text, "the workspace manifest")?;
    let workspace = doc
        .get_mut("workspace")
        .and_then(Item::as_table_mut)
        .ok_or("the workspace manifest has no [workspace] table")?;
    workspace.insert("members", value(members.iter().copied().collect::<Array>()));
    workspace.remove("exclude");
    Ok(doc.to_string())
}

/// A crate's manifest without its dev-dependencies (`[dev-dependencies]`,
/// and the same under `[target.'…']`; both spellings cargo reads): what
/// only its tests use is not part of the workspace the kit builds.
///
/// # Errors
/// If `text` is not TOML.
pub fn without_dev_dependencies(text: &str) -> Result<String, String> {
    const KEYS: [&str; 2] = ["dev-dependencies", "dev_dependencies"];
    let mut doc = parse(text, "the crate's manifest")?;
    for key in KEYS {
        doc.remove(key);
    }
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, target) in targets.iter_mut() {
            if let Some(target) = target.as_table_like_mut() {
                for key in KEYS {
                    target.remove(key);
                }
            }
        }
    }
    Ok(doc.to_string())
}

/// A crate manifest with its package named `name` (`[package] name`), the
/// rest as it was.
///
/// # Errors
/// If `text` is not TOML or has no `[package]` table.
pub fn renamed(text: &str, name: &str) -> Result<String, String> {
    let mut doc = parse(text, "Cargo.toml")?;
    let package = doc
        .get_mut("package")
        .and_then(Item::as_table_like_mut)
        .ok_or("Cargo.toml has no [package] table")?;
    package.insert("name", value(name));
    Ok(doc.to_string())
}

/// The node workspace's `.cargo/config.toml`: every crates.io dependency
/// from `vendor`, and no network.
///
/// # Errors
/// If `vendor` is not UTF-8 (TOML cannot spell it).
pub fn cargo_config(vendor: &Path) -> Result<String, String> {
    let vendor = vendor.to_str().ok_or_else(|| format!("{} is not UTF-8", vendor.display()))?;
    let mut doc = DocumentMut::new();
    let mut crates_io = Table::new();
    crates_io.insert("replace-with", value("kit-vendor"));
    let mut kit_vendor = Table::new();
    kit_vendor.insert("directory", value(vendor));
    let mut source = Table::new();
    source.set_implicit(true);
    source.insert("crates-io", Item::Table(crates_io));
    source.insert("kit-vendor", Item::Table(kit_vendor));
    let mut net = Table::new();
    net.insert("offline", value(true));
    doc.insert("source", Item::Table(source));
    doc.insert("net", Item::Table(net));
    Ok(format!("# Written by `grader kit`: a submission builds from these sources only.\n{doc}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKSPACE: &str = "# the kit\n[workspace]\nresolver = \"3\"\nmembers = [\"labrpc\", \"raft\", \"labs\"]\nexclude = [\"fixtures\"]\n\n[workspace.dependencies]\nraft = { path = \"raft\" } # the student's\n\n[profile.release]\ndebug = 1\n";

    #[test]
    fn the_workspace_keeps_only_its_members_and_everything_else() {
        let out = workspace_with_members(WORKSPACE, &["labrpc", "raft", "node"]).unwrap();
        let doc: toml::Table = out.parse().unwrap();
        let members: Vec<&str> =
            doc["workspace"]["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        assert_eq!(members, ["labrpc", "raft", "node"]);
        assert!(doc["workspace"].get("exclude").is_none(), "{out}");
        assert_eq!(doc["profile"]["release"]["debug"].as_integer(), Some(1));
        assert!(
            out.starts_with("# the kit\n") && out.contains("raft = { path = \"raft\" } # the student's"),
            "{out}"
        );
        assert!(
            workspace_with_members("[package]\nname = \"x\"\n", &[]).unwrap_err().contains("no [workspace]")
        );
        let e = workspace_with_members("[workspace]\nmembers = [\n\nSECRET = = \n", &[]).unwrap_err();
        assert!(e.contains("not valid TOML") && e.contains("line") && !e.contains("SECRET"), "{e}");
    }

    #[test]
    fn dev_dependencies_go_and_nothing_else_does() {
        let node = "[package]\nname = \"node\"\n\n[dependencies]\nraft.workspace = true\n\n[dev-dependencies]\nharness.workspace = true\n\n[target.'cfg(unix)'.dev-dependencies]\nnix = \"1\"\n\n[target.'cfg(unix)'.dependencies]\nlibc = \"1\"\n\n[features]\nx = []\n";
        let out = without_dev_dependencies(node).unwrap();
        let doc: toml::Table = out.parse().unwrap();
        assert!(doc.get("dev-dependencies").is_none() && !out.contains("harness"), "{out}");
        let unix = &doc["target"]["cfg(unix)"];
        assert!(
            unix.get("dev-dependencies").is_none() && unix["dependencies"].get("libc").is_some(),
            "{out}"
        );
        assert!(doc["dependencies"].get("raft").is_some() && doc["features"].get("x").is_some(), "{out}");
        assert_eq!(
            without_dev_dependencies("[package]\nname = \"n\"\n").unwrap(),
            "[package]\nname = \"n\"\n"
        );
    }

    #[test]
    fn a_renamed_crate_changes_its_package_name_only() {
        let theirs =
            "[package]\nversion = \"0.1.0\"\nname = \"my-raft\" # mine\n\n[dependencies]\nname = \"1\"\n";
        let out = renamed(theirs, "raft").unwrap();
        let doc: toml::Table = out.parse().unwrap();
        assert_eq!(doc["package"]["name"].as_str(), Some("raft"));
        assert_eq!(doc["dependencies"]["name"].as_str(), Some("1"), "a dependency named `name` stays");
        assert!(out.starts_with("[package]\nversion = \"0.1.0\"\n"), "{out}");
        let inline = renamed("package = { name = \"x\", version = \"1\" }\n", "raft").unwrap();
        assert_eq!(inline.parse::<toml::Table>().unwrap()["package"]["name"].as_str(), Some("raft"));
        assert!(renamed("[lib]\n", "raft").unwrap_err().contains("no [package]"));
        let e = renamed("[package]\nname = \"TOKEN=hunter2\n", "raft").unwrap_err();
        assert!(e.contains("line 2") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn the_cargo_config_takes_every_crate_from_the_vendor_folder() {
        let out = cargo_config(Path::new("/k/it \"x\"/vendor")).unwrap();
        assert!(out.starts_with("# Written by `grader kit`"), "{out}");
        let doc: toml::Table = out.parse().unwrap();
        assert_eq!(doc["source"]["crates-io"]["replace-with"].as_str(), Some("kit-vendor"));
        assert_eq!(doc["source"]["kit-vendor"]["directory"].as_str(), Some("/k/it \"x\"/vendor"));
        assert_eq!(doc["net"]["offline"].as_bool(), Some(true));
        assert!(!out.contains("[source]\n"), "only its subtables: {out}");
    }
}
