//! `rmon`: RMON Ethernet statistics rows (`Device.Ethernet.RMONStats.{i}.`, RFC 2819
//! etherStats) of the interfaces, counted from the kernel's receive counters in sysfs
//! (`class/net/<if>/statistics/rx_bytes`, `rx_packets`, `rx_crc_errors`).
//!
//! A row counts from when it was last enabled: `Enable` false stops it (Status `Disabled`,
//! counters 0, as an RMON entry that is not collecting); enabling it again restarts the
//! counts from the kernel's counters at that moment. Rows start enabled, counting since the
//! interface came to be. Disabled rows and the starting points of re-enabled ones are kept
//! with the stored values (`stored::Values::note`, saved in the device's state file with the
//! change that made them), one a line (`<ifname> off` or `<ifname> <bytes> <packets> <crc>`);
//! `rollback` undoes a commit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::backend::stored::Values;
use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler};
use crate::codec::toml;

/// The record's name among the stored values' notes (and the file of earlier versions).
const NOTE: &str = "rmon";

/// Most rows kept in the state file.
pub const MAX_ROWS: usize = 1024;

const FIELDS: [&str; 5] = ["enable", "status", "bytes", "packets", "crc_errors"];
const COUNTERS: [&str; 3] = ["rx_bytes", "rx_packets", "rx_crc_errors"];

/// One row's state: off, or counting from these kernel counter values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Off,
    From([u64; 3]),
}

/// The RMON handler.
pub struct Rmon {
    sys: PathBuf,
    notes: Values,
    rows: BTreeMap<String, Box<Row>>,
    staged: BTreeMap<String, bool>,
    /// The rows before the last commit, for `rollback`.
    before: Option<BTreeMap<String, Box<Row>>>,
}

fn valid_ifname(n: &str) -> bool {
    !n.is_empty() && n.len() <= 15 && !n.contains('/') && n != "." && n != ".."
}

impl Rmon {
    /// A handler reading `<sys>/class/net` (`[handlers.rmon] sys`, default `/sys`) and
    /// keeping its rows with `notes` (read once from `<state_dir>/rmon` of earlier versions).
    pub fn new(
        settings: Option<&toml::Value>,
        state_dir: &Path,
        notes: Values,
    ) -> Result<Rmon, ArgsError> {
        let mut sys = PathBuf::from("/sys");
        if let Some(t) = settings {
            let t = t
                .as_table()
                .ok_or(ArgsError::Settings("handlers.rmon must be a table".into()))?;
            for (k, v) in t {
                match (k.as_str(), v.as_str()) {
                    ("sys", Some(s)) => sys = PathBuf::from(s),
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.rmon.{k}: unknown or not a string"
                        )))
                    }
                }
            }
        }
        let mut rows = BTreeMap::new();
        for line in notes
            .note_or_file(NOTE, &state_dir.join(NOTE))
            .iter()
            .take(MAX_ROWS)
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            let row = match f.as_slice() {
                [_, "off"] => Row::Off,
                [_, b, p, c] => match (b.parse(), p.parse(), c.parse()) {
                    (Ok(b), Ok(p), Ok(c)) => Row::From([b, p, c]),
                    _ => continue,
                },
                _ => continue,
            };
            if let Some(n) = f.first().filter(|n| valid_ifname(n)) {
                rows.insert(n.to_string(), Box::new(row));
            }
        }
        Ok(Rmon {
            sys,
            notes,
            rows,
            staged: BTreeMap::new(),
            before: None,
        })
    }

    fn counters(&self, ifname: &str) -> Result<[u64; 3], BackendError> {
        if !valid_ifname(ifname) {
            return Err(BackendError::BadArgs(format!("ifname {ifname:?}")));
        }
        let mut out = [0u64; 3];
        for (slot, name) in out.iter_mut().zip(COUNTERS) {
            let p = self
                .sys
                .join("class/net")
                .join(ifname)
                .join("statistics")
                .join(name);
            let text = std::fs::read_to_string(&p)
                .map_err(|e| BackendError::NotFound(format!("{}: {e}", p.display())))?;
            *slot = text.trim().parse().map_err(|_| {
                BackendError::InvalidValue(format!("{}: not a counter", p.display()))
            })?;
        }
        Ok(out)
    }

    fn save(&self) {
        let lines = self
            .rows
            .iter()
            .map(|(n, r)| match **r {
                Row::Off => format!("{n} off"),
                Row::From([b, p, c]) => format!("{n} {b} {p} {c}"),
            })
            .collect();
        self.notes.set_note(NOTE, lines);
    }
}

