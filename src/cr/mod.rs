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
//! `conn` reads and writes one connection, `accept` keeps the bounded set of them, `decide`
//! answers a request (path, method, Digest, rate limit), `poll` waits for and services what
//! is ready, [`limit`] holds the two rate limits, `url` makes the ConnectionRequestURL.

mod accept;
mod conn;
mod decide;
pub mod limit;
mod poll;
pub mod request;
mod url;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Instant;

use crate::http::digest::Verifier;
use conn::Conn;
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
}

#[cfg(test)]
mod tests;
