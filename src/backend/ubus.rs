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

mod sum;

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;

use crate::backend::{command, text, Args, BackendError, BindingKind, Handler, Instance};
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

const VALUE_KEYS: [&str; 17] = [
    "percent_of",
    "sum",
    "pluck",
    "also",
    "netmask",
    "via",
    "object",
    "method",
    "message",
    "path",
    "default",
    "count",
    "action",
    "map",
    "map_default",
    "scale",
    "divide",
];
const TABLE_KEYS: [&str; 7] = [
    "via", "object", "method", "message", "path", "key", "prefix",
];

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

/// A value as text: a scalar, or an array of scalars joined with commas (TR-106 lists).
fn text_of(v: &Value) -> Option<String> {
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

type Answer = Result<Option<Rc<Value>>, BackendError>;

/// The ubus handler.
pub struct Ubus {
    argv: Vec<String>,
    /// Answers of this operation; `None` for an object that is not registered.
    answers: HashMap<(String, String, String), Answer>,
    /// Actions written in the current operation (object, method, message).
    staged: Vec<(String, String, String)>,
    /// Actions committed, run by `apply`.
    pending: Vec<(String, String, String)>,
}

impl Ubus {
    /// A handler for the board's `[handlers.ubus]` settings (`command`, default `["ubus"]`).
    pub fn new(settings: Option<&toml::Value>) -> Result<Ubus, String> {
        let mut argv = vec!["ubus".to_string()];
        if let Some(t) = settings {
            let t = t.as_table().ok_or("handlers.ubus must be a table")?;
            for (k, v) in t {
                match (k.as_str(), v.as_array()) {
                    ("command", Some(a)) if !a.is_empty() => {
                        argv = a
                            .iter()
                            .map(|x| x.as_str().map(String::from))
                            .collect::<Option<_>>()
                            .ok_or("handlers.ubus.command must list strings")?;
                    }
                    _ => return Err(format!("handlers.ubus.{k}: unknown or of the wrong type")),
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
        if let Some(a) = self.answers.get(&key) {
            return a.clone();
        }
        if self.answers.len() >= MAX_CALLS {
            return Err(BackendError::Limit(format!(
                "more than {MAX_CALLS} ubus calls in one operation"
            )));
        }
        let a = self.run(&key.0, &key.1, &key.2);
        self.answers.insert(key, a.clone());
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

fn check_path(args: &toml::Table) -> Result<(), String> {
    match args.get("path") {
        None => Ok(()),
        Some(toml::Value::String(p)) => steps(p)
            .map(|_| ())
            .ok_or_else(|| format!("`path` {p:?}: a step `[k=v]` is malformed")),
        Some(_) => Err("`path` must be a string".into()),
    }
}

impl Handler for Ubus {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), String> {
        let allowed: &[&str] = if kind == BindingKind::Table {
            &TABLE_KEYS
        } else {
            &VALUE_KEYS
        };
        if let Some(k) = args.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("unknown argument `{k}`"));
        }
        for k in ["object", "method"] {
            if !args.get(k).is_some_and(|v| v.is_str()) {
                return Err(format!("`{k}` (a string) is required"));
            }
        }
        for k in [
            "message",
            "default",
            "key",
            "prefix",
            "action",
            "percent_of",
        ] {
            if args.get(k).is_some_and(|v| !v.is_str()) {
                return Err(format!("`{k}` must be a string"));
            }
        }
        if let Some(v) = args.get("via") {
            let ok = v.as_table().is_some_and(|t| {
                t.keys()
                    .all(|k| ["object", "method", "message", "path"].contains(&k.as_str()))
                    && t.values().all(|x| x.is_str())
                    && t.contains_key("object")
                    && t.contains_key("method")
            });
            if !ok {
                return Err(
                    "`via` must be a table of strings: object, method, message, path".into(),
                );
            }
        }
        if args
            .get("also")
            .is_some_and(|v| !v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str())))
        {
            return Err("`also` must be a list of paths".into());
        }
        if args.get("pluck").is_some_and(|v| !v.is_str()) {
            return Err("`pluck` must be a string".into());
        }
        if args.get("netmask").is_some_and(|v| v.as_bool().is_none()) {
            return Err("`netmask` must be true or false".into());
        }
        if args.get("sum").is_some_and(|v| v.as_bool().is_none()) {
            return Err("`sum` must be true or false".into());
        }
        if args.get("count").is_some_and(|v| v.as_bool().is_none()) {
            return Err("`count` must be true or false".into());
        }
        check_path(args)?;
        match kind {
            BindingKind::ReadWrite if !args.contains_key("action") => {
                Err("ubus values are read-only; only an `action` can be written".into())
            }
            BindingKind::Read | BindingKind::ReadWrite => text::check_rules(args),
            BindingKind::Table => Ok(()),
        }
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
pub(crate) mod tests {
    use super::*;

    fn fixtures() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openwrt")
    }

    pub(crate) fn handler() -> Ubus {
        let mut t = toml::Table::new();
        t.insert(
            "command".into(),
            toml::Value::Array(vec![toml::Value::String(
                fixtures().join("bin/ubus").display().to_string(),
            )]),
        );
        Ubus::new(Some(&toml::Value::Table(t))).unwrap()
    }

    pub(crate) fn args(text: &str) -> Args {
        Args {
            table: toml::from_str(text).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn paths_select_members_positions_and_elements() {
        let v: Value = serde_json::from_str(
            r#"{"interface":[{"interface":"lan","mask":24},{"interface":"wan","up":true,"dns":["a","b"]}]}"#,
        )
        .unwrap();
        let get = |p: &str| follow(&v, &steps(p).unwrap()).and_then(text_of);
        assert_eq!(get("interface/[interface=wan]/up").as_deref(), Some("true"));
        assert_eq!(get("interface/0/mask").as_deref(), Some("24"));
        assert_eq!(get("interface/[interface=wan]/dns").as_deref(), Some("a,b"));
        assert_eq!(get("interface/[interface=wan6]/up"), None);
        let w: Value = serde_json::from_str(
            r#"{"i":[{"config":{"mode":"ap"}},{"config":{"mode":"sta"},"n":1}]}"#,
        )
        .unwrap();
        let got = follow(&w, &steps("i/[config.mode=sta]/n").unwrap()).and_then(text_of);
        assert_eq!(got.as_deref(), Some("1"));
        assert_eq!(get("interface/7"), None);
        assert!(steps("a/[b]/c").is_none());
        assert!(steps("a/[b=c/d").is_none());
    }

    #[test]
    fn reads_netifd_status_through_the_stand_in() {
        let mut h = handler();
        let get = |h: &mut Ubus, path: &str| {
            h.get(&args(&format!(
                "object = \"network.interface\"\nmethod = \"dump\"\npath = \"{path}\""
            )))
        };
        assert_eq!(
            get(&mut h, "interface/[interface=wan]/l3_device").unwrap(),
            "pppoe-wan"
        );
        assert_eq!(
            get(&mut h, "interface/[interface=wan]/dns-server").unwrap(),
            "203.0.113.53,203.0.113.54"
        );
        assert!(matches!(
            get(&mut h, "interface/[interface=nope]/up"),
            Err(BackendError::NotFound(_))
        ));
        // One call per operation.
        assert_eq!(h.answers.len(), 1);
        h.begin();
        assert!(h.answers.is_empty());
    }

    #[test]
    fn via_finds_the_interface_of_a_radio_or_ssid_first() {
        let mut h = handler();
        let bssid = |h: &mut Ubus, section: &str| {
            h.get(&args(&format!(
                "object = \"iwinfo\"\nmethod = \"info\"\nmessage = '{{\"device\":\"{{via}}\"}}'\npath = \"bssid\"\n\
                 via = {{ object = \"network.wireless\", method = \"status\", path = \"*/interfaces/[section={section}]/ifname\" }}"
            )))
        };
        assert_eq!(
            bssid(&mut h, "default_radio1").unwrap(),
            "02:4a:6c:11:22:31"
        );
        assert!(matches!(
            bssid(&mut h, "guest_radio0"),
            Err(BackendError::NotFound(_))
        ));
        let radios = h
            .instances(&args("object = \"network.wireless\"\nmethod = \"status\""))
            .unwrap();
        assert_eq!(radios[0].vars["j_interfaces_0_ifname"], "phy0-ap0");
    }

    #[test]
    fn extra_paths_append_and_prefixes_become_netmasks() {
        let mut h = handler();
        let a = |extra: &str| {
            args(&format!(
                "object = \"network.interface\"\nmethod = \"dump\"\n{extra}"
            ))
        };
        assert_eq!(
            h.get(&a("path = \"interface/[interface=iptv]/dns-server\"\nalso = [\"interface/[interface=iptv]/inactive/dns-server\"]"))
                .unwrap(),
            "10.64.0.53"
        );
        let chans = h
            .get(&args(
                "object = \"iwinfo\"\nmethod = \"freqlist\"\nmessage = '{\"device\":\"phy0-ap0\"}'\npath = \"results\"\npluck = \"channel\"",
            ))
            .unwrap();
        assert_eq!(chans, "1,2,3,4,5,6,7,8,9,10,11,12,13");
        assert_eq!(
            h.get(&a(
                "path = \"interface/[interface=iptv]/ipv4-address/0/mask\"\nnetmask = true"
            ))
            .unwrap(),
            "255.255.240.0"
        );
    }

    #[test]
    fn an_object_that_is_not_registered_has_no_rows() {
        let mut h = handler();
        let rows = h
            .instances(&args(
                "object = \"hostapd.phy9-ap0\"\nmethod = \"get_clients\"\npath = \"clients\"",
            ))
            .unwrap();
        assert!(rows.is_empty());
        assert!(matches!(
            h.get(&args(
                "object = \"hostapd.phy9-ap0\"\nmethod = \"get_clients\"\npath = \"freq\""
            )),
            Err(BackendError::NotFound(_))
        ));
    }

    #[test]
    fn table_rows_carry_their_scalar_fields() {
        let mut h = handler();
        let rows = h
            .instances(&args(
                "object = \"hostapd.phy0-ap0\"\nmethod = \"get_clients\"\npath = \"clients\"",
            ))
            .unwrap();
        assert!(!rows.is_empty());
        let r = &rows[0];
        assert_eq!(r.vars["j_name"], r.key);
        assert!(r.vars.contains_key("j_rate_tx"), "{:?}", r.vars);
        let dns = h
            .instances(&args(
                "object = \"network.interface\"\nmethod = \"dump\"\npath = \"interface/[interface=wan]/dns-server\"",
            ))
            .unwrap();
        let keys: Vec<&str> = dns.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["203.0.113.53", "203.0.113.54"]);
    }

    #[test]
    fn actions_run_once_after_commit_and_read_false() {
        let mut h = handler();
        let a =
            args("object = \"network.interface.iptv\"\nmethod = \"status\"\naction = \"renew\"");
        assert_eq!(h.get(&a).unwrap(), "false");
        h.set(&a, "false").unwrap();
        assert!(!h.commit().unwrap(), "false is no action");
        h.set(&a, "true").unwrap();
        h.abort();
        assert!(!h.commit().unwrap(), "aborted");
        h.set(&a, "true").unwrap();
        assert!(h.commit().unwrap());
        h.apply().unwrap();
        assert!(h.pending.is_empty());
    }

    #[test]
    fn only_actions_are_writable() {
        let h = handler();
        let t = |s: &str| toml::from_str(s).unwrap();
        assert!(h
            .check(
                BindingKind::ReadWrite,
                &t("object = \"o\"\nmethod = \"m\"\npath = \"x\"")
            )
            .is_err());
        assert!(h
            .check(
                BindingKind::ReadWrite,
                &t("object = \"o\"\nmethod = \"m\"\naction = \"renew\"")
            )
            .is_ok());
        assert!(h.check(BindingKind::Read, &t("object = \"o\"")).is_err());
        assert!(h
            .check(
                BindingKind::Read,
                &t("object = \"o\"\nmethod = \"m\"\npath = \"[x]\"")
            )
            .is_err());
    }
}
