//! The Inform event queue and its retention rules (TR-069 Amendment 6 §3.7.1.5, Table 7).
//!
//! Events wait here until an Inform that carries them is answered by an InformResponse.
//! What happens to undelivered events differs per code: some are kept until delivered even
//! across reboots (BOOTSTRAP, TRANSFER COMPLETE, M Download …), some are kept only until the
//! device reboots (BOOT, PERIODIC, VALUE CHANGE …: a restart of the daemon is no reboot and
//! keeps them), and 6 CONNECTION REQUEST is never retried.
//! Single events appear at most once; "M" events carry a CommandKey and may repeat.

use crate::codec::toml::{FieldResult, Fields, Table, Value};

/// Most events kept; beyond it the oldest droppable ones go first.
pub const MAX_EVENTS: usize = 64;

/// What to do with an event that was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Keep until delivered, across restarts.
    UntilDelivered,
    /// Keep until delivered or the device reboots (a restart of the daemon keeps it).
    UntilReboot,
    /// Drop when the session that should carry it fails.
    NoRetry,
}

/// One event: its code and, for "M" events and some others, a CommandKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// EventCode, e.g. `0 BOOTSTRAP` or `M Reboot`.
    pub code: String,
    /// CommandKey (empty for most events).
    pub command_key: String,
}

impl Event {
    /// An event without a CommandKey.
    pub fn new(code: &str) -> Event {
        Event {
            code: code.to_string(),
            command_key: String::new(),
        }
    }

    /// An event with a CommandKey.
    pub fn with_key(code: &str, key: &str) -> Event {
        Event {
            code: code.to_string(),
            command_key: key.to_string(),
        }
    }
}

/// Event codes used by cwmpd.
pub mod code {
    /// First contact with an ACS (or the ACS URL changed).
    pub const BOOTSTRAP: &str = "0 BOOTSTRAP";
    /// The agent started.
    pub const BOOT: &str = "1 BOOT";
    /// The periodic inform interval elapsed.
    pub const PERIODIC: &str = "2 PERIODIC";
    /// A ScheduleInform came due.
    pub const SCHEDULED: &str = "3 SCHEDULED";
    /// A notified parameter changed.
    pub const VALUE_CHANGE: &str = "4 VALUE CHANGE";
    /// An authenticated Connection Request arrived.
    pub const CONNECTION_REQUEST: &str = "6 CONNECTION REQUEST";
    /// A Download or Upload finished.
    pub const TRANSFER_COMPLETE: &str = "7 TRANSFER COMPLETE";
    /// A diagnostic test finished.
    pub const DIAGNOSTICS_COMPLETE: &str = "8 DIAGNOSTICS COMPLETE";
    /// A transfer the CPE started itself finished.
    pub const AUTONOMOUS_TRANSFER_COMPLETE: &str = "10 AUTONOMOUS TRANSFER COMPLETE";
    /// Reboot RPC done.
    pub const M_REBOOT: &str = "M Reboot";
    /// ScheduleInform RPC came due.
    pub const M_SCHEDULE_INFORM: &str = "M ScheduleInform";
    /// Download RPC done.
    pub const M_DOWNLOAD: &str = "M Download";
    /// ScheduleDownload RPC done.
    pub const M_SCHEDULE_DOWNLOAD: &str = "M ScheduleDownload";
    /// Upload RPC done.
    pub const M_UPLOAD: &str = "M Upload";
}

/// The retention rule of an event code (Table 7).
pub fn retention(code: &str) -> Retention {
    match code {
        code::BOOTSTRAP
        | code::TRANSFER_COMPLETE
        | code::AUTONOMOUS_TRANSFER_COMPLETE
        | code::M_REBOOT
        | code::M_DOWNLOAD
        | code::M_SCHEDULE_DOWNLOAD
        | code::M_UPLOAD => Retention::UntilDelivered,
        code::CONNECTION_REQUEST => Retention::NoRetry,
        _ => Retention::UntilReboot,
    }
}

/// Single events occur at most once in an Inform; "M" events may repeat (one per CommandKey).
pub fn is_multiple(code: &str) -> bool {
    code.starts_with("M ") || code == code::SCHEDULED
}

/// The queue of undelivered events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    /// Events in the order they occurred.
    pub events: Vec<Event>,
}

impl Queue {
    /// The queue as saved in the agent's state: `events = [{ code, command_key }, …]`.
    pub fn to_table(&self) -> Table {
        let events = self
            .events
            .iter()
            .map(|e| {
                let mut t = Table::new();
                t.insert("code".into(), e.code.clone().into());
                t.insert("command_key".into(), e.command_key.clone().into());
                Value::Table(t)
            })
            .collect();
        [("events".to_string(), Value::Array(events))]
            .into_iter()
            .collect()
    }

