//! `uci`: OpenWrt configuration (`/etc/config/<package>`) read and written natively.
//!
//! Values are read from sections by name, `@type[n]` or an instance's `{section}`; booleans,
//! lists and enumerations are translated between UCI and TR-181 forms (`bool`, `invert`,
//! `list`, `item`, `map`). Changes are staged in memory; `prepare` writes every changed
//! package beside the old file, `commit` renames them into place, `rollback` puts the old
//! files back (a change is all or nothing across packages and other handlers). The board's
//! apply command for each changed package (`/etc/init.d/network reload` …) runs once after
//! the CWMP session, from `apply`.
//!
//! Rows per word of an option (`each`), values of one word (`word`) and a package file's
//! modification time (`mtime`): [`words`].

pub mod doc;
mod flags;
mod mapping;
mod words;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::backend::text;
use crate::backend::{command, Args, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;
use doc::Doc;

/// Time an apply command may take.
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(60);

struct Cached {
    doc: Doc,
    stamp: Option<(SystemTime, u64)>,
}

/// The UCI handler.
pub struct Uci {
    dir: PathBuf,
    apply_cmds: BTreeMap<String, Vec<String>>,
    docs: HashMap<String, Cached>,
    /// Packages changed in the current operation, with their content before the change.
    originals: BTreeMap<String, Doc>,
    /// The new files written beside the packages by `prepare`, waiting for `commit`.
    prepared: Vec<(String, crate::store::Staged)>,
    /// Packages the last commit replaced, with their content before it (for `rollback`).
    replaced: Vec<(String, Doc, bool)>,
    /// Packages whose file was checked for changes in this operation: one `stat` per
    /// package per operation, not one per value read.
    checked: BTreeSet<String>,
    pending_apply: BTreeSet<String>,
}

const VALUE_KEYS: [&str; 25] = [
    "create",
    "unset",
    "map_with",
    "allowed",
    "when",
    "suffix",
    "unmapped",
    "mtime",
    "word",
    "has",
    "empty",
    "words",
    "scale",
    "divide",
    "package",
    "section",
    "option",
    "list",
    "item",
    "bool",
    "invert",
    "map",
    "map_default",
    "default",
    "duration",
];
const TABLE_KEYS: [&str; 11] = [
    "each",
    "each_default",
    "package",
    "type",
    "exclude",
    "match",
    "name",
    "name_prefix",
    "join",
    "within",
    "defaults",
];

/// An IPv4 address as a number.
fn ipv4(s: &str) -> Option<u32> {
    s.parse::<std::net::Ipv4Addr>().ok().map(u32::from)
}

/// A netmask in dotted or prefix-length form.
fn mask(s: &str) -> Option<u32> {
    match s.parse::<u32>() {
        Ok(bits) if bits <= 32 => Some(u32::MAX.checked_shl(32 - bits).unwrap_or(0)),
        Ok(_) => None,
        Err(_) => ipv4(s),
    }
}

/// A string-valued sub-table argument (`join`, `within`, `defaults`).
fn sub_table<'a>(args: &'a Args, key: &str) -> Result<Option<&'a toml::Table>, BackendError> {
    match args.table.get(key) {
        None => Ok(None),
        Some(toml::Value::Table(t)) if t.values().all(|v| v.is_str()) => Ok(Some(t)),
        Some(_) => Err(BackendError::BadArgs(format!(
            "{key} must be a table of strings"
        ))),
    }
}

fn truthy(v: &str) -> Option<bool> {
    match v {
        "1" | "on" | "true" | "yes" | "enabled" => Some(true),
        "0" | "off" | "false" | "no" | "disabled" => Some(false),
        _ => None,
    }
}

