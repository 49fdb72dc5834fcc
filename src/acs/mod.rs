//! The HTTP(S) client the session engine uses to talk to the ACS. It POSTs bytes and returns
//! status and body; it knows nothing of SOAP.
//!
//! One [`Session`] holds one TCP (or TLS) connection for a whole CWMP session, echoes the
//! ACS's cookies on every request (GenieACS keys its sessions on them), answers a 401 with
//! Digest (SHA-256 or MD5, qop=auth) or Basic on the same connection and keeps authenticating
//! later requests, follows redirects (bounded; they apply to the rest of the session), and
//! puts a timeout on every round trip. Everything read from the network is bounded.
//!
//! The same client serves file transfers (`transfer/`): [`Session::get_to`] streams a body
//! into a [`Sink`] without holding it, [`Session::put_file`] sends a file as the body.

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
    /// The sink refused the body (disk full, larger than announced …).
    Sink(String),
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
            ClientError::Sink(m) => write!(f, "acs: storing the body: {m}"),
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

/// Where a streamed response body goes ([`Session::get_to`]).
pub trait Sink {
    /// Called with the status and headers of a 2xx answer before any body byte; an error
    /// stops the transfer (e.g. a Content-Length larger than the free space).
    fn head(&mut self, _resp: &Response) -> Result<(), String> {
        Ok(())
    }
    /// Stores the next piece of the body.
    fn write(&mut self, data: &[u8]) -> Result<(), String>;
}

/// A request body.
enum Payload<'a> {
    /// Bytes in memory (SOAP).
    Bytes(&'a [u8]),
    /// A whole file (an upload), sent from its start on every attempt.
    File(&'a mut std::fs::File, u64),
}

impl Payload<'_> {
    fn len(&self) -> u64 {
        match self {
            Payload::Bytes(b) => b.len() as u64,
            Payload::File(_, n) => *n,
        }
    }
}

/// How a response body is delimited.
enum Framing {
    Empty,
    Chunked,
    Length(u64),
    ToClose,
}

/// The in-memory sink for ordinary (SOAP, error) bodies, bounded by [`MAX_BODY_BYTES`].
struct Memory(Vec<u8>);

impl Sink for Memory {
    fn write(&mut self, data: &[u8]) -> Result<(), String> {
        if self.0.len() + data.len() > MAX_BODY_BYTES {
            return Err(format!("body over {MAX_BODY_BYTES} bytes"));
        }
        self.0.extend_from_slice(data);
        Ok(())
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

/// A shorter-lived borrow of an optional sink (one per attempt).
fn reborrow<'a>(sink: &'a mut Option<&mut dyn Sink>) -> Option<&'a mut dyn Sink> {
    match sink {
        Some(s) => Some(&mut **s),
        None => None,
    }
}

/// Writes the request head and body.
fn send(stream: &mut Stream, head: &[u8], payload: &mut Payload) -> Result<(), ClientError> {
    use std::io::{Seek, SeekFrom};
    match payload {
        Payload::Bytes(b) => {
            // Head and body written apart: no copy of a large SOAP body just to send it.
            stream.write_all(head).map_err(io)?;
            stream.write_all(b).map_err(io)?;
        }
        Payload::File(f, len) => {
            stream.write_all(head).map_err(io)?;
            f.seek(SeekFrom::Start(0)).map_err(io)?;
            let copied = std::io::copy(&mut f.take(*len), stream).map_err(io)?;
            if copied != *len {
                return Err(ClientError::Io(format!(
                    "the file shrank to {copied} bytes while being sent"
                )));
            }
        }
    }
    stream.flush().map_err(io)
}

