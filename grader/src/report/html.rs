//! `index.html`: the summary table and, for each failing run, its reason,
//! seed and replay command, its output, and links to its node logs and (for
//! KV tests) the linearizability view. One self-contained file; links are
//! relative, so the report folder can be published as it is.

use crate::result::{Grade, Run, TestReport};
use crate::score::{self, fmt_points};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Most bytes of a run's output the page embeds.
const OUTPUT_BYTES: u64 = 160 * 1024;
/// Most artifact files listed per run.
const MAX_ARTIFACTS: usize = 200;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:80em}\
table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#176f2c}.fail{color:#b00020;font-weight:600}\
pre{background:#f6f6f6;padding:.8em;overflow:auto;max-height:40em;font-size:12px}code{background:#f0f0f0;padding:0 .3em}\
details{margin:.5em 0 1.5em}summary{cursor:pointer}";

/// The page. Reads failing runs' output files and artifact folders under `out`.
pub fn page(grade: &Grade, out: &Path) -> String {
    let (got, max) = score::total(grade);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>raftlab grade: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&grade.submission)
    );
    let verdict = if score::all_passed(grade) {
        "<span class=pass>all runs passed</span>"
    } else {
        "<span class=fail>some runs failed</span>"
    };
    let _ = write!(
        s,
        "<h1>raftlab grade: {}</h1>\n<p><b>{}/{}</b> points — {verdict}. {} run(s) of each test, base seed {}, {:.1} s.</p>\n",
        esc(&grade.submission),
        fmt_points(got),
        fmt_points(max),
        grade.iterations,
        grade.base_seed,
        grade.elapsed_secs
    );
    let _ = writeln!(
        s,
        "<p class={}>{}</p>",
        if grade.isolation.sandboxed() { "pass" } else { "fail" },
        esc(&grade.isolation.describe())
    );
    if let Some(c) = &grade.concurrency {
        let _ = writeln!(s, "<p>{}</p>", esc(&c.describe()));
    }
    let suspicious: Vec<String> = grade
        .tests
        .iter()
        .flat_map(|t| t.runs.iter().filter_map(move |r| r.suspicious.as_ref().map(|w| (t, r, w))))
        .map(|(t, r, w)| format!("<li>{} #{}: {}</li>", esc(&t.id), r.iteration, esc(w)))
        .collect();
    if !suspicious.is_empty() {
        let _ = write!(s, "<h2 class=fail>Suspicious runs</h2>\n<ul>{}</ul>\n", suspicious.join("\n"));
    }
    if !grade.build.ok() {
        let _ = write!(
            s,
            "<h2 class=fail>The submission did not build</h2>\n<p>Every test scores 0.</p><pre>{}</pre>\n",
            esc(&grade.build.message)
        );
    }
    s.push_str(
        "<table><tr><th>group</th><th>test</th><th>passed/runs</th><th>time (s)</th><th>points</th></tr>\n",
    );
    for (group, tests) in super::groups(grade) {
        for t in tests {
            let sc = score::score(t);
            let time =
                score::time_stats(t).map(|(m, sd)| format!("{m:.1} ± {sd:.1}")).unwrap_or_else(|| "-".into());
            let class = if sc.all_passed() { "pass" } else { "fail" };
            let name =
                if sc.all_passed() { esc(&t.id) } else { format!("<a href=\"#{0}\">{0}</a>", esc(&t.id)) };
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td class={class}>{name}</td><td class=n>{}/{}</td><td class=n>{time}</td><td class=n>{}/{}</td></tr>",
                esc(group),
                sc.passed,
                sc.runs,
                fmt_points(sc.score),
                fmt_points(sc.max)
            );
        }
    }
    s.push_str("</table>\n");
    let failing: Vec<&TestReport> = grade
        .tests
        .iter()
        .filter(|t| t.runs.iter().any(|r| !r.outcome.passed() && r.outcome.ran()))
        .collect();
    if !failing.is_empty() {
        s.push_str("<h2>Failing runs</h2>\n");
    }
    for t in failing {
        let _ = writeln!(s, "<h3 id=\"{0}\">{0} — {1}</h3>", esc(&t.id), esc(&t.title));
        for r in t.runs.iter().filter(|r| !r.outcome.passed() && r.outcome.ran()) {
            run_section(&mut s, grade, t, r, out);
        }
    }
    s.push_str("</body></html>\n");
    s
}

