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

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::digest::{AuthError, Verifier};

/// Nonce lifetime.
pub const NONCE_LIFETIME_MS: u64 = 60_000;
/// Requests handled in one poll; the rest wait for the next.
pub const MAX_PER_POLL: usize = 32;
/// Accepted Connection Requests allowed in a burst.
pub const BURST: u32 = 3;
/// Milliseconds to earn one more accepted request.
pub const REFILL_MS: u64 = 1000;

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
    tokens: u32,
    last_refill_ms: u64,
}

/// What polling produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Polled {
    /// Authenticated Connection Requests accepted (coalesced by the caller).
    pub accepted: u32,
    /// Requests refused (401, 404, 405, 503).
    pub refused: u32,
}

/// Derives the ConnectionRequestURL: the listen address, or when it is unspecified
/// (0.0.0.0 / ::) the local address used to reach the ACS (found with an unconnected UDP
/// socket: no packet is sent).
pub fn derive_url(listen: &str, path: &str, acs_url: &str) -> String {
    let Ok(addr) = listen.parse::<SocketAddr>() else {
        return String::new();
    };
    let mut ip = addr.ip();
    if ip.is_unspecified() {
        if let Some(u) = crate::acs::Url::parse(acs_url) {
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
    let host = if ip.is_ipv6() {
        format!("[{ip}]")
    } else {
        ip.to_string()
    };
    format!("http://{host}:{}{path}", addr.port())
}

impl Listener {
    /// Binds the listener.
    pub fn bind(s: &Settings) -> Result<Listener, String> {
        let server = tiny_http::Server::http(&s.listen)
            .map_err(|e| format!("connection request: cannot listen on {}: {e}", s.listen))?;
        let verifier = if s.username.is_empty() || s.password.is_empty() {
            log::warn!("connection request: no credentials configured; every request will be refused (401)");
            None
        } else {
            Some(Verifier::new(
                &s.username,
                &s.password,
                "cwmpd",
                NONCE_LIFETIME_MS,
            ))
        };
        Ok(Listener {
            server: Arc::new(server),
            credentials: (s.username.clone(), s.password.clone()),
            path: s.path.clone(),
            verifier,
            epoch: Instant::now(),
            tokens: BURST,
            last_refill_ms: 0,
        })
    }

    /// Changes the credentials the ACS must use (Device.ManagementServer.ConnectionRequest
    /// Username/Password were set); outstanding nonces are dropped.
    pub fn set_credentials(&mut self, username: &str, password: &str) {
        if (username, password) == (self.credentials.0.as_str(), self.credentials.1.as_str()) {
            return;
        }
        self.credentials = (username.to_string(), password.to_string());
        self.verifier = if username.is_empty() || password.is_empty() {
            log::warn!(
                "connection request: credentials cleared; every request will be refused (401)"
            );
            None
        } else {
            log::info!("connection request: credentials changed");
            Some(Verifier::new(
                username,
                password,
                "cwmpd",
                NONCE_LIFETIME_MS,
            ))
        };
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

    fn take_token(&mut self, now: u64) -> bool {
        let earned = (now.saturating_sub(self.last_refill_ms) / REFILL_MS) as u32;
        if earned > 0 {
            self.tokens = (self.tokens + earned).min(BURST);
            self.last_refill_ms = now;
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            true
        } else {
            false
        }
    }

    fn respond(req: tiny_http::Request, status: u16, headers: &[String]) {
        let mut resp = tiny_http::Response::empty(status);
        for h in headers {
            if let Ok(h) = tiny_http::Header::from_bytes(&b"WWW-Authenticate"[..], h.as_bytes()) {
                resp.add_header(h);
            }
        }
        if status == 503 {
            if let Ok(h) = tiny_http::Header::from_bytes(&b"Retry-After"[..], &b"1"[..]) {
                resp.add_header(h);
            }
        }
        if let Err(e) = req.respond(resp) {
            log::debug!("connection request: answering failed: {e}");
        }
    }

    /// Handles one request; true when it was an accepted Connection Request.
    fn handle(&mut self, req: tiny_http::Request) -> bool {
        let now = self.now_ms();
        let path = req.url().split('?').next().unwrap_or("").to_string();
        if path != self.path {
            Self::respond(req, 404, &[]);
            return false;
        }
        if *req.method() != tiny_http::Method::Get {
            Self::respond(req, 405, &[]);
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
            Ok(()) => {
                if self.take_token(now) {
                    Self::respond(req, 200, &[]);
                    log::info!("connection request accepted");
                    true
                } else {
                    log::warn!("connection request rate limit: answered 503");
                    Self::respond(req, 503, &[]);
                    false
                }
            }
            Err(e) => {
                if !matches!(e, AuthError::Missing) {
                    log::warn!(
                        "connection request from {:?} refused: {e}",
                        req.remote_addr()
                    );
                }
                let ch = v.challenges(now, e == AuthError::Stale);
                Self::respond(req, 401, &ch);
                false
            }
        }
    }

    /// Waits up to `timeout` for requests and handles what arrived (at most
    /// [`MAX_PER_POLL`]). Returns early when woken by a [`Waker`].
    pub fn poll(&mut self, timeout: Duration) -> Polled {
        let mut out = Polled::default();
        let first = match self.server.recv_timeout(timeout) {
            Ok(Some(r)) => r,
            Ok(None) => return out,
            Err(e) => {
                log::warn!("connection request: {e}");
                return out;
            }
        };
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(req) = next.take() {
            if self.handle(req) {
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
