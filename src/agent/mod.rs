//! The agent: the single loop that owns all mutable state.
//!
//! Each turn: due timers queue events (PERIODIC, SCHEDULED) → an accepted Connection Request
//! queues `6 CONNECTION REQUEST` → with events queued and no back-off pending, one CWMP
//! session runs → state is persisted if it changed → actions the ACS asked for (apply,
//! Reboot, FactoryReset) run → the loop waits on the Connection Request listener until the
//! next deadline. Nothing polls; SIGTERM wakes the wait through the listener's waker.

#[cfg(feature = "diagnostics")]
mod diagnostics;
pub mod state;
mod transfers;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::cr;
use crate::device::Device;
use crate::event::{code, Event};
use crate::http;
use crate::model::datetime;
use crate::rpc::{self, Actions};
use crate::session::backoff::RetryPolicy;
use crate::session::engine::{Engine, Step};
use crate::session::inform;
use crate::soap::{CwmpVersion, ParameterValue};
use crate::transfer::run;
use state::{AgentState, Scheduled};

/// How long after a netlink event the values are compared (the burst settles).
pub const NETLINK_SETTLE: Duration = Duration::from_millis(100);

/// Longest the loop sleeps without a deadline.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// ManagementServer settings as the loop needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Management {
    url: String,
    periodic_enable: bool,
    periodic_interval: u32,
    periodic_time: Option<i64>,
    retry: RetryPolicy,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u64::from_ne_bytes(b)
}

/// The running agent.
pub struct Agent {
    cfg: Config,
    dev: Device,
    listener: cr::Listener,
    state: AgentState,
    dirty: bool,
    management: Management,
    next_periodic: Option<Instant>,
    retry_at: Option<Instant>,
    cr_pending: bool,
    shutdown: Arc<AtomicBool>,
    actions: Actions,
    /// When notified parameters are next compared with the baseline.
    next_notify: Option<Instant>,
    /// Changed notified parameters not yet reported in an Inform.
    changed: BTreeMap<String, ParameterValue>,
    /// When a throttled active notification may go.
    active_due: Option<Instant>,
    /// When the last active notification went.
    last_active: Option<Instant>,
    /// The ACS client, built once (TLS setup reads the CA bundle) and again only when its
    /// settings change.
    client: Option<http::Client>,
    /// Worker reports (transfers, diagnostics): the sending half is cloned into each worker.
    reports: (
        mpsc::Sender<transfers::Report>,
        mpsc::Receiver<transfers::Report>,
    ),
    /// A transfer worker is running.
    worker_busy: bool,
    /// Reports taken off the channel before a wait (a session's listener polls may have
    /// consumed their wake-up).
    inbox: Vec<transfers::Report>,
    /// An apply that should have rebooted the device returned: reboot after this turn.
    reboot_after_apply: bool,
    /// Where and how transfers run.
    transfer: run::Settings,
    /// Set by the netlink watcher when links or addresses changed.
    netlink_changed: Arc<AtomicBool>,
    /// Sessions run so far (for logs and tests).
    pub sessions: u64,
}

impl Agent {
    /// Opens the device, binds the Connection Request listener and loads the saved state.
    pub fn new(cfg: Config) -> Result<Agent, String> {
        Agent::with_handlers(cfg, Vec::new())
    }