fn run_section(s: &mut String, grade: &Grade, t: &TestReport, r: &Run, out: &Path) {
    let _ = writeln!(
        s,
        "<p><b>Run {}</b>, seed <code>{}</code>, {:.1} s: {}<br>Replay: <code>{}</code></p>",
        r.iteration,
        r.seed,
        r.secs,
        esc(&r.reason()),
        esc(&r.replay(grade, &t.id))
    );
    let output = r.output.as_ref().map(|o| read_capped(&out.join(o))).unwrap_or_else(|| r.tail.clone());
    let link =
        r.output.as_ref().map(|o| format!(" (<a href=\"{}\">full file</a>)", esc(o))).unwrap_or_default();
    let _ = writeln!(s, "<details open><summary>Output{link}</summary><pre>{}</pre></details>", esc(&output));
    if let Some(a) = &r.artifacts {
        let files = list_files(&out.join(a));
        let (mut timelines, mut views, mut logs) = (String::new(), String::new(), String::new());
        for f in files.iter().take(MAX_ARTIFACTS) {
            let rel = Path::new(a).join(f).to_string_lossy().into_owned();
            let item = format!("<li><a href=\"{}\">{}</a></li>", esc(&rel), esc(&f.to_string_lossy()));
            if f.file_name().is_some_and(|n| n == harness::artifacts::TIMELINE_HTML) {
                timelines.push_str(&item);
            } else if f.extension().is_some_and(|e| e == "html") {
                views.push_str(&item);
            } else {
                logs.push_str(&item);
            }
        }
        if !timelines.is_empty() {
            let _ = writeln!(
                s,
                "<p>Timeline of the run (roles, terms, faults, applies, the failure):</p><ul>{timelines}</ul>"
            );
        }
        if !views.is_empty() {
            let _ = writeln!(s, "<p>Linearizability view:</p><ul>{views}</ul>");
        }
        let _ = writeln!(
            s,
            "<details><summary>Node logs and artifacts ({} files)</summary><ul>{logs}</ul></details>",
            files.len()
        );
    }
}

/// A file's text, at most [`OUTPUT_BYTES`] (the first ones).
fn read_capped(path: &Path) -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    match std::fs::File::open(path) {
        Ok(f) => {
            let _ = f.take(OUTPUT_BYTES).read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
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
    #[test]
    fn the_page_escapes_output_and_links_failures() {
        let g = crate::report::sample::grade();
        let p = super::page(&g, std::path::Path::new("/nonexistent"));
        assert!(p.contains("<a href=\"#Flaky2A\">Flaky2A</a>"));
        assert!(p.contains("id=\"Slow2B\""));
        assert!(!p.contains("<script>"));
        assert!(p.contains("seed <code>1002</code>"));
    }

    #[test]
    fn a_failed_runs_timeline_is_linked_apart_from_its_logs() {
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("runs/Flaky2A/2/artifacts/Flaky2A");
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["timeline.html", "linearizability.html", "n0.log"] {
            std::fs::write(dir.join(f), "x").unwrap();
        }
        let mut g = crate::report::sample::grade();
        g.tests[1].runs[1].artifacts = Some("runs/Flaky2A/2/artifacts".into());
        let p = super::page(&g, out.path());
        let timeline = p.find("Timeline of the run").expect("the timeline is introduced");
        let link = p.find("href=\"runs/Flaky2A/2/artifacts/Flaky2A/timeline.html\"").expect("and linked");
        let view = p.find("Linearizability view").expect("the linearizability view stays");
        assert!(timeline < link && link < view, "the timeline's link is under its own heading");
    }
}
