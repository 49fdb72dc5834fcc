//! The listener's connections: a bounded set of nonblocking sockets, each with a deadline,
//! serviced by the agent's own loop — no thread per connection, and no thread at all.
//!
//! A connection reads one request head at a time into a buffer of at most
//! [`request::MAX_HEAD_BYTES`], is answered, and only then reads the next (at most
//! [`MAX_REQUESTS`] on one connection): a peer that pipelines requests and never reads the
//! answers fills its own socket buffer, not the agent's memory, and never blocks the loop,
//! because every read and write is nonblocking. A connection that has not sent a whole
//! request, or not taken its answer, within [`DEADLINE_MS`] is closed.
//!
//! It knows nothing of Digest or paths: it yields request heads and writes answers.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};

use super::request::{self, ParseError, Request};

/// Most connections open at once; one more drops the oldest.
pub const MAX_CONNECTIONS: usize = 32;
/// Milliseconds a connection has to send a whole request and take its answer (from its
/// accept, or from its previous answer).
pub const DEADLINE_MS: u64 = 5_000;
/// Most requests answered on one connection; it closes after the last.
pub const MAX_REQUESTS: u32 = 8;
/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 2048;

/// What reading a connection gave.
#[derive(Debug)]
pub(super) enum Input {
    /// A whole request head.
    Request(Request),
    /// A head that can never be valid: answer with its status and close.
    Bad(ParseError),
    /// Nothing complete yet.
    Pending,
    /// The peer closed, or the socket failed: drop the connection.
    Gone,
}

/// What writing an answer gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Output {
    /// Written; the connection waits for the next request.
    Done,
    /// The peer's window is full: wait until it can take more (or the deadline).
    Pending,
    /// Written or failed, and the connection is over: drop it.
    Gone,
}

/// One accepted connection.
pub(super) struct Conn {
    stream: TcpStream,
    /// The peer's address (for the log).
    pub peer: SocketAddr,
    /// Bytes read and not yet parsed (at most [`request::MAX_HEAD_BYTES`]).
    buf: Vec<u8>,
    /// How much of `buf` has been looked at for the end of a head.
    scanned: usize,
    /// The answer being written, and how much of it has gone.
    out: Vec<u8>,
    written: usize,
    /// Close once the answer is written.
    close_after: bool,
    /// Requests answered.
    served: u32,
    /// When the connection is closed unless it has made progress.
    pub deadline_ms: u64,
    /// Its place in the order of accepts (the oldest goes first).
    pub seq: u64,
    /// Bytes left in `buf` after an answer may hold the next request: look without waiting
    /// for the socket.
    pub recheck: bool,
}

impl Conn {
    /// A connection accepted at `now` (made nonblocking).
    pub(super) fn new(
        stream: TcpStream,
        peer: SocketAddr,
        seq: u64,
        now: u64,
    ) -> std::io::Result<Conn> {
        stream.set_nonblocking(true)?;
        Ok(Conn {
            stream,
            peer,
            buf: Vec::new(),
            scanned: 0,
            out: Vec::new(),
            written: 0,
            close_after: false,
            served: 0,
            deadline_ms: now.saturating_add(DEADLINE_MS),
            seq,
            recheck: false,
        })
    }

    /// The socket, for poll(2).
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    /// An answer is waiting to be written (the connection waits for POLLOUT, not POLLIN).
    pub(super) fn writing(&self) -> bool {
        self.written < self.out.len()
    }

    /// Takes the next request head from the buffer, reading what the socket has.
    pub(super) fn read(&mut self) -> Input {
        self.recheck = false;
        if self.writing() {
            return Input::Pending;
        }
        loop {
            if request::may_end_after(&self.buf, self.scanned) {
                self.scanned = self.buf.len();
                match request::parse(&self.buf) {
                    Ok(Some((req, n))) => {
                        self.buf.drain(..n.min(self.buf.len()));
                        self.scanned = 0;
                        return Input::Request(req);
                    }
                    Ok(None) => {}
                    Err(e) => return Input::Bad(e),
                }
            }
            self.scanned = self.buf.len();
            let room = request::MAX_HEAD_BYTES.saturating_sub(self.buf.len());
            if room == 0 {
                return Input::Bad(ParseError::TooLarge);
            }
            let mut chunk = [0u8; READ_CHUNK];
            let want = room.min(READ_CHUNK);
            match self.stream.read(&mut chunk[..want]) {
                Ok(0) => return Input::Gone,
                Ok(n) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Input::Pending,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Input::Gone,
            }
        }
    }

    /// The request being answered is the last this connection gets ([`MAX_REQUESTS`]).
    pub(super) fn last_request(&self) -> bool {
        self.served.saturating_add(1) >= MAX_REQUESTS
    }

    /// Starts writing `answer` at `now`; `close` ends the connection after it (the caller
    /// says so in the answer: see [`Conn::last_request`]).
    pub(super) fn answer(&mut self, answer: Vec<u8>, close: bool, now: u64) -> Output {
        self.served = self.served.saturating_add(1);
        self.close_after = close || self.served >= MAX_REQUESTS;
        self.out = answer;
        self.written = 0;
        self.flush(now)
    }

    /// Writes what the socket takes of the answer.
    pub(super) fn flush(&mut self, now: u64) -> Output {
        while self.writing() {
            let rest = self.out.get(self.written..).unwrap_or_default();
            match self.stream.write(rest) {
                Ok(0) => return Output::Gone,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Output::Pending,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Output::Gone,
            }
        }
        if self.close_after {
            return Output::Gone;
        }
        self.out = Vec::new();
        self.written = 0;
        // The next request gets a deadline of its own.
        self.deadline_ms = now.saturating_add(DEADLINE_MS);
        self.recheck = !self.buf.is_empty();
        Output::Done
    }

    /// Whether the connection's deadline has passed at `now`.
    pub(super) fn expired(&self, now: u64) -> bool {
        now >= self.deadline_ms
    }

    /// Sends a last answer without waiting (a 408 or 431 for a peer being dropped).
    pub(super) fn last_word(&mut self, answer: &[u8]) {
        if !self.writing() {
            let _ = self.stream.write(answer);
        }
    }
}

/// The HTTP reason phrase of the statuses the listener sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// An answer without a body.
pub(super) fn response(status: u16, headers: &[(&str, String)], close: bool) -> Vec<u8> {
    let mut s = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: 0\r\n",
        reason(status)
    );
    for (name, value) in headers {
        // Values are ours (challenges, numbers); a line break would split the answer.
        if !value.contains(['\r', '\n']) {
            s.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if close {
        s.push_str("Connection: close\r\n");
    }
    s.push_str("\r\n");
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_well_formed() {
        let r = response(503, &[("Retry-After", "2".into())], true);
        assert_eq!(
            String::from_utf8(r).unwrap(),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 2\r\n\
             Connection: close\r\n\r\n"
        );
        let r = response(401, &[("X", "a\r\nInjected: 1".into())], false);
        assert!(!String::from_utf8(r).unwrap().contains("Injected"));
    }
}
