//! The Connection Request listener (TR-069 §3.2.2) on tiny_http.
//!
//! Only GET on the configured path is accepted, only with HTTP Digest (SHA-256 or MD5,
//! qop=auth, nonces that expire, nonce counts that must grow). With no credentials configured
//! every request is refused with 401 and a warning. An accepted request is answered at once
//! and reported to the agent, which starts (or coalesces into) a session with
//! `6 CONNECTION REQUEST`. Accepted requests beyond a small token bucket get 503, and one
//! poll handles a bounded number of requests, so a flood cannot stall the agent.
//!
//! tiny_http runs its own accept threads; the agent loop treats it as a queue and waits on
//! it with [`Listener::poll`], which is also how the loop sleeps until its next deadline.
//! Nonce ages and the rate limit use milliseconds passed in ([`Listener::poll_at`]) or, for
//! [`Listener::poll`], the listener's own monotonic clock; do not mix the two on one listener.
//!
//! It does not start sessions, coalesce them or know about events: it only counts accepted
//! requests ([`Polled`]) and the agent decides.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::http::digest::{AuthError, Verifier};

/// Nonce lifetime (default; see [`Listener::set_nonce_lifetime`]).
pub const NONCE_LIFETIME_MS: u64 = 60_000;
/// Requests handled in one poll; the rest wait for the next.
pub const MAX_PER_POLL: usize = 32;
/// Accepted Connection Requests allowed in a burst (default).
pub const BURST: u32 = 3;
/// Milliseconds to earn one more accepted request (default).
pub const REFILL_MS: u64 = 1000;
/// The realm in our challenges.
pub const REALM: &str = "cwmpd";

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

/// The listener could not be bound.
#[derive(Debug)]
pub struct ListenError {
    /// The address asked for.
    pub listen: String,
    /// Why (tiny_http's own error).
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

/// Something that can wake a blocked [`Listener::poll`] from another thread (SIGTERM).
#[derive(Clone)]
pub struct Waker(Arc<tiny_http::Server>);

impl Waker {
    /// Wakes the loop.
    pub fn wake(&self) {
        self.0.unblock();
    }
}

/// The listener.
pub struct Listener {
    server: Arc<tiny_http::Server>,
    credentials: (String, String),
    path: String,
    verifier: Option<Verifier>,
    epoch: Instant,
    nonce_lifetime_ms: u64,
    limit: RateLimit,
    tokens: u32,
    last_refill_ms: Option<u64>,
}

/// What polling produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Polled {
    /// Authenticated Connection Requests accepted (coalesced by the caller).
    pub accepted: u32,
    /// Requests refused (401, 404, 405, 503).
    pub refused: u32,
}

/// The ConnectionRequestURL for a listener bound to `listen` serving `path`.
///
/// `host_override` is the host (name or address, IPv6 without brackets) to report instead of
/// the listen address. A listener on 0.0.0.0 or :: cannot be reached at that address, so the
/// caller must pass the address the ACS can reach (see [`derive_url`], which picks the local
/// address of the route to the ACS); given none, the unspecified address is reported as is.
pub fn connection_request_url(
    listen: SocketAddr,
    path: &str,
    host_override: Option<&str>,
) -> String {
    let host = host_override
        .map(str::to_string)
        .unwrap_or_else(|| listen.ip().to_string());
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    format!("http://{host}:{}{path}", listen.port())
}

/// Derives the ConnectionRequestURL: the listen address, or when it is unspecified
/// (0.0.0.0 / ::) the local address used to reach the ACS (found with an unconnected UDP
/// socket: no packet is sent). Empty when `listen` is not an address.
pub fn derive_url(listen: &str, path: &str, acs_url: &str) -> String {
    let Ok(addr) = listen.parse::<SocketAddr>() else {
        return String::new();
    };
    let mut ip = addr.ip();
    if ip.is_unspecified() {
        if let Ok(u) = crate::http::Url::parse(acs_url) {
            let bind = if ip.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
            let local = (u.host.as_str(), u.port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.find(|x| x.is_ipv4() == ip.is_ipv4()))
                .and_then(|target| {
                    UdpSocket::bind(bind)
                        .ok()
                        .and_then(|s| s.connect(target).ok().and_then(|_| s.local_addr().ok()))
                });
            if let Some(l) = local {
                ip = l.ip();
            }
        }
    }
    connection_request_url(addr, path, Some(&ip.to_string()))
}

