//! The HTML view of a checked history: one self-contained file (inline
//! style, script and data; no network fetches) showing a row per client, a
//! box per operation on the time line, the longest partial linearizations
//! with the state after each step, and the operations that could not be
//! linearized next.

use std::io;
use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Serialize;

use crate::history::Operation;
use crate::model::Model;
use crate::result::{Analysis, PartReport, Verdict};

/// The page's own style and script: constant assets of the kit, the only
/// text the page includes unescaped. The script reads the data from the
/// text of the element [`DATA_ID`].
const STYLE: &str = include_str!("view.css");
const SCRIPT: &str = include_str!("view.js");
/// The id of the element whose text is the view's data, as JSON.
const DATA_ID: &str = "lincheck-data";

/// Writes the view of `analysis` (from [`analyze`](crate::analyze)) of
/// `history` to `path`; `title` heads the page (e.g. the history's file).
///
/// # Errors
///
/// If the file cannot be written.
pub fn write_html<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    analysis: &Analysis,
    title: &str,
    path: &Path,
) -> io::Result<()> {
    std::fs::write(path, render_html(model, history, analysis, title))
}

/// The view as a string; see [`write_html`]. Every piece of data on it (the
/// title, and the operations and states as JSON text) is escaped by `maud`.
pub fn render_html<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    analysis: &Analysis,
    title: &str,
) -> String {
    let data = ViewData::new(model, history, analysis, title);
    let json = serde_json::to_string(&data).expect("view data always serializes");
    page(title, &json).into_string()
}

fn page(title: &str, json: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "lincheck: " (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (title) }
                    div #summary {}
                }
                div #controls {
                    "Part " select #part {}
                    " Linearization " select #lin {}
                    label { input type="checkbox" #only checked; " only this part's operations" }
                    a href="#" #jump { "Jump to the first problem" }
                }
                (legend())
                div #problem {}
                div #lines { div #labels {} div #wrap { div #timeline {} } }
                div #tooltip {}
                section {
                    h2 #steps-title {}
                    table #steps {}
                }
                pre id=(DATA_ID) hidden { (json) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

fn legend() -> Markup {
    let swatches = [
        ("background:#c8e6c9;border:1px solid #2e7d32", "linearized (step number)"),
        ("background:#ffcdd2;border:2px solid #c62828", "could not be linearized next"),
        ("background:#eceff1;border:1px solid #90a4ae", "not reached"),
        ("border:1px dashed #90a4ae", "pending (outcome unknown)"),
    ];
    html! {
        div #legend {
            @for (style, what) in swatches {
                span.sw style=(style) {} (what) " "
            }
            span.note { "\u{a0} Hover a box for the operation and the state after it." }
        }
    }
}

#[derive(Serialize)]
struct ViewData {
    title: String,
    verdict: Verdict,
    /// Client ids, one row each, in increasing order.
    clients: Vec<usize>,
    /// Number of distinct time points (the x axis is their rank).
    ticks: usize,
    ops: Vec<ViewOp>,
    parts: Vec<ViewPart>,
}

#[derive(Serialize)]
struct ViewOp {
    client: usize,
    /// Rank of the call time.
    call: usize,
    /// Rank of the return time; `None` when pending.
    ret: Option<usize>,
    call_time: u64,
    ret_time: Option<u64>,
    text: String,
    part: usize,
}

#[derive(Serialize)]
struct ViewPart {
    verdict: Verdict,
    ops: Vec<usize>,
    linearizations: Vec<ViewLinearization>,
}

#[derive(Serialize)]
struct ViewLinearization {
    /// Operation and state after it, in order.
    steps: Vec<(usize, String)>,
    /// Operations that could come next in real time but are illegal in the
    /// final state (for a partial linearization).
    blocked: Vec<usize>,
}

