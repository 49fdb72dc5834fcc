//! Reading a [`Table`] into a typed struct, field by field: each field is taken out with the
//! type it must have, and [`Fields::finish`] refuses any key left over, so a misspelt key in a
//! config or board file is an error that names it (and its line, when the document was parsed
//! with lines) instead of being ignored.

use std::collections::BTreeMap;
use std::fmt;

use super::parse::{Lines, SEP};
use super::value::{Table, Value};

/// A field that is missing, of the wrong type, out of range or unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// 1-based line of the key (or of its table), 0 when unknown.
    pub line: usize,
    /// What is wrong, naming the key's dotted path.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for FieldError {}

/// A table whose fields are being taken.
pub struct Fields<'l> {
    table: Table,
    /// Dotted name for messages (`transfer.download`), empty at the root.
    name: String,
    /// [`Lines`] key of this table.
    key: String,
    lines: Option<&'l Lines>,
}

/// Shorthand for a field's result.
pub type FieldResult<T> = Result<T, FieldError>;

impl Fields<'static> {
    /// Fields of a table with no line information.
    pub fn new(table: Table) -> Fields<'static> {
        Fields {
            table,
            name: String::new(),
            key: String::new(),
            lines: None,
        }
    }
}

impl<'l> Fields<'l> {
    /// Fields of a document's root table with the lines it was parsed with.
    pub fn with_lines(table: Table, lines: &'l Lines) -> Fields<'l> {
        Fields {
            table,
            name: String::new(),
            key: String::new(),
            lines: Some(lines),
        }
    }

    /// The dotted name of a key of this table.
    pub fn path(&self, k: &str) -> String {
        if self.name.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.name)
        }
    }

    fn child_key(&self, k: &str) -> String {
        format!("{}{SEP}{k}", self.key)
    }

    /// The line of a key of this table (of the table itself when the key has none).
    pub fn line(&self, k: &str) -> usize {
        let Some(lines) = self.lines else { return 0 };
        lines
            .get(&self.child_key(k))
            .or_else(|| lines.get(&self.key))
            .copied()
            .unwrap_or(0)
    }

    /// An error about key `k`.
    pub fn error(&self, k: &str, what: impl fmt::Display) -> FieldError {
        FieldError {
            line: self.line(k),
            message: format!("`{}`: {what}", self.path(k)),
        }
    }

    fn wrong(&self, k: &str, want: &str, v: &Value) -> FieldError {
        self.error(k, format_args!("expected {want}, found {}", v.type_str()))
    }

    /// True when the key is present.
    pub fn has(&self, k: &str) -> bool {
        self.table.contains_key(k)
    }

    /// Takes a key's value as it is.
    pub fn take(&mut self, k: &str) -> Option<Value> {
        self.table.remove(k)
    }

    /// An optional string.
    pub fn opt_str(&mut self, k: &str) -> FieldResult<Option<String>> {
        match self.table.remove(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong(k, "a string", &v)),
        }
    }

    /// A string that must be present.
    pub fn str(&mut self, k: &str) -> FieldResult<String> {
        self.opt_str(k)?.ok_or_else(|| self.error(k, "missing"))
    }

    /// An optional boolean.
    pub fn opt_bool(&mut self, k: &str) -> FieldResult<Option<bool>> {
        match self.table.remove(k) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(b)),
            Some(v) => Err(self.wrong(k, "true or false", &v)),
        }
    }

    /// A boolean, `false` when absent.
    pub fn flag(&mut self, k: &str) -> FieldResult<bool> {
        Ok(self.opt_bool(k)?.unwrap_or(false))
    }

    /// An optional integer that must fit `T`.
    pub fn opt_int<T: TryFrom<i128>>(&mut self, k: &str) -> FieldResult<Option<T>> {
        match self.table.remove(k) {
            None => Ok(None),
            Some(Value::Integer(i)) => T::try_from(i)
                .map(Some)
                .map_err(|_| self.error(k, format_args!("{i} is out of range"))),
            Some(v) => Err(self.wrong(k, "an integer", &v)),
        }
    }

    /// An integer that must be present and fit `T`.
    pub fn int<T: TryFrom<i128>>(&mut self, k: &str) -> FieldResult<T> {
        self.opt_int(k)?.ok_or_else(|| self.error(k, "missing"))
    }

    /// An optional array of strings.
    pub fn opt_strings(&mut self, k: &str) -> FieldResult<Option<Vec<String>>> {
        match self.table.remove(k) {
            None => Ok(None),
            Some(Value::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for v in a {
                    match v {
                        Value::String(s) => out.push(s),
                        v => return Err(self.wrong(k, "an array of strings", &v)),
                    }
                }
                Ok(Some(out))
            }
            Some(v) => Err(self.wrong(k, "an array of strings", &v)),
        }
    }

    /// An array of strings, empty when absent.
    pub fn strings(&mut self, k: &str) -> FieldResult<Vec<String>> {
        Ok(self.opt_strings(k)?.unwrap_or_default())
    }

    /// An optional string turned into `T` by `f`, which names what it expected.
    pub fn opt_parse<T>(
        &mut self,
        k: &str,
        f: impl FnOnce(&str) -> Option<T>,
        expected: &str,
    ) -> FieldResult<Option<T>> {
        match self.opt_str(k)? {
            None => Ok(None),
            Some(s) => match f(&s) {
                Some(t) => Ok(Some(t)),
                None => Err(self.error(k, format_args!("`{s}` is not {expected}"))),
            },
        }
    }

    /// An optional table as it is.
    pub fn opt_table(&mut self, k: &str) -> FieldResult<Option<Table>> {
        match self.table.remove(k) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(v) => Err(self.wrong(k, "a table", &v)),
        }
    }

    /// A table to read field by field, empty when absent.
    pub fn sub(&mut self, k: &str) -> FieldResult<Fields<'l>> {
        let table = self.opt_table(k)?.unwrap_or_default();
        Ok(self.child(k, table))
    }

    /// Fields of a table found under key `k` of this one (for tables of tables).
    pub fn child(&self, k: &str, table: Table) -> Fields<'l> {
        Fields {
            table,
            name: self.path(k),
            key: self.child_key(k),
            lines: self.lines,
        }
    }

    /// An array of tables (`[[k]]`), each to read field by field; empty when absent.
    pub fn tables(&mut self, k: &str) -> FieldResult<Vec<Fields<'l>>> {
        match self.table.remove(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, v) in a.into_iter().enumerate() {
                    match v {
                        Value::Table(t) => {
                            let mut f = self.child(k, t);
                            f.key = format!("{}{SEP}{i}", f.key);
                            f.name = format!("{}[{i}]", f.name);
                            out.push(f);
                        }
                        v => return Err(self.wrong(k, "an array of tables", &v)),
                    }
                }
                Ok(out)
            }
            Some(v) => Err(self.wrong(k, "an array of tables", &v)),
        }
    }

    /// A table of entries of one type (`{ name = value, … }`), each read from the table by
    /// `read` (a getter such as `|f, k| f.str(k)`); empty when absent.
    pub fn map<T>(
        &mut self,
        k: &str,
        read: fn(&mut Fields<'l>, &str) -> FieldResult<T>,
    ) -> FieldResult<BTreeMap<String, T>> {
        let mut sub = self.sub(k)?;
        let keys: Vec<String> = sub.table.keys().cloned().collect();
        let mut out = BTreeMap::new();
        for key in keys {
            let v = read(&mut sub, &key)?;
            out.insert(key, v);
        }
        Ok(out)
    }

    /// The line of this table's own header or key.
    pub fn own_line(&self) -> usize {
        self.lines
            .and_then(|l| l.get(&self.key))
            .copied()
            .unwrap_or(0)
    }

    /// Ends the reading: any key left is unknown.
    pub fn finish(self) -> FieldResult<()> {
        match self.table.keys().next() {
            None => Ok(()),
            Some(k) => Err(self.error(k, "unknown key")),
        }
    }
}
