//! HTTP/1.x responses from bytes, without I/O and without a clock: the status line and
//! headers (bounded), the framing decision of RFC 9112 §6.3, the chunked decoder (extensions
//! and trailers, §7.1), and interim `1xx` answers skipped before the real one (RFC 9110
//! §15.2). The ACS client and file transfers (`http::client`) and the TR-143 diagnostics
//! (`diag::http`) read every response through a [`Parser`]; what they do with the bytes
//! (sockets, deadlines, counting) is theirs.
//!
//! The caller keeps a buffer: it offers the unconsumed bytes to [`Parser::advance`], drops
//! the `used` ones, and reads more from the peer only on [`Event::NeedMore`]. When the peer
//! closes, [`Parser::finish`] says whether that ended the message (a body delimited by the
//! close) or cut it off.
//!
//! ```text
//!               1xx (skipped, at most MAX_INTERIM)
//!              ┌──────┐
//!              v      │
//!         ExpectHead ─┘
//!              │ head                       HEAD request, 204, 304
//!              ├──────────────────────────────────────────────────┐
//!              │ Content-Length: n         chunked         neither │
//!              v                              v                v   │
//!        ExpectLength(n)              ExpectChunkSize     ExpectClose
//!              │ n bytes          size>0 │ ^       │ 0         │ peer closes
//!              │                         v │       v           │   (finish)
//!              │                 ExpectChunkData   ExpectTrailers
//!              │                         │ │           │ empty line
//!              │                         v │           │     │
//!              │                 ExpectChunkEnd        │     │
//!              v                                       v     v
//!            Done <────────────────────────────────────┴─────┴────┘
//!
//! The head and its framing: [`head`]; errors: [`error`]; whole messages in steps (fuzz):
//! [`harness`].

mod error;
mod harness;
mod head;

pub use error::{Error, Part};
pub use harness::{fuzz, parse_in_steps, Parsed};
use head::{framing, header_line, keep_alive, parse_head};
pub use head::{Framing, Head};

/// Longest status line plus header section, terminating empty line included.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most header fields in one response head.
pub const MAX_HEADERS: usize = 100;
/// Longest chunk-size line, extensions included.
pub const MAX_CHUNK_LINE: usize = 1024;
/// Largest trailer section of a chunked body.
pub const MAX_TRAILER_BYTES: usize = 8 * 1024;
/// Most interim (1xx) responses skipped before the final one.
pub const MAX_INTERIM: usize = 8;
/// Most bytes of a malformed line quoted in an error.
const QUOTE: usize = 64;

/// What [`Parser::advance`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Nothing more can be told from the bytes offered: read more (or [`Parser::finish`] if
    /// the peer closed).
    NeedMore,
    /// The final response's head (interim 1xx responses are skipped, never reported).
    Head(Head),
    /// The next piece of the body: a slice of the offered bytes.
    Body(&'a [u8]),
    /// The response is complete.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ExpectHead,
    ExpectLength(u64),
    ExpectChunkSize,
    ExpectChunkData(u64),
    ExpectChunkEnd,
    ExpectTrailers,
    ExpectClose,
    Done,
}

/// Reads one response.
#[derive(Debug, Clone)]
pub struct Parser {
    state: State,
    head_only: bool,
    interim: usize,
    trailer_bytes: usize,
    framing: Option<Framing>,
    keep_alive: bool,
    /// Bytes at the start of the unconsumed input already searched for a line's end.
    scanned: usize,
}

impl Parser {
    /// A parser for the answer to one request; `head_only` for a HEAD request (whose answer
    /// announces a body it does not send).
    pub fn new(head_only: bool) -> Parser {
        Parser {
            state: State::ExpectHead,
            head_only,
            interim: 0,
            trailer_bytes: 0,
            framing: None,
            keep_alive: false,
            scanned: 0,
        }
    }

