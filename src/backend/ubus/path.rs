//! `path` into a ubus JSON answer (`interface/[interface=wan]/ipv4-address/0/address`):
//! parsing it into steps, following them, and scalars and nested fields as text.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{MAX_FLAT_ELEMENTS, MAX_VAR_DEPTH};

/// One step of a `path` (`interface/[interface=wan]/ipv4-address/0/address`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// A member of an object.
    Member(&'a str),
    /// An element of an array by position (0-based).
    Index(usize),
    /// The first element of an array whose member `.0` is the string or number `.1`.
    Select(&'a str, &'a str),
    /// Every member or element: the rest of the path is tried on each, first match wins.
    Any,
}

/// Splits a path into steps; `None` when a step is malformed.
pub fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s == "*" {
                Some(Step::Any)
            } else if let Some(inner) = s.strip_prefix('[') {
                let (k, v) = inner.strip_suffix(']')?.split_once('=')?;
                Some(Step::Select(k, v))
            } else if let Ok(i) = s.parse::<usize>() {
                Some(Step::Index(i))
            } else {
                Some(Step::Member(s))
            }
        })
        .collect()
}

/// Follows a path into a JSON value.
pub fn follow<'v>(mut v: &'v Value, path: &[Step<'_>]) -> Option<&'v Value> {
    for (n, step) in path.iter().enumerate() {
        v = match step {
            Step::Any => {
                let rest = path.get(n + 1..).unwrap_or_default();
                return match v {
                    Value::Object(m) => m.values().find_map(|x| follow(x, rest)),
                    Value::Array(a) => a.iter().find_map(|x| follow(x, rest)),
                    _ => None,
                };
            }
            Step::Member(m) => v.get(*m)?,
            Step::Index(i) => v.get(*i)?,
            Step::Select(k, want) => v.as_array()?.iter().find(|e| {
                // `[config.mode=sta]`: a member of a member.
                let member = k.split('.').try_fold(*e, |v, m| v.get(m));
                member.and_then(scalar).as_deref() == Some(*want)
            })?,
        };
    }
    Some(v)
}

/// A scalar in TR-106 lexical form (numbers as written, booleans `true`/`false`); `None` for
/// objects, arrays and null.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What kind of value `v` is, for messages (a value itself may be large).
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value as text: a scalar, or an array of scalars joined with commas (TR-106 lists).
pub(super) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        other => scalar(other),
    }
}

/// The scalar members of `v` as variables (`prefix` + name; nested objects flattened with
/// `_`, arrays of scalars joined with commas, arrays of objects by position (`name_0_field`);
/// `-` and spaces in names become `_`).
pub fn flatten(v: &Value, prefix: &str, out: &mut BTreeMap<String, String>, depth: usize) {
    let Value::Object(m) = v else {
        return;
    };
    for (k, x) in m {
        let name: String = k
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let name = format!("{prefix}{name}");
        match x {
            Value::Object(_) if depth < MAX_VAR_DEPTH => {
                flatten(x, &format!("{name}_"), out, depth + 1)
            }
            Value::Array(a) if depth < MAX_VAR_DEPTH && a.iter().any(Value::is_object) => {
                for (i, e) in a.iter().enumerate().take(MAX_FLAT_ELEMENTS) {
                    flatten(e, &format!("{name}_{i}_"), out, depth + 1)
                }
            }
            _ => {
                if let Some(t) = text_of(x) {
                    out.insert(name, t);
                }
            }
        }
    }
}
