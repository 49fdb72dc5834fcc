//! Value-change notification (TR-069 A.3.2.4, A.3.3.1): parameters with passive (1) or
//! active (2) notification are compared with a baseline kept in the agent's state; passive
//! changes ride the next Inform, active ones queue `4 VALUE CHANGE` at once or when
//! DefaultActiveNotificationThrottle allows; the ACS's own Sets become the new baseline
//! without being reported back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Agent;
use crate::event::{code, Event};
use crate::soap::ParameterValue;

/// How long after a netlink event the values are compared (the burst settles).
pub const NETLINK_SETTLE: Duration = Duration::from_millis(100);

/// The notification state that lives only while the agent runs.
#[derive(Default)]
pub(super) struct Notify {
    /// Changed notified parameters not yet reported in an Inform.
    pub changed: BTreeMap<String, Box<ParameterValue>>,
    /// When a throttled active notification may go.
    pub active_due: Option<Instant>,
    /// When the last active notification went.
    pub last_active: Option<Instant>,
    /// Set by the netlink watcher when links or addresses changed.
    pub netlink_changed: Arc<AtomicBool>,
}

impl Agent {
    /// Starts the netlink watcher that asks for a value check when links or addresses change.
    pub(super) fn watch_netlink(&mut self) {
        #[cfg(feature = "netlink")]
        if self.cfg.notify.netlink {
            let flag = self.notify.netlink_changed.clone();
            let waker = self.listener.waker();
            let started = crate::backend::netlink::watch::spawn(move || {
                flag.store(true, Ordering::SeqCst);
                waker.wake();
            });
            if let Err(e) = started {
                log::warn!("notify: no netlink events ({e}); periodic checks only");
            }
        }
    }

    /// A netlink event arrived: check once the burst is over.
    pub(super) fn netlink_turn(&mut self, now: Instant) {
        if self.notify.netlink_changed.swap(false, Ordering::SeqCst) {
            // Changes come in bursts (a link going up brings its addresses): look once the
            // burst is over.
            let soon = now + NETLINK_SETTLE;
            self.timers.next_notify = Some(self.timers.next_notify.map_or(soon, |t| t.min(soon)));
        }
    }

    /// Compares notified parameters with the baseline: passive changes wait for the next
    /// Inform, active ones queue 4 VALUE CHANGE (throttled).
    pub(super) fn check_values(&mut self) {
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
                    self.notify.changed.insert(
                        pv.name.clone(),
                        Box::new(ParameterValue {
                            name: pv.name,
                            value: pv.value,
                            xsd_type: pv.xsd_type.to_string(),
                        }),
                    );
                    self.dirty = true;
                }
                None => {
                    self.state.baseline.insert(pv.name.clone(), pv.value);
                    self.dirty = true;
                }
            }
        }
        log::debug!("notify: {} values checked", seen.len());
        let before = self.state.baseline.len();
        self.state.baseline.retain(|k, _| seen.contains(k));
        self.dirty |= before != self.state.baseline.len();
        if active {
            let now = self.clock.now();
            self.active_notification(now);
        }
    }

    /// Queues 4 VALUE CHANGE now, or when DefaultActiveNotificationThrottle allows.
    fn active_notification(&mut self, now: Instant) {
        let throttle = self
            .dev
            .model
            .lookup(&["Device.ManagementServer.DefaultActiveNotificationThrottle"])
            .pop()
            .flatten()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::ZERO, Duration::from_secs);
        match self.notify.last_active {
            Some(last) if now < last + throttle => {
                self.notify.active_due.get_or_insert(last + throttle);
            }
            _ => {
                self.notify.last_active = Some(now);
                self.push(Event::new(code::VALUE_CHANGE));
            }
        }
    }

    /// A throttled active notification whose time has come.
    pub(super) fn throttle_turn(&mut self, now: Instant) {
        if self.notify.active_due.is_some_and(|t| t <= now) {
            self.notify.active_due = None;
            self.notify.last_active = Some(now);
            self.push(Event::new(code::VALUE_CHANGE));
        }
    }

    /// The ACS's own changes are not notified back: their new values become the baseline.
    pub(super) fn rebaseline(&mut self, paths: &[String]) {
        if paths.is_empty() {
            return;
        }
        if let Ok(list) = self.dev.model.notified() {
            for (pv, _) in list {
                if paths.contains(&pv.name) {
                    self.notify.changed.remove(&pv.name);
                    if self.state.baseline.get(&pv.name) != Some(&pv.value) {
                        self.state.baseline.insert(pv.name, pv.value);
                        self.dirty = true;
                    }
                }
            }
        }
    }
}
