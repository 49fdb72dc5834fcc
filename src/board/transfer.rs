//! The board's `[transfer]` section: where downloads are written, what applies each
//! Download FileType, and where each Upload FileType's content comes from.
//!
//! ```toml
//! [transfer]
//! dir = "/tmp/cwmpd"                    # downloads and upload staging; default <state_dir>/transfer
//! max_size = 33554432                   # refuse larger downloads (bytes); default: free space only
//! [transfer.download."1 Firmware Upgrade Image"]
//! apply = ["sysupgrade", "{file}"]      # {file} {target} {type} {size} {key}
//! reboot = true                         # the apply takes the device down: success is reported
//!                                       # after the boot, with 1 BOOT
//! auth_failure_status = 19              # this exit status means "signature bad" (9019)
//! [transfer.upload."2 Vendor Log File"]
//! command = ["logread"]                 # or: file = "/var/log/messages"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::codec::toml::{FieldResult, Fields};

/// Placeholders an apply command may use.
pub const PLACEHOLDERS: [&str; 5] = ["{file}", "{target}", "{type}", "{size}", "{key}"];

/// Default time an apply command may run, in seconds.
pub const DEFAULT_APPLY_TIMEOUT: u64 = 600;

/// `[transfer]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferBoard {
    /// Directory for downloads and staged uploads.
    pub dir: Option<PathBuf>,
    /// Largest download accepted, in bytes.
    pub max_size: Option<u64>,
    /// Download FileTypes the device accepts.
    pub download: BTreeMap<String, Box<DownloadType>>,
    /// Upload FileTypes the device can send.
    pub upload: BTreeMap<String, Box<UploadSource>>,
}

/// What to do with a downloaded file of one FileType.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadType {
    /// argv run with the file; exit status 0 means applied.
    pub apply: Vec<String>,
    /// The apply reboots the device (it may never return).
    pub reboot: bool,
    /// Seconds the apply may run.
    pub timeout: Option<u64>,
    /// Exit status by which the apply says the file failed authentication (a bad signature),
    /// reported as 9019 instead of 9018.
    pub auth_failure_status: Option<i32>,
}

/// Where an Upload FileType's content comes from: a file, or a command's standard output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadSource {
    /// A file sent as it is.
    pub file: Option<PathBuf>,
    /// argv whose standard output is sent.
    pub command: Option<Vec<String>>,
}

impl TransferBoard {
    /// Reads the section; unknown keys are errors.
    pub fn read(mut f: Fields) -> FieldResult<TransferBoard> {
        let mut t = TransferBoard {
            dir: f.opt_str("dir")?.map(PathBuf::from),
            max_size: f.opt_int("max_size")?,
            ..TransferBoard::default()
        };
        for (ty, mut d) in named_tables(&mut f, "download")? {
            let apply = match d.opt_strings("apply")? {
                Some(a) => a,
                None => return Err(d.error("apply", "missing")),
            };
            let download = DownloadType {
                apply,
                reboot: d.flag("reboot")?,
                timeout: d.opt_int("timeout")?,
                auth_failure_status: d.opt_int("auth_failure_status")?,
            };
            d.finish()?;
            t.download.insert(ty, Box::new(download));
        }
        for (ty, mut u) in named_tables(&mut f, "upload")? {
            let upload = UploadSource {
                file: u.opt_str("file")?.map(PathBuf::from),
                command: u.opt_strings("command")?,
            };
            u.finish()?;
            t.upload.insert(ty, Box::new(upload));
        }
        f.finish()?;
        Ok(t)
    }

    /// Adds a later file's section: its keys replace the earlier ones.
    pub fn merge(&mut self, later: TransferBoard) {
        if later.dir.is_some() {
            self.dir = later.dir;
        }
        if later.max_size.is_some() {
            self.max_size = later.max_size;
        }
        self.download.extend(later.download);
        self.upload.extend(later.upload);
    }

