//! The agent's side of file transfers: starting due jobs in a worker thread, taking the
//! worker's reports, turning results into events and TransferComplete requests, and the
//! restart rules. The queue itself is plain data in `transfer/`; this is the only code that
//! moves a job from one phase to the next, always on the loop's thread.

use super::Agent;
use crate::event::{code, Event};
use crate::session::engine::Request;
use crate::transfer::error::TransferError;
use crate::transfer::{autonomous, run, Direction, Done, Phase};

/// What a worker thread sends back.
#[derive(Debug)]
pub enum Report {
    /// A download arrived whole; it is to be applied.
    Fetched {
        /// Job id.
        id: u64,
        /// The file.
        file: std::path::PathBuf,
    },
    /// A job ended (after the apply, for downloads).
    Finished {
        /// Job id.
        id: u64,
        /// How.
        result: Result<(), TransferError>,
    },
    /// A diagnostic test ended.
    #[cfg(feature = "diagnostics")]
    Diagnostic {
        /// `ipping` or `traceroute`.
        test: String,
        /// The run it belongs to (stale runs are dropped).
        generation: u64,
        /// What it found.
        outcome: Result<crate::diag::Outcome, crate::diag::DiagError>,
    },
}

/// Worker stack: enough for a TLS handshake and a command.
const WORKER_STACK: usize = 512 * 1024;

impl Agent {
    /// The device's SoftwareVersion now (what a firmware download should change).
    fn software_version(&mut self) -> Option<String> {
        self.dev
            .model
            .lookup(&["Device.DeviceInfo.SoftwareVersion"])
            .pop()
            .flatten()
            .filter(|v| !v.is_empty())
    }

    /// A reboot an apply needed did not happen: its download failed.
    pub(super) fn reboot_failed(&mut self, why: &str) {
        let now = self.clock.unix();
        let before = self.state.pending.transfers.done.len();
        let ids: Vec<u64> = self
            .state
            .pending
            .transfers
            .jobs
            .iter()
            .filter(|j| j.phase == Phase::Rebooting)
            .map(|j| j.id)
            .collect();
        for id in ids {
            self.state.pending.transfers.finish(
                id,
                Err(TransferError::Local(format!(
                    "the reboot into the new software failed: {why}"
                ))),
                now,
            );
        }
        let fresh: Vec<Done> = self.state.pending.transfers.done[before..].to_vec();
        for d in &fresh {
            self.announce(d);
        }
        self.dirty = true;
    }

    /// Start-up: results of jobs the restart cut off (and of firmware that needed the boot
    /// that just happened — or did not), leftovers removed, autonomous reports.
    pub(super) fn transfers_restarted(&mut self, booted: bool) {
        let now = self.clock.unix();
        let board = self.dev.board.transfer.clone();
        let before = self.state.pending.transfers.done.len();
        let software = self.software_version();
        let files =
            self.state
                .pending
                .transfers
                .restarted(now, booted, software.as_deref(), |ty| {
                    board.download.get(ty).is_some_and(|d| d.reboot)
                });
        for f in files {
            let _ = std::fs::remove_file(f);
        }
        run::clean(&self.transfer.dir, &[]);
        if self.state.pending.transfers.done.len() != before {
            self.dirty = true;
        }
        let fresh: Vec<Done> = self.state.pending.transfers.done[before..].to_vec();
        for d in &fresh {
            self.announce(d);
        }
        self.pick_autonomous();
        self.announce_results();
    }

    /// Takes reports of transfers the device made itself.
    pub(super) fn pick_autonomous(&mut self) {
        let dir = self.cfg.paths.state_dir.join(autonomous::SPOOL_DIR);
        for d in autonomous::scan(&dir, self.clock.unix()) {
            self.announce(&d);
            self.state.pending.transfers.push_done(d);
            self.dirty = true;
        }
    }

    /// Adds to the Inform about to go the events undelivered results need: each result's M
    /// event with its CommandKey and 7 TRANSFER COMPLETE (or 10 AUTONOMOUS TRANSFER COMPLETE
    /// alone) go in every Inform until the ACS has acknowledged the result — also when a
    /// crash came between the InformResponse that retired them and the TransferComplete.
    /// Results the ACS refused with a fault wait for the next session; they do not start one.
    pub(super) fn announce_results(&mut self) {
        let done = self.state.pending.transfers.done.clone();
        for d in &done {
            self.announce(d);
        }
    }

    /// Queues the events of a new result: its M event and 7 (or 10).
    fn announce(&mut self, d: &Done) {
        if let Some(m) = d.method_event() {
            self.push(Event::with_key(m, &d.command_key));
        }
        self.push(Event::new(if d.autonomous.is_some() {
            code::AUTONOMOUS_TRANSFER_COMPLETE
        } else {
            code::TRANSFER_COMPLETE
        }));
    }

    /// The results this session reports (one CPE request each, made for the session's
    /// version when it goes).
    pub(super) fn transfer_requests(&self) -> (Vec<Done>, Vec<Request>) {
        let done = self.state.pending.transfers.done.clone();
        let requests = done
            .iter()
            .cloned()
            .map(|d| Box::new(move |v| crate::rpc::transfer::complete(&d, v)) as Request)
            .collect();
        (done, requests)
    }

    /// The ACS acknowledged these requests (indices into the results of
    /// [`Self::transfer_requests`]): forget them and save at once, so a crash cannot report
    /// them twice.
    pub(super) fn acknowledged(&mut self, indices: &[usize], sent: &[Done]) {
        let mut changed = false;
        for &i in indices {
            let Some(d) = sent.get(i) else { continue };
            if let Some(pos) = self
                .state
                .pending
                .transfers
                .done
                .iter()
                .position(|x| x == d)
            {
                self.state.pending.transfers.done.remove(pos);
                changed = true;
            }
        }
        if changed {
            self.dirty = true;
            self.persist();
        }
    }

