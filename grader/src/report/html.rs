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
    let verdict = format!(
        "<span class={}>{}</span>",
        if score::all_passed(grade) { "pass" } else { "fail" },
        esc(&score::verdict(grade))
    );
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
            if !score::counts(grade, t) {
                let _ = writeln!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td colspan=3>not in this shard</td></tr>",
                    esc(group),
                    esc(&t.id)
                );
                continue;
            }
            let sc = score::score(t);
            let time = score::fmt_time(t);
            let class = if sc.all_passed() { "pass" } else { "fail" };
            // A link only to a section the page has (see `shown_runs`).
            let name = if shown_runs(t).next().is_some() {
                format!("<a href=\"#{0}\">{0}</a>", esc(&t.id))
            } else {
                esc(&t.id)
            };
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
    let failing: Vec<&TestReport> = grade.tests.iter().filter(|t| shown_runs(t).next().is_some()).collect();
    if !failing.is_empty() {
        s.push_str("<h2>Runs that did not pass</h2>\n");
    }
    for t in failing {
        let _ = writeln!(s, "<h3 id=\"{0}\">{0} — {1}</h3>", esc(&t.id), esc(&t.title));
        for r in shown_runs(t) {
            run_section(&mut s, grade, t, r, out);
        }
    }
    s.push_str("</body></html>\n");
    s
}

/// The runs of `t` that get a section of their own: those that started and
/// did not pass. (A run that never started has no output to show; the build
/// failure, if that was why, is shown at the top.)
fn shown_runs(t: &TestReport) -> impl Iterator<Item = &Run> {
    t.runs.iter().filter(|r| !r.outcome.passed() && r.outcome.ran())
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

/// A file's text, at most [`OUTPUT_BYTES`] of it: all of it, or its first
/// and last halves of that with a line that says how much is left out (a
/// run's diagnosis and libtest's summary are at the end).
fn read_capped(path: &Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let read = || -> std::io::Result<String> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let mut head = Vec::new();
        if len <= OUTPUT_BYTES {
            (&mut f).take(OUTPUT_BYTES).read_to_end(&mut head)?;
            return Ok(harness::text::escape_bytes(&head).into_owned());
        }
        let half = OUTPUT_BYTES / 2;
        (&mut f).take(half).read_to_end(&mut head)?;
        let mut tail = Vec::new();
        f.seek(SeekFrom::Start(len - half))?;
        f.take(half).read_to_end(&mut tail)?;
        Ok(format!(
            "{}\n[… {} bytes of this file not shown here: see the full file …]\n{}",
            harness::text::escape_bytes(&head),
            len - 2 * half,
            harness::text::escape_bytes(&tail)
        ))
    };
    read().unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()))
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

    /// Every `href="#x"` of `page` and whether the page has an `id="x"`.
    fn anchors(page: &str) -> Vec<(String, bool)> {
        page.match_indices("href=\"#")
            .map(|(at, m)| {
                let id = &page[at + m.len()..];
                let id = &id[..id.find('"').unwrap()];
                (id.to_string(), page.contains(&format!("id=\"{id}\"")))
            })
            .collect()
    }

    #[test]
    fn every_link_in_the_page_goes_to_a_section_it_has() {
        let mut g = crate::report::sample::grade();
        let p = super::page(&g, std::path::Path::new("/nonexistent"));
        assert_eq!(anchors(&p).len(), 2, "{p}");
        assert!(anchors(&p).iter().all(|(_, found)| *found), "{:?}", anchors(&p));
        // A build that failed: nothing ran, no section, so no link.
        g.build.status = crate::result::BuildStatus::Failed;
        for t in &mut g.tests {
            for r in &mut t.runs {
                *r = crate::result::Run::not_run(r.iteration, r.seed, "the submission did not build");
            }
        }
        let p = super::page(&g, std::path::Path::new("/nonexistent"));
        assert_eq!(anchors(&p), [], "{p}");
        assert!(p.contains("the submission did not build, so no test ran"), "{p}");
        assert!(!p.contains("runs failed"), "no run failed: {p}");
    }

    #[test]
    fn the_verdict_and_times_say_what_was_measured() {
        let mut g = crate::report::sample::grade();
        let p = super::page(&g, std::path::Path::new("/nonexistent"));
        assert!(p.contains("<span class=fail>2 of 6 runs failed</span>"), "{p}");
        g.tests.iter_mut().for_each(|t| t.runs.truncate(1));
        let p = super::page(&g, std::path::Path::new("/nonexistent"));
        assert!(p.contains("<td class=n>3.0</td>") && !p.contains("± 0.0"), "one run, no spread: {p}");
    }

    #[test]
    fn a_long_output_is_shown_with_its_end() {
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("runs/Flaky2A/2")).unwrap();
        let mut text = "start\n".to_string();
        text.push_str(&"\\x00".repeat(100_000));
        text.push_str("\n---- Flaky2A ----\nthe diagnosis\n");
        std::fs::write(out.path().join("runs/Flaky2A/2/output.txt"), &text).unwrap();
        let mut g = crate::report::sample::grade();
        g.tests[1].runs[1].output = Some("runs/Flaky2A/2/output.txt".into());
        let p = super::page(&g, out.path());
        assert!(p.contains("<pre>start\n"), "the beginning");
        assert!(p.contains("the diagnosis\n</pre>"), "and the end, where the failure is");
        assert!(p.contains("bytes of this file not shown here"));
        assert!(p.len() < 200 * 1024, "{} bytes", p.len());
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
