//! `file`: values read from (and, with `write = true`, written to) files — sysfs, procfs or
//! any text file — with the parse rules of `backend::text`; and tables whose instances are
//! the entries of a directory (`/sys/class/net`, `/proc` with `digits = true`) or the lines
//! of a file that start with a word (`nameserver` lines of `/etc/resolv.conf`: read in
//! place, where a forked `awk` cost a quarter of a session's CPU).
//!
//! A write is staged with the file's old content (read at once: a file whose content cannot
//! be read back cannot be written, since the write could not be undone), goes to the file on
//! `commit`, and `rollback` writes the old content back when another part of the change
//! fails after it.
//!
//! Nothing here may block the agent's loop: a value source that is not a regular file (a
//! FIFO waits for a writer forever, a device may never answer) is refused before it is
//! opened and again after (the open itself is O_NONBLOCK), and every read is bounded
//! ([`MAX_READ`]). Issue 13 §4.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::backend::text;
use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

/// Most bytes read from one file.
pub const MAX_READ: u64 = 64 * 1024;
/// Most directory entries listed as instances.
pub const MAX_ENTRIES: usize = 4096;

/// The file handler.
#[derive(Default)]
pub struct File {
    /// Staged writes: path, new content, old content.
    staged: Vec<(String, Vec<u8>, Vec<u8>)>,
    /// What the last commit wrote: path, old content.
    written: Vec<(String, Vec<u8>)>,
}

/// Opens `path` for reading or writing without blocking, if it is a regular file
/// (sysfs and procfs attributes are).
fn open_regular(path: &Path, write: bool) -> Result<std::fs::File, BackendError> {
    let shown = path.display();
    let not_regular = || BackendError::Io(format!("{shown}: not a regular file"));
    let meta =
        std::fs::metadata(path).map_err(|e| BackendError::NotFound(format!("{shown}: {e}")))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let f = std::fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .truncate(write)
        .custom_flags(nonblocking_flags())
        .open(path)
        .map_err(|e| BackendError::NotFound(format!("{shown}: {e}")))?;
    // The path may have been replaced between the look and the open.
    match f.metadata() {
        Ok(m) if m.is_file() => Ok(f),
        Ok(_) => Err(not_regular()),
        Err(e) => Err(BackendError::Io(format!("{shown}: {e}"))),
    }
}

/// O_NONBLOCK (an open that would wait returns at once) and O_NOCTTY.
fn nonblocking_flags() -> i32 {
    (nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_NOCTTY).bits()
}

