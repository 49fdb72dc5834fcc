//! Board files: which backend serves each parameter and table of the schema.
//!
//! A board (`board/*.toml`, format in `board/README.md`) is parsed into plain [`Binding`]s and
//! checked against the schema and the handler registry when it loads: unknown objects or
//! parameters, bindings whose handler is unknown or rejects its arguments, constants of the
//! wrong type, and `write = true` on a read-only parameter are errors that name the file and
//! line. This module reads files into the model's own binding types (`model::binding`); it
//! does not evaluate bindings (that is `model`), and `model` never imports it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path as FsPath, PathBuf};

pub mod transfer;
mod validate;

pub use transfer::TransferBoard;
pub use validate::validate;

use crate::codec::toml::{self, FieldError, FieldResult, Fields};
use crate::model::binding::{Binding, Bindings, Location, ObjectBinding};

/// Largest board file accepted.
pub const MAX_BOARD_BYTES: u64 = 1 << 20;
/// Deepest chain of `include`s.
pub const MAX_INCLUDE_DEPTH: usize = 4;

/// A board error, always with the place it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardError {
    /// Where.
    pub at: Location,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for BoardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "board: {}: {}", self.at, self.message)
    }
}

impl std::error::Error for BoardError {}

/// A parsed board (with its includes merged).
#[derive(Debug, Clone, Default)]
pub struct Board {
    /// Board name.
    pub name: String,
    /// Objects by schema path.
    pub objects: Bindings,
    /// `[handlers.<name>]` settings for handler constructors.
    pub handlers: toml::Table,
    /// argv run to reboot the device.
    pub reboot: Option<Vec<String>>,
    /// argv run to reset the device to factory defaults.
    pub factory_reset: Option<Vec<String>>,
    /// The file whose content names the current boot (the kernel's boot id by default): a
    /// new value means the device booted.
    pub boot_id: Option<PathBuf>,
    /// `[transfer]`: downloads, uploads.
    pub transfer: TransferBoard,
    /// Every file read, main file last.
    pub files: Vec<PathBuf>,
}

/// `[board]`.
struct FileMeta {
    name: Option<String>,
    include: Vec<String>,
    reboot: Option<Vec<String>>,
    factory_reset: Option<Vec<String>>,
    boot_id: Option<String>,
}

/// One `[[object]]`, with the lines of what it binds.
struct FileObject {
    path: String,
    /// Line of the `[[object]]` header.
    line: usize,
    /// Replace what an included board said about this object instead of merging.
    replace: bool,
    /// Drop this object (and everything below it) from what included boards bound.
    remove: bool,
    /// The instance source and the line of its key.
    instances: Option<(toml::Value, usize)>,
    /// Parameter name, binding, line of the name.
    params: Vec<(String, toml::Value, usize)>,
}

/// A whole board file.
struct BoardFile {
    board: FileMeta,
    handlers: toml::Table,
    transfer: TransferBoard,
    object: Vec<FileObject>,
}

impl BoardFile {
    /// Reads a parsed file; unknown keys are errors.
    fn read(mut f: Fields) -> FieldResult<BoardFile> {
        if !f.has("board") {
            return Err(f.error("board", "missing"));
        }
        let mut m = f.sub("board")?;
        let board = FileMeta {
            name: m.opt_str("name")?,
            include: m.strings("include")?,
            reboot: m.opt_strings("reboot")?,
            factory_reset: m.opt_strings("factory_reset")?,
            boot_id: m.opt_str("boot_id")?,
        };
        m.finish()?;
        let handlers = f.opt_table("handlers")?.unwrap_or_default();
        let transfer = TransferBoard::read(f.sub("transfer")?)?;
        let mut object = Vec::new();
        for mut o in f.tables("object")? {
            let instances_line = o.line("instances");
            let instances = o.take("instances").map(|v| (v, instances_line));
            // Only the lines of the names are wanted from `params`: its values are
            // bindings, read by `binding`.
            let names = o.child("params", toml::Table::new());
            let params = o
                .opt_table("params")?
                .unwrap_or_default()
                .into_iter()
                .map(|(name, v)| {
                    let line = names.line(&name);
                    (name, v, line)
                })
                .collect();
            object.push(FileObject {
                path: o.str("path")?,
                line: o.own_line(),
                replace: o.flag("replace")?,
                remove: o.flag("remove")?,
                instances,
                params,
            });
            o.finish()?;
        }
        f.finish()?;
        Ok(BoardFile {
            board,
            handlers,
            transfer,
            object,
        })
    }
}

