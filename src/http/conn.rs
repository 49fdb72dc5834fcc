//! One TCP (or TLS) connection to a server: resolved, connected and handshaken within its
//! [`Budget`], requests written and responses read through the sans-IO [`wire::Parser`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use super::error::{Error, FetchError};
use super::resolve::{Family, ResolveError, Resolver};
use super::sock::{Budget, Sock, MIN_WAIT};
use super::tls;
use super::url::Url;
use super::wire::{self, Event, Head, Parser};

/// Bytes read from the socket at a time.
const READ_SIZE: usize = 16 * 1024;

enum Stream {
    Plain(Sock),
    Tls(tls::Stream),
}

impl Stream {
    fn sock(&mut self) -> &mut Sock {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => tls::socket(s),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A request body.
pub enum Payload<'a> {
    /// Bytes in memory (SOAP).
    Bytes(&'a [u8]),
    /// A whole file (an upload), sent from its start on every attempt.
    File(&'a mut std::fs::File, u64),
}

impl Payload<'_> {
    /// Content-Length.
    pub fn len(&self) -> u64 {
        match self {
            Payload::Bytes(b) => b.len() as u64,
            Payload::File(_, n) => *n,
        }
    }
}

/// An open connection and the bytes read past the last response.
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pos: usize,
    /// Requests sent on this connection.
    pub used: u32,
}

impl Conn {
    /// Resolves, connects and (for https) completes the TLS handshake within `budget`.
    pub fn open(
        url: &Url,
        resolver: &Resolver,
        tls: Option<&tls::Config>,
        budget: Budget,
    ) -> Result<Conn, Error> {
        let left = budget.left(Instant::now()).map_err(Error::Timeout)?;
        let ips = resolver
            .resolve(&url.host, Family::Any, left)
            .map_err(Error::Resolve)?;
        let mut last = None;
        for ip in ips {
            let addr = SocketAddr::new(ip, url.port);
            let (wait, cause) = budget.wait(Instant::now()).map_err(Error::Timeout)?;
            let tcp = match TcpStream::connect_timeout(&addr, wait.max(MIN_WAIT)) {
                Ok(tcp) => tcp,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    last = Some(Error::Timeout(cause));
                    continue;
                }
                Err(e) => {
                    last = Some(Error::Connect(addr, e));
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let sock = Sock::new(tcp, budget);
            let stream = match (url.tls, tls) {
                (false, _) => Stream::Plain(sock),
                (true, None) => return Err(Error::Tls(tls::TlsError::NotBuilt)),
                (true, Some(cfg)) => {
                    let mut s = tls::start(cfg.clone(), &url.host, sock).map_err(Error::Tls)?;
                    if let Err(e) = tls::handshake(&mut s) {
                        return Err(match tls::socket(&mut s).take_expired() {
                            Some(t) => Error::Timeout(t),
                            None => Error::Tls(tls::TlsError::Handshake(e.to_string())),
                        });
                    }
                    Stream::Tls(s)
                }
            };
            return Ok(Conn {
                stream,
                buf: Vec::new(),
                pos: 0,
                used: 0,
            });
        }
        Err(last.unwrap_or_else(|| {
            Error::Resolve(ResolveError::NoAddress {
                host: url.host.clone(),
                family: Family::Any,
            })
        }))
    }

    /// Puts a new budget on everything done from now on.
    pub fn set_budget(&mut self, budget: Budget) {
        self.stream.sock().set_budget(budget);
    }

    /// Bytes received on this connection so far.
    pub fn received(&mut self) -> u64 {
        self.stream.sock().received()
    }

    fn io(&mut self, e: io::Error) -> Error {
        match self.stream.sock().take_expired() {
            Some(t) => Error::Timeout(t),
            None => Error::Io(e),
        }
    }

    /// Writes the request head and body.
    pub fn send(&mut self, head: &[u8], payload: &mut Payload) -> Result<(), Error> {
        use std::io::{Seek, SeekFrom};
        let r = match payload {
            // Head and body written apart: no copy of a large SOAP body just to send it.
            Payload::Bytes(b) => self
                .stream
                .write_all(head)
                .and_then(|_| self.stream.write_all(b)),
            Payload::File(f, len) => {
                let copied = self
                    .stream
                    .write_all(head)
                    .and_then(|_| f.seek(SeekFrom::Start(0)))
                    .and_then(|_| io::copy(&mut f.take(*len), &mut self.stream));
                match copied {
                    Ok(n) if n != *len => {
                        return Err(Error::FileShrank {
                            sent: n,
                            announced: *len,
                        })
                    }
                    r => r.map(|_| ()),
                }
            }
        };
        r.and_then(|_| self.stream.flush()).map_err(|e| self.io(e))
    }

    fn fill(&mut self) -> Result<usize, Error> {
        if self.pos > 0 {
            self.buf.drain(..self.pos.min(self.buf.len()));
            self.pos = 0;
        }
        let mut tmp = [0u8; READ_SIZE];
        let n = loop {
            match self.stream.read(&mut tmp) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io(e)),
            }
        };
        self.buf.extend_from_slice(tmp.get(..n).unwrap_or_default());
        Ok(n)
    }

    /// Reads until the parser yields the final response's head.
    pub fn head(&mut self, p: &mut Parser) -> Result<Head, Error> {
        loop {
            let input = self.buf.get(self.pos..).unwrap_or_default();
            let (used, ev) = p.advance(input)?;
            self.pos += used;
            match ev {
                Event::Head(h) => return Ok(h),
                Event::NeedMore => {
                    if self.fill()? == 0 {
                        p.finish()?;
                    }
                }
                // A parser yields its head before any body, and nothing before its head.
                Event::Body(_) | Event::Done => {
                    return Err(wire::Error::Closed(wire::Part::Head).into())
                }
            }
        }
    }

    /// Reads the body to its end, handing each piece to `out`.
    pub fn body<E>(
        &mut self,
        p: &mut Parser,
        out: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), FetchError<E>> {
        loop {
            let input = self.buf.get(self.pos..).unwrap_or_default();
            let (used, ev) = p.advance(input).map_err(Error::from)?;
            match ev {
                Event::Body(b) => {
                    out(b).map_err(FetchError::Sink)?;
                    self.pos += used;
                }
                Event::Done => {
                    self.pos += used;
                    return Ok(());
                }
                Event::NeedMore => {
                    self.pos += used;
                    if self.fill()? == 0 {
                        p.finish().map_err(Error::from)?;
                    }
                }
                // Only one head comes, before any body.
                Event::Head(_) => self.pos += used,
            }
        }
    }
}
