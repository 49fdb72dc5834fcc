//! `stored`: values the agent owns and keeps across restarts (ManagementServer settings,
//! Alias values, provisioning codes), and tables whose instances exist only because the ACS
//! added them. Writes are staged by `set`/`add`/`delete`, made current by `commit` (or dropped
//! by `abort`, undone by `rollback`); the device saves them with the rest of its state, in
//! the same atomic write ([`Values`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml::{FieldResult, Fields, Table, Value};
use crate::store::{self, StoreError};

/// The file under the state directory where earlier versions kept the values (read once and
/// moved into the state file).
pub const STORED_FILE: &str = "stored.toml";
/// Format version of the file.
pub const STORED_VERSION: u32 = 1;
/// Most values kept.
pub const MAX_STORED_VALUES: usize = 10_000;
/// Most instances the ACS may create in one stored table.
pub const MAX_STORED_INSTANCES: usize = 1024;

#[derive(Debug, Clone, Default, PartialEq)]
struct Data {
    /// Full instance path → value.
    values: BTreeMap<String, String>,
    /// Table path → instance keys.
    // Boxed: maps of pointer-sized values share one copy of the map code (BENCHMARKS.md,
    // "Size, fourth pass").
    #[allow(clippy::box_collection)]
    tables: BTreeMap<String, Box<Vec<String>>>,
    /// Table path → last key number handed out (u32: four billion adds to one table; the
    /// same map type as the model's instance numbers, so no code of its own).
    counters: BTreeMap<String, u32>,
    /// Other handlers' small durable records, by handler (see [`Values::note`]).
    #[allow(clippy::box_collection)]
    notes: BTreeMap<String, Box<Vec<String>>>,
}

impl Data {
    fn to_table(&self) -> Table {
        let values = self
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()));
        let tables = self
            .tables
            .iter()
            .map(|(k, v)| (k.clone(), (**v).clone().into()));
        let counters = self.counters.iter().map(|(k, v)| (k.clone(), (*v).into()));
        let notes = self
            .notes
            .iter()
            .map(|(k, v)| (k.clone(), (**v).clone().into()));
        let mut t = Table::new();
        t.insert("values".into(), Value::Table(values.collect()));
        t.insert("tables".into(), Value::Table(tables.collect()));
        t.insert("counters".into(), Value::Table(counters.collect()));
        if !self.notes.is_empty() {
            t.insert("notes".into(), Value::Table(notes.collect()));
        }
        t
    }

    fn from_table(table: Table) -> FieldResult<Data> {
        let mut f = Fields::new(table);
        Ok(Data {
            values: f.map("values", |f, k| f.str(k))?,
            tables: f.map("tables", |f, k| f.strings(k).map(Box::new))?,
            counters: f.map("counters", |f, k| f.int(k))?,
            notes: f.map("notes", |f, k| f.strings(k).map(Box::new))?,
        })
    }
}

/// Reads the file an earlier version kept the values in, `Ok(None)` when there is none.
fn read_file(path: &Path) -> Result<Option<Data>, StoreError> {
    store::read_with(path, STORED_VERSION, Data::from_table)
}

#[cfg(test)]
fn write_file(path: &Path, data: &Data) -> Result<(), StoreError> {
    store::write_versioned(path, STORED_VERSION, data.to_table()).map(|_| ())
}

#[derive(Debug, Default)]
struct Book {
    data: Data,
    /// Committed and not yet saved.
    dirty: bool,
}

/// The stored values themselves, saved by the device as the `[stored]` section of its one
/// state file, so that a change and the rest of the state are written together (one atomic
/// write per acknowledged RPC). The handler and the device share them (one thread; clones
/// share).
#[derive(Debug, Clone, Default)]
pub struct Values(Rc<RefCell<Book>>);

impl Values {
    /// The values of a state file's `[stored]` section.
    pub fn from_table(table: Table) -> FieldResult<Values> {
        Ok(Values(Rc::new(RefCell::new(Book {
            data: Data::from_table(table)?,
            dirty: false,
        }))))
    }

