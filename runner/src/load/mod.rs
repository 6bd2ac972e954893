//! Running sleep-bound tests side by side, by measured load.
//!
//! A lab test spends most of its wall time asleep (6.824's timeouts and
//! pauses): a run uses a fraction of a core. Many runs fit on a machine at
//! once, but a timing-bound test can fail a correct Raft when the machine
//! is too busy to wake its nodes on time. So the number of runs at once is
//! not a core count but a budget of CPU:
//!
//! * each test's CPU share (cores used on average over its run) comes from
//!   a [`Profile`] measured on earlier runs, refined as runs finish;
//! * a run starts only while the shares of the runs in progress plus its
//!   own fit in the [`Budget`] — the machine's idle cores when the grading
//!   began, times [`UTILIZATION`]. A CPU-heavy run ([`HEAVY_SHARE`]: lab
//!   3's busy clerks) is elastic — it takes what is free for a fixed time —
//!   so it is planned at half the budget at most, and at most
//!   [`MAX_HEAVY`] go at once; a run under [`LIGHT_SHARE`] costs no budget
//!   (only [`Budget::max_jobs`] bounds those);
//! * a [`Probe`] measures scheduling delay all along (how late a thread
//!   that sleeps [`PROBE_SLEEP`] wakes up); while it is high the budget
//!   shrinks ([`Pressure`]), and every run's report says how busy the
//!   machine was while it ran, so a failure under load can be told from a
//!   student's bug.

mod probe;
pub mod schedule;

pub use probe::{Delays, Probe, idle_cores};
use std::collections::HashMap;
use std::time::Duration;

/// The part of the idle cores the runs may use: the rest absorbs bursts
/// (elections, snapshots, the linearizability check).
pub const UTILIZATION: f64 = 0.8;
/// At most this many runs at once per core, whatever their shares (each
/// run is a process tree with sockets and files).
pub const MAX_JOBS_PER_CORE: usize = 4;
/// A run using this many cores or more is heavy.
pub const HEAVY_SHARE: f64 = 0.5;
/// Heavy runs at once, at most.
pub const MAX_HEAVY: usize = 2;
/// A run using less than this is light: it costs no budget.
pub const LIGHT_SHARE: f64 = 0.1;
/// The share assumed for a test never measured.
pub const DEFAULT_SHARE: f64 = 0.4;
/// The probe's sleep.
pub const PROBE_SLEEP: Duration = Duration::from_millis(10);
/// Scheduling delay (p95 over [`PRESSURE_WINDOW`]) above which the budget
/// shrinks …
pub const HIGH_DELAY_MS: f64 = 8.0;
/// … and below which it grows back.
pub const LOW_DELAY_MS: f64 = 3.0;
/// The window the pressure looks at.
pub const PRESSURE_WINDOW: Duration = Duration::from_secs(3);
/// A run is reported as "under high load" when the scheduling delay's p99
/// during it exceeded this.
pub const LOADED_P99_MS: f64 = 20.0;
/// The CPU profile measured on the reference (`runner/data/cpu-profile.tsv`):
/// the grader, the self-check and `labs --jobs auto` plan with it.
pub const BUILT_IN_PROFILE: &str = include_str!("../../data/cpu-profile.tsv");

/// How much may run at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Cores the runs' shares may add up to.
    pub cores: f64,
    /// Runs at once, at most.
    pub max_jobs: usize,
    /// Whether it comes from measurement (else a fixed `-j`).
    pub measured: bool,
}

impl Budget {
    /// A fixed number of runs at once, whatever they cost (`-j N`).
    pub fn fixed(jobs: usize) -> Budget {
        Budget { cores: f64::INFINITY, max_jobs: jobs.max(1), measured: false }
    }

    /// From the machine's idle cores (measured over half a second):
    /// [`UTILIZATION`] of them, and at most [`MAX_JOBS_PER_CORE`] runs per core.
    pub fn measured() -> (Budget, f64) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let idle = idle_cores(Duration::from_millis(500)).unwrap_or(cores as f64);
        let budget = Budget {
            cores: (idle * UTILIZATION).max(HEAVY_SHARE),
            max_jobs: (MAX_JOBS_PER_CORE * cores).max(1),
            measured: true,
        };
        (budget, idle)
    }

    /// `Some(jobs)`: that many at once ([`Budget::fixed`]); `None`: the
    /// measured budget, with the idle cores it was measured from.
    pub fn choose(jobs: Option<usize>) -> (Budget, Option<f64>) {
        match jobs {
            Some(j) => (Budget::fixed(j), None),
            None => {
                let (b, idle) = Budget::measured();
                (b, Some(idle))
            }
        }
    }

    /// Whether a run of `share` cores may start beside runs of `running`
    /// shares, with the budget scaled by `pressure` (see [`Pressure`]).
    /// With nothing running, anything may start.
    pub fn admits(&self, pressure: f64, running: &[f64], share: f64) -> bool {
        if running.is_empty() {
            return true;
        }
        if running.len() >= self.max_jobs {
            return false;
        }
        if !self.measured {
            return true;
        }
        let heavy = |s: f64| s >= HEAVY_SHARE;
        if heavy(share) && running.iter().filter(|&&s| heavy(s)).count() >= MAX_HEAVY {
            return false;
        }
        let planned = |s: f64| match s {
            s if s < LIGHT_SHARE => 0.0,
            s => s.min(self.cores / 2.0),
        };
        running.iter().map(|&s| planned(s)).sum::<f64>() + planned(share) <= self.cores * pressure + 1e-9
    }
}

