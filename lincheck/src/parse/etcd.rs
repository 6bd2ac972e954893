//! Jepsen etcd logs: one compare-and-set register.
//!
//! ```text
//! INFO  jepsen.util - 2    :invoke    :cas    [3 0]
//! INFO  jepsen.util - 2    :ok    :cas    [3 0]
//! ```
//!
//! Fields are separated by tabs (as in the public files) or runs of spaces; `[a b]` is one field.

use std::path::Path;

use super::{Events, LineError, ParseError, read};
use crate::history::{Event, EventKind, Operation};
use crate::models::register::{RegisterInput, RegisterOutput};

/// Reads an etcd log from `path`.
///
/// # Errors
///
/// As [`parse_etcd`], or if the file cannot be read.
pub fn read_etcd_file(path: &Path) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ParseError> {
    parse_etcd(&read(path)?, &path.display().to_string())
}

/// Parses an etcd log; `file` names it in errors. Blank lines are skipped.
///
/// `:info` operations stay pending to the end of the history with an
/// unknown outcome; a `:fail :read` returned with an unknown value; a
/// `:fail` write or compare-and-set definitely did not take effect.
///
/// # Errors
///
/// A malformed line, a return without an open call, a return of another
/// function than the open call's, or a second open call on one process.
pub fn parse_etcd(
    text: &str,
    file: &str,
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ParseError> {
    let mut events = Events::new(file);
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (event, f) = parse_line(line).map_err(|e| e.at(file, index + 1))?;
        events.push(index + 1, event, f)?;
    }
    events.finish()
}

type RegisterEvent = Event<RegisterInput, RegisterOutput>;

/// Parses one line into its event and the function's name (`:cas` …).
fn parse_line(line: &str) -> Result<(RegisterEvent, &str), LineError> {
    let fields = split_fields(line);
    let expect = |i: usize, want: &str| match fields.get(i) {
        Some(&got) if got == want => Ok(()),
        got => {
            Err(LineError::new(format!("`{want}` as field {}", i + 1), got.copied().unwrap_or("end of line")))
        }
    };
    expect(0, "INFO")?;
    expect(1, "jepsen.util")?;
    expect(2, "-")?;
    let [process, kind, f, value] = fields[3..] else {
        return Err(LineError::new("4 fields after `jepsen.util -`: process type f value", line));
    };
    let client = process.parse().map_err(|_| LineError::new("a process number", process))?;
    let input = || match f {
        ":read" => Ok(RegisterInput::Read),
        ":write" => Ok(RegisterInput::Write(integer(value)?)),
        ":cas" => {
            let (from, to) = pair(value)?;
            Ok(RegisterInput::Cas { from, to })
        }
        _ => Err(LineError::new(":read, :write or :cas", f)),
    };
    let kind = match (kind, f) {
        (":invoke", _) => EventKind::Call(input()?),
        (":info", ":read" | ":write" | ":cas") => EventKind::Indeterminate,
        (":ok", ":read") => EventKind::Return(Some(RegisterOutput::Read(optional_integer(value)?))),
        (":ok", ":write") => {
            integer(value)?;
            EventKind::Return(Some(RegisterOutput::Written))
        }
        (":ok", ":cas") => {
            pair(value)?;
            EventKind::Return(Some(RegisterOutput::CasOk))
        }
        (":fail", ":read") => EventKind::Return(None),
        (":fail", ":write") => EventKind::Return(Some(RegisterOutput::Failed)),
        (":fail", ":cas") => {
            pair(value)?;
            EventKind::Return(Some(RegisterOutput::CasFailed))
        }
        (":ok" | ":fail" | ":info", _) => {
            return Err(LineError::new(":read, :write or :cas", f));
        }
        _ => return Err(LineError::new(":invoke, :ok, :fail or :info", kind)),
    };
    Ok((Event { client, kind }, f))
}

/// Splits on runs of whitespace, keeping a bracketed `[a b]` as one field.
fn split_fields(line: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let end = if rest.starts_with('[') {
            rest.find(']').map_or(rest.len(), |i| i + 1)
        } else {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        };
        fields.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    fields
}

fn integer(text: &str) -> Result<i64, LineError> {
    text.parse().map_err(|_| LineError::new("an integer", text))
}

fn optional_integer(text: &str) -> Result<Option<i64>, LineError> {
    if text == "nil" { Ok(None) } else { integer(text).map(Some) }
}

/// Parses `[FROM TO]`.
fn pair(text: &str) -> Result<(i64, i64), LineError> {
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| LineError::new("[FROM TO]", text))?;
    let mut parts = inner.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) => Ok((integer(a)?, integer(b)?)),
        _ => Err(LineError::new("[FROM TO]", text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_stays_pending_and_fail_read_is_unknown() {
        let text = "INFO  jepsen.util - 1\t:invoke\t:write\t3\n\
                    INFO  jepsen.util - 2   :invoke   :read   nil\n\
                    INFO  jepsen.util - 1\t:info\t:write\t:timed-out\n\
                    INFO  jepsen.util - 2\t:fail\t:read\t:timed-out\n";
        let ops = parse_etcd(text, "t.log").unwrap();
        assert_eq!(ops[0].ret, None);
        assert_eq!(ops[0].output, None);
        assert_eq!(ops[1].ret, Some(3));
        assert_eq!(ops[1].output, None);
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\nINFO  jepsen.util - 1\t:ok\t:cas\t[1 x]\n";
        let error = parse_etcd(text, "t.log").unwrap_err().to_string();
        assert!(error.starts_with("t.log:2: expected an integer"), "{error}");
        let text = "INFO  jepsen.util - 1\t:ok\t:read\t3\n";
        let error = parse_etcd(text, "t.log").unwrap_err().to_string();
        assert!(error.contains("t.log:1: process 1 returns but has no open call"), "{error}");
    }
}
