//! The self-check's builds and test runs, side by side by measured load
//! (`runner::load::schedule`, as the grader runs tests).
//!
//! Each mutant's build is a job; when it ends, the next mutant's build is
//! queued, and so are the mutant's tests (every round, every unit), so the
//! next build overlaps this mutant's runs. A build is CPU-heavy: it runs at
//! the lowest CPU priority, never beside another build or a heavy test run,
//! and no heavy run starts beside it. While the scheduling delay is high
//! the budget shrinks, as it does for the grader: a false kill is as bad as
//! a false failure.
//!
//! A unit's verdict does not depend on the order its tests ran in: it is
//! the first test in the unit's order that did not pass ([`units::judge`]),
//! as when they ran one by one. A test is skipped when a test before it in
//! the unit's order has already failed, unless the mutant has `diagnosis:`
//! lines for it: those always run, and a failure of theirs without the
//! output the lines require makes the cell a wrong reason. Another test
//! after the deciding one that was already running is let finish and not
//! counted.

use super::matrix::{Row, Verdict};
use super::units::{self, Judgement, Ran, Unit};
use crate::catalogue::Entry;
use crate::crates::StudentCrates;
use crate::error::GraderError;
use crate::execute::{self, RunFiles, Schedule, Setup, TestSpec};
use crate::mutant::Mutant;
use crate::result::{Build, BuildStatus};
use crate::submission::{self, Submission};
use runner::load::schedule::{self, Job, Stats};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How long one mutant's build may take (the first also builds the kit's
/// dependencies once).
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);

/// What every mutant's build and runs need.
pub struct Context<'a> {
    /// The raftlab workspace: the reference crates the mutants edit.
    pub workspace: &'a Path,
    /// The grading kit the mutants' nodes build from.
    pub kit: &'a Path,
    /// The reference tester.
    pub labs: &'a Path,
    /// The student crates, as the reference tester declares them.
    pub crates: &'a StudentCrates,
    /// The output folder.
    pub out: &'a Path,
    /// Whether each run gets a private /tmp.
    pub private_tmp: bool,
    /// The seed the runs' seeds derive from.
    pub base_seed: u64,
}

/// A job: a mutant's build, or one test of one unit of a built mutant.
enum Task {
    Build(usize),
    Test { m: usize, round: u32, unit: usize, pos: usize, node: PathBuf },
}

/// What a job gave.
enum Output {
    Built(Result<(Build, Option<PathBuf>), GraderError>),
    /// `None`: skipped, a test before it in its unit had already failed.
    Ran(Option<Ran>),
}

/// (mutant, round, unit): each test's run by position, as they come.
type Cells = BTreeMap<(usize, u32, usize), Vec<Option<Ran>>>;

