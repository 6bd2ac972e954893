//! The admission loop, written once for every runner that starts jobs side
//! by side by measured load: the grader's test runs, the self-check's
//! builds and test runs, and `labs --jobs auto`.
//!
//! Jobs start in order of [`Job::first`] (the longest expected first, so
//! that no long run is left to finish alone at the end), each as soon as
//! it fits the [`Budget`] beside the jobs in progress: a job that does not
//! fit lets a later, cheaper one go first, but the first job in line always
//! starts once nothing runs. Each job runs on a thread of its own; when it
//! ends, the caller sees its result on the loop's thread and may queue more
//! jobs (the self-check queues a mutant's tests when its build ends).
//!
//! A build ([`Job::build`]) is CPU-heavy for its whole length: it never
//! starts beside another build or a heavy run, and no heavy run starts
//! beside it.

use super::{Budget, Delays, HEAVY_SHARE, PRESSURE_WINDOW, Pressure, Probe};
use std::sync::Arc;
use std::time::Duration;

/// How often the loop looks at the scheduling delay when no job ends.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// One job to run.
pub struct Job<T> {
    /// What to run: the caller's own description of the job.
    pub task: T,
    /// Jobs with a higher value start first: the wall time to expect, in
    /// seconds (the self-check puts its builds ahead of everything).
    pub first: f64,
    /// Whether it is a build (see the module's doc).
    pub build: bool,
}

impl<T> Job<T> {
    /// A job that is not a build, expected to take `secs`.
    pub fn expected(task: T, secs: f64) -> Job<T> {
        Job { task, first: secs, build: false }
    }
}

/// The load a job met while it ran.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Met {
    /// The most jobs in progress at once while it ran (itself included).
    pub running: u32,
    /// Scheduling delay while it ran.
    pub delays: Delays,
}

impl Met {
    /// Whether the machine was busy enough to slow a test's timers (the
    /// scheduling delay's p99 above [`super::LOADED_P99_MS`]).
    pub fn high(&self) -> bool {
        self.delays.p99_ms > super::LOADED_P99_MS
    }
}

/// How a whole scheduling went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// The budget it ran with.
    pub budget: Budget,
    /// The idle cores measured before the first job, when measured.
    pub idle_cores: Option<f64>,
    /// The most jobs that went at once.
    pub peak_running: u32,
    /// Jobs at once, averaged over the whole time.
    pub mean_running: f64,
    /// Times the budget shrank because scheduling delay was high.
    pub backoffs: u32,
    /// Scheduling delay over the whole time.
    pub delays: Delays,
}

impl Stats {
    /// One line for people: how the concurrency was chosen and the load met.
    pub fn describe(&self) -> String {
        let how = match (self.budget.measured, self.idle_cores) {
            (true, Some(i)) => format!(
                "by measured load ({:.1} of {i:.1} idle cores, at most {} at once)",
                self.budget.cores, self.budget.max_jobs
            ),
            _ => format!("fixed at {} at once", self.budget.max_jobs),
        };
        format!(
            "concurrency: {how}; ran up to {} at once, {:.1} on average; scheduling delay p50 {:.1} ms, p99 {:.1} ms{}",
            self.peak_running,
            self.mean_running,
            self.delays.p50_ms,
            self.delays.p99_ms,
            match self.backoffs {
                0 => String::new(),
                n => format!("; backed off {n} time(s) under load"),
            }
        )
    }
}

/// A job in progress.
struct Running {
    id: usize,
    share: f64,
    build: bool,
    started: f64,
    peak: u32,
}

/// Whether a job of `share` (a build if `build`) may start beside `running`.
fn fits(budget: &Budget, pressure: f64, running: &[Running], share: f64, build: bool) -> bool {
    let heavy = |s: f64| s >= HEAVY_SHARE;
    let clash = |r: &Running| match build {
        true => r.build || heavy(r.share),
        false => r.build && heavy(share),
    };
    if running.iter().any(clash) {
        return false;
    }
    let shares: Vec<f64> = running.iter().map(|r| r.share).collect();
    budget.admits(pressure, &shares, share)
}