    /// The body's framing, once the head is known.
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// Whether the connection can carry another request after this response (HTTP/1.1
    /// without `Connection: close`, or HTTP/1.0 with `keep-alive`; never a body to the close).
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// The whole response has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Parses from `input` (the bytes not yet consumed); returns how many bytes it used and
    /// what it found. Bytes not used must be offered again, unchanged and with more
    /// appended, on the next call; [`Event::NeedMore`] comes only when nothing more can be
    /// done without them.
    pub fn advance<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Event<'a>), Error> {
        let mut used = 0;
        loop {
            let rest = input.get(used..).unwrap_or_default();
            match self.state {
                State::Done => return Ok((used, Event::Done)),
                State::ExpectHead => {
                    let too_large = Error::HeadTooLarge {
                        limit: MAX_HEAD_BYTES,
                    };
                    let Some(end) = within(
                        rest,
                        b"\r\n\r\n",
                        MAX_HEAD_BYTES,
                        too_large,
                        &mut self.scanned,
                    )?
                    else {
                        return Ok((used, Event::NeedMore));
                    };
                    let head = parse_head(rest.get(..end).unwrap_or_default())?;
                    used += end + 4;
                    if (100..200).contains(&head.status) {
                        // RFC 9110 §15.2: interim answers (100 Continue, 102, 103) precede
                        // the final one. cwmpd never asks for an upgrade.
                        if head.status == 101 {
                            return Err(Error::SwitchingProtocols);
                        }
                        self.interim += 1;
                        if self.interim > MAX_INTERIM {
                            return Err(Error::TooManyInterim { limit: MAX_INTERIM });
                        }
                        continue;
                    }
                    let framing = framing(&head, self.head_only)?;
                    self.keep_alive = framing != Framing::ToClose && keep_alive(&head);
                    self.framing = Some(framing);
                    self.state = match framing {
                        Framing::Empty => State::Done,
                        Framing::Length(n) => State::ExpectLength(n),
                        Framing::Chunked => State::ExpectChunkSize,
                        Framing::ToClose => State::ExpectClose,
                    };
                    return Ok((used, Event::Head(head)));
                }
                State::ExpectLength(0) => self.state = State::Done,
                State::ExpectLength(left) => {
                    let (n, piece) = take(rest, left);
                    if n == 0 {
                        return Ok((used, Event::NeedMore));
                    }
                    self.state = State::ExpectLength(left - n);
                    return Ok((used + piece.len(), Event::Body(piece)));
                }
                State::ExpectClose => {
                    if rest.is_empty() {
                        return Ok((used, Event::NeedMore));
                    }
                    return Ok((used + rest.len(), Event::Body(rest)));
                }
                State::ExpectChunkSize => {
                    let too_long = Error::ChunkLineTooLong {
                        limit: MAX_CHUNK_LINE,
                    };
                    let Some(end) =
                        within(rest, b"\r\n", MAX_CHUNK_LINE, too_long, &mut self.scanned)?
                    else {
                        return Ok((used, Event::NeedMore));
                    };
                    let size = chunk_size(rest.get(..end).unwrap_or_default())?;
                    used += end + 2;
                    self.state = if size == 0 {
                        State::ExpectTrailers
                    } else {
                        State::ExpectChunkData(size)
                    };
                }
                State::ExpectChunkData(left) => {
                    let (n, piece) = take(rest, left);
                    if n == 0 {
                        return Ok((used, Event::NeedMore));
                    }
                    self.state = if left == n {
                        State::ExpectChunkEnd
                    } else {
                        State::ExpectChunkData(left - n)
                    };
                    return Ok((used + piece.len(), Event::Body(piece)));
                }
                State::ExpectChunkEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        used += 2;
                        self.state = State::ExpectChunkSize;
                    }
                    [] | [b'\r'] => return Ok((used, Event::NeedMore)),
                    _ => return Err(Error::ChunkEnd),
                },
                State::ExpectTrailers => {
                    // RFC 9112 §7.1.2: trailer fields after the last chunk, then an empty
                    // line. They are checked and bounded, and dropped: nothing cwmpd reads
                    // travels in a trailer.
                    let too_large = Error::TrailersTooLarge {
                        limit: MAX_TRAILER_BYTES,
                    };
                    let budget = MAX_TRAILER_BYTES - self.trailer_bytes;
                    let Some(end) = within(rest, b"\r\n", budget, too_large, &mut self.scanned)?
                    else {
                        return Ok((used, Event::NeedMore));
                    };
                    self.trailer_bytes += end + 2;
                    let line = rest.get(..end).unwrap_or_default();
                    used += end + 2;
                    if line.is_empty() {
                        self.state = State::Done;
                    } else {
                        header_line(line)?;
                    }
                }
            }
        }
    }

    /// The peer closed the connection: the end of a body delimited by the close, or of a
    /// complete response; anything else was cut off.
    pub fn finish(&mut self) -> Result<Event<'static>, Error> {
        match self.state {
            State::Done => Ok(Event::Done),
            State::ExpectClose => {
                self.state = State::Done;
                Ok(Event::Done)
            }
            State::ExpectHead => Err(Error::Closed(Part::Head)),
            State::ExpectLength(_) => Err(Error::Closed(Part::Body)),
            State::ExpectChunkSize | State::ExpectChunkData(_) | State::ExpectChunkEnd => {
                Err(Error::Closed(Part::Chunk))
            }
            State::ExpectTrailers => Err(Error::Closed(Part::Trailers)),
        }
    }
}

