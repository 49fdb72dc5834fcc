//! `ubus`: values and tables from OpenWrt's system bus — netifd's interface and device
//! status, iwinfo, hostapd — through the `ubus` command-line client (`ubus call OBJECT
//! METHOD [MESSAGE]`), whose JSON answers are read with serde_json.
//!
//! One call per (object, method, message) per operation: answers are kept from `begin` to
//! the next `begin`, so a GetParameterValues of every Wi-Fi parameter asks iwinfo once per
//! radio. A binding picks a value with a `path` into the answer (see [`Step`]); a table lists
//! the elements of an array or the members of an object at its `path`, each with variables
//! for its scalar fields.
//!
//! Writes are actions (`action = "renew"`, DHCPv4 `Renew`, IP `Reset`): writing `true` queues
//! the call, run once after the CWMP session from `apply`, as the UCI handler's reloads are;
//! such a parameter reads back `false` (TR-181: "When read, this parameter returns false").
//!
//! The handler does not own the command's location: the board names it
//! (`[handlers.ubus] command = ["ubus"]`), so tests can put a stand-in there.

//!
//! Argument checks: [`check`]; paths into an answer: [`path`].

mod check;
mod path;
mod sum;

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;

use crate::backend::{
    command, text, Args, ArgsError, BackendError, BindingKind, Handler, Instance,
};
use crate::codec::toml;

/// Time one `ubus call` may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Most bytes of one answer (an iwinfo station list of a busy access point is ~1 KB a station).
pub const MAX_ANSWER: usize = 512 * 1024;
/// Most rows of one table.
pub const MAX_ROWS: usize = 4096;
/// Deepest nesting flattened into instance variables.
pub const MAX_VAR_DEPTH: usize = 3;
/// Most elements of an array of objects flattened into instance variables.
pub const MAX_FLAT_ELEMENTS: usize = 8;
/// Most distinct calls cached in one operation.
pub const MAX_CALLS: usize = 256;
/// The ubus CLI's exit status for UBUS_STATUS_NOT_FOUND (the object is not registered: an
/// interface that is down, a hostapd that is not running).
const EXIT_NOT_FOUND: i32 = 4;

use path::text_of;
pub use path::{flatten, follow, scalar, steps, Step};

type Answer = Result<Option<Rc<Value>>, BackendError>;

/// The ubus handler.
pub struct Ubus {
    argv: Vec<String>,
    /// Answers of this operation; `None` for an object that is not registered.
    /// Keyed by object, method and message joined with U+001F (one string: the map type
    /// other handlers use, so no code of its own).
    answers: HashMap<String, Box<Answer>>,
    /// Actions written in the current operation (object, method, message).
    staged: Vec<(String, String, String)>,
    /// Actions committed, run by `apply`.
    pending: Vec<(String, String, String)>,
}

