//! `sensors`: temperature sensors (`Device.DeviceInfo.TemperatureStatus.TemperatureSensor.
//! {i}.`) from sysfs — thermal zones (`class/thermal/thermal_zone*/temp`) and hardware
//! monitors (`class/hwmon/hwmon*/temp*_input`), both in millidegrees Celsius.
//!
//! Minimum and maximum are those of the readings cwmpd took since the sensor's ResetTime
//! (cwmpd's start, re-enabling the sensor, or `Reset`); a hardware monitor's own
//! `temp*_lowest`/`temp*_highest` are used instead when the chip keeps them. A disabled
//! sensor is not read (Status `Disabled`, Value -274, TR-181's "not known"); which sensors
//! are disabled is kept with the stored values (`stored::Values::note`, saved in the device's
//! state file with the change that made it), one key a line; `rollback` undoes a commit.
//!
//! Sensors are keyed by what names them, not by the kernel's enumeration order:
//! `thermal:<type>` and `hwmon:<chip name>:<label or tempN>`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::backend::stored::Values;
use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

/// Most sensors listed.
pub const MAX_SENSORS: usize = 256;
/// TR-181's temperature for "not known" (below absolute zero).
pub const UNKNOWN: i64 = -274;
/// TR-181's dateTime for "never" (TR-106: the Unknown Time).
const NEVER: &str = "0001-01-01T00:00:00Z";

const FIELDS: [&str; 10] = [
    "enable",
    "status",
    "reset",
    "reset_time",
    "value",
    "last_update",
    "min",
    "min_time",
    "max",
    "max_time",
];

/// Where one sensor is read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    /// The millidegree file.
    input: PathBuf,
    /// Chip-kept extremes, when there are.
    lowest: Option<PathBuf>,
    highest: Option<PathBuf>,
    /// Display name.
    name: String,
}

/// What cwmpd tracked for one sensor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Track {
    reset: i64,
    last: Option<(i64, i64)>,
    min: Option<(i64, i64)>,
    max: Option<(i64, i64)>,
}

/// The sensors handler.
pub struct Sensors {
    sys: PathBuf,
    notes: Values,
    /// Which sensors were disabled before the last commit, for `rollback`.
    before: Option<BTreeSet<String>>,
    started: i64,
    disabled: BTreeSet<String>,
    /// Enables set in this session, by sensor.
    staged: BTreeMap<String, bool>,
    /// Sensors whose Reset was set in this session.
    resets: BTreeSet<String>,
    tracks: BTreeMap<String, Box<Track>>,
    sources: Option<BTreeMap<String, Box<Source>>>,
}

/// The record's name among the stored values' notes (and the file of earlier versions).
const NOTE: &str = "sensors-disabled";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn read_trim(p: &Path) -> Option<String> {
    let s = std::fs::read_to_string(p).ok()?;
    Some(s.trim().to_string())
}

fn millis(p: &Path) -> Option<i64> {
    read_trim(p)?.parse().ok()
}

/// Millidegrees to whole degrees, rounded to nearest.
fn degrees(milli: i64) -> i64 {
    (milli + if milli >= 0 { 500 } else { -500 }) / 1000
}

fn date(t: Option<i64>) -> String {
    t.map(crate::codec::datetime::format_utc)
        .unwrap_or_else(|| NEVER.to_string())
}

