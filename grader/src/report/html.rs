//! `index.html`: the summary table and, for each failing run, its reason,
//! seed and replay command, its output, and links to its node logs and (for
//! KV tests) the linearizability view. One self-contained file; links are
//! relative, so the report folder can be published as it is.
//!
//! The page is written with `maud`, which escapes every string put in it;
//! text that came from a run is first passed through [`text`], which shows
//! its hidden characters ([`runner::text::escape_controls`]). A run's
//! artifacts are listed as [`super::artifacts`] says.

use crate::result::{Grade, Run, TestReport};
use crate::score::{self, fmt_points};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::borrow::Cow;
use std::path::Path;

/// Most bytes of a run's output the page embeds.
const OUTPUT_BYTES: u64 = 160 * 1024;

/// Text as the page shows it, hidden characters as escapes; `maud` escapes
/// it for HTML where it is interpolated.
pub fn text(s: &str) -> Cow<'_, str> {
    runner::text::escape_controls(s)
}

/// The page's style: a constant of the kit's, the only text the page
/// includes unescaped.
const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:80em}\
table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#176f2c}.fail{color:#b00020;font-weight:600}\
pre{background:#f6f6f6;padding:.8em;overflow:auto;max-height:40em;font-size:12px}code{background:#f0f0f0;padding:0 .3em}\
details{margin:.5em 0 1.5em}summary{cursor:pointer}";

/// `pass` or `fail`, the class of a verdict.
fn class(ok: bool) -> &'static str {
    if ok { "pass" } else { "fail" }
}

