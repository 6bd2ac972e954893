//! Live progress: a bar on a terminal, plain lines otherwise (CI logs).

use crate::result::Run;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Progress over a known number of runs.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    /// A bar if stderr is a terminal, else plain lines.
    pub fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress { bar, total, done: AtomicUsize::new(0) }
    }

    /// A message outside the bar (the build starting, …).
    pub fn note(&self, msg: &str) {
        match &self.bar {
            Some(bar) => bar.println(msg),
            None => eprintln!("{msg}"),
        }
    }

    /// A run has started.
    pub fn started(&self, test: &str, iteration: u32) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{test} #{iteration}"));
        }
    }

    /// A run has finished.
    pub fn finished(&self, test: &str, run: &Run) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let line = format!(
            "[{n:>3}/{}] {test} #{}: {} ({:.1} s)",
            self.total,
            run.iteration,
            run.outcome.describe(),
            run.secs
        );
        match &self.bar {
            Some(bar) => {
                if !run.outcome.passed() {
                    bar.println(line);
                }
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
