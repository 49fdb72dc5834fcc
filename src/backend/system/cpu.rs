//! CPUUsage: the busy share of the CPU from `/proc/stat`, measured over a fixed recent
//! window of samples kept between reads, so back-to-back reads agree.

use std::time::{Duration, Instant};

use super::System;
use crate::backend::BackendError;

/// CPUUsage is the share of the CPU busy over about this long before the read (TR-181: "the
/// CPU usage … over the last period"; back-to-back reads agree instead of reading 0).
pub const CPU_WINDOW: Duration = Duration::from_secs(10);
/// Samples older than this are not kept.
const CPU_KEEP: Duration = Duration::from_secs(60);

impl System {
    pub(super) fn cpu_usage(&mut self) -> Result<String, BackendError> {
        let stat = self.read(&self.proc_root, "stat")?;
        let line = stat
            .lines()
            .find(|l| l.starts_with("cpu "))
            .ok_or_else(|| BackendError::NotFound("cpu line".into()))?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        let total: u64 = v.iter().sum();
        // idle + iowait are not busy.
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        let busy = total.saturating_sub(idle);
        Ok(self
            .cpu_over_window(Instant::now(), busy, total)
            .to_string())
    }

    /// The busy share (%) from the newest sample at least [`CPU_WINDOW`] old (the oldest one
    /// kept when none is that old yet; since boot when there is none, or no time passed) to
    /// this one, which is kept for later reads.
    pub(super) fn cpu_over_window(&mut self, now: Instant, busy: u64, total: u64) -> u64 {
        self.cpu_samples
            .retain(|(t, _, _)| now.saturating_duration_since(*t) <= CPU_KEEP);
        let base = self
            .cpu_samples
            .iter()
            .rev()
            .find(|(t, _, _)| now.saturating_duration_since(*t) >= CPU_WINDOW)
            .or(self.cpu_samples.front())
            .map(|&(_, b, t)| (b, t))
            .filter(|&(_, t)| t < total)
            .unwrap_or((0, 0));
        if self
            .cpu_samples
            .back()
            .is_none_or(|(t, _, _)| now.saturating_duration_since(*t) >= Duration::from_secs(1))
        {
            self.cpu_samples.push_back((now, busy, total));
        }
        (busy.saturating_sub(base.0) * 100)
            .checked_div(total.saturating_sub(base.1))
            .unwrap_or(0)
            .min(100)
    }
}
