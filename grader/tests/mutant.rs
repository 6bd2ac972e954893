//! `grader mutant` and `grader selfcheck --check` on a scratch workspace and
//! catalogue: the commands, their exit statuses and their messages. Fast: no
//! build, no test run.

mod common;

use common::*;
use std::path::Path;

/// A file, with its folders.
fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A workspace the grader recognizes, with a one-line reference raft and a
/// kvraft, and their skeletons in handout/.
fn workspace_with_reference() -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    write(&ws.path().join("Cargo.toml"), "[workspace]\nmembers = [\"labs\"]\n");
    write(&ws.path().join("raft/Cargo.toml"), "[package]\nname = \"raft\"\n");
    write(&ws.path().join("raft/src/lib.rs"), "pub fn elect() {\n    vote();\n}\n");
    write(&ws.path().join("kvraft/Cargo.toml"), "[package]\nname = \"kvraft\"\n");
    write(&ws.path().join("kvraft/src/lib.rs"), "pub fn kv() {}\n");
    // The skeletons name the student crates.
    write(&ws.path().join("handout/raft/Cargo.toml"), "[package]\nname = \"raft\"\n");
    write(&ws.path().join("handout/kvraft/Cargo.toml"), "[package]\nname = \"kvraft\"\n");
    ws
}

/// A mutant file whose edit replaces `anchor` in raft/src/lib.rs.
fn mutant(catalogue: &Path, name: &str, anchor: &str) {
    write(
        &catalogue.join(format!("{name}.mut")),
        &format!(
            "name: {name}\nbug: the bug\ngroups: 2A\nci: A2A\nedit raft/src/lib.rs\n<<<<\n{anchor}\n====\n    // gone\n>>>>\n"
        ),
    );
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn list_check_and_apply_a_catalogue() {
    let ws = workspace_with_reference();
    let cat = ws.path().join("cat");
    mutant(&cat, "no-vote", "    vote();");
    let at = |cmd: &mut std::process::Command| {
        cmd.arg("--workspace").arg(ws.path()).arg("--catalogue").arg(&cat);
    };

    let mut list = grader();
    list.args(["mutant", "list"]);
    at(&mut list);
    let o = run(&mut list);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "no-vote\t2A\tA2A\tthe bug\n");

    let mut check = grader();
    check.args(["mutant", "check"]);
    at(&mut check);
    assert_eq!(run(&mut check).status.code(), Some(0));

    let dest = ws.path().join("out");
    let mut apply = grader();
    apply.args(["mutant", "apply", "no-vote"]).arg(&dest);
    at(&mut apply);
    let o = run(&mut apply);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).trim(), dest.display().to_string());
    let mutated = std::fs::read_to_string(dest.join("raft/src/lib.rs")).unwrap();
    assert_eq!(mutated, "pub fn elect() {\n    // gone\n}\n");
    assert!(dest.join("kvraft/src/lib.rs").is_file());

    // The environment names the catalogue when the flag does not.
    let o =
        run(grader().args(["mutant", "list", "--workspace"]).arg(ws.path()).env("SELFCHECK_MUTANTS", &cat));
    assert_eq!(stdout(&o), "no-vote\t2A\tA2A\tthe bug\n");

    let mut unknown = grader();
    unknown.args(["mutant", "apply", "no-such"]).arg(&dest);
    at(&mut unknown);
    let o = run(&mut unknown);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no mutant no-such (known: no-vote)"), "{}", stderr(&o));
}

#[test]
fn a_mutant_that_no_longer_applies_stops_the_selfcheck_naming_file_line_and_mutant() {
    let ws = workspace_with_reference();
    let cat = ws.path().join("cat");
    mutant(&cat, "no-vote", "    vote();");
    mutant(&cat, "rotten", "    vote_twice();");
    let o = run(grader()
        .args(["selfcheck", "--check", "--workspace"])
        .arg(ws.path())
        .arg("--catalogue")
        .arg(&cat));
    assert_eq!(o.status.code(), Some(2));
    let want = format!(
        "{}:5: mutant rotten: the anchor starting `vote_twice();` occurs 0 times in raft/src/lib.rs",
        cat.join("rotten.mut").display()
    );
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 of the 2 mutants"), "{}", stderr(&o));

    // Fixed, the check passes; a malformed file is an error too.
    mutant(&cat, "rotten", "pub fn elect() {");
    let check = || {
        run(grader()
            .args(["selfcheck", "--check", "--workspace"])
            .arg(ws.path())
            .arg("--catalogue")
            .arg(&cat))
    };
    assert_eq!(check().status.code(), Some(0));
    write(
        &cat.join("bad.mut"),
        "name: bad\nbug: b\ngroups: 2A\nci: A2A\nedit raft/src/lib.rs\n<<<<\nx\n>>>>\n",
    );
    let o = check();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.mut:5: the edit of raft/src/lib.rs has no `====`"), "{}", stderr(&o));
}
