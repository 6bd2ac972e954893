//! `grader kit` and `grader swap` as commands: their refusals (fast), and a
//! grading kit made from the real workspace into a temporary folder, which
//! cargo must accept offline (ignored by `cargo test`: it vendors every
//! dependency, about 20 s with a warm cargo cache, and needs the network
//! without one; `make grader-e2e` runs it).

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn swap_refuses_a_folder_that_is_not_a_crate_as_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(grader().arg("swap").arg(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    let want = format!("grader swap: {} is not a crate (no Cargo.toml there)", dir.path().display());
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    let out = run(grader().arg("swap"));
    assert_eq!(out.status.code(), Some(2), "no folder at all");
}

#[test]
fn kit_needs_the_raftlab_workspace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = [\"other\"]\n").unwrap();
    let out = run(grader().arg("kit").arg(dir.path().join("kit")).arg("--workspace").arg(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not the raftlab workspace"), "{}", stderr(&out));
    assert!(!dir.path().join("kit").exists());
}

/// Every entry under `dir` that group or others may write, links aside.
fn writable_by_others(dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let meta = std::fs::symlink_metadata(e.path()).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.permissions().mode() & 0o022 != 0 {
            out.push(e.path().display().to_string());
        }
        if meta.is_dir() {
            writable_by_others(&e.path(), out);
        }
    }
}

#[test]
#[ignore = "vendors every dependency of node (about 20 s with a warm cargo cache, the network without)"]
fn a_kit_made_anywhere_is_a_workspace_cargo_accepts_offline() {
    let labs = workspace().join("target/release/labs");
    assert!(labs.is_file(), "build the kit first: cargo build --release -p grader -p node -p labs");
    let tmp = tempfile::tempdir().unwrap();
    let kit = tmp.path().join("kit");
    let make = || run(grader().arg("kit").arg(&kit).arg("--labs").arg(&labs));
    let out = make();
    assert_eq!(out.status.code(), Some(0));
    let kit = kit.canonicalize().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("grading kit ready in {}\n", kit.display()));

    // cargo reads the kit's config (vendored sources, no network) from the
    // folder it runs in.
    let src = kit.join("node-src");
    let metadata = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["metadata", "--offline", "--locked", "--format-version", "1"])
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(metadata.status.success(), "{}", String::from_utf8_lossy(&metadata.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&metadata.stdout).unwrap();
    let names = |key: &str| -> Vec<String> {
        let ids = meta[key].as_array().unwrap();
        let packages = meta["packages"].as_array().unwrap();
        let mut v: Vec<String> = ids
            .iter()
            .map(|id| packages.iter().find(|p| p["id"] == *id).unwrap()["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("workspace_members"), ["control", "kvraft", "labrpc", "node", "platform", "raft"]);
    let packages = meta["packages"].as_array().unwrap();
    assert!(!packages.iter().any(|p| p["name"] == "harness"), "node's dev-dependencies are gone");
    for p in packages.iter().filter(|p| !p["source"].is_null()) {
        let manifest = p["manifest_path"].as_str().unwrap();
        assert!(manifest.starts_with(kit.join("vendor").to_str().unwrap()), "{manifest} is not vendored");
    }
    // The skeletons, not the kit's own crates, stand in for the student crates.
    for c in ["raft", "kvraft"] {
        let skeleton =
            std::fs::read_to_string(workspace().join("handout").join(c).join("src/lib.rs")).unwrap();
        assert_eq!(std::fs::read_to_string(src.join(c).join("src/lib.rs")).unwrap(), skeleton, "{c}");
        assert!(kit.join("skeleton").join(c).join("Cargo.toml").is_file(), "{c}");
    }
    let mut writable = Vec::new();
    writable_by_others(&kit, &mut writable);
    assert!(writable.is_empty(), "writable by group or others: {writable:?}");

    // The same kit again: the same content, so the stamp is not rewritten.
    let stamp = kit.join("stamp");
    let (before, at) =
        (std::fs::read_to_string(&stamp).unwrap(), std::fs::metadata(&stamp).unwrap().modified());
    assert_eq!(before.trim().len(), 64, "{before}");
    assert_eq!(make().status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&stamp).unwrap(), before);
    assert_eq!(
        std::fs::metadata(&stamp).unwrap().modified().unwrap(),
        at.unwrap(),
        "the stamp was rewritten"
    );
}
