//! `lincheck`: checks history files for linearizability.
//!
//! ```text
//! lincheck check --model etcd|kv|versioned [--timeout SECS] [--html DIR] [--html-all] FILE...
//! ```
//!
//! Prints one line per file: the verdict and the time the check took
//! (parsing excluded). Exit status: 0 if every file is linearizable, 1 if
//! some file is not (and every file got a verdict), 2 if some file could not
//! be read or parsed, or its check ran out of time.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use lincheck::parse::{ParseError, read_etcd_file, read_kv_file, read_versioned_file};
use lincheck::{
    CheckResult, KvModel, Model, OperationOf, RegisterModel, Verdict, VersionedKvModel, analyze,
    check_operations, write_html,
};

#[derive(Parser)]
#[command(name = "lincheck", version, about = "Checks histories for linearizability")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Checks each FILE and prints its verdict and check time.
    #[command(after_help = "Exit status: 0 every file is linearizable; 1 some file is not (and every \
                            file got a verdict); 2 some file could not be read or parsed, or ran out of time.")]
    Check {
        /// The format and model of the files.
        #[arg(long, value_enum)]
        model: ModelName,
        /// Give up on a file after this many seconds (verdict: unknown).
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
        /// Write an HTML view of each illegal or unknown file into DIR.
        #[arg(long, value_name = "DIR")]
        html: Option<PathBuf>,
        /// With --html, write a view of every file, linearizable ones too.
        #[arg(long, requires = "html")]
        html_all: bool,
        /// History files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// The shipped models, by the name of their file format.
#[derive(Clone, Copy, ValueEnum)]
enum ModelName {
    /// Jepsen etcd logs, compare-and-set register.
    Etcd,
    /// Key/value EDN lines, get/put/append per key.
    Kv,
    /// Versioned key/value EDN lines, get and conditional put per key.
    Versioned,
}

/// What to do with each file besides checking it.
struct Options {
    timeout: Option<Duration>,
    html: Option<PathBuf>,
    html_all: bool,
}

fn main() -> ExitCode {
    let Command::Check { model, timeout, html, html_all, files } = Cli::parse().command;
    let timeout = match timeout {
        Some(secs) if !(secs.is_finite() && secs > 0.0) => {
            eprintln!("error: --timeout must be a positive number of seconds, not {secs}");
            return ExitCode::from(2);
        }
        secs => secs.map(Duration::from_secs_f64),
    };
    if let Some(dir) = &html
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    let options = Options { timeout, html, html_all };
    let (mut illegal, mut failed) = (false, false);
    for file in &files {
        let outcome = match model {
            ModelName::Etcd => check_file(&RegisterModel, read_etcd_file(file), file, &options),
            ModelName::Kv => check_file(&KvModel, read_kv_file(file), file, &options),
            ModelName::Versioned => check_file(&VersionedKvModel, read_versioned_file(file), file, &options),
        };
        match outcome {
            Some(Verdict::Ok) => {}
            Some(Verdict::Illegal) => illegal = true,
            Some(Verdict::Unknown) | None => failed = true,
        }
    }
    ExitCode::from(if failed { 2 } else { u8::from(illegal) })
}

/// Checks one parsed file and prints its line; `None` if it could not be
/// parsed or its view could not be written.
fn check_file<M: Model>(
    model: &M,
    parsed: Result<Vec<OperationOf<M>>, ParseError>,
    file: &Path,
    options: &Options,
) -> Option<Verdict> {
    let history = match parsed {
        Ok(history) => history,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    let start = Instant::now();
    let result = check_operations(model, &history, options.timeout);
    let elapsed = start.elapsed();
    let verdict = result.verdict();
    let word = match &result {
        CheckResult::Ok => "ok".to_string(),
        CheckResult::Illegal(details) => {
            format!("illegal ({} part(s) not linearizable)", details.parts.len())
        }
        CheckResult::Unknown => "unknown (time limit reached)".to_string(),
    };
    println!(
        "{}: {word} — {} operations checked in {:.3} ms",
        file.display(),
        history.len(),
        elapsed.as_secs_f64() * 1e3
    );
    if let Some(dir) = &options.html
        && (options.html_all || verdict != Verdict::Ok)
    {
        let name = file.file_name().map_or("history".into(), |n| n.to_string_lossy().into_owned());
        let out = dir.join(format!("{name}.html"));
        let analysis = analyze(model, &history, options.timeout);
        if let Err(e) = write_html(model, &history, &analysis, &file.display().to_string(), &out) {
            eprintln!("error: cannot write {}: {e}", out.display());
            return None;
        }
        println!("  view: {}", out.display());
    }
    Some(verdict)
}
