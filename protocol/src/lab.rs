//! The labs of the kit, as `labs --labs` gives them (a JSON array of
//! [`LabRow`]): what a student builds for each, and its graded groups.

use serde::{Deserialize, Serialize};

/// One lab: its student crates and its groups, in the order they are taught.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LabRow {
    /// The lab's name ("raft").
    pub id: String,
    /// For people ("Lab 2: Raft").
    pub title: String,
    /// The student crates its tests run, each a workspace folder a
    /// submission replaces (["raft", "kvraft"]).
    pub crates: Vec<String>,
    /// Its graded groups, in order.
    pub groups: Vec<GroupRow>,
}

/// One graded group of a lab.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct GroupRow {
    /// The group's id, the suffix of its tests' ids ("2A").
    pub id: String,
    /// What it tests ("leader election").
    pub title: String,
}
