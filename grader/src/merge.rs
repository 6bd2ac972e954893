//! `grader merge`: combine the report folders of `grader run --shard K/N`
//! into one report, as if one machine had done all the work.

use crate::cli::MergeArgs;
use crate::error::GraderError;
use crate::report;
use crate::result::{GRADE_FORMAT, Grade};
use std::path::Path;

/// Merges, writes the reports, prints the table.
pub fn run(args: &MergeArgs) -> Result<Grade, GraderError> {
    let mut shards = Vec::new();
    for dir in &args.dirs {
        let file = dir.join(report::GRADE_FILE);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| GraderError::Io(format!("cannot read {}", file.display()), e))?;
        let grade: Grade = serde_json::from_str(&text)
            .map_err(|e| GraderError::Merge(format!("{} is not a grade file: {e}", file.display())))?;
        shards.push(grade);
    }
    let merged = combine(shards)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| GraderError::Io(format!("cannot create {}", args.out.display()), e))?;
    let out = args
        .out
        .canonicalize()
        .map_err(|e| GraderError::Io(format!("cannot use {}", args.out.display()), e))?;
    for dir in &args.dirs {
        let from = dir.join("runs");
        if dir.canonicalize().ok().as_deref() != Some(out.as_path()) && from.is_dir() {
            copy_tree(&from, &out.join("runs"))
                .map_err(|e| GraderError::Io(format!("cannot copy {}", from.display()), e))?;
        }
    }
    report::write_all(&merged, &out)?;
    print!("{}", report::console::table(&merged, &out));
    Ok(merged)
}

/// Combines the shards' results: every shard of one `--shard K/N` family,
/// each once, with the same seed, iterations and tests.
pub fn combine(shards: Vec<Grade>) -> Result<Grade, GraderError> {
    let err = |m: String| Err(GraderError::Merge(m));
    let Some(first) = shards.first() else { return err("no shards given".into()) };
    let count = match first.shard {
        Some(s) => s.count,
        None => return err("the first folder is not a shard (made without --shard)".into()),
    };
    let mut seen = vec![false; count as usize];
    for g in &shards {
        if g.format != GRADE_FORMAT {
            return err(format!("grade format {} (this grader reads {GRADE_FORMAT})", g.format));
        }
        let Some(s) = g.shard.filter(|s| s.count == count) else {
            return err(format!("every folder must be a shard of {count}"));
        };
        if std::mem::replace(&mut seen[(s.index - 1) as usize], true) {
            return err(format!("shard {}/{count} is given twice", s.index));
        }
        if g.base_seed != first.base_seed || g.iterations != first.iterations {
            return err(format!(
                "shard {}/{count} used another --seed or --iterations (pass the same ones to every shard)",
                s.index
            ));
        }
        let ids = |g: &Grade| g.tests.iter().map(|t| (t.id.clone(), t.points, t.policy)).collect::<Vec<_>>();
        if ids(g) != ids(first) {
            return err(format!("shard {}/{count} graded other tests or another rubric", s.index));
        }
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, s)| !**s).map(|(i, _)| format!("{}/{count}", i + 1)).collect();
    if !missing.is_empty() {
        return err(format!("missing shard(s) {}", missing.join(", ")));
    }
    let mut merged = first.clone();
    merged.shard = None;
    merged.elapsed_secs = shards.iter().map(|g| g.elapsed_secs).fold(0.0, f64::max);
    if let Some(bad) = shards.iter().find(|g| !g.build.ok()) {
        merged.build = bad.build.clone();
    }
    for (i, t) in merged.tests.iter_mut().enumerate() {
        t.runs = shards.iter().flat_map(|g| g.tests[i].runs.clone()).collect();
        t.runs.sort_by_key(|r| r.iteration);
    }
    Ok(merged)
}

/// Copies regular files and folders; symlinks are skipped.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Shard;

    fn split(g: &Grade, count: u32) -> Vec<Grade> {
        (1..=count)
            .map(|k| {
                let mut s = g.clone();
                s.shard = Some(Shard { index: k, count });
                for t in &mut s.tests {
                    t.runs.retain(|r| (r.iteration + t.id.len() as u32) % count == k - 1);
                }
                s
            })
            .collect()
    }

    #[test]
    fn shards_recombine_into_the_whole() {
        let whole = crate::report::sample::grade();
        let merged = combine(split(&whole, 2)).unwrap();
        assert_eq!(merged, whole);
    }

    #[test]
    fn incomplete_or_mixed_shards_are_refused() {
        let whole = crate::report::sample::grade();
        let mut parts = split(&whole, 3);
        parts.pop();
        assert!(combine(parts).unwrap_err().to_string().contains("missing shard(s) 3/3"));
        let mut parts = split(&whole, 2);
        parts[1].base_seed += 1;
        assert!(combine(parts).unwrap_err().to_string().contains("--seed"));
        let parts = split(&whole, 2);
        assert!(combine(vec![parts[0].clone(), parts[0].clone()]).unwrap_err().to_string().contains("twice"));
    }
}