    /// Like [`Agent::new`], with a vendor's handlers registered after the built-ins (a name
    /// already taken replaces the built-in).
    pub fn with_handlers(
        cfg: Config,
        extra: Vec<(String, Box<dyn crate::backend::Handler>)>,
    ) -> Result<Agent, String> {
        let mut dev = Device::open_with(&cfg, extra).map_err(|e| e.to_string())?;
        let c = &cfg.connection_request;
        let listener = cr::Listener::bind(&cr::Settings {
            listen: c.listen.clone(),
            path: c.path.clone(),
            username: c.username.clone(),
            password: c.password.clone(),
        })?;
        if c.url.is_empty() {
            // The real port (the config may say :0) and a reachable address.
            if let Some(a) = listener.local_addr() {
                let url = cr::derive_url(&a.to_string(), &c.path, &cfg.acs.url);
                dev.model.set_global("connection_request_url", &url);
            }
        }
        let state = dev.agent_state(AgentState::from_fields);
        let transfer = run::Settings {
            dir: dev
                .board
                .transfer
                .dir
                .clone()
                .unwrap_or_else(|| cfg.paths.state_dir.join("transfer")),
            max_size: dev.board.transfer.max_size,
            tls: http::tls::TlsSettings {
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
            listener,
            state,
            dirty: true,
            management: Management {
                url: String::new(),
                periodic_enable: false,
                periodic_interval: 3600,
                periodic_time: None,
                retry: RetryPolicy::default(),
            },
            next_periodic: None,
            retry_at: None,
            cr_pending: false,
            shutdown: Arc::new(AtomicBool::new(false)),
            actions: Actions::default(),
            next_notify: None,
            changed: BTreeMap::new(),
            active_due: None,
            last_active: None,
            client: None,
            reports: mpsc::channel(),
            worker_busy: false,
            inbox: Vec::new(),
            reboot_after_apply: false,
            transfer,
            netlink_changed: Arc::new(AtomicBool::new(false)),
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

    fn value(&mut self, path: &str) -> String {
        self.dev
            .model
            .get_values(&[path])
            .ok()
            .and_then(|mut v| v.pop())
            .map(|v| v.value)
            .unwrap_or_default()
    }

    /// Re-reads the ManagementServer values the loop depends on; re-arms timers on change.
    fn read_management(&mut self) {
        self.dev.model.begin();
        let url = match self.value("Device.ManagementServer.URL") {
            u if u.is_empty() => self.cfg.acs.url.clone(),
            u => u,
        };
        let enable = self.value("Device.ManagementServer.PeriodicInformEnable");
        let interval = self
            .value("Device.ManagementServer.PeriodicInformInterval")
            .parse()
            .unwrap_or(self.cfg.acs.periodic_inform_interval)
            .max(1);
        let time = datetime::parse(&self.value("Device.ManagementServer.PeriodicInformTime"))
            .map(|d| d.unix)
            .filter(|t| *t > 0);
        let m = Management {
            url,
            periodic_enable: enable.is_empty() && self.cfg.acs.periodic_inform_enable
                || enable == "true",
            periodic_interval: interval,
            periodic_time: time,
            retry: RetryPolicy {
                minimum_wait: self
                    .value("Device.ManagementServer.CWMPRetryMinimumWaitInterval")
                    .parse()
                    .unwrap_or(5),
                multiplier: self
                    .value("Device.ManagementServer.CWMPRetryIntervalMultiplier")
                    .parse()
                    .unwrap_or(2000),
            },
        };
        let periodic_changed = (m.periodic_enable, m.periodic_interval, m.periodic_time)
            != (
                self.management.periodic_enable,
                self.management.periodic_interval,
                self.management.periodic_time,
            );
        self.management = m;
        if periodic_changed || self.next_periodic.is_none() {
            self.arm_periodic();
        }
    }

    /// TR-069 A.3.2.? PeriodicInformTime: informs happen at Time + k·Interval; unknown Time
    /// means Interval from now.
    fn arm_periodic(&mut self) {
        if !self.management.periodic_enable {
            self.next_periodic = None;
            return;
        }
        let interval = i64::from(self.management.periodic_interval);
        let secs = match self.management.periodic_time {
            Some(t0) => {
                let now = unix_now();
                let into = (now - t0).rem_euclid(interval);
                if into == 0 {
                    interval
                } else {
                    interval - into
                }
            }
            None => interval,
        };
        self.next_periodic = Some(Instant::now() + Duration::from_secs(secs as u64));
        log::debug!("agent: next periodic inform in {secs} s");
    }

    fn push(&mut self, ev: Event) {
        log::info!(
            "event: {}{}",
            ev.code,
            if ev.command_key.is_empty() {
                String::new()
            } else {
                format!(" ({})", ev.command_key)
            }
        );
        if self.state.events.push(ev) {
            self.dirty = true;
        }
    }

    /// Queues the events of a start: BOOTSTRAP if this ACS has not seen us, BOOT, and
    /// M Reboot when we come back from a Reboot RPC.
    fn startup(&mut self) {
        self.state.events.restarted();
        if self.cfg.notify.interval > 0 || self.cfg.notify.netlink {
            // Establish (or compare with) the baseline at once, then every interval.
            self.next_notify = Some(Instant::now());
        }
        #[cfg(feature = "netlink")]
        if self.cfg.notify.netlink {
            let flag = self.netlink_changed.clone();
            let waker = self.listener.waker();
            let started = crate::backend::netlink::watch::spawn(move || {
                flag.store(true, Ordering::SeqCst);
                waker.wake();
            });
            if let Err(e) = started {
                log::warn!("notify: no netlink events ({e}); periodic checks only");
            }
        }
        if self.state.bootstrapped_url.as_deref() != Some(self.management.url.as_str()) {
            self.push(Event::new(code::BOOTSTRAP));
        }
        self.push(Event::new(code::BOOT));
        if let Some(key) = self.state.reboot_key.take() {
            self.push(Event::with_key(code::M_REBOOT, &key));
        }
        self.transfers_restarted();
        self.dirty = true;
    }

    /// Compares notified parameters with the baseline (TR-069 A.3.2.4): passive changes wait
    /// for the next Inform, active ones queue 4 VALUE CHANGE (throttled).
    fn check_values(&mut self) {
        self.dev.model.begin();
        let list = match self.dev.model.notified() {
            Ok(l) => l,
            Err(e) => {
                log::warn!("notify: {e}");
                return;
            }
        };
        let mut seen = BTreeSet::new();
        let mut active = false;
        for (pv, level) in list {
            seen.insert(pv.name.clone());
            match self.state.baseline.get(&pv.name) {
                Some(old) if *old == pv.value => {}
                Some(_) => {
                    log::info!(
                        "notify: {} changed ({})",
                        pv.name,
                        if level == 2 { "active" } else { "passive" }
                    );
                    self.state
                        .baseline
                        .insert(pv.name.clone(), pv.value.clone());
                    active |= level == 2;
                    let xsd_type = pv.xsd_type.trim_start_matches("xsd:").to_string();
                    self.changed.insert(
                        pv.name.clone(),
                        ParameterValue {
                            name: pv.name,
                            value: pv.value,
                            xsd_type,
                        },
                    );
                    self.dirty = true;
                }
                None => {
                    self.state
                        .baseline
                        .insert(pv.name.clone(), pv.value.clone());
                    self.dirty = true;
                }
            }
        }
        let before = self.state.baseline.len();
        self.state.baseline.retain(|k, _| seen.contains(k));
        self.dirty |= before != self.state.baseline.len();
        if active {
            self.active_notification(Instant::now());
        }
    }

    /// Queues 4 VALUE CHANGE now, or when DefaultActiveNotificationThrottle allows.
    fn active_notification(&mut self, now: Instant) {
        let throttle = Duration::from_secs(
            self.value("Device.ManagementServer.DefaultActiveNotificationThrottle")
                .parse()
                .unwrap_or(0),
        );
        match self.last_active {
            Some(last) if now < last + throttle => {
                self.active_due.get_or_insert(last + throttle);
            }
            _ => {
                self.last_active = Some(now);
                self.push(Event::new(code::VALUE_CHANGE));
            }
        }
    }

    /// The ACS's own changes are not notified back: their new values become the baseline.
    fn rebaseline(&mut self, paths: &[String]) {
        if paths.is_empty() {
            return;
        }
        self.dev.model.begin();
        if let Ok(list) = self.dev.model.notified() {
            for (pv, _) in list {
                if paths.contains(&pv.name) {
                    self.changed.remove(&pv.name);
                    self.state.baseline.insert(pv.name, pv.value);
                    self.dirty = true;
                }
            }
        }
    }

    fn timers(&mut self, now: Instant) {
        self.transfer_turn();
        if self.netlink_changed.swap(false, Ordering::SeqCst) {
            // Changes come in bursts (a link going up brings its addresses): look once the
            // burst is over.
            let soon = now + NETLINK_SETTLE;
            self.next_notify = Some(self.next_notify.map_or(soon, |t| t.min(soon)));
        }
        if self.next_notify.is_some_and(|t| t <= now) {
            self.check_values();
            self.pick_autonomous();
            self.next_notify = match self.cfg.notify.interval {
                0 => None,
                s => Some(now + Duration::from_secs(u64::from(s))),
            };
        }
        if self.active_due.is_some_and(|t| t <= now) {
            self.active_due = None;
            self.last_active = Some(now);
            self.push(Event::new(code::VALUE_CHANGE));
        }
        if self.next_periodic.is_some_and(|t| t <= now) {
            self.push(Event::new(code::PERIODIC));
            self.arm_periodic();
        }
        let wall = unix_now();
        let (due, later): (Vec<Scheduled>, Vec<Scheduled>) =
            std::mem::take(&mut self.state.scheduled)
                .into_iter()
                .partition(|s| s.due <= wall);
        self.state.scheduled = later;
        for s in due {
            self.push(Event::new(code::SCHEDULED));
            self.push(Event::with_key(code::M_SCHEDULE_INFORM, &s.command_key));
        }
        if self.cr_pending {
            self.cr_pending = false;
            self.push(Event::new(code::CONNECTION_REQUEST));
            // A new event ends any back-off wait (TR-069 §3.2.1.1).
            self.retry_at = None;
        }
    }

    fn version(&self) -> CwmpVersion {
        CwmpVersion::ALL
            .iter()
            .copied()
            .find(|v| Some(v.label()) == self.state.acs_version.as_deref())
            .unwrap_or(CwmpVersion::V1_0)
    }

    /// The ACS acknowledged an Inform carrying `events`: drop them and save.
    fn retire(&mut self, events: &[Event], url: &str) {
        let before = self.state.events.events.len();
        self.state.events.delivered(events);
        if events.iter().any(|e| e.code == code::BOOTSTRAP)
            && self.state.bootstrapped_url.as_deref() != Some(url)
        {
            self.state.bootstrapped_url = Some(url.to_string());
            self.dirty = true;
        }
        if self.state.events.events.len() != before {
            self.dirty = true;
        }
        if self.dirty {
            self.persist();
        }
    }

    /// Runs one CWMP session with the queued events.
    fn session(&mut self) {
        self.sessions += 1;
        // Changed values ride this Inform, flagged by 4 VALUE CHANGE (TR-069 A.3.3.1).
        if !self.changed.is_empty() && !self.state.events.contains(code::VALUE_CHANGE) {
            self.push(Event::new(code::VALUE_CHANGE));
        }
        // Undelivered transfer results go in every session until acknowledged.
        self.announce_results();
        let requests = self.transfer_requests();
        let events = self.state.events.events.clone();
        let changed: Vec<ParameterValue> = self.changed.values().cloned().collect();
        let url = self.management.url.clone();
        let username = self.value("Device.ManagementServer.Username");
        let settings = http::Settings {
            url: url.clone(),
            username: if username.is_empty() {
                self.cfg.acs.username.clone()
            } else {
                username
            },
            password: self.stored_password(),
            tls: http::tls::TlsSettings {
                ca_file: self.cfg.acs.ca_file.clone(),
                client_cert: self.cfg.acs.client_cert.clone(),
                client_key: self.cfg.acs.client_key.clone(),
                insecure: self.cfg.acs.insecure,
            },
            timeout: Duration::from_secs(u64::from(self.cfg.acs.timeout)),
            // A session that outlives it fails: the post in progress returns the timeout.
            session_timeout: Duration::from_secs(u64::from(self.cfg.acs.session_timeout)),
            allow_basic_over_http: self.cfg.acs.allow_basic_over_http,
        };
        log::info!(
            "session: start with {} ({})",
            url,
            events
                .iter()
                .map(|e| e.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if self.client.as_ref().map(http::Client::settings) != Some(&settings) {
            self.client = None;
            match http::Client::new(settings) {
                Ok(c) => self.client = Some(c),
                Err(e) => log::error!("session: {e}"),
            }
        }
        let outcome = match self.client.take() {
            None => Err("no usable ACS client".to_string()),
            Some(client) => {
                let inform = inform::build(
                    &mut self.dev.model,
                    &events,
                    self.state.retry_count,
                    &datetime::format_utc(unix_now()),
                    &changed,
                );
                let mut engine = Engine::new(self.version(), requests.clone());
                let mut acked = 0;
                let mut http = client.session();
                let mut body = engine.start(&inform);
                let result = loop {
                    let resp = match http.post(&body) {
                        Ok(r) => r,
                        Err(e) => break Err(e.to_string()),
                    };
                    // Connection Requests arriving meanwhile are answered now and coalesced
                    // into a session after this one.
                    if self.listener.poll(Duration::ZERO).accepted > 0 {
                        self.cr_pending = true;
                    }
                    let was_informed = engine.informed();
                    let mut ctx = rpc::Context {
                        model: &mut self.dev.model,
                        actions: &mut self.actions,
                        transfers: &mut self.state.transfers,
                        board: &self.dev.board.transfer,
                        now: unix_now(),
                    };
                    let step = engine.on_response(resp.status, &resp.body, &mut ctx);
                    if engine.informed() && !was_informed {
                        // Delivered events are retired on disk at once, so a crash later in
                        // the session does not send them again (the one extra write a turn).
                        self.retire(&events, &url);
                    }
                    let step_acked = match &step {
                        Step::Done(o) => o.acknowledged.clone(),
                        Step::Send(_) => engine.acknowledged().to_vec(),
                    };
                    if step_acked.len() > acked {
                        self.acknowledged(&step_acked[acked..], &requests);
                        acked = step_acked.len();
                    }
                    match step {
                        Step::Send(b) => body = b,
                        Step::Done(o) => {
                            let v = engine.version().label().to_string();
                            if self.state.acs_version.as_deref() != Some(&v) && o.informed {
                                self.state.acs_version = Some(v);
                            }
                            break Ok(o);
                        }
                    }
                };
                drop(http);
                self.client = Some(client);
                result
            }
        };
        let (informed, success, error) = match outcome {
            Ok(o) => (o.informed, o.success, o.error),
            Err(e) => (false, false, Some(e)),
        };
        if informed {
            self.retire(&events, &url);
            for c in &changed {
                if self.changed.get(&c.name) == Some(c) {
                    self.changed.remove(&c.name);
                }
            }
        }
        let set_by_acs = std::mem::take(&mut self.actions.set_by_acs);
        self.rebaseline(&set_by_acs);
        if self.next_notify.is_some() || self.cfg.notify.netlink {
            // Parameters the ACS just made notified get their baseline now, so the first
            // change after this session is reported.
            self.check_values();
        }
        if success {
            log::info!("session: end (ok)");
            self.state.retry_count = 0;
            self.retry_at = None;
        } else {
            self.state.events.session_failed();
            self.state.retry_count = self.state.retry_count.saturating_add(1);
            let wait = self
                .management
                .retry
                .wait_ms(self.state.retry_count, random_u64());
            log::warn!(
                "session: failed ({}); retry {} in {} ms",
                error.unwrap_or_default(),
                self.state.retry_count,
                wait
            );
            if !self.state.events.is_empty() || !informed {
                self.retry_at = Some(Instant::now() + Duration::from_millis(wait));
            }
        }
        self.dirty = true;
        for e in self.dev.model.apply() {
            log::warn!("apply: {e}");
        }
        #[cfg(feature = "diagnostics")]
        self.start_diagnostics();
        let wall = unix_now();
        for (delay, key) in std::mem::take(&mut self.actions.scheduled) {
            self.state.scheduled.push(Scheduled {
                due: wall + i64::from(delay),
                command_key: key,
            });
        }
        let before = self.management.url.clone();
        self.read_management();
        self.sync_cr_credentials();
        if self.management.url != before {
            log::info!("agent: ACS URL changed to {}", self.management.url);
            self.push(Event::new(code::BOOTSTRAP));
        }
    }

    /// A password the ACS may have set. Passwords read back empty through the model
    /// (TR-069 A.3.2.2), so the agent asks the stored handler directly, falling back to the
    /// configuration.
    fn stored_secret(&mut self, path: &str, fallback: &str) -> String {
        let b = crate::board::Binding {
            handler: "stored".into(),
            args: crate::codec::toml::Table::new(),
            write: false,
            add: false,
            numbered: false,
            at: Default::default(),
        };
        let args = crate::model::tree::substitute(&b, &Default::default(), path, None);
        match self
            .dev
            .model
            .registry_mut()
            .get_mut("stored")
            .and_then(|h| h.get(&args).ok())
        {
            Some(p) if !p.is_empty() => p,
            _ => fallback.to_string(),
        }
    }

    fn stored_password(&mut self) -> String {
        let fallback = self.cfg.acs.password.clone();
        self.stored_secret("Device.ManagementServer.Password", &fallback)
    }

    /// Keeps the Connection Request listener on the credentials in the data model (ACSs such
    /// as GenieACS set ConnectionRequestUsername/Password and then use them).
    fn sync_cr_credentials(&mut self) {
        let user = match self.value("Device.ManagementServer.ConnectionRequestUsername") {
            u if u.is_empty() => self.cfg.connection_request.username.clone(),
            u => u,
        };
        let fallback = self.cfg.connection_request.password.clone();
        let pass = self.stored_secret(
            "Device.ManagementServer.ConnectionRequestPassword",
            &fallback,
        );
        self.listener.set_credentials(&user, &pass);
    }

    /// Ends a loop turn: one write of the state file, only if something changed.
    fn persist(&mut self) {
        let section = std::mem::take(&mut self.dirty).then(|| self.state.to_table());
        self.dev.persist_with(section);
    }

    fn run_board_command(&self, what: &str, argv: &Option<Vec<String>>) {
        match argv {
            Some(argv) if !argv.is_empty() => {
                let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
                log::info!("agent: {what}: {}", argv.join(" "));
                if let Err(e) = crate::backend::command::run(&refs, Duration::from_secs(60)) {
                    log::error!("agent: {what} failed: {e}");
                }
            }
            _ => log::error!("agent: {what} requested but the board names no command"),
        }
    }

    /// Carries out Reboot / FactoryReset after the session. Returns true when the agent
    /// should exit (the device is going down or was reset).
    fn device_actions(&mut self) -> bool {
        if std::mem::take(&mut self.reboot_after_apply) {
            self.dirty = true;
            self.persist();
            self.run_board_command("reboot after apply", &self.dev.board.reboot.clone());
            return true;
        }
        if self.actions.factory_reset {
            self.actions.factory_reset = false;
            log::warn!("agent: factory reset");
            for f in [
                crate::device::STATE_FILE,
                crate::backend::stored::STORED_FILE,
            ] {
                let _ = std::fs::remove_file(self.cfg.paths.state_dir.join(f));
            }
            self.run_board_command("factory reset", &self.dev.board.factory_reset.clone());
            return true;
        }
        if let Some(key) = self.actions.reboot.take() {
            // Remember the CommandKey first: after the reboot the Inform carries M Reboot.
            self.state.reboot_key = Some(key);
            self.dirty = true;
            self.persist();
            self.run_board_command("reboot", &self.dev.board.reboot.clone());
            return true;
        }
        false
    }

    fn next_wait(&self, now: Instant) -> Duration {
        let mut deadline = now + MAX_WAIT;
        if let Some(t) = self.next_periodic {
            deadline = deadline.min(t);
        }
        if let Some(t) = self.retry_at {
            deadline = deadline.min(t);
        }
        for t in [self.next_notify, self.active_due].into_iter().flatten() {
            deadline = deadline.min(t);
        }
        let wall_due = self
            .state
            .scheduled
            .iter()
            .map(|s| s.due)
            .chain(self.transfer_deadline())
            .min();
        if let Some(due) = wall_due {
            let secs = (due - unix_now()).max(0) as u64;
            deadline = deadline.min(now + Duration::from_secs(secs));
        }
        deadline.saturating_duration_since(now)
    }

    /// Runs until SIGTERM (or a Reboot/FactoryReset).
    pub fn run(&mut self) {
        self.startup();
        self.persist();
        loop {
            if self.shutdown.load(Ordering::SeqCst) {
                log::info!("agent: stopping");
                self.persist();
                return;
            }
            let now = Instant::now();
            self.timers(now);
            let backing_off = self.retry_at.is_some_and(|t| t > now);
            if !self.state.events.is_empty() && !backing_off {
                self.session();
            }
            self.persist();
            if self.device_actions() {
                self.persist();
                return;
            }
            if self.cr_pending {
                continue;
            }
            self.inbox.extend(self.reports.1.try_iter());
            if !self.inbox.is_empty()
                || self.netlink_changed.load(Ordering::SeqCst)
                || self.shutdown.load(Ordering::SeqCst)
            {
                // A wake-up meant for these (a SIGTERM's too) may have been taken by a poll in
                // the session.
                continue;
            }
            let wait = if !self.state.events.is_empty()
                && self.retry_at.is_none_or(|t| t <= Instant::now())
            {
                Duration::ZERO
            } else {
                self.next_wait(Instant::now())
            };
            if self.listener.poll(wait).accepted > 0 {
                self.cr_pending = true;
            }
        }
    }
}

/// Blocks SIGTERM and SIGINT in this thread and in every thread started after it, so only the
/// waiting thread of [`watch_signals`] sees them. Call before anything spawns threads.
pub fn block_signals() -> Result<nix::sys::signal::SigSet, String> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block().map_err(|e| format!("signals: {e}"))?;
    Ok(set)
}

/// Starts the thread that waits for the blocked signals, sets the flag and wakes the loop.
pub fn watch_signals(set: nix::sys::signal::SigSet, flag: Arc<AtomicBool>, waker: cr::Waker) {
    std::thread::spawn(move || {
        if let Ok(sig) = set.wait() {
            log::info!("agent: {sig} received");
        }
        flag.store(true, Ordering::SeqCst);
        waker.wake();
    });
}
