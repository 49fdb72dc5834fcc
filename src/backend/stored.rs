//! `stored`: values the agent owns and keeps across restarts (ManagementServer settings,
//! Alias values, provisioning codes), and tables whose instances exist only because the ACS
//! added them. Writes are staged by `set`/`add`/`delete`, made current by `commit` (or dropped
//! by `abort`), and written atomically by `flush`, which the agent calls once per loop turn.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::backend::{Args, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml::{FieldResult, Fields, Table, Value};
use crate::store::{self, StoreError};

/// File name under the state directory.
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
    tables: BTreeMap<String, Vec<String>>,
    /// Table path → last key number handed out.
    counters: BTreeMap<String, u64>,
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
            .map(|(k, v)| (k.clone(), v.clone().into()));
        let counters = self.counters.iter().map(|(k, v)| (k.clone(), (*v).into()));
        let mut t = Table::new();
        t.insert("values".into(), Value::Table(values.collect()));
        t.insert("tables".into(), Value::Table(tables.collect()));
        t.insert("counters".into(), Value::Table(counters.collect()));
        t
    }

    fn from_table(table: Table) -> FieldResult<Data> {
        let mut f = Fields::new(table);
        Ok(Data {
            values: f.map("values", |f, k| f.str(k))?,
            tables: f.map("tables", |f, k| f.strings(k))?,
            counters: f.map("counters", |f, k| f.int(k))?,
        })
    }
}

/// Reads the file, `Ok(None)` when there is none.
fn read_file(path: &Path) -> Result<Option<Data>, StoreError> {
    store::read_with(path, STORED_VERSION, Data::from_table)
}

/// Writes the file atomically.
fn write_file(path: &Path, data: &Data) -> Result<(), StoreError> {
    store::write_versioned(path, STORED_VERSION, data.to_table())
}

/// The stored handler.
pub struct Stored {
    file: PathBuf,
    data: Data,
    staged: Option<Data>,
    /// Committed values not yet written.
    dirty: bool,
}

impl Stored {
    /// Opens the store under `state_dir`; an unreadable file is reported and replaced.
    pub fn open(state_dir: &std::path::Path) -> Stored {
        let file = state_dir.join(STORED_FILE);
        let data = match read_file(&file) {
            Ok(d) => d.unwrap_or_default(),
            Err(e) => {
                log::warn!("{e}; stored values start from their defaults");
                Data::default()
            }
        };
        Stored {
            file,
            data,
            staged: None,
            dirty: false,
        }
    }

    fn current(&self) -> &Data {
        self.staged.as_ref().unwrap_or(&self.data)
    }

    fn staged(&mut self) -> &mut Data {
        let base = &self.data;
        self.staged.get_or_insert_with(|| base.clone())
    }
}

impl Handler for Stored {
    fn check(&self, kind: BindingKind, args: &Table) -> Result<(), String> {
        let allowed: &[&str] = if kind == BindingKind::Table {
            &[]
        } else {
            &["default"]
        };
        if let Some(k) = args.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("unknown argument `{k}`"));
        }
        if args.get("default").is_some_and(|v| !v.is_str()) {
            return Err("`default` must be a string".into());
        }
        Ok(())
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        match self.current().values.get(&args.path) {
            Some(v) => Ok(v.clone()),
            None => Ok(args.opt_str("default")?.unwrap_or("").to_string()),
        }
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
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
        Ok(self
            .current()
            .tables
            .get(&args.path)
            .map(|keys| keys.iter().map(Instance::new).collect())
            .unwrap_or_default())
    }

    fn add(&mut self, args: &Args) -> Result<Instance, BackendError> {
        let staged = self.staged();
        if staged.tables.get(&args.path).map_or(0, Vec::len) >= MAX_STORED_INSTANCES {
            return Err(BackendError::Limit(format!(
                "{}: more than {MAX_STORED_INSTANCES} instances",
                args.path
            )));
        }
        let n = staged.counters.entry(args.path.clone()).or_insert(0);
        *n += 1;
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
        if let Some(staged) = self.staged.take() {
            if staged != self.data {
                self.data = staged;
                self.dirty = true;
            }
        }
        Ok(false)
    }

    fn flush(&mut self) -> Result<(), BackendError> {
        if self.dirty {
            write_file(&self.file, &self.data).map_err(|e| BackendError::Io(e.to_string()))?;
            self.dirty = false;
        }
        Ok(())
    }

    fn abort(&mut self) {
        self.staged = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    fn dir(tag: &str) -> PathBuf {
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
    fn values_persist_only_on_commit() {
        let d = dir("persist");
        let mut s = Stored::open(&d);
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
        s.abort();
        assert_eq!(s.get(&a("Device.X.Alias", "default = \"d\"")).unwrap(), "d");
        s.set(&a("Device.X.Alias", ""), "kept").unwrap();
        s.commit().unwrap();
        assert!(
            !d.join(STORED_FILE).exists(),
            "written by flush, not by commit"
        );
        s.flush().unwrap();
        let mut again = Stored::open(&d);
        assert_eq!(again.get(&a("Device.X.Alias", "")).unwrap(), "kept");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn value_and_instance_limits() {
        let d = dir("limits");
        let mut s = Stored::open(&d);
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
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn tables_add_and_delete() {
        let d = dir("tables");
        let mut s = Stored::open(&d);
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
        s.flush().unwrap();
        let mut again = Stored::open(&d);
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
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reads_the_file_as_the_serde_version_wrote_it_and_names_what_is_wrong() {
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
        assert_eq!(data.tables["Device.T."], ["s1", "s3"]);
        assert_eq!(data.counters["Device.T."], 3);
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
        assert_eq!(read_file(&d.join("absent")).unwrap(), None);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_corrupt_file_is_replaced_not_fatal() {
        let d = dir("corrupt");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(STORED_FILE), "version = 1\nvalues = [[[").unwrap();
        let mut s = Stored::open(&d);
        assert_eq!(
            s.get(&a("Device.X", "default = \"fresh\"")).unwrap(),
            "fresh"
        );
        s.set(&a("Device.X", ""), "v").unwrap();
        s.commit().unwrap();
        s.flush().unwrap();
        assert_eq!(Stored::open(&d).get(&a("Device.X", "")).unwrap(), "v");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
