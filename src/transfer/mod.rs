//! File transfers: Download, Upload and ScheduleDownload jobs from the ACS's request to the
//! TransferComplete that reports them, and transfers the device did on its own
//! (AutonomousTransferComplete).
//!
//! ```text
//!  Download/Upload/ScheduleDownload ─▶ Waiting ──due, window open──▶ Running ──fetched──▶ Applying
//!        (rpc/transfer.rs)               │  CancelTransfer removes it     │ (run.rs)        │
//!                                        └── windows all past ─┐          ▼                 ▼
//!                                                              └──────▶ Done ◀──── result ──┘
//!                                       Done ── TransferComplete acknowledged ──▶ forgotten
//! ```
//!
//! [`Transfers`] is plain data, saved in the agent's state file, so a queued transfer and an
//! undelivered result survive a reboot. A job found Running after a restart was cut off: its
//! partial file is removed and it is reported as failed. A job found Applying was taken down
//! by its own apply command when the board says that apply reboots (reported as success), and
//! failed otherwise. The agent runs one job at a time, in a worker thread (`run.rs`).

pub mod autonomous;
pub mod error;
pub mod run;

use std::path::PathBuf;

use crate::codec::toml::{FieldResult, Fields, Table, Value};

use error::{QueueError, TransferError};

/// Most transfers queued at once (more is 9004).
pub const MAX_JOBS: usize = 16;
/// Most results waiting for delivery; the oldest is dropped beyond it.
pub const MAX_DONE: usize = 32;
/// Seconds between attempts of a ScheduleDownload within its window.
pub const RETRY_SECONDS: i64 = 30;
/// Attempts a ScheduleDownload gets when MaxRetries is -1 (the CPE decides).
pub const DEFAULT_RETRIES: i32 = 2;

/// Download or Upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The device fetches a file.
    Download,
    /// The device sends a file.
    Upload,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Phase {
    /// Not started (TransferState 1).
    #[default]
    Waiting,
    /// Fetching or sending (2).
    Running,
    /// The board's apply command runs on the downloaded file (2).
    Applying,
    /// The apply of a download that needs a reboot returned; the device reboots into it
    /// (2). Its result is known after the boot.
    Rebooting,
}

/// A ScheduleDownload time window, in absolute Unix time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Opens.
    pub start: i64,
    /// Closes.
    pub end: i64,
    /// WindowMode.
    pub mode: String,
}

/// A transfer the ACS asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Local identity (file names, worker reports).
    pub id: u64,
    /// Download or Upload.
    pub direction: Direction,
    /// From ScheduleDownload (reported with M ScheduleDownload).
    pub scheduled: bool,
    /// CommandKey.
    pub command_key: String,
    /// FileType.
    pub file_type: String,
    /// URL.
    pub url: String,
    /// File server username.
    pub username: String,
    /// File server password.
    pub password: String,
    /// FileSize (0: unknown).
    pub file_size: u64,
    /// TargetFileName.
    pub target_file_name: String,
    /// Earliest start (Unix time).
    pub due: i64,
    /// ScheduleDownload windows (empty for Download and Upload).
    pub windows: Vec<Window>,
    /// Attempts left after a failure within a window.
    pub retries_left: i32,
    /// Where it is.
    pub phase: Phase,
    /// When the transfer started (Unix time).
    pub started: Option<i64>,
    /// The downloaded file while it is applied.
    pub file: Option<PathBuf>,
    /// The SoftwareVersion when a download that reboots the device was applied: the same
    /// one after the boot means the device came back into the old software.
    pub software_before: Option<String>,
}

/// An AutonomousTransferComplete's extra facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autonomous {
    /// AnnounceURL.
    pub announce_url: String,
    /// TransferURL.
    pub transfer_url: String,
    /// IsDownload.
    pub is_download: bool,
    /// FileType.
    pub file_type: String,
    /// FileSize.
    pub file_size: u32,
    /// TargetFileName.
    pub target_file_name: String,
}

