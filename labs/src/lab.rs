//! The labs of the kit, declared once: each lab's student crates and its
//! graded groups. The catalogue's tests name their group from here (a unit
//! test holds them to it); `labs --labs` gives the table to the grader as
//! JSON ([`protocol::LabRow`]) and `labs --groups` to the Makefile (its
//! `test-<group>` targets and `make help`). Adding a lab starts here: see
//! docs/adding-a-lab.md.

use crate::case::TestCase;
use crate::catalogue;
use protocol::{GroupRow, LabRow};

/// One lab: what a student builds, and the groups that grade it.
pub struct Lab {
    /// Its name ("raft").
    pub id: &'static str,
    /// For people ("Lab 2: Raft").
    pub title: &'static str,
    /// The student crates its tests run: workspace folders a submission
    /// replaces, each built into `node`.
    pub crates: &'static [&'static str],
    /// Its graded groups, in the order they are taught.
    pub groups: &'static [Group],
}

/// One graded group: the tests whose ids end with its id.
pub struct Group {
    /// "2A".
    pub id: &'static str,
    /// What it tests ("leader election").
    pub title: &'static str,
    /// Its tests, in the order they run, each given this group's id
    /// (a table in [`crate::catalogue`]).
    pub cases: fn(&'static str) -> Vec<TestCase>,
}

/// Every lab, in the order they are taught.
pub const LABS: &[Lab] = &[
    Lab {
        id: "raft",
        title: "Lab 2: Raft",
        crates: &["raft"],
        groups: &[
            Group { id: "2A", title: "leader election", cases: catalogue::group_2a },
            Group { id: "2B", title: "log replication", cases: catalogue::group_2b },
            Group { id: "2C", title: "persistence", cases: catalogue::group_2c },
            Group { id: "2D", title: "snapshots", cases: catalogue::group_2d },
        ],
    },
    Lab {
        id: "kvraft",
        title: "Lab 3: fault-tolerant key/value service",
        crates: &["raft", "kvraft"],
        groups: &[
            Group { id: "3A", title: "linearizable key/value service", cases: catalogue::group_3a },
            Group { id: "3B", title: "key/value service with snapshots", cases: catalogue::group_3b },
        ],
    },
];

/// Every group of every lab, in order, with its lab.
pub fn groups() -> impl Iterator<Item = (&'static Lab, &'static Group)> {
    LABS.iter().flat_map(|lab| lab.groups.iter().map(move |g| (lab, g)))
}

/// Every graded test, in the order they run: each declared group's table
/// (in [`crate::catalogue`]), in the order the groups are declared.
pub fn tests() -> Vec<TestCase> {
    groups().flat_map(|(_, g)| (g.cases)(g.id)).collect()
}

impl Lab {
    /// The lab's row of `labs --labs`.
    pub fn row(&self) -> LabRow {
        LabRow {
            id: self.id.into(),
            title: self.title.into(),
            crates: self.crates.iter().map(|c| c.to_string()).collect(),
            groups: self.groups.iter().map(|g| GroupRow { id: g.id.into(), title: g.title.into() }).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_test_is_in_a_declared_group_and_every_group_has_tests() {
        let declared: HashSet<&str> = groups().map(|(_, g)| g.id).collect();
        assert_eq!(declared.len(), groups().count(), "a group id is declared twice");
        let tests = tests();
        for t in &tests {
            assert!(declared.contains(t.group), "{}: group {} is not declared in LABS", t.id, t.group);
            assert!(t.id.ends_with(t.group), "{}: its id does not end with its group {}", t.id, t.group);
        }
        for g in &declared {
            assert!(tests.iter().any(|t| t.group == *g), "group {g} has no test");
        }
    }

    #[test]
    fn the_catalogue_runs_the_groups_in_the_order_they_are_declared() {
        let order: Vec<&str> = groups().map(|(_, g)| g.id).collect();
        let mut seen: Vec<&str> = Vec::new();
        for t in tests() {
            if seen.last() != Some(&t.group) {
                assert!(!seen.contains(&t.group), "group {} is split in the catalogue", t.group);
                seen.push(t.group);
            }
        }
        assert_eq!(seen, order);
    }

    /// The Makefile's `test-<group>` targets and `make help` read the groups
    /// from this file's source with sed (`GROUP_LINE`), so that a fresh,
    /// unbuilt checkout lists them: each `Group` here must stay one line of
    /// that shape, and the Makefile must still read them so.
    #[test]
    fn the_makefile_reads_every_declared_group_from_this_file() {
        let makefile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Makefile")).unwrap();
        assert!(
            makefile.contains(r#"GROUP_LINE = ^ *(groups: &\[)?Group \{ id: "([A-Za-z0-9]+)", title: "([^"]*)", cases: [a-z0-9_:]+ \}(\],|,)?$$"#),
            "the Makefile no longer reads the groups as this test does"
        );
        let read: Vec<(String, String)> = include_str!("lab.rs")
            .lines()
            .filter_map(|line| {
                let line = line.trim_start();
                let line = line.strip_prefix("groups: &[").unwrap_or(line);
                let rest = line.strip_prefix("Group { id: \"")?;
                let (id, rest) = rest.split_once("\", title: \"")?;
                let (title, rest) = rest.split_once("\", cases: ")?;
                let cases = [" }],", " },", " }"].iter().find_map(|end| rest.strip_suffix(end))?;
                let plain = !id.is_empty()
                    && id.chars().all(|c| c.is_ascii_alphanumeric())
                    && !title.contains('"')
                    && cases
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':');
                plain.then(|| (id.to_string(), title.to_string()))
            })
            .collect();
        let declared: Vec<(String, String)> =
            groups().map(|(_, g)| (g.id.to_string(), g.title.to_string())).collect();
        assert_eq!(read, declared, "a Group of LABS is not one line the Makefile can read");
    }

    #[test]
    fn every_lab_builds_a_student_crate() {
        for lab in LABS {
            assert!(!lab.crates.is_empty() && !lab.groups.is_empty(), "{}", lab.id);
        }
    }

    /// Each declared student crate is a workspace crate with its skeleton in
    /// handout/ (which the handout swaps in and node's contract-docs test
    /// holds to it), and handout/ holds no skeleton of an undeclared crate.
    #[test]
    fn every_student_crate_has_its_skeleton_and_every_skeleton_is_declared() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let declared: HashSet<&str> = LABS.iter().flat_map(|lab| lab.crates.iter().copied()).collect();
        for krate in &declared {
            assert!(
                root.join(krate).join("Cargo.toml").is_file(),
                "student crate {krate}: no {krate}/Cargo.toml"
            );
        }
        let Ok(entries) = std::fs::read_dir(root.join("handout")) else {
            return; // a student's copy of the kit: its crates are the skeletons
        };
        let skeletons: HashSet<String> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("Cargo.toml").is_file())
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let declared: HashSet<String> = declared.iter().map(|c| c.to_string()).collect();
        assert_eq!(skeletons, declared, "the skeletons in handout/ are not the declared student crates");
    }
}
