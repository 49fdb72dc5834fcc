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
//!
//! Argument checks: [`check`]; reads: [`get`]; writes: [`set`]; tables of sections:
//! [`sections`]; the transaction: [`txn`].

mod check;
mod dhcp;
mod dhcpopt;
pub mod doc;
mod flags;
mod get;
pub mod items;
mod mapping;
mod sections;
mod set;
mod txn;
mod words;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
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
    // Boxed: maps of pointer-sized values share one copy of the map code (BENCHMARKS.md,
    // "Size, fourth pass").
    #[allow(clippy::box_collection)]
    apply_cmds: BTreeMap<String, Box<Vec<String>>>,
    docs: HashMap<String, Box<Cached>>,
    /// Packages changed in the current operation, with their content before the change.
    originals: BTreeMap<String, Box<Doc>>,
    /// The new files written beside the packages by `prepare`, waiting for `commit`.
    prepared: Vec<(String, crate::store::Staged)>,
    /// Packages the last commit replaced, with their content before it (for `rollback`).
    replaced: Vec<(String, Doc, bool)>,
    /// Packages whose file was checked for changes in this operation: one `stat` per
    /// package per operation, not one per value read.
    checked: BTreeSet<String>,
    pending_apply: BTreeSet<String>,
    /// Item rows renamed by the writes of this operation (old key → new key).
    renamed: BTreeMap<String, String>,
}

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

/// The binding's `default`, unless it names a variable the instance does not have (a pool
/// whose interface has no address: `{net_ipaddr}` left as is): then there is no value.
fn known_default(args: &Args) -> Result<Option<&str>, BackendError> {
    Ok(args
        .opt_str("default")?
        .filter(|d| !(d.contains('{') && d.contains('}'))))
}

fn valid_package(p: &str) -> bool {
    !p.is_empty()
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Uci {
    /// A handler for `settings` = the board's `[handlers.uci]` table (`dir`, `apply.<pkg>`).
    pub fn new(settings: Option<&toml::Value>) -> Result<Uci, ArgsError> {
        let mut dir = PathBuf::from("/etc/config");
        let mut apply_cmds = BTreeMap::new();
        if let Some(t) = settings {
            let t = t
                .as_table()
                .ok_or(ArgsError::Settings("handlers.uci must be a table".into()))?;
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
                                    apply_cmds.insert(pkg.clone(), Box::new(l));
                                }
                                _ => {
                                    return Err(ArgsError::Settings(format!(
                                    "handlers.uci.apply.{pkg} must be a non-empty list of strings"
                                )))
                                }
                            }
                        }
                    }
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.uci.{k}: unknown or of the wrong type"
                        )))
                    }
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
            renamed: BTreeMap::new(),
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
            self.docs
                .insert(pkg.to_string(), Box::new(Cached { doc, stamp }));
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
        self.originals
            .entry(pkg.to_string())
            .or_insert(Box::new(snapshot));
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
impl Handler for Uci {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        check::check(kind, args)
    }

    fn begin(&mut self) {
        self.renamed.clear();
        // Documents are re-validated against the file's mtime and size on their first use
        // in each operation.
        self.checked.clear();
        if !self.originals.is_empty() {
            self.abort();
        }
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        self.get_value(args)
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        self.set_value(args, value)
    }

    fn renamed_key(&mut self, args: &Args, _value: &str) -> Option<String> {
        self.renamed.remove(args.str("row").ok()?)
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        self.section_rows(args)
    }

    fn add(&mut self, args: &Args) -> Result<Instance, BackendError> {
        self.add_row(args)
    }

    fn delete(&mut self, args: &Args, instance: &Instance) -> Result<(), BackendError> {
        self.delete_row(args, instance)
    }

    fn prepare(&mut self) -> Result<(), BackendError> {
        self.stage()
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        self.install()
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        self.restore()
    }

    fn transactional(&self) -> bool {
        true
    }

    fn abort(&mut self) {
        self.discard()
    }

    fn apply(&mut self) -> Result<(), BackendError> {
        self.run_apply()
    }
}

#[cfg(test)]
mod tests;
