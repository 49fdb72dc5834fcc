//! The HTTP(S) client the session engine uses to talk to the ACS. It POSTs bytes and returns
//! status and body; it knows nothing of SOAP.
//!
//! One [`Session`] holds one TCP (or TLS) connection for a whole CWMP session, echoes the
//! ACS's cookies on every request (GenieACS keys its sessions on them), answers a 401 with
//! Digest (SHA-256 or MD5, qop=auth) or Basic on the same connection and keeps authenticating
//! later requests, follows redirects (bounded; they apply to the rest of the session), and
//! puts a timeout on every round trip. Everything read from the network is bounded.

pub mod tls;
pub mod url;

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::auth::digest::{self, Challenge, Scheme};
pub use url::Url;

/// Longest response header section.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Largest response body.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Most redirects followed in one session.
pub const MAX_REDIRECTS: usize = 5;
/// Most cookies kept.
pub const MAX_COOKIES: usize = 32;

/// Client errors.
#[derive(Debug)]
pub enum ClientError {
    /// The URL is not http(s).
    Url(String),
    /// Connecting failed.
    Connect(String),
    /// TLS setup or handshake failed (unknown CA, wrong host name …).
    Tls(String),
    /// Reading or writing failed, or timed out.
    Io(String),
    /// The response was not valid HTTP or exceeded a limit.
    Protocol(String),
    /// The ACS refused the credentials.
    Auth(String),
    /// Too many redirects.
    Redirects,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Url(m) => write!(f, "acs: bad url {m}"),
            ClientError::Connect(m) => write!(f, "acs: connect: {m}"),
            ClientError::Tls(m) => write!(f, "acs: tls: {m}"),
            ClientError::Io(m) => write!(f, "acs: {m}"),
            ClientError::Protocol(m) => write!(f, "acs: bad response: {m}"),
            ClientError::Auth(m) => write!(f, "acs: authentication failed: {m}"),
            ClientError::Redirects => write!(f, "acs: more than {MAX_REDIRECTS} redirects"),
        }
    }
}

impl std::error::Error for ClientError {}

/// Client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// ACS URL.
    pub url: String,
    /// HTTP username.
    pub username: String,
    /// HTTP password.
    pub password: String,
    /// TLS settings.
    pub tls: tls::TlsSettings,
    /// Connect and round-trip timeout.
    pub timeout: Duration,
}

/// A reusable client (TLS configuration built once).
pub struct Client {
    settings: Settings,
    url: Url,
    tls: Option<tls::Config>,
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers (name lower-cased).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(tls::Stream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

struct Conn {
    stream: Stream,
    /// Bytes read past the end of the last response.
    buf: Vec<u8>,
    /// Requests sent on this connection.
    used: u32,
}

impl Client {
    /// The settings this client was built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A client for these settings.
    pub fn new(settings: Settings) -> Result<Client, ClientError> {
        let url =
            Url::parse(&settings.url).ok_or_else(|| ClientError::Url(settings.url.clone()))?;
        let tls = if url.tls {
            Some(tls::client_config(&settings.tls)?)
        } else {
            None
        };
        Ok(Client { settings, url, tls })
    }

    /// Starts a session (no connection is made until the first request).
    pub fn session(&self) -> Session<'_> {
        if self.url.tls && self.settings.tls.insecure {
            log::warn!("acs: TLS certificate verification is disabled (acs.insecure = true)");
        }
        Session {
            client: self,
            url: self.url.clone(),
            conn: None,
            cookies: Vec::new(),
            auth: Auth::None,
            nc: 0,
            redirects: 0,
            connections: 0,
        }
    }
}

enum Auth {
    None,
    Basic,
    Digest(Challenge),
}

/// One CWMP session's HTTP state.
pub struct Session<'a> {
    client: &'a Client,
    url: Url,
    conn: Option<Conn>,
    cookies: Vec<(String, String)>,
    auth: Auth,
    nc: u32,
    redirects: usize,
    /// TCP connections opened so far (the session aims for exactly one).
    pub connections: u32,
}

