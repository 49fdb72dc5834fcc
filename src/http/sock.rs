//! A TCP socket with a deadline on everything done on it. It checks its [`Budget`] before
//! every system call and gives the socket only the time left, so a peer that sends one
//! byte just before each read would time out holds it for no longer than the deadline (a
//! per-read timeout alone let a dripping ACS hold a session for as long as it liked). TLS
//! reads and writes, the handshake's included, go through it too.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Which bound a request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// One round trip (connect, request, whole response) took longer than this
    /// (`[acs] timeout`).
    RoundTrip(Duration),
    /// Nothing arrived (or could be sent) for this long during a streamed transfer.
    Idle(Duration),
    /// The whole session took longer than this (`[acs] session_timeout`).
    Session(Duration),
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timeout::RoundTrip(d) => write!(f, "no complete answer within {} ms", d.as_millis()),
            Timeout::Idle(d) => write!(f, "no progress for {} ms", d.as_millis()),
            Timeout::Session(d) => {
                write!(f, "the session took longer than {} ms", d.as_millis())
            }
        }
    }
}

/// The shortest timeout a socket is given (zero would mean none).
pub const MIN_WAIT: Duration = Duration::from_millis(1);

/// When what is being done must be over, what passing it means, and how long a single
/// read or write may wait (a streamed transfer's idle bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The deadline.
    pub until: Instant,
    /// What the deadline is.
    pub cause: Timeout,
    /// Longest single wait, if any.
    pub idle: Option<Duration>,
}

impl Budget {
    /// The time left, or the timeout if none is.
    pub fn left(&self, now: Instant) -> Result<Duration, Timeout> {
        match self.until.checked_duration_since(now) {
            Some(d) if !d.is_zero() => Ok(d),
            _ => Err(self.cause),
        }
    }

    /// How long the next read or write may wait, and what it means if it does.
    pub fn wait(&self, now: Instant) -> Result<(Duration, Timeout), Timeout> {
        let left = self.left(now)?;
        Ok(match self.idle {
            Some(i) if i < left => (i, Timeout::Idle(i)),
            _ => (left, self.cause),
        })
    }
}

/// A TCP socket that checks its [`Budget`] before every system call (TLS reads and writes
/// go through it too).
#[derive(Debug)]
pub struct Sock {
    tcp: TcpStream,
    budget: Budget,
    /// The timeout that stopped the last read or write, if one did.
    expired: Option<Timeout>,
    /// Bytes read so far.
    received: u64,
}

impl Sock {
    /// A socket under this budget.
    pub fn new(tcp: TcpStream, budget: Budget) -> Sock {
        Sock {
            tcp,
            budget,
            expired: None,
            received: 0,
        }
    }

    /// Puts a new budget on what follows.
    pub fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
        self.expired = None;
    }

    /// The timeout that stopped the last read or write, if one did (cleared).
    pub fn take_expired(&mut self) -> Option<Timeout> {
        self.expired.take()
    }

    /// Bytes read so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    fn timed_out(&mut self, cause: Timeout) -> io::Error {
        self.expired = Some(cause);
        io::Error::new(io::ErrorKind::TimedOut, cause.to_string())
    }

    fn arm(&mut self, read: bool) -> io::Result<Timeout> {
        let (wait, cause) = match self.budget.wait(Instant::now()) {
            Ok(w) => w,
            Err(cause) => return Err(self.timed_out(cause)),
        };
        let wait = Some(wait.max(MIN_WAIT));
        if read {
            self.tcp.set_read_timeout(wait)?;
        } else {
            self.tcp.set_write_timeout(wait)?;
        }
        Ok(cause)
    }

    /// A read or write that ran out of time.
    pub fn blocked(e: &io::Error) -> bool {
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        )
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let cause = self.arm(true)?;
        match self.tcp.read(buf) {
            Ok(n) => {
                self.received += n as u64;
                Ok(n)
            }
            Err(e) if Sock::blocked(&e) => Err(self.timed_out(cause)),
            Err(e) => Err(e),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let cause = self.arm(false)?;
        match self.tcp.write(buf) {
            Err(e) if Sock::blocked(&e) => Err(self.timed_out(cause)),
            r => r,
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_gives_the_shorter_of_what_is_left_and_the_idle_bound() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let whole = Budget {
            until: t0 + s(10),
            cause: Timeout::RoundTrip(s(10)),
            idle: None,
        };
        assert_eq!(whole.wait(t0 + s(4)), Ok((s(6), Timeout::RoundTrip(s(10)))));
        assert_eq!(whole.left(t0 + s(10)), Err(Timeout::RoundTrip(s(10))));
        assert_eq!(whole.left(t0 + s(11)), Err(Timeout::RoundTrip(s(10))));
        let streamed = Budget {
            until: t0 + s(100),
            cause: Timeout::Session(s(100)),
            idle: Some(s(5)),
        };
        assert_eq!(streamed.wait(t0), Ok((s(5), Timeout::Idle(s(5)))));
        assert_eq!(
            streamed.wait(t0 + s(97)),
            Ok((s(3), Timeout::Session(s(100))))
        );
        assert_eq!(streamed.wait(t0 + s(100)), Err(Timeout::Session(s(100))));
    }
}
