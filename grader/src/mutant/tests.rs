use super::*;

/// A well-formed mutant file called `name.mut`, with `edits` after its fields.
fn text(name: &str, edits: &str) -> String {
    format!(
        "# a comment\nname: {name}\nbug: the bug   # trailing comment\ngroups: 2B 2C\nci: A2B, B2B\n\n{edits}"
    )
}

const EDIT: &str = "edit raft/src/lib.rs\n<<<<\n    let x = 1;\n====\n    let x = 2;\n>>>>\n";

fn parse_as(name: &str, text: &str) -> Result<Mutant, MutantError> {
    parse(Path::new(&format!("cat/{name}.mut")), text)
}

/// The error message of parsing `text` as `m.mut`.
fn parse_error(text: &str) -> String {
    parse_as("m", text).unwrap_err().to_string()
}

/// A scratch workspace with `raft/src/lib.rs` holding `lib` and a kvraft crate.
fn workspace(lib: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in [
        ("raft/Cargo.toml", "[package]\nname = \"raft\"\n"),
        ("raft/src/lib.rs", lib),
        ("raft/target/junk", "build output"),
        ("kvraft/Cargo.toml", "[package]\nname = \"kvraft\"\n"),
        ("kvraft/src/lib.rs", "pub fn kv() {}\n"),
        ("handout/raft/Cargo.toml", "[package]\nname = \"raft\"\n"),
        ("handout/kvraft/Cargo.toml", "[package]\nname = \"kvraft\"\n"),
        ("labs/src/lib.rs", "pub fn labs() {}\n"),
    ] {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    dir
}

#[test]
fn a_mutant_file_parses_into_its_fields_and_edits() {
    let m = parse_as(
        "m",
        &text("m", &format!("{EDIT}edit kvraft/src/lib.rs\n<<<<\npub fn kv() {{}}\n====\n>>>>\n")),
    )
    .unwrap();
    assert_eq!(m.name, "m");
    assert_eq!(m.bug, "the bug");
    assert_eq!(m.groups, ["2B", "2C"]);
    assert_eq!(m.ci, ["A2B", "B2B"]);
    assert_eq!(m.known, None);
    assert_eq!(m.edits.len(), 2);
    assert_eq!(m.edits[0].target, "raft/src/lib.rs");
    assert_eq!(m.edits[0].line, 7);
    assert_eq!(m.edits[0].anchor, "    let x = 1;\n");
    assert_eq!(m.edits[0].replacement, "    let x = 2;\n");
    assert_eq!(m.edits[1].replacement, "", "an empty replacement deletes the anchor");
    let known = parse_as("m", &text("m", &format!("known: no test catches it yet\n{EDIT}"))).unwrap();
    assert_eq!(known.known.as_deref(), Some("no test catches it yet"));
    assert!(!known.variant);
    let variant = parse_as("m", &text("m", &format!("expect: pass\n{EDIT}"))).unwrap();
    assert!(variant.variant, "`expect: pass` marks a correct variant");
    let bad = text("m", &format!("expect: maybe\n{EDIT}"));
    assert!(
        parse_error(&bad).contains("`expect:` is `pass` or `kill`, not `maybe`"),
        "{}",
        parse_error(&bad)
    );
}

#[test]
fn a_malformed_edit_block_is_named_by_its_line() {
    let no_open = text("m", "edit raft/src/lib.rs\n    let x = 1;\n====\n>>>>\n");
    assert_eq!(
        parse_error(&no_open),
        "cat/m.mut:8: expected `<<<<` on the line after `edit raft/src/lib.rs`"
    );
    let no_separator = text("m", "edit raft/src/lib.rs\n<<<<\n    let x = 1;\n>>>>\n");
    assert!(parse_error(&no_separator).starts_with("cat/m.mut:7: the edit of raft/src/lib.rs has no `====`"));
    let no_close = text("m", "edit raft/src/lib.rs\n<<<<\n    let x = 1;\n====\n    let x = 2;\n");
    assert!(parse_error(&no_close).contains("has no closing `>>>>`"), "{}", parse_error(&no_close));
    let empty = text("m", "edit raft/src/lib.rs\n<<<<\n\n====\nx\n>>>>\n");
    assert!(parse_error(&empty).contains("empty anchor"));
    let same = text("m", "edit raft/src/lib.rs\n<<<<\nx\n====\nx\n>>>>\n");
    assert!(parse_error(&same).contains("changes nothing"));
}

#[test]
fn unknown_repeated_missing_and_stray_fields_are_errors() {
    let unknown = text("m", &format!("grups: 2A\n{EDIT}"));
    assert!(
        parse_error(&unknown).starts_with("cat/m.mut:7: unknown field `grups`"),
        "{}",
        parse_error(&unknown)
    );
    let twice = text("m", &format!("ci: C2B\n{EDIT}"));
    assert_eq!(parse_error(&twice), "cat/m.mut:7: field `ci` given twice (first on line 5)");
    let stray = text("m", &format!("just words\n{EDIT}"));
    assert!(parse_error(&stray).contains("expected `field: value`"));
    let no_groups = text("m", EDIT).replace("groups: 2B 2C\n", "");
    assert_eq!(parse_error(&no_groups), "cat/m.mut: missing `groups:`");
    let empty_ci = text("m", EDIT).replace("ci: A2B, B2B", "ci:   # none");
    assert_eq!(parse_error(&empty_ci), "cat/m.mut:5: field `ci` is empty");
    assert!(parse_error(&text("other", EDIT)).contains("name `other` differs from the file name `m`"));
    assert!(parse_error(&text("m", "")).contains("mutant m: no `edit` block"));
}

#[test]
fn edits_stay_inside_the_student_crates() {
    for target in ["../raft/src/lib.rs", "/raft/src/lib.rs", "raft", "raft/../labs/x.rs"] {
        let e = parse_error(&text("m", &EDIT.replace("raft/src/lib.rs", target)));
        assert!(e.contains("a mutant edits only files inside a student crate"), "{target}: {e}");
    }
    // A plain path in a crate that is not a student's: refused once the
    // mutant meets a workspace, whose handout/ names the student crates.
    let ws = workspace("fn f() {\n    let x = 1;\n}\n");
    let m = parse_as("m", &text("m", &EDIT.replace("raft/src/lib.rs", "labs/src/lib.rs"))).unwrap();
    let e = m.mutated_files(ws.path()).unwrap_err().to_string();
    assert!(e.contains("a mutant edits only files inside the student crates (kvraft/, raft/)"), "{e}");
    let dest = tempfile::tempdir().unwrap();
    assert!(m.apply(ws.path(), dest.path()).is_err());
    assert!(!dest.path().join("labs").exists(), "nothing is written");
}

#[test]
fn the_student_crates_are_the_skeletons_in_handout() {
    let ws = workspace("");
    assert_eq!(student_crates(ws.path()).unwrap(), ["kvraft", "raft"]);
    std::fs::create_dir_all(ws.path().join("handout/echo")).unwrap();
    std::fs::write(ws.path().join("handout/echo/Cargo.toml"), "").unwrap();
    std::fs::create_dir_all(ws.path().join("handout/notes")).unwrap();
    assert_eq!(student_crates(ws.path()).unwrap(), ["echo", "kvraft", "raft"]);
    let empty = tempfile::tempdir().unwrap();
    assert!(student_crates(empty.path()).unwrap_err().contains("cannot read"));
}

#[test]
fn applying_copies_both_crates_and_changes_only_the_copy() {
    let ws = workspace("fn f() {\n    let x = 1;\n}\n");
    let dest = tempfile::tempdir().unwrap();
    let second = "edit raft/src/lib.rs\n<<<<\n    let x = 2;\n====\n    let x = 3;\n>>>>\n";
    let m = parse_as("m", &text("m", &format!("{EDIT}{second}"))).unwrap();
    m.apply(ws.path(), dest.path()).unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    // The second edit applies to what the first left.
    assert_eq!(read(&dest.path().join("raft/src/lib.rs")), "fn f() {\n    let x = 3;\n}\n");
    assert_eq!(read(&ws.path().join("raft/src/lib.rs")), "fn f() {\n    let x = 1;\n}\n");
    assert_eq!(read(&dest.path().join("kvraft/src/lib.rs")), "pub fn kv() {}\n");
    assert!(!dest.path().join("raft/target").exists(), "build output is not copied");
    // Applying again replaces the earlier copy.
    m.apply(ws.path(), dest.path()).unwrap();
    assert_eq!(read(&dest.path().join("raft/src/lib.rs")), "fn f() {\n    let x = 3;\n}\n");
}

#[test]
fn an_anchor_must_occur_exactly_once() {
    let m = parse_as("m", &text("m", EDIT)).unwrap();
    let absent = workspace("fn f() {}\n");
    let e = m.mutated_files(absent.path()).unwrap_err().to_string();
    assert_eq!(
        e,
        "cat/m.mut:7: mutant m: the anchor starting `let x = 1;` occurs 0 times in raft/src/lib.rs \
         (want exactly 1): update the mutant to the reference"
    );
    let twice = workspace("    let x = 1;\n    let x = 1;\n");
    assert!(m.mutated_files(twice.path()).unwrap_err().to_string().contains("occurs 2 times"));
    let dest = tempfile::tempdir().unwrap();
    assert!(m.apply(twice.path(), dest.path()).is_err());
    assert!(!dest.path().join("raft").exists(), "a mutant that does not apply writes nothing");
    let missing = parse_as("m", &text("m", &EDIT.replace("lib.rs", "gone.rs"))).unwrap();
    assert!(missing.mutated_files(absent.path()).unwrap_err().to_string().contains("cannot read"));
}

#[test]
fn a_catalogue_is_its_folders_mut_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["b", "a"] {
        std::fs::write(dir.path().join(format!("{name}.mut")), text(name, EDIT)).unwrap();
    }
    std::fs::write(dir.path().join("README.md"), "not a mutant").unwrap();
    let all = load(dir.path()).unwrap();
    assert_eq!(all.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(find(&all, "b", dir.path()).unwrap().name, "b");
    assert!(find(&all, "c", dir.path()).unwrap_err().to_string().contains("no mutant c (known: a, b)"));
    let empty = tempfile::tempdir().unwrap();
    assert!(load(empty.path()).unwrap_err().to_string().contains("no *.mut file"));
    assert_eq!(catalogue_dir(Some(Path::new("x")), Path::new("/ws")), Path::new("x"));
}

/// The kit's own catalogues: every mutant parses, names real groups, and
/// applies to the reference crates (the kit's handout has no `selfcheck/`).
#[test]
fn every_catalogue_of_the_kit_applies_to_the_reference() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    if !root.join("selfcheck").is_dir() {
        eprintln!("no selfcheck/ here (the handout): nothing to check");
        return;
    }
    let mut names = Vec::new();
    for dir in ["selfcheck/mutants", "selfcheck/contract", "selfcheck/variants"] {
        for m in load(&root.join(dir)).unwrap() {
            m.mutated_files(root).unwrap_or_else(|e| panic!("{e}"));
            // A contract mutant exists to make one check of the tester fail:
            // its diagnosis lines say which message proves it did.
            assert!(dir != "selfcheck/contract" || !m.diagnoses.is_empty(), "{}: no diagnosis", m.name);
            for g in &m.groups {
                assert!(["2A", "2B", "2C", "2D", "3A", "3B"].contains(&g.as_str()), "{}: group {g}", m.name);
            }
            names.push(m.name);
        }
    }
    // The classic bug classes the self-check exists for.
    for want in [
        "no-prev-check",
        "vote-any-log",
        "vote-longest-log",
        "commit-old-term",
        "backup-one-by-one",
        "no-persist",
        "no-persist-log",
        "no-persist-term",
        "no-persist-vote",
        "persist-after-reply",
        "heartbeat-flood",
        "snapshot-off-by-one",
        "reapply-after-restart",
        "install-drops-suffix",
        "kv-no-dedup",
        "kv-local-get",
        "kv-snapshot-no-dedup",
        "stale-append-truncates",
        "timer-reset-any-rpc",
        "append-stale-term",
        "install-old-snapshot",
        "kv-wait-forever",
        "vote-from-earlier-election",
        "leader-ignores-higher-term",
        "append-reply-old-term",
        "kv-any-op-at-index",
        "apply-twice",
        "double-leader-at-start",
        "stuck-vote",
        "raft-all-leaders",
        "leader-by-claim",
        "snapshot-not-redelivered",
        "commit-past-last-new",
    ] {
        assert!(names.iter().any(|n| n == want), "the catalogue lacks {want}");
    }
}

