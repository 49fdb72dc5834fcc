//! Backends: where parameter values live. The [`Handler`] trait is the one interface every
//! backend implements, built-in or vendor; a [`Registry`] maps the names used in board files
//! (`handler = "file"`) to handler instances.
//!
//! Handlers see only substituted arguments ([`Args`]) and string values in TR-106 lexical form;
//! they know nothing of SOAP, paths or the schema. Type checking happens in `model` before a
//! handler's `set` is called.

pub mod builtin;
pub mod command;
pub mod constant;
#[cfg(feature = "diagnostics")]
pub mod diagnostics;
pub mod ethtool;
pub mod file;
#[cfg(feature = "ubus")]
pub mod json;
pub mod leases;
pub mod leds;
pub mod lines;
#[cfg(feature = "netlink")]
pub mod netlink;
pub mod rmon;
pub mod sensors;
pub mod stored;
pub mod system;
pub mod text;
#[cfg(feature = "ubus")]
pub mod ubus;
#[cfg(feature = "uci")]
pub mod uci;
pub mod users;

/// Kept at its old path: the kernel facts belong to the `system` handler.
pub use system::kernel;

use std::collections::BTreeMap;
use std::fmt;

use crate::codec::toml;

/// Errors a backend reports. `model` turns them into CWMP faults (see `fault.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// The binding's arguments are wrong (caught at board load where possible).
    BadArgs(String),
    /// This handler cannot do that operation (e.g. `set` on a constant).
    Unsupported(&'static str),
    /// The value exists nowhere right now (file missing, interface gone).
    NotFound(String),
    /// The backend refused the value (e.g. a sysfs write returned EINVAL).
    InvalidValue(String),
    /// An operating-system call failed.
    Io(String),
    /// A command failed, timed out or printed too much.
    Command(String),
    /// A limit was exceeded (instances, output size).
    Limit(String),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::BadArgs(m) => write!(f, "backend: bad arguments: {m}"),
            BackendError::Unsupported(op) => write!(f, "backend: {op} not supported"),
            BackendError::NotFound(m) => write!(f, "backend: not found: {m}"),
            BackendError::InvalidValue(m) => write!(f, "backend: invalid value: {m}"),
            BackendError::Io(m) => write!(f, "backend: i/o: {m}"),
            BackendError::Command(m) => write!(f, "backend: command: {m}"),
            BackendError::Limit(m) => write!(f, "backend: limit: {m}"),
        }
    }
}

impl std::error::Error for BackendError {}

/// What a handler refuses in a binding's arguments or in its own settings (the board's
/// `[handlers.<name>]` table), found when the board loads; the board loader adds the file
/// and line, the device setup the `handlers:` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    /// An argument this handler does not take (a misspelt key, a key of another handler).
    Unknown {
        /// The argument's key.
        arg: String,
    },
    /// An argument missing, of the wrong type or with a value the handler refuses, in the
    /// handler's words ("`path` must be a string").
    Invalid(String),
    /// The handler's settings are wrong ("handlers.uci must be a table").
    Settings(String),
}

impl ArgsError {
    /// An unknown argument `arg`.
    pub fn unknown(arg: impl Into<String>) -> ArgsError {
        ArgsError::Unknown { arg: arg.into() }
    }

    /// Refuses the first argument of `args` not in `allowed`.
    pub fn only(args: &toml::Table, allowed: &[&str]) -> Result<(), ArgsError> {
        match args.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ArgsError::unknown(k)),
            None => Ok(()),
        }
    }

    /// Requires each of `keys` in `args`, as a string.
    pub fn strings_required(args: &toml::Table, keys: &[&str]) -> Result<(), ArgsError> {
        match keys
            .iter()
            .find(|k| !args.get(**k).is_some_and(|v| v.is_str()))
        {
            Some(k) => Err(format!("`{k}` (a string) is required").into()),
            None => Ok(()),
        }
    }
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsError::Unknown { arg } => write!(f, "unknown argument `{arg}`"),
            ArgsError::Invalid(m) | ArgsError::Settings(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ArgsError {}

/// A handler's message about a binding's arguments.
impl From<String> for ArgsError {
    fn from(m: String) -> ArgsError {
        ArgsError::Invalid(m)
    }
}

/// A handler's message about a binding's arguments.
impl From<&str> for ArgsError {
    fn from(m: &str) -> ArgsError {
        ArgsError::Invalid(m.to_string())
    }
}

/// The arguments of one binding, as written in the board file, after `{var}` substitution
/// from the enclosing instances' variables. `path` is the full instance path of the
/// parameter or object the call is about (the `stored` handler keys on it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// The binding's table minus `handler` (strings substituted).
    pub table: toml::Table,
    /// Full instance path (`Device.IP.Interface.2.Enable` or `Device.IP.Interface.2.`).
    pub path: String,
}