/// Builds every mutant and runs its units `rounds` times; returns a row
/// per (mutant, round, unit), in that order, and how the work went.
///
/// # Errors
/// If a mutant cannot be written or its node kept (the rows so far are
/// lost with it: the matrix would be incomplete).
pub fn run_all(
    ctx: &Context,
    mutants: &[&Mutant],
    units: &[Vec<Unit>],
    rounds: u32,
    schedule: &Schedule,
) -> Result<(Vec<Row>, Stats), GraderError> {
    let cells: Mutex<Cells> = Mutex::default();
    // Whether each mutant built, once its build ended.
    let mut built: BTreeMap<usize, bool> = BTreeMap::new();
    // Each built mutant's tests not yet finished (its node is removed after the last).
    let mut to_run: BTreeMap<usize, usize> = BTreeMap::new();
    let mut fatal: Option<GraderError> = None;
    let spec = |e: &Entry| TestSpec { id: e.id.clone(), timeout_secs: e.timeout_secs };
    let first = mutants.first().map(|_| vec![build_job(0)]).unwrap_or_default();
    let stats = schedule::run(
        schedule.budget,
        schedule.idle_cores,
        first,
        |t| match t {
            Task::Build(_) => build_share(),
            Task::Test { m, unit, pos, .. } => schedule.profile().share(&units[*m][*unit].tests[*pos].id),
        },
        |t| match t {
            Task::Build(m) => Output::Built(build(ctx, mutants[*m])),
            Task::Test { m, round, unit, pos, node } => {
                let decided = {
                    let cells = cells.lock().unwrap_or_else(|e| e.into_inner());
                    let u = &units[*m][*unit];
                    cells.get(&(*m, *round, *unit)).is_some_and(|c| units::skipped(u, c, *pos))
                };
                if decided {
                    return Output::Ran(None);
                }
                let (mutant, test) = (mutants[*m], &units[*m][*unit].tests[*pos]);
                let setup = Setup {
                    labs: ctx.labs,
                    node,
                    out: ctx.out,
                    timeout: None,
                    base_seed: ctx.base_seed,
                    bwrap: None,
                    private_tmp: ctx.private_tmp,
                };
                let files = RunFiles {
                    output: PathBuf::from(format!("logs/{}.r{round}.{}.log", mutant.name, test.id)),
                    artifacts: Path::new("artifacts").join(&mutant.name).join(format!("r{round}")),
                };
                let run = execute::run_test(&setup, &spec(test), *round, &files);
                let output = ctx.out.join(&files.output);
                let read = || std::fs::read(&output).ok().map(|b| String::from_utf8_lossy(&b).into_owned());
                Output::Ran(Some(Ran::check(run, mutant, &test.id, read)))
            }
        },
        |t, output, met| match (t, output) {
            (Task::Build(m), Output::Built(result)) => {
                let m = *m;
                let node = match result {
                    Ok((build, node)) => report_build(ctx, mutants[m], &build, node),
                    Err(e) => {
                        fatal.get_or_insert(e);
                        return Vec::new();
                    }
                };
                let mut next: Vec<Job<Task>> = Vec::new();
                if m + 1 < mutants.len() && fatal.is_none() {
                    next.push(build_job(m + 1));
                }
                if let Some(node) = &node {
                    let tests = test_jobs(m, &units[m], rounds, node, schedule);
                    to_run.insert(m, tests.len());
                    next.extend(tests);
                }
                built.insert(m, node.is_some());
                next
            }
            (Task::Test { m, node, .. }, Output::Ran(None)) => {
                ran_one(&mut to_run, *m, node);
                Vec::new()
            }
            (Task::Test { m, round, unit, pos, node }, Output::Ran(Some(mut run))) => {
                ran_one(&mut to_run, *m, node);
                let test = &units[*m][*unit].tests[*pos];
                schedule.learn(&spec(test), &mut run.run, met);
                let mut cells = cells.lock().unwrap_or_else(|e| e.into_inner());
                let cell = cells
                    .entry((*m, *round, *unit))
                    .or_insert_with(|| vec![None; units[*m][*unit].tests.len()]);
                let diagnosed = &units[*m][*unit].diagnosed;
                let was = units::judge(cell, diagnosed);
                cell[*pos] = Some(run);
                let now = units::judge(cell, diagnosed);
                if was == Judgement::Pending && now != Judgement::Pending {
                    eprintln!(
                        "   {} round {round} {}: {}",
                        mutants[*m].name,
                        units[*m][*unit].name,
                        say(&now, cell, &units[*m][*unit])
                    );
                }
                Vec::new()
            }
            _ => Vec::new(),
        },
    );
    if let Some(e) = fatal {
        return Err(e);
    }
    let cells = cells.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok((rows(mutants, units, rounds, &built, &cells), stats))
}

/// Counts a finished (or skipped) test of mutant `m`; after its last, its
/// kept node is removed (each is as large as a release build of node).
fn ran_one(to_run: &mut BTreeMap<usize, usize>, m: usize, node: &Path) {
    if let Some(left) = to_run.get_mut(&m) {
        *left = left.saturating_sub(1);
        if *left == 0 {
            let _ = std::fs::remove_file(node);
        }
    }
}

/// A build job: ahead of every test (each waits for one).
fn build_job(m: usize) -> Job<Task> {
    Job { task: Task::Build(m), first: f64::INFINITY, build: true }
}

/// A build keeps every core busy (cargo's default `-j`).
fn build_share() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

/// Every test of every unit of mutant `m`, every round, longest expected first.
fn test_jobs(m: usize, units: &[Unit], rounds: u32, node: &Path, schedule: &Schedule) -> Vec<Job<Task>> {
    let mut jobs = Vec::new();
    for round in 1..=rounds {
        for (unit, u) in units.iter().enumerate() {
            for (pos, e) in u.tests.iter().enumerate() {
                let spec = TestSpec { id: e.id.clone(), timeout_secs: e.timeout_secs };
                let task = Task::Test { m, round, unit, pos, node: node.to_path_buf() };
                jobs.push(Job::expected(task, schedule.expected_secs(&spec)));
            }
        }
    }
    jobs
}

