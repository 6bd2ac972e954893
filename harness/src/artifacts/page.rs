//! `timeline.html`: a self-contained picture of a run (inline CSS, SVG and a
//! little script; no network). One lane per node with its role and term
//! over time, crashes, pauses, partitions and one-way faults as shaded
//! spans, applies as ticks and the RPCs it received as a rate line; a lane
//! of commits; the failure as a red line at its time; every event listed
//! below. Ticks and rates are summed into at most [`BINS`] bins, so a
//! 10-minute run draws as fast as a 10-second one.
//!
//! The page is written with `maud`, which escapes every string put in it;
//! text from a run (the nodes' and the test's) goes through [`text`] first.

use super::events::{Event, Kind};
use super::lanes::{BINS, Run, Span, bin, spans};
use super::{Folder, TIMELINE_HTML};
use crate::activity;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// Width of the plot, in pixels (before zoom).
const PLOT_W: f64 = 1400.0;
/// Left margin for the lane labels.
const LEFT: f64 = 90.0;
/// Height of a node's lane.
const LANE_H: f64 = 48.0;
/// Events listed under the chart; the rest are in `timeline.log`.
const MAX_LISTED: usize = 5000;
/// The page's style and script: constant assets of the kit's, the only text
/// the page includes unescaped.
const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// Writes `timeline.html` into the artifact folder `dir` (replacing what
/// was there, never writing through it) and lists it in the folder's
/// [`manifest`](super::manifest) as the kit's; returns its path.
pub fn write(dir: &Path) -> Result<PathBuf, String> {
    let folder = Folder::open(dir)?;
    let path = folder.file(TIMELINE_HTML);
    let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let tmp = folder.file(&format!(".{TIMELINE_HTML}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, html(&Run::from_folder(&folder)).as_bytes()))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(cannot)?;
    super::manifest::record(dir, TIMELINE_HTML).map_err(|e| format!("cannot list {TIMELINE_HTML}: {e}"))?;
    Ok(path)
}

/// Text as the page shows it, hidden characters as escapes
/// ([`runner::text::escape_controls`]); `maud` escapes it for HTML where it
/// is interpolated, as it does every string on the page.
pub fn text(s: &str) -> Cow<'_, str> {
    runner::text::escape_controls(s)
}

/// A coordinate to one decimal.
fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// The page.
pub fn html(run: &Run) -> String {
    let end = run.duration();
    let x = |t: f64| LEFT + (t / end).clamp(0.0, 1.0) * PLOT_W;
    let top = 30.0;
    let commits_y = top + run.nodes as f64 * LANE_H;
    let height = commits_y + 40.0;
    let width = LEFT + PLOT_W + 20.0;
    let spans = spans(run, end);
    let bin_w = PLOT_W / BINS as f64;
    let no_commits = !run.counts.iter().any(|c| c.1 == activity::Kind::Commit);
    let chart = html! {
        svg #chart xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={ "0 0 " (width) " " (height) } preserveAspectRatio="none" {
            defs {
                pattern #hatch width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    rect width="6" height="6" fill="#ddd" {}
                    line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2" {}
                }
            }
            (axis(end, top, commits_y + 30.0, &x))
            @for lane in 0..run.nodes {
                (node_lane(run, lane, top + lane as f64 * LANE_H, &spans, &x))
            }
            text.lanelabel x="8" y=(commits_y + 20.0) { "commits" }
            @if no_commits {
                // Lab 3's servers apply inside the KV service, out of the harness's sight.
                text x=(LEFT) y=(commits_y + 20.0) {
                    "no applies reported (lab 2's tester service reports them; a KV server's stay inside it)"
                }
            }
            (ticks(&bin(&run.counts, activity::Kind::Commit, None, end), "commit", commits_y + 26.0, 22.0, bin_w))
            (markers(run, top, commits_y + 30.0, &x))
        }
    };
    page(run, end, chart, &x).into_string()
}