impl Conn {
    fn fill(&mut self) -> Result<usize, ClientError> {
        let mut tmp = [0u8; 8192];
        let n = self.stream.read(&mut tmp).map_err(io)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// Reads a status line and headers; says how the body is framed and whether the
    /// connection stays open.
    fn read_head(&mut self, head_only: bool) -> Result<(Response, Framing, bool), ClientError> {
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
        let resp = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let mut keep = version == "HTTP/1.1";
        if let Some(c) = resp.header("connection") {
            keep =
                c.eq_ignore_ascii_case("keep-alive") || (keep && !c.eq_ignore_ascii_case("close"));
        }
        let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
        let framing = if no_body {
            Framing::Empty
        } else if resp
            .header("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            Framing::Chunked
        } else if let Some(len) = resp.header("content-length") {
            Framing::Length(
                len.parse()
                    .map_err(|_| ClientError::Protocol("bad content-length".into()))?,
            )
        } else {
            // No length: the body runs to the end of the connection.
            keep = false;
            Framing::ToClose
        };
        Ok((resp, framing, keep))
    }

    /// Moves up to `max` buffered bytes (reading more if none are buffered) into the sink.
    /// Returns how many were moved (0 at the end of the connection).
    fn pump(&mut self, max: u64, sink: &mut dyn Sink) -> Result<usize, ClientError> {
        if self.buf.is_empty() && self.fill()? == 0 {
            return Ok(0);
        }
        let n = self
            .buf
            .len()
            .min(usize::try_from(max).unwrap_or(usize::MAX));
        sink.write(&self.buf[..n]).map_err(ClientError::Sink)?;
        self.buf.drain(..n);
        Ok(n)
    }

    /// Streams a body into the sink, holding at most one read buffer.
    fn read_body(&mut self, framing: Framing, sink: &mut dyn Sink) -> Result<u64, ClientError> {
        let mut total = 0u64;
        match framing {
            Framing::Empty => {}
            Framing::Length(len) => {
                while total < len {
                    match self.pump(len - total, sink)? {
                        0 => return Err(ClientError::Io("connection closed in the body".into())),
                        n => total += n as u64,
                    }
                }
            }
            Framing::ToClose => loop {
                match self.pump(u64::MAX, sink)? {
                    0 => break,
                    n => total += n as u64,
                }
            },
            Framing::Chunked => loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf, b"\r\n") {
                        break i;
                    }
                    if self.buf.len() > 1024 || self.fill()? == 0 {
                        return Err(ClientError::Protocol("bad chunk header".into()));
                    }
                };
                let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
                let size =
                    u64::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| ClientError::Protocol("bad chunk size".into()))?;
                self.buf.drain(..line_end + 2);
                let mut left = size;
                while left > 0 {
                    match self.pump(left, sink)? {
                        0 => return Err(ClientError::Io("connection closed in a chunk".into())),
                        n => left -= n as u64,
                    }
                }
                total += size;
                while self.buf.len() < 2 {
                    if self.fill()? == 0 {
                        return Err(ClientError::Io("connection closed in a chunk".into()));
                    }
                }
                self.buf.drain(..2);
                if size == 0 {
                    break;
                }
            },
        }
        Ok(total)
    }

    /// Reads one whole response; a 2xx body goes to `sink` when one is given, any other body
    /// is kept in memory (bounded).
    fn read_response(
        &mut self,
        head_only: bool,
        sink: Option<&mut dyn Sink>,
    ) -> Result<(Response, bool), ClientError> {
        let (mut resp, framing, keep) = self.read_head(head_only)?;
        match sink {
            Some(sink) if (200..300).contains(&resp.status) => {
                sink.head(&resp).map_err(ClientError::Sink)?;
                self.read_body(framing, sink)?;
            }
            _ => {
                if let Framing::Length(len) = framing {
                    if len > MAX_BODY_BYTES as u64 {
                        return Err(ClientError::Protocol(format!("body of {len} bytes")));
                    }
                }
                let mut mem = Memory(Vec::new());
                self.read_body(framing, &mut mem).map_err(|e| match e {
                    ClientError::Sink(m) => ClientError::Protocol(m),
                    e => e,
                })?;
                resp.body = mem.0;
            }
        }
        Ok((resp, keep))
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

    fn authorization(&mut self, method: &str) -> Option<String> {
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
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
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
    fn round_trip(
        &mut self,
        method: &str,
        payload: &mut Payload,
        mut sink: Option<&mut dyn Sink>,
    ) -> Result<Response, ClientError> {
        for attempt in 0..2 {
            if self.conn.is_none() {
                self.conn = Some(self.connect()?);
            }
            let head = self.request_head(method, payload);
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            let reused = conn.used > 0;
            conn.used += 1;
            let result = send(&mut conn.stream, &head, payload)
                .and_then(|_| conn.read_response(method == "HEAD", reborrow(&mut sink)));
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
        self.exchange("POST", &mut Payload::Bytes(body), None)
    }

    /// GETs the URL; a 2xx body streams into `sink` (the returned response has none), any
    /// other answer comes back with its (bounded) body.
    pub fn get_to(&mut self, sink: &mut dyn Sink) -> Result<Response, ClientError> {
        self.exchange("GET", &mut Payload::Bytes(&[]), Some(sink))
    }

    /// PUTs a whole file (sent again from its start if authentication asks for a retry).
    pub fn put_file(&mut self, file: &mut std::fs::File) -> Result<Response, ClientError> {
        let len = file.metadata().map_err(io)?.len();
        self.exchange("PUT", &mut Payload::File(file, len), None)
    }

    /// One request with authentication and redirects handled.
    fn exchange(
        &mut self,
        method: &str,
        payload: &mut Payload,
        mut sink: Option<&mut dyn Sink>,
    ) -> Result<Response, ClientError> {
        let mut auth_tried = false;
        loop {
            let resp = self.round_trip(method, payload, reborrow(&mut sink))?;
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
