//! Loading the generated schema files (`datamodel/*.toml`). The agent loads `Device.toml`
//! plus only the top-level files its board uses, so unused parts of TR-181 cost nothing.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::codec::toml::{self, FieldError, Fields};
use crate::model::schema::{Object, Parameter, Schema};

/// Largest data-model file accepted.
pub const MAX_FILE_BYTES: u64 = 8 << 20;

/// Why the schema could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// A file is missing or unreadable.
    Io(PathBuf, String),
    /// A file is not valid (with the line, 0 when unknown).
    Parse(PathBuf, usize, String),
    /// The same object appears twice.
    Duplicate(PathBuf, String),
    /// An object is in the wrong file (`Device.IP.` in `DeviceInfo.toml`).
    Misplaced(PathBuf, String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(p, e) => write!(f, "datamodel: {}: {e}", p.display()),
            LoadError::Parse(p, line, e) => write!(f, "datamodel: {}:{line}: {e}", p.display()),
            LoadError::Duplicate(p, o) => {
                write!(f, "datamodel: {}: object {o} defined twice", p.display())
            }
            LoadError::Misplaced(p, o) => write!(
                f,
                "datamodel: {}: object {o} does not belong in this file",
                p.display()
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// Parses the generated layout one piece at a time: each `[[object]]` header as a small
/// document, each line of its `param = [` list as one inline table. Parsing the whole file
/// as one TOML document would build a tree about ten times the size of the text, and the
/// allocator keeps that memory: on the Linux board this halves the agent's resident size.
fn parse_objects(text: &str, path: &Path) -> Result<Vec<Object>, LoadError> {
    // An error at `line` of a piece that starts at line `first` of the file.
    let perr = |first: usize, line: usize, message: String| {
        LoadError::Parse(path.to_path_buf(), first + line.max(1) - 1, message)
    };
    let ferr = |first: usize, e: FieldError| perr(first, e.line, e.message);
    let mut objects = Vec::new();
    let mut header = String::new();
    let mut header_line = 0usize;
    let mut params = Vec::new();
    let mut in_params = false;
    let mut started = false;
    let finish = |header: &str,
                  header_line: usize,
                  params: Vec<crate::model::schema::Parameter>|
     -> Result<Object, LoadError> {
        let (table, lines) =
            toml::parse_with_lines(header).map_err(|e| perr(header_line, e.line, e.message))?;
        let mut f = Fields::with_lines(table, &lines);
        let mut obj = Object::read(&mut f).map_err(|e| ferr(header_line, e))?;
        f.finish().map_err(|e| ferr(header_line, e))?;
        obj.params = params;
        // The list grew by doubling: the schema is kept for the agent's life.
        obj.params.shrink_to_fit();
        Ok(obj)
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        let mut in_header = false;
        if in_params {
            if t == "]" {
                in_params = false;
            } else if !t.is_empty() && !t.starts_with('#') {
                params.push(parse_param(t).map_err(|e| perr(n, 1, e.message))?);
            }
        } else if t == "[[object]]" {
            if started {
                objects.push(finish(&header, header_line, std::mem::take(&mut params))?);
            }
            started = true;
            header.clear();
            header_line = n + 1;
        } else if t == "param = [" {
            if !started {
                return Err(LoadError::Parse(
                    path.to_path_buf(),
                    n,
                    "param list outside [[object]]".into(),
                ));
            }
            in_params = true;
        } else if !t.is_empty() && !t.starts_with('#') {
            if !started {
                return Err(LoadError::Parse(
                    path.to_path_buf(),
                    n,
                    "expected [[object]]".into(),
                ));
            }
            header.push_str(line);
            header.push('\n');
            in_header = true;
        }
        if started && !in_header && t != "[[object]]" {
            // Keep the header's own line numbers those of the file.
            header.push('\n');
        }
    }
    if in_params {
        return Err(LoadError::Parse(
            path.to_path_buf(),
            text.lines().count(),
            "unterminated param list".into(),
        ));
    }
    if started {
        objects.push(finish(&header, header_line, params)?);
    }
    Ok(objects)
}

/// One line of a `param = [` list: an inline table, maybe followed by a comma.
fn parse_param(line: &str) -> Result<Parameter, FieldError> {
    let doc = format!("p = {}", line.trim_end_matches(','));
    let mut table = toml::parse(&doc).map_err(|e| FieldError {
        line: 0,
        message: e.message,
    })?;
    let Some(toml::Value::Table(t)) = table.remove("p") else {
        return Err(FieldError {
            line: 0,
            message: "expected an inline table".into(),
        });
    };
    let mut f = Fields::new(t);
    let p = Parameter::read(&mut f)?;
    f.finish()?;
    Ok(p)
}

/// The top-level names present in a data-model directory (`DeviceInfo`, `IP` …), sorted,
/// without `Device` itself.
pub fn available(dir: &Path) -> Result<Vec<String>, LoadError> {
    let rd = std::fs::read_dir(dir).map_err(|e| LoadError::Io(dir.to_path_buf(), e.to_string()))?;
    let mut out: Vec<String> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| s != "Device")
        .collect();
    out.sort();
    Ok(out)
}

fn load_file(
    path: &Path,
    top: &str,
    schema: &mut Schema,
    keep: &dyn Fn(&str) -> bool,
) -> Result<(), LoadError> {
    let meta =
        std::fs::metadata(path).map_err(|e| LoadError::Io(path.to_path_buf(), e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError::Io(
            path.to_path_buf(),
            format!("{} bytes, at most {MAX_FILE_BYTES}", meta.len()),
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::Io(path.to_path_buf(), e.to_string()))?;
    let objects = parse_objects(&text, path)?;
    drop(text);
    let prefix = format!("Device.{top}.");
    for obj in objects {
        let belongs = if top == "Device" {
            obj.path == "Device."
        } else {
            obj.path.starts_with(&prefix)
        };
        if !belongs {
            return Err(LoadError::Misplaced(path.to_path_buf(), obj.path));
        }
        if schema.objects.contains_key(&obj.path) {
            return Err(LoadError::Duplicate(path.to_path_buf(), obj.path));
        }
        if !keep(&obj.path) {
            continue;
        }
        schema.objects.insert(obj.path.clone(), Box::new(obj));
    }
    Ok(())
}

/// Loads `Device.toml` and either every file (`roots = None`) or the named top-level ones.
pub fn load(dir: &Path, roots: Option<&[&str]>) -> Result<Schema, LoadError> {
    load_some(dir, roots, &|_| true)
}

/// Like [`load`], keeping only the objects for which `keep(path)` is true (every file is
/// still parsed and checked). The agent keeps what its board binds, which keeps it small.
pub fn load_some(
    dir: &Path,
    roots: Option<&[&str]>,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Schema, LoadError> {
    let mut schema = Schema::default();
    load_file(&dir.join("Device.toml"), "Device", &mut schema, keep)?;
    let names: Vec<String> = match roots {
        None => available(dir)?,
        Some(r) => r.iter().map(|s| s.to_string()).collect(),
    };
    for name in names {
        if name.is_empty() || name.contains(['/', '.', '\\']) {
            return Err(LoadError::Io(
                dir.join(&name),
                "not a data-model name".into(),
            ));
        }
        load_file(&dir.join(format!("{name}.toml")), &name, &mut schema, keep)?;
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema::{Access, BaseType, NotifyPolicy};

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("datamodel")
    }

    #[test]
    fn the_whole_model_has_790_objects_and_6483_parameters() {
        let s = load(&dir(), None).unwrap();
        assert_eq!(s.counts(), (790, 6483));
    }

    #[test]
    fn facts_survive_generation() {
        let s = load(&dir(), None).unwrap();
        let (_, oui) = s.parameter("Device.DeviceInfo.ManufacturerOUI").unwrap();
        assert_eq!(
            (oui.syntax.min_length, oui.syntax.max_length),
            (Some(6), Some(6))
        );
        assert_eq!(oui.syntax.patterns, vec!["[0-9A-F]{6}".to_string()]);
        assert!(
            s.parameter("Device.DeviceInfo.HardwareVersion")
                .unwrap()
                .1
                .forced_inform
        );
        let ip = s.object("Device.IP.Interface.{i}.").unwrap();
        assert!(ip.is_table());
        assert_eq!(ip.num_entries.as_deref(), Some("InterfaceNumberOfEntries"));
        assert!(ip.unique_keys.iter().any(|k| k == &["Alias".to_string()]));
        assert!(ip.unique_keys.iter().any(|k| k == &["Name".to_string()]));
        assert_eq!(ip.access, Access::ReadWrite);
        let status = &ip.param("Status").unwrap().syntax;
        assert!(status.enumeration.contains(&"LowerLayerDown".to_string()));
        let mtu = &ip.param("MaxMTUSize").unwrap().syntax;
        assert_eq!(mtu.base, BaseType::UnsignedInt);
        assert_eq!(
            (mtu.ranges[0].min, mtu.ranges[0].max),
            (Some(64), Some(65535))
        );
        let pw = s.parameter("Device.ManagementServer.Password").unwrap().1;
        assert!(pw.syntax.hidden);
        // 2.17 leaves minEntries/maxEntries off some new objects: the XSD default is 1.
        let syslog = s.object("Device.Syslog.").unwrap();
        assert_eq!((syslog.min_entries, syslog.max_entries), (1, Some(1)));
        // Alternative sizes (5 or 13 bytes) keep their envelope.
        let wep = &s
            .parameter("Device.WiFi.EndPoint.{i}.Profile.{i}.Security.WEPKey")
            .unwrap()
            .1
            .syntax;
        assert_eq!(
            (wep.base, wep.min_length, wep.max_length, wep.hidden),
            (BaseType::HexBinary, Some(5), Some(13), true)
        );
        let mac = &s
            .parameter("Device.Ethernet.Interface.{i}.MACAddress")
            .unwrap()
            .1
            .syntax;
        assert_eq!(mac.data_type.as_deref(), Some("MACAddress"));
        assert_eq!(mac.max_length, Some(17));
        let bytes = &s
            .parameter("Device.IP.Interface.{i}.Stats.BytesSent")
            .unwrap()
            .1;
        assert_eq!(bytes.syntax.base, BaseType::UnsignedLong);
        assert_eq!(bytes.notify, NotifyPolicy::CanDeny);
        let v4 = &s
            .parameter("Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress")
            .unwrap()
            .1
            .syntax;
        assert_eq!(
            (v4.data_type.as_deref(), v4.max_length),
            (Some("IPv4Address"), Some(15))
        );
        assert!(s
            .parameter("Device.IP.Interface.{i}.LowerLayers")
            .unwrap()
            .1
            .syntax
            .list
            .is_some());
    }

    #[test]
    fn a_subset_loads_only_what_is_named() {
        let s = load(&dir(), Some(&["DeviceInfo"])).unwrap();
        assert!(s.object("Device.DeviceInfo.").is_some());
        assert!(s.object("Device.").is_some());
        assert!(s.object("Device.IP.").is_none());
        assert!(s
            .objects
            .keys()
            .all(|k| k == "Device." || k.starts_with("Device.DeviceInfo.")));
        let both = load(&dir(), Some(&["DeviceInfo", "IP"])).unwrap();
        let ip_only = load(&dir(), Some(&["IP"])).unwrap();
        assert_eq!(
            both.counts().0,
            s.counts().0 + ip_only.counts().0 - 1,
            "Device. is shared"
        );
        assert!(available(&dir()).unwrap().contains(&"IP".to_string()));
    }

    #[test]
    fn bad_files_are_reported_with_file_and_line() {
        let d = std::env::temp_dir().join(format!("cwmpd-load-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(dir().join("Device.toml"), d.join("Device.toml")).unwrap();
        std::fs::write(
            d.join("Bad.toml"),
            "[[object]]\npath = \"Device.Bad.\"\naccess = \"sideways\"\nmin_entries = 1\n",
        )
        .unwrap();
        match load(&d, Some(&["Bad"])).unwrap_err() {
            LoadError::Parse(p, line, m) => {
                assert!(p.ends_with("Bad.toml"));
                assert_eq!(line, 3);
                assert!(m.contains("`access`: `sideways` is not"), "{m}");
            }
            e => panic!("{e}"),
        }
        // Unknown keys, in a header and in a parameter line, are refused with their line.
        for (text, want_line, want) in [
            (
                "# c\n[[object]]\npath = \"Device.Bad.\"\naccess = \"readOnly\"\nmin_entries = 1\ncolour = 2\n",
                6,
                "`colour`: unknown key",
            ),
            (
                "[[object]]\npath = \"Device.Bad.\"\n\n# c\naccess = \"readOnly\"\nparam = [\n  { name = \"A\", access = \"readOnly\", syntax = { type = \"string\" } },\n]\nmin_entries = 1\ncolour = 2\n",
                10,
                "`colour`: unknown key",
            ),
            (
                "[[object]]\npath = \"Device.Bad.\"\naccess = \"readOnly\"\nmin_entries = 1\nparam = [\n  { name = \"A\", access = \"readOnly\", syntax = { type = \"string\", colour = 1 } },\n]\n",
                6,
                "`syntax.colour`: unknown key",
            ),
            (
                "[[object]]\npath = \"Device.Bad.\"\naccess = \"readOnly\"\nmin_entries = 1\nparam = [\n  { name = \"A\", access = \"readOnly\", syntax = { type = \"string\", ranges = [{ max = 18446744073709551616 }] } },\n]\n",
                6,
                "out of range",
            ),
        ] {
            std::fs::write(d.join("Bad.toml"), text).unwrap();
            match load(&d, Some(&["Bad"])).unwrap_err() {
                LoadError::Parse(_, line, m) => {
                    assert_eq!(line, want_line, "{m}");
                    assert!(m.contains(want), "{m}");
                }
                e => panic!("{e}"),
            }
        }
        std::fs::write(
            d.join("Bad.toml"),
            "[[object]]\npath = \"Device.IP.\"\naccess = \"readOnly\"\nmin_entries = 1\n",
        )
        .unwrap();
        assert!(matches!(
            load(&d, Some(&["Bad"])).unwrap_err(),
            LoadError::Misplaced(..)
        ));
        assert!(matches!(
            load(&d, Some(&["Missing"])).unwrap_err(),
            LoadError::Io(..)
        ));
        assert!(matches!(
            load(&d, Some(&["../etc"])).unwrap_err(),
            LoadError::Io(..)
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn duplicates_oversize_files_and_bad_param_lines_are_refused() {
        let d = std::env::temp_dir().join(format!("cwmpd-load2-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(dir().join("Device.toml"), d.join("Device.toml")).unwrap();
        let obj = "[[object]]\npath = \"Device.Dup.\"\naccess = \"readOnly\"\nmin_entries = 1\n";
        std::fs::write(d.join("Dup.toml"), format!("{obj}\n{obj}")).unwrap();
        assert_eq!(
            load(&d, Some(&["Dup"])).unwrap_err(),
            LoadError::Duplicate(d.join("Dup.toml"), "Device.Dup.".into())
        );
        // Line 7 is the broken parameter: the error names it.
        std::fs::write(
            d.join("Dup.toml"),
            format!("{obj}param = [\n  {{ name = \"A\", access = \"readOnly\", syntax = {{ type = \"string\" }} }},\n  {{ name = \"B\", access = }},\n]\n"),
        )
        .unwrap();
        match load(&d, Some(&["Dup"])).unwrap_err() {
            LoadError::Parse(p, line, _) => assert_eq!((p, line), (d.join("Dup.toml"), 7)),
            e => panic!("{e}"),
        }
        let f = std::fs::File::create(d.join("Big.toml")).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        let e = load(&d, Some(&["Big"])).unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
