//! The queue's rules: a bounded number of jobs, one active at a time, the next to start by
//! due time and ScheduleDownload window, retries within a window, results kept for
//! delivery (the oldest dropped beyond a limit), CancelTransfer, and what a restart finds.

use std::path::PathBuf;

use super::error::{QueueError, TransferError};
use super::{Done, Job, Phase, Transfers, MAX_DONE, MAX_JOBS, RETRY_SECONDS};

impl Transfers {
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