/// The part of the budget in use while scheduling delay is high: cut by a
/// fifth at each look that finds it above [`HIGH_DELAY_MS`] (to half at
/// most), grown back by a twentieth at each look that finds it below
/// [`LOW_DELAY_MS`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pressure {
    /// The factor, in [0.5, 1].
    pub factor: f64,
    /// How many looks cut it.
    pub backoffs: u32,
}

impl Default for Pressure {
    fn default() -> Pressure {
        Pressure { factor: 1.0, backoffs: 0 }
    }
}

impl Pressure {
    /// Takes a look at recent delays; returns the new factor.
    pub fn look(&mut self, recent: &Delays) -> f64 {
        if recent.samples == 0 {
            return self.factor;
        }
        if recent.p95_ms > HIGH_DELAY_MS {
            self.factor = (self.factor * 0.8).max(0.5);
            self.backoffs += 1;
        } else if recent.p95_ms < LOW_DELAY_MS {
            self.factor = (self.factor + 0.05).min(1.0);
        }
        self.factor
    }
}

/// Each test's CPU share, in cores, and its wall time, in seconds:
/// measured on earlier runs, refined by every run that finishes.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    shares: HashMap<String, f64>,
    secs: HashMap<String, f64>,
}

impl Profile {
    /// The profile kept with the kit ([`BUILT_IN_PROFILE`]).
    pub fn built_in() -> Profile {
        Profile::parse(BUILT_IN_PROFILE).expect("runner/data/cpu-profile.tsv parses (a unit test checks it)")
    }