impl Ubus {
    /// A handler for the board's `[handlers.ubus]` settings (`command`, default `["ubus"]`).
    pub fn new(settings: Option<&toml::Value>) -> Result<Ubus, ArgsError> {
        let mut argv = vec!["ubus".to_string()];
        if let Some(t) = settings {
            let t = t
                .as_table()
                .ok_or(ArgsError::Settings("handlers.ubus must be a table".into()))?;
            for (k, v) in t {
                match (k.as_str(), v.as_array()) {
                    ("command", Some(a)) if !a.is_empty() => {
                        argv = a
                            .iter()
                            .map(|x| x.as_str().map(String::from))
                            .collect::<Option<_>>()
                            .ok_or(ArgsError::Settings(
                                "handlers.ubus.command must list strings".into(),
                            ))?;
                    }
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.ubus.{k}: unknown or of the wrong type"
                        )))
                    }
                }
            }
        }
        Ok(Ubus {
            argv,
            answers: HashMap::new(),
            staged: Vec::new(),
            pending: Vec::new(),
        })
    }

    fn run(&self, object: &str, method: &str, message: &str) -> Answer {
        let mut argv: Vec<&str> = self.argv.iter().map(String::as_str).collect();
        argv.extend(["call", object, method]);
        if !message.is_empty() {
            argv.push(message);
        }
        let done = command::exec(&argv, None, CALL_TIMEOUT, MAX_ANSWER)?;
        if done.status.code() == Some(EXIT_NOT_FOUND) {
            return Ok(None);
        }
        if !done.status.success() {
            return Err(BackendError::Command(format!(
                "ubus call {object} {method}: {}: {}",
                done.status,
                done.stderr_text()
            )));
        }
        if done.stdout.iter().all(u8::is_ascii_whitespace) {
            // Methods without an answer print nothing.
            return Ok(Some(Rc::new(Value::Null)));
        }
        serde_json::from_slice(&done.stdout)
            .map(|v| Some(Rc::new(v)))
            .map_err(|e| BackendError::InvalidValue(format!("ubus call {object} {method}: {e}")))
    }

    /// The (cached) answer of one call.
    fn call(&mut self, key: (String, String, String)) -> Answer {
        let joined = format!("{}\u{1f}{}\u{1f}{}", key.0, key.1, key.2);
        if let Some(a) = self.answers.get(&joined) {
            return (**a).clone();
        }
        if self.answers.len() >= MAX_CALLS {
            return Err(BackendError::Limit(format!(
                "more than {MAX_CALLS} ubus calls in one operation"
            )));
        }
        let a = self.run(&key.0, &key.1, &key.2);
        self.answers.insert(joined, Box::new(a.clone()));
        a
    }

    /// A binding's arguments with `{via}` resolved: `via = { object, method, message, path }`
    /// names a string in another answer (a radio's interface name in `network.wireless
    /// status`) that the binding's `object`, `message` and `path` use as `{via}`. `None` when
    /// that string is not there (the radio has no interface up).
    fn resolved(&mut self, args: &Args) -> Result<Option<Args>, BackendError> {
        let Some(toml::Value::Table(via)) = args.table.get("via") else {
            return Ok(Some(args.clone()));
        };
        let s = |k: &str| {
            via.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let path = s("path");
        let steps =
            steps(&path).ok_or_else(|| BackendError::BadArgs(format!("via path {path:?}")))?;
        let answer = self.call((s("object"), s("method"), s("message")))?;
        let Some(found) = answer
            .as_deref()
            .and_then(|v| follow(v, &steps))
            .and_then(scalar)
        else {
            return Ok(None);
        };
        let mut out = args.clone();
        out.table.remove("via");
        for k in ["object", "message", "path"] {
            if let Some(toml::Value::String(v)) = out.table.get_mut(k) {
                *v = v.replace("{via}", &found);
            }
        }
        Ok(Some(out))
    }

    /// The (cached) answer of a call named by a binding's `object`, `method`, `message`.
    fn answer(&mut self, args: &Args) -> Answer {
        self.call((
            args.str("object")?.to_string(),
            args.str("method")?.to_string(),
            args.opt_str("message")?.unwrap_or("").to_string(),
        ))
    }
}

