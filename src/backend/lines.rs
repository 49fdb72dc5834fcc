//! `lines`: the rows of a plain configuration file, one per line that starts with a word
//! (the `nameserver` lines of `/etc/resolv.conf`), read and written in place, and the words
//! of one line as a switch (`dns` on the `hosts:` line of `/etc/nsswitch.conf`).
//!
//! A row's key is its value (`192.0.2.53`; a repeated value gets `#2`, `#3` …), so it
//! survives edits of other lines; a write of the value renames the row
//! ([`Handler::renamed_key`]). With `disabled = "#"` a commented-out line (`# nameserver …`)
//! is a disabled row, which the file's reader ignores. Changes are staged in memory;
//! `prepare` writes each changed file beside the old one, `commit` renames it into place (a
//! symbolic link is followed: the file it names is replaced), `rollback` writes the old text
//! back. It owns no parsing beyond "first word, rest": the file's own syntax stays the
//! program's that reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::backend::{text, Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;
use crate::store::Staged;

/// Largest file read (resolv.conf and nsswitch.conf are a few hundred bytes).
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

const TABLE_KEYS: [&str; 4] = ["file", "word", "disabled", "value_type"];
const VALUE_KEYS: [&str; 9] = [
    "file",
    "word",
    "disabled",
    "value_type",
    "key",
    "field",
    "has",
    "map",
    "map_default",
];

/// The `lines` handler.
#[derive(Default)]
pub struct Lines {
    /// Files changed in this operation: their lines now, and their text before.
    /// By path as text (with the lines boxed: the map type other handlers use, so no code
    /// of its own).
    staged: BTreeMap<String, Box<(Vec<String>, String)>>,
    /// New files written beside the old ones by `prepare`.
    prepared: Vec<Staged>,
    /// Files the last commit replaced, with their text before it.
    replaced: Vec<(PathBuf, String)>,
    /// Rows renamed by the writes of this operation (old key → new key).
    renamed: BTreeMap<String, String>,
}

/// One row: its line number, whether it is enabled, its value.
struct Row {
    line: usize,
    enabled: bool,
    value: String,
}

/// The rows of `lines` starting with `word` (after `disabled` for a disabled one).
fn rows(lines: &[String], word: &str, disabled: Option<&str>) -> Vec<(String, Row)> {
    let mut out: Vec<(String, Row)> = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let (enabled, t) = match disabled.and_then(|d| t.strip_prefix(d)) {
            Some(rest) => (false, rest.trim_start()),
            None => (true, t),
        };
        let mut words = t.split_whitespace();
        if words.next() != Some(word) {
            continue;
        }
        let value = words.collect::<Vec<_>>().join(" ");
        let seen = out.iter().filter(|(_, r)| r.value == value).count();
        let key = if seen == 0 && !value.is_empty() {
            value.clone()
        } else {
            format!("{value}#{}", seen + 1)
        };
        out.push((
            key,
            Row {
                line: n,
                enabled,
                value,
            },
        ));
    }
    out
}

fn render_row(word: &str, disabled: Option<&str>, enabled: bool, value: &str) -> String {
    let prefix = if enabled { "" } else { disabled.unwrap_or("") };
    if value.is_empty() {
        format!("{prefix}{word}")
    } else {
        format!("{prefix}{word} {value}")
    }
}

/// Checks a value against `value_type` (`ip`: an IPv4 or IPv6 address, v6 with a `%zone`).
fn check_value(args: &Args, value: &str) -> Result<(), BackendError> {
    match args.opt_str("value_type")? {
        None => {
            if value.contains(['\n', '\r']) {
                return Err(BackendError::InvalidValue("a line break in a value".into()));
            }
            Ok(())
        }
        Some("ip") => {
            let addr = value.split_once('%').map_or(value, |(a, _)| a);
            let ok = match addr.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(_)) => !value.contains('%'),
                Ok(std::net::IpAddr::V6(_)) => true,
                Err(_) => false,
            };
            if ok && !value.contains(char::is_whitespace) {
                Ok(())
            } else {
                Err(BackendError::InvalidValue(format!(
                    "{value:?} is not an IP address"
                )))
            }
        }
        Some(t) => Err(BackendError::BadArgs(format!("value_type {t:?}"))),
    }
}

impl Lines {
    /// The file's lines as staged in this operation, or as on disk.
    fn lines(&self, file: &Path) -> Result<Vec<String>, BackendError> {
        if let Some(e) = self.staged.get(&*file.to_string_lossy()) {
            return Ok(e.0.clone());
        }
        Ok(read(file)?.lines().map(String::from).collect())
    }