/// The page. Reads failing runs' output files and artifact folders under `out`.
pub fn page(grade: &Grade, out: &Path) -> String {
    let (got, max) = score::total(grade);
    let suspicious: Vec<(&TestReport, &Run, &String)> = grade
        .tests
        .iter()
        .flat_map(|t| t.runs.iter().filter_map(move |r| r.suspicious.as_ref().map(|w| (t, r, w))))
        .collect();
    let failing: Vec<&TestReport> = grade.tests.iter().filter(|t| shown_runs(t).next().is_some()).collect();
    let page = html! {
        (DOCTYPE)
        html {
            head {
                meta charset="utf-8";
                title { "raftlab grade: " (text(&grade.submission)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "raftlab grade: " (text(&grade.submission)) }
                p {
                    b { (fmt_points(got)) "/" (fmt_points(max)) }
                    " points — "
                    span class=(class(score::all_passed(grade))) { (text(&score::verdict(grade))) }
                    ". " (grade.iterations) " run(s) of each test, base seed " (grade.base_seed) ", "
                    (format!("{:.1}", grade.elapsed_secs)) " s."
                }
                p class=(class(grade.isolation.sandboxed())) { (text(&grade.isolation.describe())) }
                @if let Some(c) = &grade.concurrency {
                    p { (text(&c.describe())) }
                }
                @if !suspicious.is_empty() {
                    h2.fail { "Suspicious runs" }
                    ul {
                        @for (t, r, w) in &suspicious {
                            li { (text(&t.id)) " #" (r.iteration) ": " (text(w)) }
                        }
                    }
                }
                @if !grade.build.ok() {
                    h2.fail { "The submission did not build" }
                    p { "Every test scores 0." }
                    pre { (text(&grade.build.message)) }
                }
                (summary(grade))
                @if !failing.is_empty() {
                    h2 { "Runs that did not pass" }
                }
                @for t in &failing {
                    h3 id=(text(&t.id)) { (text(&t.id)) " — " (text(&t.title)) }
                    @for r in shown_runs(t) {
                        (run_section(grade, t, r, out))
                    }
                }
            }
        }
    };
    let mut s = page.into_string();
    s.push('\n');
    s
}

/// The summary table: a row per test, by group.
fn summary(grade: &Grade) -> Markup {
    html! {
        table {
            tr { th { "group" } th { "test" } th { "passed/runs" } th { "time (s)" } th { "points" } }
            @for (group, tests) in super::groups(grade) {
                @for t in tests {
                    @if !score::counts(grade, t) {
                        tr { td { (text(group)) } td { (text(&t.id)) } td colspan="3" { "not in this shard" } }
                    } @else {
                        @let sc = score::score(t);
                        tr {
                            td { (text(group)) }
                            td class=(class(sc.all_passed())) {
                                // A link only to a section the page has (see `shown_runs`).
                                @if shown_runs(t).next().is_some() {
                                    a href={ "#" (text(&t.id)) } { (text(&t.id)) }
                                } @else {
                                    (text(&t.id))
                                }
                            }
                            td.n { (sc.passed) "/" (sc.runs) }
                            td.n { (score::fmt_time(t)) }
                            td.n { (fmt_points(sc.score)) "/" (fmt_points(sc.max)) }
                        }
                    }
                }
            }
        }
    }
}

/// The runs of `t` that get a section of their own: those that started and
/// did not pass. (A run that never started has no output to show; the build
/// failure, if that was why, is shown at the top.)
fn shown_runs(t: &TestReport) -> impl Iterator<Item = &Run> {
    t.runs.iter().filter(|r| !r.outcome.passed() && r.outcome.ran())
}

fn run_section(grade: &Grade, t: &TestReport, r: &Run, out: &Path) -> Markup {
    let output = r.output.as_ref().map(|o| read_capped(&out.join(o))).unwrap_or_else(|| r.tail.clone());
    html! {
        p {
            b { "Run " (r.iteration) } ", seed " code { (r.seed) } ", " (format!("{:.1}", r.secs)) " s: "
            (text(&r.reason()))
            br;
            "Replay: " code { (text(&r.replay(grade, &t.id))) }
        }
        details open {
            summary {
                "Output"
                @if let Some(o) = &r.output {
                    " (" a href=(text(o)) { "full file" } ")"
                }
            }
            pre { (text(&output)) }
        }
        @if let Some(a) = &r.artifacts {
            (super::artifacts::section(Path::new(a), &out.join(a)))
        }
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
            return Ok(runner::text::escape_bytes(&head).into_owned());
        }
        let half = OUTPUT_BYTES / 2;
        (&mut f).take(half).read_to_end(&mut head)?;
        let mut tail = Vec::new();
        f.seek(SeekFrom::Start(len - half))?;
        f.take(half).read_to_end(&mut tail)?;
        Ok(format!(
            "{}\n[… {} bytes of this file not shown here: see the full file …]\n{}",
            runner::text::escape_bytes(&head),
            len - 2 * half,
            runner::text::escape_bytes(&tail)
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
        assert!(p.contains(r#"<span class="fail">2 of 6 runs failed</span>"#), "{p}");
        g.tests.iter_mut().for_each(|t| t.runs.truncate(1));
        let p = super::page(&g, std::path::Path::new("/nonexistent"));
        assert!(p.contains(r#"<td class="n">3.0</td>"#) && !p.contains("± 0.0"), "one run, no spread: {p}");
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
            runner::manifest::record(&dir, f).unwrap();
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
        assert!(!p.chars().any(runner::text::is_hidden), "no hidden character is left");
    }

    #[test]
    fn hostile_text_in_every_field_is_escaped() {
        const HOSTILE: &str = "<script>x</script>\"'&\u{202e}\x1b";
        const SHOWN: &str = r"&lt;script&gt;x&lt;/script&gt;&quot;'&amp;\u{202e}\x1b";
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("runs/X/2")).unwrap();
        std::fs::write(out.path().join("runs/X/2/output.txt"), HOSTILE).unwrap();
        let mut g = crate::report::sample::grade();
        g.submission = HOSTILE.into();
        g.labs = HOSTILE.into();
        g.build.message = HOSTILE.into();
        g.build.status = crate::result::BuildStatus::Failed;
        let t = &mut g.tests[1];
        t.id = HOSTILE.into();
        t.group = HOSTILE.into();
        t.title = HOSTILE.into();
        t.runs[1].tail = format!("---- x ----\n{HOSTILE}\n");
        t.runs[1].suspicious = Some(HOSTILE.into());
        let p = super::page(&g, out.path());
        assert!(!p.contains("<script>") && !p.contains("\"'&"), "{p}");
        assert!(!p.chars().any(runner::text::is_hidden), "no hidden character is left");
        let count = |needle: &str| p.matches(needle).count();
        // Title and heading; the suspicious list (id and warning); the
        // build; group, id and link of the row; the section's id and
        // heading; the replay command; the output.
        assert!(count(SHOWN) >= 12, "{} escaped copies: {p}", count(SHOWN));
        assert!(p.contains(&format!("<title>raftlab grade: {SHOWN}</title>")));
        assert!(p.contains(&format!("<pre>{SHOWN}</pre>")), "the build message");
        assert!(p.contains(&format!("<td>{SHOWN}</td>")), "the group");
        assert!(p.contains(&format!(r##"<a href="#{SHOWN}">{SHOWN}</a>"##)), "the link");
        assert!(p.contains(&format!(r#"<h3 id="{SHOWN}">{SHOWN} — {SHOWN}</h3>"#)), "the section");
    }
}
