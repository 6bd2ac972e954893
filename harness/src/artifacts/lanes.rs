//! What `timeline.html` draws, computed from a run's events and counts:
//! each lane's spans (role and term, down, paused, cut off, partition side,
//! one-way faults) and the counts summed into [`BINS`] bins.

use super::events::{self, Event, Kind};
use super::{ACTIVITY_LOG, Folder, TIMELINE_LOG};
use crate::activity::{self, Count};

/// Bins ticks and rates are summed into, across the whole run.
pub const BINS: usize = 700;

/// What the page is drawn from.
pub struct Run {
    /// The page's title (the test's name).
    pub title: String,
    /// The harness's events.
    pub events: Vec<Event>,
    /// Applies, commits and RPC rates.
    pub counts: Vec<Count>,
    /// How many nodes.
    pub nodes: usize,
}

impl Run {
    /// The run an artifact folder holds.
    pub fn from_folder(folder: &Folder) -> Run {
        let events = events::parse_all(&folder.read(TIMELINE_LOG));
        let counts = activity::read(&folder.read(ACTIVITY_LOG));
        let mentioned = events.iter().filter_map(|e| lane_of(&e.kind)).max().map_or(0, |n| n + 1);
        let logged = folder.logs.last().map_or(0, |(n, _)| n + 1);
        let title = folder.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Run { title, events, counts, nodes: mentioned.max(logged) }
    }

    /// How long the run lasted: its last event or count (at least a second).
    pub fn duration(&self) -> f64 {
        let last_event = self.events.last().map_or(0.0, |e| e.t);
        let last_count = self.counts.iter().map(|c| c.0 + 0.1).fold(0.0, f64::max);
        last_event.max(last_count).max(1.0)
    }
}

/// The node whose lane shows an event, if one does.
pub(super) fn lane_of(k: &Kind) -> Option<usize> {
    match k {
        Kind::Started(n)
        | Kind::Down(n)
        | Kind::Paused(n)
        | Kind::Resumed(n)
        | Kind::Disconnect(n)
        | Kind::Connect(n)
        | Kind::Snapshot(n) => Some(*n),
        Kind::Role { node, .. } => Some(*node),
        Kind::OneWay { node, .. } => *node,
        _ => None,
    }
}

/// A shaded span of a lane.
pub(super) struct Span {
    pub(super) lane: usize,
    pub(super) t0: f64,
    pub(super) t1: f64,
    pub(super) class: String,
    pub(super) title: String,
}

/// The spans the events open and close, per lane.
pub(super) fn spans(run: &Run, end: f64) -> Vec<Span> {
    let mut out = Vec::new();
    // Open spans: (lane, key) → (start, class, title).
    let mut open: Vec<(usize, String, f64, String, String)> = Vec::new();
    let close =
        |out: &mut Vec<Span>, open: &mut Vec<(usize, String, f64, String, String)>, lane, key: &str, t| {
            open.retain(|(l, k, t0, class, title)| {
                let hit = *l == lane && (key.is_empty() || k == key);
                if hit {
                    out.push(Span { lane, t0: *t0, t1: t, class: class.clone(), title: title.clone() });
                }
                !hit
            });
        };
    for e in &run.events {
        let t = e.t;
        match &e.kind {
            Kind::Role { node, term, leader } => {
                close(&mut out, &mut open, *node, "role", t);
                let (class, what) =
                    if *leader { ("role-leader", "leads") } else { ("role-follower", "follows") };
                open.push((
                    *node,
                    "role".into(),
                    t,
                    class.into(),
                    format!("node {node} {what} in term {term}"),
                ));
            }
            Kind::Down(n) => {
                close(&mut out, &mut open, *n, "role", t);
                close(&mut out, &mut open, *n, "paused", t);
                open.push((*n, "down".into(), t, "down".into(), format!("node {n} down: {}", e.text)));
            }
            Kind::Started(n) => close(&mut out, &mut open, *n, "down", t),
            Kind::Paused(n) => {
                open.push((*n, "paused".into(), t, "paused".into(), format!("node {n} paused")))
            }
            Kind::Resumed(n) => close(&mut out, &mut open, *n, "paused", t),
            Kind::Disconnect(n) => {
                open.push((*n, "cut".into(), t, "cut".into(), format!("node {n} disconnected")))
            }
            Kind::Connect(n) => close(&mut out, &mut open, *n, "cut", t),
            Kind::Partition(_) | Kind::ConnectAll => {
                for lane in 0..run.nodes {
                    close(&mut out, &mut open, lane, "cut", t);
                    close(&mut out, &mut open, lane, "side", t);
                }
                if let Kind::Partition(groups) = &e.kind {
                    for (side, g) in groups.iter().enumerate() {
                        for &lane in g {
                            let title = format!("{} (side {})", e.text, side + 1);
                            open.push((lane, "side".into(), t, format!("side{}", side.min(2)), title));
                        }
                    }
                }
            }
            Kind::OneWay { key, node: Some(n), on } => {
                close(&mut out, &mut open, *n, key, t);
                if *on {
                    open.push((*n, key.clone(), t, "oneway".into(), e.text.clone()));
                }
            }
            Kind::OneWayLifted => {
                let lanes: Vec<(usize, String)> =
                    open.iter().filter(|o| o.3 == "oneway").map(|o| (o.0, o.1.clone())).collect();
                for (lane, key) in lanes {
                    close(&mut out, &mut open, lane, &key, t);
                }
            }
            _ => {}
        }
    }
    for (lane, _, t0, class, title) in open {
        out.push(Span { lane, t0, t1: end, class, title });
    }
    out
}

