//! Bindings: where each supported parameter and table of the schema gets its value. The
//! model owns these plain types; `board/` turns board TOML into them (checked against the
//! schema and the handlers at load), a vendor or a test may build them directly.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::backend::Args;
use crate::codec::toml;

/// Variables visible to bindings: the enclosing instances' vars plus `i` and `key`.
pub type Vars = BTreeMap<String, String>;

/// The model-internal instance source that derives InterfaceStack rows from LowerLayers.
pub const STACK_HANDLER: &str = "stack";

/// Handlers the model implements itself (not in the registry).
pub const MODEL_HANDLERS: [&str; 3] = ["var", "ref", STACK_HANDLER];

/// Objects by schema path (`Device.IP.Interface.{i}.`).
pub type Bindings = BTreeMap<String, ObjectBinding>;

/// Where a binding was written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The board file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One binding: a handler name, its arguments, and what the board allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// Registered handler name, or one of the model's own: `var`, `ref`.
    pub handler: String,
    /// Arguments minus `handler`, `write` and `add`.
    pub args: toml::Table,
    /// The ACS may write this parameter.
    pub write: bool,
    /// The ACS may add and delete instances of this table.
    pub add: bool,
    /// A table whose instances are numbered by their keys (`"1"`, `"2"` …) instead of
    /// remembered numbers: results rebuilt on every run (TraceRoute RouteHops.{i}).
    pub numbered: bool,
    /// The parameter exists only where its backend has it: in an instance whose source
    /// reports it not found, the parameter is absent (GetParameterNames leaves it out), not
    /// read as its type's default.
    pub optional: bool,
    /// For a `ref` binding the ACS may write: where the keys of the rows it names go.
    pub set: Option<Box<Binding>>,
    /// Where it was written.
    pub at: Location,
}

impl Binding {
    /// A binding to `handler` with `args` and nothing else (tests, the model's own bindings).
    pub fn of(handler: &str, args: toml::Table) -> Binding {
        Binding {
            handler: handler.to_string(),
            args,
            write: false,
            add: false,
            numbered: false,
            optional: false,
            set: None,
            at: Location::default(),
        }
    }
}

/// The bindings of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectBinding {
    /// Schema path (`Device.IP.Interface.{i}.`).
    pub path: String,
    /// The instance source of a table.
    pub instances: Option<Binding>,
    /// Parameter name → binding.
    pub params: BTreeMap<String, Binding>,
    /// Where the object was declared.
    pub at: Location,
}

/// Substitutes `{var}` in every string of a binding's arguments.
pub fn substitute(b: &Binding, vars: &Vars, path: &str, value: Option<&str>) -> Args {
    fn sub_str(s: &str, vars: &Vars, value: Option<&str>) -> String {
        if !s.contains('{') {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    let v = if name == "value" {
                        value
                    } else {
                        vars.get(name).map(|s| s.as_str())
                    };
                    match v {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
    fn sub_val(v: &toml::Value, vars: &Vars, value: Option<&str>) -> toml::Value {
        match v {
            toml::Value::String(s) => toml::Value::String(sub_str(s, vars, value)),
            toml::Value::Array(a) => {
                toml::Value::Array(a.iter().map(|x| sub_val(x, vars, value)).collect())
            }
            toml::Value::Table(t) => toml::Value::Table(
                t.iter()
                    .map(|(k, x)| (k.clone(), sub_val(x, vars, value)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    Args {
        table: b
            .args
            .iter()
            .map(|(k, v)| (k.clone(), sub_val(v, vars, value)))
            .collect(),
        path: path.to_string(),
    }
}
