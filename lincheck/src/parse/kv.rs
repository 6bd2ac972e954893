//! KV histories: one Jepsen-style EDN map per line, fields in this order:
//!
//! ```text
//! {:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
//! {:process 0, :type :ok, :f :get, :key "5", :value ""}
//! ```

use std::path::Path;

use super::{LineError, ParseError, events_by_line, read};
use crate::history::{Event, EventKind, Operation};
use crate::models::kv::{KvInput, KvOp, KvOutput};

/// Reads a KV history from `path`.
///
/// # Errors
///
/// As [`parse_kv`], or if the file cannot be read.
pub fn read_kv_file(path: &Path) -> Result<Vec<Operation<KvInput, KvOutput>>, ParseError> {
    parse_kv(&read(path)?, &path.display().to_string())
}

/// Parses a KV history; `file` names it in errors. Blank lines are skipped.
/// `:info` operations stay pending to the end with an unknown outcome.
///
/// # Errors
///
/// A malformed line (including `:fail`, which these histories never hold),
/// a return without an open call, a return for another function or key than
/// the open call's, or a second open call on one process.
pub fn parse_kv(text: &str, file: &str) -> Result<Vec<Operation<KvInput, KvOutput>>, ParseError> {
    events_by_line(text, file, parse_line)
}

/// One EDN value as these files use them.
#[derive(Debug, PartialEq)]
enum Value<'a> {
    Nil,
    Integer(u64),
    Keyword(&'a str),
    Str(&'a str),
}

/// Parses one line into its event and `f key` (to match return to call).
fn parse_line(line: &str) -> Result<(Event<KvInput, KvOutput>, String), LineError> {
    let mut cursor = Cursor { rest: line.trim() };
    cursor.expect("{")?;
    let process = cursor.field(":process", true)?;
    let kind = cursor.field(":type", true)?;
    let f = cursor.field(":f", true)?;
    let key = cursor.field(":key", true)?;
    let value = cursor.field(":value", false)?;
    cursor.expect("}")?;
    if !cursor.rest.is_empty() {
        return Err(LineError::new("end of line after `}`", cursor.rest));
    }

    let Value::Integer(client) = process else {
        return Err(LineError::new("a process number after :process", format!("{process:?}")));
    };
    let op = match f {
        Value::Keyword("get") => KvOp::Get,
        Value::Keyword("put") => KvOp::Put,
        Value::Keyword("append") => KvOp::Append,
        other => return Err(LineError::new(":get, :put or :append after :f", format!("{other:?}"))),
    };
    let Value::Str(key) = key else {
        return Err(LineError::new("a string after :key", format!("{key:?}")));
    };
    let string = |what: &str| match value {
        Value::Str(s) => Ok(s.to_string()),
        other => Err(LineError::new(format!("a string after :value ({what})"), format!("{other:?}"))),
    };
    let kind = match kind {
        Value::Keyword("invoke") => {
            let value = if op == KvOp::Get { String::new() } else { string("the argument")? };
            EventKind::Call(KvInput { op, key: key.to_string(), value })
        }
        Value::Keyword("ok") if op == KvOp::Get => {
            EventKind::Return(Some(KvOutput { value: string("the value read")? }))
        }
        Value::Keyword("ok") => EventKind::Return(Some(KvOutput { value: String::new() })),
        Value::Keyword("info") => EventKind::Indeterminate,
        other => return Err(LineError::new(":invoke, :ok or :info after :type", format!("{other:?}"))),
    };
    let what = format!("{op:?}({key:?})").to_lowercase();
    Ok((Event { client: client as usize, kind }, what))
}

/// A position in a line being parsed.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn expect(&mut self, token: &str) -> Result<(), LineError> {
        self.rest = self.rest.trim_start();
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                Ok(())
            }
            None => Err(LineError::new(format!("`{token}`"), self.rest)),
        }
    }

    /// Parses `name value` and, unless `last`, the comma after it.
    fn field(&mut self, name: &str, comma: bool) -> Result<Value<'a>, LineError> {
        self.expect(name)?;
        self.rest = self.rest.trim_start();
        let value = self.value().ok_or_else(|| LineError::new(format!("a value after {name}"), self.rest))?;
        if comma {
            self.expect(",")?;
        }
        Ok(value)
    }

    fn value(&mut self) -> Option<Value<'a>> {
        let rest = self.rest;
        if let Some(body) = rest.strip_prefix('"') {
            let end = body.find('"')?;
            self.rest = &body[end + 1..];
            return Some(Value::Str(&body[..end]));
        }
        let end = rest.find([',', '}', ' ']).unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        self.rest = after;
        match token {
            "nil" => Some(Value::Nil),
            _ if token.starts_with(':') && token.len() > 1 => Some(Value::Keyword(&token[1..])),
            _ => token.parse().ok().map(Value::Integer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_get_and_an_append() {
        let text = r#"{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "0", :value nil}
{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :ok, :f :get, :key "0", :value "x 0 0 y"}"#;
        let ops = parse_kv(text, "t.txt").unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].input.value, "x 0 0 y");
        assert_eq!(ops[1].output.as_ref().unwrap().value, "x 0 0 y");
        assert_eq!((ops[1].call, ops[1].ret), (1, Some(3)));
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = "{:process 0, :type :invoke, :f :get, :key \"0\", :value nil}\n\
                    {:process 0, :type :ok, :f :get, :kee \"0\", :value \"\"}";
        let error = parse_kv(text, "t.txt").unwrap_err().to_string();
        assert!(error.starts_with("t.txt:2: expected `:key`"), "{error}");
        let text = "{:process 0, :type :invoke, :f :get, :key \"0\", :value nil}\n\
                    {:process 0, :type :invoke, :f :get, :key \"1\", :value nil}";
        let error = parse_kv(text, "t.txt").unwrap_err().to_string();
        assert!(error.contains("t.txt:2: process 0 calls again while its call on line 1"), "{error}");
    }
}
