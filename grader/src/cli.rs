//! The command line.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Grades raftlab submissions: builds them, runs the test groups many times,
/// scores them from a rubric, and writes reports for people (console,
/// index.html), Gradescope (results.json) and CI (junit.xml).
///
/// Exit status: 0 every run passed, 1 some run failed (or the submission did
/// not build), 2 the grader itself could not run, or a run could not judge
/// the submission (the kit could not set its test up).
#[derive(Parser, Debug)]
#[command(name = "grader", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// What `grader build` builds, and where.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// A folder holding the student crates (raft/ and optionally kvraft/).
    pub submission: PathBuf,
    /// The raftlab workspace (default: found from the grader's location or the current folder).
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// The grading kit (default: WORKSPACE/target/grading-kit, made by `grader kit`).
    #[arg(long)]
    pub kit: Option<PathBuf>,
    /// The labs binary that declares the student crates (default: beside the grader).
    #[arg(long)]
    pub labs: Option<PathBuf>,
    /// Where to build (default: WORKSPACE/target/local-swap).
    #[arg(long)]
    pub swap_root: Option<PathBuf>,
    /// Seconds the build may take.
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    pub build_timeout: u64,
}

/// What `grader kit` makes, and from what.
#[derive(Args, Debug)]
pub struct KitArgs {
    /// Where to write the grading kit (default: WORKSPACE/target/grading-kit).
    pub out: Option<PathBuf>,
    /// The raftlab workspace (default: found from the grader's location or the current folder).
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// The labs binary that declares the student crates (default: beside the grader).
    #[arg(long)]
    pub labs: Option<PathBuf>,
}

/// What `grader swap` builds.
#[derive(Args, Debug)]
pub struct SwapArgs {
    /// One folder per student crate, in the order the labs declare them
    /// (RAFT_DIR, then KVRAFT_DIR); the later ones may be left out.
    #[arg(required = true, value_name = "RAFT_DIR [KVRAFT_DIR]")]
    pub crates: Vec<PathBuf>,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Build a submission (or use the reference crates) and grade it.
    Run(RunArgs),
    /// Build a submission's `node` exactly as `run` does (the grading kit,
    /// `--offline`, the lock-file check, the same refusals), unsandboxed, and
    /// print its path: `make test-2A RAFT=…` builds through it, so a
    /// submission that passes locally builds when graded.
    ///
    /// Exit status: 0 it built, 1 it did not (the grader's own message on
    /// stderr), 2 the grader could not run.
    Build(BuildArgs),
    /// Make the grading kit that submissions are built from (node
    /// workspace, pruned lock file, vendored sources, skeletons, stamp), from
    /// the kit alone; prints "grading kit ready in OUT".
    Kit(KitArgs),
    /// Build the node of other student crates exactly as a grading builds a
    /// submission's (`make test-2A RAFT=…` does): copies them (without
    /// target/) to $SWAP_ROOT/submission (default WORKSPACE/target/local-swap),
    /// makes the grading kit (its log in the swap root), builds as `build`
    /// does and prints the built node's path.
    ///
    /// Exit status: 0 it built, 2 a bad command line (or not Linux), 3 the
    /// kit could not be made or the crates did not build (the grader's own
    /// message on stderr).
    Swap(SwapArgs),
    /// Combine the report folders of `run --shard K/N` into one report.
    Merge(MergeArgs),
    /// Write a package for a grading service.
    Package(PackageArgs),
    /// The self-check's mutants: list them, check they apply, apply one.
    Mutant(MutantArgs),
    /// Mutation-test the lab tests: build each mutant, run the tests that
    /// should kill it, print and write the kill matrix.
    ///
    /// Exit status: 0 every mutant was killed on every round, 1 one survived
    /// or a test failed against one for a wrong reason (its output lacked
    /// what the mutant's `diagnosis:` lines require), 2 the self-check could not run or judge (a mutant does not apply or
    /// does not build, a test or group it names is not in the catalogue, a
    /// test the kit could not set up, …).
    Selfcheck(SelfcheckArgs),
}

/// Where the mutants and the reference crates are.
#[derive(Args, Debug, Clone)]
pub struct CatalogueArgs {
    /// The mutant catalogue folder (default: $SELFCHECK_MUTANTS, else WORKSPACE/selfcheck/mutants).
    #[arg(long, value_name = "DIR", global = true)]
    pub catalogue: Option<PathBuf>,
    /// The raftlab workspace, whose raft/ and kvraft/ are the reference
    /// (default: found from the grader's location or the current folder).
    #[arg(long, global = true)]
    pub workspace: Option<PathBuf>,
}

/// `grader mutant`.
#[derive(Args, Debug)]
pub struct MutantArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: MutantCmd,
    /// The catalogue and the reference.
    #[command(flatten)]
    pub at: CatalogueArgs,
}

/// `grader mutant` subcommands.
#[derive(Subcommand, Debug)]
pub enum MutantCmd {
    /// Print each mutant: name, groups, CI tests and bug, tab-separated.
    List,
    /// Check that every mutant still applies to the reference (each anchor exactly once).
    Check,
    /// Write DIR/raft and DIR/kvraft: the reference crates with mutant NAME applied (prints DIR).
    Apply {
        /// The mutant.
        name: String,
        /// Where to write the mutated crates.
        dir: PathBuf,
    },
}

