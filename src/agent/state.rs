//! What the agent must remember across restarts: undelivered events, the retry count, which
//! ACS URL has seen our BOOTSTRAP, a Reboot's CommandKey, pending ScheduleInforms, the
//! ACS's CWMP version, the value-change baseline and the transfer queue. Saved as the agent section of the device's one state file
//! (`device::STATE_FILE`), at most once per loop turn and only when something changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::Queue;
use crate::transfer::Transfers;

/// A ScheduleInform waiting to come due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduled {
    /// Unix time when it is due.
    pub due: i64,
    /// Its CommandKey.
    pub command_key: String,
}

/// The agent's durable state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    /// Undelivered events.
    #[serde(default)]
    pub events: Queue,
    /// Consecutive failed sessions (RetryCount in the next Inform).
    #[serde(default)]
    pub retry_count: u32,
    /// The ACS URL that acknowledged our BOOTSTRAP.
    #[serde(default)]
    pub bootstrapped_url: Option<String>,
    /// Set just before a Reboot RPC is carried out: the next start reports M Reboot.
    #[serde(default)]
    pub reboot_key: Option<String>,
    /// Pending ScheduleInforms.
    #[serde(default)]
    pub scheduled: Vec<Scheduled>,
    /// The CWMP version the ACS answered with (`1.0` … `1.4`).
    #[serde(default)]
    pub acs_version: Option<String>,
    /// Last seen values of notified parameters: kept across restarts so a reboot does not
    /// look like a change.
    #[serde(default)]
    pub baseline: BTreeMap<String, String>,
    /// Queued transfers and results not yet acknowledged.
    #[serde(default)]
    pub transfers: Transfers,
}
