//! What is due at a turn of the loop, and how long the loop may wait: periodic informs
//! (TR-069 §3.2.1, 2 PERIODIC), ScheduleInform (3 SCHEDULED + M ScheduleInform), value checks,
//! the retry back-off after a failed session (§3.2.1.1), transfer windows and a Connection
//! Request turned into 6 CONNECTION REQUEST. Monotonic deadlines and wall-clock ones (Unix
//! seconds, kept across restarts) both come from the agent's clock.

use std::time::{Duration, Instant};

use super::Agent;
use crate::event::{code, Event};
use crate::rpc::Scheduled;

/// Longest the loop sleeps without a deadline.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// The loop's monotonic deadlines.
#[derive(Debug, Default)]
pub(super) struct Timers {
    /// The next periodic inform.
    pub next_periodic: Option<Instant>,
    /// The end of the back-off after a failed session.
    pub retry_at: Option<Instant>,
    /// When notified parameters are next compared with the baseline.
    pub next_notify: Option<Instant>,
}

impl Agent {
    /// Queues the events of whatever is due at `now`.
    pub(super) fn timers(&mut self, now: Instant) {
        self.transfer_turn();
        self.netlink_turn(now);
        if self.timers.next_notify.is_some_and(|t| t <= now) {
            self.check_values();
            self.pick_autonomous();
            self.timers.next_notify = match self.cfg.notify.interval {
                0 => None,
                s => Some(now + Duration::from_secs(u64::from(s))),
            };
        }
        self.throttle_turn(now);
        if self.timers.next_periodic.is_some_and(|t| t <= now) {
            self.push(Event::new(code::PERIODIC));
            self.arm_periodic();
        }
        let wall = self.clock.unix();
        let (due, later): (Vec<Scheduled>, Vec<Scheduled>) =
            std::mem::take(&mut self.state.pending.scheduled)
                .into_iter()
                .partition(|s| s.due <= wall);
        self.state.pending.scheduled = later;
        for s in due {
            self.push(Event::new(code::SCHEDULED));
            self.push(Event::with_key(code::M_SCHEDULE_INFORM, &s.command_key));
        }
        if self.cr_pending {
            self.cr_pending = false;
            self.push(Event::new(code::CONNECTION_REQUEST));
            // A new event ends any back-off wait (TR-069 §3.2.1.1).
            self.timers.retry_at = None;
        }
    }

    /// How long from `now` until the next deadline (at most [`MAX_WAIT`]).
    pub(super) fn next_wait(&self, now: Instant) -> Duration {
        let t = &self.timers;
        let mut deadline = now + MAX_WAIT;
        // A retry wait matters only while something waits to be delivered.
        let retry_at = t.retry_at.filter(|_| !self.state.events.is_empty());
        for d in [
            t.next_periodic,
            retry_at,
            t.next_notify,
            self.notify.active_due,
        ]
        .into_iter()
        .flatten()
        {
            deadline = deadline.min(d);
        }
        let wall_due = self
            .state
            .pending
            .scheduled
            .iter()
            .map(|s| s.due)
            .chain(self.transfer_deadline())
            .min();
        if let Some(due) = wall_due {
            let secs = u64::try_from(due - self.clock.unix()).unwrap_or(0);
            deadline = deadline.min(now + Duration::from_secs(secs));
        }
        deadline.saturating_duration_since(now)
    }
}