/// A node's lane at height `y`: its spans (roles, faults), applies,
/// received RPCs and snapshots.
fn node_lane(run: &Run, lane: usize, y: f64, spans: &[Span], x: &dyn Fn(f64) -> f64) -> Markup {
    let end = run.duration();
    let bin_w = PLOT_W / BINS as f64;
    html! {
        g.lane data-node=(lane) {
            text.lanelabel x="8" y=(y + 24.0) { "node " (lane) }
            rect x=(LEFT) y=(y) width=(PLOT_W) height=(LANE_H - 2.0) fill="#fafafa" stroke="#e5e5e5" {}
            @for s in spans.iter().filter(|s| s.lane == lane) {
                @let (sy, sh) = match s.class.as_str() {
                    c if c.starts_with("role") => (y + 14.0, 14.0),
                    "oneway" => (y + 2.0, 5.0),
                    _ => (y, LANE_H - 2.0),
                };
                @let w = (x(s.t1) - x(s.t0)).max(0.5);
                rect class=(s.class) x=(f1(x(s.t0))) y=(sy) width=(f1(w)) height=(sh) {
                    title { (text(&s.title)) " (" (format!("{:.3}–{:.3}", s.t0, s.t1)) " s)" }
                }
                @if s.class.starts_with("role") && w > 28.0 {
                    text x=(f1(x(s.t0) + 3.0)) y=(y + 25.0) fill="#fff" {
                        "T" (text(s.title.rsplit(' ').next().unwrap_or("")))
                    }
                }
            }
            (ticks(&bin(&run.counts, activity::Kind::Apply, Some(lane), end), "apply", y + LANE_H - 4.0, 12.0, bin_w))
            (rate_line(&bin(&run.counts, activity::Kind::Rpc, Some(lane), end), y + 12.0, 11.0, bin_w, end))
            @for e in run.events.iter().filter(|e| e.kind == Kind::Snapshot(lane)) {
                path.snap d={ "M" (f1(x(e.t))) " " (y + 29.0) " l4 7 l-8 0 z" } {
                    title { (format!("{:.3}", e.t)) " s " (text(&e.text)) }
                }
            }
        }
    }
}

/// The checks, the beginnings of tests and the failures, across all lanes
/// from `top` to `bottom`.
fn markers(run: &Run, top: f64, bottom: f64, x: &dyn Fn(f64) -> f64) -> Markup {
    // Only the first failure marker is labelled: a violation and the
    // failure it causes are milliseconds apart.
    let mut labelled = false;
    html! {
        @for e in &run.events {
            @let t = f1(x(e.t));
            @let tip = html! { title { (format!("{:.3}", e.t)) " s " (text(&e.text)) } };
            @match e.kind {
                Kind::Check => {
                    circle.check cx=(t) cy=(top - 6.0) r="3" { (tip) }
                }
                Kind::Begin => {
                    line.begin x1=(t) x2=(t) y1=(top) y2=(bottom) { (tip) }
                }
                Kind::Failed | Kind::Violation => {
                    @let label = if std::mem::replace(&mut labelled, true) {
                        ""
                    } else if e.kind == Kind::Failed {
                        "FAILED"
                    } else {
                        "VIOLATION"
                    };
                    line.fail x1=(t) x2=(t) y1=(top - 12.0) y2=(bottom) { (tip) }
                    text.failtext x=(f1(x(e.t) - 3.0)) y=(top - 14.0) text-anchor="end" { (label) }
                }
                _ => {}
            }
        }
    }
}

fn axis(end: f64, top: f64, bottom: f64, x: &dyn Fn(f64) -> f64) -> Markup {
    let step = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0]
        .into_iter()
        .find(|s| end / s <= 20.0)
        .unwrap_or(600.0);
    let steps = (0..).map(|i| i as f64 * step).take_while(|t| *t <= end + 1e-9);
    html! {
        @for t in steps {
            line.grid x1=(f1(x(t))) x2=(f1(x(t))) y1=(top) y2=(bottom) {}
            text x=(f1(x(t) + 2.0)) y="12" { (trim_float(t)) "s" }
        }
    }
}

