//! The agent: the single loop that owns all mutable state.
//!
//! ```text
//!   ┌──▶ wake: due timers queue events (timers.rs) ── a Connection Request queues 6 ──┐
//!   │                                                                                 ▼
//!   │    wait on the CR listener          persist ◀── one CWMP session (session.rs) ◀─┘
//!   │    until the next deadline              │       with the queued events, unless
//!   └──────────── (mod.rs) ◀──── device actions (actions.rs): Reboot, FactoryReset
//! ```
//!
//! Each turn: due timers queue events (PERIODIC, SCHEDULED, value changes: `notify.rs`) → an
//! accepted Connection Request queues `6 CONNECTION REQUEST` → with events queued and no
//! back-off pending, one CWMP session runs → state is persisted if it changed → actions the
//! ACS asked for run → the loop waits on the Connection Request listener until the next
//! deadline. Nothing polls; SIGTERM wakes the wait through the listener's waker
//! (`signals.rs`). Time comes from a [`Clock`], so tests drive the loop turn by turn
//! ([`Agent::step`]) with a manual clock. The ManagementServer settings the loop follows are
//! in `management.rs`; file transfers and diagnostics run in workers (`transfers.rs`,
//! `diagnostics.rs`) that report back through a channel.

mod actions;
#[cfg(feature = "diagnostics")]
mod diagnostics;
mod management;
mod notify;
mod session;
mod signals;
pub mod state;
mod timers;
mod transfers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::cr;
use crate::device::Device;
use crate::event::Event;
use crate::rpc::Actions;
use crate::transfer::run;
use management::Management;
use notify::Notify;
pub use signals::{block_signals, watch_signals};
use state::AgentState;
use timers::Timers;

