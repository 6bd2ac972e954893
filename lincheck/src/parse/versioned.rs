//! Versioned KV histories: one EDN map per line, in the family of the KV
//! format, fields in any order after `:process`, `:type` and `:f`:
//!
//! ```text
//! {:process 0, :type :invoke, :f :get, :key "k"}
//! {:process 0, :type :ok, :f :get, :key "k", :value "x", :version 3}
//! {:process 0, :type :fail, :f :get, :key "k", :error :no-key}
//! {:process 1, :type :invoke, :f :put, :key "k", :value "y", :version 3}
//! {:process 1, :type :ok, :f :put, :key "k"}
//! {:process 1, :type :fail, :f :put, :key "k", :error :version}
//! {:process 1, :type :info, :f :put, :key "k", :error :maybe}
//! ```
//!
//! `:fail` carries the error the clerk was told (`:version` is `ErrVersion`,
//! `:no-key` is `ErrNoKey`); `:info` (`ErrMaybe`, or a clerk that gave up)
//! leaves the operation pending to the end with an unknown outcome.

use std::collections::HashMap;
use std::path::Path;

use super::{LineError, ParseError, events_by_line, read};
use crate::history::{Event, EventKind, Operation};
use crate::models::versioned::{VersionedInput, VersionedOp, VersionedOutput};

/// Reads a versioned KV history from `path`.
///
/// # Errors
///
/// As [`parse_versioned`], or if the file cannot be read.
pub fn read_versioned_file(
    path: &Path,
) -> Result<Vec<Operation<VersionedInput, VersionedOutput>>, ParseError> {
    parse_versioned(&read(path)?, &path.display().to_string())
}

/// Parses a versioned KV history; `file` names it in errors. Blank lines
/// are skipped.
///
/// # Errors
///
/// A malformed line (an unknown field, a field given twice or missing, a
/// value of the wrong kind), a return without an open call, a return for
/// another function or key than the open call's, or a second open call on
/// one process.
pub fn parse_versioned(
    text: &str,
    file: &str,
) -> Result<Vec<Operation<VersionedInput, VersionedOutput>>, ParseError> {
    events_by_line(text, file, parse_line)
}

/// One EDN value as these files use them.
#[derive(Debug, PartialEq)]
enum Value<'a> {
    Integer(u64),
    Keyword(&'a str),
    Str(String),
}

/// The fields of one line's map, by name (without the colon).
struct Fields<'a> {
    map: HashMap<&'a str, Value<'a>>,
}

impl<'a> Fields<'a> {
    fn parse(line: &'a str) -> Result<Fields<'a>, LineError> {
        let mut rest = line.trim().strip_prefix('{').ok_or_else(|| LineError::new("`{`", line.trim()))?;
        let mut map = HashMap::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('}') {
                if !after.trim().is_empty() {
                    return Err(LineError::new("end of line after `}`", after.trim()));
                }
                return Ok(Fields { map });
            }
            let body =
                rest.strip_prefix(':').ok_or_else(|| LineError::new("a field name such as :key", rest))?;
            let end =
                body.find(|c: char| c.is_whitespace()).ok_or_else(|| LineError::new("a value", body))?;
            let (name, after) = body.split_at(end);
            let (value, after) = value(after.trim_start())?;
            if map.insert(name, value).is_some() {
                return Err(LineError::new(format!("one :{name}"), "it twice"));
            }
            rest = after.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }

    fn take(&mut self, name: &str) -> Result<Value<'a>, LineError> {
        self.map.remove(name).ok_or_else(|| LineError::new(format!("a field :{name}"), "none"))
    }

    fn integer(&mut self, name: &str) -> Result<u64, LineError> {
        match self.take(name)? {
            Value::Integer(n) => Ok(n),
            other => Err(LineError::new(format!("a number after :{name}"), format!("{other:?}"))),
        }
    }

    fn keyword(&mut self, name: &str) -> Result<&'a str, LineError> {
        match self.take(name)? {
            Value::Keyword(k) => Ok(k),
            other => Err(LineError::new(format!("a keyword after :{name}"), format!("{other:?}"))),
        }
    }

    fn string(&mut self, name: &str) -> Result<String, LineError> {
        match self.take(name)? {
            Value::Str(s) => Ok(s),
            other => Err(LineError::new(format!("a string after :{name}"), format!("{other:?}"))),
        }
    }

    /// No field left that the line's kind does not use.
    fn done(self) -> Result<(), LineError> {
        let mut left: Vec<&str> = self.map.into_keys().collect();
        left.sort_unstable();
        match left.first() {
            None => Ok(()),
            Some(name) => Err(LineError::new("no other field", format!(":{name}"))),
        }
    }
}

/// One value at the start of `text`, and what follows it.
fn value(text: &str) -> Result<(Value<'_>, &str), LineError> {
    if let Some(body) = text.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Ok((Value::Str(out), &body[i + 1..])),
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, c @ ('"' | '\\'))) => out.push(c),
                    _ => return Err(LineError::new("an escape \\n, \\t, \\\" or \\\\", &body[i..])),
                },
                c => out.push(c),
            }
        }
        return Err(LineError::new("a closing `\"`", text));
    }
    let end = text.find([',', '}', ' ']).unwrap_or(text.len());
    let (token, after) = text.split_at(end);
    if let Some(k) = token.strip_prefix(':').filter(|k| !k.is_empty()) {
        return Ok((Value::Keyword(k), after));
    }
    token
        .parse()
        .map(|n| (Value::Integer(n), after))
        .map_err(|_| LineError::new("a string, keyword or number", token))
}