fn io(e: std::io::Error) -> ClientError {
    ClientError::Io(e.to_string())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    fn fill(&mut self) -> Result<usize, ClientError> {
        let mut tmp = [0u8; 8192];
        let n = self.stream.read(&mut tmp).map_err(io)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    fn read_response(&mut self, head_only: bool) -> Result<(Response, bool), ClientError> {
        let end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                if i > MAX_HEADER_BYTES {
                    return Err(ClientError::Protocol("header section too large".into()));
                }
                break i;
            }
            if self.buf.len() > MAX_HEADER_BYTES {
                return Err(ClientError::Protocol("header section too large".into()));
            }
            if self.fill()? == 0 {
                return Err(ClientError::Io(
                    "connection closed before a response".into(),
                ));
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ClientError::Protocol(format!("status line {status_line:?}")))?;
        if !version.starts_with("HTTP/1.") {
            return Err(ClientError::Protocol(format!(
                "status line {status_line:?}"
            )));
        }
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .take(100)
            .collect();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        let mut keep = version == "HTTP/1.1";
        if let Some(c) = get("connection") {
            keep =
                c.eq_ignore_ascii_case("keep-alive") || (keep && !c.eq_ignore_ascii_case("close"));
        }
        let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
        let body = if no_body {
            Vec::new()
        } else if get("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            self.read_chunked()?
        } else if let Some(len) = get("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| ClientError::Protocol("bad content-length".into()))?;
            if len > MAX_BODY_BYTES {
                return Err(ClientError::Protocol(format!("body of {len} bytes")));
            }
            while self.buf.len() < len {
                if self.fill()? == 0 {
                    return Err(ClientError::Io("connection closed in the body".into()));
                }
            }
            self.buf.drain(..len).collect()
        } else {
            // No length: the body runs to the end of the connection.
            keep = false;
            while self.fill()? > 0 {
                if self.buf.len() > MAX_BODY_BYTES {
                    return Err(ClientError::Protocol("body too large".into()));
                }
            }
            std::mem::take(&mut self.buf)
        };
        Ok((
            Response {
                status,
                headers,
                body,
            },
            keep,
        ))
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, ClientError> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break i;
                }
                if self.buf.len() > 1024 || self.fill()? == 0 {
                    return Err(ClientError::Protocol("bad chunk header".into()));
                }
            };
            let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| ClientError::Protocol("bad chunk size".into()))?;
            self.buf.drain(..line_end + 2);
            if body.len() + size > MAX_BODY_BYTES {
                return Err(ClientError::Protocol("body too large".into()));
            }
            while self.buf.len() < size + 2 {
                if self.fill()? == 0 {
                    return Err(ClientError::Io("connection closed in a chunk".into()));
                }
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
            if size == 0 {
                return Ok(body);
            }
        }
    }
}