/// Reads a board file and its includes (paths relative to the including file).
pub fn parse(path: &FsPath) -> Result<Board, BoardError> {
    let mut board = Board::default();
    parse_into(path, &mut board, 0)?;
    Ok(board)
}

fn parse_into(path: &FsPath, board: &mut Board, depth: usize) -> Result<(), BoardError> {
    let at0 = Location {
        file: path.to_path_buf(),
        line: 0,
    };
    let err = |line: usize, message: String| BoardError {
        at: Location {
            file: path.to_path_buf(),
            line,
        },
        message,
    };
    if depth > MAX_INCLUDE_DEPTH {
        return Err(BoardError {
            at: at0,
            message: format!("includes nested deeper than {MAX_INCLUDE_DEPTH}"),
        });
    }
    let meta = std::fs::metadata(path).map_err(|e| err(0, format!("cannot read: {e}")))?;
    if meta.len() > MAX_BOARD_BYTES {
        return Err(err(
            0,
            format!("{} bytes, at most {MAX_BOARD_BYTES}", meta.len()),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(0, format!("cannot read: {e}")))?;
    let (table, lines) = toml::parse_with_lines(&text).map_err(|e| err(e.line, e.message))?;
    let file = BoardFile::read(Fields::with_lines(table, &lines))
        .map_err(|e: FieldError| err(e.line, e.message))?;
    let dir = path.parent().unwrap_or(FsPath::new("."));
    for inc in &file.board.include {
        parse_into(&dir.join(inc), board, depth + 1)?;
    }
    if let Some(name) = file.board.name {
        board.name = name;
    }
    if file.board.reboot.is_some() {
        board.reboot = file.board.reboot;
    }
    if file.board.factory_reset.is_some() {
        board.factory_reset = file.board.factory_reset;
    }
    if let Some(b) = file.board.boot_id {
        board.boot_id = Some(dir.join(b));
    }
    board.transfer.merge(file.transfer);
    for (k, v) in file.handlers {
        // Later files override per key within a handler's settings.
        match (board.handlers.get_mut(&k), v) {
            (Some(toml::Value::Table(old)), toml::Value::Table(new)) => old.extend(new),
            (_, v) => {
                board.handlers.insert(k, v);
            }
        }
    }
    for obj in file.object {
        let obj_line = obj.line;
        let obj_path = obj.path;
        if obj.remove {
            board.objects.retain(|k, _| !k.starts_with(&obj_path));
            continue;
        }
        if obj.replace {
            board.objects.remove(&obj_path);
        }
        let entry = board.objects.entry(obj_path.clone()).or_insert_with(|| {
            Box::new(ObjectBinding {
                path: obj_path.clone(),
                instances: None,
                params: BTreeMap::new(),
                at: Location {
                    file: path.to_path_buf(),
                    line: obj_line,
                },
            })
        });
        if let Some((inst, line)) = obj.instances {
            entry.instances = Some(binding(
                inst,
                Location {
                    file: path.to_path_buf(),
                    line,
                },
            )?);
        }
        for (name, value, line) in obj.params {
            let b = binding(
                value,
                Location {
                    file: path.to_path_buf(),
                    line,
                },
            )?;
            entry.params.insert(name, Box::new(b));
        }
    }
    board.files.push(path.to_path_buf());
    Ok(())
}

fn binding(value: toml::Value, at: Location) -> Result<Binding, BoardError> {
    let mut table = match value {
        toml::Value::String(s) => {
            let mut t = toml::Table::new();
            t.insert("value".into(), toml::Value::String(s));
            return Ok(Binding {
                at,
                ..Binding::of("constant", t)
            });
        }
        toml::Value::Table(t) => t,
        other => {
            return Err(BoardError {
                at,
                message: format!("a binding is a string or a table, not {}", other.type_str()),
            })
        }
    };
    let handler = match table.remove("handler") {
        Some(toml::Value::String(h)) => h,
        Some(_) => {
            return Err(BoardError {
                at,
                message: "`handler` must be a string".into(),
            })
        }
        None => {
            let keys: Vec<&str> = table.keys().map(String::as_str).collect();
            let message = if keys.is_empty() {
                "binding has no `handler`".to_string()
            } else {
                // A misspelt `handler` is among them.
                format!("binding has no `handler` (its keys: {})", keys.join(", "))
            };
            return Err(BoardError { at, message });
        }
    };
    let flag = |t: &mut toml::Table, key: &str| -> Result<bool, BoardError> {
        match t.remove(key) {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(b),
            Some(_) => Err(BoardError {
                at: at.clone(),
                message: format!("`{key}` must be true or false"),
            }),
        }
    };
    let write = flag(&mut table, "write")?;
    let add = flag(&mut table, "add")?;
    let numbered = flag(&mut table, "numbered")?;
    let optional = flag(&mut table, "optional")?;
    // A writable reference names where the keys of the rows it is set to go; any other
    // written binding may name where writes go when that is not where it is read (a radio's
    // channel in use from iwinfo, written to UCI).
    let set = match (handler.as_str(), table.remove("set")) {
        (_, None) => None,
        ("var" | "constant", Some(_)) => {
            return Err(BoardError {
                at,
                message: "`set` belongs on a `ref` or backend binding".into(),
            })
        }
        (_, Some(v)) => Some(Box::new(binding(v, at.clone())?)),
    };
    Ok(Binding {
        handler,
        args: table,
        write,
        add,
        numbered,
        optional,
        set,
        at,
    })
}

/// The top-level data-model files (`DeviceInfo`, `IP` …) a board needs loaded.
pub fn roots(board: &Board) -> Vec<String> {
    let mut set = BTreeSet::new();
    for path in board.objects.keys() {
        if let Some(rest) = path.strip_prefix("Device.") {
            if let Some(first) = rest.split('.').next().filter(|s| !s.is_empty()) {
                set.insert(first.to_string());
            }
        }
    }
    set.into_iter().collect()
}

/// Schema paths a board needs: its objects and all their ancestors.
pub fn needed_objects(board: &Board) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for path in board.objects.keys() {
        let mut prefix = String::new();
        for seg in path.trim_end_matches('.').split('.') {
            prefix.push_str(seg);
            prefix.push('.');
            if seg != "{i}" {
                out.insert(prefix.clone());
            }
        }
        out.insert(path.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A board file in a fresh directory, removed on drop.
    struct Dir(PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn files(tag: &str, files: &[(&str, &str)]) -> Dir {
        let d = std::env::temp_dir().join(format!("cwmpd-board-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for (name, text) in files {
            std::fs::write(d.join(name), text).unwrap();
        }
        Dir(d)
    }

    #[test]
    fn bindings_keep_the_lines_of_objects_instances_and_params() {
        let d = files(
            "lines",
            &[(
                "b.toml",
                r#"[board]
name = "t"

[[object]]
path = "Device.A."
params.X = "1"

[[object]]
path = "Device.T.{i}."
instances = { handler = "constant", instances = ["a"], add = true }
[object.params]
Name = { handler = "constant", value = "{key}", write = true }
Other = "v"
"#,
            )],
        );
        let b = parse(&d.0.join("b.toml")).unwrap();
        let a = &b.objects["Device.A."];
        assert_eq!(a.at.line, 4);
        assert_eq!(a.params["X"].at.line, 6);
        assert_eq!(a.params["X"].handler, "constant");
        let t = &b.objects["Device.T.{i}."];
        assert_eq!(t.at.line, 8);
        let inst = t.instances.as_ref().unwrap();
        assert_eq!((inst.at.line, inst.add), (10, true));
        assert_eq!(t.params["Name"].at.line, 12);
        assert!(t.params["Name"].write);
        assert!(!t.params["Name"].args.contains_key("write"));
        assert_eq!(t.params["Other"].at.line, 13);
        assert_eq!(
            t.params["Other"].at.to_string(),
            format!("{}:13", d.0.join("b.toml").display())
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_line() {
        let head = "[board]\nname = \"x\"\n";
        for (text, line, want) in [
            (
                format!("{head}[[object]]\npath = \"Device.A.\"\ncolour = 1\n"),
                5,
                "`object[0].colour`: unknown key",
            ),
            ("[board]\nnam = \"x\"\n".into(), 2, "`board.nam`: unknown key"),
            ("[handlers]\n".into(), 0, "`board`: missing"),
            (format!("{head}[[object]]\nreplace = true\n"), 3, "`object[0].path`: missing"),
            (
                format!("{head}[transfer]\ndir = 5\n"),
                4,
                "`transfer.dir`: expected a string, found integer",
            ),
            (
                format!("{head}[[object]]\npath = \"D.\"\nparams = 3\n"),
                5,
                "`object[0].params`: expected a table, found integer",
            ),
            (
                format!("{head}[[object]]\npath = \"D.\"\ninstances = 3\n"),
                5,
                "a binding is a string or a table, not integer",
            ),
            (
                format!("{head}[[object]]\npath = \"D.\"\n[object.params]\nA = {{ value = \"x\" }}\n"),
                6,
                "binding has no `handler`",
            ),
            (
                format!("{head}[[object]]\npath = \"D.\"\n[object.params]\nA = {{ hanlder = \"constant\", value = \"x\" }}\n"),
                6,
                "binding has no `handler` (its keys: hanlder, value)",
            ),
            (
                format!("{head}[[object]]\npath = \"D.\"\nparams.A = {{ handler = \"h\", write = 1 }}\n"),
                5,
                "`write` must be true or false",
            ),
            (format!("colour = 1\n{head}"), 1, "`colour`: unknown key"),
            (format!("{head}[[object]]\npath = \n"), 4, ""),
        ] {
            let d = files("errors", &[("b.toml", &text)]);
            let e = parse(&d.0.join("b.toml")).unwrap_err();
            assert_eq!(e.at.line, line, "{text:?}: {e}");
            assert!(e.message.contains(want), "{text:?}: {e}");
            assert!(e.to_string().starts_with("board: "), "{e}");
        }
    }

    #[test]
    fn includes_merge_and_the_including_file_wins() {
        let d = files(
            "include",
            &[
                (
                    "base.toml",
                    "[board]\nname = \"base\"\nreboot = [\"reboot\"]\n[handlers.system]\nproc = \"/p\"\nsys = \"/s\"\n\
                     [transfer]\ndir = \"/t\"\n[[object]]\npath = \"Device.A.\"\nparams.X = \"1\"\nparams.Y = \"2\"\n\
                     [[object]]\npath = \"Device.B.\"\nparams.Z = \"3\"\n",
                ),
                (
                    "main.toml",
                    "[board]\nname = \"main\"\ninclude = [\"base.toml\"]\nfactory_reset = [\"firstboot\"]\n\
                     [handlers.system]\nsys = \"/sys2\"\n[transfer]\nmax_size = 10\n\
                     [[object]]\npath = \"Device.A.\"\nparams.X = \"one\"\n[[object]]\npath = \"Device.B.\"\nremove = true\n",
                ),
            ],
        );
        let b = parse(&d.0.join("main.toml")).unwrap();
        assert_eq!(b.name, "main");
        assert_eq!(b.reboot, Some(vec!["reboot".to_string()]));
        assert_eq!(b.factory_reset, Some(vec!["firstboot".to_string()]));
        let sys = b.handlers["system"].as_table().unwrap();
        assert_eq!(
            (sys["proc"].as_str(), sys["sys"].as_str()),
            (Some("/p"), Some("/sys2"))
        );
        assert_eq!(b.transfer.dir, Some(PathBuf::from("/t")));
        assert_eq!(b.transfer.max_size, Some(10));
        let a = &b.objects["Device.A."];
        assert_eq!(a.params["X"].args["value"].as_str(), Some("one"));
        assert_eq!(a.params["Y"].args["value"].as_str(), Some("2"));
        assert!(!b.objects.contains_key("Device.B."));
        assert_eq!(b.files, [d.0.join("base.toml"), d.0.join("main.toml")]);
    }
}
