//! The queue as saved in the agent's state file and read back: jobs, their windows and
//! phases, and the undelivered results with their errors (and the fault codes of state
//! files written by earlier versions).

use std::path::PathBuf;

use super::error::TransferError;
use super::{Autonomous, Direction, Done, Job, Phase, Transfers, Window};
use crate::codec::toml::{FieldResult, Fields, Table, Value};

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Download => "download",
            Direction::Upload => "upload",
        }
    }

    fn parse(s: &str) -> Option<Direction> {
        match s {
            "download" => Some(Direction::Download),
            "upload" => Some(Direction::Upload),
            _ => None,
        }
    }
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::Running => "running",
            Phase::Applying => "applying",
            Phase::Rebooting => "rebooting",
        }
    }

    fn parse(s: &str) -> Option<Phase> {
        match s {
            "waiting" => Some(Phase::Waiting),
            "running" => Some(Phase::Running),
            "applying" => Some(Phase::Applying),
            "rebooting" => Some(Phase::Rebooting),
            _ => None,
        }
    }
}

/// Builds a table from (key, value) pairs.
fn table<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

impl Job {
    fn to_value(&self) -> Value {
        let windows = self
            .windows
            .iter()
            .map(|w| {
                table([
                    ("start", w.start.into()),
                    ("end", w.end.into()),
                    ("mode", w.mode.clone().into()),
                ])
            })
            .collect();
        let mut t = table([
            ("id", self.id.into()),
            ("direction", self.direction.as_str().into()),
            ("scheduled", self.scheduled.into()),
            ("command_key", self.command_key.clone().into()),
            ("file_type", self.file_type.clone().into()),
            ("url", self.url.clone().into()),
            ("username", self.username.clone().into()),
            ("password", self.password.clone().into()),
            ("file_size", self.file_size.into()),
            ("target_file_name", self.target_file_name.clone().into()),
            ("due", self.due.into()),
            ("windows", Value::Array(windows)),
            ("retries_left", self.retries_left.into()),
            ("phase", self.phase.as_str().into()),
        ]);
        if let Value::Table(t) = &mut t {
            if let Some(s) = self.started {
                t.insert("started".into(), s.into());
            }
            if let Some(f) = &self.file {
                t.insert("file".into(), f.to_string_lossy().into_owned().into());
            }
            if let Some(v) = &self.software_before {
                t.insert("software_before".into(), v.clone().into());
            }
        }
        t
    }

    pub(super) fn from_fields(f: &mut Fields) -> FieldResult<Job> {
        let mut windows = Vec::new();
        for mut w in f.tables("windows")? {
            windows.push(Window {
                start: w.int("start")?,
                end: w.int("end")?,
                mode: w.str("mode")?,
            });
        }
        Ok(Job {
            id: f.int("id")?,
            direction: direction(f)?,
            scheduled: f.flag("scheduled")?,
            command_key: f.str("command_key")?,
            file_type: f.str("file_type")?,
            url: f.str("url")?,
            username: f.opt_str("username")?.unwrap_or_default(),
            password: f.opt_str("password")?.unwrap_or_default(),
            file_size: f.opt_int("file_size")?.unwrap_or(0),
            target_file_name: f.opt_str("target_file_name")?.unwrap_or_default(),
            due: f.int("due")?,
            windows,
            retries_left: f.opt_int("retries_left")?.unwrap_or(0),
            phase: f
                .opt_parse(
                    "phase",
                    Phase::parse,
                    "waiting, running, applying or rebooting",
                )?
                .unwrap_or_default(),
            started: f.opt_int("started")?,
            file: f.opt_str("file")?.map(PathBuf::from),
            software_before: f.opt_str("software_before")?,
        })
    }
}