#[test]
fn diagnosis_lines_parse_into_a_test_and_a_regex_each() {
    let lines = "diagnosis: A2B two leaders in term 1: .*as it happened\ndiagnosis: A2B LAB_SEED=  # kept\n\
                 diagnosis: B2B ^\\s+last lines of each node$\n";
    let m = parse_as("m", &text("m", &format!("{lines}{EDIT}"))).unwrap();
    let d: Vec<_> = m.diagnoses.iter().map(|d| (d.test.as_str(), d.pattern.as_str(), d.line)).collect();
    assert_eq!(
        d,
        [
            ("A2B", "two leaders in term 1: .*as it happened", 7),
            ("A2B", "LAB_SEED=  # kept", 8),
            ("B2B", "^\\s+last lines of each node$", 9)
        ],
        "the regex is the rest of the line, a # included"
    );
    assert_eq!(m.diagnoses_of("A2B").count(), 2);
    let said = "x\ntwo leaders in term 1: 0 and 2, said so as it happened\nLAB_SEED=  # kept\n";
    assert!(m.unmatched("A2B", said).is_empty());
    assert_eq!(
        m.unmatched("A2B", "two leaders in term 1:\nas it happened\n"),
        [d[0].1, d[1].1],
        "`.` stays in its line"
    );
    assert!(
        m.unmatched("B2B", "failed\n  last lines of each node\n").is_empty(),
        "^ and $ match at each line"
    );
    assert_eq!(m.place(&m.diagnoses[2]), "cat/m.mut:9");
    assert!(parse_as("m", &text("m", EDIT)).unwrap().diagnoses.is_empty(), "the field is optional");
}

#[test]
fn a_bad_diagnosis_is_named_by_its_file_and_line() {
    let bad = |line: &str| parse_error(&text("m", &format!("{line}\n{EDIT}")));
    let e = bad("diagnosis: A2B term (1 has");
    assert!(e.starts_with("cat/m.mut:7: the diagnosis of A2B is not a regex: "), "{e}");
    assert!(e.contains("unclosed group"), "{e}");
    assert_eq!(
        bad("diagnosis: A2B"),
        "cat/m.mut:7: `diagnosis:` is `TEST REGEX` (a test id, then what its output must match), found `A2B`"
    );
    assert_eq!(
        bad("diagnosis: Nope2B failed"),
        "cat/m.mut:7: the diagnosis names Nope2B, which is not on the `ci:` line (A2B B2B): \
         `grader selfcheck --ci` would never run it"
    );
    let variant = bad("expect: pass\ndiagnosis: A2B x");
    assert_eq!(variant, "cat/m.mut:8: a correct variant (`expect: pass`) must pass: it has no diagnosis");
    assert!(bad("diagnosiss: A2B x").contains("(known: name, bug, groups, ci, known, expect, diagnosis)"));
}
