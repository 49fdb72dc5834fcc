//! Time, passed in: a [`Clock`] gives the monotonic instant that timers and rate limits count
//! from and the wall-clock Unix time that dateTimes, ScheduleInform and transfer windows use.
//! The agent reads time only through it, so tests drive a [`ManualClock`] and a periodic
//! inform or a back-off of minutes happens in microseconds.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where time comes from.
pub trait Clock {
    /// Monotonic time: deadlines, intervals, rate limits.
    fn now(&self) -> Instant;
    /// Wall-clock time, Unix seconds (may jump when the device sets its clock).
    fn unix(&self) -> i64;
    /// Milliseconds since this clock's own start (nonce ages, token buckets).
    fn millis(&self) -> u64;
}

/// The operating system's clocks.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A system clock whose [`Clock::millis`] count from now.
    pub fn new() -> SystemClock {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> SystemClock {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock that moves only when told to (tests). Clones share one time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Rc<Manual>,
}

#[derive(Debug)]
struct Manual {
    base: Instant,
    elapsed: Cell<Duration>,
    unix0: i64,
}

impl ManualClock {
    /// A clock standing at Unix time `unix`.
    pub fn at(unix: i64) -> ManualClock {
        ManualClock {
            inner: Rc::new(Manual {
                base: Instant::now(),
                elapsed: Cell::new(Duration::ZERO),
                unix0: unix,
            }),
        }
    }

    /// Moves both clocks forward.
    pub fn advance(&self, by: Duration) {
        let e = &self.inner.elapsed;
        e.set(e.get().saturating_add(by));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.inner.base + self.inner.elapsed.get()
    }

    fn unix(&self) -> i64 {
        let secs = i64::try_from(self.inner.elapsed.get().as_secs()).unwrap_or(i64::MAX);
        self.inner.unix0.saturating_add(secs)
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.inner.elapsed.get().as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let c = ManualClock::at(1_000);
        let (t0, other) = (c.now(), c.clone());
        assert_eq!((c.unix(), c.millis()), (1_000, 0));
        other.advance(Duration::from_millis(2_500));
        assert_eq!(c.now() - t0, Duration::from_millis(2_500));
        assert_eq!((c.unix(), c.millis()), (1_002, 2_500));
    }

    #[test]
    fn the_system_clock_is_monotonic_and_near_the_wall() {
        let c = SystemClock::new();
        let a = c.now();
        assert!(c.now() >= a);
        assert!(c.unix() > 1_700_000_000, "after 2023");
    }
}