    /// Moves the queue on: reports missed windows, takes worker reports, starts the next
    /// due job.
    pub(super) fn transfer_turn(&mut self) {
        let now = self.clock.unix();
        let before = self.state.pending.transfers.done.len();
        if self.state.pending.transfers.expire(now) > 0 {
            self.dirty = true;
        }
        self.workers.take_reports();
        let inbox = std::mem::take(&mut self.workers.inbox);
        for r in inbox {
            self.on_report(r);
        }
        let after: Vec<Done> = self.state.pending.transfers.done
            [before.min(self.state.pending.transfers.done.len())..]
            .to_vec();
        for d in &after {
            self.announce(d);
        }
        if let Some(id) = self.state.pending.transfers.next_to_start(now) {
            self.start_job(id, now);
        }
    }

    fn on_report(&mut self, r: Report) {
        let now = self.clock.unix();
        match r {
            #[cfg(feature = "diagnostics")]
            Report::Diagnostic {
                test,
                generation,
                outcome,
            } => self.diagnostic_done(&test, generation, outcome),
            Report::Fetched { id, file } => {
                let software = self.software_version();
                let Some(job) = self.state.pending.transfers.job_mut(id) else {
                    let _ = std::fs::remove_file(&file);
                    return;
                };
                job.phase = Phase::Applying;
                job.file = Some(file.clone());
                job.software_before = software;
                let job = job.clone();
                // On disk before the apply starts: an apply that takes the device down is
                // then known after the boot.
                self.dirty = true;
                self.persist();
                match self
                    .dev
                    .board
                    .transfer
                    .download
                    .get(&job.file_type)
                    .cloned()
                {
                    Some(how) => {
                        self.spawn_worker(id, move || Report::Finished {
                            id,
                            result: run::apply(&job, &file, &how),
                        });
                    }
                    None => {
                        let _ = std::fs::remove_file(&file);
                        self.state.pending.transfers.finish(
                            id,
                            Err(TransferError::Local(format!(
                                "the board no longer applies {:?}",
                                job.file_type
                            ))),
                            now,
                        );
                        self.workers.busy = false;
                    }
                }
            }
            Report::Finished { id, result } => {
                self.workers.busy = false;
                let reboot = result.is_ok()
                    && self.state.pending.transfers.jobs.iter().any(|j| {
                        j.id == id
                            && j.phase == Phase::Applying
                            && self
                                .dev
                                .board
                                .transfer
                                .download
                                .get(&j.file_type)
                                .is_some_and(|d| d.reboot)
                    });
                self.dirty = true;
                if reboot {
                    // The apply returned instead of taking the device down: reboot into what
                    // it installed; the result is reported after the boot, with 1 BOOT.
                    if let Some(j) = self.state.pending.transfers.job_mut(id) {
                        j.phase = Phase::Rebooting;
                    }
                    self.reboot_after_apply = true;
                } else {
                    self.state.pending.transfers.finish(id, result, now);
                }
            }
        }
    }

    fn start_job(&mut self, id: u64, now: i64) {
        self.state.pending.transfers.start(id, now);
        self.dirty = true;
        self.persist();
        let Some(job) = self
            .state
            .pending
            .transfers
            .jobs
            .iter()
            .find(|j| j.id == id)
            .cloned()
        else {
            return;
        };
        let settings = self.transfer.clone();
        match job.direction {
            Direction::Download => {
                self.spawn_worker(id, move || match run::download(&job, &settings) {
                    Ok(file) => Report::Fetched { id, file },
                    Err(e) => Report::Finished { id, result: Err(e) },
                })
            }
            Direction::Upload => {
                let source = self.dev.board.transfer.upload.get(&job.file_type).cloned();
                self.spawn_worker(id, move || Report::Finished {
                    id,
                    result: match source {
                        Some(s) => run::upload(&job, &s, &settings),
                        None => Err(TransferError::Local(format!(
                            "the board no longer uploads {:?}",
                            job.file_type
                        ))),
                    },
                })
            }
        }
    }

    /// Runs `work` for job `id` in a worker thread; its report wakes the loop. A worker that
    /// cannot start, or panics, reports the job as failed.
    fn spawn_worker(&mut self, id: u64, work: impl FnOnce() -> Report + Send + 'static) {
        self.workers.busy = true;
        self.spawn_thread("transfer", work, move |why| Report::Finished {
            id,
            result: Err(TransferError::Local(why)),
        });
    }

    /// Runs `work` in a thread whose report wakes the loop; `failed` makes the report when
    /// the thread cannot start or panics.
    pub(super) fn spawn_thread(
        &mut self,
        name: &str,
        work: impl FnOnce() -> Report + Send + 'static,
        failed: impl Fn(String) -> Report + Send + Clone + 'static,
    ) {
        let reports = self.workers.reports.clone();
        let waker = self.listener.waker();
        let (failed2, what) = (failed.clone(), name.to_string());
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .stack_size(WORKER_STACK)
            .spawn(move || {
                let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                    .unwrap_or_else(|_| failed2(format!("the {what} worker failed")));
                reports
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(report);
                waker.wake();
            });
        if let Err(e) = spawned {
            log::error!("agent: cannot start a {name} worker: {e}");
            let report = failed(format!("cannot start a worker: {e}"));
            self.workers.inbox.push(report);
        }
    }

    /// Unix time the queue next needs the loop.
    pub(super) fn transfer_deadline(&self) -> Option<i64> {
        if self.workers.busy {
            return None;
        }
        self.state
            .pending
            .transfers
            .next_deadline(self.clock.unix())
    }
}
