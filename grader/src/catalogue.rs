//! The table of graded tests, read from `labs --catalogue`. The grader knows
//! no test by name: whatever the catalogue lists can be graded.

use runner::process::{self, Exit, Spawned};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// How long `labs --catalogue` (or `--labs`) may take.
const CATALOGUE_TIMEOUT: Duration = Duration::from_secs(60);

/// One row of the catalogue: the type `labs` writes it with.
pub type Entry = protocol::CatalogueRow;

/// Why the catalogue could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the test catalogue from `{command}`: {why}")]
pub struct CatalogueError {
    /// The command that was run.
    pub command: String,
    /// What went wrong.
    pub why: String,
}

/// Runs `labs --catalogue` and parses its table.
pub fn load(labs: &Path) -> Result<Vec<Entry>, CatalogueError> {
    query(labs, "--catalogue", parse)
}

/// Runs `labs FLAG` (one of its table flags: `--catalogue`, `--labs`) and
/// parses what it printed with `parse`.
pub fn query<T>(
    labs: &Path,
    flag: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, CatalogueError> {
    let command = format!("{} {flag}", labs.display());
    let fail = |why: String| CatalogueError { command: command.clone(), why };
    let mut cmd = Command::new(labs);
    cmd.arg(flag);
    let done = process::run(Spawned::new(cmd, "catalogue"), CATALOGUE_TIMEOUT, None)
        .map_err(|e| fail(e.to_string()))?;
    if done.exit != Exit::Code(0) {
        return Err(fail(format!("{:?}: {}", done.exit, done.capture.tail_lines(20))));
    }
    parse(&done.capture.text()).map_err(fail)
}

/// Parses the catalogue's JSON and checks that ids are unique and non-empty.
pub fn parse(json: &str) -> Result<Vec<Entry>, String> {
    let entries: Vec<Entry> =
        serde_json::from_str(json.trim()).map_err(|e| format!("not a catalogue: {e}"))?;
    let mut seen = std::collections::HashSet::new();
    for e in &entries {
        if e.id.is_empty() || !seen.insert(e.id.as_str()) {
            return Err(format!("test id {:?} is empty or listed twice", e.id));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_the_labs_table() {
        let json = r#"[{"id":"A2A","group":"2A","title":"Test (2A): a","points":5,"timeout_secs":150}]"#;
        let c = super::parse(json).unwrap();
        assert_eq!(c[0].id, "A2A");
        assert_eq!(c[0].points, 5.0);
        assert!(super::parse(&format!("[{0},{0}]", &json[1..json.len() - 1])).unwrap_err().contains("twice"));
        assert!(super::parse("nope").is_err());
    }
}