    /// The values an earlier version kept in `<state_dir>/stored.toml` (marked unsaved, so
    /// the next save moves them into the state file); `None` when there is no such file.
    pub fn from_legacy_file(state_dir: &Path) -> Option<Values> {
        let path = state_dir.join(STORED_FILE);
        match read_file(&path) {
            Ok(Some(data)) => Some(Values(Rc::new(RefCell::new(Book { data, dirty: true })))),
            Ok(None) => None,
            Err(e) => {
                log::warn!("{e}; stored values start from their defaults");
                None
            }
        }
    }

    /// The `[stored]` section to save.
    pub fn to_table(&self) -> Table {
        self.0.borrow().data.to_table()
    }

    /// True once after a commit changed them (the device saves them).
    pub fn take_dirty(&self) -> bool {
        std::mem::take(&mut self.0.borrow_mut().dirty)
    }

    /// The durable record another handler keeps here (lines of its own format: the netlink
    /// handler's managed addresses, RMON and sensor states), saved with the rest of the
    /// device's state in the same atomic write. `None` before the first [`Values::set_note`].
    pub fn note(&self, handler: &str) -> Option<Vec<String>> {
        self.0
            .borrow()
            .data
            .notes
            .get(handler)
            .map(|n| (**n).clone())
    }

    /// Replaces a handler's record (called from its `commit` or `rollback`; the journal saves
    /// it before the change is acknowledged).
    pub fn set_note(&self, handler: &str, lines: Vec<String>) {
        let mut book = self.0.borrow_mut();
        if book.data.notes.get(handler).map(|n| &**n) != Some(&lines) {
            book.data.notes.insert(handler.to_string(), Box::new(lines));
            book.dirty = true;
        }
    }

    /// A handler's record, or the lines of the file an earlier version kept it in.
    pub fn note_or_file(&self, handler: &str, legacy: &Path) -> Vec<String> {
        self.note(handler).unwrap_or_else(|| {
            std::fs::read_to_string(legacy)
                .map(|t| t.lines().map(String::from).collect())
                .unwrap_or_default()
        })
    }

    /// Forgets every value (a factory reset).
    pub fn clear(&self) {
        let mut book = self.0.borrow_mut();
        book.data = Data::default();
        book.dirty = true;
    }

    /// Marks them unsaved again (a save failed).
    pub fn mark_dirty(&self) {
        self.0.borrow_mut().dirty = true;
    }
}

/// TR-181 InformParameter.ParameterName: a parameter path with `*` in place of instance
/// numbers, or empty.
fn check_pattern(value: &str) -> Result<(), BackendError> {
    let bad = || BackendError::InvalidValue(format!("{value:?} is not a parameter pattern"));
    if value.is_empty() {
        return Ok(());
    }
    if value.ends_with('.') || !value.starts_with("Device.") || value.len() > 256 {
        return Err(bad());
    }
    for seg in value.split('.') {
        let name = seg
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let number = !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit());
        if !(name || number || seg == "*") {
            return Err(bad());
        }
    }
    Ok(())
}

/// TR-181 InformParameter.EventList: Inform events, never `4 VALUE CHANGE` (TR-069 A.3.3.1).
fn check_events(value: &str) -> Result<(), BackendError> {
    for ev in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if ev == "4 VALUE CHANGE" {
            return Err(BackendError::InvalidValue(
                "4 VALUE CHANGE cannot carry InformParameters (TR-069 A.3.3.1)".into(),
            ));
        }
        let known = ev.starts_with("M ")
            || ev.starts_with("X ")
            || ev
                .split_once(' ')
                .is_some_and(|(n, rest)| n.parse::<u8>().is_ok() && !rest.is_empty());
        if !known {
            return Err(BackendError::InvalidValue(format!(
                "{ev:?} is not an Inform event"
            )));
        }
    }
    Ok(())
}

/// The stored handler.
pub struct Stored {
    values: Values,
    staged: Option<Data>,
    /// What the last commit replaced, for `rollback`.
    before: Option<Data>,
}

impl Stored {
    /// A handler over the device's stored values.
    pub fn new(values: Values) -> Stored {
        Stored {
            values,
            staged: None,
            before: None,
        }
    }

    fn read<R>(&self, f: impl FnOnce(&Data) -> R) -> R {
        match &self.staged {
            Some(d) => f(d),
            None => f(&self.values.0.borrow().data),
        }
    }

    fn staged(&mut self) -> &mut Data {
        let base = &self.values;
        self.staged
            .get_or_insert_with(|| base.0.borrow().data.clone())
    }
}

