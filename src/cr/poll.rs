//! Waiting: one poll(2) over the waker, the listening socket and the connections, slept
//! until the caller's timeout or the first deadline, then the ready connections serviced and
//! new ones accepted, at most [`MAX_PER_POLL`](super::MAX_PER_POLL) requests a call.

use std::io::Read;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use super::{Listener, Polled, MAX_PER_POLL};

impl Listener {
    /// Empties the waker's pair; true when it held a wake-up.
    fn drain_waker(&mut self) -> bool {
        let mut woken = false;
        let mut buf = [0u8; 64];
        while let Ok(n) = (&self.wake_rx).read(&mut buf) {
            if n == 0 {
                break;
            }
            woken = true;
        }
        woken
    }

    /// Waits up to `timeout` for requests and handles what arrived (at most
    /// [`MAX_PER_POLL`]) at the listener's own clock. Returns when a request was handled,
    /// when woken by a [`Waker`](super::Waker), or when `timeout` has passed.
    pub fn poll(&mut self, timeout: Duration) -> Polled {
        self.poll_inner(timeout, None)
    }

    /// As [`Listener::poll`], handling what arrives as at `now_ms` (milliseconds on the
    /// caller's monotonic clock). Connection deadlines count the time waited in this call on
    /// top of `now_ms`: a long wait still ends a slow peer's connection on time.
    pub fn poll_at(&mut self, timeout: Duration, now_ms: u64) -> Polled {
        self.poll_inner(timeout, Some(now_ms))
    }

    fn poll_inner(&mut self, timeout: Duration, fixed: Option<u64>) -> Polled {
        let started = Instant::now();
        // (when requests are decided, when deadlines are checked)
        let times = |l: &Listener| match fixed {
            Some(t) => {
                let waited = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                (t, t.saturating_add(waited))
            }
            None => (l.own_ms(), l.own_ms()),
        };
        let mut out = Polled::default();
        let mut handled = 0;
        loop {
            let (_, now) = times(self);
            self.expire(now);
            self.report_counted(now);
            if self.accept_paused_until.is_some_and(|t| t <= now) {
                self.accept_paused_until = None;
            }
            // How long poll(2) may sleep: until the caller's timeout, the first deadline,
            // the end of a paused accept or of a warning window; not at all when a buffer
            // already holds a request.
            let mut wait = timeout.saturating_sub(started.elapsed());
            let deadlines = self
                .conns
                .iter()
                .map(|c| c.deadline_ms)
                .chain(self.accept_paused_until)
                .chain(self.log.end());
            if let Some(first) = deadlines.min() {
                wait = wait.min(Duration::from_millis(first.saturating_sub(now)));
            }
            if self.conns.iter().any(|c| c.recheck) {
                wait = Duration::ZERO;
            }
            let accepting = self.accept_paused_until.is_none();
            let ready = match self.wait_ready(wait, accepting) {
                Ok(r) => r,
                Err(e) => {
                    log::warn!("connection request: poll: {}", std::io::Error::from(e));
                    return out;
                }
            };
            let (decide_at, now) = times(self);
            let woken = ready.waker && self.drain_waker();
            // Connections first (their order changes when one closes: go from the end), then
            // new ones, which are read at once (`recheck`).
            let mut i = self.conns.len();
            while i > 0 && handled < MAX_PER_POLL {
                i -= 1;
                let due = ready.conns.get(i).copied().unwrap_or(false)
                    || self.conns.get(i).is_some_and(|c| c.recheck);
                if due && self.service(i, decide_at, now, &mut out) {
                    handled += 1;
                }
            }
            if ready.listener && handled < MAX_PER_POLL {
                let before = self.conns.len();
                self.accept(now);
                let mut i = self.conns.len();
                while i > before.min(self.conns.len()) && handled < MAX_PER_POLL {
                    i -= 1;
                    if self.service(i, decide_at, now, &mut out) {
                        handled += 1;
                    }
                }
            }
            if woken || handled > 0 || started.elapsed() >= timeout {
                return out;
            }
        }
    }

    /// One poll(2) over the waker, the listening socket (when `accepting`) and the
    /// connections, for up to `wait`.
    fn wait_ready(&self, wait: Duration, accepting: bool) -> Result<Ready, Errno> {
        let mut fds = Vec::with_capacity(self.conns.len() + 2);
        fds.push(PollFd::new(self.wake_rx.as_fd(), PollFlags::POLLIN));
        let listen_flags = if accepting {
            PollFlags::POLLIN
        } else {
            PollFlags::empty()
        };
        fds.push(PollFd::new(self.socket.as_fd(), listen_flags));
        for c in &self.conns {
            let flags = if c.writing() {
                PollFlags::POLLOUT
            } else {
                PollFlags::POLLIN
            };
            fds.push(PollFd::new(c.fd(), flags));
        }
        // Rounded up: a deadline 0.4 ms away must not become a busy loop of zero waits.
        let ms = wait.as_micros().div_ceil(1000);
        let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
        match nix::poll::poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
        let any = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
        let mut it = fds.iter();
        let waker = it.next().is_some_and(any);
        let listener = it.next().is_some_and(any);
        let conns = it.map(any).collect();
        Ok(Ready {
            waker,
            listener,
            conns,
        })
    }
}

/// What one poll(2) found ready.
struct Ready {
    waker: bool,
    listener: bool,
    conns: Vec<bool>,
}
