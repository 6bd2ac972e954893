//! `index.html`: the summary table and, for each failing run, its reason,
//! seed and replay command, its output, and links to its node logs and (for
//! KV tests) the linearizability view. One self-contained file; links are
//! relative, so the report folder can be published as it is.
//!
//! All text on the page is escaped for HTML and its hidden characters
//! shown ([`harness::text::escape_controls`]); a run's artifacts are listed
//! as [`super::artifacts`] says.

use crate::result::{Grade, Run, TestReport};
use crate::score::{self, fmt_points};
use std::fmt::Write as _;
use std::path::Path;

/// Most bytes of a run's output the page embeds.
const OUTPUT_BYTES: u64 = 160 * 1024;

/// Escapes text for HTML, hidden characters shown as escapes.
pub fn esc(s: &str) -> String {
    let s = harness::text::escape_controls(s);
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
        super::artifacts::section(s, Path::new(a), &out.join(a));
    }
}

/// A file's text, at most [`OUTPUT_BYTES`] (the first ones).
fn read_capped(path: &Path) -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    match std::fs::File::open(path) {
        Ok(f) => {
            let _ = f.take(OUTPUT_BYTES).read_to_end(&mut buf);
            harness::text::escape_bytes(&buf).into_owned()
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
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
            harness::artifacts::manifest::record(&dir, f).unwrap();
        }
        let mut g = crate::report::sample::grade();
        g.tests[1].runs[1].artifacts = Some("runs/Flaky2A/2/artifacts".into());
        let p = super::page(&g, out.path());
        let timeline = p.find("Timeline of the run").expect("the timeline is introduced");
        let link = p.find("href=\"runs/Flaky2A/2/artifacts/Flaky2A/timeline.html\"").expect("and linked");
        let view = p.find("Linearizability view").expect("the linearizability view stays");
        assert!(timeline < link && link < view, "the timeline's link is under its own heading");
        assert!(p.contains("href=\"runs/Flaky2A/2/artifacts/Flaky2A/linearizability.html\""));
        assert!(p.contains("href=\"runs/Flaky2A/2/artifacts/Flaky2A/n0.log\""), "a kit log is linked");
    }

    #[test]
    fn hidden_characters_in_output_are_shown_escaped() {
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("runs/Flaky2A/2")).unwrap();
        std::fs::write(out.path().join("runs/Flaky2A/2/output.txt"), b"node 0: \x1b[2J\xe2\x80\xae<b>\n")
            .unwrap();
        let mut g = crate::report::sample::grade();
        g.tests[1].runs[1].output = Some("runs/Flaky2A/2/output.txt".into());
        g.build.message = "error: \u{202e}tset\x1b[0m".into();
        g.build.status = crate::result::BuildStatus::Failed;
        let p = super::page(&g, out.path());
        assert!(p.contains(r"node 0: \x1b[2J\u{202e}&lt;b&gt;"), "{p}");
        assert!(p.contains(r"error: \u{202e}tset\x1b[0m"));
        assert!(!p.chars().any(harness::text::is_hidden), "no hidden character is left");
    }
}