impl Handler for Stored {
    fn check(&self, kind: BindingKind, args: &Table) -> Result<(), ArgsError> {
        let allowed: &[&str] = if kind == BindingKind::Table {
            &[]
        } else {
            &["default", "check"]
        };
        ArgsError::only(args, allowed)?;
        if args.get("default").is_some_and(|v| !v.is_str()) {
            return Err("`default` must be a string".into());
        }
        match args.get("check").map(|v| v.as_str()) {
            None | Some(Some("path-pattern" | "inform-events")) => Ok(()),
            _ => Err("`check` is \"path-pattern\" or \"inform-events\"".into()),
        }
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        match self.read(|d| d.values.get(&args.path).cloned()) {
            Some(v) => Ok(v),
            None => Ok(args.opt_str("default")?.unwrap_or("").to_string()),
        }
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        match args.opt_str("check")? {
            Some("path-pattern") => check_pattern(value)?,
            Some("inform-events") => check_events(value)?,
            _ => {}
        }
        let staged = self.staged();
        if staged.values.len() >= MAX_STORED_VALUES && !staged.values.contains_key(&args.path) {
            return Err(BackendError::Limit(format!(
                "more than {MAX_STORED_VALUES} stored values"
            )));
        }
        staged.values.insert(args.path.clone(), value.to_string());
        Ok(())
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        Ok(self.read(|d| {
            d.tables
                .get(&args.path)
                .map(|keys| keys.iter().map(Instance::new).collect())
                .unwrap_or_default()
        }))
    }

    fn add(&mut self, args: &Args) -> Result<Instance, BackendError> {
        let staged = self.staged();
        if staged.tables.get(&args.path).map_or(0, |t| t.len()) >= MAX_STORED_INSTANCES {
            return Err(BackendError::Limit(format!(
                "{}: more than {MAX_STORED_INSTANCES} instances",
                args.path
            )));
        }
        let n = staged.counters.entry(args.path.clone()).or_insert(0);
        *n = n
            .checked_add(1)
            .ok_or_else(|| BackendError::Limit(format!("{}: key numbers used up", args.path)))?;
        let key = format!("s{n}");
        staged
            .tables
            .entry(args.path.clone())
            .or_default()
            .push(key.clone());
        Ok(Instance::new(key))
    }