/// Up to `left` bytes of `rest`.
fn take(rest: &[u8], left: u64) -> (u64, &[u8]) {
    let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
    let piece = rest.get(..n).unwrap_or_default();
    (n as u64, piece)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where `terminator` starts in `rest` if it ends within the first `budget` bytes; `over`
/// when it cannot. Only the budget is searched, however much is buffered, and of it only
/// what `scanned` (the bytes searched on an earlier call) does not cover: a peer sending a
/// head one byte at a time costs linear time, not quadratic.
fn within(
    rest: &[u8],
    terminator: &[u8],
    budget: usize,
    over: Error,
    scanned: &mut usize,
) -> Result<Option<usize>, Error> {
    let window = rest.get(..budget).unwrap_or(rest);
    let from = scanned
        .saturating_sub(terminator.len() - 1)
        .min(window.len());
    match find(window.get(from..).unwrap_or_default(), terminator) {
        Some(i) => {
            *scanned = 0;
            Ok(Some(from + i))
        }
        None if rest.len() >= budget => Err(over),
        None => {
            *scanned = window.len();
            Ok(None)
        }
    }
}

fn quote(b: &[u8]) -> String {
    String::from_utf8_lossy(b.get(..QUOTE).unwrap_or(b)).into_owned()
}

/// RFC 9110 §5.6.2 tchar.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 §5.5 field-value bytes (obs-text allowed, controls but HTAB refused: a bare CR
/// or a NUL is an error, not something to pass on).
fn is_value_byte(b: u8) -> bool {
    b == b'\t' || b >= 0x20 && b != 0x7f
}

fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// RFC 9112 §7.1: `1*HEXDIG [ BWS ";" extensions ]`; the extensions are skipped.
fn chunk_size(line: &[u8]) -> Result<u64, Error> {
    let bad = || Error::ChunkSize(quote(line));
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    // More than 16 hex digits cannot fit in a u64 (leading zeros aside, which nobody sends).
    if digits == 0 || digits > 16 {
        return Err(bad());
    }
    let rest = trim_ows(line.get(digits..).unwrap_or_default());
    if !(rest.is_empty() || rest.first() == Some(&b';')) || !rest.iter().all(|&b| is_value_byte(b))
    {
        return Err(bad());
    }
    let hex = std::str::from_utf8(line.get(..digits).unwrap_or_default()).map_err(|_| bad())?;
    u64::from_str_radix(hex, 16).map_err(|_| bad())
}

#[cfg(test)]
mod tests;