/// Sums counts of `kind` for `lane` (`None`: not per node) into [`BINS`] bins.
pub(super) fn bin(counts: &[Count], kind: activity::Kind, lane: Option<usize>, end: f64) -> Vec<u32> {
    let mut bins = vec![0u32; BINS];
    for &(t, k, node, n) in counts {
        if k == kind && (lane.is_none() || node == lane) {
            let b = ((t / end) * BINS as f64) as usize;
            bins[b.min(BINS - 1)] += n;
        }
    }
    bins
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A two-node run: an election, a cut, a crash, a one-way fault, a failure.
    pub(in crate::artifacts) fn run() -> Run {
        let events = events::parse_all(
            "  0.000000s  begin Test (2A): initial election\n  0.010000s  node 0 started (pid 1, incarnation 1)\n  0.500000s  node 0 leads in term 1\n  0.600000s  node 1 does not lead in term 1\n  1.000000s  disconnect 0\n  1.500000s  node 1 killed (pid 2)\n  2.000000s  calls 0->1 blocked true\n  2.500000s  one-way faults lifted\n  3.000000s  FAILED: expected one leader, got none\n",
        );
        let counts = vec![
            (0.5, activity::Kind::Apply, Some(0), 3),
            (0.5, activity::Kind::Commit, None, 3),
            (0.6, activity::Kind::Rpc, Some(1), 40),
        ];
        Run { title: "InitialElection2A".into(), events, counts, nodes: 2 }
    }

    #[test]
    fn spans_open_and_close_with_the_events() {
        let r = run();
        let s = spans(&r, r.duration());
        let find =
            |class: &str, lane| s.iter().find(|s| s.class == class && s.lane == lane).map(|s| (s.t0, s.t1));
        assert_eq!(find("role-leader", 0), Some((0.5, 3.0)));
        assert_eq!(find("role-follower", 1), Some((0.6, 1.5)), "a crash ends the role");
        assert_eq!(find("down", 1), Some((1.5, 3.0)));
        assert_eq!(find("cut", 0), Some((1.0, 3.0)));
        assert_eq!(find("oneway", 0), Some((2.0, 2.5)), "lifting ends one-way faults");
    }

    #[test]
    fn ticks_are_binned_whatever_the_length() {
        let counts: Vec<Count> =
            (0..60_000).map(|i| (i as f64 * 0.01, activity::Kind::Apply, Some(0), 1)).collect();
        let bins = bin(&counts, activity::Kind::Apply, Some(0), 600.0);
        assert_eq!(bins.len(), BINS);
        assert_eq!(bins.iter().sum::<u32>(), 60_000);
    }
}
