//! What the agent must remember across restarts: undelivered events, the retry count, which
//! ACS URL has seen our BOOTSTRAP, what the ACS ordered (a Reboot or FactoryReset owed,
//! pending ScheduleInforms, the transfer queue: [`Pending`]), the boot the agent last ran in,
//! the ACS's CWMP version, the value-change baseline and the Connection Request port the
//! system chose. Saved as the agent section of the device's one state file
//! (`device::STATE_FILE`): before the response to each RPC that changed it, and at the end of
//! a loop turn that changed it otherwise.

use std::collections::BTreeMap;

use crate::codec::toml::{FieldResult, Fields, Table, Value};

use crate::event::Queue;
use crate::rpc::{Pending, Reboot, Scheduled};
use crate::transfer::Transfers;

/// The agent's durable state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentState {
    /// Undelivered events.
    pub events: Queue,
    /// Consecutive failed sessions (RetryCount in the next Inform).
    pub retry_count: u32,
    /// The ACS URL that acknowledged our BOOTSTRAP.
    pub bootstrapped_url: Option<String>,
    /// What the ACS ordered that is not done yet.
    pub pending: Pending,
    /// The kernel's boot id when the agent last ran: a different one means the device booted.
    pub boot_id: Option<String>,
    /// The CWMP version the ACS answered with (`1.0` … `1.4`).
    pub acs_version: Option<String>,
    /// Last seen values of notified parameters: kept across restarts so a reboot does not
    /// look like a change.
    pub baseline: BTreeMap<String, String>,
    /// The Connection Request port the system chose for a `:0` listen address, bound again
    /// first at the next start so the ConnectionRequestURL stays the same.
    pub cr_port: Option<u16>,
}

impl AgentState {
    /// The `[agent]` table of the state file.
    pub fn to_table(&self) -> Table {
        self.table_with(&self.pending)
    }

    /// The `[agent]` table with `pending` for the orders (an RPC holds them meanwhile).
    pub fn table_with(&self, pending: &Pending) -> Table {
        let mut t = Table::new();
        t.insert("events".into(), Value::Table(self.events.to_table()));
        t.insert("retry_count".into(), self.retry_count.into());
        let optional = [
            ("bootstrapped_url", &self.bootstrapped_url),
            ("acs_version", &self.acs_version),
            ("boot_id", &self.boot_id),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                t.insert(k.into(), v.clone().into());
            }
        }
        if let Some(r) = &pending.reboot {
            let mut rt = Table::new();
            rt.insert("command_key".into(), r.command_key.clone().into());
            if let Some(b) = &r.issued_in {
                rt.insert("issued_in".into(), b.clone().into());
            }
            if r.attempts > 0 {
                rt.insert("attempts".into(), i64::from(r.attempts).into());
            }
            t.insert("reboot".into(), Value::Table(rt));
        }
        if pending.factory_reset {
            t.insert("factory_reset".into(), true.into());
        }
        let scheduled = pending
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
        t.insert(
            "transfers".into(),
            Value::Table(pending.transfers.to_table()),
        );
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
        let reboot = if f.has("reboot") {
            let mut r = f.sub("reboot")?;
            let command_key = r.opt_str("command_key")?.unwrap_or_default();
            let issued_in = r.opt_str("issued_in")?;
            // Before attempts were counted, an issued reboot had been run once.
            let attempts = r
                .opt_int::<u32>("attempts")?
                .unwrap_or(u32::from(issued_in.is_some()));
            Some(Reboot {
                command_key,
                issued_in,
                attempts,
            })
        } else {
            // Earlier versions kept only the CommandKey, set as the reboot command ran.
            f.opt_str("reboot_key")?.map(|command_key| Reboot {
                command_key,
                issued_in: Some(String::new()),
                attempts: crate::rpc::MAX_REBOOT_ATTEMPTS,
            })
        };
        Ok(AgentState {
            events: Queue::from_fields(&mut f.sub("events")?)?,
            retry_count: f.opt_int("retry_count")?.unwrap_or(0),
            bootstrapped_url: f.opt_str("bootstrapped_url")?,
            pending: Pending {
                transfers: Transfers::from_fields(&mut f.sub("transfers")?)?,
                scheduled,
                reboot,
                factory_reset: f.opt_bool("factory_reset")?.unwrap_or(false),
            },
            boot_id: f.opt_str("boot_id")?,
            acs_version: f.opt_str("acs_version")?,
            baseline: f.map("baseline", |f, k| f.str(k))?,
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
        s.pending.reboot = Some(Reboot {
            command_key: "rk".into(),
            issued_in: Some("boot-1".into()),
            attempts: 2,
        });
        s.pending.factory_reset = true;
        s.boot_id = Some("boot-2".into());
        s.pending.scheduled.push(Scheduled {
            due: 1_764_050_400,
            command_key: "sched".into(),
        });
        s.acs_version = Some("1.4".into());
        s.baseline
            .insert("Device.DeviceInfo.UpTime".into(), "12\n".into());
        s.pending.transfers.next_id = 9;
        s.cr_port = Some(40_001);
        let text = toml::to_string(&s.to_table());
        let back = AgentState::from_fields(&mut Fields::new(toml::parse(&text).unwrap())).unwrap();
        assert_eq!(back, s);
        let empty = AgentState::from_fields(&mut Fields::new(Table::new())).unwrap();
        assert_eq!(empty, AgentState::default());
        let old = toml::parse("reboot_key = \"k\"").unwrap();
        let old = AgentState::from_fields(&mut Fields::new(old)).unwrap();
        assert_eq!(
            old.pending.reboot,
            Some(Reboot {
                command_key: "k".into(),
                issued_in: Some(String::new()),
                attempts: crate::rpc::MAX_REBOOT_ATTEMPTS,
            }),
            "a reboot an earlier version was carrying out"
        );
        let bad = toml::parse("retry_count = \"x\"").unwrap();
        let e = AgentState::from_fields(&mut Fields::new(bad)).unwrap_err();
        assert!(e.message.contains("retry_count"), "{e}");
    }
}
