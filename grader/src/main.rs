//! `grader`: builds a raftlab submission, runs the test groups many times,
//! scores them from a rubric, and writes reports for people, Gradescope and CI.
//!
//! ```text
//! grader run [SUBMISSION] [--groups 2A,2B] [--iterations N] [--jobs J] [--out DIR] …
//! grader kit [OUT]                       (the grading kit submissions build from)
//! grader build SUBMISSION                (build a submission's node as a grading does)
//! grader swap RAFT_DIR [KVRAFT_DIR]      (the same for crates anywhere: make test-2A RAFT=…)
//! grader run SUBMISSION --shard 2/4 --seed 7 --out shard2   (one share of the work)
//! grader merge shard1 shard2 shard3 shard4 --out merged
//! grader package gradescope --out autograder.zip
//! grader selfcheck [--ci] [--rounds N] [--mutants a,b] [--check]   (mutation testing of the tests)
//! grader mutant list|check|apply NAME DIR
//! ```

mod catalogue;
mod cli;
mod crates;
mod error;
mod execute;
mod files;
mod grade;
mod isolation;
mod kit;
mod locate;
mod merge;
mod mutant;
mod package;
mod plan;
mod progress;
mod report;
mod result;
mod rubric;
mod score;
mod selfcheck;
mod submission;
mod swap;

use clap::Parser;
use std::process::ExitCode;

/// Every run passed.
const EXIT_PASSED: u8 = 0;
/// Some run failed, or the submission did not build.
const EXIT_FAILED: u8 = 1;
/// The grader could not run.
const EXIT_ERROR: u8 = 2;

/// Whether every run passed; an error when a run could not judge the
/// submission (the reports are written: they say which).
fn judged(grade: &result::Grade) -> Result<bool, error::GraderError> {
    match score::errors(grade) {
        0 => Ok(score::all_passed(grade)),
        n => Err(error::GraderError::Usage(format!(
            "{n} run(s) could not be judged: the kit could not set their test up (see the report); \
             that is no verdict on the submission"
        ))),
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match cli.command {
        cli::Cmd::Swap(args) => {
            let code = swap::run(&args);
            runner::reaper::sweep(None);
            return code;
        }
        cli::Cmd::Kit(args) => kit::run(&args),
        cli::Cmd::Run(args) => grade::run(&args).and_then(|g| judged(&g)),
        cli::Cmd::Build(args) => submission::build_only(&args),
        cli::Cmd::Merge(args) => merge::run(&args).map(|g| score::all_passed(&g)),
        cli::Cmd::Package(args) => package::run(&args).map(|()| true),
        cli::Cmd::Mutant(args) => selfcheck::mutant_command(&args),
        cli::Cmd::Selfcheck(args) => selfcheck::run(&args),
    };
    runner::reaper::sweep(None);
    match outcome {
        Ok(true) => ExitCode::from(EXIT_PASSED),
        Ok(false) => ExitCode::from(EXIT_FAILED),
        Err(e) => {
            eprintln!("grader: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
