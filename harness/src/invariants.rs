//! The checks that run on every event, not only at the end of a test.
//!
//! 1. At most one leader per term, over every observation.
//! 2. Every node applies the same command at the same index, across restarts.
//! 3. Applies arrive in order without gaps; a snapshot's content matches what
//!    was applied elsewhere, and is never older than what its node applied.
//! 4. An index once committed is never lost or changed (follows from 2 and 3:
//!    records survive restarts and every later apply is compared with them).
//!
//! The first violation is kept (and written to the timeline when it
//! happens); the cluster's verbs that wait or check report it, and every
//! test's end does.

use std::collections::BTreeMap;

/// Commands are shown in diagnoses as text when they are short UTF-8.
pub fn show(cmd: &[u8]) -> String {
    match std::str::from_utf8(cmd) {
        Ok(s) if s.len() <= 40 => format!("{s:?}"),
        Ok(s) => {
            format!("{:?}… ({} bytes)", &s[..s.char_indices().nth(37).map_or(s.len(), |(i, _)| i)], s.len())
        }
        Err(_) => format!("{} bytes {:02x?}…", cmd.len(), &cmd[..cmd.len().min(8)]),
    }
}

/// What the harness knows about every node's applies.
pub struct Invariants {
    /// Per node: index → command, as applied (kept across restarts).
    logs: Vec<BTreeMap<u64, Vec<u8>>>,
    /// Per node: the last index applied by the current incarnation.
    // Invariant: last_applied[i] == 0 or logs[i] holds 1..=last_applied[i].
    last_applied: Vec<u64>,
    /// term → the node seen leading it.
    leaders: BTreeMap<u64, usize>,
    /// Per node: snapshots sent to it while running (not restored at start).
    installed: Vec<u64>,
    /// Per node: the index of the snapshot the current process restored at
    /// its start, until Raft delivers it (or a newer one) on the apply channel.
    undelivered: Vec<Option<u64>>,
    /// index → the term of the entry applied there, and the node that
    /// applied it first (as `ApplyMsg::Command` gave it).
    terms: BTreeMap<u64, (u64, usize)>,
    /// Highest index applied anywhere.
    max_index: u64,
    violation: Option<String>,
}

impl Invariants {
    /// For `n` nodes.
    pub fn new(n: usize) -> Invariants {
        Invariants {
            logs: vec![BTreeMap::new(); n],
            last_applied: vec![0; n],
            leaders: BTreeMap::new(),
            installed: vec![0; n],
            undelivered: vec![None; n],
            terms: BTreeMap::new(),
            max_index: 0,
            violation: None,
        }
    }

    /// The first violation seen, if any.
    pub fn violation(&self) -> Option<&str> {
        self.violation.as_deref()
    }

    /// Records a violation (only the first is kept).
    pub fn violate(&mut self, what: String) {
        if self.violation.is_none() {
            self.violation = Some(what);
        }
    }

    /// Highest index applied by any node.
    pub fn max_index(&self) -> u64 {
        self.max_index
    }

    /// A node restarted: its next apply starts again from index 1 (or after
    /// the snapshot it restores).
    pub fn restarted(&mut self, node: usize) {
        self.last_applied[node] = 0;
        self.undelivered[node] = None;
    }

    /// `node` said it leads `term`; `how` says where the tester heard it.
    pub fn leader_seen(&mut self, node: usize, term: u64, how: &str) {
        match self.leaders.get(&term) {
            Some(&other) if other != node => self.violate(format!(
                "two leaders in term {term}: node {other} and node {node} both claimed it (node {node} {how})"
            )),
            Some(_) => {}
            None => {
                self.leaders.insert(term, node);
            }
        }
    }

    /// The terms `node` was seen leading (reported by it or polled).
    pub fn terms_led(&self, node: usize) -> Vec<u64> {
        self.leaders.iter().filter(|&(_, &n)| n == node).map(|(&t, _)| t).collect()
    }

    /// `node` applied `command`, of `term`, at `index`.
    pub fn applied(&mut self, node: usize, index: u64, term: u64, command: &[u8]) {
        if let Some(saved) = self.undelivered[node] {
            return self.violate(format!(
                "node {node} restarted from its saved snapshot (index {saved}) and applied index {index} (term {term}) \
                 before delivering that snapshot: after a restart Raft delivers the saved snapshot first, as \
                 ApplyMsg::Snapshot, then only the entries after it"
            ));
        }
        let expected = self.last_applied[node] + 1;
        if index != expected {
            let why = if index <= self.last_applied[node] {
                "again or backwards: applied indices must strictly increase within a process"
            } else {
                "with a gap: every index is applied, in order"
            };
            return self.violate(format!(
                "node {node} applied index {index} (term {term}) {why}; expected index {expected}"
            ));
        }
        self.compare(node, index, command, "applied");
        match self.terms.get(&index) {
            Some(&(t, by)) if t != term => {
                return self.violate(format!(
                    "commit index={index}: node {node} applied it as an entry of term {term}, node {by} as one of \
                     term {t}: a committed entry has one term everywhere (Log Matching)"
                ));
            }
            Some(_) => {}
            None => {
                self.terms.insert(index, (term, node));
            }
        }
        self.logs[node].insert(index, command.to_vec());
        self.last_applied[node] = index;
        self.max_index = self.max_index.max(index);
    }

