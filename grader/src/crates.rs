//! The student crates: the workspace folders a submission replaces, read
//! from the labs' one declaration (`labs --labs`, a [`protocol::LabRow`] per
//! lab) — never named here. The grader links neither `labs` nor `harness`:
//! it asks the tester it already runs, as it reads the test catalogue.

use crate::catalogue::{self, CatalogueError};
use protocol::LabRow;
use std::path::Path;

/// The kit's own crates that `node` links beside the student crates: the
/// grading kit's node workspace holds these and the student crates' skeletons.
pub const KIT_CRATES: [&str; 4] = ["labrpc", "control", "platform", "node"];

/// The student crates of every lab, in the order the labs declare them.
///
/// Invariant: not empty; each name is one plain folder name, listed once,
/// and none is one of [`KIT_CRATES`]; `required` is a subset of `all`.
#[derive(Debug, Clone, PartialEq)]
pub struct StudentCrates {
    /// Every lab's crates, each once: what a submission may replace.
    all: Vec<String>,
    /// The crates every lab builds: a submission without one is refused. A
    /// crate only some labs build may be left out (its skeleton stands in,
    /// and those labs' tests fail).
    required: Vec<String>,
}

impl StudentCrates {
    /// The union of the labs' crates, checked (see the type's invariant).
    ///
    /// # Errors
    /// If there is no lab, a lab has no crate, or a name is not a plain
    /// folder name or is one of the kit's own crates.
    pub fn from_labs(labs: &[LabRow]) -> Result<Self, String> {
        if labs.is_empty() {
            return Err("no lab is declared".into());
        }
        let mut all: Vec<String> = Vec::new();
        for lab in labs {
            if lab.crates.is_empty() {
                return Err(format!("lab {:?} declares no student crate", lab.id));
            }
            for c in &lab.crates {
                let plain = !c.is_empty()
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
                    && !c.starts_with('-');
                if !plain {
                    return Err(format!("lab {:?}: student crate {c:?} is not a plain folder name", lab.id));
                }
                if KIT_CRATES.contains(&c.as_str()) {
                    return Err(format!("lab {:?}: {c:?} is one of the kit's own crates", lab.id));
                }
                if !all.contains(c) {
                    all.push(c.clone());
                }
            }
        }
        let required = all.iter().filter(|c| labs.iter().all(|l| l.crates.contains(c))).cloned().collect();
        let crates = StudentCrates { all, required };
        debug_assert!(crates.valid(), "{crates:?}");
        Ok(crates)
    }

    /// Whether the invariant holds.
    fn valid(&self) -> bool {
        !self.all.is_empty()
            && self.required.iter().all(|r| self.all.contains(r))
            && self.all.iter().enumerate().all(|(i, c)| !self.all[..i].contains(c))
    }

    /// Every student crate, in declaration order.
    pub fn all(&self) -> &[String] {
        &self.all
    }

    /// Whether a submission must hold `name`.
    pub fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }

    /// What a submission folder holds, for messages: "raft/ and optionally kvraft/".
    pub fn describe(&self) -> String {
        let folders = |v: Vec<&String>| v.iter().map(|c| format!("{c}/")).collect::<Vec<_>>().join(" and ");
        let required: Vec<&String> = self.all.iter().filter(|c| self.is_required(c)).collect();
        let optional: Vec<&String> = self.all.iter().filter(|c| !self.is_required(c)).collect();
        match (required.is_empty(), optional.is_empty()) {
            (false, true) => folders(required),
            (false, false) => format!("{} and optionally {}", folders(required), folders(optional)),
            (true, _) => format!("one or more of {}", folders(optional)),
        }
    }
}

/// Runs `labs --labs` and reads the student crates from it.
pub fn load(labs: &Path) -> Result<StudentCrates, CatalogueError> {
    catalogue::query(labs, "--labs", parse)
}

/// Parses `labs --labs`'s JSON into the student crates.
pub fn parse(json: &str) -> Result<StudentCrates, String> {
    let rows: Vec<LabRow> =
        serde_json::from_str(json.trim()).map_err(|e| format!("not the labs' declaration: {e}"))?;
    StudentCrates::from_labs(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`KIT_CRATES`] is `node` and every workspace crate it links, directly
    /// or through another (its path dependencies' closure, student crates
    /// aside): a crate added there and not here would be missing from the
    /// grading kit, and every submission's build would fail.
    #[test]
    fn the_kit_crates_are_what_node_links() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let read = |path: &std::path::Path| -> toml_edit::DocumentMut {
            std::fs::read_to_string(path).unwrap().parse().unwrap()
        };
        let workspace = read(&root.join("Cargo.toml"));
        let paths = workspace["workspace"]["dependencies"].as_table().unwrap();
        let is_local = |name: &str| paths.get(name).and_then(|d| d.get("path")).is_some();
        let students = ["raft", "kvraft"];
        let mut linked = vec!["node".to_string()];
        let mut i = 0;
        while i < linked.len() {
            let manifest = read(&root.join(&linked[i]).join("Cargo.toml"));
            if let Some(deps) = manifest.get("dependencies").and_then(|d| d.as_table()) {
                for (name, _) in deps.iter() {
                    if is_local(name) && !students.contains(&name) && !linked.iter().any(|l| l == name) {
                        linked.push(name.to_string());
                    }
                }
            }
            i += 1;
        }
        linked.sort();
        let mut kit: Vec<String> = KIT_CRATES.iter().map(|c| c.to_string()).collect();
        kit.sort();
        assert_eq!(kit, linked);
    }

    fn lab(id: &str, crates: &[&str]) -> LabRow {
        LabRow {
            id: id.into(),
            title: id.into(),
            crates: crates.iter().map(|c| c.to_string()).collect(),
            groups: vec![],
        }
    }

    #[test]
    fn the_union_in_order_and_the_crates_every_lab_builds_are_required() {
        let c =
            StudentCrates::from_labs(&[lab("raft", &["raft"]), lab("kvraft", &["raft", "kvraft"])]).unwrap();
        assert_eq!(c.all(), ["raft", "kvraft"]);
        assert!(c.is_required("raft") && !c.is_required("kvraft"));
        assert_eq!(c.describe(), "raft/ and optionally kvraft/");
        let one = StudentCrates::from_labs(&[lab("raft", &["raft"])]).unwrap();
        assert_eq!(one.describe(), "raft/");
        let apart = StudentCrates::from_labs(&[lab("a", &["a"]), lab("b", &["b"])]).unwrap();
        assert_eq!(apart.describe(), "one or more of a/ and b/");
    }

    #[test]
    fn a_bad_declaration_is_refused_naming_the_lab() {
        assert!(StudentCrates::from_labs(&[]).unwrap_err().contains("no lab"));
        assert!(StudentCrates::from_labs(&[lab("x", &[])]).unwrap_err().contains("\"x\" declares no"));
        for bad in ["../raft", "raft/src", "", ".", "-p"] {
            let e = StudentCrates::from_labs(&[lab("x", &[bad])]).unwrap_err();
            assert!(e.contains("not a plain folder name"), "{bad}: {e}");
        }
        assert!(StudentCrates::from_labs(&[lab("x", &["node"])]).unwrap_err().contains("kit's own"));
    }

    #[test]
    fn parses_what_labs_prints() {
        let json =
            r#"[{"id":"raft","title":"Lab 2: Raft","crates":["raft"],"groups":[{"id":"2A","title":"t"}]}]"#;
        assert_eq!(parse(json).unwrap().all(), ["raft"]);
        assert!(parse("[").unwrap_err().contains("not the labs' declaration"));
    }
}
