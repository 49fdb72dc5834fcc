//! The HTTP(S) client of the ACS session and of file transfers. It sends bytes and returns
//! status and body; it knows nothing of SOAP.
//!
//! One [`Session`] holds one TCP (or TLS) connection for a whole CWMP session, echoes the
//! server's cookies (GenieACS keys its sessions on them), answers a 401 with Digest
//! (SHA-256 or MD5, qop=auth) or Basic on the same connection and keeps authenticating later
//! requests, and follows redirects (bounded; they apply to the rest of the session; the
//! method is kept, as TR-069 §3.4.5 needs for a POST).
//!
//! Against a hostile or broken server (issue 13):
//! - every round trip has a deadline ([`Settings::timeout`]) and the whole session another
//!   ([`Settings::session_timeout`]); a streamed transfer is bounded by the session's and by
//!   [`Settings::timeout`] without progress;
//! - a stale nonce is answered once per request, and a session gives up after
//!   [`MAX_UNAUTHORIZED`] 401s;
//! - credentials and cookies never go to another origin than the one they are for, https
//!   never redirects to plain http, and Basic is answered over plain http only when
//!   [`Settings::allow_basic_over_http`] says so;
//! - names are resolved off the caller's thread within the deadline (`resolve`).
//!
//! [`Session::get_to`] streams a body into a [`Sink`] without holding it;
//! [`Session::put_file`] sends a file as the body.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use super::conn::{Conn, Payload};
use super::digest::{self, Challenge, Scheme};
use super::error::{AuthFailure, Error, FetchError};
use super::resolve::Resolver;
use super::sock::{Budget, Timeout};
use super::tls;
use super::url::Url;
use super::wire::{Framing, Head, Parser};

mod settings;
pub use settings::{Settings, DEFAULT_SESSION_TIMEOUT, DEFAULT_TIMEOUT};

/// Largest response body kept in memory (SOAP, error pages).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Most redirects followed in one session.
pub const MAX_REDIRECTS: usize = 5;
/// Most cookies kept.
pub const MAX_COOKIES: usize = 32;
/// Most 401 answers in one session: the first challenge and a few nonce renewals. An ACS
/// that answers everything with `401 stale=true` got 349,937 requests in 10 s before.
pub const MAX_UNAUTHORIZED: usize = 8;
/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers (name lower-cased).
    pub headers: Vec<(String, String)>,
    /// Body (empty when it went to a [`Sink`]).
    pub body: Vec<u8>,
}

impl Response {
    fn from_head(h: Head) -> Response {
        Response {
            status: h.status,
            headers: h.headers,
            body: Vec::new(),
        }
    }

    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Where a streamed response body goes ([`Session::get_to`]).
pub trait Sink {
    /// Why the sink refuses a body.
    type Error;
    /// Called with the status and headers of a 2xx answer before any body byte; an error
    /// stops the transfer (e.g. a Content-Length larger than the free space).
    fn head(&mut self, _resp: &Response) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Stores the next piece of the body.
    fn write(&mut self, data: &[u8]) -> Result<(), Self::Error>;
}

/// A reusable client (TLS configuration built once).
pub struct Client {
    settings: Settings,
    url: Url,
    tls: Option<tls::Config>,
    resolver: Resolver,
}

impl Client {
    /// A client for these settings, resolving names with the system's resolver.
    pub fn new(settings: Settings) -> Result<Client, Error> {
        Client::with_resolver(settings, Resolver::default())
    }

    /// A client resolving names with `resolver`.
    pub fn with_resolver(settings: Settings, resolver: Resolver) -> Result<Client, Error> {
        let url = Url::parse(&settings.url).map_err(Error::Url)?;
        let tls = if url.tls {
            Some(tls::client_config(&settings.tls).map_err(Error::Tls)?)
        } else {
            None
        };
        Ok(Client {
            settings,
            url,
            tls,
            resolver,
        })
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Starts a session (no connection is made until the first request); its
    /// [`Settings::session_timeout`] runs from now.
    pub fn session(&self) -> Session<'_> {
        if self.url.tls && self.settings.tls.insecure {
            log::warn!("http: TLS certificate verification is disabled (acs.insecure = true)");
        }
        Session {
            client: self,
            url: self.url.clone(),
            conn: None,
            cookies: Jar {
                origin: self.url.clone(),
                list: Vec::new(),
            },
            auth: Auth::None,
            nc: 0,
            redirects: 0,
            unauthorized: 0,
            until: after(Instant::now(), self.settings.session_timeout),
            connections: 0,
            resend: true,
        }
    }
}

enum Auth {
    None,
    Basic,
    Digest(Challenge),
}

/// The cookies of one origin (RFC 6265 §5.4 sends a cookie only to where it came from).
struct Jar {
    origin: Url,
    list: Vec<(String, String)>,
}

/// One CWMP session's (or one transfer's) HTTP state.
pub struct Session<'a> {
    client: &'a Client,
    url: Url,
    conn: Option<Conn>,
    cookies: Jar,
    auth: Auth,
    nc: u32,
    redirects: usize,
    unauthorized: usize,
    until: Instant,
    /// TCP connections opened so far (the session aims for exactly one).
    pub connections: u32,
    /// Whether a request whose kept-alive connection failed before any byte of the answer
    /// is sent again on a new one.
    resend: bool,
}

