//! The scheduling-delay probe and the machine's idle CPU.

use super::PROBE_SLEEP;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Scheduling delay over some time: how late the probe woke up.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Delays {
    /// Samples.
    pub samples: usize,
    /// Median lateness, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Worst.
    pub max_ms: f64,
}

impl Delays {
    /// The statistics of `late` (milliseconds, any order).
    pub fn of(mut late: Vec<f64>) -> Delays {
        if late.is_empty() {
            return Delays::default();
        }
        late.sort_by(f64::total_cmp);
        let at = |q: f64| late[((late.len() - 1) as f64 * q).round() as usize];
        Delays { samples: late.len(), p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99), max_ms: at(1.0) }
    }
}

struct ProbeInner {
    start: Instant,
    /// (seconds since start, milliseconds late), in time order.
    samples: Mutex<Vec<(f64, f64)>>,
    stop: AtomicBool,
}

/// A thread that sleeps [`PROBE_SLEEP`] over and over and records how late
/// it wakes: the scheduling delay any timer of a test would see.
pub struct Probe {
    inner: Arc<ProbeInner>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Probe {
    /// Starts the probe.
    pub fn start() -> Probe {
        let inner = Arc::new(ProbeInner {
            start: Instant::now(),
            samples: Mutex::default(),
            stop: AtomicBool::new(false),
        });
        let shared = inner.clone();
        let thread = std::thread::Builder::new()
            .name("load-probe".into())
            .spawn(move || {
                while !shared.stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    std::thread::sleep(PROBE_SLEEP);
                    let late = t0.elapsed().saturating_sub(PROBE_SLEEP).as_secs_f64() * 1e3;
                    let at = shared.start.elapsed().as_secs_f64();
                    shared.samples.lock().expect("probe lock").push((at, late));
                }
            })
            .ok();
        Probe { inner, thread }
    }

    /// Seconds since the probe started: the clock [`Probe::delays`] takes.
    pub fn now(&self) -> f64 {
        self.inner.start.elapsed().as_secs_f64()
    }

    /// The delays seen between `from` and `to` (seconds of [`Probe::now`]).
    pub fn delays(&self, from: f64, to: f64) -> Delays {
        let samples = self.inner.samples.lock().expect("probe lock");
        let first = samples.partition_point(|&(t, _)| t < from);
        Delays::of(samples[first..].iter().take_while(|&&(t, _)| t <= to).map(|&(_, l)| l).collect())
    }

    /// The delays over the last `window`.
    pub fn recent(&self, window: Duration) -> Delays {
        let now = self.now();
        self.delays(now - window.as_secs_f64(), now)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Idle and total jiffies over all CPUs, from `/proc/stat`.
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal …
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((idle, v.iter().take(8).sum()))
}

/// The machine's idle CPU over `window`, in cores, from `/proc/stat`; on
/// the portable path, which has no `/proc`, at once from the one-minute
/// load average (slower to follow, never negative). `None` if neither is
/// readable.
pub fn idle_cores(window: Duration) -> Option<f64> {
    let cores = std::thread::available_parallelism().ok()?.get() as f64;
    if platform::portable() {
        let mut avg = [0f64; 1];
        // SAFETY: getloadavg writes at most the one element it is given.
        let n = unsafe { nix::libc::getloadavg(avg.as_mut_ptr(), 1) };
        return (n == 1).then(|| (cores - avg[0]).max(0.0));
    }
    let (i0, t0) = cpu_times()?;
    std::thread::sleep(window);
    let (i1, t1) = cpu_times()?;
    let total = t1.saturating_sub(t0);
    (total > 0).then(|| cores * i1.saturating_sub(i0) as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_take_percentiles() {
        let d = Delays::of((1..=100).map(f64::from).collect());
        assert_eq!((d.samples, d.p50_ms, d.p99_ms, d.max_ms), (100, 51.0, 99.0, 100.0));
        assert_eq!(Delays::of(Vec::new()), Delays::default());
    }

    #[test]
    fn the_probe_sees_delays_between_two_times() {
        let probe = Probe::start();
        std::thread::sleep(Duration::from_millis(120));
        let d = probe.delays(0.0, probe.now());
        assert!(d.samples >= 5, "{d:?}");
        assert_eq!(probe.delays(probe.now() + 10.0, probe.now() + 20.0).samples, 0);
    }
}
