//! The Connection Request listener (TR-069 §3.2.2): one nonblocking socket and a bounded set
//! of connections, serviced from the agent's loop.
//!
//! Only GET on the configured path is accepted, only with HTTP Digest (SHA-256 or MD5,
//! qop=auth, nonces that expire, nonce counts that must grow). With no credentials configured
//! every request is refused with 401 and a warning. An accepted request is answered at once
//! and reported to the agent, which starts (or coalesces into) a session with
//! `6 CONNECTION REQUEST`. Accepted requests beyond a small token bucket get 503, and one
//! poll handles a bounded number of requests, so a flood cannot stall the agent.
//!
//! The port faces the WAN, so everything a peer can make the listener spend is bounded
//! (issue 13): no thread at all (the agent's loop waits in poll(2) on the socket, the
//! connections and a waker, [`Listener::poll`]); at most [`MAX_CONNECTIONS`] connections
//! (one more drops the oldest); [`DEADLINE_MS`] for each request to arrive and its answer to
//! leave; [`request::MAX_HEAD_BYTES`] of request head; nonblocking reads and writes, so a peer
//! that never reads cannot hold the loop; out of file descriptors (EMFILE/ENFILE), the oldest
//! connections are dropped and fewer are kept until the set empties; warnings about peers are
//! rate-limited ([`limit::LOG_WINDOW_MS`]). tiny_http, used before, could bound none of these
//! (its upstream issues #220, #221, #232): see README.
//!
//! Nonce ages, the rate limit and connection deadlines use milliseconds passed in
//! ([`Listener::poll_at`], plus the time waited inside the call) or, for [`Listener::poll`],
//! the listener's own monotonic clock; do not mix the two on one listener.
//!
//! It does not start sessions, coalesce them or know about events: it only counts accepted
//! requests ([`Polled`]) and the agent decides. [`request`] parses heads without I/O,
//! `conn` reads and writes one connection, [`limit`] holds the two rate limits, `url` makes
//! the ConnectionRequestURL.

mod conn;
pub mod limit;
pub mod request;
mod url;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use crate::http::digest::{AuthError, Verifier};
use conn::{response, Conn, Input, Output};
pub use conn::{DEADLINE_MS, MAX_CONNECTIONS, MAX_REQUESTS};
use limit::{Bucket, LogLimit};
pub use limit::{RateLimit, BURST, REFILL_MS};
pub use url::{connection_request_url, derive_url};

/// Nonce lifetime (default; see [`Listener::set_nonce_lifetime`]).
pub const NONCE_LIFETIME_MS: u64 = 60_000;
/// Requests handled in one poll; the rest wait for the next.
pub const MAX_PER_POLL: usize = 16;
/// Connections accepted in one round of a poll (the backlog holds the rest).
pub const MAX_ACCEPTS: usize = 64;
/// Connections kept free of the process's file descriptors after EMFILE, for the rest of
/// the agent (its session with the ACS above all).
pub const FD_HEADROOM: usize = 4;
/// How long accepting pauses when no descriptor can be freed (the listening socket stays
/// readable: without a pause the loop would spin on it).
pub const ACCEPT_PAUSE_MS: u64 = 250;
/// The realm in our challenges.
pub const REALM: &str = "cwmpd";

/// The listener could not be bound.
#[derive(Debug)]
pub struct ListenError {
    /// The address asked for.
    pub listen: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connection request: cannot listen on {}: {}",
            self.listen, self.reason
        )
    }
}

impl std::error::Error for ListenError {}

/// Listener settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub listen: String,
    /// Accepted URL path.
    pub path: String,
    /// Username the ACS must use.
    pub username: String,
    /// Password the ACS must use.
    pub password: String,
}

/// Something that can wake a blocked [`Listener::poll`] from another thread (SIGTERM, a
/// worker's report): one byte into a socket pair the poll watches.
#[derive(Clone)]
pub struct Waker(Arc<UnixStream>);