    fn delete(&mut self, args: &Args, instance: &Instance) -> Result<(), BackendError> {
        let prefix = instance.vars.get("i").map(|i| format!("{}{i}.", args.path));
        let staged = self.staged();
        let keys = staged.tables.entry(args.path.clone()).or_default();
        let before = keys.len();
        keys.retain(|k| k != &instance.key);
        if keys.len() == before {
            return Err(BackendError::NotFound(instance.key.clone()));
        }
        if let Some(prefix) = prefix {
            staged.values.retain(|k, _| !k.starts_with(&prefix));
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        self.before = None;
        if let Some(staged) = self.staged.take() {
            let mut book = self.values.0.borrow_mut();
            if staged != book.data {
                self.before = Some(std::mem::replace(&mut book.data, staged));
                book.dirty = true;
            }
        }
        Ok(false)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        if let Some(before) = self.before.take() {
            let mut book = self.values.0.borrow_mut();
            book.data = before;
            book.dirty = true;
        }
        Ok(())
    }

    fn abort(&mut self) {
        self.staged = None;
    }

    fn transactional(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("cwmpd-stored-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn a(path: &str, t: &str) -> Args {
        Args {
            table: toml::from_str(t).unwrap(),
            path: path.into(),
        }
    }

    #[test]
    fn values_change_on_commit_and_roll_back() {
        let values = Values::default();
        let mut s = Stored::new(values.clone());
        assert_eq!(
            s.get(&a("Device.X.Alias", "default = \"cpe-1\"")).unwrap(),
            "cpe-1"
        );
        s.set(&a("Device.X.Alias", ""), "mine").unwrap();
        assert_eq!(
            s.get(&a("Device.X.Alias", "")).unwrap(),
            "mine",
            "staged value visible"
        );
        assert!(!values.take_dirty(), "nothing committed");
        s.abort();
        assert_eq!(s.get(&a("Device.X.Alias", "default = \"d\"")).unwrap(), "d");
        s.set(&a("Device.X.Alias", ""), "kept").unwrap();
        s.commit().unwrap();
        assert!(values.take_dirty(), "committed: to be saved");
        let saved = values.to_table();
        let mut again = Stored::new(Values::from_table(saved).unwrap());
        assert_eq!(again.get(&a("Device.X.Alias", "")).unwrap(), "kept");
        // A commit whose state cannot be saved is rolled back.
        s.set(&a("Device.X.Alias", ""), "unsaved").unwrap();
        s.commit().unwrap();
        s.rollback().unwrap();
        assert_eq!(s.get(&a("Device.X.Alias", "")).unwrap(), "kept");
        assert!(s.transactional());
    }

    #[test]
    fn value_and_instance_limits() {
        let mut s = Stored::new(Values::default());
        for i in 0..MAX_STORED_VALUES {
            s.set(&a(&format!("Device.X.{i}"), ""), "v").unwrap();
        }
        s.set(&a("Device.X.0", ""), "replacing is fine").unwrap();
        assert!(matches!(
            s.set(&a("Device.X.over", ""), "v"),
            Err(BackendError::Limit(_))
        ));
        for _ in 0..MAX_STORED_INSTANCES {
            s.add(&a("Device.T.", "")).unwrap();
        }
        assert!(matches!(
            s.add(&a("Device.T.", "")),
            Err(BackendError::Limit(_))
        ));
        s.abort();
    }

    #[test]
    fn tables_add_and_delete() {
        let values = Values::default();
        let mut s = Stored::new(values.clone());
        let i1 = s.add(&a("Device.T.", "")).unwrap();
        let i2 = s.add(&a("Device.T.", "")).unwrap();
        s.set(&a("Device.T.1.V", ""), "x").unwrap();
        s.commit().unwrap();
        assert_eq!(s.instances(&a("Device.T.", "")).unwrap().len(), 2);
        s.delete(
            &a("Device.T.", ""),
            &Instance::new(i1.key.clone()).var("i", "1"),
        )
        .unwrap();
        s.commit().unwrap();
        let mut again = Stored::new(Values::from_table(values.to_table()).unwrap());
        let keys: Vec<String> = again
            .instances(&a("Device.T.", ""))
            .unwrap()
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(keys, vec![i2.key]);
        assert_eq!(
            again.get(&a("Device.T.1.V", "default = \"gone\"")).unwrap(),
            "gone"
        );
        assert!(again
            .delete(&a("Device.T.", ""), &Instance::new("nope"))
            .is_err());
    }

    #[test]
    fn the_file_of_earlier_versions_is_read_and_named_when_wrong() {
        let d = dir("format");
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join(STORED_FILE);
        std::fs::write(
            &f,
            "version = 1\n\n[values]\n\"Device.X.Alias\" = \"a\"\n\n[tables]\n\"Device.T.\" = [\"s1\", \"s3\"]\n\n[counters]\n\"Device.T.\" = 3\n",
        )
        .unwrap();
        let data = read_file(&f).unwrap().unwrap();
        assert_eq!(data.values["Device.X.Alias"], "a");
        assert_eq!(*data.tables["Device.T."], ["s1", "s3"]);
        assert_eq!(data.counters["Device.T."], 3);
        let legacy = Values::from_legacy_file(&d).unwrap();
        assert!(legacy.take_dirty(), "to be moved into the state file");
        assert_eq!(legacy.to_table(), data.to_table());
        write_file(&f, &data).unwrap();
        assert_eq!(read_file(&f).unwrap(), Some(data));
        for (text, want) in [
            (
                "version = 1\n[counters]\n\"Device.T.\" = -1\n",
                "`counters.Device.T.`: -1 is out of range",
            ),
            (
                "version = 1\n[values]\n\"Device.X\" = 5\n",
                "`values.Device.X`: expected a string",
            ),
            ("version = 1\nvalues = []\n", "`values`: expected a table"),
            ("version = 2\n", "version 2, expected 1"),
            ("[values]\n", "no version"),
        ] {
            std::fs::write(&f, text).unwrap();
            let e = read_file(&f).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        assert!(
            Values::from_legacy_file(&d).is_none(),
            "a bad file is not fatal"
        );
        assert_eq!(read_file(&d.join("absent")).unwrap(), None);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