/// A finished transfer waiting for the ACS to acknowledge its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// Download or Upload.
    pub direction: Direction,
    /// From ScheduleDownload.
    pub scheduled: bool,
    /// CommandKey.
    pub command_key: String,
    /// FileType (for the queue listing).
    pub file_type: String,
    /// FileSize (for the queue listing).
    pub file_size: u64,
    /// TargetFileName (for the queue listing).
    pub target_file_name: String,
    /// How it ended (`rpc/fault.rs` picks the TransferComplete's fault code from it).
    pub result: Result<(), TransferError>,
    /// Started (Unix time; 0 unknown).
    pub start: i64,
    /// Completed (Unix time).
    pub complete: i64,
    /// Set for transfers the device started itself.
    pub autonomous: Option<Autonomous>,
}

impl Done {
    /// The event that announces it (TR-069 Table 7: M Download, M ScheduleDownload,
    /// M Upload; none for autonomous transfers).
    pub fn method_event(&self) -> Option<&'static str> {
        use crate::event::code;
        match (&self.autonomous, self.direction, self.scheduled) {
            (Some(_), ..) => None,
            (None, Direction::Download, true) => Some(code::M_SCHEDULE_DOWNLOAD),
            (None, Direction::Download, false) => Some(code::M_DOWNLOAD),
            (None, Direction::Upload, _) => Some(code::M_UPLOAD),
        }
    }
}

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

    fn from_fields(f: &mut Fields) -> FieldResult<Job> {
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

    fn from_fields(f: &mut Fields) -> FieldResult<Done> {
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

/// The queue and the undelivered results (saved with the agent's state).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transfers {
    /// Jobs in the order they were requested.
    pub jobs: Vec<Job>,
    /// Results not yet acknowledged by the ACS.
    pub done: Vec<Done>,
    /// The next job id.
    pub next_id: u64,
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

    /// Queues a job (its id is assigned here); refused when the queue is full.
    pub fn add(&mut self, mut job: Job) -> Result<u64, QueueError> {
        if self.jobs.len() >= MAX_JOBS {
            return Err(QueueError::Full(MAX_JOBS));
        }
        self.next_id += 1;
        job.id = self.next_id;
        self.jobs.push(job);
        Ok(self.next_id)
    }

    /// The job running or applying now, if any.
    pub fn active(&self) -> Option<&Job> {
        self.jobs.iter().find(|j| j.phase != Phase::Waiting)
    }

    /// A job by id.
    pub fn job_mut(&mut self, id: u64) -> Option<&mut Job> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }

    /// When a waiting job may start: its due time, or the start of its first window that
    /// has not closed yet.
    fn start_time(job: &Job, now: i64) -> Option<i64> {
        if job.windows.is_empty() {
            return Some(job.due);
        }
        job.windows
            .iter()
            .find(|w| w.end > now)
            .map(|w| w.start.max(job.due))
    }

    /// The next job to start at `now` (none while one is active).
    pub fn next_to_start(&self, now: i64) -> Option<u64> {
        if self.active().is_some() {
            return None;
        }
        self.jobs
            .iter()
            .filter(|j| j.phase == Phase::Waiting)
            .filter_map(|j| Self::start_time(j, now).map(|t| (t, j.id)))
            .filter(|(t, _)| *t <= now)
            .min()
            .map(|(_, id)| id)
    }

    /// When the loop should next look at the queue (Unix time).
    pub fn next_deadline(&self, now: i64) -> Option<i64> {
        self.jobs
            .iter()
            .filter(|j| j.phase == Phase::Waiting)
            // All windows past: due now, to be reported as missed.
            .map(|j| Self::start_time(j, now).unwrap_or(now))
            .min()
    }

    /// Reports ScheduleDownloads whose windows have all closed (9020).
    pub fn expire(&mut self, now: i64) -> usize {
        let (gone, keep): (Vec<Job>, Vec<Job>) = std::mem::take(&mut self.jobs)
            .into_iter()
            .partition(|j| j.phase == Phase::Waiting && Self::start_time(j, now).is_none());
        self.jobs = keep;
        let n = gone.len();
        for j in gone {
            log::warn!("transfer {}: every time window has closed", j.id);
            self.finish_job(j, Err(TransferError::WindowsMissed), now);
        }
        n
    }

    /// Marks a job started.
    pub fn start(&mut self, id: u64, now: i64) {
        if let Some(j) = self.job_mut(id) {
            j.phase = Phase::Running;
            j.started.get_or_insert(now);
        }
    }

    /// A job ended with this result; a failed ScheduleDownload with retries and an open
    /// window goes back to waiting. Returns true when a result was recorded.
    pub fn finish(&mut self, id: u64, result: Result<(), TransferError>, now: i64) -> bool {
        let Some(i) = self.jobs.iter().position(|j| j.id == id) else {
            return false;
        };
        if let Err(e) = &result {
            let j = &mut self.jobs[i];
            let retry_at = now + RETRY_SECONDS;
            if j.scheduled
                && j.retries_left > 0
                && j.windows.iter().any(|w| w.end > retry_at)
                && !matches!(e, TransferError::Protocol(_) | TransferError::Interrupted)
            {
                j.retries_left -= 1;
                j.phase = Phase::Waiting;
                j.file = None;
                j.due = retry_at;
                log::warn!(
                    "transfer {id}: {e}; retrying in {RETRY_SECONDS} s ({} left)",
                    j.retries_left
                );
                return false;
            }
        }
        let job = self.jobs.remove(i);
        self.finish_job(job, result, now);
        true
    }

    fn finish_job(&mut self, job: Job, result: Result<(), TransferError>, now: i64) {
        match &result {
            Ok(()) => log::info!("transfer {}: complete", job.id),
            Err(e) => log::warn!("transfer {}: failed: {e}", job.id),
        }
        self.push_done(Done {
            direction: job.direction,
            scheduled: job.scheduled,
            command_key: job.command_key,
            file_type: job.file_type,
            file_size: job.file_size,
            target_file_name: job.target_file_name,
            result,
            start: job.started.unwrap_or(0),
            complete: now,
            autonomous: None,
        });
    }

    /// Records a result for delivery (the oldest goes when too many wait).
    pub fn push_done(&mut self, done: Done) {
        if self.done.len() >= MAX_DONE {
            let old = self.done.remove(0);
            log::warn!(
                "transfer: result for {:?} dropped: {MAX_DONE} results undelivered",
                old.command_key
            );
        }
        self.done.push(done);
    }

    /// After a restart: a job that was running was cut off (failed; its partial file is the
    /// caller's to remove). A download whose apply reboots the device (`reboots(file_type)`)
    /// succeeded only if the device booted (`booted`) into other software than before
    /// (`software`: the SoftwareVersion now); any other job that was applying failed. Returns
    /// the files to remove.
    pub fn restarted(
        &mut self,
        now: i64,
        booted: bool,
        software: Option<&str>,
        reboots: impl Fn(&str) -> bool,
    ) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let ids: Vec<(u64, Phase, bool, Option<String>)> = self
            .jobs
            .iter()
            .filter(|j| j.phase != Phase::Waiting)
            .map(|j| {
                (
                    j.id,
                    j.phase,
                    reboots(&j.file_type),
                    j.software_before.clone(),
                )
            })
            .collect();
        for (id, phase, reboot, before) in ids {
            if let Some(j) = self.job_mut(id) {
                files.extend(j.file.take());
                // No retry: an interrupted transfer is reported, never resumed half-way.
                j.retries_left = 0;
            }
            let result = match (phase, reboot, booted) {
                (Phase::Applying | Phase::Rebooting, true, true) => match (before, software) {
                    (Some(b), Some(now)) if b == now => Err(TransferError::Corrupted(format!(
                        "the device booted back into SoftwareVersion {now}"
                    ))),
                    _ => Ok(()),
                },
                (Phase::Rebooting, _, false) => Err(TransferError::Local(
                    "the device did not reboot into the new software".into(),
                )),
                _ => Err(TransferError::Interrupted),
            };
            self.finish(id, result, now);
        }
        files
    }

    /// CancelTransfer (A.4.1.11): waiting jobs with the key are dropped; a running one
    /// cannot be stopped; an unknown key is refused.
    pub fn cancel(&mut self, command_key: &str) -> Result<(), QueueError> {
        let matching: Vec<&Job> = self
            .jobs
            .iter()
            .filter(|j| j.command_key == command_key)
            .collect();
        if matching.is_empty() {
            return Err(QueueError::UnknownKey(command_key.to_string()));
        }
        if matching.iter().any(|j| j.phase != Phase::Waiting) {
            return Err(QueueError::UnderWay(command_key.to_string()));
        }
        self.jobs.retain(|j| j.command_key != command_key);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