impl ViewData {
    fn new<M: Model>(
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        analysis: &Analysis,
        title: &str,
    ) -> Self {
        let mut times: Vec<u64> = history.iter().flat_map(|op| [Some(op.call), op.ret]).flatten().collect();
        times.sort_unstable();
        times.dedup();
        let rank = |t: u64| times.binary_search(&t).expect("every time was collected");
        let mut part_of = vec![0; history.len()];
        for (p, part) in analysis.parts.iter().enumerate() {
            for &i in &part.operations {
                part_of[i] = p;
            }
        }
        let ops = history
            .iter()
            .enumerate()
            .map(|(i, op)| ViewOp {
                client: op.client,
                call: rank(op.call),
                ret: op.ret.map(rank),
                call_time: op.call,
                ret_time: op.ret,
                text: model.describe_operation(&op.input, op.output.as_ref()),
                part: part_of[i],
            })
            .collect();
        let mut clients: Vec<usize> = history.iter().map(|op| op.client).collect();
        clients.sort_unstable();
        clients.dedup();
        let parts = analysis.parts.iter().map(|part| view_part(model, history, part)).collect();
        ViewData {
            title: title.to_string(),
            verdict: analysis.verdict,
            clients,
            ticks: times.len(),
            ops,
            parts,
        }
    }
}

fn view_part<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>], part: &PartReport) -> ViewPart {
    let linearizations =
        part.linearizations.iter().map(|order| replay(model, history, &part.operations, order)).collect();
    ViewPart { verdict: part.verdict, ops: part.operations.clone(), linearizations }
}

/// Replays `order` from the initial state, recording each state, then finds
/// the operations of `part` that could come next but are illegal there.
fn replay<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    part: &[usize],
    order: &[usize],
) -> ViewLinearization {
    let mut state = model.init();
    let mut steps = Vec::with_capacity(order.len());
    for &i in order {
        let op = &history[i];
        match model.step(&state, &op.input, op.output.as_ref()) {
            Some(next) => state = next,
            None => {
                steps.push((i, "(illegal step)".to_string()));
                return ViewLinearization { steps, blocked: Vec::new() };
            }
        }
        steps.push((i, model.describe_state(&state)));
    }
    let mut done = vec![false; history.len()];
    order.iter().for_each(|&i| done[i] = true);
    let remaining: Vec<usize> = part.iter().copied().filter(|&i| !done[i]).collect();
    // An operation may come next unless another remaining one returned
    // strictly before it was called.
    let first_return = remaining.iter().filter_map(|&i| history[i].ret).min().unwrap_or(u64::MAX);
    let blocked = remaining
        .into_iter()
        .filter(|&i| history[i].call <= first_return)
        .filter(|&i| model.step(&state, &history[i].input, history[i].output.as_ref()).is_none())
        .collect();
    ViewLinearization { steps, blocked }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KvInput, KvModel, KvOp, KvOutput, analyze};

    /// A one-operation history whose key is `key`, and its page titled `title`.
    fn page_of(key: &str, title: &str) -> String {
        let input = KvInput { op: KvOp::Put, key: key.into(), value: "v\"'&".into() };
        let history = [Operation {
            client: 0,
            input,
            call: 0,
            output: Some(KvOutput { value: String::new() }),
            ret: Some(1),
        }];
        render_html(&KvModel, &history, &analyze(&KvModel, &history, None), title)
    }

    #[test]
    fn the_page_embeds_its_data_and_cannot_be_broken_out_of() {
        let page = page_of("</script><b>", "<title>");
        assert_eq!(page.matches("</script>").count(), 1, "only the page's own script end tag");
        assert!(page.contains("&lt;title&gt;") && !page.contains("<title><"));
        assert!(page.contains(r#"<pre id="lincheck-data" hidden>{&quot;title&quot;"#), "{page}");
        assert!(page.contains("&quot;verdict&quot;:&quot;Ok&quot;"));
    }

    #[test]
    fn hostile_text_in_every_field_comes_out_escaped() {
        let hostile = "<script>alert(1)</script>\"'&";
        let page = page_of(hostile, hostile);
        assert!(!page.contains("<script>alert"), "{page}");
        assert_eq!(page.matches("<script>").count(), 1, "only the page's own script");
        assert!(page.contains("lincheck: &lt;script&gt;alert(1)&lt;/script&gt;&quot;'&amp;</title>"));
        assert!(page.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&amp;</h1>"));
        // In the data: the key, the value and the title, all as text.
        assert!(page.contains(r"&lt;script&gt;alert(1)&lt;/script&gt;\&quot;'&amp;"), "{page}");
        assert!(!page.contains("\"'&\""), "no raw quote from the data");
    }
}
