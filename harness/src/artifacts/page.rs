//! `timeline.html`: a self-contained picture of a run (inline CSS, SVG and a
//! little script; no network). One lane per node with its role and term
//! over time, crashes, pauses, partitions and one-way faults as shaded
//! spans, applies as ticks and the RPCs it received as a rate line; a lane
//! of commits; the failure as a red line at its time; every event listed
//! below. Ticks and rates are summed into at most [`BINS`] bins, so a
//! 10-minute run draws as fast as a 10-second one.

use super::events::{Event, Kind};
use super::lanes::{BINS, Run, bin, spans};
use super::{Folder, TIMELINE_HTML};
use crate::activity;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Width of the plot, in pixels (before zoom).
const PLOT_W: f64 = 1400.0;
/// Left margin for the lane labels.
const LEFT: f64 = 90.0;
/// Height of a node's lane.
const LANE_H: f64 = 48.0;
/// Events listed under the chart; the rest are in `timeline.log`.
const MAX_LISTED: usize = 5000;

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

/// Escapes text for HTML, and hidden characters as
/// [`crate::text::escape_controls`] shows them.
pub fn esc(s: &str) -> String {
    crate::text::escape_controls(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page.
pub fn html(run: &Run) -> String {
    let end = run.duration();
    let x = |t: f64| LEFT + (t / end).clamp(0.0, 1.0) * PLOT_W;
    let top = 30.0;
    let commits_y = top + run.nodes as f64 * LANE_H;
    let height = commits_y + 40.0;
    let width = LEFT + PLOT_W + 20.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" preserveAspectRatio="none">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill='#ddd'/><line x1="0" y1="0" x2="0" y2="6" stroke='#888' stroke-width="2"/></pattern></defs>
"#
    );
    axis(&mut svg, end, top, commits_y + 30.0, &x);
    let spans = spans(run, end);
    let bin_w = PLOT_W / BINS as f64;
    for lane in 0..run.nodes {
        let y = top + lane as f64 * LANE_H;
        let _ = write!(
            svg,
            r#"<g class="lane" data-node="{lane}"><text class="lanelabel" x="8" y="{}">node {lane}</text>"#,
            y + 24.0
        );
        let _ = write!(
            svg,
            r#"<rect x="{LEFT}" y="{y}" width="{PLOT_W}" height="{}" fill='#fafafa' stroke='#e5e5e5'/>"#,
            LANE_H - 2.0
        );
        for s in spans.iter().filter(|s| s.lane == lane) {
            let (sy, sh) = match s.class.as_str() {
                c if c.starts_with("role") => (y + 14.0, 14.0),
                "oneway" => (y + 2.0, 5.0),
                _ => (y, LANE_H - 2.0),
            };
            let w = (x(s.t1) - x(s.t0)).max(0.5);
            let _ = write!(
                svg,
                r#"<rect class="{}" x="{:.1}" y="{sy}" width="{w:.1}" height="{sh}"><title>{} ({:.3}–{:.3} s)</title></rect>"#,
                s.class,
                x(s.t0),
                esc(&s.title),
                s.t0,
                s.t1
            );
            if s.class.starts_with("role") && w > 28.0 {
                let term = s.title.rsplit(' ').next().unwrap_or("");
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{}" fill='#fff'>T{}</text>"#,
                    x(s.t0) + 3.0,
                    y + 25.0,
                    esc(term)
                );
            }
        }
        ticks(
            &mut svg,
            &bin(&run.counts, activity::Kind::Apply, Some(lane), end),
            "apply",
            y + LANE_H - 4.0,
            12.0,
            bin_w,
        );
        rate_line(
            &mut svg,
            &bin(&run.counts, activity::Kind::Rpc, Some(lane), end),
            y + 12.0,
            11.0,
            bin_w,
            end,
        );
        for e in run.events.iter().filter(|e| e.kind == Kind::Snapshot(lane)) {
            let _ = write!(
                svg,
                r#"<path class="snap" d="M{:.1} {} l4 7 l-8 0 z"><title>{:.3} s {}</title></path>"#,
                x(e.t),
                y + 29.0,
                e.t,
                esc(&e.text)
            );
        }
        svg.push_str("</g>\n");
    }
    let _ = write!(svg, r#"<text class="lanelabel" x="8" y="{}">commits</text>"#, commits_y + 20.0);
    if !run.counts.iter().any(|c| c.1 == activity::Kind::Commit) {
        // Lab 3's servers apply inside the KV service, out of the harness's sight.
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="{}">no applies reported (lab 2's tester service reports them; a KV server's stay inside it)</text>"#,
            commits_y + 20.0
        );
    }
    ticks(
        &mut svg,
        &bin(&run.counts, activity::Kind::Commit, None, end),
        "commit",
        commits_y + 26.0,
        22.0,
        bin_w,
    );
    // Only the first failure marker is labelled: a violation and the
    // failure it causes are milliseconds apart.
    let mut labelled = false;
    for e in &run.events {
        match e.kind {
            Kind::Check => {
                let _ = write!(
                    svg,
                    r#"<circle class="check" cx="{:.1}" cy="{}" r="3"><title>{:.3} s {}</title></circle>"#,
                    x(e.t),
                    top - 6.0,
                    e.t,
                    esc(&e.text)
                );
            }
            Kind::Begin => {
                let _ = write!(
                    svg,
                    r#"<line class="begin" x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}"><title>{3:.3} s {4}</title></line>"#,
                    x(e.t),
                    top,
                    commits_y + 30.0,
                    e.t,
                    esc(&e.text)
                );
            }
            Kind::Failed | Kind::Violation => {
                let label = if std::mem::replace(&mut labelled, true) {
                    ""
                } else if e.kind == Kind::Failed {
                    "FAILED"
                } else {
                    "VIOLATION"
                };
                let _ = write!(
                    svg,
                    r#"<line class="fail" x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}"><title>{3:.3} s {4}</title></line><text class="failtext" x="{5:.1}" y="{6}" text-anchor="end">{7}</text>"#,
                    x(e.t),
                    top - 12.0,
                    commits_y + 30.0,
                    e.t,
                    esc(&e.text),
                    x(e.t) - 3.0,
                    top - 14.0,
                    label
                );
            }
            _ => {}
        }
    }
    svg.push_str("</svg>");
    page(run, end, &svg, &x)
}

