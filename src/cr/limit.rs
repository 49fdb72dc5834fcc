//! The listener's two rate limits, on milliseconds passed in: the token bucket for accepted
//! Connection Requests, and the one for its own warnings (a flood of refused requests must
//! not become a flood of log lines, issue 12 §7).

/// Accepted Connection Requests allowed in a burst (default).
pub const BURST: u32 = 3;
/// Milliseconds to earn one more accepted request (default).
pub const REFILL_MS: u64 = 1000;
/// Window of the warning limit: the first warning in a window is logged, the rest are
/// counted and reported in one line when it ends.
pub const LOG_WINDOW_MS: u64 = 60_000;

/// Token bucket for authenticated requests: `burst` at once, then one per `refill_ms`.
/// Authenticated requests beyond it get 503 with Retry-After.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Bucket size (at least 1 is used).
    pub burst: u32,
    /// Milliseconds to earn one token (at least 1 is used).
    pub refill_ms: u64,
}

impl Default for RateLimit {
    fn default() -> RateLimit {
        RateLimit {
            burst: BURST,
            refill_ms: REFILL_MS,
        }
    }
}

/// The bucket's state.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    limit: RateLimit,
    tokens: u32,
    last_refill_ms: Option<u64>,
}

impl Bucket {
    /// A full bucket.
    pub(super) fn new(limit: RateLimit) -> Bucket {
        let limit = RateLimit {
            burst: limit.burst.max(1),
            refill_ms: limit.refill_ms.max(1),
        };
        Bucket {
            limit,
            tokens: limit.burst,
            last_refill_ms: None,
        }
    }

    /// Takes a token at `now`; Err(seconds until the next one) when the bucket is empty.
    pub(super) fn take(&mut self, now: u64) -> Result<(), u64> {
        let RateLimit { burst, refill_ms } = self.limit;
        let last = *self.last_refill_ms.get_or_insert(now);
        if self.tokens >= burst {
            // Full: earning starts from now, not from when it filled.
            self.last_refill_ms = Some(now);
        } else {
            let earned = now.saturating_sub(last) / refill_ms;
            if earned > 0 {
                let room = u64::from(burst - self.tokens);
                self.tokens += u32::try_from(earned.min(room)).unwrap_or(0);
                // Keep the part of an interval already earned towards the next token.
                self.last_refill_ms = Some(last.saturating_add(earned.saturating_mul(refill_ms)));
            }
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            Ok(())
        } else {
            let next = self
                .last_refill_ms
                .unwrap_or(now)
                .saturating_add(refill_ms)
                .saturating_sub(now);
            Err(next.div_ceil(1000).max(1))
        }
    }
}

/// The warning limit: at most one warning line, and one count line, per window.
#[derive(Debug, Clone, Default)]
pub(super) struct LogLimit {
    /// When the current window began (its first warning was logged then).
    since: Option<u64>,
    /// Warnings not logged in the current window.
    suppressed: u32,
}

impl LogLimit {
    /// Whether a warning at `now` is logged; if not, it is counted.
    pub(super) fn admit(&mut self, now: u64) -> bool {
        match self.since {
            Some(s) if now < s.saturating_add(LOG_WINDOW_MS) => {
                self.suppressed = self.suppressed.saturating_add(1);
                false
            }
            _ => {
                self.since = Some(now);
                self.suppressed = 0;
                true
            }
        }
    }

    /// The warnings left unlogged in a window that has ended by `now` (reported once).
    pub(super) fn ended(&mut self, now: u64) -> Option<u32> {
        let end = self.end()?;
        if now < end {
            return None;
        }
        let n = std::mem::take(&mut self.suppressed);
        self.since = None;
        Some(n)
    }

    /// When the current window ends, if it holds warnings to report.
    pub(super) fn end(&self) -> Option<u64> {
        let s = self.since?;
        (self.suppressed > 0).then_some(s.saturating_add(LOG_WINDOW_MS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_one_token_per_interval() {
        let mut b = Bucket::new(RateLimit::default());
        for t in 0..BURST as u64 {
            assert_eq!(b.take(t), Ok(()));
        }
        assert_eq!(b.take(5), Err(1));
        assert_eq!(b.take(REFILL_MS), Ok(()));
        assert_eq!(b.take(REFILL_MS + 1), Err(1));
    }

    #[test]
    fn fifty_refusals_make_one_warning_and_one_count() {
        let mut l = LogLimit::default();
        let logged = (0..50).filter(|i| l.admit(i * 100)).count();
        assert_eq!(logged, 1);
        assert_eq!(l.ended(LOG_WINDOW_MS - 1), None, "the window is not over");
        assert_eq!(l.end(), Some(LOG_WINDOW_MS));
        assert_eq!(l.ended(LOG_WINDOW_MS), Some(49));
        assert_eq!(l.ended(LOG_WINDOW_MS * 2), None, "reported once");
        assert_eq!(l.end(), None);
        // The next refusal opens a new window and is logged.
        assert!(l.admit(LOG_WINDOW_MS * 2));
        assert!(!l.admit(LOG_WINDOW_MS * 2 + 1));
    }

    #[test]
    fn a_lone_refusal_leaves_nothing_to_count() {
        let mut l = LogLimit::default();
        assert!(l.admit(0));
        assert_eq!(l.end(), None);
        assert_eq!(l.ended(LOG_WINDOW_MS), None);
        assert!(l.admit(LOG_WINDOW_MS));
    }
}