/// A result as saved: `error` names the [`TransferError`] and `message` its detail. State
/// files written before carried only `fault_code`/`fault_string`: read as a reported code.
fn result(f: &mut Fields) -> FieldResult<Result<(), TransferError>> {
    let code: Option<u32> = f.opt_int("fault_code")?;
    let message = f.opt_str("message")?;
    let legacy = f.opt_str("fault_string")?;
    match f.opt_str("error")? {
        Some(kind) => TransferError::from_parts(&kind, code, message.unwrap_or_default())
            .map(Err)
            .ok_or_else(|| f.error("error", "unknown transfer error")),
        None => Ok(match code {
            None | Some(0) => Ok(()),
            Some(code) => Err(TransferError::Reported {
                code,
                message: legacy.unwrap_or_default(),
            }),
        }),
    }
}

fn direction(f: &mut Fields) -> FieldResult<Direction> {
    f.opt_parse("direction", Direction::parse, "download or upload")?
        .ok_or_else(|| f.error("direction", "missing"))
}

impl Done {
    fn to_value(&self) -> Value {
        let mut t = table([
            ("direction", self.direction.as_str().into()),
            ("scheduled", self.scheduled.into()),
            ("command_key", self.command_key.clone().into()),
            ("file_type", self.file_type.clone().into()),
            ("file_size", self.file_size.into()),
            ("target_file_name", self.target_file_name.clone().into()),
            ("start", self.start.into()),
            ("complete", self.complete.into()),
        ]);
        if let (Value::Table(t), Err(e)) = (&mut t, &self.result) {
            let (kind, message) = e.to_parts();
            t.insert("error".into(), kind.into());
            t.insert("message".into(), message.into());
            if let TransferError::Reported { code, .. } = e {
                t.insert("fault_code".into(), (*code).into());
            }
        }
        if let (Value::Table(t), Some(a)) = (&mut t, &self.autonomous) {
            t.insert(
                "autonomous".into(),
                table([
                    ("announce_url", a.announce_url.clone().into()),
                    ("transfer_url", a.transfer_url.clone().into()),
                    ("is_download", a.is_download.into()),
                    ("file_type", a.file_type.clone().into()),
                    ("file_size", a.file_size.into()),
                    ("target_file_name", a.target_file_name.clone().into()),
                ]),
            );
        }
        t
    }

    pub(super) fn from_fields(f: &mut Fields) -> FieldResult<Done> {
        let autonomous = if f.has("autonomous") {
            let mut a = f.sub("autonomous")?;
            Some(Autonomous {
                announce_url: a.opt_str("announce_url")?.unwrap_or_default(),
                transfer_url: a.opt_str("transfer_url")?.unwrap_or_default(),
                is_download: a.opt_bool("is_download")?.unwrap_or(false),
                file_type: a.str("file_type")?,
                file_size: a.opt_int("file_size")?.unwrap_or(0),
                target_file_name: a.opt_str("target_file_name")?.unwrap_or_default(),
            })
        } else {
            None
        };
        Ok(Done {
            direction: direction(f)?,
            scheduled: f.flag("scheduled")?,
            command_key: f.str("command_key")?,
            file_type: f.opt_str("file_type")?.unwrap_or_default(),
            file_size: f.opt_int("file_size")?.unwrap_or(0),
            target_file_name: f.opt_str("target_file_name")?.unwrap_or_default(),
            result: result(f)?,
            start: f.int("start")?,
            complete: f.int("complete")?,
            autonomous,
        })
    }
}

impl Transfers {
    /// The queue as saved in the agent's state.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new();
        t.insert(
            "jobs".into(),
            Value::Array(self.jobs.iter().map(Job::to_value).collect()),
        );
        t.insert(
            "done".into(),
            Value::Array(self.done.iter().map(Done::to_value).collect()),
        );
        t.insert("next_id".into(), self.next_id.into());
        t
    }

    /// Reads a saved queue back.
    pub fn from_fields(f: &mut Fields) -> FieldResult<Transfers> {
        let mut jobs = Vec::new();
        for mut j in f.tables("jobs")? {
            jobs.push(Job::from_fields(&mut j)?);
        }
        let mut done = Vec::new();
        for mut d in f.tables("done")? {
            done.push(Done::from_fields(&mut d)?);
        }
        Ok(Transfers {
            jobs,
            done,
            next_id: f.opt_int("next_id")?.unwrap_or(0),
        })
    }
}
