//! `grader run`: from a command line to a written report.

use crate::catalogue::{self, Entry};
use crate::cli::RunArgs;
use crate::crates;
use crate::error::GraderError;
use crate::execute::{self, Schedule, Setup, TestSpec};
use crate::isolation;
use crate::plan;
use crate::progress::Progress;
use crate::report;
use crate::result::{Build, BuildStatus, GRADE_FORMAT, Grade, Run, TestReport};
use crate::rubric;
use crate::{locate, submission};
use runner::load::Profile;
use runner::reaper;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Grades as `args` say, writes the reports, prints the table, and returns the result.
pub fn run(args: &RunArgs) -> Result<Grade, GraderError> {
    let started = Instant::now();
    let workspace = locate::workspace(args.workspace.as_deref());
    let labs_ref =
        locate::reference_labs(args.labs.as_deref(), workspace.as_ref().ok().map(PathBuf::as_path))?;
    // Absolute, so that the replay commands in the reports work from anywhere.
    let labs_ref = std::path::absolute(&labs_ref).unwrap_or(labs_ref);
    let catalogue = catalogue::load(&labs_ref)?;
    let rubric = rubric::load(args.rubric.as_deref(), &catalogue)?;
    let selected = select(&catalogue, &args.groups, &args.tests)?;
    let sub = match args.submission.as_deref() {
        Some(dir) => Some(submission::check(dir, &crates::load(&labs_ref)?)?),
        None => None,
    };
    let workspace = match &sub {
        Some(_) => Some(workspace?),
        None => None,
    };
    let want = match (args.require_isolation, args.no_isolation) {
        (true, _) => runner::isolation::Want::Required,
        (_, true) => runner::isolation::Want::Off,
        _ => runner::isolation::Want::Auto,
    };
    let plan = runner::isolation::plan(want).map_err(|reason| {
        GraderError::Usage(format!("--require-isolation: cannot sandbox untrusted code here: {reason}"))
    })?;
    let kit = match &sub {
        Some(_) => Some(locate::kit(args.kit.as_deref(), workspace.as_deref())?),
        None => None,
    };
    let out = prepare_out(&args.out)?;
    let iterations = args.iterations.or(rubric.iterations).unwrap_or(1);
    let profile = load_profile(args.profile.as_deref())?;
    let base_seed = args.seed.unwrap_or_else(random_seed);
    reaper::init();
    let isolation = isolation::report(&plan);
    if !isolation.sandboxed() {
        eprintln!("grader: WARNING: {}", isolation.describe());
    }

    let all_units = plan::units(selected.len(), iterations);
    let units = plan::share(all_units, args.shard);
    let progress = Progress::new(units.len());

    let (build, node) = match &sub {
        None => (
            Build { status: BuildStatus::Reference, secs: 0.0, message: String::new() },
            Some(labs_ref.with_file_name("node")),
        ),
        Some(s) => {
            let ws = workspace.as_deref().expect("a submission needs the workspace, checked above");
            let kit = kit.as_deref().expect("a submission needs the kit, checked above");
            let swap_root = args.swap_root.clone().unwrap_or_else(|| ws.join("target/grader-swap"));
            let swap_root = std::path::absolute(&swap_root).unwrap_or(swap_root);
            progress.note(&format!("Building {} (in {}) …", s.dir.display(), swap_root.display()));
            let (build, node) = submission::build(
                s,
                kit,
                &swap_root,
                Duration::from_secs(args.build_timeout),
                &out.join("build.txt"),
                plan.bwrap(),
                &submission::Warm::Skeleton,
            );
            progress.note(&match build.status {
                BuildStatus::Built => format!("Built in {:.0} s.", build.secs),
                _ => "The submission did not build; every test scores 0.".to_string(),
            });
            (build, node)
        }
    };
    // The tester is always the kit's own labs; only node comes from the submission.
    let labs = node.as_ref().map(|_| labs_ref.clone());
    let specs: Vec<TestSpec> =
        selected.iter().map(|e| TestSpec { id: e.id.clone(), timeout_secs: e.timeout_secs }).collect();
    let schedule = Schedule::new(args.jobs.map(|j| j as usize), profile);
    let (results, concurrency): (Vec<(plan::Unit, Run)>, _) = match &labs {
        Some(labs) => {
            let node = node.as_deref().expect("a tester runs only with a node");
            let setup = Setup {
                labs,
                node,
                out: &out,
                timeout: args.timeout.map(Duration::from_secs),
                base_seed,
                bwrap: plan.bwrap(),
                // Sandboxed runs get a private /tmp each.
                private_tmp: plan.bwrap().is_some(),
            };
            let (results, concurrency) = execute::execute(&setup, &schedule, &specs, &units, &progress);
            (results, Some(concurrency))
        }
        None => (
            units
                .iter()
                .map(|u| {
                    let seed = plan::seed(base_seed, &specs[u.test].id, u.iteration);
                    let run = Run::not_run(u.iteration, seed, "the submission did not build");
                    (*u, run)
                })
                .collect::<Vec<_>>(),
            None,
        ),
    };
    progress.finish();
    let learned = schedule.profile().to_tsv();
    std::fs::write(out.join(PROFILE_FILE), learned)
        .map_err(|e| GraderError::Io(format!("cannot write {}", out.join(PROFILE_FILE).display()), e))?;

    let tests = selected
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let scoring = &rubric.tests[&e.id];
            let mut runs: Vec<Run> =
                results.iter().filter(|(u, _)| u.test == i).map(|(_, r)| r.clone()).collect();
            runs.sort_by_key(|r| r.iteration);
            TestReport {
                id: e.id.clone(),
                group: e.group.clone(),
                title: e.title.clone(),
                points: scoring.points,
                policy: scoring.policy,
                visibility: scoring.visibility,
                runs,
            }
        })
        .collect();
    let grade = Grade {
        format: GRADE_FORMAT,
        submission: sub
            .as_ref()
            .map(|s| s.dir.display().to_string())
            .unwrap_or_else(|| "reference crates".into()),
        base_seed,
        iterations,
        shard: args.shard,
        build,
        tests,
        elapsed_secs: started.elapsed().as_secs_f64(),
        labs: labs.unwrap_or_default().display().to_string(),
        node: node.unwrap_or_default().display().to_string(),
        isolation,
        concurrency,
    };
    reaper::sweep(None);
    report::write_all(&grade, &out)?;
    print!("{}", report::console::table(&grade, &out));
    Ok(grade)
}