/// Runs every job, and every job `finished` queues, by `budget`: `share`
/// says what a job costs (asked when it is next in line, so that a
/// profile refined by finished jobs counts), `run` runs it on a thread of
/// its own, and `finished` gets each result on this thread, with the load
/// it met, and returns the jobs to queue next. Returns once nothing is
/// queued or running.
pub fn run<T, R>(
    budget: Budget,
    idle_cores: Option<f64>,
    jobs: Vec<Job<T>>,
    share: impl Fn(&T) -> f64,
    run: impl Fn(&T) -> R + Sync,
    mut finished: impl FnMut(&T, R, Met) -> Vec<Job<T>>,
) -> Stats
where
    T: Send + Sync,
    R: Send,
{
    let probe = Probe::start();
    let mut pressure = Pressure::default();
    let mut tasks: Vec<Arc<T>> = Vec::new();
    let mut queue: Vec<(usize, f64, bool)> = Vec::new();
    let enqueue = |jobs: Vec<Job<T>>, tasks: &mut Vec<Arc<T>>, queue: &mut Vec<(usize, f64, bool)>| {
        for j in jobs {
            queue.push((tasks.len(), j.first, j.build));
            tasks.push(Arc::new(j.task));
        }
        // Stable: among equals, the order given.
        queue.sort_by(|a, b| b.1.total_cmp(&a.1));
    };
    enqueue(jobs, &mut tasks, &mut queue);
    let mut running: Vec<Running> = Vec::new();
    let (mut peak, mut busy_area, mut last_change) = (0u32, 0.0f64, probe.now());
    let run = &run;
    std::thread::scope(|s| {
        let (done_tx, done_rx) = std::sync::mpsc::channel::<(usize, R)>();
        loop {
            let factor = pressure.factor;
            while let Some(at) = queue
                .iter()
                .position(|&(id, _, build)| fits(&budget, factor, &running, share(&tasks[id]), build))
            {
                let (id, _, build) = queue.remove(at);
                let now = probe.now();
                busy_area += running.len() as f64 * (now - last_change);
                last_change = now;
                running.push(Running { id, share: share(&tasks[id]), build, started: now, peak: 0 });
                let n = running.len() as u32;
                peak = peak.max(n);
                for r in &mut running {
                    r.peak = r.peak.max(n);
                }
                let (task, tx) = (Arc::clone(&tasks[id]), done_tx.clone());
                s.spawn(move || {
                    let _ = tx.send((id, run(&task)));
                });
            }
            if running.is_empty() && queue.is_empty() {
                break;
            }
            match done_rx.recv_timeout(LOOK_EVERY) {
                Ok((id, result)) => {
                    let now = probe.now();
                    busy_area += running.len() as f64 * (now - last_change);
                    last_change = now;
                    let at = running.iter().position(|r| r.id == id).expect("a finished job was running");
                    let r = running.swap_remove(at);
                    let met = Met { running: r.peak, delays: probe.delays(r.started, now) };
                    let more = finished(&tasks[id], result, met);
                    enqueue(more, &mut tasks, &mut queue);
                }
                Err(_) if budget.measured => {
                    pressure.look(&probe.recent(PRESSURE_WINDOW));
                }
                Err(_) => {}
            }
        }
    });
    let elapsed = probe.now();
    Stats {
        budget,
        idle_cores,
        peak_running: peak,
        mean_running: if elapsed > 0.0 { busy_area / elapsed } else { 0.0 },
        backoffs: pressure.backoffs,
        delays: probe.delays(0.0, elapsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Instant;

    fn wide() -> Budget {
        Budget { cores: 1.6, max_jobs: 8, measured: true }
    }

    #[test]
    fn builds_stand_apart_from_heavy_runs_and_each_other() {
        let r = |share: f64, build: bool| Running { id: 0, share, build, started: 0.0, peak: 0 };
        let b = wide();
        assert!(fits(&b, 1.0, &[], 2.0, true), "anything starts on an idle machine");
        assert!(fits(&b, 1.0, &[r(0.02, false), r(0.03, false)], 2.0, true), "light runs beside a build");
        assert!(!fits(&b, 1.0, &[r(1.2, false)], 2.0, true), "no build beside a heavy run");
        assert!(!fits(&b, 1.0, &[r(2.0, true)], 2.0, true), "one build at a time");
        assert!(!fits(&b, 1.0, &[r(2.0, true)], 1.2, false), "no heavy run beside a build");
        assert!(fits(&b, 1.0, &[r(2.0, true)], 0.02, false));
    }

    #[test]
    fn every_job_runs_longest_first_and_finished_jobs_queue_more() {
        let order = Mutex::new(Vec::new());
        let mut seen = Vec::new();
        let jobs = vec![Job::expected(1u32, 1.0), Job::expected(2, 5.0), Job::expected(3, 3.0)];
        let stats = run(
            Budget::fixed(1),
            None,
            jobs,
            |_| 0.1,
            |&t| {
                order.lock().unwrap().push(t);
                t * 10
            },
            |&t, r, met| {
                seen.push((t, r, met.running));
                if t == 2 { vec![Job { task: 4, first: 0.0, build: true }] } else { Vec::new() }
            },
        );
        assert_eq!(*order.lock().unwrap(), [2, 3, 1, 4]);
        assert_eq!(seen, [(2, 20, 1), (3, 30, 1), (1, 10, 1), (4, 40, 1)]);
        assert_eq!(stats.peak_running, 1);
        assert!(stats.describe().starts_with("concurrency: fixed at 1 at once; ran up to 1 at once"));
    }

    #[test]
    fn jobs_that_fit_run_side_by_side() {
        let t0 = Instant::now();
        let jobs = (0..4).map(|i| Job::expected(i, 1.0)).collect();
        let stats = run(
            wide(),
            Some(2.0),
            jobs,
            |_| 0.3,
            |_| std::thread::sleep(Duration::from_millis(300)),
            |_, (), _| Vec::new(),
        );
        assert_eq!(stats.peak_running, 4);
        assert!(t0.elapsed() < Duration::from_millis(1100), "{:?}", t0.elapsed());
        assert!(stats.describe().contains("by measured load (1.6 of 2.0 idle cores, at most 8 at once)"));
    }
}