/// At most `max` bytes of the regular file `path` (more is an error), opened and read
/// without blocking (a FIFO or a device is refused, not waited on): what every handler that
/// reads a system file uses. A missing file is [`BackendError::NotFound`].
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, BackendError> {
    let f = open_regular(path, false)?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| BackendError::Io(format!("{}: {e}", path.display())))?;
    if buf.len() as u64 > max {
        return Err(BackendError::Limit(format!(
            "{}: larger than {max} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// [`read_limited`] as UTF-8 text.
pub fn read_text(path: &Path, max: u64) -> Result<String, BackendError> {
    String::from_utf8(read_limited(path, max)?)
        .map_err(|_| BackendError::InvalidValue(format!("{}: not UTF-8", path.display())))
}

fn read_bytes(path: &str) -> Result<Vec<u8>, BackendError> {
    read_limited(Path::new(path), MAX_READ)
}

fn read_capped(path: &str) -> Result<String, BackendError> {
    read_text(Path::new(path), MAX_READ)
}

/// Writes `bytes` to the regular file `path` (in one write: sysfs takes a value per write).
fn write_regular(path: &str, bytes: &[u8]) -> Result<(), BackendError> {
    let mut f = open_regular(Path::new(path), true)?;
    f.write_all(bytes).map_err(|e| match e.raw_os_error() {
        Some(22) => BackendError::InvalidValue(format!("{path}: {e}")),
        _ => BackendError::Io(format!("{path}: {e}")),
    })
}

impl Handler for File {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        if kind == BindingKind::Table {
            if args.contains_key("file") {
                for k in args.keys() {
                    if !["file", "word", "heading"].contains(&k.as_str()) {
                        return Err(ArgsError::unknown(k));
                    }
                }
                if !args.get("word").is_some_and(|v| v.is_str()) {
                    return Err("`word` (a string) is required with `file`".into());
                }
                return Ok(());
            }
            for k in args.keys() {
                if !["dir", "prefix", "digits"].contains(&k.as_str()) {
                    return Err(ArgsError::unknown(k));
                }
            }
            if !args.get("dir").is_some_and(|v| v.is_str()) {
                return Err("`dir` (a string) or `file` is required".into());
            }
            return Ok(());
        }
        for k in args.keys() {
            if k != "file" && k != "default" && !text::RULE_KEYS.contains(&k.as_str()) {
                return Err(ArgsError::unknown(k));
            }
        }
        if !args.get("file").is_some_and(|v| v.is_str()) {
            return Err("`file` (a string) is required".into());
        }
        text::check_rules(args)
    }

    fn begin(&mut self) {
        self.staged.clear();
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let path = args.str("file")?;
        match read_capped(path) {
            Ok(raw) => text::extract(&raw, args),
            Err(e) => match args.opt_str("default")? {
                Some(d) => Ok(d.to_string()),
                None => Err(e),
            },
        }
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let path = args.str("file")?.to_string();
        let old = read_bytes(&path)?;
        let raw = text::reverse_map(value, args)?;
        self.staged.push((path, raw.into_bytes(), old));
        Ok(())
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        if let Some(path) = args.opt_str("file")? {
            let text = match read_capped(path) {
                Ok(t) => t,
                // No file: no lines (a host without /etc/resolv.conf has no servers).
                Err(BackendError::NotFound(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            return Ok(word_lines(
                &text,
                args.str("word")?,
                args.opt_str("heading")?,
            ));
        }
        let dir = args.str("dir")?;
        let prefix = args.opt_str("prefix")?.unwrap_or("");
        let digits = args.opt_bool("digits")?.unwrap_or(false);
        let rd =
            std::fs::read_dir(dir).map_err(|e| BackendError::NotFound(format!("{dir}: {e}")))?;
        let mut out: Vec<Instance> = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (digits && !name.bytes().all(|b| b.is_ascii_digit())) {
                continue;
            }
            if out.len() >= MAX_ENTRIES {
                return Err(BackendError::Limit(format!(
                    "{dir}: more than {MAX_ENTRIES} entries"
                )));
            }
            out.push(Instance::new(name.clone()).var("name", name));
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        self.written.clear();
        for (path, new, old) in std::mem::take(&mut self.staged) {
            if let Err(e) = write_regular(&path, &new) {
                let _ = self.rollback();
                return Err(e);
            }
            self.written.push((path, old));
        }
        Ok(false)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        let mut result = Ok(());
        for (path, old) in self.written.drain(..).rev() {
            if let Err(e) = write_regular(&path, &old) {
                log::error!("file: cannot restore {path}: {e}");
                result = Err(BackendError::Io(format!("{path}: {e}")));
            }
        }
        result
    }

    fn abort(&mut self) {
        self.staged.clear();
    }

    fn transactional(&self) -> bool {
        true
    }
}

/// The lines starting with `word`, keyed by their second field (one row a key): vars `line`,
/// `f0`, `f1` … and, with `heading`, `heading` = the rest of the last line before it that
/// starts with `heading` (`# Interface wan` in OpenWrt's resolv.conf.auto).
fn word_lines(text: &str, word: &str, heading: Option<&str>) -> Vec<Instance> {
    let mut out: Vec<Instance> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(rest) = heading.and_then(|h| line.strip_prefix(h)) {
            current = rest.trim().to_string();
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first() != Some(&word) {
            continue;
        }
        let Some(key) = fields.get(1) else { continue };
        if !seen.insert(key.to_string()) || out.len() >= MAX_ENTRIES {
            continue;
        }
        let mut inst = Instance::new(*key).var("line", key.to_string());
        for (i, f) in fields.iter().enumerate() {
            inst = inst.var(&format!("f{i}"), f.to_string());
        }
        if heading.is_some() {
            inst = inst.var("heading", current.clone());
        }
        out.push(inst);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    #[test]
    fn lines_starting_with_a_word_are_rows_with_their_heading() {
        let rows = word_lines(
            "# Interface wan\nnameserver 203.0.113.53\nnameserver 203.0.113.54\n# Interface wan6\n\
             nameserver 2001:db8::1\nnameserver 203.0.113.53\nsearch lan\nnameserver\n",
            "nameserver",
            Some("# Interface "),
        );
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.key.as_str(), r.vars["heading"].as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("203.0.113.53", "wan"),
                ("203.0.113.54", "wan"),
                ("2001:db8::1", "wan6")
            ]
        );
        assert_eq!(rows[0].vars["line"], "203.0.113.53");
        let plain = word_lines("nameserver 10.0.0.1 # x\n", "nameserver", None);
        assert_eq!(plain[0].vars["f2"], "#");
        assert!(!plain[0].vars.contains_key("heading"));
    }

    fn a(t: &str) -> Args {
        Args {
            table: toml::from_str(t).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn writes_go_on_commit_and_roll_back() {
        let d = std::env::temp_dir().join(format!("cwmpd-file-{}", std::process::id()));
        std::fs::create_dir_all(d.join("net/eth0")).unwrap();
        std::fs::create_dir_all(d.join("net/lo")).unwrap();
        let f = d.join("net/eth0/mtu");
        std::fs::write(&f, "1500\n").unwrap();
        let fs = f.display().to_string();
        let mut h = File::default();
        assert_eq!(h.get(&a(&format!("file = \"{fs}\""))).unwrap(), "1500");
        h.set(&a(&format!("file = \"{fs}\"")), "9000").unwrap();
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "1500\n",
            "staged only"
        );
        h.abort();
        h.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "1500\n", "aborted");
        h.set(&a(&format!("file = \"{fs}\"")), "1400").unwrap();
        h.commit().unwrap();
        h.abort();
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "1400",
            "committed writes stay"
        );
        h.rollback().unwrap();
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "1500\n",
            "rolled back"
        );
        let missing = d.join("nope").display().to_string();
        assert!(
            h.set(&a(&format!("file = \"{missing}\"")), "1").is_err(),
            "no old content, no write"
        );
        let dir = d.join("net").display().to_string();
        let names: Vec<String> = h
            .instances(&a(&format!("dir = \"{dir}\"")))
            .unwrap()
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(names, ["eth0", "lo"]);
        let e = h
            .instances(&a(&format!("dir = \"{dir}\"\nprefix = \"e\"")))
            .unwrap();
        assert_eq!(e.len(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_files_big_files_and_defaults() {
        let mut h = File::default();
        assert!(matches!(
            h.get(&a("file = \"/nonexistent/x\"")),
            Err(BackendError::NotFound(_))
        ));
        assert_eq!(
            h.get(&a("file = \"/nonexistent/x\"\ndefault = \"none\""))
                .unwrap(),
            "none"
        );
        let big = std::env::temp_dir().join(format!("cwmpd-file-big-{}", std::process::id()));
        std::fs::write(&big, vec![b'x'; MAX_READ as usize + 1]).unwrap();
        assert!(matches!(
            h.get(&a(&format!("file = \"{}\"", big.display()))),
            Err(BackendError::Limit(_))
        ));
        std::fs::remove_file(&big).unwrap();
        assert!(h
            .check(BindingKind::Read, &toml::from_str("fil = \"x\"").unwrap())
            .is_err());
        assert!(h
            .check(
                BindingKind::Read,
                &toml::from_str("file = \"x\"\nfield = \"a\"").unwrap()
            )
            .is_err());
        assert!(h
            .check(BindingKind::Table, &toml::from_str("file = \"x\"").unwrap())
            .is_err());
    }

    #[test]
    fn a_fifo_or_a_device_is_refused_without_waiting() {
        let d = std::env::temp_dir().join(format!("cwmpd-file-fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let fifo = d.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let fs = fifo.display().to_string();
        let mut h = File::default();
        // Nobody writes to the FIFO: opening it to read would wait for ever.
        let t = std::time::Instant::now();
        let e = h.get(&a(&format!("file = \"{fs}\""))).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        // Nobody reads it either: opening it to write would wait too.
        assert!(h.set(&a(&format!("file = \"{fs}\"")), "1").is_err());
        // A character device that never ends is refused as well (not read to its cap).
        assert!(h.get(&a("file = \"/dev/zero\"")).is_err());
        // The same for every handler reading a system file through read_text (leases,
        // passwd, resolv.conf, board.json, ethtool dumps); a missing one is not found.
        assert!(matches!(
            read_text(&fifo, MAX_READ),
            Err(BackendError::Io(_))
        ));
        assert!(matches!(
            read_text(&d.join("none"), MAX_READ),
            Err(BackendError::NotFound(_))
        ));
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        // The default still stands in for a source that cannot be read.
        assert_eq!(
            h.get(&a(&format!("file = \"{fs}\"\ndefault = \"d\"")))
                .unwrap(),
            "d"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn directory_listing_is_capped() {
        let d = std::env::temp_dir().join(format!("cwmpd-file-many-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for i in 0..MAX_ENTRIES {
            std::fs::write(d.join(i.to_string()), "").unwrap();
        }
        let mut h = File::default();
        let t = a(&format!("dir = \"{}\"\ndigits = true", d.display()));
        assert_eq!(h.instances(&t).unwrap().len(), MAX_ENTRIES);
        std::fs::write(d.join("x-not-digits"), "").unwrap();
        assert_eq!(h.instances(&t).unwrap().len(), MAX_ENTRIES, "filtered out");
        std::fs::write(d.join(MAX_ENTRIES.to_string()), "").unwrap();
        assert!(matches!(h.instances(&t), Err(BackendError::Limit(_))));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reads_real_procfs() {
        let mut h = File::default();
        let up = h
            .get(&a("file = \"/proc/uptime\"\nfield = 0\ndivide = 1"))
            .unwrap();
        assert!(up.parse::<u64>().is_ok(), "{up}");
        let procs = h.instances(&a("dir = \"/proc\"\ndigits = true")).unwrap();
        assert!(procs
            .iter()
            .any(|i| i.key == std::process::id().to_string()));
    }
}
