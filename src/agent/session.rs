//! One CWMP session as the agent runs it (TR-069 §3.7): the Inform with the queued events and
//! changed values, the HTTP round trips through the ACS client, the session engine's steps,
//! and what the session leaves behind — delivered events retired on disk at once, results the
//! ACS acknowledged forgotten, the retry back-off after a failure, apply actions, new
//! ManagementServer settings. Also what a start queues (BOOTSTRAP, BOOT, M Reboot).

use std::time::Duration;

use super::state::AgentState;
use super::Agent;
use crate::codec::datetime;
use crate::codec::toml::Value;
use crate::event::{code, Event};
use crate::http;
use crate::model::Model;
use crate::rpc::{self, Pending, SaveError};
use crate::session::engine::{Engine, Outcome, Request, Step};
use crate::session::inform;
use crate::soap::redact::Redacted;
use crate::soap::{CwmpVersion, ParameterValue};
use crate::transfer::Done;

/// Why a session could not run to its end on the HTTP side.
#[derive(Debug)]
enum Broken {
    /// No client could be built for the ACS URL (logged when it was tried).
    NoClient,
    /// A round trip failed.
    Http(http::Error),
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::NoClient => write!(f, "no usable ACS client"),
            Broken::Http(e) => write!(f, "{e}"),
        }
    }
}

/// The device's journal as RPCs see it: it saves the agent's state with the pending orders
/// the RPC has in hand.
struct SessionJournal<'a> {
    journal: &'a mut crate::device::Journal,
    state: &'a AgentState,
}

impl rpc::Journal for SessionJournal<'_> {
    fn save(
        &mut self,
        model: &mut Model,
        pending: &Pending,
        set_by_acs: &[String],
    ) -> Result<(), SaveError> {
        let mut agent = self.state.table_with(pending);
        // A notified value the ACS set is the new baseline from the same write, not a
        // second one after the session (and not a change to report after a power cut).
        if let Some(Value::Table(baseline)) = agent.get_mut("baseline") {
            for path in set_by_acs {
                let notified = model
                    .get_attributes(&[path])
                    .is_ok_and(|a| a.iter().any(|a| a.notification > 0));
                if notified {
                    if let Some(v) = model.lookup(&[path]).pop().flatten() {
                        baseline.insert(path.clone(), v.into());
                    }
                }
            }
        }
        self.journal
            .save(model, Some(agent), false)
            .map(|_| ())
            .map_err(SaveError)
    }
}

/// A uniform random number for the back-off's draw.
fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u64::from_ne_bytes(b)
}

impl Agent {
    /// Queues the events of a start: BOOTSTRAP if this ACS has not seen us; 1 BOOT only when
    /// the device booted (its boot id changed: a restart of the daemon is no boot); M Reboot
    /// when that boot is the one a Reboot RPC asked for. Orders a restart cut short are
    /// carried out now. Arms the value checks.
    pub(super) fn startup(&mut self) {
        if self.cfg.notify.interval > 0 || self.cfg.notify.netlink {
            // Establish (or compare with) the baseline at once, then every interval.
            self.timers.next_notify = Some(self.clock.now());
        }
        self.watch_netlink();
        let now = self.dev.boot_id();
        let booted = now.is_none() || self.state.boot_id != now;
        if booted && self.state.pending.factory_reset {
            // The factory-reset command took the device down before cwmpd forgot its state.
            log::warn!("agent: booted from a factory reset: forgetting the state");
            self.dev.forget_state();
            self.dev.model.reset_state();
            self.dev.shared.stored.clear();
            self.state = AgentState::default();
        }
        self.fix_identity();
        let url = self.management.settings.url.clone();
        if self.state.bootstrapped_url.as_deref() != Some(url.as_str()) {
            self.push(Event::new(code::BOOTSTRAP));
        }
        log::info!(
            "agent: {}",
            if booted {
                "the device booted"
            } else {
                "restarted in the same boot"
            }
        );
        self.state.boot_id = now;
        if booted {
            // TR-069 §3.7.1.5: what a boot discards goes; a restart of the daemon keeps all.
            self.state.events.booted();
            self.push(Event::new(code::BOOT));
        }
        match self.state.pending.reboot.take() {
            // TR-069 A.3.2.9: M Reboot only when the device really rebooted.
            Some(r) if r.issued_in.is_some() && booted => {
                self.push(Event::with_key(code::M_REBOOT, &r.command_key));
            }
            Some(r) if r.issued_in.is_some() && r.attempts >= crate::rpc::MAX_REBOOT_ATTEMPTS => {
                log::error!(
                    "agent: the reboot for {:?} did not happen (same boot, {} runs of the command): giving up, not reported",
                    r.command_key,
                    r.attempts
                )
            }
            // Run, and the device did not go down: a power cut may have come first. Still
            // owed: run again.
            Some(r) if r.issued_in.is_some() => {
                log::warn!(
                    "agent: the reboot for {:?} did not happen (same boot): running it again",
                    r.command_key
                );
                self.state.pending.reboot = Some(r);
            }
            // Acknowledged, and cut short before it ran: it is still owed.
            Some(r) => self.state.pending.reboot = Some(r),
            None => {}
        }
        self.transfers_restarted(booted);
        self.dirty = true;
    }

