//! The one clock of a test: every file of a test's artifact folder
//! (`timeline.log`, each `nN.log`, `network.log`, `activity.log`) stamps its
//! lines with seconds since the test began, read from the system's monotonic
//! clock, so the files merge line by line without guessing offsets.
//!
//! The harness reads [`monotonic_ns`] when a test begins and hands that
//! value to each node as [`CLOCK_ZERO_ARG`]; a node stamps its log lines
//! with [`since`] that zero. `CLOCK_MONOTONIC` is one clock for every
//! process of the machine (sandboxes included: bubblewrap does not make a
//! time namespace), and `std::time::Instant` reads it too.

/// The node argument that carries the test's zero, in nanoseconds of
/// `CLOCK_MONOTONIC`.
pub const CLOCK_ZERO_ARG: &str = "--clock-zero";

/// Now, in nanoseconds of `CLOCK_MONOTONIC`.
pub fn monotonic_ns() -> u64 {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always readable on Linux");
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}

/// Seconds from `zero` (a [`monotonic_ns`] value) to now; 0 before it.
pub fn since(zero: u64) -> f64 {
    monotonic_ns().saturating_sub(zero) as f64 / 1e9
}

/// How every file of a test writes a time: seconds with microseconds,
/// right-aligned in ten characters, then `s` (`     1.234567s`).
pub fn stamp(seconds: f64) -> String {
    format!("{seconds:10.6}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_agrees_with_instant() {
        // Instant reads CLOCK_MONOTONIC too: an interval measured both ways
        // agrees to well under a millisecond.
        let (i0, c0) = (std::time::Instant::now(), monotonic_ns());
        std::thread::sleep(std::time::Duration::from_millis(20));
        let (i, c) = (i0.elapsed().as_secs_f64(), since(c0));
        assert!((i - c).abs() < 1e-3, "Instant says {i}, the clock {c}");
    }

    #[test]
    fn stamps_are_fixed_width() {
        assert_eq!(stamp(1.5), "  1.500000s");
        assert_eq!(stamp(0.0000014), "  0.000001s");
        assert_eq!(stamp(612.25), "612.250000s");
    }
}