    /// Raft handed `node`'s service a snapshot through `index` labelled
    /// `term` (`ApplyMsg::Snapshot`): the term must be that of the entry
    /// committed at `index` (Figure 13's lastIncludedTerm), as applied
    /// somewhere. A peer that records another term at `snapshot(index, …)`
    /// — its current term, its last entry's, its previous snapshot's —
    /// sends it on in InstallSnapshot and delivers it after a restart.
    pub fn snapshot_term(&mut self, node: usize, index: u64, term: u64) {
        if let Some(&(t, by)) = self.terms.get(&index)
            && t != term
        {
            self.violate(format!(
                "node {node} was handed a snapshot through index {index} labelled term {term}, but the entry \
                 committed at index {index} is of term {t} (node {by} applied it): a snapshot's last included \
                 term is the term of the entry at its index, not the current term or the last entry's"
            ));
        }
    }

    /// `node` installed a snapshot holding `commands` for indexes 1..=index.
    pub fn snapshot(&mut self, node: usize, index: u64, commands: &[Vec<u8>], restored: bool) {
        if commands.len() as u64 != index {
            return self.violate(format!(
                "node {node}'s snapshot at index {index} holds {} commands, expected {index}",
                commands.len()
            ));
        }
        if !restored && index < self.last_applied[node] {
            return self.violate(format!(
                "node {node} was sent a snapshot at index {index}, older than the index {} it already applied",
                self.last_applied[node]
            ));
        }
        for (k, cmd) in commands.iter().enumerate() {
            let at = k as u64 + 1;
            self.compare(node, at, cmd, "holds in its snapshot");
            self.logs[node].insert(at, cmd.clone());
        }
        self.last_applied[node] = index;
        self.max_index = self.max_index.max(index);
        if restored {
            self.undelivered[node] = Some(index);
        } else {
            // The saved snapshot delivered after a restart is no install.
            if self.undelivered[node] != Some(index) {
                self.installed[node] += 1;
            }
            if self.undelivered[node].is_some_and(|saved| index >= saved) {
                self.undelivered[node] = None;
            }
        }
    }

    /// How many snapshots `node` installed while running (sent by a leader,
    /// not restored at a start), in all its incarnations.
    pub fn snapshots_installed(&self, node: usize) -> u64 {
        self.installed[node]
    }

    fn compare(&mut self, node: usize, index: u64, command: &[u8], verb: &str) {
        for (other, log) in self.logs.iter().enumerate() {
            if let Some(theirs) = log.get(&index)
                && theirs.as_slice() != command
            {
                let what = if other == node { "before a restart" } else { "" };
                let msg = format!(
                    "commit index={index}: node {node} {verb} {} but node {other} applied {} {what}",
                    show(command),
                    show(theirs)
                );
                return self.violate(msg.trim_end().to_string());
            }
        }
    }

    /// How many nodes applied `index`, and the command if any did (the
    /// applies themselves are compared as they arrive).
    pub fn n_committed(&mut self, index: u64) -> (usize, Option<Vec<u8>>) {
        let mut count = 0;
        let mut cmd: Option<Vec<u8>> = None;
        for log in &self.logs {
            if let Some(c) = log.get(&index) {
                count += 1;
                cmd.get_or_insert_with(|| c.clone());
            }
        }
        (count, cmd)
    }