/// Parses one line into its event and `f key` (to match return to call).
fn parse_line(line: &str) -> Result<(Event<VersionedInput, VersionedOutput>, String), LineError> {
    let mut fields = Fields::parse(line)?;
    let client = fields.integer("process")?;
    let kind = fields.keyword("type")?;
    let f = fields.keyword("f")?;
    let key = fields.string("key")?;
    let get = match f {
        "get" => true,
        "put" => false,
        other => return Err(LineError::new(":get or :put after :f", format!(":{other}"))),
    };
    let kind = match (kind, get) {
        ("invoke", true) => EventKind::Call(VersionedInput { key: key.clone(), op: VersionedOp::Get }),
        ("invoke", false) => {
            let op = VersionedOp::Put { value: fields.string("value")?, version: fields.integer("version")? };
            EventKind::Call(VersionedInput { key: key.clone(), op })
        }
        ("ok", true) => {
            let (value, version) = (fields.string("value")?, fields.integer("version")?);
            if version == 0 {
                return Err(LineError::new("a version of 1 or more in a get's answer", "0"));
            }
            EventKind::Return(Some(VersionedOutput::Value { value, version }))
        }
        ("ok", false) => EventKind::Return(Some(VersionedOutput::Ok)),
        ("fail", _) => match (fields.keyword("error")?, get) {
            ("no-key", _) => EventKind::Return(Some(VersionedOutput::ErrNoKey)),
            ("version", false) => EventKind::Return(Some(VersionedOutput::ErrVersion)),
            (other, _) => {
                let expected = if get { ":no-key after :error" } else { ":version or :no-key after :error" };
                return Err(LineError::new(expected, format!(":{other}")));
            }
        },
        ("info", _) => {
            // `:error :maybe` (ErrMaybe) or none (a clerk that gave up).
            if let Some(error) = fields.map.remove("error")
                && error != Value::Keyword("maybe")
            {
                return Err(LineError::new(":maybe after :error in an :info line", format!("{error:?}")));
            }
            EventKind::Indeterminate
        }
        (other, _) => {
            return Err(LineError::new(":invoke, :ok, :fail or :info after :type", format!(":{other}")));
        }
    };
    fields.done()?;
    Ok((Event { client: client as usize, kind }, format!("{f}({key:?})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_line() {
        let text = r#"{:process 0, :type :invoke, :f :put, :key "k", :value "a", :version 0}
{:process 0, :type :ok, :f :put, :key "k"}
{:process 1, :type :invoke, :f :get, :key "k"}
{:process 1, :type :ok, :f :get, :key "k", :value "a", :version 1}
{:process 2, :type :invoke, :f :put, :key "k", :value "b \"q\"", :version 0}
{:process 2, :type :fail, :f :put, :key "k", :error :version}
{:process 3, :type :invoke, :f :get, :key "j"}
{:process 3, :type :fail, :f :get, :key "j", :error :no-key}
{:process 4, :type :invoke, :f :put, :key "k", :version 1, :value "c"}
{:process 4, :type :info, :f :put, :key "k", :error :maybe}"#;
        let ops = parse_versioned(text, "t.edn").unwrap();
        assert_eq!(ops.len(), 5);
        assert_eq!(ops[0].output, Some(VersionedOutput::Ok));
        assert_eq!(ops[1].output, Some(VersionedOutput::Value { value: "a".into(), version: 1 }));
        assert_eq!(ops[2].input.op, VersionedOp::Put { value: "b \"q\"".into(), version: 0 });
        assert_eq!(ops[2].output, Some(VersionedOutput::ErrVersion));
        assert_eq!(ops[3].output, Some(VersionedOutput::ErrNoKey));
        assert_eq!((ops[4].output.as_ref(), ops[4].ret), (None, None), "ErrMaybe stays pending");
    }

    #[test]
    fn names_the_line_and_what_is_wrong() {
        let cases = [
            (r#"{:process 0, :type :invoke, :f :put, :key "k", :value "a"}"#, "a field :version"),
            (r#"{:process 0, :type :invoke, :f :get, :key "k", :value "a"}"#, "no other field"),
            (r#"{:process 0, :type :invoke, :f :cas, :key "k"}"#, ":get or :put"),
            (r#"{:process 0, :type :invoke, :f :get, :key "k", :key "j"}"#, "one :key"),
            (
                r#"{:process 0, :type :ok, :f :get, :key "k", :value "a", :version 0}"#,
                "a version of 1 or more",
            ),
            (r#"{:process 0, :type :fail, :f :get, :key "k", :error :version}"#, ":no-key after :error"),
            (r#"{:process 0, :type :invoke, :f :get, :key "k} "#, "closing"),
            (r#"{:process x, :type :invoke, :f :get, :key "k"}"#, "a string, keyword or number"),
        ];
        for (line, expected) in cases {
            let text = format!("\n{line}");
            let err = parse_versioned(&text, "h.edn").unwrap_err().to_string();
            assert!(err.starts_with("h.edn:2: "), "{line}: {err}");
            assert!(err.contains(expected), "{line}: {err} (expected to mention {expected})");
        }
    }

    #[test]
    fn a_return_must_match_its_call() {
        let text = "{:process 0, :type :invoke, :f :get, :key \"k\"}\n\
                    {:process 0, :type :ok, :f :put, :key \"k\"}";
        let err = parse_versioned(text, "h.edn").unwrap_err().to_string();
        assert!(err.contains("h.edn:2:") && err.contains("line 1"), "{err}");
    }
}
