//! `xtask`: the kit's own maintenance tasks, for course staff. It is not
//! part of the handout.
//!
//! ```text
//! cargo run -q -p xtask -- handout [OUT]     (default OUT: target/handout)
//! cargo run -q -p xtask -- test-handout
//! ```
//!
//! `handout` writes the student handout: the kit with its own raft/ and
//! kvraft/ replaced by the skeletons in handout/, and the student guide
//! (handout/README.md) as its README.md, as OUT/raftlab-handout/ and
//! OUT/raftlab-handout.tar.gz; it prints the folder's path on stdout.
//! What it leaves out is listed in `select.rs`.
//!
//! `test-handout` makes the handout, checks what it holds, builds it as a
//! student would and runs every lab test against the skeletons: each must
//! fail quickly, quoting the node's "not yet implemented" panic. One line per
//! check ("ok: …" or "FAILED: …"), then "handout: N passed, M failed"; the
//! exit status is 0 when every check passed. Environment: `HANDOUT_TARGET`
//! (build output, default target/handout-build, kept between runs) and
//! `HANDOUT_RUN_LIMIT` (seconds the lab run may take, default 180).

mod handout;
mod kit_copy;
mod lockfile;
mod makefile;
mod run;
mod sections;
mod select;
mod test_handout;
mod walk;
mod wording;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "xtask", about = "The kit's own maintenance tasks (course staff only)")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Write the student handout to OUT (default target/handout) and print its folder.
    Handout {
        /// Where to write raftlab-handout/ and raftlab-handout.tar.gz.
        out: Option<PathBuf>,
    },
    /// Make and build the handout; every lab test must fail cleanly against the skeletons.
    TestHandout,
}

/// The kit's root: the workspace this crate belongs to.
fn kit_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().expect("xtask/ sits in the kit's root folder").to_path_buf()
}

fn main() -> ExitCode {
    let root = kit_root();
    match Cli::parse().task {
        Task::Handout { out } => {
            let out = out.unwrap_or_else(|| root.join("target/handout"));
            match handout::make(&root, &out) {
                Ok(made) => {
                    for f in &made.reworded {
                        eprintln!("xtask handout: reworded {f}");
                    }
                    eprintln!(
                        "xtask handout: wrote {} and {}",
                        made.folder.display(),
                        made.tarball.display()
                    );
                    println!("{}", made.folder.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask handout: {e}");
                    ExitCode::from(e.status())
                }
            }
        }
        Task::TestHandout => test_handout::run(&root),
    }
}
