//! Bindings: where each supported parameter and table of the schema gets its value. The
//! model owns these plain types; `board/` turns board TOML into them (checked against the
//! schema and the handlers at load), a vendor or a test may build them directly.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::rc::Rc;

use crate::backend::Args;
use crate::codec::toml;

/// Variables visible to bindings: an instance's own (`i`, `key` and what its handler gave it)
/// over those of its enclosing instances and the globals. The outer ones are shared, not
/// copied: a row of a 4,096-row table costs its own few variables, not a copy of every global
/// (a GetParameterValues lists its tables anew; issue 13 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    /// This level's variables, each name once; they hide the outer ones of the same name. A
    /// row has a handful: a list costs less than a map's node of eleven slots.
    own: Vec<(String, String)>,
    /// The enclosing level.
    outer: Option<Rc<Vars>>,
}

impl Vars {
    /// No variables.
    pub fn new() -> Vars {
        Vars::default()
    }

    /// A level of its own inside `outer` (which it sees through).
    pub fn inside(outer: &Rc<Vars>) -> Vars {
        Vars {
            own: Vec::new(),
            outer: Some(outer.clone()),
        }
    }

    /// A variable: this level's, else the nearest enclosing one's.
    pub fn get(&self, name: &str) -> Option<&String> {
        let mut at = self;
        loop {
            if let Some((_, v)) = at.own.iter().find(|(n, _)| n == name) {
                return Some(v);
            }
            at = at.outer.as_deref()?;
        }
    }

    /// Every variable visible here, each name once (what a handler's `Instance` carries).
    pub fn flatten(&self) -> BTreeMap<String, String> {
        let mut all = self.outer.as_deref().map(Vars::flatten).unwrap_or_default();
        all.extend(self.own.iter().map(|(k, v)| (k.clone(), v.clone())));
        all
    }

    /// Sets a variable at this level; returns the one it replaced there.
    pub fn insert(&mut self, name: String, value: String) -> Option<String> {
        match self.own.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.own.push((name, value));
                None
            }
        }
    }
}

impl Extend<(String, String)> for Vars {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        for (name, value) in iter {
            self.insert(name, value);
        }
    }
}

impl FromIterator<(String, String)> for Vars {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut vars = Vars::new();
        vars.extend(iter);
        vars
    }
}

/// The model-internal instance source that derives InterfaceStack rows from LowerLayers.
pub const STACK_HANDLER: &str = "stack";

/// Handlers the model implements itself (not in the registry).
pub const MODEL_HANDLERS: [&str; 3] = ["var", "ref", STACK_HANDLER];

/// Objects by schema path (`Device.IP.Interface.{i}.`).
pub type Bindings = BTreeMap<String, Box<ObjectBinding>>;

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
    pub params: BTreeMap<String, Box<Binding>>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_hides_the_outer_variables_of_its_names_and_sees_the_rest() {
        let globals: Rc<Vars> = Rc::new(
            [("acs", "http://acs"), ("key", "outer")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let mut row = Vars::inside(&globals);
        row.insert("key".into(), "eth0".into());
        row.extend([("i".to_string(), "1".to_string())]);
        let row = Rc::new(row);
        let mut inner = Vars::inside(&row);
        inner.insert("i".into(), "7".into());
        assert_eq!(inner.get("i").map(String::as_str), Some("7"));
        assert_eq!(inner.get("key").map(String::as_str), Some("eth0"));
        assert_eq!(inner.get("acs").map(String::as_str), Some("http://acs"));
        assert_eq!(inner.get("nope"), None);
        assert_eq!(globals.get("key").map(String::as_str), Some("outer"));
        let flat = inner.flatten();
        assert_eq!(flat.len(), 3);
        assert_eq!(flat.get("i").map(String::as_str), Some("7"));
        assert_eq!(flat.get("key").map(String::as_str), Some("eth0"));
        let b = Binding::of(
            "x",
            [("path".to_string(), "{acs}/{key}/{i}".into())]
                .into_iter()
                .collect(),
        );
        assert_eq!(
            substitute(&b, &inner, "", None)
                .table
                .get("path")
                .and_then(|v| v.as_str()),
            Some("http://acs/eth0/7")
        );
    }
}