    /// Per node, whether it applied `index` (even in an earlier incarnation).
    pub fn has_applied(&self, node: usize, index: u64) -> bool {
        self.logs[node].contains_key(&index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_labelled_with_another_term_than_its_entry_is_a_violation() {
        let mut inv = Invariants::new(2);
        inv.applied(0, 1, 1, b"a");
        inv.applied(0, 2, 3, b"b");
        inv.snapshot_term(1, 2, 3);
        assert_eq!(inv.violation(), None, "the entry's own term");
        inv.snapshot_term(1, 7, 9);
        assert_eq!(inv.violation(), None, "an index no one applied: nothing to compare with");
        inv.snapshot_term(1, 2, 4);
        let v = inv.violation().unwrap();
        assert!(v.contains("through index 2 labelled term 4") && v.contains("is of term 3 (node 0"), "{v}");
    }

    #[test]
    fn one_entry_applied_with_two_terms_is_a_violation() {
        let mut inv = Invariants::new(2);
        inv.applied(0, 1, 1, b"a");
        inv.applied(1, 1, 2, b"a");
        let v = inv.violation().unwrap();
        assert!(v.contains("node 1 applied it as an entry of term 2, node 0 as one of term 1"), "{v}");
    }

    #[test]
    fn two_leaders_in_one_term_is_a_violation() {
        let mut inv = Invariants::new(3);
        inv.leader_seen(0, 1, "");
        inv.leader_seen(0, 1, "");
        inv.leader_seen(1, 2, "");
        assert!(inv.violation().is_none());
        assert_eq!(inv.terms_led(0), vec![1]);
        inv.leader_seen(2, 2, "");
        assert!(inv.violation().unwrap().contains("two leaders in term 2"), "{:?}", inv.violation());
    }

    #[test]
    fn different_commands_at_one_index_and_gaps_are_violations() {
        let mut inv = Invariants::new(2);
        inv.applied(0, 1, 1, b"a");
        inv.applied(1, 1, 1, b"a");
        assert!(inv.violation().is_none());
        inv.applied(1, 2, 1, b"b");
        inv.applied(0, 2, 1, b"c");
        assert!(inv.violation().unwrap().contains("commit index=2"), "{:?}", inv.violation());
        let mut inv = Invariants::new(1);
        inv.applied(0, 2, 1, b"x");
        assert!(inv.violation().unwrap().contains("with a gap"), "{:?}", inv.violation());
        let mut inv = Invariants::new(1);
        inv.applied(0, 1, 1, b"a");
        inv.applied(0, 2, 1, b"b");
        inv.applied(0, 2, 1, b"b");
        assert!(inv.violation().unwrap().contains("strictly increase"), "{:?}", inv.violation());
    }

    #[test]
    fn a_restarted_node_must_reapply_the_same_commands() {
        let mut inv = Invariants::new(1);
        inv.applied(0, 1, 1, b"a");
        inv.restarted(0);
        inv.applied(0, 1, 1, b"a");
        assert!(inv.violation().is_none());
        inv.restarted(0);
        inv.applied(0, 1, 1, b"z");
        assert!(inv.violation().unwrap().contains("before a restart"), "{:?}", inv.violation());
    }

    #[test]
    fn snapshots_are_checked_against_applies_and_must_not_go_back() {
        let mut inv = Invariants::new(2);
        for (i, c) in [b"a", b"b", b"c"].iter().enumerate() {
            inv.applied(0, i as u64 + 1, 1, *c);
        }
        inv.snapshot(1, 2, &[b"a".to_vec(), b"b".to_vec()], false);
        assert!(inv.violation().is_none());
        inv.restarted(0);
        inv.snapshot(0, 2, &[b"a".to_vec(), b"b".to_vec()], true);
        assert_eq!(
            (inv.snapshots_installed(0), inv.snapshots_installed(1)),
            (0, 1),
            "a restore is no install"
        );
        inv.applied(1, 3, 1, b"c");
        inv.snapshot(1, 2, &[b"a".to_vec(), b"b".to_vec()], false);
        assert!(inv.violation().unwrap().contains("older than"), "{:?}", inv.violation());
        let mut inv = Invariants::new(2);
        inv.applied(0, 1, 1, b"a");
        inv.snapshot(1, 1, &[b"q".to_vec()], false);
        assert!(inv.violation().unwrap().contains("snapshot"), "{:?}", inv.violation());
    }

    #[test]
    fn after_a_restart_the_saved_snapshot_comes_before_any_entry() {
        let snap = [b"a".to_vec(), b"b".to_vec()];
        let mut inv = Invariants::new(1);
        inv.snapshot(0, 2, &snap, true);
        inv.snapshot(0, 2, &snap, false);
        inv.applied(0, 3, 1, b"c");
        assert!(inv.violation().is_none(), "{:?}", inv.violation());
        assert_eq!(inv.snapshots_installed(0), 0, "the saved snapshot, delivered again, is no install");
        let mut inv = Invariants::new(1);
        inv.snapshot(0, 2, &snap, true);
        inv.applied(0, 3, 1, b"c");
        let v = inv.violation().unwrap_or_default().to_string();
        assert!(v.contains("restarted from its saved snapshot (index 2) and applied index 3"), "{v}");
    }
}