    /// The lines of a file whose words are a switch: it must exist (a system without it,
    /// musl's, has no such switch).
    fn switch_lines(&self, file: &Path) -> Result<Vec<String>, BackendError> {
        if !self.staged.contains_key(&*file.to_string_lossy()) && !file.exists() {
            return Err(BackendError::NotFound(format!("{}", file.display())));
        }
        self.lines(file)
    }

    /// Stages new lines for a file (remembering its text before the first change).
    fn stage(&mut self, file: &Path, lines: Vec<String>) -> Result<(), BackendError> {
        let key = file.to_string_lossy().into_owned();
        if let Some(e) = self.staged.get_mut(&key) {
            e.0 = lines;
            return Ok(());
        }
        let before = read(file)?;
        self.staged.insert(key, Box::new((lines, before)));
        Ok(())
    }

    /// The row an instance key names.
    fn row(&self, args: &Args) -> Result<(Vec<String>, Row), BackendError> {
        let file = PathBuf::from(args.str("file")?);
        let lines = self.lines(&file)?;
        let key = args.str("key")?;
        // A row written twice in one operation is found under the key the first write gave it.
        let key = self.renamed.get(key).map_or(key, String::as_str);
        let row = rows(&lines, args.str("word")?, args.opt_str("disabled")?)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r)
            .ok_or_else(|| BackendError::NotFound(format!("{}: {key}", file.display())))?;
        Ok((lines, row))
    }
}

/// A file's text; a missing file reads as empty (no lines yet: a resolv.conf may be absent).
fn read(file: &Path) -> Result<String, BackendError> {
    match crate::backend::file::read_text(file, MAX_FILE_BYTES) {
        Err(BackendError::NotFound(_)) => Ok(String::new()),
        other => other,
    }
}

/// Where a write of `file` goes: the file a symbolic link names.
fn target(file: &Path) -> PathBuf {
    std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf())
}