impl Waker {
    /// Wakes the loop. Never blocks: when the pair is full, a wake-up is already pending.
    pub fn wake(&self) {
        let _ = (&*self.0).write(&[1]);
    }
}

/// The listener.
pub struct Listener {
    socket: TcpListener,
    /// The read end of the waker's pair.
    wake_rx: UnixStream,
    waker: Waker,
    conns: Vec<Conn>,
    /// Connections accepted so far (their order).
    accepted: u64,
    /// Connections kept at most: [`MAX_CONNECTIONS`], fewer after EMFILE until the set
    /// empties.
    cap: usize,
    /// No accepting before this (ms), after a descriptor shortage nothing could relieve.
    accept_paused_until: Option<u64>,
    credentials: (String, String),
    path: String,
    verifier: Option<Verifier>,
    epoch: Instant,
    nonce_lifetime_ms: u64,
    bucket: Bucket,
    log: LogLimit,
}

/// What polling produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Polled {
    /// Authenticated Connection Requests accepted (coalesced by the caller).
    pub accepted: u32,
    /// Requests refused (400, 401, 404, 405, 431, 503, 505).
    pub refused: u32,
}

impl Listener {
    /// Binds the listener.
    pub fn bind(s: &Settings) -> Result<Listener, ListenError> {
        let failed = |e: std::io::Error| ListenError {
            listen: s.listen.clone(),
            reason: e.to_string(),
        };
        let socket = TcpListener::bind(&s.listen).map_err(failed)?;
        socket.set_nonblocking(true).map_err(failed)?;
        let (tx, rx) = UnixStream::pair().map_err(failed)?;
        tx.set_nonblocking(true).map_err(failed)?;
        rx.set_nonblocking(true).map_err(failed)?;
        let verifier = if s.username.is_empty() || s.password.is_empty() {
            log::warn!("connection request: no credentials configured; every request will be refused (401)");
            None
        } else {
            Some(Verifier::new(
                &s.username,
                &s.password,
                REALM,
                NONCE_LIFETIME_MS,
            ))
        };
        Ok(Listener {
            socket,
            wake_rx: rx,
            waker: Waker(Arc::new(tx)),
            conns: Vec::new(),
            accepted: 0,
            cap: MAX_CONNECTIONS,
            accept_paused_until: None,
            credentials: (s.username.clone(), s.password.clone()),
            path: s.path.clone(),
            verifier,
            epoch: Instant::now(),
            nonce_lifetime_ms: NONCE_LIFETIME_MS,
            bucket: Bucket::new(RateLimit::default()),
            log: LogLimit::default(),
        })
    }

    /// Binds the listener; when `s.listen` leaves the port to the system (`ip:0`) and
    /// `remembered` is the port an earlier run was given, that port is tried first.
    ///
    /// The ACS reaches us at the ConnectionRequestURL of our last Inform (TR-069 §3.2.2), so a
    /// restart keeps the port when it can. When the port is taken now, the system picks a new
    /// one: the URL really changes, and the ACS learns it from the next Inform (the parameter
    /// is forced to active notification).
    pub fn bind_remembering(
        s: &Settings,
        remembered: Option<u16>,
    ) -> Result<Listener, ListenError> {
        let any_port = s
            .listen
            .parse::<SocketAddr>()
            .ok()
            .filter(|a| a.port() == 0);
        if let (Some(mut addr), Some(port)) = (any_port, remembered.filter(|p| *p != 0)) {
            addr.set_port(port);
            let again = Settings {
                listen: addr.to_string(),
                ..s.clone()
            };
            match Listener::bind(&again) {
                Ok(l) => return Ok(l),
                Err(e) => log::info!("{e}; taking a new port"),
            }
        }
        Listener::bind(s)
    }

    /// Changes the rate limit; the bucket starts full.
    pub fn set_rate_limit(&mut self, limit: RateLimit) {
        self.bucket = Bucket::new(limit);
    }