fn trim_float(t: f64) -> String {
    let s = format!("{t:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Bars of `bins` growing up from `base`, the largest `h` tall.
fn ticks(bins: &[u32], class: &str, base: f64, h: f64, bin_w: f64) -> Markup {
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    html! {
        @for (i, &n) in bins.iter().enumerate().filter(|(_, n)| **n > 0) {
            @let bh = (h * n as f64 / max).max(1.5);
            rect class=(class) x=(f1(LEFT + i as f64 * bin_w)) y=(f1(base - bh)) width=(f1(bin_w.max(1.0)))
                height=(f1(bh)) {
                title { (n) " " (class) }
            }
        }
    }
}

/// RPCs received per second as a line above `base`, the largest `h` tall.
fn rate_line(bins: &[u32], base: f64, h: f64, bin_w: f64, end: f64) -> Markup {
    let max = bins.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return html! {};
    }
    let d: Vec<String> = bins
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let (px, py) = (LEFT + (i as f64 + 0.5) * bin_w, base - h * n as f64 / max as f64);
            format!("{}{px:.1} {py:.1}", if i == 0 { "M" } else { "L" })
        })
        .collect();
    let per_s = max as f64 / (end / BINS as f64);
    html! {
        path.rpc d=(d.join(" ")) { title { "RPCs received (peak " (format!("{per_s:.0}")) "/s)" } }
    }
}

/// The class of an event's row in the list.
fn row_class(kind: &Kind) -> &'static str {
    match kind {
        Kind::Failed | Kind::Violation | Kind::Down(_) => "bad",
        Kind::Paused(_) | Kind::Disconnect(_) | Kind::Partition(_) | Kind::OneWay { .. } => "fault",
        Kind::Role { .. } | Kind::Started(_) | Kind::Snapshot(_) => "node",
        _ => "",
    }
}

/// The legend's swatches: each one's style and what it stands for.
const LEGEND: [(&str, &str); 10] = [
    ("background:#2e9d4a", "leader"),
    ("background:#b9c7d6", "not leader (term shown)"),
    ("background:#999", "down"),
    ("background:#f5b041", "paused"),
    ("background:#f7dc6f", "disconnected"),
    ("background:#aed6f1", "partition side"),
    ("background:#8e44ad", "one-way fault"),
    ("background:#1e8449", "applies"),
    ("background:#5d6d7e;height:2px", "RPCs received/s"),
    ("background:#c0392b;width:3px", "failure"),
];

