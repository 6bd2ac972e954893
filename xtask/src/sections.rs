//! The failure sections of a lab run's output (libtest's format): a
//! `---- Name ----` line, the failure's report, up to the next section or
//! the `failures:` summary. Against the skeletons each must quote the
//! node's panic, `node N panicked: not yet implemented: Type::method`.

use regex::Regex;
use std::sync::LazyLock;

static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^---- ([A-Za-z0-9]+) ----$").expect("a valid pattern"));

static NOT_YET_IMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"node [0-9]+ panicked: not yet implemented: [A-Za-z]+::[a-z_]+").expect("a valid pattern")
});

/// What the failure sections of `run` (a lab run's output) say.
#[derive(Debug, PartialEq, Eq)]
pub struct Failures {
    /// How many sections there are.
    pub sections: usize,
    /// The tests whose section does not quote the node's panic, in order.
    pub unclear: Vec<String>,
}

/// Reads the failure sections of `run`.
pub fn failures(run: &str) -> Failures {
    let mut sections = 0;
    let mut unclear = Vec::new();
    // The section being read, and whether it quoted the panic so far.
    let mut open: Option<(&str, bool)> = None;
    let mut close = |open: Option<(&str, bool)>| {
        if let Some((name, false)) = open {
            unclear.push(name.to_string());
        }
    };
    for line in run.lines() {
        if let Some(c) = HEADER.captures(line) {
            close(open.take());
            sections += 1;
            open = Some((c.get(1).map_or("", |m| m.as_str()), false));
        } else if line == "failures:" {
            close(open.take());
        } else if let Some((_, quoted)) = &mut open {
            *quoted |= NOT_YET_IMPLEMENTED.is_match(line);
        }
    }
    close(open);
    Failures { sections, unclear }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "\
running 3 tests
test A2A ... FAILED
failures:

---- A2A ----
node 1 panicked: not yet implemented: Raft::new
at node.log

---- B2A ----
the cluster did not start
node 2 panicked: todo

---- C2B ----
  node 0 panicked: not yet implemented: Raft::start_agreement (see log)

failures:
    A2A
    B2A
    C2B

test result: FAILED. 0 passed; 3 failed
";

    #[test]
    fn a_section_without_the_quote_is_named() {
        assert_eq!(failures(RUN), Failures { sections: 3, unclear: vec!["B2A".into()] });
    }

    #[test]
    fn the_quote_after_the_summary_does_not_count() {
        let run = "---- A2A ----\nno quote\nfailures:\nnode 1 panicked: not yet implemented: Raft::new\n";
        assert_eq!(failures(run), Failures { sections: 1, unclear: vec!["A2A".into()] });
    }

    #[test]
    fn the_last_section_is_closed_at_the_end() {
        assert_eq!(failures("---- Z3B ----\nnothing"), Failures { sections: 1, unclear: vec!["Z3B".into()] });
        let run = "---- Z3B ----\nnode 4 panicked: not yet implemented: KvServer::get";
        assert_eq!(failures(run), Failures { sections: 1, unclear: vec![] });
    }

    #[test]
    fn a_header_needs_its_exact_shape() {
        assert_eq!(failures("---- Not a header ----\n").sections, 0);
        assert_eq!(failures("----  A2A ----\n").sections, 0);
        assert_eq!(failures("no failures\n"), Failures { sections: 0, unclear: vec![] });
    }

    #[test]
    fn the_panic_must_name_a_type_and_method() {
        let run = "---- A2A ----\nnode 1 panicked: not yet implemented\n";
        assert_eq!(failures(run).unclear, ["A2A"]);
    }
}