impl Args {
    /// A string argument.
    pub fn str(&self, key: &str) -> Result<&str, BackendError> {
        match self.table.get(key) {
            Some(toml::Value::String(s)) => Ok(s),
            Some(_) => Err(BackendError::BadArgs(format!("{key} must be a string"))),
            None => Err(BackendError::BadArgs(format!("{key} is missing"))),
        }
    }

    /// An optional string argument.
    pub fn opt_str(&self, key: &str) -> Result<Option<&str>, BackendError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(BackendError::BadArgs(format!("{key} must be a string"))),
        }
    }

    /// An optional integer argument.
    pub fn opt_int(&self, key: &str) -> Result<Option<i64>, BackendError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(v @ toml::Value::Integer(_)) => v.as_integer().map(Some).ok_or_else(|| {
                BackendError::BadArgs(format!("{key} must be a 64-bit signed integer"))
            }),
            Some(_) => Err(BackendError::BadArgs(format!("{key} must be an integer"))),
        }
    }

    /// An optional boolean argument.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, BackendError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(BackendError::BadArgs(format!(
                "{key} must be true or false"
            ))),
        }
    }

    /// An optional list-of-strings argument (`None` when absent).
    pub fn opt_str_list(&self, key: &str) -> Result<Option<Vec<&str>>, BackendError> {
        if self.table.contains_key(key) {
            self.str_list(key).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A list-of-strings argument (e.g. an argv).
    pub fn str_list(&self, key: &str) -> Result<Vec<&str>, BackendError> {
        match self.table.get(key) {
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| BackendError::BadArgs(format!("{key} must list strings")))
                })
                .collect(),
            Some(_) => Err(BackendError::BadArgs(format!(
                "{key} must be a list of strings"
            ))),
            None => Err(BackendError::BadArgs(format!("{key} is missing"))),
        }
    }
}

/// One instance of a table, as a backend sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Instance {
    /// Stable identity within the table (an interface name, a UCI section name, an address).
    /// The model maps it to an instance number that survives restarts.
    pub key: String,
    /// Variables nested bindings may use as `{name}` (e.g. `ifname`, `section`, `index`).
    pub vars: BTreeMap<String, String>,
}

impl Instance {
    /// An instance with a key and no variables.
    pub fn new(key: impl Into<String>) -> Instance {
        Instance {
            key: key.into(),
            vars: BTreeMap::new(),
        }
    }

    /// Adds a variable.
    pub fn var(mut self, name: &str, value: impl Into<String>) -> Instance {
        self.vars.insert(name.to_string(), value.into());
        self
    }
}

/// What a binding is for, given to [`Handler::check`] at board load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingKind {
    /// A parameter that is only read.
    Read,
    /// A parameter that is read and written.
    ReadWrite,
    /// The instance source of a table.
    Table,
}

/// A backend. Implement the operations your backend supports; the defaults refuse.
///
/// Call order within one operation (one RPC, one CLI `get`): `begin`, then any number of
/// `get`/`instances`; a change (SetParameterValues, AddObject, DeleteObject) then stages with
/// `set`/`add`/`delete`, and the model carries the whole change out as one transaction
/// across every handler it touched (TR-069 A.3.2.1, all or nothing):
///
/// ```text
///   set/add/delete (stage) ─▶ prepare (all) ─▶ commit (each) ─▶ done
///          │ failure              │ failure        │ failure of the k-th
///          ▼                      ▼                ▼
///        abort (all)           abort (all)      rollback (those committed), abort (the rest)
/// ```
///
/// and `rollback` once more after a successful commit when the device's state cannot be
/// saved (the change must not be acknowledged then). `apply` runs once after the CWMP session
/// for handlers whose `commit` reported pending work.
///
/// A handler whose [`Handler::transactional`] is false (the default) cannot undo a commit;
/// the model undoes its writes by writing the old values back, and so refuses a write to it
/// whose old value it cannot read, and a board may not let the ACS add or delete instances
/// of its tables.
pub trait Handler {
    /// Validates a binding's (unsubstituted) arguments when the board loads. Return an error
    /// naming the problem; the board loader adds file and line.
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError>;