impl Handler for Ubus {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        check::check(kind, args)
    }

    fn begin(&mut self) {
        self.answers.clear();
        self.staged.clear();
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        if args.opt_str("action")?.is_some() {
            return Ok("false".into());
        }
        if args.opt_bool("sum")?.unwrap_or(false) {
            return match (self.sum(args)?, args.opt_str("default")?) {
                (Some(n), _) => text::extract(&n, args),
                (None, Some(d)) => Ok(d.to_string()),
                (None, None) => Err(BackendError::NotFound("ubus: nothing to add up".into())),
            };
        }
        let Some(args) = self.resolved(args)? else {
            return match args.opt_str("default")? {
                Some(d) => Ok(d.to_string()),
                None => Err(BackendError::NotFound("ubus: `via` names nothing".into())),
            };
        };
        let args = &args;
        let path = args.opt_str("path")?.unwrap_or("");
        let steps = steps(path).ok_or_else(|| BackendError::BadArgs(format!("path {path:?}")))?;
        let answer = self.answer(args)?;
        let found = answer.as_deref().and_then(|v| follow(v, &steps));
        let raw = if args.opt_bool("count")?.unwrap_or(false) {
            Some(match found {
                Some(Value::Array(a)) => a.len().to_string(),
                Some(Value::Object(m)) => m.len().to_string(),
                _ => "0".to_string(),
            })
        } else {
            // `also`: more paths whose values are appended (a DHCP lease's routers, whether
            // netifd installed them or keeps them inactive).
            // `pluck`: one member of every element of the array found (iwinfo's channel list).
            let first = match (found, args.opt_str("pluck")?) {
                (Some(Value::Array(a)), Some(member)) => Some(
                    a.iter()
                        .filter_map(|e| e.get(member).and_then(scalar))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                (f, _) => f.and_then(text_of),
            };
            let mut parts: Vec<String> = first.into_iter().collect();
            for extra in args.opt_str_list("also")?.unwrap_or_default() {
                let st = crate::backend::ubus::steps(extra)
                    .ok_or_else(|| BackendError::BadArgs(format!("path {extra:?}")))?;
                if let Some(t) = answer
                    .as_deref()
                    .and_then(|v| follow(v, &st))
                    .and_then(text_of)
                {
                    parts.push(t);
                }
            }
            parts.retain(|p| !p.is_empty());
            (!parts.is_empty() || found.is_some()).then(|| parts.join(","))
        };
        // `netmask`: netifd reports prefix lengths, TR-181 IPv4 SubnetMask is dotted.
        let raw = match (raw, args.opt_bool("netmask")?.unwrap_or(false)) {
            (Some(r), true) => Some(
                r.parse::<u32>()
                    .ok()
                    .filter(|l| *l <= 32)
                    .map(|l| {
                        std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - l).unwrap_or(0))
                            .to_string()
                    })
                    .ok_or_else(|| {
                        BackendError::InvalidValue(format!("{r:?} is not a prefix length"))
                    })?,
            ),
            (r, _) => r,
        };
        // `percent_of`: the numbers as whole percentages of the largest number at that path
        // (iwinfo's transmit powers in mW: TR-181 TransmitPower is a percentage of full power).
        let raw = match (raw, args.opt_str("percent_of")?, answer.as_deref()) {
            (Some(r), Some(of), Some(v)) => Some(sum::percent(&r, v, of)?),
            (r, _, _) => r,
        };
        let raw = match (raw, args.opt_str("default")?) {
            (Some(r), _) => r,
            // A default is already in TR-181 form: not mapped.
            (None, Some(d)) => return Ok(d.to_string()),
            (None, None) => {
                return Err(BackendError::NotFound(format!(
                    "ubus {} {} {path}",
                    args.str("object")?,
                    args.str("method")?
                )))
            }
        };
        text::extract(&raw, args)
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let Some(action) = args.opt_str("action")? else {
            return Err(BackendError::Unsupported("set"));
        };
        // Writing false does nothing (TR-181 command parameters act on true).
        if value == "true" {
            // A comma list runs in order (`down,up`: netifd's way of restarting an interface).
            for method in action.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                self.staged.push((
                    args.str("object")?.to_string(),
                    method.to_string(),
                    args.opt_str("message")?.unwrap_or("").to_string(),
                ));
            }
        }
        Ok(())
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let Some(args) = self.resolved(args)? else {
            return Ok(Vec::new());
        };
        let args = &args;
        let path = args.opt_str("path")?.unwrap_or("");
        let steps = steps(path).ok_or_else(|| BackendError::BadArgs(format!("path {path:?}")))?;
        let key_field = args.opt_str("key")?;
        let prefix = args.opt_str("prefix")?.unwrap_or("j_").to_string();
        let answer = self.answer(args)?;
        let Some(found) = answer.as_deref().and_then(|v| follow(v, &steps)) else {
            return Ok(Vec::new());
        };
        let rows: Vec<(Option<String>, &Value)> = match found {
            Value::Array(a) => a.iter().map(|e| (None, e)).collect(),
            Value::Object(m) => m.iter().map(|(k, e)| (Some(k.clone()), e)).collect(),
            _ => Vec::new(),
        };
        if rows.len() > MAX_ROWS {
            return Err(BackendError::Limit(format!(
                "ubus {path}: more than {MAX_ROWS} rows"
            )));
        }
        let mut out: Vec<Instance> = Vec::new();
        for (n, (member, e)) in rows.into_iter().enumerate() {
            // The key: a named field of the element, else the member name, else the element
            // itself when it is a scalar (a list of DNS servers), else its position.
            let key = match key_field {
                Some(f) => match e.get(f).and_then(scalar) {
                    Some(k) => k,
                    None => continue,
                },
                None => member
                    .clone()
                    .or_else(|| scalar(e))
                    .unwrap_or_else(|| (n + 1).to_string()),
            };
            if out.iter().any(|i| i.key == key) {
                continue;
            }
            let mut inst = Instance::new(key.clone());
            flatten(e, &prefix, &mut inst.vars, 0);
            if let Some(s) = scalar(e) {
                inst.vars.insert(format!("{prefix}value"), s);
            }
            if let Some(m) = member {
                inst.vars.insert(format!("{prefix}name"), m);
            }
            inst.vars.insert(format!("{prefix}key"), key);
            out.push(inst);
        }
        Ok(out)
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        let any = !self.staged.is_empty();
        self.pending.append(&mut self.staged);
        Ok(any)
    }

    fn abort(&mut self) {
        self.staged.clear();
    }

    fn apply(&mut self) -> Result<(), BackendError> {
        let mut failed = Vec::new();
        for (object, method, message) in std::mem::take(&mut self.pending) {
            log::info!("ubus: call {object} {method}");
            if let Err(e) = self.run(&object, &method, &message) {
                log::warn!("ubus: call {object} {method}: {e}");
                failed.push(e.to_string());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(BackendError::Command(failed.join("; ")))
        }
    }
}
#[cfg(test)]
pub(crate) mod tests;