/// The tests to run, in catalogue order: those of `groups` and those named
/// in `tests`; every test when both are empty.
pub fn select(catalogue: &[Entry], groups: &[String], tests: &[String]) -> Result<Vec<Entry>, GraderError> {
    for g in groups {
        if !catalogue.iter().any(|e| e.group.eq_ignore_ascii_case(g)) {
            let known: std::collections::BTreeSet<&str> =
                catalogue.iter().map(|e| e.group.as_str()).collect();
            return Err(GraderError::Usage(format!(
                "--groups: no group {g} in the catalogue (known: {})",
                known.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    for t in tests {
        if !catalogue.iter().any(|e| &e.id == t) {
            return Err(GraderError::Usage(format!(
                "--tests: no test {t} in the catalogue (see `labs --list`)"
            )));
        }
    }
    let all = groups.is_empty() && tests.is_empty();
    Ok(catalogue
        .iter()
        .filter(|e| all || groups.iter().any(|g| e.group.eq_ignore_ascii_case(g)) || tests.contains(&e.id))
        .cloned()
        .collect())
}

/// Creates the report folder and clears the runs of an earlier grading.
fn prepare_out(out: &Path) -> Result<PathBuf, GraderError> {
    let io = |e| GraderError::Io(format!("cannot use the report folder {}", out.display()), e);
    std::fs::create_dir_all(out).map_err(io)?;
    let out = out.canonicalize().map_err(io)?;
    let runs = out.join("runs");
    if runs.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&runs).or_else(|_| std::fs::remove_file(&runs)).map_err(io)?;
    }
    Ok(out)
}

/// The refined profile every grading writes into its report folder.
pub const PROFILE_FILE: &str = "cpu-profile.tsv";

/// The CPU profile to plan with: `path`'s, else the built-in one.
fn load_profile(path: Option<&Path>) -> Result<Profile, GraderError> {
    let (text, from) = match path {
        Some(p) => (
            std::fs::read_to_string(p)
                .map_err(|e| GraderError::Io(format!("cannot read the profile {}", p.display()), e))?,
            p.display().to_string(),
        ),
        None => (runner::load::BUILT_IN_PROFILE.to_string(), "the built-in profile".to_string()),
    };
    Profile::parse(&text).map_err(|e| GraderError::Usage(format!("--profile: {from}: {e}")))
}

/// A seed from the clock and the process id, for a run without `--seed`.
pub(crate) fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
    );
    h.write_u32(std::process::id());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Vec<Entry> {
        ["A2A", "B2A", "C2B"]
            .iter()
            .map(|id| Entry {
                id: id.to_string(),
                group: id[1..].to_string(),
                title: String::new(),
                points: 1.0,
                timeout_secs: 1,
            })
            .collect()
    }

    #[test]
    fn selection_by_group_and_name() {
        let ids = |v: Vec<Entry>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(select(&cat(), &[], &[]).unwrap()), ["A2A", "B2A", "C2B"]);
        assert_eq!(ids(select(&cat(), &["2b".into()], &[]).unwrap()), ["C2B"]);
        assert_eq!(ids(select(&cat(), &["2B".into()], &["A2A".into()]).unwrap()), ["A2A", "C2B"]);
        assert!(select(&cat(), &["3A".into()], &[]).unwrap_err().to_string().contains("known: 2A, 2B"));
        assert!(select(&cat(), &[], &["Z2A".into()]).is_err());
    }
}
