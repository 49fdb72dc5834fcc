//! Session retry back-off (TR-069 Amendment 6 §3.2.1.1).
//!
//! After the n-th consecutive failed session (n ≥ 1) the CPE waits a random time in
//! `[m·(k/1000)^(n-1), m·(k/1000)^n]` seconds, where m is CWMPRetryMinimumWaitInterval
//! (default 5) and k is CWMPRetryIntervalMultiplier (default 2000); from the 10th retry on the
//! range stops growing. With the defaults: 5–10 s, 10–20 s, … 2560–5120 s.
//! The random draw is passed in, so the schedule is testable.

/// The retry count from which the range stops growing.
pub const MAX_GROWTH_RETRY: u32 = 10;

/// Retry settings from Device.ManagementServer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// CWMPRetryMinimumWaitInterval, seconds (1..=65535).
    pub minimum_wait: u32,
    /// CWMPRetryIntervalMultiplier, thousandths (1000..=65535).
    pub multiplier: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            minimum_wait: 5,
            multiplier: 2000,
        }
    }
}

impl RetryPolicy {
    /// The wait range in milliseconds after `retry` consecutive failures (retry ≥ 1).
    pub fn range_ms(&self, retry: u32) -> (u64, u64) {
        let n = retry.clamp(1, MAX_GROWTH_RETRY);
        let m = u128::from(self.minimum_wait.max(1)) * 1000;
        let k = u128::from(self.multiplier.max(1000));
        // m·(k/1000)^(n-1) in integer arithmetic, saturating far above any real value.
        let mut lo = m;
        for _ in 1..n {
            lo = (lo * k / 1000).min(u128::from(u64::MAX / 2));
        }
        let hi = (lo * k / 1000).min(u128::from(u64::MAX / 2));
        (lo as u64, hi as u64)
    }

    /// The wait in milliseconds, given a uniform random number.
    pub fn wait_ms(&self, retry: u32, random: u64) -> u64 {
        let (lo, hi) = self.range_ms(retry);
        lo + random % (hi - lo + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_matches_the_spec() {
        let p = RetryPolicy::default();
        let want = [
            (5, 10),
            (10, 20),
            (20, 40),
            (40, 80),
            (80, 160),
            (160, 320),
            (320, 640),
            (640, 1280),
            (1280, 2560),
            (2560, 5120),
        ];
        for (i, (lo, hi)) in want.iter().enumerate() {
            assert_eq!(
                p.range_ms(i as u32 + 1),
                (lo * 1000, hi * 1000),
                "retry {}",
                i + 1
            );
        }
        assert_eq!(
            p.range_ms(11),
            (2_560_000, 5_120_000),
            "stops growing after 10"
        );
        assert_eq!(p.range_ms(1000), (2_560_000, 5_120_000));
    }

    #[test]
    fn draws_stay_in_range() {
        let p = RetryPolicy {
            minimum_wait: 1,
            multiplier: 1500,
        };
        for r in [0u64, 1, 499, 500, 501, u64::MAX] {
            let w = p.wait_ms(2, r);
            assert!((1500..=2250).contains(&w), "{w}");
        }
        assert_eq!(p.wait_ms(1, 0), 1000);
    }

    #[test]
    fn out_of_range_settings_are_clamped() {
        let p = RetryPolicy {
            minimum_wait: 0,
            multiplier: 0,
        };
        assert_eq!(p.range_ms(3), (1000, 1000));
        let big = RetryPolicy {
            minimum_wait: 65535,
            multiplier: 65535,
        };
        let (lo, hi) = big.range_ms(10);
        assert!(lo <= hi);
    }
}