    /// Problems with the section, one message each.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (ty, d) in &self.download {
            if !download_type_ok(ty) {
                out.push(format!("transfer.download: {ty:?} is not a TR-069 FileType (\"1 Firmware Upgrade Image\" … or \"X <OUI> <name>\")"));
            }
            if d.apply.is_empty() || d.apply[0].is_empty() {
                out.push(format!("transfer.download.{ty:?}: apply is empty"));
            }
            for a in &d.apply {
                for p in braces(a) {
                    if !PLACEHOLDERS.contains(&p) {
                        out.push(format!(
                            "transfer.download.{ty:?}: unknown placeholder {p} (known: {})",
                            PLACEHOLDERS.join(" ")
                        ));
                    }
                }
            }
        }
        for (ty, u) in &self.upload {
            if !upload_type_ok(ty) {
                out.push(format!("transfer.upload: {ty:?} is not a TR-069 Upload FileType (\"1 Vendor Configuration File\", \"2 Vendor Log File\" … or \"X <OUI> <name>\")"));
            }
            match (&u.file, &u.command) {
                (Some(_), None) => {}
                (None, Some(c)) if !c.is_empty() && !c[0].is_empty() => {}
                (None, Some(_)) => out.push(format!("transfer.upload.{ty:?}: command is empty")),
                _ => out.push(format!(
                    "transfer.upload.{ty:?}: give exactly one of file or command"
                )),
            }
        }
        out
    }
}

/// The tables under key `k`, each keyed by its name (`[transfer.download."<type>"]`).
fn named_tables<'l>(f: &mut Fields<'l>, k: &str) -> FieldResult<Vec<(String, Fields<'l>)>> {
    Ok(f.map(k, |f, name| f.sub(name))?.into_iter().collect())
}

/// `{name}` placeholders in a string.
fn braces(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        match rest[i..].find('}') {
            Some(j) => {
                out.push(&rest[i..i + j + 1]);
                rest = &rest[i + j + 1..];
            }
            None => break,
        }
    }
    out
}

fn vendor(ty: &str) -> bool {
    // "X <OUI> <name>": OUI is six hex digits, name non-empty.
    let mut parts = ty.splitn(3, ' ');
    parts.next() == Some("X")
        && parts
            .next()
            .is_some_and(|o| o.len() == 6 && o.chars().all(|c| c.is_ascii_hexdigit()))
        && parts.next().is_some_and(|n| !n.trim().is_empty())
}

/// TR-069 A.4.1.5 Download FileTypes.
pub fn download_type_ok(ty: &str) -> bool {
    [
        "1 Firmware Upgrade Image",
        "2 Web Content",
        "3 Vendor Configuration File",
        "4 Tone File",
        "5 Ringer File",
    ]
    .contains(&ty)
        || vendor(ty)
}

