//! Host names to addresses within a deadline, for the ACS client, file transfers and the
//! IP diagnostics. libc's resolver blocks for as long as its own retries take (7 s and more
//! with a dead DNS server), and the agent's loop must keep answering Connection Requests
//! meanwhile; so each lookup runs in a thread of its own and is given up at the deadline.
//! A lookup that outlives it is left to finish and its answer dropped; at most
//! [`MAX_PENDING`] such threads run at once per [`Resolver`]. Literal addresses need no
//! lookup and no thread.

use std::fmt;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Longest wait for one lookup, whatever the caller's deadline.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most lookups of one resolver still running (answered or abandoned) at once.
pub const MAX_PENDING: usize = 4;

/// The function that asks the system (getaddrinfo); replaceable in tests.
pub type Lookup = fn(&str) -> io::Result<Vec<IpAddr>>;

/// Which addresses are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Any: IPv4 and IPv6 in the order the system gives them.
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    fn admits(self, a: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => a.is_ipv4(),
            Family::V6 => a.is_ipv6(),
        }
    }
}

/// Why a host name gave no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// The host is empty.
    Empty,
    /// The lookup failed (NXDOMAIN, no network …).
    Failed {
        /// The host asked for.
        host: String,
        /// What the system said.
        reason: String,
    },
    /// No answer within the deadline.
    NoAnswer {
        /// The host asked for.
        host: String,
        /// How long was waited.
        after: Duration,
    },
    /// Addresses, but none of the family asked for.
    NoAddress {
        /// The host asked for.
        host: String,
        /// The family asked for.
        family: Family,
    },
    /// [`MAX_PENDING`] earlier lookups are still running.
    Busy {
        /// The host asked for.
        host: String,
        /// The limit.
        limit: usize,
    },
    /// The lookup thread could not be started.
    Thread(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Empty => write!(f, "an empty host name"),
            ResolveError::Failed { host, reason } => write!(f, "{host}: {reason}"),
            ResolveError::NoAnswer { host, after } => {
                write!(f, "{host}: no answer within {} ms", after.as_millis())
            }
            ResolveError::NoAddress { host, family } => {
                let which = match family {
                    Family::Any => "no address",
                    Family::V4 => "no IPv4 address",
                    Family::V6 => "no IPv6 address",
                };
                write!(f, "{host}: {which}")
            }
            ResolveError::Busy { host, limit } => {
                write!(f, "{host}: {limit} earlier lookups are still running")
            }
            ResolveError::Thread(e) => write!(f, "resolver thread: {e}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// The system's lookup.
pub fn system_lookup(host: &str) -> io::Result<Vec<IpAddr>> {
    Ok((host, 0).to_socket_addrs()?.map(|s| s.ip()).collect())
}

/// Resolves names with a bounded wait and a bounded number of threads.
#[derive(Debug, Clone)]
pub struct Resolver {
    lookup: Lookup,
    timeout: Duration,
    pending: Arc<AtomicUsize>,
}

impl Default for Resolver {
    fn default() -> Resolver {
        Resolver::new(system_lookup, RESOLVE_TIMEOUT)
    }
}

/// Where a lookup thread leaves its answer.
type Slot = (Mutex<Option<io::Result<Vec<IpAddr>>>>, Condvar);

/// Counts a running lookup for as long as its thread lives.
struct Pending(Arc<AtomicUsize>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Resolver {
    /// A resolver with this lookup and longest wait.
    pub fn new(lookup: Lookup, timeout: Duration) -> Resolver {
        Resolver {
            lookup,
            timeout,
            pending: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The addresses of `host` in `family`, waiting at most `within` (and never longer than
    /// the resolver's own bound).
    pub fn resolve(
        &self,
        host: &str,
        family: Family,
        within: Duration,
    ) -> Result<Vec<IpAddr>, ResolveError> {
        let host = host.trim();
        if host.is_empty() {
            return Err(ResolveError::Empty);
        }
        let addrs = match host.parse::<IpAddr>() {
            Ok(a) => vec![a],
            Err(_) => self.ask(host, within.min(self.timeout))?,
        };
        let found: Vec<IpAddr> = addrs.into_iter().filter(|a| family.admits(a)).collect();
        if found.is_empty() {
            return Err(ResolveError::NoAddress {
                host: host.to_string(),
                family,
            });
        }
        Ok(found)
    }

    fn ask(&self, host: &str, wait: Duration) -> Result<Vec<IpAddr>, ResolveError> {
        if self.pending.fetch_add(1, Ordering::SeqCst) >= MAX_PENDING {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(ResolveError::Busy {
                host: host.to_string(),
                limit: MAX_PENDING,
            });
        }
        let pending = Pending(self.pending.clone());
        // The answer's slot: a mutex and a condition variable rather than a channel, whose
        // three flavours std compiles for every message type (~4.7 KB on MIPS).
        let slot: Arc<Slot> = Arc::default();
        let name = host.to_string();
        let lookup = self.lookup;
        let answer = slot.clone();
        std::thread::Builder::new()
            .name("resolve".into())
            .spawn(move || {
                let _pending = pending;
                let r = lookup(&name);
                if let Ok(mut a) = answer.0.lock() {
                    *a = Some(r);
                }
                answer.1.notify_one();
            })
            .map_err(|e| ResolveError::Thread(e.to_string()))?;
        let taken = slot.0.lock().ok().and_then(|a| {
            let (mut a, _) = slot.1.wait_timeout_while(a, wait, |a| a.is_none()).ok()?;
            a.take()
        });
        match taken {
            Some(r) => r.map_err(|e| ResolveError::Failed {
                host: host.to_string(),
                reason: e.to_string(),
            }),
            None => Err(ResolveError::NoAnswer {
                host: host.to_string(),
                after: wait,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn v4() -> IpAddr {
        "10.0.0.1".parse().unwrap()
    }

    #[test]
    fn literal_addresses_need_no_lookup_and_respect_the_family() {
        let never: Lookup = |_| panic!("no lookup for a literal");
        let r = Resolver::new(never, Duration::from_secs(1));
        let any = Duration::from_secs(1);
        assert_eq!(r.resolve(" 10.0.0.1 ", Family::Any, any), Ok(vec![v4()]));
        assert_eq!(
            r.resolve("fd13::1", Family::V6, any),
            Ok(vec!["fd13::1".parse().unwrap()])
        );
        assert!(matches!(
            r.resolve("10.0.0.1", Family::V6, any),
            Err(ResolveError::NoAddress { .. })
        ));
        assert_eq!(r.resolve("", Family::Any, any), Err(ResolveError::Empty));
    }

    #[test]
    fn lookups_are_bounded_by_the_shorter_wait() {
        let slow: Lookup = |_| {
            std::thread::sleep(Duration::from_millis(500));
            Ok(vec!["10.0.0.1".parse().unwrap()])
        };
        let started = Instant::now();
        let e = Resolver::new(slow, Duration::from_secs(5))
            .resolve("acs.example", Family::Any, Duration::from_millis(50))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(400));
        assert_eq!(
            e,
            ResolveError::NoAnswer {
                host: "acs.example".into(),
                after: Duration::from_millis(50)
            }
        );
        let started = Instant::now();
        let e = Resolver::new(slow, Duration::from_millis(50))
            .resolve("acs.example", Family::Any, Duration::from_secs(5))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(400));
        assert!(e.to_string().contains("no answer within 50 ms"), "{e}");
    }

    #[test]
    fn answers_are_filtered_by_family_and_failures_typed() {
        let both: Lookup = |_| {
            Ok(vec![
                "10.0.0.1".parse().unwrap(),
                "fd00::1".parse().unwrap(),
            ])
        };
        let r = Resolver::new(both, Duration::from_secs(5));
        let at = |f| r.resolve("h", f, Duration::from_secs(5));
        assert_eq!(at(Family::V6), Ok(vec!["fd00::1".parse().unwrap()]));
        assert_eq!(at(Family::V4), Ok(vec![v4()]));
        assert_eq!(at(Family::Any).unwrap().len(), 2);
        let failing: Lookup = |_| Err(io::Error::other("NXDOMAIN"));
        let e = Resolver::new(failing, Duration::from_secs(5))
            .resolve("h", Family::Any, Duration::from_secs(5))
            .unwrap_err();
        assert_eq!(
            e,
            ResolveError::Failed {
                host: "h".into(),
                reason: "NXDOMAIN".into()
            }
        );
    }

    #[test]
    fn abandoned_lookups_are_bounded_in_number() {
        // A lookup that never returns: every thread it runs in is abandoned for good.
        let dead: Lookup = |_| loop {
            std::thread::park();
        };
        let r = Resolver::new(dead, Duration::from_millis(10));
        for _ in 0..MAX_PENDING {
            let e = r
                .resolve("h", Family::Any, Duration::from_secs(1))
                .unwrap_err();
            assert!(matches!(e, ResolveError::NoAnswer { .. }), "{e}");
        }
        let started = Instant::now();
        let e = r
            .resolve("h", Family::Any, Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(
            e,
            ResolveError::Busy {
                host: "h".into(),
                limit: MAX_PENDING
            }
        );
        assert!(
            started.elapsed() < Duration::from_millis(10),
            "refused at once"
        );
    }
}