/// Applies and builds `m`: its build and, if it built, its `node`.
fn build(ctx: &Context, m: &Mutant) -> Result<(Build, Option<PathBuf>), GraderError> {
    let crates = ctx.out.join("mutants").join(&m.name);
    m.apply(ctx.workspace, &crates)?;
    let sub = Submission::whole(crates.clone(), ctx.crates);
    let build_log = ctx.out.join("logs").join(format!("{}.build.log", m.name));
    // The mutants are the kit's own code: built and run without the sandbox,
    // incrementally from a warm build of the workspace's crates they edit.
    let reference = Submission::whole(ctx.workspace.to_path_buf(), ctx.crates);
    let warm = submission::Warm::Incremental(&reference);
    let (build, node) =
        submission::build(&sub, ctx.kit, &ctx.out.join("swap"), BUILD_TIMEOUT, &build_log, None, &warm);
    // The next build installs its node at the same place: keep this one's.
    let node = match node.filter(|_| build.status == BuildStatus::Built) {
        Some(node) => {
            let kept = crates.join("node");
            std::fs::copy(&node, &kept).map_err(|e| {
                GraderError::Io(format!("cannot keep {}'s node at {}", m.name, kept.display()), e)
            })?;
            Some(kept)
        }
        None => None,
    };
    Ok((build, node))
}

/// Says how `m`'s build went; its node if it built.
fn report_build(ctx: &Context, m: &Mutant, build: &Build, node: Option<PathBuf>) -> Option<PathBuf> {
    eprintln!("== {} — {}", m.name, m.bug);
    match &node {
        Some(_) => eprintln!("   built in {:.0} s", build.secs),
        None => eprintln!(
            "   DID NOT BUILD (not a kill; see {}):\n{}",
            ctx.out.join("logs").join(format!("{}.build.log", m.name)).display(),
            super::indent(&build.message, 20)
        ),
    }
    node
}

/// One phrase for a unit's verdict.
fn say(j: &Judgement, cell: &[Option<Ran>], unit: &Unit) -> String {
    let secs = units::seconds(cell, j);
    match j {
        Judgement::Killed(p) => format!("killed by {} ({secs:.0} s)", unit.tests[*p].id),
        Judgement::WrongReason(p) => format!("WRONG-REASON, not a kill: {}", wrong_reason(cell, unit, *p)),
        Judgement::Survived => format!("SURVIVED ({secs:.0} s)"),
        Judgement::Error(p) => format!(
            "ERROR, not a kill: {} {}",
            unit.tests[*p].id,
            cell[*p].as_ref().map(|r| r.run.outcome.describe()).unwrap_or_default()
        ),
        Judgement::Pending => "pending".into(),
    }
}

/// Which test of `unit` failed at `p` for a wrong reason: the diagnoses its
/// output did not match, and where that output is.
fn wrong_reason(cell: &[Option<Ran>], unit: &Unit, p: usize) -> String {
    let Some(ran) = &cell[p] else { return unit.tests[p].id.clone() };
    let patterns: Vec<String> = ran.unmatched.iter().map(|u| format!("`{u}`")).collect();
    format!(
        "{} {}, but its output ({}) did not match the diagnosis {}",
        unit.tests[p].id,
        ran.run.outcome.describe(),
        ran.run.output.as_deref().unwrap_or("not kept"),
        patterns.join(", ")
    )
}

/// The matrix's rows: per mutant (catalogue order), round and unit.
fn rows(
    mutants: &[&Mutant],
    units: &[Vec<Unit>],
    rounds: u32,
    built: &BTreeMap<usize, bool>,
    cells: &Cells,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for (m, mutant) in mutants.iter().enumerate() {
        for round in 1..=rounds {
            for (i, unit) in units[m].iter().enumerate() {
                let row = |result, killed_by: Option<String>, seed, seconds, error| Row {
                    round,
                    mutant: mutant.name.clone(),
                    group: unit.name.clone(),
                    result,
                    killed_by,
                    seed,
                    seconds,
                    error,
                };
                match built.get(&m) {
                    Some(false) => rows.push(row(Verdict::BuildFailed, None, None, 0.0, None)),
                    Some(true) => {
                        let empty = vec![None; unit.tests.len()];
                        let cell = cells.get(&(m, round, i)).unwrap_or(&empty);
                        let j = units::judge(cell, &unit.diagnosed);
                        let secs = units::seconds(cell, &j);
                        let at = |p: usize| cell[p].as_ref().map(|r| &r.run);
                        rows.push(match j {
                            Judgement::Killed(p) => row(
                                Verdict::Killed,
                                Some(unit.tests[p].id.clone()),
                                at(p).map(|r| r.seed),
                                secs,
                                None,
                            ),
                            Judgement::WrongReason(p) => {
                                let why = Some(wrong_reason(cell, unit, p));
                                row(Verdict::WrongReason, None, at(p).map(|r| r.seed), secs, why)
                            }
                            Judgement::Survived => row(Verdict::Survived, None, None, secs, None),
                            Judgement::Error(p) => {
                                let why = at(p).map(|r| r.outcome.describe()).unwrap_or_default();
                                let error = Some(format!("{}: {why}", unit.tests[p].id));
                                row(Verdict::Error, None, at(p).map(|r| r.seed), secs, error)
                            }
                            Judgement::Pending => continue,
                        });
                    }
                    None => {}
                }
            }
        }
    }
    rows
}
