//! The one way a test waits: for a condition, with a deadline.
//!
//! Most waits block on an event (the test ACS's condition variable, a channel); what can only
//! be looked at — a log line, a file, a child's exit — is polled here, every few
//! milliseconds, and nowhere else. No test sleeps to let something happen.

use std::time::{Duration, Instant};

/// The deadline for anything a test waits for that takes no configured time.
pub const T: Duration = Duration::from_secs(15);

/// How often [`poll`] looks.
const EVERY: Duration = Duration::from_millis(5);

/// Calls `ready` until it gives a value, or `limit` has passed (then None).
pub fn poll<R>(limit: Duration, mut ready: impl FnMut() -> Option<R>) -> Option<R> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(r) = ready() {
            return Some(r);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(EVERY);
    }
}

/// True once `cond` holds; false when `limit` passes first.
pub fn until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    poll(limit, || cond().then_some(())).is_some()
}