fn render(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

impl Handler for Lines {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        let allowed: &[&str] = if kind == BindingKind::Table {
            &TABLE_KEYS
        } else {
            &VALUE_KEYS
        };
        ArgsError::only(args, allowed)?;
        ArgsError::strings_required(args, &["file", "word"])?;
        if args
            .get("value_type")
            .is_some_and(|v| v.as_str() != Some("ip"))
        {
            return Err("`value_type` must be \"ip\"".into());
        }
        if kind != BindingKind::Table {
            match (args.get("has"), args.get("key"), args.get("field")) {
                (Some(h), None, None) if h.is_str() => {}
                (None, Some(k), f)
                    if k.is_str()
                        && f.is_none_or(|f| matches!(f.as_str(), Some("value" | "enable"))) => {}
                _ => {
                    return Err(
                        "give `has` (a word of the line), or `key` with `field` = \"value\" | \"enable\""
                            .into(),
                    )
                }
            }
        }
        Ok(())
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let raw = self.raw(args)?;
        // `map` translates the value (a switch's `true` → `Enabled`).
        let rules = Args {
            table: args
                .table
                .iter()
                .filter(|(k, _)| ["map", "map_default"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            path: String::new(),
        };
        text::extract(&raw, &rules)
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let value = &text::reverse_map(value, args)?;
        self.write(args, value)
    }

    fn renamed_key(&mut self, args: &Args, _value: &str) -> Option<String> {
        self.renamed.remove(args.str("key").ok()?)
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let lines = self.lines(Path::new(args.str("file")?))?;
        let out = rows(&lines, args.str("word")?, args.opt_str("disabled")?)
            .into_iter()
            .map(|(k, r)| {
                Instance::new(k)
                    .var("line", r.value)
                    .var("enabled", r.enabled.to_string())
            })
            .collect();
        Ok(out)
    }

    fn add(&mut self, args: &Args) -> Result<Instance, BackendError> {
        let file = PathBuf::from(args.str("file")?);
        let word = args.str("word")?;
        let disabled = args.opt_str("disabled")?;
        let mut lines = self.lines(&file)?;
        // A new row has no value yet; it starts disabled where the file can say so
        // (TR-181: a new Server's Enable defaults to false).
        lines.push(render_row(word, disabled, disabled.is_none(), ""));
        let key = rows(&lines, word, disabled)
            .pop()
            .map(|(k, _)| k)
            .unwrap_or_default();
        self.stage(&file, lines)?;
        Ok(Instance::new(key.clone())
            .var("line", "")
            .var("enabled", "false"))
    }

    fn delete(&mut self, args: &Args, instance: &Instance) -> Result<(), BackendError> {
        let mut a = args.clone();
        a.table
            .insert("key".into(), toml::Value::String(instance.key.clone()));
        let (mut lines, row) = self.row(&a)?;
        if row.line < lines.len() {
            lines.remove(row.line);
        }
        let file = PathBuf::from(args.str("file")?);
        self.stage(&file, lines)
    }

    fn prepare(&mut self) -> Result<(), BackendError> {
        self.prepared.clear();
        for (file, staged) in &self.staged {
            let (lines, before) = &**staged;
            let text = render(lines);
            if &text == before {
                continue;
            }
            let path = target(Path::new(file));
            match crate::store::stage(&path, text.as_bytes()) {
                Ok(s) => self.prepared.push(s),
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
        let staged = std::mem::take(&mut self.staged);
        self.replaced.clear();
        for s in std::mem::take(&mut self.prepared) {
            let path = s.path().to_path_buf();
            let before = staged
                .iter()
                .find(|(f, _)| target(Path::new(f)) == path)
                .map(|(f, e)| (PathBuf::from(f), e.1.clone()));
            if let Err(e) = s.install() {
                let _ = self.rollback();
                return Err(BackendError::Io(format!("{}: {e}", path.display())));
            }
            if let Some(b) = before {
                self.replaced.push(b);
            }
        }
        Ok(false)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        let mut failed = Vec::new();
        for (file, before) in std::mem::take(&mut self.replaced).into_iter().rev() {
            let path = target(&file);
            if let Err(e) = crate::store::write_atomic(&path, before.as_bytes()) {
                failed.push(format!("{}: {e}", path.display()));
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
        self.staged.clear();
    }

    fn begin(&mut self) {
        self.abort();
        self.renamed.clear();
    }
}

impl Lines {
    /// The value before `map`.
    fn raw(&mut self, args: &Args) -> Result<String, BackendError> {
        if let Some(has) = args.opt_str("has")? {
            let file = Path::new(args.str("file")?);
            let lines = self.switch_lines(file)?;
            let word = args.str("word")?;
            let mut on = None;
            for l in &lines {
                let mut w = l.split_whitespace();
                if w.next() == Some(word) {
                    on = Some(on.unwrap_or(false) || w.any(|x| x == has));
                }
            }
            // No such line: the program's built-in default applies, which the file does
            // not say.
            return on.map(|b| b.to_string()).ok_or_else(|| {
                BackendError::NotFound(format!("{}: no {word} line", file.display()))
            });
        }
        let (_, row) = self.row(args)?;
        Ok(match args.opt_str("field")?.unwrap_or("value") {
            "enable" => row.enabled.to_string(),
            _ => row.value,
        })
    }

    /// Stages a value (after `map`).
    fn write(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let file = PathBuf::from(args.str("file")?);
        let word = args.str("word")?;
        let disabled = args.opt_str("disabled")?;
        if let Some(has) = args.opt_str("has")? {
            let mut lines = self.switch_lines(&file)?;
            let on = value == "true";
            let mut found = false;
            for l in lines.iter_mut() {
                let w: Vec<&str> = l.split_whitespace().collect();
                if w.first() != Some(&word) {
                    continue;
                }
                found = true;
                let mut kept: Vec<&str> = w.into_iter().filter(|x| *x != has).collect();
                if on {
                    kept.push(has);
                }
                *l = kept.join(" ");
            }
            if !found {
                // glibc's default for a missing line is more than this one word.
                return Err(BackendError::NotFound(format!(
                    "{}: no {word} line",
                    file.display()
                )));
            }
            return self.stage(&file, lines);
        }
        let (mut lines, row) = self.row(args)?;
        let line = match args.opt_str("field")?.unwrap_or("value") {
            "enable" => {
                if disabled.is_none() && value != "true" {
                    return Err(BackendError::InvalidValue(
                        "this file has no disabled rows".into(),
                    ));
                }
                if value == "true" && !row.enabled && row.value.is_empty() {
                    return Err(BackendError::InvalidValue(
                        "a row without a value cannot be enabled".into(),
                    ));
                }
                render_row(word, disabled, value == "true", &row.value)
            }
            _ => {
                check_value(args, value)?;
                render_row(word, disabled, row.enabled, value)
            }
        };
        if let Some(l) = lines.get_mut(row.line) {
            *l = line;
        }
        // The row is where it was; its key is what its new value makes it.
        let new = rows(&lines, word, disabled)
            .into_iter()
            .find(|(_, r)| r.line == row.line)
            .map(|(k, _)| k);
        let key = args.str("key")?.to_string();
        match new {
            Some(n) if n != key => {
                self.renamed.insert(key, n);
            }
            _ => {
                self.renamed.remove(&key);
            }
        }
        self.stage(&file, lines)
    }
}

#[cfg(test)]
mod tests;
