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
//!
//! The job types are here; `queue` holds the queue's rules (capacity, what starts next,
//! windows, results, a restart), `state` how it is saved and read back.

pub mod autonomous;
pub mod error;
mod queue;
pub mod run;
mod state;

use std::path::PathBuf;

use error::TransferError;

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

#[cfg(test)]
mod tests;