impl Handler for Rmon {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        if kind == BindingKind::Table {
            return Err("rmon has no tables: list the interfaces with netlink".into());
        }
        for k in args.keys() {
            if !["ifname", "field"].contains(&k.as_str()) {
                return Err(ArgsError::unknown(k));
            }
        }
        if !args.get("ifname").is_some_and(|v| v.is_str()) {
            return Err("`ifname` (a string) is required".into());
        }
        let field = args.get("field").and_then(|v| v.as_str());
        if !field.is_some_and(|f| FIELDS.contains(&f)) {
            return Err(format!("`field` must be one of {}", FIELDS.join(", ")).into());
        }
        if kind == BindingKind::ReadWrite && field != Some("enable") {
            return Err("only `enable` can be written".into());
        }
        Ok(())
    }

    fn begin(&mut self) {
        self.staged.clear();
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let ifname = args.str("ifname")?;
        let row = self
            .rows
            .get(ifname)
            .map(|r| **r)
            .unwrap_or(Row::From([0; 3]));
        let field = args.str("field")?;
        match (field, row) {
            ("enable", Row::Off) => return Ok("false".into()),
            ("enable", _) => return Ok("true".into()),
            ("status", Row::Off) => return Ok("Disabled".into()),
            (_, Row::Off) => return Ok("0".into()),
            _ => {}
        }
        let now = match self.counters(ifname) {
            Ok(c) => c,
            Err(_) if field == "status" => return Ok("Error".into()),
            Err(e) => return Err(e),
        };
        let Row::From(start) = row else {
            return Ok("0".into());
        };
        // A counter below its starting point: the interface was recreated since.
        let since = |i: usize| now[i].checked_sub(start[i]).unwrap_or(now[i]);
        Ok(match field {
            "status" => "Enabled".to_string(),
            "bytes" => since(0).to_string(),
            "packets" => since(1).to_string(),
            "crc_errors" => since(2).min(u64::from(u32::MAX)).to_string(),
            other => return Err(BackendError::BadArgs(format!("field {other:?}"))),
        })
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        if args.str("field")? != "enable" {
            return Err(BackendError::Unsupported("set"));
        }
        self.staged
            .insert(args.str("ifname")?.to_string(), value == "true");
        Ok(())
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        let before = self.rows.clone();
        for (ifname, enable) in std::mem::take(&mut self.staged) {
            let was = self
                .rows
                .get(&ifname)
                .map(|r| **r)
                .unwrap_or(Row::From([0; 3]));
            match (enable, was) {
                (false, _) => {
                    self.rows.insert(ifname, Box::new(Row::Off));
                }
                // Enabling an enabled row changes nothing; a disabled one starts now.
                (true, Row::From(_)) => {}
                (true, Row::Off) => {
                    let now = self.counters(&ifname)?;
                    self.rows.insert(ifname, Box::new(Row::From(now)));
                }
            }
        }
        if self.rows.len() > MAX_ROWS {
            self.rows = before;
            return Err(BackendError::Limit(format!(
                "more than {MAX_ROWS} RMON rows"
            )));
        }
        if self.rows != before {
            self.save();
        }
        self.before = Some(before);
        Ok(false)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        if let Some(before) = self.before.take() {
            self.rows = before;
            self.save();
        }
        Ok(())
    }

    fn transactional(&self) -> bool {
        true
    }

    fn abort(&mut self) {
        self.staged.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn setup(tag: &str) -> (Dir, Rmon) {
        let d = std::env::temp_dir().join(format!("cwmpd-rmon-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let s = d.join("sys/class/net/lan1/statistics");
        std::fs::create_dir_all(&s).unwrap();
        std::fs::create_dir_all(d.join("state")).unwrap();
        for (f, v) in [
            ("rx_bytes", "1000"),
            ("rx_packets", "10"),
            ("rx_crc_errors", "1"),
        ] {
            std::fs::write(s.join(f), format!("{v}\n")).unwrap();
        }
        let h = Rmon::new(
            Some(&toml::Value::Table(
                toml::from_str(&format!("sys = \"{}\"", d.join("sys").display())).unwrap(),
            )),
            &d.join("state"),
            Values::default(),
        )
        .unwrap();
        (Dir(d), h)
    }

    fn args(field: &str) -> Args {
        Args {
            table: toml::from_str(&format!("ifname = \"lan1\"\nfield = \"{field}\"")).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn rows_count_from_when_they_were_enabled() {
        let (d, mut h) = setup("count");
        assert_eq!(
            h.get(&args("bytes")).unwrap(),
            "1000",
            "since the interface came up"
        );
        assert_eq!(h.get(&args("status")).unwrap(), "Enabled");
        h.set(&args("enable"), "false").unwrap();
        h.commit().unwrap();
        assert_eq!(h.get(&args("status")).unwrap(), "Disabled");
        assert_eq!(h.get(&args("packets")).unwrap(), "0");
        h.set(&args("enable"), "true").unwrap();
        h.commit().unwrap();
        let s = d.0.join("sys/class/net/lan1/statistics");
        std::fs::write(s.join("rx_bytes"), "1500\n").unwrap();
        std::fs::write(s.join("rx_crc_errors"), "3\n").unwrap();
        assert_eq!(h.get(&args("bytes")).unwrap(), "500");
        assert_eq!(h.get(&args("crc_errors")).unwrap(), "2");
        // Kept across a restart.
        let mut again = Rmon::new(
            Some(&toml::Value::Table(
                toml::from_str(&format!("sys = \"{}\"", d.0.join("sys").display())).unwrap(),
            )),
            &d.0.join("state"),
            h.notes.clone(),
        )
        .unwrap();
        assert_eq!(again.get(&args("bytes")).unwrap(), "500");
    }

    #[test]
    fn a_missing_interface_is_an_error_and_names_cannot_escape_sysfs() {
        let (_d, mut h) = setup("missing");
        let mut a = args("bytes");
        a.table
            .insert("ifname".into(), toml::Value::String("../../etc".into()));
        assert!(matches!(h.get(&a), Err(BackendError::BadArgs(_))));
        a.table
            .insert("ifname".into(), toml::Value::String("eth9".into()));
        assert!(matches!(h.get(&a), Err(BackendError::NotFound(_))));
        a.table
            .insert("field".into(), toml::Value::String("status".into()));
        assert_eq!(h.get(&a).unwrap(), "Error");
    }
}