/// Why the agent could not start.
#[derive(Debug)]
pub enum StartError {
    /// The device (config → board → data model → handlers → state) could not be opened.
    Device(crate::device::SetupError),
    /// The Connection Request listener could not be bound.
    Listener(cr::ListenError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Device(e) => write!(f, "{e}"),
            StartError::Listener(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// What one turn of the loop left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Nothing is due before this long (the loop waits on the listener meanwhile).
    Wait(Duration),
    /// Something arrived during the turn: turn again at once.
    Again,
    /// The device is going down (Reboot, FactoryReset) or SIGTERM came: the loop ends.
    Exit,
}

/// Worker threads (transfers, diagnostics) and their reports.
struct Workers {
    /// Where each worker leaves its report (a shared list rather than a channel, whose three
    /// flavours std compiles for every message type: ~5 KB on MIPS).
    reports: Arc<Mutex<Vec<transfers::Report>>>,
    /// A transfer worker is running.
    busy: bool,
    /// Reports taken off the channel before a wait (a session's listener polls may have
    /// consumed their wake-up).
    inbox: Vec<transfers::Report>,
}

impl Workers {
    /// Moves the reports the workers left into the inbox.
    fn take_reports(&mut self) {
        let mut left = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        self.inbox.append(&mut left);
    }
}

/// The running agent.
pub struct Agent {
    cfg: Config,
    dev: Device,
    clock: Box<dyn Clock>,
    listener: cr::Listener,
    state: AgentState,
    /// The state changed since it was last written.
    dirty: bool,
    management: Management,
    timers: Timers,
    notify: Notify,
    workers: Workers,
    /// Device actions the ACS asked for in the last session.
    actions: Actions,
    /// A Connection Request was accepted and not yet turned into an event.
    cr_pending: bool,
    /// An apply that should have rebooted the device returned: reboot after this turn.
    reboot_after_apply: bool,
    shutdown: Arc<AtomicBool>,
    /// Where and how transfers run.
    transfer: run::Settings,
    /// Sessions run so far (for logs and tests).
    pub sessions: u64,
}

impl Agent {
    /// Opens the device, binds the Connection Request listener and loads the saved state.
    pub fn new(cfg: Config) -> Result<Agent, StartError> {
        Agent::with_handlers(cfg, Vec::new())
    }

    /// Like [`Agent::new`], with a vendor's handlers registered after the built-ins (a name
    /// already taken replaces the built-in).
    pub fn with_handlers(
        cfg: Config,
        extra: Vec<(String, Box<dyn crate::backend::Handler>)>,
    ) -> Result<Agent, StartError> {
        Agent::with_clock(cfg, extra, Box::new(SystemClock::new()))
    }

    /// Like [`Agent::with_handlers`], reading time from `clock` (a manual clock in tests).
    pub fn with_clock(
        cfg: Config,
        extra: Vec<(String, Box<dyn crate::backend::Handler>)>,
        clock: Box<dyn Clock>,
    ) -> Result<Agent, StartError> {
        let mut dev = Device::open_with(&cfg, extra).map_err(StartError::Device)?;
        let mut state = dev.agent_state(AgentState::from_fields);
        let c = &cfg.connection_request;
        let listener = cr::Listener::bind_remembering(
            &cr::Settings {
                listen: c.listen.clone(),
                path: c.path.clone(),
                username: c.username.clone(),
                password: c.password.clone(),
            },
            state.cr_port,
        )
        .map_err(StartError::Listener)?;
        // A port the system chose is kept for the next start (see `bind_remembering`).
        state.cr_port = match c.listen.parse::<std::net::SocketAddr>() {
            Ok(a) if a.port() == 0 => listener.local_addr().map(|a| a.port()),
            _ => None,
        };
        if c.url.is_empty() {
            // The real port (the config may say :0) and a reachable address.
            if let Some(a) = listener.local_addr() {
                let url = cr::derive_url(&a.to_string(), &c.path, &cfg.acs.url);
                dev.model.set_global("connection_request_url", &url);
            }
        }
        let transfer = run::Settings {
            dir: dev
                .board
                .transfer
                .dir
                .clone()
                .unwrap_or_else(|| cfg.paths.state_dir.join("transfer")),
            max_size: dev.board.transfer.max_size,
            tls: crate::http::tls::TlsSettings {
                ca_file: cfg.acs.ca_file.clone(),
                client_cert: None,
                client_key: None,
                insecure: cfg.acs.insecure,
            },
            timeout: Duration::from_secs(u64::from(cfg.acs.timeout)),
            total_timeout: run::TRANSFER_TIMEOUT,
            allow_basic_over_http: cfg.acs.allow_basic_over_http,
        };
        let mut a = Agent {
            cfg,
            dev,
            clock,
            listener,
            state,
            dirty: true,
            management: Management::default(),
            timers: Timers::default(),
            notify: Notify::default(),
            workers: Workers {
                reports: Arc::default(),
                busy: false,
                inbox: Vec::new(),
            },
            actions: Actions::default(),
            cr_pending: false,
            reboot_after_apply: false,
            shutdown: Arc::new(AtomicBool::new(false)),
            transfer,
            sessions: 0,
        };
        a.read_management();
        a.sync_cr_credentials();
        Ok(a)
    }

    /// The shutdown flag and a waker: set the flag, then wake (used by the signal thread).
    pub fn shutdown_handle(&self) -> (Arc<AtomicBool>, cr::Waker) {
        (self.shutdown.clone(), self.listener.waker())
    }

    /// The Connection Request listener's address.
    pub fn cr_addr(&self) -> Option<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Atomic writes of the state file so far and the bytes they wrote (the flash budget).
    pub fn state_writes(&self) -> (u64, u64) {
        (self.dev.journal.writes, self.dev.journal.bytes)
    }

    /// The events waiting for a session (tests, logs).
    pub fn queued_events(&self) -> &[Event] {
        &self.state.events.events
    }

    /// Queues an event (logged once: an event already queued is not queued again).
    fn push(&mut self, ev: Event) {
        let what = if ev.command_key.is_empty() {
            ev.code.clone()
        } else {
            format!("{} ({})", ev.code, ev.command_key)
        };
        if self.state.events.push(ev) {
            log::info!("event: {what}");
            self.dirty = true;
        }
    }

    /// Ends a loop turn: one write of the state file, only if something changed.
    fn persist(&mut self) {
        let section = std::mem::take(&mut self.dirty).then(|| self.state.to_table());
        self.dev.persist_with(section);
    }

    /// The last write before the agent exits: everything not saved yet.
    fn flush(&mut self) {
        let section = std::mem::take(&mut self.dirty).then(|| self.state.to_table());
        self.dev.flush(section);
    }

    /// Queues the events of a start and arms the timers (call once, before the first turn).
    pub fn start(&mut self) {
        self.startup();
        self.persist();
    }

    /// One turn of the loop at the clock's time: timers, a session when events wait and no
    /// back-off holds them, persistence, device actions. It does not wait.
    pub fn turn(&mut self) -> Turn {
        if self.shutdown.load(Ordering::SeqCst) {
            log::info!("agent: stopping");
            self.flush();
            return Turn::Exit;
        }
        let now = self.clock.now();
        self.timers(now);
        let backing_off = self.timers.retry_at.is_some_and(|t| t > now);
        if !self.state.events.is_empty() && !backing_off {
            self.session();
        }
        self.persist();
        if self.device_actions() {
            self.flush();
            return Turn::Exit;
        }
        if self.cr_pending {
            return Turn::Again;
        }
        self.workers.take_reports();
        if !self.workers.inbox.is_empty()
            || self.notify.netlink_changed.load(Ordering::SeqCst)
            || self.shutdown.load(Ordering::SeqCst)
        {
            // A wake-up meant for these (a SIGTERM's too) may have been taken by a poll in
            // the session.
            return Turn::Again;
        }
        let now = self.clock.now();
        if !self.state.events.is_empty() && self.timers.retry_at.is_none_or(|t| t <= now) {
            return Turn::Wait(Duration::ZERO);
        }
        Turn::Wait(self.next_wait(now))
    }

    /// Waits on the Connection Request listener (and the waker) for up to `timeout`.
    pub fn wait(&mut self, timeout: Duration) {
        if !timeout.is_zero() {
            log::debug!("agent: idle for up to {} ms", timeout.as_millis());
        }
        if self.listener.poll_at(timeout, self.clock.millis()).accepted > 0 {
            self.cr_pending = true;
        }
    }

    /// One turn and a look at the listener without waiting: what a test calls between
    /// advances of a manual clock. Returns the time to the next deadline, `None` once the
    /// agent has ended.
    pub fn step(&mut self) -> Option<Duration> {
        match self.turn() {
            Turn::Exit => None,
            Turn::Again => Some(Duration::ZERO),
            Turn::Wait(d) => {
                self.wait(Duration::ZERO);
                Some(if self.cr_pending { Duration::ZERO } else { d })
            }
        }
    }

    /// Runs until SIGTERM (or a Reboot/FactoryReset).
    pub fn run(&mut self) {
        self.start();
        loop {
            match self.turn() {
                Turn::Exit => return,
                Turn::Again => {}
                Turn::Wait(d) => self.wait(d),
            }
        }
    }
}
