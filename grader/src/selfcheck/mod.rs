//! `grader selfcheck` and `grader mutant`: mutation testing of the lab tests.
//!
//! Each mutant of the catalogue ([`crate::mutant`]) reintroduces one classic
//! bug into a copy of the reference `raft/` and `kvraft/`. The self-check
//! builds the `node` of each mutant as the grader builds a submission's (in
//! the grading kit's node workspace, from its vendored sources), but
//! incrementally: one build folder, kept in `OUT/swap`, first builds the
//! workspace's own crates, and each mutant's build reuses it, so rustc
//! recompiles only what the mutant's edit touched (about 5 s, where a build
//! from the skeleton's warm folder takes 16; [`crate::submission::Warm`]).
//! It runs the reference `labs` against it as the grader runs a test: one
//! `labs <test> --exact` process per test, with its own process group,
//! seed, time limit, captured output in `OUT/logs/` and `LAB_ARTIFACTS` in
//! `OUT/artifacts/`. Builds and runs go side by side by measured load
//! ([`pipeline`]). A test that fails kills the mutant, if its output says
//! what the mutant's `diagnosis:` lines for that test require (else the
//! cell is a wrong reason, not a kill); a mutant every test passes against
//! survives; a test the kit could not set up is an error, never a kill.

pub mod matrix;
mod pipeline;
pub mod units;

use crate::catalogue;
use crate::cli::{CatalogueArgs, MutantArgs, MutantCmd, SelfcheckArgs};
use crate::error::GraderError;
use crate::execute::Schedule;
use crate::locate;
use crate::mutant::{self, Mutant};
use crate::report::{pretty, write_atomic};
use matrix::{MATRIX_FORMAT, Matrix, Status};
use runner::load::Profile;
use runner::reaper;
use std::path::{Path, PathBuf};
use std::time::Instant;
/// The kill matrix, tab-separated, in the output folder.
pub const MATRIX_TSV: &str = "matrix.tsv";
/// The kill matrix as JSON, in the output folder.
pub const MATRIX_JSON: &str = "matrix.json";

/// The workspace, the catalogue folder and its mutants.
fn open(at: &CatalogueArgs) -> Result<(PathBuf, PathBuf, Vec<Mutant>), GraderError> {
    let workspace = locate::workspace(at.workspace.as_deref())?;
    let dir = mutant::catalogue_dir(at.catalogue.as_deref(), &workspace);
    let mutants = mutant::load(&dir)?;
    Ok((workspace, dir, mutants))
}

/// Checks that every mutant applies to the reference crates of `workspace`,
/// reporting each one that does not.
fn check_all(mutants: &[Mutant], workspace: &Path, dir: &Path) -> Result<(), GraderError> {
    let broken: Vec<String> =
        mutants.iter().filter_map(|m| m.mutated_files(workspace).err()).map(|e| e.to_string()).collect();
    if broken.is_empty() {
        return Ok(());
    }
    for b in &broken {
        eprintln!("selfcheck: {b}");
    }
    Err(GraderError::Usage(format!(
        "{} of the {} mutants in {} no longer apply to the reference (above)",
        broken.len(),
        mutants.len(),
        dir.display()
    )))
}

/// `grader mutant list|check|apply`.
pub fn mutant_command(args: &MutantArgs) -> Result<bool, GraderError> {
    let (workspace, dir, mutants) = open(&args.at)?;
    match &args.command {
        MutantCmd::List => {
            for m in &mutants {
                println!("{}\t{}\t{}\t{}", m.name, m.groups.join(" "), m.ci.join(" "), m.bug);
            }
        }
        MutantCmd::Check => {
            check_all(&mutants, &workspace, &dir)?;
            println!("all {} mutants of {} apply to the reference", mutants.len(), dir.display());
        }
        MutantCmd::Apply { name, dir: dest } => {
            mutant::find(&mutants, name, &dir)?.apply(&workspace, dest)?;
            println!("{}", dest.display());
        }
    }
    Ok(true)
}