/// `grader selfcheck`.
#[derive(Args, Debug)]
pub struct SelfcheckArgs {
    /// The reduced matrix: each mutant against only the tests on its `ci:` line
    /// (default: the full matrix, each mutant against every group on its `groups:` line).
    #[arg(long)]
    pub ci: bool,
    /// Run the matrix this many times: a mutant must die on every round.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Only these mutants, e.g. kv-no-dedup,no-persist.
    #[arg(long, value_delimiter = ',')]
    pub mutants: Vec<String>,
    /// Only check that every mutant still applies to the reference (no build, no test).
    #[arg(long)]
    pub check: bool,
    /// The output folder: matrix.tsv, matrix.json, logs/, artifacts/, and the kept build in swap/.
    #[arg(long, default_value = "target/selfcheck")]
    pub out: PathBuf,
    /// The catalogue and the reference.
    #[command(flatten)]
    pub at: CatalogueArgs,
    /// The reference labs binary, the tester of every mutant (default: beside the grader).
    #[arg(long)]
    pub labs: Option<PathBuf>,
    /// The grading kit the mutants' nodes build from (default: WORKSPACE/target/grading-kit).
    #[arg(long)]
    pub kit: Option<PathBuf>,
    /// Base seed of the runs' seeds (default: random; written in matrix.json).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Builds and test runs at a time, fixed (default: as many as the
    /// measured load allows, as `grader run` schedules; builds apart from
    /// heavy runs).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
}

/// `grader run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// A folder holding the student crates (raft/ and optionally kvraft/); without it, the reference crates.
    pub submission: Option<PathBuf>,
    /// Groups to run, e.g. 2A,2B (default: every group of the catalogue).
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
    /// Tests to run, by exact catalogue id (added to --groups).
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    pub tests: Vec<String>,
    /// Runs of each test (default: the rubric's `iterations`, else 1).
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: Option<u32>,
    /// Runs at a time, fixed (default: as many as the measured load allows:
    /// each test's CPU share against the machine's idle cores).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Each test's CPU share, `test<TAB>cores` lines (default: the built-in
    /// runner/data/cpu-profile.tsv). Every grading writes the refined one to
    /// OUT/cpu-profile.tsv.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Seconds before a run is stopped and failed (default: each test's own limit + 10 s).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Seconds the submission's build may take.
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    pub build_timeout: u64,
    /// The rubric (TOML; default: the built-in grader/rubric/default.toml).
    #[arg(long)]
    pub rubric: Option<PathBuf>,
    /// The report folder.
    #[arg(long, default_value = "target/grade")]
    pub out: PathBuf,
    /// Base seed of the runs' seeds (default: random; printed in the report).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run only share K of N of the work (1 ≤ K ≤ N); combine with `grader merge`.
    #[arg(long, value_name = "K/N", value_parser = crate::plan::parse_shard)]
    pub shard: Option<crate::result::Shard>,
    /// The labs binary whose catalogue is graded (default: beside the grader).
    #[arg(long)]
    pub labs: Option<PathBuf>,
    /// The raftlab workspace (default: found from the grader's location or the current folder).
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Where submissions are built (default: WORKSPACE/target/grader-swap).
    #[arg(long)]
    pub swap_root: Option<PathBuf>,
    /// The grading kit: the node workspace, vendored sources and warm build that submissions
    /// build from (default: WORKSPACE/target/grading-kit, made by `grader kit`).
    #[arg(long)]
    pub kit: Option<PathBuf>,
    /// Refuse to grade unless the submission's build and processes can run sandboxed
    /// (root, bubblewrap, namespaces). For course staff and CI grading untrusted code.
    #[arg(long, conflicts_with = "no_isolation")]
    pub require_isolation: bool,
    /// Run untrusted code unsandboxed even where a sandbox could be made (reports say so).
    #[arg(long)]
    pub no_isolation: bool,
}

/// `grader merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The report folders of every shard.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The merged report folder.
    #[arg(long, default_value = "target/grade-merged")]
    pub out: PathBuf,
}

/// `grader package`.
#[derive(Args, Debug)]
pub struct PackageArgs {
    /// The service.
    pub target: PackageTarget,
    /// The zip file to write.
    #[arg(long, default_value = "target/gradescope-autograder.zip")]
    pub out: PathBuf,
    /// A rubric to ship instead of the default one.
    #[arg(long)]
    pub rubric: Option<PathBuf>,
    /// Extra arguments for `grader run` inside the package, e.g. "--groups 2A,2B --iterations 3".
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub grade_args: String,
    /// The raftlab workspace to package.
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// The labs binary that declares the student crates, which the package
    /// ships as skeletons (default: beside the grader).
    #[arg(long)]
    pub labs: Option<PathBuf>,
}

/// Grading services `package` knows.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PackageTarget {
    /// A Gradescope autograder zip (setup.sh, run_autograder).
    Gradescope,
}
