//! `json`: a value from a JSON file the system keeps (OpenWrt's `/etc/board.json`: the
//! board's own ports, its named LAN ports and WAN device), picked with the `ubus` handler's
//! `path` steps and read once per operation.
//!
//! `equals` turns the value into a boolean: whether it is that string (an Ethernet port's
//! Upstream: whether the board names it its WAN device). A file or member that is not there
//! reads as `default` when one is given, else as not found.
//!
//! `[handlers.json] root` is where absolute file names start (default `/`; the test
//! fixtures).

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use serde_json::Value;

use crate::backend::ubus::{follow, scalar, steps};
use crate::backend::{text, Args, ArgsError, BackendError, BindingKind, Handler};
use crate::codec::toml;

/// Largest file read (a board.json is a few KB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024;

const KEYS: [&str; 7] = [
    "file",
    "path",
    "equals",
    "default",
    "map",
    "map_default",
    "scale",
];

/// The handler, with this operation's files read (None: absent or not JSON).
#[derive(Default)]
pub struct Json {
    root: Option<PathBuf>,
    /// By path (as text: the map type the model's listings use, so no code of its own).
    files: HashMap<String, Option<Rc<Value>>>,
}

fn read(path: &std::path::Path) -> Option<Value> {
    let text = match crate::backend::file::read_text(path, MAX_FILE_BYTES) {
        Ok(t) => t,
        Err(BackendError::NotFound(_)) => return None,
        Err(e) => {
            log::warn!("json: {e}");
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            log::warn!("json: {}: {e}", path.display());
            None
        }
    }
}

impl Json {
    /// Reads `[handlers.json]`: `root` (optional).
    pub fn new(settings: Option<&toml::Value>) -> Result<Json, ArgsError> {
        let mut h = Json::default();
        if let Some(t) = settings {
            let t = t
                .as_table()
                .ok_or(ArgsError::Settings("handlers.json must be a table".into()))?;
            for (k, v) in t {
                match (k.as_str(), v.as_str()) {
                    ("root", Some(s)) => h.root = Some(PathBuf::from(s)),
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.json.{k}: unknown or not a string"
                        )))
                    }
                }
            }
        }
        Ok(h)
    }

    fn file(&mut self, path: &str) -> Option<Rc<Value>> {
        let p = match &self.root {
            Some(r) => r.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        };
        self.files
            .entry(p.to_string_lossy().into_owned())
            .or_insert_with(|| read(&p).map(Rc::new))
            .clone()
    }
}

impl Handler for Json {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        if kind != BindingKind::Read {
            return Err("json values are read-only (a value binding without write)".into());
        }
        ArgsError::only(args, &KEYS)?;
        ArgsError::strings_required(args, &["file", "path"])?;
        for k in ["equals", "default"] {
            if args.get(k).is_some_and(|v| !v.is_str()) {
                return Err(format!("`{k}` must be a string").into());
            }
        }
        if let Some(p) = args.get("path").and_then(|v| v.as_str()) {
            steps(p).ok_or_else(|| format!("`path` {p:?}: a step `[k=v]` is malformed"))?;
        }
        text::check_rules(args)
    }

    fn begin(&mut self) {
        self.files.clear();
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let file = args.str("file")?.to_string();
        let path = args.str("path")?;
        let st = steps(path).ok_or_else(|| BackendError::BadArgs(format!("path {path:?}")))?;
        let doc = self.file(&file);
        let found = doc.as_deref().and_then(|v| follow(v, &st)).and_then(scalar);
        let raw = match (found, args.opt_str("default")?) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_string(),
            (None, None) => return Err(BackendError::NotFound(format!("{file}: {path}"))),
        };
        if let Some(want) = args.opt_str("equals")? {
            return Ok((raw == want).to_string());
        }
        text::extract(&raw, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(t: &str) -> Args {
        Args {
            table: toml::from_str(t).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn reads_a_member_compares_it_and_defaults_when_absent() {
        let dir = std::env::temp_dir().join(format!("cwmpd-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("board.json");
        std::fs::write(
            &f,
            r#"{"network": {"lan": {"ports": ["lan1", "lan2"]}, "wan": {"device": "wan"}}}"#,
        )
        .unwrap();
        std::fs::write(dir.join("bad.json"), "{ not json").unwrap();
        let settings = toml::from_str(&format!("root = \"{}\"", dir.display())).unwrap();
        let mut h = Json::new(Some(&toml::Value::Table(settings))).unwrap();
        h.begin();
        let at = |rest: &str| args(&format!("file = \"/board.json\"\n{rest}"));
        assert_eq!(h.get(&at("path = \"network/wan/device\"")).unwrap(), "wan");
        let up = |port: &str| {
            at(&format!(
                "path = \"network/wan/device\"\nequals = \"{port}\""
            ))
        };
        assert_eq!(h.get(&up("wan")).unwrap(), "true");
        assert_eq!(h.get(&up("lan1")).unwrap(), "false");
        assert!(matches!(
            h.get(&at("path = \"network/guest/device\"")),
            Err(BackendError::NotFound(_))
        ));
        let none = at("path = \"network/guest/device\"\ndefault = \"\"\nequals = \"wan\"");
        assert_eq!(h.get(&none).unwrap(), "false");
        // A file that is not JSON is as good as absent (a warning is logged).
        let bad = args("file = \"/bad.json\"\npath = \"a\"\ndefault = \"x\"");
        assert_eq!(h.get(&bad).unwrap(), "x");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn checks_its_arguments() {
        let h = Json::default();
        let t = |s: &str| toml::from_str(s).unwrap();
        assert!(h
            .check(BindingKind::Read, &t("file = \"/a\"\npath = \"x/0\""))
            .is_ok());
        assert!(h.check(BindingKind::Read, &t("file = \"/a\"")).is_err());
        assert!(h
            .check(BindingKind::ReadWrite, &t("file = \"/a\"\npath = \"x\""))
            .is_err());
        assert!(h
            .check(
                BindingKind::Read,
                &t("file = \"/a\"\npath = \"x\"\nwhat = 1")
            )
            .is_err());
        assert!(Json::new(Some(&toml::Value::String("x".into()))).is_err());
    }
}