    /// Reads `id<TAB>cores[<TAB>seconds]` lines (`#` comments and blank
    /// lines skipped).
    ///
    /// # Errors
    /// A line that is not `id<TAB>cores[<TAB>seconds]` with cores in (0, 64]
    /// and seconds above 0, named by its number.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let mut profile = Profile::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || format!("line {}: expected `test<TAB>cores[<TAB>seconds]`, found {line:?}", n + 1);
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            let (id, share, secs) = match fields.as_slice() {
                [id, share] => (id, share, None),
                [id, share, secs] => (id, share, Some(secs)),
                _ => return Err(bad()),
            };
            let share: f64 = share.parse().map_err(|_| bad())?;
            if !(share > 0.0 && share <= 64.0) {
                return Err(bad());
            }
            profile.shares.insert(id.to_string(), share);
            if let Some(secs) = secs {
                let secs: f64 = secs.parse().map_err(|_| bad())?;
                if !(secs > 0.0 && secs.is_finite()) {
                    return Err(bad());
                }
                profile.secs.insert(id.to_string(), secs);
            }
        }
        Ok(profile)
    }

    /// The wall time to expect of a run of `id`, if known.
    pub fn secs(&self, id: &str) -> Option<f64> {
        self.secs.get(id).copied()
    }

    /// The share to plan with for test `id`.
    pub fn share(&self, id: &str) -> f64 {
        self.shares.get(id).copied().unwrap_or(DEFAULT_SHARE)
    }

    /// Whether `id` has been measured.
    pub fn knows(&self, id: &str) -> bool {
        self.shares.contains_key(id)
    }

    /// A run of `id` used `cpu_secs` over `wall_secs`: the estimate moves
    /// halfway to it (a first measurement replaces the default).
    pub fn learn(&mut self, id: &str, cpu_secs: f64, wall_secs: f64) {
        if wall_secs <= 0.0 || !cpu_secs.is_finite() {
            return;
        }
        let seen = (cpu_secs / wall_secs).clamp(0.01, 64.0);
        let next = match self.shares.get(id) {
            Some(&old) => (old + seen) / 2.0,
            None => seen,
        };
        self.shares.insert(id.to_string(), next);
        let secs = match self.secs.get(id) {
            Some(&old) => (old + wall_secs) / 2.0,
            None => wall_secs,
        };
        self.secs.insert(id.to_string(), secs);
    }

    /// The profile as `id<TAB>cores[<TAB>seconds]` lines, sorted by id.
    pub fn to_tsv(&self) -> String {
        let mut ids: Vec<_> = self.shares.iter().collect();
        ids.sort_by(|a, b| a.0.cmp(b.0));
        ids.into_iter()
            .map(|(id, s)| match self.secs.get(id) {
                Some(t) => format!("{id}\t{s:.3}\t{t:.1}\n"),
                None => format!("{id}\t{s:.3}\n"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_admits_by_cpu_share_and_plans_heavy_runs_at_half_of_it() {
        let b = Budget { cores: 1.6, max_jobs: 8, measured: true };
        assert!(b.admits(1.0, &[], 3.0), "anything starts on an idle machine");
        assert!(b.admits(1.0, &[0.3, 0.3, 0.3], 0.3));
        assert!(!b.admits(1.0, &[0.3, 0.3, 0.3, 0.3, 0.3], 0.3), "1.8 cores > 1.6");
        assert!(!b.admits(0.5, &[0.3, 0.3], 0.3), "pressure halves the budget");
        assert!(b.admits(1.0, &[1.5], 1.2), "two heavy runs share the budget, half each");
        assert!(!b.admits(1.0, &[1.5, 1.2], 0.3), "… and leave nothing to a middling one");
        assert!(b.admits(1.0, &[1.5, 1.2, 0.02, 0.05], 0.03), "light runs cost no budget");
        assert!(!b.admits(0.8, &[1.5], 1.2), "under pressure the second heavy run waits");
        let wide = Budget { cores: 10.0, max_jobs: 8, measured: true };
        assert!(!wide.admits(1.0, &[0.6, 0.6], 0.6), "at most MAX_HEAVY heavy runs at once");
        let b = Budget { cores: 100.0, max_jobs: 2, measured: true };
        assert!(!b.admits(1.0, &[0.01, 0.01], 0.01), "max_jobs caps cheap runs too");
        let fixed = Budget::fixed(3);
        assert!(fixed.admits(1.0, &[5.0, 5.0], 5.0) && !fixed.admits(1.0, &[0.1, 0.1, 0.1], 0.1));
    }

    #[test]
    fn pressure_backs_off_on_delay_and_recovers_slowly() {
        let mut p = Pressure::default();
        let high = Delays { samples: 10, p95_ms: 30.0, ..Delays::default() };
        let low = Delays { samples: 10, p95_ms: 1.0, ..Delays::default() };
        assert!((p.look(&high) - 0.8).abs() < 1e-9);
        for _ in 0..10 {
            p.look(&high);
        }
        assert_eq!((p.factor, p.backoffs), (0.5, 11));
        p.look(&low);
        assert!((p.factor - 0.55).abs() < 1e-9);
        assert_eq!(p.look(&Delays::default()), p.factor, "no samples, no change");
    }

    #[test]
    fn the_built_in_profile_parses_and_knows_the_tests() {
        let p = Profile::parse(BUILT_IN_PROFILE).unwrap();
        assert!(p.knows("InitialElection2A") && p.secs("Figure82C").is_some());
    }

    #[test]
    fn a_profile_parses_learns_and_names_bad_lines() {
        let mut p = Profile::parse("# test\tcores\nBasicAgree2B\t0.250\n\n").unwrap();
        assert_eq!(p.share("BasicAgree2B"), 0.25);
        assert_eq!(p.share("Unknown2A"), DEFAULT_SHARE);
        p.learn("BasicAgree2B", 3.5, 10.0);
        assert!((p.share("BasicAgree2B") - 0.3).abs() < 1e-9);
        p.learn("New3A", 8.0, 10.0);
        assert!((p.share("New3A") - 0.8).abs() < 1e-9 && p.knows("New3A"));
        assert_eq!(p.to_tsv(), "BasicAgree2B\t0.300\t10.0\nNew3A\t0.800\t10.0\n");
        assert_eq!(p.secs("New3A"), Some(10.0));
        let back = Profile::parse(&p.to_tsv()).unwrap();
        assert_eq!((back.share("New3A"), back.secs("BasicAgree2B")), (0.8, Some(10.0)));
        assert_eq!(
            Profile::parse("X2A 0.3").unwrap_err(),
            "line 1: expected `test<TAB>cores[<TAB>seconds]`, found \"X2A 0.3\""
        );
        assert!(Profile::parse("X2A\t-1").is_err() && Profile::parse("X2A\t0.1\t0").is_err());
    }
}
