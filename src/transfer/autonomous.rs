//! Transfers the device made on its own (a local firmware upgrade, a configuration pushed by
//! another tool), reported by the board as small TOML files dropped into the spool directory
//! `<state_dir>/autonomous/`. The agent picks them up at start and at every value check and
//! reports each with AutonomousTransferComplete (event 10). Write a file atomically (write a
//! temporary name not ending in `.toml`, then rename), for example:
//!
//! ```toml
//! is_download = true
//! file_type = "1 Firmware Upgrade Image"
//! transfer_url = "http://files.example/fw.bin"   # optional
//! announce_url = ""                               # optional
//! file_size = 4194304                             # optional
//! target_file_name = ""                           # optional
//! fault_code = 0                                  # 0, or a 90xx code
//! fault_string = ""                               # optional
//! start_time = "2026-11-25T06:00:00Z"             # optional
//! complete_time = "2026-11-25T06:01:10Z"          # optional (default: when picked up)
//! ```

use std::path::Path;

use crate::codec::toml::{self, FieldResult, Fields};

use super::error::TransferError;
use super::{Autonomous, Direction, Done};
use crate::codec::datetime;

/// The spool directory's name under the state directory.
pub const SPOOL_DIR: &str = "autonomous";
/// Largest report file read.
pub const MAX_REPORT_BYTES: u64 = 16 * 1024;
/// Most reports taken in one scan.
pub const MAX_REPORTS: usize = 16;

/// Why a spool file was dropped.
#[derive(Debug)]
enum ReportError {
    /// It could not be read.
    Io(std::io::Error),
    /// Larger than [`MAX_REPORT_BYTES`].
    TooBig(u64),
    /// Not TOML.
    Toml(toml::ParseError),
    /// A key missing, of the wrong type or unknown.
    Field(toml::FieldError),
    /// `file_type` is empty.
    NoFileType,
    /// `fault_code` is neither 0 nor a 90xx code.
    FaultCode(u32),
    /// A time that is not a dateTime.
    Time(&'static str, String),
}

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportError::Io(e) => write!(f, "{e}"),
            ReportError::TooBig(n) => write!(f, "{n} bytes, at most {MAX_REPORT_BYTES}"),
            ReportError::Toml(e) => write!(f, "{e}"),
            ReportError::Field(e) => write!(f, "{e}"),
            ReportError::NoFileType => write!(f, "file_type is empty"),
            ReportError::FaultCode(c) => write!(f, "fault_code {c} is not 0 or 90xx"),
            ReportError::Time(what, t) => write!(f, "{what} {t:?} is not a dateTime"),
        }
    }
}

/// A report as the board writes it.
struct Report {
    is_download: bool,
    file_type: String,
    transfer_url: String,
    announce_url: String,
    file_size: u32,
    target_file_name: String,
    fault_code: u32,
    fault_string: String,
    start_time: Option<String>,
    complete_time: Option<String>,
}

impl Report {
    /// Reads a report; unknown keys are errors (a misspelt key would silently lose a fact).
    fn read(text: &str) -> Result<Report, ReportError> {
        let table = toml::parse(text).map_err(ReportError::Toml)?;
        let mut f = Fields::new(table);
        let r = Report::fields(&mut f).map_err(ReportError::Field)?;
        f.finish().map_err(ReportError::Field)?;
        Ok(r)
    }

    fn fields(f: &mut Fields) -> FieldResult<Report> {
        Ok(Report {
            is_download: f
                .opt_bool("is_download")?
                .ok_or_else(|| f.error("is_download", "missing"))?,
            file_type: f.str("file_type")?,
            transfer_url: f.opt_str("transfer_url")?.unwrap_or_default(),
            announce_url: f.opt_str("announce_url")?.unwrap_or_default(),
            file_size: f.opt_int("file_size")?.unwrap_or(0),
            target_file_name: f.opt_str("target_file_name")?.unwrap_or_default(),
            fault_code: f.opt_int("fault_code")?.unwrap_or(0),
            fault_string: f.opt_str("fault_string")?.unwrap_or_default(),
            start_time: f.opt_str("start_time")?,
            complete_time: f.opt_str("complete_time")?,
        })
    }
}

fn time(s: &Option<String>, what: &'static str) -> Result<Option<i64>, ReportError> {
    match s {
        None => Ok(None),
        Some(t) => datetime::parse(t)
            .map(|d| Some(d.unix))
            .ok_or_else(|| ReportError::Time(what, t.clone())),
    }
}

fn parse(text: &str, now: i64) -> Result<Done, ReportError> {
    let r = Report::read(text)?;
    if r.file_type.trim().is_empty() {
        return Err(ReportError::NoFileType);
    }
    if r.fault_code != 0 && !(9000..=9099).contains(&r.fault_code) {
        return Err(ReportError::FaultCode(r.fault_code));
    }
    let start = time(&r.start_time, "start_time")?.unwrap_or(0);
    let complete = time(&r.complete_time, "complete_time")?.unwrap_or(now);
    Ok(Done {
        direction: if r.is_download {
            Direction::Download
        } else {
            Direction::Upload
        },
        scheduled: false,
        command_key: String::new(),
        file_type: r.file_type.clone(),
        file_size: u64::from(r.file_size),
        target_file_name: r.target_file_name.clone(),
        result: match r.fault_code {
            0 => Ok(()),
            code => Err(TransferError::Reported {
                code,
                message: r.fault_string,
            }),
        },
        start,
        complete,
        autonomous: Some(Autonomous {
            announce_url: r.announce_url,
            transfer_url: r.transfer_url,
            is_download: r.is_download,
            file_type: r.file_type,
            file_size: r.file_size,
            target_file_name: r.target_file_name,
        }),
    })
}

/// Takes the reports waiting in `dir` (each file is removed once read; a bad one is logged
/// and removed too, so it cannot block the spool).
pub fn scan(dir: &Path, now: i64) -> Vec<Done> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for p in names.into_iter().take(MAX_REPORTS) {
        let text = match std::fs::metadata(&p) {
            Ok(m) if m.len() > MAX_REPORT_BYTES => Err(ReportError::TooBig(m.len())),
            _ => std::fs::read_to_string(&p).map_err(ReportError::Io),
        };
        match text.and_then(|t| parse(&t, now)) {
            Ok(d) => {
                log::info!(
                    "transfer: autonomous {} of {:?} reported ({})",
                    if d.direction == Direction::Download {
                        "download"
                    } else {
                        "upload"
                    },
                    d.file_type,
                    match &d.result {
                        Ok(()) => "success".to_string(),
                        Err(e) => e.to_string(),
                    }
                );
                out.push(d);
            }
            Err(e) => log::error!("transfer: {}: {e}; report dropped", p.display()),
        }
        let _ = std::fs::remove_file(&p);
    }
    out
}