impl Listener {
    /// Binds the listener.
    pub fn bind(s: &Settings) -> Result<Listener, ListenError> {
        let server = tiny_http::Server::http(&s.listen).map_err(|e| ListenError {
            listen: s.listen.clone(),
            reason: e.to_string(),
        })?;
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
            server: Arc::new(server),
            credentials: (s.username.clone(), s.password.clone()),
            path: s.path.clone(),
            verifier,
            epoch: Instant::now(),
            nonce_lifetime_ms: NONCE_LIFETIME_MS,
            limit: RateLimit::default(),
            tokens: BURST,
            last_refill_ms: None,
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
        self.limit = RateLimit {
            burst: limit.burst.max(1),
            refill_ms: limit.refill_ms.max(1),
        };
        self.tokens = self.limit.burst;
        self.last_refill_ms = None;
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
        self.server.server_addr().to_ip()
    }

    /// A handle that wakes [`Listener::poll`].
    pub fn waker(&self) -> Waker {
        Waker(self.server.clone())
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Takes a token at `now`; Err(seconds until the next one) when the bucket is empty.
    fn take_token(&mut self, now: u64) -> Result<(), u64> {
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

    fn respond(req: tiny_http::Request, status: u16, headers: &[(&str, String)]) {
        if status != 200 {
            // Before the answer leaves: whoever sees the answer finds the line.
            log::debug!("connection request: answered {status}");
        }
        let mut resp = tiny_http::Response::empty(status);
        for (name, value) in headers {
            if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                resp.add_header(h);
            }
        }
        if let Err(e) = req.respond(resp) {
            log::debug!("connection request: answering failed: {e}");
        }
    }

    /// Handles one request at `now`; true when it was an accepted Connection Request.
    fn handle(&mut self, req: tiny_http::Request, now: u64) -> bool {
        let path = req.url().split('?').next().unwrap_or("").to_string();
        if path != self.path {
            Self::respond(req, 404, &[]);
            return false;
        }
        if *req.method() != tiny_http::Method::Get {
            Self::respond(req, 405, &[("Allow", "GET".into())]);
            return false;
        }
        let Some(v) = self.verifier.as_mut() else {
            log::warn!(
                "connection request from {:?} refused: no credentials configured",
                req.remote_addr()
            );
            Self::respond(req, 401, &[]);
            return false;
        };
        let auth = req
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.as_str().to_string());
        match v.verify(auth.as_deref(), "GET", req.url(), now) {
            Ok(()) => match self.take_token(now) {
                Ok(()) => {
                    Self::respond(req, 200, &[]);
                    log::info!("connection request accepted");
                    true
                }
                Err(after) => {
                    log::warn!("connection request rate limit: answered 503");
                    Self::respond(req, 503, &[("Retry-After", after.to_string())]);
                    false
                }
            },
            Err(e) => {
                if !matches!(e, AuthError::Missing) {
                    log::warn!(
                        "connection request from {:?} refused: {e}",
                        req.remote_addr()
                    );
                }
                let ch = v.challenges(now, e == AuthError::Stale);
                let ch: Vec<_> = ch.into_iter().map(|c| ("WWW-Authenticate", c)).collect();
                Self::respond(req, 401, &ch);
                false
            }
        }
    }

    /// Waits up to `timeout` for requests and handles what arrived (at most
    /// [`MAX_PER_POLL`]) at the listener's own clock. Returns early when woken by a
    /// [`Waker`].
    pub fn poll(&mut self, timeout: Duration) -> Polled {
        self.poll_inner(timeout, None)
    }

    /// As [`Listener::poll`], handling what arrives as at `now_ms` (milliseconds on the
    /// caller's monotonic clock).
    pub fn poll_at(&mut self, timeout: Duration, now_ms: u64) -> Polled {
        self.poll_inner(timeout, Some(now_ms))
    }

    fn poll_inner(&mut self, timeout: Duration, now_ms: Option<u64>) -> Polled {
        let mut out = Polled::default();
        let first = match self.server.recv_timeout(timeout) {
            Ok(Some(r)) => r,
            Ok(None) => return out,
            Err(e) => {
                log::warn!("connection request: {e}");
                return out;
            }
        };
        // Read after the wait: requests are handled at the time they are taken.
        let now = now_ms.unwrap_or_else(|| self.now_ms());
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(req) = next.take() {
            if self.handle(req, now) {
                out.accepted += 1;
            } else {
                out.refused += 1;
            }
            handled += 1;
            if handled >= MAX_PER_POLL {
                break;
            }
            next = self.server.try_recv().ok().flatten();
        }
        out
    }
}

#[cfg(test)]
mod tests;