fn page(run: &Run, end: f64, chart: Markup, x: &dyn Fn(f64) -> f64) -> Markup {
    let failure: Vec<&Event> =
        run.events.iter().filter(|e| matches!(e.kind, Kind::Failed | Kind::Violation)).collect();
    // A test's title once, however often it began (a part of a test).
    let mut begins: Vec<&str> = Vec::new();
    for e in run.events.iter().filter(|e| e.kind == Kind::Begin) {
        let title = e.text.trim_start_matches("begin ");
        if !begins.contains(&title) {
            begins.push(title);
        }
    }
    let tests = if begins.is_empty() { "no test began".to_string() } else { begins.join(" · ") };
    let more = run.events.len().saturating_sub(MAX_LISTED);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (text(&run.title)) " — timeline" }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (text(&run.title)) }
                div.meta {
                    (text(&tests)) " · " (run.nodes) " nodes · " (format!("{end:.1}"))
                    " s · times are seconds since the test began (as in timeline.log and the node logs)"
                }
                @for e in &failure {
                    div.failure { (format!("{:.3}", e.t)) " s — " (text(&e.text)) }
                }
                div.legend {
                    @for (style, what) in LEGEND {
                        span { i style=(style) {} (what) }
                    }
                }
                div.controls {
                    "zoom " input #zoom type="range" min="1" max="20" step="1" value="1";
                    " " span #zoomval { "1×" }
                    " · hover for details · click an event to find it"
                }
                div.scroll { (chart) }
                table.events {
                    @for e in run.events.iter().take(MAX_LISTED) {
                        @let t = format!("{:.6}", e.t);
                        tr class=(row_class(&e.kind)) data-t=(t) data-x=(f1(x(e.t))) {
                            td { (t) } td { (text(&e.text)) }
                        }
                    }
                }
                @if more > 0 {
                    p { "… and " (more) " more events in timeline.log" }
                }
                script { (PreEscaped(JS)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::lanes::tests::run;

    #[test]
    fn the_page_has_a_lane_per_node_and_the_failure() {
        let page = html(&run());
        assert_eq!(page.matches(r#"<g class="lane""#).count(), 2);
        assert!(page.contains(r#"class="fail""#));
        assert!(page.contains("FAILED: expected one leader, got none"));
        assert!(!page.contains("http://") || page.matches("http://").count() == 1, "only the SVG namespace");
        assert!(page.contains("<title>3 apply</title>"));
    }

    #[test]
    fn text_on_the_page_is_escaped_for_html_and_for_the_eye() {
        let shown = |s: &str| html! { (text(s)) }.into_string();
        assert_eq!(
            shown("<b>\"x\" & \u{202e}y\x1b</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; \\u{202e}y\\x1b&lt;/b&gt;"
        );
        assert_eq!(shown("honest text ★"), "honest text ★");
    }

    #[test]
    fn hostile_text_in_every_field_comes_out_escaped() {
        const HOSTILE: &str = "<script>x</script>\"'&\u{202e}";
        const SHOWN: &str = r"&lt;script&gt;x&lt;/script&gt;&quot;'&amp;\u{202e}";
        let mut run = run();
        run.title = HOSTILE.into();
        let events = format!(
            "  0.1s  begin {HOSTILE}\n  0.2s  node 0 {HOSTILE}\n  0.3s  node 1 installed a snapshot {HOSTILE}\n  0.4s  check_one_leader: {HOSTILE}\n  0.5s  FAILED: {HOSTILE}\n"
        );
        run.events.extend(crate::artifacts::events::parse_all(&events));
        let page = html(&run);
        assert_eq!(page.matches("<script>").count(), 1, "only the page's own script: {page}");
        assert!(!page.contains("\"'&"), "{page}");
        assert!(!page.chars().any(runner::text::is_hidden), "no hidden character is left");
        assert!(page.contains(&format!("<title>{SHOWN} — timeline</title>")), "the title");
        assert!(page.contains(&format!("<h1>{SHOWN}</h1>")), "the heading");
        assert!(page.contains(&format!("initial election · {SHOWN} · 2 nodes")), "the tests that began");
        assert!(page.contains(&format!("s — FAILED: {SHOWN}</div>")), "the failure box");
        assert!(page.contains(&format!("<td>begin {SHOWN}</td>")), "the list of events");
        // Every event's text is in the list and in its marker's or span's title.
        assert!(page.matches(SHOWN).count() >= 10, "{page}");
    }

    #[test]
    fn the_page_is_written_in_place_of_a_link_and_listed_as_the_kits() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("timeline.log"), "  0.1s  node 0 started (pid 1, incarnation 1)\n")
            .unwrap();
        let elsewhere = dir.path().join("elsewhere.html");
        std::fs::write(&elsewhere, "theirs").unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(TIMELINE_HTML)).unwrap();
        let path = write(dir.path()).unwrap();
        assert!(std::fs::symlink_metadata(&path).unwrap().is_file(), "the link was replaced");
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "theirs", "not written through");
        assert_eq!(crate::artifacts::manifest::read(dir.path()), [TIMELINE_HTML]);
    }
}