impl Sensors {
    /// A handler reading `<sys>/class/...` (the board's `[handlers.sensors] sys`, default
    /// `/sys`) and keeping which sensors are disabled with `notes` (read once from
    /// `<state_dir>/sensors-disabled` of earlier versions).
    pub fn new(
        settings: Option<&toml::Value>,
        state_dir: &Path,
        notes: Values,
    ) -> Result<Sensors, ArgsError> {
        let mut sys = PathBuf::from("/sys");
        if let Some(t) = settings {
            let t = t.as_table().ok_or(ArgsError::Settings(
                "handlers.sensors must be a table".into(),
            ))?;
            for (k, v) in t {
                match (k.as_str(), v.as_str()) {
                    ("sys", Some(s)) => sys = PathBuf::from(s),
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.sensors.{k}: unknown or not a string"
                        )))
                    }
                }
            }
        }
        let disabled = notes
            .note_or_file(NOTE, &state_dir.join(NOTE))
            .into_iter()
            .collect();
        Ok(Sensors {
            sys,
            notes,
            before: None,
            started: now(),
            disabled,
            staged: BTreeMap::new(),
            resets: BTreeSet::new(),
            tracks: BTreeMap::new(),
            sources: None,
        })
    }

    fn scan(&self) -> BTreeMap<String, Box<Source>> {
        let mut out = BTreeMap::new();
        let mut add = |key: String, s: Source| {
            if out.len() < MAX_SENSORS {
                let mut k = key.clone();
                let mut n = 2;
                while out.contains_key(&k) {
                    k = format!("{key}#{n}");
                    n += 1;
                }
                out.insert(k, Box::new(s));
            }
        };
        let list = |dir: PathBuf, prefix: &str| -> Vec<PathBuf> {
            let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
                .map(|rd| {
                    rd.flatten()
                        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                        .map(|e| e.path())
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        };
        for zone in list(self.sys.join("class/thermal"), "thermal_zone") {
            let ty = read_trim(&zone.join("type")).unwrap_or_else(|| "thermal".into());
            add(
                format!("thermal:{ty}"),
                Source {
                    input: zone.join("temp"),
                    lowest: None,
                    highest: None,
                    name: ty,
                },
            );
        }
        for mon in list(self.sys.join("class/hwmon"), "hwmon") {
            let chip = read_trim(&mon.join("name")).unwrap_or_else(|| "hwmon".into());
            for input in list(mon.clone(), "temp") {
                let file = input.file_name().map(|f| f.to_string_lossy().into_owned());
                let Some(base) = file.as_deref().and_then(|f| f.strip_suffix("_input")) else {
                    continue;
                };
                let label = read_trim(&mon.join(format!("{base}_label")))
                    .unwrap_or_else(|| base.to_string());
                let opt = |suffix: &str| {
                    let p = mon.join(format!("{base}_{suffix}"));
                    p.exists().then_some(p)
                };
                add(
                    format!("hwmon:{chip}:{label}"),
                    Source {
                        lowest: opt("lowest"),
                        highest: opt("highest"),
                        input: input.clone(),
                        name: format!("{chip} {label}"),
                    },
                );
            }
        }
        out
    }

    fn sources(&mut self) -> &BTreeMap<String, Box<Source>> {
        if self.sources.is_none() {
            self.sources = Some(self.scan());
        }
        self.sources.get_or_insert_with(BTreeMap::new)
    }

    fn source(&mut self, key: &str) -> Result<Source, BackendError> {
        self.sources()
            .get(key)
            .map(|s| (**s).clone())
            .ok_or_else(|| BackendError::NotFound(format!("sensor {key}")))
    }

    /// Takes one reading and updates the tracked extremes.
    fn sample(&mut self, key: &str) -> Result<Option<i64>, BackendError> {
        let src = self.source(key)?;
        let started = self.started;
        let t = self
            .tracks
            .entry(key.to_string())
            .or_insert(Box::new(Track {
                reset: started,
                ..Track::default()
            }));
        let Some(v) = millis(&src.input).map(degrees) else {
            return Ok(None);
        };
        let at = now();
        t.last = Some((v, at));
        if t.min.is_none_or(|(m, _)| v < m) {
            t.min = Some((v, at));
        }
        if t.max.is_none_or(|(m, _)| v > m) {
            t.max = Some((v, at));
        }
        Ok(Some(v))
    }
}

impl Handler for Sensors {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        if kind == BindingKind::Table {
            return match args.keys().next() {
                None => Ok(()),
                Some(k) => Err(ArgsError::unknown(k)),
            };
        }
        for k in args.keys() {
            if !["sensor", "field"].contains(&k.as_str()) {
                return Err(ArgsError::unknown(k));
            }
        }
        if !args.get("sensor").is_some_and(|v| v.is_str()) {
            return Err("`sensor` (a string, usually \"{key}\") is required".into());
        }
        let field = args.get("field").and_then(|v| v.as_str());
        if !field.is_some_and(|f| FIELDS.contains(&f)) {
            return Err(format!("`field` must be one of {}", FIELDS.join(", ")).into());
        }
        if kind == BindingKind::ReadWrite && !matches!(field, Some("enable" | "reset")) {
            return Err("only `enable` and `reset` can be written".into());
        }
        Ok(())
    }

    fn begin(&mut self) {
        self.sources = None;
        self.staged.clear();
        self.resets.clear();
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let key = args.str("sensor")?.to_string();
        let enabled = !self.disabled.contains(&key);
        let field = args.str("field")?;
        if field == "enable" {
            return Ok(enabled.to_string());
        }
        if field == "reset" {
            return Ok("false".into());
        }
        let src = self.source(&key)?;
        let value = if enabled { self.sample(&key)? } else { None };
        let t = self.tracks.get(&key).map(|t| **t).unwrap_or(Track {
            reset: self.started,
            ..Track::default()
        });
        let chip = |p: &Option<PathBuf>| p.as_deref().and_then(millis).map(degrees);
        Ok(match field {
            "status" => match (enabled, value) {
                (false, _) => "Disabled",
                (true, Some(_)) => "Enabled",
                (true, None) => "Error",
            }
            .to_string(),
            "reset_time" => date(Some(t.reset)),
            "value" => value.unwrap_or(UNKNOWN).to_string(),
            "last_update" => date(t.last.map(|l| l.1)),
            "min" => chip(&src.lowest)
                .or(t.min.map(|m| m.0))
                .unwrap_or(UNKNOWN)
                .to_string(),
            "max" => chip(&src.highest)
                .or(t.max.map(|m| m.0))
                .unwrap_or(UNKNOWN)
                .to_string(),
            // The chip does not say when; ours are the times of our readings.
            "min_time" => date(t.min.map(|m| m.1).filter(|_| src.lowest.is_none())),
            "max_time" => date(t.max.map(|m| m.1).filter(|_| src.highest.is_none())),
            other => return Err(BackendError::BadArgs(format!("field {other:?}"))),
        })
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let key = args.str("sensor")?.to_string();
        self.source(&key)?;
        match args.str("field")? {
            "enable" => {
                self.staged.insert(key, value == "true");
            }
            "reset" if value == "true" => {
                self.resets.insert(key);
            }
            "reset" => {}
            _ => return Err(BackendError::Unsupported("set")),
        }
        Ok(())
    }

    fn instances(&mut self, _args: &Args) -> Result<Vec<Instance>, BackendError> {
        Ok(self
            .sources()
            .iter()
            .map(|(k, s)| Instance::new(k.clone()).var("name", s.name.clone()))
            .collect())
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        let before = self.disabled.clone();
        let mut reset = std::mem::take(&mut self.resets);
        for (key, enable) in std::mem::take(&mut self.staged) {
            let was_enabled = !self.disabled.contains(&key);
            if enable {
                self.disabled.remove(&key);
                // TR-181 ResetTime: a transition from Disabled to Enabled resets too.
                if !was_enabled {
                    reset.insert(key);
                }
            } else {
                self.disabled.insert(key);
            }
        }
        // TR-181 ResetTime: a Reset (whatever Enable did in the same session).
        for key in reset {
            self.tracks.insert(
                key,
                Box::new(Track {
                    reset: now(),
                    ..Track::default()
                }),
            );
        }
        if self.disabled != before {
            self.notes
                .set_note(NOTE, self.disabled.iter().cloned().collect());
        }
        self.before = Some(before);
        Ok(false)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        if let Some(before) = self.before.take() {
            self.disabled = before;
            self.notes
                .set_note(NOTE, self.disabled.iter().cloned().collect());
        }
        Ok(())
    }

    fn transactional(&self) -> bool {
        true
    }

    fn abort(&mut self) {
        self.staged.clear();
        self.resets.clear();
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

    fn setup(tag: &str) -> (Dir, Sensors) {
        let d = std::env::temp_dir().join(format!("cwmpd-sensors-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let z = d.join("sys/class/thermal/thermal_zone0");
        let m = d.join("sys/class/hwmon/hwmon3");
        std::fs::create_dir_all(&z).unwrap();
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(z.join("type"), "cpu-thermal\n").unwrap();
        std::fs::write(z.join("temp"), "52300\n").unwrap();
        std::fs::write(m.join("name"), "nct6775\n").unwrap();
        std::fs::write(m.join("temp1_input"), "41000\n").unwrap();
        std::fs::write(m.join("temp1_label"), "SYSTIN\n").unwrap();
        std::fs::write(m.join("temp1_highest"), "63000\n").unwrap();
        std::fs::create_dir_all(d.join("state")).unwrap();
        let mut t = toml::Table::new();
        t.insert(
            "sys".into(),
            toml::Value::String(d.join("sys").display().to_string()),
        );
        let h = Sensors::new(
            Some(&toml::Value::Table(t)),
            &d.join("state"),
            Values::default(),
        )
        .unwrap();
        (Dir(d), h)
    }

    fn args(sensor: &str, field: &str) -> Args {
        let mut t = toml::Table::new();
        t.insert("sensor".into(), toml::Value::String(sensor.into()));
        t.insert("field".into(), toml::Value::String(field.into()));
        Args {
            table: t,
            path: String::new(),
        }
    }

    #[test]
    fn lists_thermal_zones_and_hwmon_inputs_by_name() {
        let (_d, mut h) = setup("list");
        let rows = h.instances(&Args::default()).unwrap();
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["hwmon:nct6775:SYSTIN", "thermal:cpu-thermal"]);
        assert_eq!(rows[0].vars["name"], "nct6775 SYSTIN");
    }

    #[test]
    fn tracks_extremes_of_its_readings_and_prefers_the_chips() {
        let (d, mut h) = setup("track");
        let k = "thermal:cpu-thermal";
        assert_eq!(h.get(&args(k, "value")).unwrap(), "52");
        std::fs::write(d.0.join("sys/class/thermal/thermal_zone0/temp"), "47600\n").unwrap();
        h.begin();
        assert_eq!(h.get(&args(k, "value")).unwrap(), "48");
        assert_eq!(h.get(&args(k, "min")).unwrap(), "48");
        assert_eq!(h.get(&args(k, "max")).unwrap(), "52");
        assert_eq!(h.get(&args(k, "status")).unwrap(), "Enabled");
        assert_ne!(h.get(&args(k, "last_update")).unwrap(), NEVER);
        assert_eq!(h.get(&args("hwmon:nct6775:SYSTIN", "max")).unwrap(), "63");
        assert_eq!(
            h.get(&args("hwmon:nct6775:SYSTIN", "max_time")).unwrap(),
            NEVER
        );
        std::fs::remove_file(d.0.join("sys/class/thermal/thermal_zone0/temp")).unwrap();
        h.begin();
        assert_eq!(h.get(&args(k, "status")).unwrap(), "Error");
        assert_eq!(h.get(&args(k, "value")).unwrap(), "-274");
    }

    #[test]
    fn disabling_stops_reading_survives_a_restart_and_reenabling_resets() {
        let (d, mut h) = setup("enable");
        let k = "thermal:cpu-thermal";
        h.get(&args(k, "value")).unwrap();
        h.set(&args(k, "enable"), "false").unwrap();
        assert_eq!(h.get(&args(k, "status")).unwrap(), "Enabled", "staged");
        h.commit().unwrap();
        assert_eq!(h.get(&args(k, "status")).unwrap(), "Disabled");
        assert_eq!(h.get(&args(k, "value")).unwrap(), "-274");
        let mut again = Sensors::new(
            Some(&toml::Value::Table({
                let mut t = toml::Table::new();
                t.insert(
                    "sys".into(),
                    toml::Value::String(d.0.join("sys").display().to_string()),
                );
                t
            })),
            &d.0.join("state"),
            h.notes.clone(),
        )
        .unwrap();
        assert_eq!(again.get(&args(k, "enable")).unwrap(), "false");
        again.set(&args(k, "enable"), "true").unwrap();
        again.commit().unwrap();
        assert_eq!(
            again.get(&args(k, "min")).unwrap(),
            "52",
            "fresh after re-enabling"
        );
        assert!(again.set(&args("thermal:nope", "enable"), "true").is_err());
    }
}