fn axis(svg: &mut String, end: f64, top: f64, bottom: f64, x: &dyn Fn(f64) -> f64) {
    let step = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0]
        .into_iter()
        .find(|s| end / s <= 20.0)
        .unwrap_or(600.0);
    let mut t = 0.0;
    while t <= end + 1e-9 {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}"/><text x="{3:.1}" y="12">{4}s</text>"#,
            x(t),
            top,
            bottom,
            x(t) + 2.0,
            trim_float(t)
        );
        t += step;
    }
}

fn trim_float(t: f64) -> String {
    let s = format!("{t:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Bars of `bins` growing up from `base`, the largest `h` tall.
fn ticks(svg: &mut String, bins: &[u32], class: &str, base: f64, h: f64, bin_w: f64) {
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    for (i, &n) in bins.iter().enumerate().filter(|(_, n)| **n > 0) {
        let bh = (h * n as f64 / max).max(1.5);
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}"><title>{n} {class}</title></rect>"#,
            LEFT + i as f64 * bin_w,
            base - bh,
            bin_w.max(1.0)
        );
    }
}

/// RPCs received per second as a line above `base`, the largest `h` tall.
fn rate_line(svg: &mut String, bins: &[u32], base: f64, h: f64, bin_w: f64, end: f64) {
    let max = bins.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let mut d = String::new();
    for (i, &n) in bins.iter().enumerate() {
        let _ = write!(
            d,
            "{}{:.1} {:.1}",
            if i == 0 { "M" } else { " L" },
            LEFT + (i as f64 + 0.5) * bin_w,
            base - h * n as f64 / max as f64
        );
    }
    let per_s = max as f64 / (end / BINS as f64);
    let _ =
        write!(svg, r#"<path class="rpc" d="{d}"><title>RPCs received (peak {per_s:.0}/s)</title></path>"#);
}

fn page(run: &Run, end: f64, svg: &str, x: &dyn Fn(f64) -> f64) -> String {
    let failure: Vec<&Event> =
        run.events.iter().filter(|e| matches!(e.kind, Kind::Failed | Kind::Violation)).collect();
    // A test's title once, however often it began (a part of a test).
    let mut begins: Vec<String> = Vec::new();
    for e in run.events.iter().filter(|e| e.kind == Kind::Begin) {
        let title = esc(e.text.trim_start_matches("begin "));
        if !begins.contains(&title) {
            begins.push(title);
        }
    }
    let mut rows = String::new();
    for e in run.events.iter().take(MAX_LISTED) {
        let class = match e.kind {
            Kind::Failed | Kind::Violation | Kind::Down(_) => "bad",
            Kind::Paused(_) | Kind::Disconnect(_) | Kind::Partition(_) | Kind::OneWay { .. } => "fault",
            Kind::Role { .. } | Kind::Started(_) | Kind::Snapshot(_) => "node",
            _ => "",
        };
        let _ = writeln!(
            rows,
            r#"<tr class="{class}" data-t="{0:.6}" data-x="{1:.1}"><td>{0:.6}</td><td>{2}</td></tr>"#,
            e.t,
            x(e.t),
            esc(&e.text)
        );
    }
    let more = run.events.len().saturating_sub(MAX_LISTED);
    let more =
        if more > 0 { format!("<p>… and {more} more events in timeline.log</p>") } else { String::new() };
    let fail_box: String = failure
        .iter()
        .map(|e| format!(r#"<div class="failure">{:.3} s — {}</div>"#, e.t, esc(&e.text)))
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — timeline</title><style>{css}</style></head>
<body>
<h1>{title}</h1>
<div class="meta">{tests} · {nodes} nodes · {end:.1} s · times are seconds since the test began (as in timeline.log and the node logs)</div>
{fail_box}
<div class="legend"><span><i style="background:#2e9d4a"></i>leader</span><span><i style="background:#b9c7d6"></i>not leader (term shown)</span><span><i style="background:#999"></i>down</span><span><i style="background:#f5b041"></i>paused</span><span><i style="background:#f7dc6f"></i>disconnected</span><span><i style="background:#aed6f1"></i>partition side</span><span><i style="background:#8e44ad"></i>one-way fault</span><span><i style="background:#1e8449"></i>applies</span><span><i style="background:#5d6d7e;height:2px"></i>RPCs received/s</span><span><i style="background:#c0392b;width:3px"></i>failure</span></div>
<div class="controls">zoom <input id="zoom" type="range" min="1" max="20" step="1" value="1"> <span id="zoomval">1×</span> · hover for details · click an event to find it</div>
<div class="scroll">{svg}</div>
<table class="events">{rows}</table>{more}
<script>{js}</script>
</body></html>
"#,
        title = esc(&run.title),
        css = include_str!("page.css"),
        js = include_str!("page.js"),
        tests = if begins.is_empty() { "no test began".to_string() } else { begins.join(" · ") },
        nodes = run.nodes,
    )
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
        assert_eq!(
            esc("<b>\"x\" & \u{202e}y\x1b</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; \\u{202e}y\\x1b&lt;/b&gt;"
        );
        assert_eq!(esc("honest text ★"), "honest text ★");
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