    /// Reads a saved queue back.
    pub fn from_fields(f: &mut Fields) -> FieldResult<Queue> {
        let mut events = Vec::new();
        for mut e in f.tables("events")? {
            events.push(Event {
                code: e.str("code")?,
                command_key: e.opt_str("command_key")?.unwrap_or_default(),
            });
        }
        Ok(Queue { events })
    }

    /// Adds an event; a single event already queued is not added twice. Returns true when the
    /// queue changed.
    pub fn push(&mut self, ev: Event) -> bool {
        if is_multiple(&ev.code) {
            if self.events.contains(&ev) {
                return false;
            }
        } else if self.events.iter().any(|e| e.code == ev.code) {
            return false;
        }
        if self.events.len() >= MAX_EVENTS {
            // Make room by dropping the oldest event that may be lost.
            match self
                .events
                .iter()
                .position(|e| retention(&e.code) != Retention::UntilDelivered)
            {
                Some(i) => {
                    let dropped = self.events.remove(i);
                    log::warn!("event queue full: dropped {}", dropped.code);
                }
                None => {
                    log::warn!("event queue full: {} not queued", ev.code);
                    return false;
                }
            }
        }
        self.events.push(ev);
        true
    }

    /// True when an event with this code is queued.
    pub fn contains(&self, code: &str) -> bool {
        self.events.iter().any(|e| e.code == code)
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The InformResponse arrived: the events that were sent are delivered.
    pub fn delivered(&mut self, sent: &[Event]) {
        self.events.retain(|e| !sent.contains(e));
    }

    /// The session failed before the InformResponse: drop what must not be retried.
    pub fn session_failed(&mut self) {
        self.events
            .retain(|e| retention(&e.code) != Retention::NoRetry);
    }

    /// The device booted (the queue was loaded from disk): keep only what survives a reboot.
    pub fn booted(&mut self) {
        self.events
            .retain(|e| retention(&e.code) == Retention::UntilDelivered);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_events_are_not_duplicated_but_m_events_are_per_key() {
        let mut q = Queue::default();
        assert!(q.push(Event::new(code::PERIODIC)));
        assert!(!q.push(Event::new(code::PERIODIC)));
        assert!(q.push(Event::with_key(code::M_SCHEDULE_INFORM, "a")));
        assert!(q.push(Event::with_key(code::M_SCHEDULE_INFORM, "b")));
        assert!(!q.push(Event::with_key(code::M_SCHEDULE_INFORM, "a")));
        assert_eq!(q.events.len(), 3);
    }

    #[test]
    fn failed_session_drops_only_connection_request() {
        let mut q = Queue::default();
        for c in [
            code::BOOTSTRAP,
            code::BOOT,
            code::CONNECTION_REQUEST,
            code::PERIODIC,
        ] {
            q.push(Event::new(c));
        }
        q.session_failed();
        let codes: Vec<&str> = q.events.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, [code::BOOTSTRAP, code::BOOT, code::PERIODIC]);
    }

    #[test]
    fn restart_keeps_only_events_that_must_not_be_lost() {
        let mut q = Queue::default();
        q.push(Event::new(code::BOOTSTRAP));
        q.push(Event::new(code::BOOT));
        q.push(Event::new(code::VALUE_CHANGE));
        q.push(Event::new(code::TRANSFER_COMPLETE));
        q.push(Event::with_key(code::M_REBOOT, "k"));
        q.booted();
        let codes: Vec<&str> = q.events.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            [code::BOOTSTRAP, code::TRANSFER_COMPLETE, code::M_REBOOT]
        );
    }

    #[test]
    fn delivery_removes_exactly_what_was_sent() {
        let mut q = Queue::default();
        q.push(Event::new(code::BOOT));
        let sent = q.events.clone();
        q.push(Event::new(code::VALUE_CHANGE));
        q.delivered(&sent);
        assert_eq!(q.events, vec![Event::new(code::VALUE_CHANGE)]);
    }

    #[test]
    fn a_full_queue_sheds_droppable_events_first() {
        let mut q = Queue::default();
        q.push(Event::new(code::PERIODIC));
        for i in 0..MAX_EVENTS - 1 {
            q.push(Event::with_key(code::M_DOWNLOAD, &i.to_string()));
        }
        assert_eq!(q.events.len(), MAX_EVENTS);
        assert!(q.push(Event::with_key(code::M_DOWNLOAD, "x")));
        assert!(!q.contains(code::PERIODIC));
        assert!(
            !q.push(Event::with_key(code::M_DOWNLOAD, "y")),
            "nothing droppable left"
        );
        assert_eq!(q.events.len(), MAX_EVENTS);
    }
}