/// UCI durations (`3600`, `45m`, `12h`, `2d`, `1w`, `infinite`) in seconds; -1 for infinite.
fn duration_secs(v: &str) -> Option<i64> {
    if v == "infinite" {
        return Some(-1);
    }
    let (num, unit) = match v.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&v[..i], c),
        _ => (v, 's'),
    };
    let n: i64 = num.parse().ok().filter(|n: &i64| *n >= 0)?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn valid_package(p: &str) -> bool {
    !p.is_empty()
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Uci {
    /// A handler for `settings` = the board's `[handlers.uci]` table (`dir`, `apply.<pkg>`).
    pub fn new(settings: Option<&toml::Value>) -> Result<Uci, String> {
        let mut dir = PathBuf::from("/etc/config");
        let mut apply_cmds = BTreeMap::new();
        if let Some(t) = settings {
            let t = t.as_table().ok_or("handlers.uci must be a table")?;
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("dir", toml::Value::String(s)) => dir = PathBuf::from(s),
                    ("apply", toml::Value::Table(a)) => {
                        for (pkg, argv) in a {
                            let list: Option<Vec<String>> = argv.as_array().and_then(|a| {
                                a.iter().map(|x| x.as_str().map(String::from)).collect()
                            });
                            match list {
                                Some(l) if !l.is_empty() => {
                                    apply_cmds.insert(pkg.clone(), l);
                                }
                                _ => {
                                    return Err(format!(
                                    "handlers.uci.apply.{pkg} must be a non-empty list of strings"
                                ))
                                }
                            }
                        }
                    }
                    _ => return Err(format!("handlers.uci.{k}: unknown or of the wrong type")),
                }
            }
        }
        Ok(Uci {
            dir,
            apply_cmds,
            docs: HashMap::new(),
            originals: BTreeMap::new(),
            prepared: Vec::new(),
            replaced: Vec::new(),
            checked: BTreeSet::new(),
            pending_apply: BTreeSet::new(),
        })
    }

    fn stamp(&self, pkg: &str) -> Option<(SystemTime, u64)> {
        let m = std::fs::metadata(self.dir.join(pkg)).ok()?;
        Some((m.modified().ok()?, m.len()))
    }

    /// The package document, re-read when the file changed (unless it has staged edits).
    fn doc(&mut self, pkg: &str) -> Result<&mut Doc, BackendError> {
        if !valid_package(pkg) {
            return Err(BackendError::BadArgs(format!("package {pkg:?}")));
        }
        let staged = self.originals.contains_key(pkg);
        let fresh = self
            .docs
            .get(pkg)
            .is_some_and(|c| staged || self.checked.contains(pkg) || c.stamp == self.stamp(pkg));
        if !fresh {
            let stamp = self.stamp(pkg);
            let path = self.dir.join(pkg);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| BackendError::NotFound(format!("{}: {e}", path.display())))?;
            let doc = Doc::parse(&text)
                .map_err(|e| BackendError::InvalidValue(format!("{}: {e}", path.display())))?;
            self.docs.insert(pkg.to_string(), Cached { doc, stamp });
        }
        self.checked.insert(pkg.to_string());
        self.docs
            .get_mut(pkg)
            .map(|c| &mut c.doc)
            .ok_or_else(|| BackendError::NotFound(pkg.into()))
    }

    /// The document, remembering its state before the first change of this operation.
    fn doc_for_change(&mut self, pkg: &str) -> Result<&mut Doc, BackendError> {
        let snapshot = self.doc(pkg)?.clone();
        self.originals.entry(pkg.to_string()).or_insert(snapshot);
        self.doc(pkg)
    }

    fn section_id(&mut self, args: &Args) -> Result<(String, String), BackendError> {
        let pkg = args.str("package")?.to_string();
        let reference = args.str("section")?.to_string();
        let id = self
            .doc(&pkg)?
            .resolve(&reference)
            .map(|s| s.id)
            .ok_or_else(|| BackendError::NotFound(format!("{pkg}.{reference}")))?;
        Ok((pkg, id))
    }
}

/// `@type[option=value]` → (type, option, value).
fn selector(reference: &str) -> Option<(&str, &str, &str)> {
    let (ty, idx) = reference
        .strip_prefix('@')?
        .strip_suffix(']')?
        .split_once('[')?;
    let (opt, value) = idx.split_once('=')?;
    (!ty.is_empty() && !opt.is_empty()).then_some((ty, opt, value))
}

impl Uci {
    /// Adds the section a `@type[option=value]` reference names.
    fn create_section(&mut self, args: &Args) -> Result<(String, String), BackendError> {
        let pkg = args.str("package")?.to_string();
        let reference = args.str("section")?.to_string();
        let (ty, opt, value) = selector(&reference)
            .ok_or_else(|| BackendError::BadArgs(format!("create: section {reference:?}")))?;
        let d = self.doc_for_change(&pkg)?;
        let id = d
            .add_section(ty, None)
            .ok_or_else(|| BackendError::Limit(format!("{pkg}: cannot add a {ty} section")))?;
        d.set_option(&id, opt, value);
        Ok((pkg, id))
    }
}

