//! What the agent must remember across restarts: undelivered events, the retry count, which
//! ACS URL has seen our BOOTSTRAP, a Reboot's CommandKey, pending ScheduleInforms, the
//! ACS's CWMP version, the value-change baseline, the transfer queue and the Connection Request
//! port the system chose. Saved as the agent section of the device's one state file
//! (`device::STATE_FILE`), at most once per loop turn and only when something changed.

use std::collections::BTreeMap;

use crate::codec::toml::{FieldResult, Fields, Table, Value};

use crate::event::Queue;
use crate::transfer::Transfers;

/// A ScheduleInform waiting to come due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// Unix time when it is due.
    pub due: i64,
    /// Its CommandKey.
    pub command_key: String,
}

/// The agent's durable state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentState {
    /// Undelivered events.
    pub events: Queue,
    /// Consecutive failed sessions (RetryCount in the next Inform).
    pub retry_count: u32,
    /// The ACS URL that acknowledged our BOOTSTRAP.
    pub bootstrapped_url: Option<String>,
    /// Set just before a Reboot RPC is carried out: the next start reports M Reboot.
    pub reboot_key: Option<String>,
    /// Pending ScheduleInforms.
    pub scheduled: Vec<Scheduled>,
    /// The CWMP version the ACS answered with (`1.0` … `1.4`).
    pub acs_version: Option<String>,
    /// Last seen values of notified parameters: kept across restarts so a reboot does not
    /// look like a change.
    pub baseline: BTreeMap<String, String>,
    /// Queued transfers and results not yet acknowledged.
    pub transfers: Transfers,
    /// The Connection Request port the system chose for a `:0` listen address, bound again
    /// first at the next start so the ConnectionRequestURL stays the same.
    pub cr_port: Option<u16>,
}

impl AgentState {
    /// The `[agent]` table of the state file.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new();
        t.insert("events".into(), Value::Table(self.events.to_table()));
        t.insert("retry_count".into(), self.retry_count.into());
        let optional = [
            ("bootstrapped_url", &self.bootstrapped_url),
            ("reboot_key", &self.reboot_key),
            ("acs_version", &self.acs_version),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                t.insert(k.into(), v.clone().into());
            }
        }
        let scheduled = self
            .scheduled
            .iter()
            .map(|s| {
                let mut st = Table::new();
                st.insert("due".into(), s.due.into());
                st.insert("command_key".into(), s.command_key.clone().into());
                Value::Table(st)
            })
            .collect();
        t.insert("scheduled".into(), Value::Array(scheduled));
        let baseline = self
            .baseline
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        t.insert("baseline".into(), Value::Table(baseline));
        t.insert("transfers".into(), Value::Table(self.transfers.to_table()));
        if let Some(p) = self.cr_port {
            t.insert("cr_port".into(), p.into());
        }
        t
    }

    /// Reads the `[agent]` table back (keys it does not know are ignored).
    pub fn from_fields(f: &mut Fields) -> FieldResult<AgentState> {
        let mut scheduled = Vec::new();
        for mut s in f.tables("scheduled")? {
            scheduled.push(Scheduled {
                due: s.int("due")?,
                command_key: s.opt_str("command_key")?.unwrap_or_default(),
            });
        }
        Ok(AgentState {
            events: Queue::from_fields(&mut f.sub("events")?)?,
            retry_count: f.opt_int("retry_count")?.unwrap_or(0),
            bootstrapped_url: f.opt_str("bootstrapped_url")?,
            reboot_key: f.opt_str("reboot_key")?,
            scheduled,
            acs_version: f.opt_str("acs_version")?,
            baseline: f.map("baseline", |f, k| f.str(k))?,
            transfers: Transfers::from_fields(&mut f.sub("transfers")?)?,
            cr_port: f.opt_int("cr_port")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;
    use crate::event::Event;

    #[test]
    fn every_field_survives_the_state_file() {
        let mut s = AgentState::default();
        s.events.push(Event::new("0 BOOTSTRAP"));
        s.events.push(Event::with_key("M Reboot", "key \"1\""));
        s.retry_count = 3;
        s.bootstrapped_url = Some("http://acs/".into());
        s.reboot_key = Some(String::new());
        s.scheduled.push(Scheduled {
            due: 1_764_050_400,
            command_key: "sched".into(),
        });
        s.acs_version = Some("1.4".into());
        s.baseline
            .insert("Device.DeviceInfo.UpTime".into(), "12\n".into());
        s.transfers.next_id = 9;
        s.cr_port = Some(40_001);
        let text = toml::to_string(&s.to_table());
        let back = AgentState::from_fields(&mut Fields::new(toml::parse(&text).unwrap())).unwrap();
        assert_eq!(back, s);
        let empty = AgentState::from_fields(&mut Fields::new(Table::new())).unwrap();
        assert_eq!(empty, AgentState::default());
        let bad = toml::parse("retry_count = \"x\"").unwrap();
        let e = AgentState::from_fields(&mut Fields::new(bad)).unwrap_err();
        assert!(e.message.contains("retry_count"), "{e}");
    }
}