    /// Starts an operation: drop any cached reads.
    fn begin(&mut self) {}

    /// Reads a value in TR-106 lexical form (`true`, `42`, `2024-01-01T00:00:00Z`).
    fn get(&mut self, args: &Args) -> Result<String, BackendError>;

    /// Stages a value (already type-checked) for `commit`; a handler that is not
    /// [`Handler::transactional`] may write it at once.
    fn set(&mut self, _args: &Args, _value: &str) -> Result<(), BackendError> {
        Err(BackendError::Unsupported("set"))
    }

    /// Lists the instances of a table.
    fn instances(&mut self, _args: &Args) -> Result<Vec<Instance>, BackendError> {
        Err(BackendError::Unsupported("instances"))
    }

    /// Stages a new instance (AddObject); returns it so the model can number it.
    fn add(&mut self, _args: &Args) -> Result<Instance, BackendError> {
        Err(BackendError::Unsupported("add"))
    }

    /// Stages the deletion of an instance (DeleteObject); `args` are substituted with that
    /// instance's vars.
    fn delete(&mut self, _args: &Args, _instance: &Instance) -> Result<(), BackendError> {
        Err(BackendError::Unsupported("delete"))
    }

    /// Readies everything staged so that `commit` can hardly fail (UCI: the new files written
    /// and synced beside the old ones), without changing anything yet.
    fn prepare(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Makes the staged changes current and durable. Returns true when an apply step is now
    /// pending (the RPC then answers Status 1, TR-069 A.3.2.1).
    fn commit(&mut self) -> Result<bool, BackendError> {
        Ok(false)
    }

    /// Undoes the last successful commit (only called when [`Handler::transactional`]).
    fn rollback(&mut self) -> Result<(), BackendError> {
        Err(BackendError::Unsupported("rollback"))
    }

    /// Discards staged changes (before their commit).
    fn abort(&mut self) {}

    /// True when `rollback` can undo a commit.
    fn transactional(&self) -> bool {
        false
    }

    /// Runs pending apply actions (e.g. reload services); called after the session.
    fn apply(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    /// After a committed `set` with these arguments: the new key of the instance the value
    /// belongs to, when the write changed it (a row keyed by its value). The model then
    /// renames the key, so the row keeps its instance number (TR-069 A.3.2.6).
    fn renamed_key(&mut self, _args: &Args, _value: &str) -> Option<String> {
        None
    }
}

/// Handlers by the name board files use.
#[derive(Default)]
pub struct Registry {
    handlers: BTreeMap<String, Box<dyn Handler>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers a handler under a name, replacing any previous one.
    pub fn register(&mut self, name: &str, handler: Box<dyn Handler>) {
        self.handlers.insert(name.to_string(), handler);
    }

    /// The handler with this name.
    pub fn get(&self, name: &str) -> Option<&dyn Handler> {
        self.handlers.get(name).map(|h| h.as_ref())
    }

    /// The handler with this name, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut (dyn Handler + 'static)> {
        self.handlers.get_mut(name).map(|h| h.as_mut())
    }

    /// Names of all registered handlers.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(|s| s.as_str())
    }

    /// Iterates mutably over all handlers.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Box<dyn Handler>)> {
        self.handlers.iter_mut().map(|(k, v)| (k.as_str(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Args {
        Args {
            table: toml::from_str(text).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn arguments_of_the_wrong_type_or_range_are_bad_args() {
        let a = args("s = \"x\"\ni = -5\nb = true\nl = [\"a\", \"b\"]\nbig = 9223372036854775808");
        assert_eq!(a.str("s"), Ok("x"));
        assert_eq!(a.opt_int("i"), Ok(Some(-5)));
        assert_eq!(a.opt_bool("b"), Ok(Some(true)));
        assert_eq!(a.str_list("l"), Ok(vec!["a", "b"]));
        assert_eq!(a.opt_str_list("none"), Ok(None));
        assert!(matches!(a.opt_int("big"), Err(BackendError::BadArgs(m)) if m.contains("64-bit")));
        assert!(matches!(a.opt_int("s"), Err(BackendError::BadArgs(_))));
        assert!(matches!(a.str("i"), Err(BackendError::BadArgs(_))));
        assert!(matches!(a.str("none"), Err(BackendError::BadArgs(m)) if m.contains("missing")));
        assert!(matches!(a.opt_bool("s"), Err(BackendError::BadArgs(_))));
    }
}