impl Session<'_> {
    fn connect(&mut self) -> Result<Conn, ClientError> {
        let timeout = self.client.settings.timeout;
        let addrs: Vec<_> = (self.url.host.as_str(), self.url.port)
            .to_socket_addrs()
            .map_err(|e| ClientError::Connect(format!("{}: {e}", self.url.host)))?
            .collect();
        let mut last = ClientError::Connect(format!("{}: no address", self.url.host));
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(timeout)).map_err(io)?;
                    s.set_write_timeout(Some(timeout)).map_err(io)?;
                    let _ = s.set_nodelay(true);
                    self.connections += 1;
                    let stream = if self.url.tls {
                        let cfg = match &self.client.tls {
                            Some(c) => c.clone(),
                            None => tls::client_config(&self.client.settings.tls)?,
                        };
                        Stream::Tls(tls::connect(cfg, &self.url.host, s)?)
                    } else {
                        Stream::Plain(s)
                    };
                    return Ok(Conn {
                        stream,
                        buf: Vec::new(),
                        used: 0,
                    });
                }
                Err(e) => last = ClientError::Connect(format!("{a}: {e}")),
            }
        }
        Err(last)
    }

    fn authorization(&mut self) -> Option<String> {
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
                    "POST",
                    &self.url.path,
                    self.nc,
                    &digest::random_hex(8),
                ))
            }
        }
    }

    fn request(&mut self, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: cwmpd/{}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n",
            self.url.path,
            self.url.authority(),
            env!("CARGO_PKG_VERSION"),
            body.len()
        );
        if !body.is_empty() {
            r.push_str("Content-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: \"\"\r\n");
        }
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            r.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        if let Some(a) = self.authorization() {
            r.push_str(&format!("Authorization: {a}\r\n"));
        }
        r.push_str("\r\n");
        let mut bytes = r.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }

    fn remember_cookies(&mut self, resp: &Response) {
        for (_, v) in resp.headers.iter().filter(|(k, _)| k == "set-cookie") {
            let pair = v.split(';').next().unwrap_or("");
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            if name.is_empty() {
                continue;
            }
            if let Some(c) = self.cookies.iter_mut().find(|(n, _)| *n == name) {
                c.1 = value;
            } else if self.cookies.len() < MAX_COOKIES {
                self.cookies.push((name, value));
            }
        }
    }

    /// One round trip on the current connection, reconnecting once if a kept-alive
    /// connection turns out to be closed.
    fn round_trip(&mut self, body: &[u8]) -> Result<Response, ClientError> {
        for attempt in 0..2 {
            if self.conn.is_none() {
                self.conn = Some(self.connect()?);
            }
            let req = self.request(body);
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            let reused = conn.used > 0;
            conn.used += 1;
            let result = conn
                .stream
                .write_all(&req)
                .and_then(|_| conn.stream.flush())
                .map_err(io)
                .and_then(|_| conn.read_response(false));
            match result {
                Ok((resp, keep)) => {
                    if !keep {
                        self.conn = None;
                    }
                    return Ok(resp);
                }
                Err(ClientError::Io(m)) if reused && attempt == 0 => {
                    log::debug!("acs: kept-alive connection failed ({m}); reconnecting");
                    self.conn = None;
                }
                Err(e) => {
                    self.conn = None;
                    return Err(e);
                }
            }
        }
        Err(ClientError::Io("connection failed twice".into()))
    }

    /// POSTs a body (empty for the empty POST) and returns the ACS's answer.
    pub fn post(&mut self, body: &[u8]) -> Result<Response, ClientError> {
        let mut auth_tried = false;
        loop {
            let resp = self.round_trip(body)?;
            self.remember_cookies(&resp);
            match resp.status {
                401 => {
                    let schemes: Vec<Scheme> = resp
                        .headers
                        .iter()
                        .filter(|(k, _)| k == "www-authenticate")
                        .flat_map(|(_, v)| digest::parse_challenges(v))
                        .collect();
                    let stale = schemes
                        .iter()
                        .any(|s| matches!(s, Scheme::Digest(c) if c.stale));
                    if auth_tried && !stale {
                        return Err(ClientError::Auth(format!(
                            "{} refused the credentials",
                            self.url
                        )));
                    }
                    auth_tried = true;
                    let pick = schemes
                        .iter()
                        .find_map(|s| match s {
                            Scheme::Digest(c) if c.algorithm == digest::Algorithm::Sha256 => {
                                Some(Auth::Digest(c.clone()))
                            }
                            _ => None,
                        })
                        .or_else(|| {
                            schemes.iter().find_map(|s| {
                                if let Scheme::Digest(c) = s {
                                    Some(Auth::Digest(c.clone()))
                                } else {
                                    None
                                }
                            })
                        })
                        .or_else(|| {
                            schemes
                                .iter()
                                .any(|s| matches!(s, Scheme::Basic { .. }))
                                .then_some(Auth::Basic)
                        });
                    match pick {
                        Some(a) => {
                            self.auth = a;
                            self.nc = 0;
                        }
                        None => {
                            return Err(ClientError::Auth(
                                "no supported authentication scheme offered".into(),
                            ))
                        }
                    }
                }
                301 | 302 | 303 | 307 | 308 => {
                    self.redirects += 1;
                    if self.redirects > MAX_REDIRECTS {
                        return Err(ClientError::Redirects);
                    }
                    let loc = resp
                        .header("location")
                        .ok_or_else(|| ClientError::Protocol("redirect without Location".into()))?;
                    let next = self
                        .url
                        .join(loc)
                        .ok_or_else(|| ClientError::Url(loc.to_string()))?;
                    if next.authority() != self.url.authority() || next.tls != self.url.tls {
                        self.conn = None;
                    }
                    log::info!("acs: redirected to {next}");
                    self.url = next;
                }
                _ => return Ok(resp),
            }
        }
    }

    /// The URL the session talks to now (after redirects).
    pub fn url(&self) -> &Url {
        &self.url
    }
}

#[cfg(test)]
mod tests;
