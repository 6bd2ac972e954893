//! The `lincheck` command: verdicts, exit codes, error messages, the view.

mod common;

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

/// Runs `lincheck ARGS…`; returns (exit code, stdout, stderr).
fn lincheck(args: &[&str]) -> (i32, String, String) {
    let output = cargo_bin_cmd!("lincheck").args(args).output().expect("lincheck runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code().expect("lincheck exits normally"), text(&output.stdout), text(&output.stderr))
}

fn history(name: &str) -> String {
    common::porcupine_dir().join(name).display().to_string()
}

/// Writes `text` to a file called `name` in `dir`; returns its path.
fn file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the temporary file is writable");
    path.display().to_string()
}

#[test]
fn linearizable_files_exit_0_with_a_verdict_and_time_each() {
    let (code, out, err) = lincheck(&[
        "check",
        "--model",
        "etcd",
        &history("jepsen/etcd_002.log"),
        &history("jepsen/etcd_005.log"),
    ]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert_eq!(out.lines().filter(|l| l.contains(": ok") && l.contains(" ms")).count(), 2, "{out}");
}

#[test]
fn an_illegal_file_exits_1() {
    let (code, out, _) =
        lincheck(&["check", "--model", "kv", &history("kv/c10-ok.txt"), &history("kv/c10-bad.txt")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("c10-bad.txt: illegal"), "{out}");
}

#[test]
fn a_malformed_line_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = file(
        dir.path(),
        "bad.log",
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:raed\t3\n",
    );
    let (code, _, err) = lincheck(&["check", "--model", "etcd", &bad]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{bad}:2: expected :read, :write or :cas")), "{err}");

    let bad = file(dir.path(), "bad.txt", "{:process 0, :type :invoke, :f :get, :key \"0\" :value nil}\n");
    let (code, _, err) = lincheck(&["check", "--model", "kv", &bad]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{bad}:1: expected `,`")), "{err}");
}

#[test]
fn an_unmatched_return_or_a_second_open_call_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let unmatched = file(dir.path(), "unmatched.log", "INFO  jepsen.util - 3\t:ok\t:write\t1\n");
    let (code, _, err) = lincheck(&["check", "--model", "etcd", &unmatched]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{unmatched}:1: process 3 returns but has no open call")), "{err}");

    let twice = file(
        dir.path(),
        "twice.txt",
        "{:process 4, :type :invoke, :f :get, :key \"0\", :value nil}\n\n\
         {:process 4, :type :invoke, :f :put, :key \"0\", :value \"x\"}\n",
    );
    let (code, _, err) = lincheck(&["check", "--model", "kv", &twice]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{twice}:3: process 4 calls again while its call on line 1")), "{err}");
}

#[test]
fn a_missing_file_exits_2_and_the_others_are_still_checked() {
    let (code, out, err) =
        lincheck(&["check", "--model", "kv", "/nonexistent/h.txt", &history("kv/c01-ok.txt")]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/h.txt"), "{err}");
    assert!(out.contains("c01-ok.txt: ok"), "{out}");
}

#[test]
fn running_out_of_time_exits_2_as_unknown() {
    let (code, out, _) =
        lincheck(&["check", "--model", "etcd", "--timeout", "1e-9", &history("jepsen/etcd_002.log")]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown"), "{out}");
}

#[test]
fn html_views_are_written_for_illegal_files_and_fetch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let views = dir.path().join("views");
    let views_arg = views.display().to_string();
    let (code, out, _) = lincheck(&[
        "check",
        "--model",
        "etcd",
        "--html",
        &views_arg,
        &history("jepsen/etcd_000.log"),
        &history("jepsen/etcd_002.log"),
    ]);
    assert_eq!(code, 1, "{out}");
    let page = std::fs::read_to_string(views.join("etcd_000.log.html")).expect("a view of the illegal file");
    assert!(!views.join("etcd_002.log.html").exists(), "no view of a linearizable file without --html-all");
    for fetch in ["http://", "https://", "src=", "@import", "url("] {
        assert!(!page.contains(fetch), "the view must be self-contained, but contains {fetch:?}");
    }
    assert!(page.contains("&quot;verdict&quot;:&quot;Illegal&quot;"), "the view embeds its data, as text");
}

#[test]
fn versioned_histories_are_checked_and_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let ok = file(
        dir.path(),
        "ok.edn",
        r#"{:process 0, :type :invoke, :f :put, :key "k", :value "a", :version 0}
{:process 1, :type :invoke, :f :put, :key "k", :value "b", :version 0}
{:process 0, :type :ok, :f :put, :key "k"}
{:process 1, :type :info, :f :put, :key "k", :error :maybe}
{:process 2, :type :invoke, :f :get, :key "k"}
{:process 2, :type :ok, :f :get, :key "k", :value "a", :version 1}
"#,
    );
    // The second put took effect too: a get cannot then read version 1 twice
    // with two values.
    let bad = file(
        dir.path(),
        "bad.edn",
        r#"{:process 0, :type :invoke, :f :put, :key "k", :value "a", :version 0}
{:process 0, :type :ok, :f :put, :key "k"}
{:process 1, :type :invoke, :f :get, :key "k"}
{:process 1, :type :ok, :f :get, :key "k", :value "a", :version 1}
{:process 1, :type :invoke, :f :get, :key "k"}
{:process 1, :type :ok, :f :get, :key "k", :value "b", :version 1}
"#,
    );
    let html = dir.path().join("html");
    let (code, out, err) =
        lincheck(&["check", "--model", "versioned", "--html", html.to_str().unwrap(), &ok, &bad]);
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("ok.edn: ok") && out.contains("bad.edn: illegal"), "{out}");
    let page = std::fs::read_to_string(html.join("bad.edn.html")).expect("the view of the illegal file");
    // The descriptions are in the page's data, JSON-escaped in HTML.
    let described = |text: &str| text.replace('"', "\\&quot;").replace('>', "&gt;");
    assert!(page.contains(&described(r#"get("k") -> "b" v1"#)), "the view names the impossible read");
}