impl Handler for Uci {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), String> {
        let allowed: &[&str] = if kind == BindingKind::Table {
            &TABLE_KEYS
        } else {
            &VALUE_KEYS
        };
        if let Some(k) = args.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("unknown argument `{k}`"));
        }
        let need = |k: &str| -> Result<(), String> {
            match args.get(k) {
                Some(toml::Value::String(_)) => Ok(()),
                _ => Err(format!("`{k}` (a string) is required")),
            }
        };
        need("package")?;
        if let Some(p) = args.get("package").and_then(|v| v.as_str()) {
            if !p.contains('{') && !valid_package(p) {
                return Err(format!("invalid package name {p:?}"));
            }
        }
        for key in ["each", "each_default", "word"] {
            if args.get(key).is_some_and(|v| !v.is_str()) {
                return Err(format!("`{key}` must be a string"));
            }
        }
        if kind == BindingKind::Table {
            need("type")?;
            if args
                .get("exclude")
                .is_some_and(|v| !v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str())))
            {
                return Err("`exclude` must be a list of strings".into());
            }
            for (key, need) in [
                ("match", &[][..]),
                ("defaults", &[][..]),
                ("join", &["package", "by"][..]),
                ("within", &["option", "network", "netmask"][..]),
            ] {
                match args.get(key) {
                    None => {}
                    Some(toml::Value::Table(t))
                        if t.values().all(|x| x.is_str())
                            && need.iter().all(|k| t.contains_key(*k)) => {}
                    Some(_) if need.is_empty() => {
                        return Err(format!("`{key}` must be a table of strings"))
                    }
                    Some(_) => {
                        return Err(format!(
                            "`{key}` must be a table of strings with {}",
                            need.join(", ")
                        ))
                    }
                }
            }
            return Ok(());
        }
        if args.contains_key("mtime") {
            if args.get("mtime").and_then(|v| v.as_bool()) != Some(true) || args.len() != 2 {
                return Err("`mtime = true` goes with a `package` and nothing else".into());
            }
            if kind == BindingKind::ReadWrite {
                return Err("a file's modification time cannot be written".into());
            }
            return Ok(());
        }
        need("section")?;
        need("option")?;
        if args.get("unset").is_some_and(|v| !v.is_str()) {
            return Err("`unset` must be a string (the value that removes the option)".into());
        }
        if args.get("create").is_some() {
            let selector = args
                .get("section")
                .and_then(|v| v.as_str())
                .and_then(selector);
            if selector.is_none() {
                return Err("`create` needs a section `@type[option=value]`".into());
            }
        }
        if args.contains_key("map_with") && args.get("map").is_none_or(|m| m.as_table().is_none()) {
            return Err("`map_with` needs `map`".into());
        }
        if args
            .get("map_with")
            .is_some_and(|v| !v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str())))
        {
            return Err("`map_with` must be a list of option names".into());
        }
        for k in ["suffix", "unmapped", "allowed"] {
            if args.get(k).is_some_and(|v| !v.is_str()) {
                return Err(format!("`{k}` must be a string"));
            }
        }
        if args.contains_key("unmapped") && !args.contains_key("map_default") {
            return Err("`unmapped` needs `map_default`, the value it writes for".into());
        }
        if args
            .get("when")
            .is_some_and(|v| !v.as_table().is_some_and(|t| t.values().all(|x| x.is_str())))
        {
            return Err("`when` must be a table of strings".into());
        }
        for key in ["has", "empty"] {
            if args.get(key).is_some_and(|v| !v.is_str()) {
                return Err(format!("`{key}` must be a string"));
            }
        }
        if args.contains_key("empty") && !args.contains_key("has") {
            return Err("`empty` goes with `has`".into());
        }
        for flag in ["list", "bool", "invert", "duration", "words", "create"] {
            if args.get(flag).is_some_and(|v| v.as_bool().is_none()) {
                return Err(format!("`{flag}` must be true or false"));
            }
        }
        if args
            .get("item")
            .is_some_and(|v| !matches!(v.as_integer(), Some(i) if i >= 0))
        {
            return Err("`item` must be a non-negative integer".into());
        }
        text::check_rules(
            &args
                .iter()
                .filter(|(k, _)| ["map", "map_default", "scale", "divide"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    fn begin(&mut self) {
        // Documents are re-validated against the file's mtime and size on their first use
        // in each operation.
        self.checked.clear();
        if !self.originals.is_empty() {
            self.abort();
        }
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        if args.opt_bool("mtime")? == Some(true) {
            let pkg = args.str("package")?;
            if !valid_package(pkg) {
                return Err(BackendError::BadArgs(format!("package {pkg:?}")));
            }
            return words::mtime(&self.dir.join(pkg));
        }
        let option = args.str("option")?.to_string();
        if args.opt_str("has")?.is_some() || args.opt_bool("words")?.unwrap_or(false) {
            let configured = match self.section_id(args) {
                Ok((pkg, id)) => flags::items(self.doc(&pkg)?, &id, &option),
                Err(BackendError::NotFound(_)) if args.opt_str("default")?.is_some() => None,
                Err(e) => return Err(e),
            };
            return flags::value(configured, args);
        }
        let is_list = args.opt_bool("list")?.unwrap_or(false) || args.opt_int("item")?.is_some();
        let (pkg, id, raw) = match self.section_id(args) {
            Ok((pkg, id)) => {
                let d = self.doc(&pkg)?;
                // `when`: the value exists only in sections whose options hold these values
                // (802.11h only on a 5 GHz radio); `""` stands for an option left out.
                if let Some(when) = sub_table(args, "when")? {
                    let holds = when.iter().all(|(k, v)| {
                        d.option(&id, k).unwrap_or_default().as_str() == v.as_str().unwrap_or("-")
                    });
                    if !holds {
                        return Err(BackendError::NotFound(format!(
                            "{pkg}.{id}.{option}: not in this kind of section"
                        )));
                    }
                }
                let raw = if is_list {
                    let items = d.list(&id, &option);
                    match args.opt_int("item")? {
                        Some(n) => items.get(n as usize).cloned(),
                        None if items.is_empty() => None,
                        None => Some(items.join(",")),
                    }
                } else {
                    d.option(&id, &option)
                };
                (pkg, id, raw)
            }
            // No such package file or section: nothing is configured there, so a default
            // applies as it does to a missing option (`uci get … || echo default`).
            Err(BackendError::NotFound(_)) if args.opt_str("default")?.is_some() => {
                (String::new(), String::new(), None)
            }
            Err(e) => return Err(e),
        };
        let raw = match (raw, args.opt_str("default")?) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_string(),
            (None, None) if is_list => String::new(),
            (None, None) => return Err(BackendError::NotFound(format!("{pkg}.{id}.{option}"))),
        };
        let raw = words::pick(raw, args.opt_str("word")?, || {
            format!("{pkg}.{id}.{option}")
        })?;
        if args.opt_bool("duration")?.unwrap_or(false) {
            return duration_secs(&raw).map(|n| n.to_string()).ok_or_else(|| {
                BackendError::InvalidValue(format!(
                    "{pkg}.{id}.{option} = {raw:?} is not a duration"
                ))
            });
        }
        if args.opt_bool("bool")?.unwrap_or(false) {
            let b = truthy(&raw).ok_or_else(|| {
                BackendError::InvalidValue(format!(
                    "{pkg}.{id}.{option} = {raw:?} is not a boolean"
                ))
            })?;
            return Ok((b != args.opt_bool("invert")?.unwrap_or(false)).to_string());
        }
        // `map_with`: the map is keyed by another option too (`"<band> <htmode>"`).
        let with = self.map_with(args, &pkg, &id)?;
        let (raw, rules): (String, &[&str]) = match (with, args.table.get("map")) {
            (Some(with), Some(toml::Value::Table(map))) => {
                match mapping::lookup(map, &with, &raw) {
                    Some(v) => (v, &["scale", "divide"]),
                    None => (raw, &["map", "map_default", "scale", "divide"]),
                }
            }
            _ => (raw, &["map", "map_default", "scale", "divide"]),
        };
        let mapped = Args {
            table: args
                .table
                .iter()
                .filter(|(k, _)| rules.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            path: String::new(),
        };
        // `suffix`: what TR-181 adds to the stored value (a regulatory domain's
        // environment octet after UCI's country code).
        let suffix = args.opt_str("suffix")?.unwrap_or("");
        Ok(text::extract(&raw, &mapped)? + suffix)
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        // `unset`: this TR-181 value means "not configured" (MaxBitRate -1, DuplexMode
        // Auto): the option is removed, and where no section holds it nothing is written.
        let unset = args.opt_str("unset")? == Some(value);
        let (pkg, id) = match self.section_id(args) {
            Ok(found) => found,
            Err(BackendError::NotFound(_)) if unset => return Ok(()),
            // `create`: the `@type[option=value]` section is added (a device section for a
            // port that had none).
            Err(BackendError::NotFound(_)) if args.opt_bool("create")?.unwrap_or(false) => {
                self.create_section(args)?
            }
            Err(e) => return Err(e),
        };
        let option = args.str("option")?.to_string();
        if let Some(when) = sub_table(args, "when")? {
            let d = self.doc(&pkg)?;
            if !when.iter().all(|(k, v)| {
                d.option(&id, k).unwrap_or_default().as_str() == v.as_str().unwrap_or("-")
            }) {
                return Err(BackendError::NotFound(format!("{pkg}.{id}.{option}")));
            }
        }
        if unset {
            self.doc_for_change(&pkg)?.delete_option(&id, &option);
            return Ok(());
        }
        if args.opt_str("has")?.is_some() || args.opt_bool("words")?.unwrap_or(false) {
            let d = self.doc_for_change(&pkg)?;
            return if flags::set(d, &id, &option, args, value)? {
                Ok(())
            } else {
                Err(BackendError::NotFound(format!("{pkg}.{id}")))
            };
        }
        let raw = if args.opt_bool("duration")?.unwrap_or(false) {
            if value.starts_with('-') {
                "infinite".to_string()
            } else {
                value.to_string()
            }
        } else if args.opt_bool("bool")?.unwrap_or(false) {
            let b = value == "true";
            if b != args.opt_bool("invert")?.unwrap_or(false) {
                "1"
            } else {
                "0"
            }
            .to_string()
        } else if let Some(suffix) = args.opt_str("suffix")? {
            value
                .strip_suffix(suffix)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    BackendError::InvalidValue(format!("{value:?} does not end with {suffix:?}"))
                })?
                .to_string()
        } else if let Some(raw) = self.unmapped(&pkg, &id, &option, args, value)? {
            raw
        } else if let (Some(with), Some(toml::Value::Table(map))) =
            (self.map_with(args, &pkg, &id)?, args.table.get("map"))
        {
            mapping::check_allowed(args, value)?;
            let current = self.doc(&pkg)?.option(&id, &option);
            mapping::reverse(map, &with, value, current.as_deref())?
        } else {
            mapping::check_allowed(args, value)?;
            text::reverse_map(value, args)?
        };
        let mut item = args.opt_int("item")?;
        let is_list = args.opt_bool("list")?.unwrap_or(false);
        let word = args.opt_str("word")?.unwrap_or("").to_string();
        let d = self.doc_for_change(&pkg)?;
        // `word` in a UCI list: that item is replaced (in a plain option, the whole option).
        if !word.is_empty() {
            if let Some(i) = d.list(&id, &option).iter().position(|x| *x == word) {
                item = i64::try_from(i).ok();
            }
        }
        let ok = match (item, is_list) {
            (Some(n), _) => {
                let mut items = d.list(&id, &option);
                let n = n as usize;
                if n > items.len() {
                    return Err(BackendError::InvalidValue(format!(
                        "{pkg}.{id}.{option}: no item {n}"
                    )));
                }
                if n == items.len() {
                    items.push(raw);
                } else {
                    items[n] = raw;
                }
                items.retain(|i| !i.is_empty());
                d.set_list(&id, &option, &items)
            }
            (None, true) => {
                let items: Vec<String> = raw
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                d.set_list(&id, &option, &items)
            }
            (None, false) => d.set_option(&id, &option, &raw),
        };
        if ok {
            Ok(())
        } else {
            Err(BackendError::NotFound(format!("{pkg}.{id}")))
        }
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let pkg = args.str("package")?.to_string();
        let ty = args.str("type")?.to_string();
        let exclude = args.opt_str_list("exclude")?.unwrap_or_default();
        let only = args.opt_str("name")?.map(String::from);
        let each = args.opt_str("each")?.map(String::from);
        let each_default = args.opt_str("each_default")?.unwrap_or("").to_string();
        let want: Vec<(String, String)> = match args.table.get("match") {
            Some(toml::Value::Table(t)) => t
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
            _ => Vec::new(),
        };
        // `join`: each row also carries the options of the section of another package named
        // by one of its options (a DHCP pool's `interface` → that network interface), as
        // variables with a prefix (`net_ipaddr`).
        let join = sub_table(args, "join")?.map(|t| {
            let s = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            (s("package"), s("by"), s("prefix"))
        });
        let joined: Option<Doc> = match &join {
            Some((p, _, _)) => Some(self.doc(p)?.clone()),
            None => None,
        };
        // `within`: only rows whose `option` holds an address inside network/netmask; rows
        // without it are kept when their name starts with `or_prefix` (sections added here).
        let within = match sub_table(args, "within")? {
            Some(t) => {
                let s = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                let (net, m) = (s("network"), s("netmask"));
                match (ipv4(&net), mask(&m)) {
                    (Some(n), Some(m)) => Some((s("option"), n & m, m, s("or_prefix"))),
                    // The pool's network is not configured: nothing lies inside it.
                    _ => return Ok(Vec::new()),
                }
            }
            None => None,
        };
        let d = self.doc(&pkg)?;
        let mut out = Vec::new();
        for s in d.sections().into_iter().filter(|s| s.ty == ty) {
            if exclude.contains(&s.id.as_str()) || only.as_ref().is_some_and(|o| o != &s.id) {
                continue;
            }
            let opts = d.options(&s.id);
            if !want
                .iter()
                .all(|(k, v)| opts.iter().any(|(n, x)| n == k && x == v))
            {
                continue;
            }
            if let Some((opt, net, m, prefix)) = &within {
                let inside = match opts.iter().find(|(n, _)| n == opt) {
                    Some((_, v)) => ipv4(v).is_some_and(|a| a & m == *net),
                    None => !prefix.is_empty() && s.id.starts_with(prefix.as_str()),
                };
                if !inside {
                    continue;
                }
            }
            let mut inst = Instance::new(s.id.clone())
                .var("section", s.id.clone())
                .var("index", s.index.to_string());
            if let (Some((_, by, prefix)), Some(jd)) = (&join, &joined) {
                let target = opts.iter().find(|(n, _)| n == by).map(|(_, v)| v.clone());
                if let Some(t) = target.and_then(|t| jd.resolve(&t)) {
                    for (k, v) in jd.options(&t.id) {
                        inst = inst.var(&format!("{prefix}{k}"), v);
                    }
                }
            }
            let words = each.as_deref().map(|e| words::of(&opts, e, &each_default));
            for (k, v) in opts {
                // Lists are joined with spaces; `ucilist_` has them with commas, as TR-181
                // lists and `ref` keys want them.
                inst = inst.var(
                    &format!("ucilist_{k}"),
                    v.split(' ').collect::<Vec<_>>().join(","),
                );
                inst = inst.var(&format!("uci_{k}"), v);
            }
            match words {
                Some(w) => words::rows(inst, &s.id, &w, &mut out),
                None => out.push(inst),
            }
        }
        Ok(out)
    }

    fn add(&mut self, args: &Args) -> Result<Instance, BackendError> {
        let pkg = args.str("package")?.to_string();
        let ty = args.str("type")?.to_string();
        let prefix = args.opt_str("name_prefix")?.map(String::from);
        let d = self.doc_for_change(&pkg)?;
        let name = prefix.map(|p| {
            (1..)
                .map(|n| format!("{p}{n}"))
                .find(|n| d.resolve(n).is_none())
                .unwrap_or_default()
        });
        let id = d
            .add_section(&ty, name.as_deref())
            .ok_or_else(|| BackendError::Limit(format!("{pkg}: cannot add a {ty} section")))?;
        // `defaults`: options a new section starts with (a port mapping starts disabled,
        // TR-181's default for PortMapping.Enable).
        if let Some(defaults) = sub_table(args, "defaults")? {
            for (k, v) in defaults {
                d.set_option(&id, k, v.as_str().unwrap_or_default());
            }
        }
        let index = d.resolve(&id).map(|s| s.index).unwrap_or(0);
        Ok(Instance::new(id.clone())
            .var("section", id)
            .var("index", index.to_string()))
    }

    fn delete(&mut self, args: &Args, instance: &Instance) -> Result<(), BackendError> {
        let pkg = args.str("package")?.to_string();
        let id = instance
            .vars
            .get("section")
            .cloned()
            .unwrap_or_else(|| instance.key.clone());
        if self.doc_for_change(&pkg)?.delete_section(&id) {
            Ok(())
        } else {
            Err(BackendError::NotFound(format!("{pkg}.{id}")))
        }
    }

    fn prepare(&mut self) -> Result<(), BackendError> {
        // Every changed package is written and synced beside the old one first: a package
        // that cannot be written (a read-only or full /etc/config) fails here, before any
        // file is replaced.
        self.prepared.clear();
        for (pkg, before) in &self.originals {
            let Some(cached) = self.docs.get(pkg) else {
                continue;
            };
            let text = cached.doc.render();
            if text == before.render() {
                continue;
            }
            let path = self.dir.join(pkg);
            match crate::store::stage(&path, text.as_bytes()) {
                Ok(staged) => self.prepared.push((pkg.clone(), staged)),
                Err(e) => {
                    self.prepared.clear();
                    return Err(BackendError::Io(format!("{}: {e}", path.display())));
                }
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        if self.prepared.is_empty() {
            self.prepare()?;
        }
        let mut pending = false;
        let originals = std::mem::take(&mut self.originals);
        self.replaced.clear();
        for (pkg, staged) in std::mem::take(&mut self.prepared) {
            let path = staged.path().to_path_buf();
            if let Err(e) = staged.install() {
                // Put back the packages this commit replaced already, and every document.
                self.originals = originals;
                let _ = self.rollback();
                self.abort();
                return Err(BackendError::Io(format!("{}: {e}", path.display())));
            }
            let stamp = self.stamp(&pkg);
            if let Some(c) = self.docs.get_mut(&pkg) {
                c.stamp = stamp;
            }
            let was_pending = self.pending_apply.contains(&pkg);
            if self.apply_cmds.contains_key(&pkg) {
                self.pending_apply.insert(pkg.clone());
                pending = true;
            }
            if let Some(before) = originals.get(&pkg) {
                self.replaced.push((pkg, before.clone(), was_pending));
            }
        }
        Ok(pending)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        let mut failed = Vec::new();
        for (pkg, before, was_pending) in std::mem::take(&mut self.replaced).into_iter().rev() {
            let path = self.dir.join(&pkg);
            match crate::store::write_atomic(&path, before.render().as_bytes()) {
                Ok(()) => {
                    let stamp = self.stamp(&pkg);
                    self.docs.insert(pkg.clone(), Cached { doc: before, stamp });
                    if !was_pending {
                        self.pending_apply.remove(&pkg);
                    }
                }
                Err(e) => failed.push(format!("{}: {e}", path.display())),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(BackendError::Io(failed.join("; ")))
        }
    }

    fn transactional(&self) -> bool {
        true
    }

    fn abort(&mut self) {
        self.prepared.clear();
        for (pkg, before) in std::mem::take(&mut self.originals) {
            if let Some(c) = self.docs.get_mut(&pkg) {
                c.doc = before;
            }
        }
    }

    fn apply(&mut self) -> Result<(), BackendError> {
        let mut failed = Vec::new();
        for pkg in std::mem::take(&mut self.pending_apply) {
            let Some(argv) = self.apply_cmds.get(&pkg) else {
                continue;
            };
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            log::info!("uci: applying {pkg}: {}", argv.join(" "));
            if let Err(e) = command::run(&refs, APPLY_TIMEOUT) {
                log::warn!("uci: apply {pkg}: {e}");
                failed.push(format!("{pkg}: {e}"));
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
mod tests;