    /// Changes how long a nonce is accepted after it was issued; outstanding nonces are
    /// dropped.
    pub fn set_nonce_lifetime(&mut self, ms: u64) {
        self.nonce_lifetime_ms = ms;
        let (u, p) = self.credentials.clone();
        self.verifier = self.new_verifier(&u, &p);
    }

    fn new_verifier(&self, username: &str, password: &str) -> Option<Verifier> {
        (!username.is_empty() && !password.is_empty())
            .then(|| Verifier::new(username, password, REALM, self.nonce_lifetime_ms))
    }

    /// Changes the credentials the ACS must use (Device.ManagementServer.ConnectionRequest
    /// Username/Password were set); outstanding nonces are dropped.
    pub fn set_credentials(&mut self, username: &str, password: &str) {
        if (username, password) == (self.credentials.0.as_str(), self.credentials.1.as_str()) {
            return;
        }
        self.credentials = (username.to_string(), password.to_string());
        self.verifier = self.new_verifier(username, password);
        if self.verifier.is_none() {
            log::warn!(
                "connection request: credentials cleared; every request will be refused (401)"
            );
        } else {
            log::info!("connection request: credentials changed");
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.socket.local_addr().ok()
    }

    /// A handle that wakes [`Listener::poll`].
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Connections open now (tests, benchmarks).
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    fn own_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Logs a warning about a peer, or counts it when one was logged in this window.
    fn warn(&mut self, now: u64, what: std::fmt::Arguments<'_>) {
        if self.log.admit(now) {
            log::warn!(
                "connection request: {what} (more within {} s are counted, not logged)",
                limit::LOG_WINDOW_MS / 1000
            );
        }
    }

    /// Reports the warnings a window that ended held.
    fn report_counted(&mut self, now: u64) {
        if let Some(n) = self.log.ended(now).filter(|n| *n > 0) {
            log::warn!(
                "connection request: {n} more refused or dropped in {} s",
                limit::LOG_WINDOW_MS / 1000
            );
        }
    }

    /// What answers request `req` at `now`: (status, headers, accepted).
    fn decide(
        &mut self,
        req: &request::Request,
        peer: SocketAddr,
        now: u64,
    ) -> (u16, Vec<(&'static str, String)>, bool) {
        if req.path() != self.path {
            return (404, Vec::new(), false);
        }
        if req.method != "GET" {
            return (405, vec![("Allow", "GET".into())], false);
        }
        let Some(v) = self.verifier.as_mut() else {
            self.warn(
                now,
                format_args!("from {peer} refused: no credentials configured"),
            );
            return (401, Vec::new(), false);
        };
        match v.verify(req.authorization.as_deref(), "GET", &req.target, now) {
            Ok(()) => match self.bucket.take(now) {
                Ok(()) => {
                    log::info!("connection request accepted");
                    (200, Vec::new(), true)
                }
                Err(after) => {
                    self.warn(now, format_args!("from {peer}: rate limit, answered 503"));
                    (503, vec![("Retry-After", after.to_string())], false)
                }
            },
            Err(e) => {
                let challenges = v.challenges(now, e == AuthError::Stale);
                if !matches!(e, AuthError::Missing) {
                    self.warn(now, format_args!("from {peer} refused: {e}"));
                }
                let ch = challenges
                    .into_iter()
                    .map(|c| ("WWW-Authenticate", c))
                    .collect();
                (401, ch, false)
            }
        }
    }

    /// Reads connection `i` and answers what it completed, deciding as at `at` (nonces, the
    /// rate limit) with deadlines from `now`; true when a request was handled (`out` counts
    /// it). False leaves the connection waiting; it may have been closed.
    fn service(&mut self, i: usize, at: u64, now: u64, out: &mut Polled) -> bool {
        let Some(c) = self.conns.get_mut(i) else {
            return false;
        };
        if c.writing() {
            if c.flush(now) == Output::Gone {
                self.close(i);
            }
            return false;
        }
        let peer = c.peer;
        let (status, headers, close, accepted) = match c.read() {
            Input::Pending => return false,
            Input::Gone => {
                self.close(i);
                return false;
            }
            Input::Bad(e) => {
                self.warn(at, format_args!("from {peer} refused: {e}"));
                (e.status(), Vec::new(), true, false)
            }
            Input::Request(req) => {
                let last = c.last_request();
                let (status, headers, accepted) = self.decide(&req, peer, at);
                (status, headers, req.close || last, accepted)
            }
        };
        if status != 200 {
            // Before the answer leaves: whoever sees the answer finds the line.
            log::debug!("connection request: answered {status}");
        }
        if accepted {
            out.accepted += 1;
        } else {
            out.refused += 1;
        }
        let answer = response(status, &headers, close);
        if let Some(c) = self.conns.get_mut(i) {
            if c.answer(answer, close, now) == Output::Gone {
                self.close(i);
            }
        }
        true
    }

    fn close(&mut self, i: usize) {
        if i < self.conns.len() {
            self.conns.swap_remove(i);
        }
        if self.conns.is_empty() {
            // A shortage of descriptors is over when nothing of ours holds any.
            self.cap = MAX_CONNECTIONS;
        }
    }

    /// Drops the oldest connection (to make room for a new one).
    fn drop_oldest(&mut self, now: u64, why: &str) {
        let oldest = (0..self.conns.len()).min_by_key(|i| self.conns.get(*i).map(|c| c.seq));
        if let Some(i) = oldest {
            if let Some(c) = self.conns.get(i) {
                let peer = c.peer;
                self.warn(
                    now,
                    format_args!("{why}: dropped the oldest connection (from {peer})"),
                );
            }
            self.conns.swap_remove(i);
        }
    }

    /// Closes connections past their deadline.
    fn expire(&mut self, now: u64) {
        let mut i = 0;
        while i < self.conns.len() {
            match self.conns.get_mut(i) {
                Some(c) if c.expired(now) => {
                    let peer = c.peer;
                    c.last_word(&response(408, &[], true));
                    self.warn(
                        now,
                        format_args!(
                            "from {peer}: no whole request within {DEADLINE_MS} ms, closed"
                        ),
                    );
                    self.close(i);
                }
                _ => i += 1,
            }
        }
    }

    /// Accepts what the backlog holds (at most [`MAX_ACCEPTS`]).
    fn accept(&mut self, now: u64) {
        for _ in 0..MAX_ACCEPTS {
            match self.socket.accept() {
                Ok((stream, peer)) => {
                    while self.conns.len() >= self.cap {
                        self.drop_oldest(now, "too many connections");
                    }
                    self.accepted += 1;
                    match Conn::new(stream, peer, self.accepted, now) {
                        Ok(c) => {
                            self.conns.push(c);
                            // Its request is usually there already.
                            if let Some(c) = self.conns.last_mut() {
                                c.recheck = true;
                            }
                        }
                        Err(e) => log::debug!("connection request: from {peer}: {e}"),
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e)
                    if e.kind() == ErrorKind::Interrupted
                        || e.kind() == ErrorKind::ConnectionAborted => {}
                Err(e) => {
                    let short = matches!(
                        e.raw_os_error().map(Errno::from_raw),
                        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)
                    );
                    if short && !self.conns.is_empty() {
                        // Out of descriptors: ours go first, and fewer are kept from now on,
                        // so the rest of the agent keeps some (FD_HEADROOM).
                        self.cap = self.conns.len().saturating_sub(FD_HEADROOM).max(1);
                        while self.conns.len() >= self.cap && !self.conns.is_empty() {
                            self.drop_oldest(now, &format!("accept: {e}"));
                        }
                    } else {
                        self.warn(
                            now,
                            format_args!("accept: {e}; pausing {ACCEPT_PAUSE_MS} ms"),
                        );
                        self.accept_paused_until = Some(now.saturating_add(ACCEPT_PAUSE_MS));
                        return;
                    }
                }
            }
        }
    }

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
    /// when woken by a [`Waker`], or when `timeout` has passed.
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
                    log::warn!("connection request: poll: {e}");
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

#[cfg(test)]
mod tests;