/// `grader selfcheck`: checks the catalogue, then (unless `--check`) runs
/// the matrix, prints it and writes it. `Ok(true)` when every mutant died
/// every round, `Ok(false)` when one survived or a test failed against one
/// for a wrong reason (or a correct variant failed a test), an error when the
/// self-check could not run (the matrix is still written when it got that far).
pub fn run(args: &SelfcheckArgs) -> Result<bool, GraderError> {
    let started = Instant::now();
    let (workspace, dir, all) = open(&args.at)?;
    check_all(&all, &workspace, &dir)?;
    if args.check {
        println!("selfcheck: all {} mutants of {} apply to the reference", all.len(), dir.display());
        return Ok(true);
    }
    let chosen = choose(&all, &args.mutants, &dir)?;
    let labs = locate::reference_labs(args.labs.as_deref(), Some(&workspace))?;
    let labs = std::path::absolute(&labs).unwrap_or(labs);
    let tests = catalogue::load(&labs)?;
    let crates = crate::crates::load(&labs)?;
    let skeletons = mutant::student_crates(&workspace).map_err(GraderError::Usage)?;
    let mut declared = crates.all().to_vec();
    declared.sort();
    if declared != skeletons {
        return Err(GraderError::Usage(format!(
            "the labs declare the student crates {}, but {}/handout holds the skeletons of {}: make them one list",
            declared.join(", "),
            workspace.display(),
            skeletons.join(", ")
        )));
    }
    units::validate(&chosen, &tests).map_err(GraderError::Usage)?;
    let kit = locate::kit(args.kit.as_deref(), Some(&workspace))?;
    let out = prepare_out(&args.out)?;
    reaper::init();
    let private_tmp = match runner::process::try_private_tmp(&out) {
        // Each run's private /tmp keeps the tester, the mutant's node and
        // the run's artifacts wherever they are (see PrivateTmp).
        Ok(()) => true,
        Err(why) => {
            eprintln!(
                "selfcheck: note: runs share the real /tmp ({why}); a run stopped at its time limit \
                 may leave its /tmp/rl-* folder behind"
            );
            false
        }
    };
    let base_seed = args.seed.unwrap_or_else(crate::grade::random_seed);
    let mode = if args.ci { "ci" } else { "full" };
    eprintln!(
        "selfcheck: {mode} matrix, {} mutants, {} round(s), seed {base_seed}; logs in {}",
        chosen.len(),
        args.rounds,
        out.join("logs").display()
    );
    let mut matrix = Matrix {
        format: MATRIX_FORMAT,
        mode: mode.into(),
        rounds: args.rounds,
        base_seed,
        elapsed_secs: 0.0,
        known: chosen.iter().filter(|m| m.known.is_some()).map(|m| m.name.clone()).collect(),
        variants: chosen.iter().filter(|m| m.variant).map(|m| m.name.clone()).collect(),
        rows: Vec::new(),
    };
    let ctx = pipeline::Context {
        workspace: &workspace,
        kit: &kit,
        labs: &labs,
        crates: &crates,
        out: &out,
        private_tmp,
        base_seed,
    };
    let units: Vec<_> = chosen.iter().map(|m| units::units(m, &tests, args.ci)).collect();
    let schedule = Schedule::new(args.jobs.map(|j| j as usize), Profile::built_in());
    let mut failure = None;
    match pipeline::run_all(&ctx, &chosen, &units, args.rounds, &schedule) {
        Ok((rows, stats)) => {
            matrix.rows = rows;
            eprintln!("selfcheck: {}", stats.describe());
        }
        Err(e) => failure = Some(e),
    }
    prune_empty(&out.join("artifacts"));
    matrix.elapsed_secs = started.elapsed().as_secs_f64();
    write_atomic(&out, MATRIX_TSV, &matrix.tsv())?;
    write_atomic(&out, MATRIX_JSON, &pretty(&matrix))?;
    print!("{}", matrix.table());
    eprintln!(
        "selfcheck: {:.0} s; the matrix in {} and {}",
        matrix.elapsed_secs,
        out.join(MATRIX_TSV).display(),
        out.join(MATRIX_JSON).display()
    );
    if let Some(e) = failure {
        return Err(e);
    }
    match matrix.status() {
        Status::AllKilled => Ok(true),
        Status::Survivors(_) | Status::VariantsKilled(_) | Status::WrongReason(_) => Ok(false),
        Status::BuildFailed(m) => Err(GraderError::Usage(format!(
            "mutants that do not build (their output is in {}): {}; fix their edits",
            out.join("logs").display(),
            m.join(", ")
        ))),
        Status::Errors(m) => Err(GraderError::Usage(format!(
            "could not judge {} (a test the kit could not set up, not a kill; the output is in {})",
            m.join(", "),
            out.join("logs").display()
        ))),
    }
}

/// The mutants named in `names` (every one when empty), in catalogue order.
fn choose<'a>(all: &'a [Mutant], names: &[String], dir: &Path) -> Result<Vec<&'a Mutant>, GraderError> {
    for n in names {
        mutant::find(all, n, dir)?;
    }
    Ok(all.iter().filter(|m| names.is_empty() || names.contains(&m.name)).collect())
}

/// Creates the output folder and clears the logs and artifacts of an earlier
/// self-check (the kept build in `swap/` stays).
fn prepare_out(out: &Path) -> Result<PathBuf, GraderError> {
    let io = |e| GraderError::Io(format!("cannot use the self-check folder {}", out.display()), e);
    std::fs::create_dir_all(out).map_err(io)?;
    let out = out.canonicalize().map_err(io)?;
    for old in ["logs", "artifacts"] {
        crate::files::remove(&out.join(old)).map_err(io)?;
    }
    std::fs::create_dir_all(out.join("logs")).map_err(io)?;
    Ok(out)
}

/// Removes the empty folders under `dir`, and `dir` if it ends up empty:
/// what passing runs left of their artifact folders.
fn prune_empty(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                prune_empty(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// The first `n` lines of `text`, indented.
pub(crate) fn indent(text: &str, n: usize) -> String {
    text.lines().take(n).map(|l| format!("     {l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn passing_runs_leave_no_empty_artifact_folders() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("artifacts");
        std::fs::create_dir_all(a.join("m/r1")).unwrap();
        std::fs::create_dir_all(a.join("k/r1/Fail2A")).unwrap();
        std::fs::write(a.join("k/r1/Fail2A/timeline.log"), "x").unwrap();
        super::prune_empty(&a);
        assert!(!a.join("m").exists());
        assert!(a.join("k/r1/Fail2A/timeline.log").is_file());
    }
}