/// How a request's body and answer travel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// In memory, within one round trip's deadline.
    Whole,
    /// Streamed (a file transfer): bounded by the session's deadline, and by
    /// [`Settings::timeout`] without progress.
    Streamed,
}

impl Session<'_> {
    /// A session whose requests are never sent twice: when the kept-alive connection fails
    /// under a request, the request fails. A CWMP session is one TCP connection: the ACS may
    /// have taken a request it did not answer (a TransferComplete, an RPC response), and a
    /// second copy on a new connection would be delivered twice outside the session the ACS
    /// bound to the first (issue 12 §5). The session ends as failed and the back-off runs.
    pub fn without_resending(mut self) -> Self {
        self.resend = false;
        self
    }

    fn settings(&self) -> &Settings {
        &self.client.settings
    }

    /// The budget of the next round trip.
    fn budget(&self, mode: Mode) -> Result<Budget, Error> {
        let s = self.settings();
        let now = Instant::now();
        let session = Budget {
            until: self.until,
            cause: Timeout::Session(s.session_timeout),
            idle: None,
        };
        session.left(now).map_err(Error::Timeout)?;
        Ok(match mode {
            Mode::Streamed => Budget {
                idle: Some(s.timeout),
                ..session
            },
            Mode::Whole if after(now, s.timeout) < self.until => Budget {
                until: after(now, s.timeout),
                cause: Timeout::RoundTrip(s.timeout),
                idle: None,
            },
            Mode::Whole => session,
        })
    }

    /// The credentials' origin is the configured URL's: they go nowhere else.
    fn at_home(&self) -> bool {
        self.url.same_origin(&self.client.url)
    }

    fn authorization(&mut self, method: &str) -> Option<String> {
        if !self.at_home() {
            return None;
        }
        let s = &self.client.settings;
        match &self.auth {
            Auth::None => None,
            Auth::Basic => Some(digest::basic(&s.username, &s.password)),
            Auth::Digest(ch) => {
                self.nc += 1;
                Some(digest::authorization(
                    ch,
                    &s.username,
                    &s.password,
                    method,
                    &self.url.path,
                    self.nc,
                    &digest::random_hex(8),
                ))
            }
        }
    }

    fn request_head(&mut self, method: &str, payload: &Payload) -> Vec<u8> {
        let mut r = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: cwmpd/{}\r\nConnection: keep-alive\r\n",
            self.url.path,
            self.url.authority(),
            env!("CARGO_PKG_VERSION"),
        );
        if method != "GET" {
            r.push_str(&format!("Content-Length: {}\r\n", payload.len()));
        }
        match payload {
            Payload::Bytes(b) if !b.is_empty() => {
                r.push_str("Content-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: \"\"\r\n")
            }
            Payload::File(..) => r.push_str("Content-Type: application/octet-stream\r\n"),
            Payload::Bytes(_) => {}
        }
        if !self.cookies.list.is_empty() && self.cookies.origin.same_origin(&self.url) {
            let c: Vec<String> = self
                .cookies
                .list
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            r.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        if let Some(a) = self.authorization(method) {
            r.push_str(&format!("Authorization: {a}\r\n"));
        }
        r.push_str("\r\n");
        r.into_bytes()
    }

    fn remember_cookies(&mut self, resp: &Response) {
        if !self.cookies.origin.same_origin(&self.url) {
            self.cookies = Jar {
                origin: self.url.clone(),
                list: Vec::new(),
            };
        }
        for v in resp.all("set-cookie") {
            let pair = v.split(';').next().unwrap_or("");
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            if name.is_empty() {
                continue;
            }
            let list = &mut self.cookies.list;
            if let Some(c) = list.iter_mut().find(|(n, _)| *n == name) {
                c.1 = value;
            } else if list.len() < MAX_COOKIES {
                list.push((name, value));
            }
        }
    }

    /// Reads one response on the open connection; a 2xx body goes to `sink` when one is
    /// given, any other body is kept in memory (bounded).
    fn read_response<E>(
        conn: &mut Conn,
        head_only: bool,
        sink: Option<&mut dyn Sink<Error = E>>,
    ) -> Result<(Response, bool), FetchError<E>> {
        let mut parser = Parser::new(head_only);
        let mut resp = Response::from_head(conn.head(&mut parser)?);
        match sink {
            Some(sink) if (200..300).contains(&resp.status) => {
                sink.head(&resp).map_err(FetchError::Sink)?;
                conn.body(&mut parser, &mut |b: &[u8]| sink.write(b))?;
            }
            _ => {
                if let Some(Framing::Length(len)) = parser.framing() {
                    if len > MAX_BODY_BYTES as u64 {
                        return Err(Error::BodyTooLarge {
                            limit: MAX_BODY_BYTES,
                        }
                        .into());
                    }
                }
                let mut body = Vec::new();
                let kept = conn.body(&mut parser, &mut |b: &[u8]| {
                    if body.len() + b.len() > MAX_BODY_BYTES {
                        return Err(Error::BodyTooLarge {
                            limit: MAX_BODY_BYTES,
                        });
                    }
                    body.extend_from_slice(b);
                    Ok(())
                });
                match kept {
                    Ok(()) => {}
                    Err(FetchError::Http(e) | FetchError::Sink(e)) => return Err(e.into()),
                }
                resp.body = body;
            }
        }
        Ok((resp, parser.keep_alive()))
    }

    /// One round trip on the current connection, reconnecting once if a kept-alive
    /// connection turns out to be closed before any byte of the answer.
    fn round_trip<E>(
        &mut self,
        method: &str,
        payload: &mut Payload,
        mode: Mode,
        mut sink: Option<&mut dyn Sink<Error = E>>,
    ) -> Result<Response, FetchError<E>> {
        let budget = self.budget(mode)?;
        for attempt in 0..2 {
            let mut conn = match self.conn.take() {
                Some(mut c) => {
                    c.set_budget(budget);
                    c
                }
                None => {
                    let c = Conn::open(
                        &self.url,
                        &self.client.resolver,
                        self.client.tls.as_ref(),
                        budget,
                    )?;
                    self.connections += 1;
                    c
                }
            };
            let head = self.request_head(method, payload);
            let reused = conn.used > 0;
            conn.used += 1;
            let before = conn.received();
            let sent = conn.send(&head, payload);
            let result = match sent {
                Ok(()) => Session::read_response(
                    &mut conn,
                    method == "HEAD",
                    sink.as_mut().map(|s| &mut **s as &mut dyn Sink<Error = E>),
                ),
                Err(e) => Err(e.into()),
            };
            match result {
                Ok((resp, keep)) => {
                    if keep {
                        self.conn = Some(conn);
                    }
                    return Ok(resp);
                }
                Err(FetchError::Http(e))
                    if self.resend
                        && reused
                        && attempt == 0
                        && conn.received() == before
                        && !matches!(e, Error::Timeout(_)) =>
                {
                    // The server closed an idle kept-alive connection: nothing of the
                    // answer came, so the request is sent again on a new one.
                    log::debug!("http: kept-alive connection failed ({e}); reconnecting");
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Io(std::io::Error::other("connection failed twice")).into())
    }

    /// POSTs a body (empty for the empty POST) and returns the server's answer.
    pub fn post(&mut self, body: &[u8]) -> Result<Response, Error> {
        self.exchange::<Infallible>("POST", &mut Payload::Bytes(body), Mode::Whole, None)
            .map_err(never)
    }

    /// GETs the URL; a 2xx body streams into `sink` (the returned response has none), any
    /// other answer comes back with its (bounded) body.
    pub fn get_to<S: Sink>(&mut self, sink: &mut S) -> Result<Response, FetchError<S::Error>> {
        self.exchange(
            "GET",
            &mut Payload::Bytes(&[]),
            Mode::Streamed,
            Some(sink as &mut dyn Sink<Error = S::Error>),
        )
    }

    /// PUTs a whole file (sent again from its start if authentication asks for a retry).
    pub fn put_file(&mut self, file: &mut std::fs::File) -> Result<Response, Error> {
        let len = file.metadata().map_err(Error::Io)?.len();
        self.exchange::<Infallible>("PUT", &mut Payload::File(file, len), Mode::Streamed, None)
            .map_err(never)
    }

    /// One request with authentication and redirects handled.
    fn exchange<E>(
        &mut self,
        method: &str,
        payload: &mut Payload,
        mode: Mode,
        mut sink: Option<&mut dyn Sink<Error = E>>,
    ) -> Result<Response, FetchError<E>> {
        let mut challenged = 0;
        loop {
            let resp = self.round_trip(
                method,
                payload,
                mode,
                sink.as_mut().map(|s| &mut **s as &mut dyn Sink<Error = E>),
            )?;
            self.remember_cookies(&resp);
            match resp.status {
                401 => {
                    self.unauthorized(&resp, challenged)?;
                    challenged += 1;
                }
                301 | 302 | 303 | 307 | 308 => self.redirect(&resp)?,
                _ => return Ok(resp),
            }
        }
    }

    /// Takes up a 401's challenge for the next attempt, or says why not.
    fn unauthorized(&mut self, resp: &Response, challenged: usize) -> Result<(), Error> {
        self.unauthorized += 1;
        if self.unauthorized > MAX_UNAUTHORIZED {
            return Err(Error::Auth(AuthFailure::TooMany {
                limit: MAX_UNAUTHORIZED,
            }));
        }
        if !self.at_home() {
            return Err(Error::Auth(AuthFailure::OtherOrigin(self.url.to_string())));
        }
        let schemes: Vec<Scheme> = resp
            .all("www-authenticate")
            .flat_map(digest::parse_challenges)
            .collect();
        let stale = schemes
            .iter()
            .any(|s| matches!(s, Scheme::Digest(c) if c.stale));
        // RFC 7616 §3.3: stale=true means the credentials were right and only the nonce
        // expired: worth one more try with the new nonce, once per request.
        let retry = match challenged {
            0 => true,
            1 => stale,
            _ => false,
        };
        if !retry {
            return Err(Error::Auth(AuthFailure::Refused(self.url.to_string())));
        }
        let digest_with = |want: Option<digest::Algorithm>| {
            schemes.iter().find_map(|s| match s {
                Scheme::Digest(c) if want.is_none_or(|a| c.algorithm == a) => {
                    Some(Auth::Digest(c.clone()))
                }
                _ => None,
            })
        };
        let basic = schemes.iter().any(|s| matches!(s, Scheme::Basic { .. }));
        let pick = digest_with(Some(digest::Algorithm::Sha256))
            .or_else(|| digest_with(None))
            .or_else(|| basic.then_some(Auth::Basic));
        match pick {
            Some(Auth::Basic) if !self.url.tls && !self.settings().allow_basic_over_http => {
                Err(Error::Auth(AuthFailure::BasicOverHttp))
            }
            Some(a) => {
                self.auth = a;
                self.nc = 0;
                Ok(())
            }
            None => Err(Error::Auth(AuthFailure::NoScheme)),
        }
    }

    /// Follows a redirect for the rest of the session.
    fn redirect(&mut self, resp: &Response) -> Result<(), Error> {
        self.redirects += 1;
        if self.redirects > MAX_REDIRECTS {
            return Err(Error::Redirects {
                limit: MAX_REDIRECTS,
            });
        }
        let loc = resp.header("location").ok_or(Error::NoLocation)?;
        let next = self.url.join(loc).map_err(Error::Url)?;
        if self.url.tls && !next.tls {
            return Err(Error::InsecureRedirect(next));
        }
        if !next.same_origin(&self.url) {
            self.conn = None;
        }
        if !next.same_origin(&self.client.url) {
            // Credentials are for the configured server alone.
            self.auth = Auth::None;
        }
        log::info!("http: redirected to {next}");
        self.url = next;
        Ok(())
    }

    /// The URL the session talks to now (after redirects).
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// `now + d`, or a year from now if that is past what an Instant holds (the bounds come
/// from the configuration file).
fn after(now: Instant, d: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    now.checked_add(d)
        .or_else(|| now.checked_add(YEAR))
        .unwrap_or(now)
}

fn never(e: FetchError<Infallible>) -> Error {
    match e {
        FetchError::Http(e) => e,
        FetchError::Sink(n) => match n {},
    }
}

#[cfg(test)]
mod tests;