    /// Fixes the DeviceId for the life of the device (TR-069 A.3.3.1: it identifies the CPE;
    /// an ACS keys its records on OUI-ProductClass-SerialNumber): each part is read once,
    /// through its binding, at the first start that can read it, and kept in the state; an
    /// interface or a MAC that comes later changes nothing. An OUI that is not six hexadecimal
    /// digits is not fixed (and logged).
    fn fix_identity(&mut self) {
        for path in inform::IDENTITY {
            if self.dev.model.fixed(path).is_some() {
                continue;
            }
            let value = self.dev.model.lookup(&[path]).pop().flatten();
            let valid = |v: &str| {
                if path.ends_with("ManufacturerOUI") {
                    v.len() == 6 && v.bytes().all(|b| b.is_ascii_hexdigit())
                } else {
                    !v.is_empty()
                }
            };
            match value {
                Some(v) if valid(&v) => {
                    log::info!("agent: {path} is {v:?} for good");
                    self.dev.model.fix(path, &v);
                }
                other => log::error!(
                    "agent: {path} cannot identify the device ({other:?}): bind it to the device's own value"
                ),
            }
        }
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
    pub(super) fn session(&mut self) {
        self.sessions += 1;
        // Changed values ride this Inform, flagged by 4 VALUE CHANGE (TR-069 A.3.3.1).
        if !self.notify.changed.is_empty() && !self.state.events.contains(code::VALUE_CHANGE) {
            self.push(Event::new(code::VALUE_CHANGE));
        }
        // Undelivered transfer results go in every session until acknowledged.
        self.announce_results();
        let (reported, requests) = self.transfer_requests();
        let events = self.state.events.events.clone();
        let changed: Vec<ParameterValue> = self
            .notify
            .changed
            .values()
            .map(|v| (**v).clone())
            .collect();
        let settings = self.client_settings();
        let url = settings.url.clone();
        log::info!(
            "session: start with {} ({})",
            url,
            events
                .iter()
                .map(|e| e.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if self.management.client.as_ref().map(http::Client::settings) != Some(&settings) {
            self.management.client = None;
            match http::Client::new(settings) {
                Ok(c) => self.management.client = Some(c),
                Err(e) => log::error!("session: {e}"),
            }
        }
        let mut got_inform_response = false;
        let outcome = match self.management.client.take() {
            None => Err(Broken::NoClient),
            Some(client) => {
                let result = self.exchange(
                    &client,
                    &events,
                    &changed,
                    (&reported, requests),
                    &url,
                    &mut got_inform_response,
                );
                self.management.client = Some(client);
                result
            }
        };
        let (informed, success, error) = match outcome {
            Ok(o) => (o.informed, o.success, o.error),
            // A session broken after the InformResponse delivered its events.
            Err(e) => (got_inform_response, false, Some(e.to_string())),
        };
        if informed {
            self.retire(&events, &url);
            for c in &changed {
                if self.notify.changed.get(&c.name).map(|v| &**v) == Some(c) {
                    self.notify.changed.remove(&c.name);
                }
            }
        }
        self.after_session(informed, success, error);
    }

    /// The HTTP round trips of one session, fed through the session engine.
    fn exchange(
        &mut self,
        client: &http::Client,
        events: &[Event],
        changed: &[ParameterValue],
        (reported, requests): (&[Done], Vec<Request>),
        url: &str,
        informed: &mut bool,
    ) -> Result<Outcome, Broken> {
        let inform = inform::build(
            &mut self.dev.model,
            events,
            self.state.retry_count,
            &datetime::format_utc(self.clock.unix()),
            changed,
        );
        // TR-069 §3.7.4: the Inform offers the highest version; the ACS's answer picks.
        let mut engine = Engine::new(CwmpVersion::HIGHEST, requests);
        let mut acked = 0;
        let mut http = client.session().without_resending();
        let mut body = engine.start(&inform);
        loop {
            log::trace!("soap: sent {}", Redacted(&body));
            let resp = http.post(&body).map_err(Broken::Http)?;
            // Sent: gone before the next answer is built (two large GetParameterValues in a
            // row must not hold two answers at once).
            drop(std::mem::take(&mut body));
            log::trace!(
                "soap: received HTTP {} {}",
                resp.status,
                Redacted(&resp.body)
            );
            // Connection Requests arriving meanwhile are answered now and coalesced into a
            // session after this one.
            if self
                .listener
                .poll_at(Duration::ZERO, self.clock.millis())
                .accepted
                > 0
            {
                self.cr_pending = true;
            }
            let was_informed = engine.informed();
            // The RPC works on what is pending; the journal saves it with the rest of the
            // state before a response that acknowledges a change leaves (write-ahead).
            let mut pending = std::mem::take(&mut self.state.pending);
            let mut journal = SessionJournal {
                journal: &mut self.dev.journal,
                state: &self.state,
            };
            let mut ctx = rpc::Context {
                model: &mut self.dev.model,
                pending: &mut pending,
                actions: &mut self.actions,
                journal: &mut journal,
                board: &self.dev.board.transfer,
                now: self.clock.unix(),
            };
            let step = engine.on_response(resp.status, &resp.body, &mut ctx);
            self.state.pending = pending;
            if engine.informed() && !was_informed {
                *informed = true;
                // Delivered events are retired on disk at once, so a crash later in the
                // session does not send them again (the one extra write a turn).
                self.retire(events, url);
            }
            let step_acked = match &step {
                Step::Done(o) => o.acknowledged.clone(),
                Step::Send(_) => engine.acknowledged().to_vec(),
            };
            if step_acked.len() > acked {
                self.acknowledged(&step_acked[acked..], reported);
                acked = step_acked.len();
            }
            match step {
                Step::Send(b) => body = b,
                Step::Done(o) => {
                    let v = engine.version().label().to_string();
                    if self.state.acs_version.as_deref() != Some(&v) && o.informed {
                        self.state.acs_version = Some(v);
                    }
                    return Ok(o);
                }
            }
        }
    }

    /// What a session leaves: the back-off after a failure, the ACS's own changes as the new
    /// baseline, apply actions, diagnostics and ScheduleInforms to start, new settings.
    fn after_session(&mut self, informed: bool, success: bool, error: Option<String>) {
        let set_by_acs = std::mem::take(&mut self.actions.set_by_acs);
        self.rebaseline(&set_by_acs);
        if self.timers.next_notify.is_some() || self.cfg.notify.netlink {
            // Parameters the ACS just made notified get their baseline now, so the first
            // change after this session is reported.
            self.check_values();
        }
        if success {
            log::info!("session: end (ok)");
            self.state.retry_count = 0;
            self.timers.retry_at = None;
        } else {
            self.state.events.session_failed();
            self.state.retry_count = self.state.retry_count.saturating_add(1);
            let wait = self
                .management
                .settings
                .retry
                .wait_ms(self.state.retry_count, random_u64());
            log::warn!(
                "session: failed ({}); retry {} in {} ms",
                error.unwrap_or_default(),
                self.state.retry_count,
                wait
            );
            if !self.state.events.is_empty() || !informed {
                self.timers.retry_at = Some(self.clock.now() + Duration::from_millis(wait));
            }
        }
        self.dirty = true;
        for e in self.dev.model.apply() {
            log::warn!("apply: {e}");
        }
        #[cfg(feature = "diagnostics")]
        self.start_diagnostics();
        self.follow_management();
    }
}