/// TR-069 A.4.1.6 Upload FileTypes (`3 Vendor Configuration File <i>` names an instance).
pub fn upload_type_ok(ty: &str) -> bool {
    let numbered = |prefix: &str| {
        ty.strip_prefix(prefix)
            .is_some_and(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()))
    };
    ["1 Vendor Configuration File", "2 Vendor Log File"].contains(&ty)
        || numbered("3 Vendor Configuration File ")
        || numbered("4 Vendor Log File ")
        || vendor(ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    fn read(text: &str) -> FieldResult<TransferBoard> {
        let (table, lines) = toml::parse_with_lines(text).unwrap();
        TransferBoard::read(Fields::with_lines(table, &lines))
    }

    fn board(text: &str) -> TransferBoard {
        read(text).unwrap()
    }

    #[test]
    fn a_good_section_has_no_problems() {
        let b = board(
            "dir = \"/tmp/x\"\n[download.\"1 Firmware Upgrade Image\"]\napply = [\"sysupgrade\", \"{file}\"]\nreboot = true\n\
             [download.\"X 00D09E fpga\"]\napply = [\"load\", \"{file}\", \"{target}\", \"{type}\", \"{size}\", \"{key}\"]\n\
             [upload.\"2 Vendor Log File\"]\ncommand = [\"logread\"]\n[upload.\"3 Vendor Configuration File 2\"]\nfile = \"/etc/x\"\n",
        );
        assert_eq!(b.problems(), Vec::<String>::new());
        assert!(b.download["1 Firmware Upgrade Image"].reboot);
    }

    #[test]
    fn every_mistake_is_named() {
        let b = board(
            "[download.\"9 Nonsense\"]\napply = []\n[download.\"X 12 short\"]\napply = [\"a\", \"{path}\"]\n\
             [upload.\"2 Vendor Log File\"]\n[upload.\"3 Vendor Configuration File x\"]\ncommand = []\n\
             [upload.\"1 Vendor Configuration File\"]\nfile = \"/a\"\ncommand = [\"b\"]\n",
        );
        let p = b.problems().join("\n");
        for needle in [
            "\"9 Nonsense\" is not a TR-069 FileType",
            "\"9 Nonsense\": apply is empty",
            "\"X 12 short\" is not",
            "unknown placeholder {path}",
            "\"2 Vendor Log File\": give exactly one",
            "\"3 Vendor Configuration File x\" is not",
            "\"3 Vendor Configuration File x\": command is empty",
            "\"1 Vendor Configuration File\": give exactly one",
        ] {
            assert!(p.contains(needle), "{needle} missing from:\n{p}");
        }
        assert!(read("colour = 1").is_err());
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named_with_their_line() {
        for (text, line, want) in [
            (
                "[download.\"1 Firmware Upgrade Image\"]\napply = [\"x\"]\ncolour = 1\n",
                3,
                "`download.1 Firmware Upgrade Image.colour`: unknown key",
            ),
            (
                "dir = \"/a\"\n[download.\"2 Web Content\"]\nreboot = true\n",
                2,
                "`download.2 Web Content.apply`: missing",
            ),
            (
                "[upload]\n\"2 Vendor Log File\" = \"logread\"\n",
                2,
                "`upload.2 Vendor Log File`: expected a table, found string",
            ),
            ("max_size = -1\n", 1, "`max_size`: -1 is out of range"),
            (
                "[download.\"2 Web Content\"]\napply = [\"x\"]\ntimeout = \"1m\"\n",
                3,
                "`download.2 Web Content.timeout`: expected an integer, found string",
            ),
        ] {
            let e = read(text).unwrap_err();
            assert_eq!((e.line, e.message.as_str()), (line, want), "{text:?}");
        }
        let b = board("[download.\"X 00D09E fpga\"]\napply = [\"x\"]\ntimeout = 5\nauth_failure_status = 19\n[upload.\"2 Vendor Log File\"]\nfile = \"/var/log/messages\"\n");
        let d = &b.download["X 00D09E fpga"];
        assert_eq!(
            (d.timeout, d.auth_failure_status, d.reboot),
            (Some(5), Some(19), false)
        );
        assert_eq!(
            b.upload["2 Vendor Log File"].file,
            Some(PathBuf::from("/var/log/messages"))
        );
    }

    #[test]
    fn later_files_override_per_key() {
        let mut a = board("dir = \"/a\"\n[download.\"1 Firmware Upgrade Image\"]\napply = [\"x\"]\n[download.\"2 Web Content\"]\napply = [\"w\"]\n");
        a.merge(board(
            "[download.\"1 Firmware Upgrade Image\"]\napply = [\"y\"]\n",
        ));
        assert_eq!(a.dir, Some(PathBuf::from("/a")));
        assert_eq!(a.download["1 Firmware Upgrade Image"].apply, ["y"]);
        assert_eq!(a.download["2 Web Content"].apply, ["w"]);
    }
}
