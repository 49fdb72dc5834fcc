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
//! ```

use std::fmt;

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

/// A response's status line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The `x` of `HTTP/1.x`.
    pub minor: u8,
    /// Status code (100–599).
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Header fields in arrival order, names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every header with this (lower-case) name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: a HEAD request, 204, 304.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the peer closes the connection.
    ToClose,
}

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

/// Where the message was when something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Status line and headers.
    Head,
    /// A body of announced length.
    Body,
    /// A chunk-size line, chunk data or the CRLF after it.
    Chunk,
    /// The trailer section of a chunked body.
    Trailers,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Head => "the response head",
            Part::Body => "the body",
            Part::Chunk => "a chunk",
            Part::Trailers => "the trailers",
        })
    }
}

/// A response that is not valid HTTP/1.x or exceeds a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The head is longer than [`MAX_HEAD_BYTES`].
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// The status line is not `HTTP/1.x NNN reason` (the start of it quoted).
    StatusLine(String),
    /// A header line is malformed (quoted).
    HeaderLine(String),
    /// A Content-Length that is not a decimal number.
    ContentLength(String),
    /// Content-Length given more than once, or as a list.
    DuplicateLength,
    /// Both Content-Length and Transfer-Encoding (a smuggling attempt, RFC 9112 §6.3).
    LengthAndEncoding,
    /// A transfer coding other than `chunked` alone.
    Coding(String),
    /// A chunk-size line that is not hexadecimal (quoted).
    ChunkSize(String),
    /// A chunk-size line longer than [`MAX_CHUNK_LINE`].
    ChunkLineTooLong {
        /// The limit.
        limit: usize,
    },
    /// Chunk data not followed by CRLF.
    ChunkEnd,
    /// A trailer section larger than [`MAX_TRAILER_BYTES`].
    TrailersTooLarge {
        /// The limit.
        limit: usize,
    },
    /// More than [`MAX_INTERIM`] 1xx responses.
    TooManyInterim {
        /// The limit.
        limit: usize,
    },
    /// A `101 Switching Protocols` nobody asked for.
    SwitchingProtocols,
    /// The peer closed the connection before the message ended.
    Closed(Part),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::HeadTooLarge { limit } => write!(f, "response head over {limit} bytes"),
            Error::TooManyHeaders { limit } => write!(f, "more than {limit} header fields"),
            Error::StatusLine(l) => write!(f, "bad status line {l:?}"),
            Error::HeaderLine(l) => write!(f, "bad header line {l:?}"),
            Error::ContentLength(v) => write!(f, "bad content-length {v:?}"),
            Error::DuplicateLength => write!(f, "more than one content-length"),
            Error::LengthAndEncoding => {
                write!(f, "both content-length and transfer-encoding")
            }
            Error::Coding(c) => write!(f, "unsupported transfer-encoding {c:?}"),
            Error::ChunkSize(l) => write!(f, "bad chunk size line {l:?}"),
            Error::ChunkLineTooLong { limit } => write!(f, "chunk size line over {limit} bytes"),
            Error::ChunkEnd => write!(f, "chunk data not followed by crlf"),
            Error::TrailersTooLarge { limit } => write!(f, "trailers over {limit} bytes"),
            Error::TooManyInterim { limit } => write!(f, "more than {limit} interim responses"),
            Error::SwitchingProtocols => write!(f, "unexpected 101 switching protocols"),
            Error::Closed(p) => write!(f, "connection closed in {p}"),
        }
    }
}

impl std::error::Error for Error {}

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

/// `name: value`, checked.
fn header_line(line: &[u8]) -> Result<(String, String), Error> {
    let bad = || Error::HeaderLine(quote(line));
    let colon = line.iter().position(|&b| b == b':').ok_or_else(bad)?;
    let (name, value) = (
        line.get(..colon).unwrap_or_default(),
        line.get(colon + 1..).unwrap_or_default(),
    );
    // RFC 9112 §5.1: no whitespace between the name and the colon.
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(bad());
    }
    if !value.iter().all(|&b| is_value_byte(b)) {
        return Err(bad());
    }
    Ok((
        String::from_utf8_lossy(name).to_ascii_lowercase(),
        String::from_utf8_lossy(trim_ows(value)).into_owned(),
    ))
}

/// The status line and header fields (the head without its final CRLF CRLF).
fn parse_head(bytes: &[u8]) -> Result<Head, Error> {
    let mut lines = bytes.split(|&b| b == b'\n').map(|l| match l {
        [rest @ .., b'\r'] => rest,
        l => l,
    });
    let status_line = lines.next().unwrap_or_default();
    let bad_status = || Error::StatusLine(quote(status_line));
    let (minor, status, reason) = match status_line {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor, b' ', a, b, c, rest @ ..]
            if minor.is_ascii_digit() && [a, b, c].iter().all(|d| d.is_ascii_digit()) =>
        {
            let status = [a, b, c]
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(**d - b'0'));
            let reason = match rest {
                [] => &[][..],
                [b' ', reason @ ..] if reason.iter().all(|&b| is_value_byte(b)) => reason,
                _ => return Err(bad_status()),
            };
            (minor - b'0', status, reason)
        }
        _ => return Err(bad_status()),
    };
    if !(100..=599).contains(&status) {
        return Err(bad_status());
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if let [b' ' | b'\t', ..] = line {
            // RFC 9112 §5.2: a user agent replaces obsolete line folding with a space.
            let (_, value) = headers
                .last_mut()
                .ok_or_else(|| Error::HeaderLine(quote(line)))?;
            if !line.iter().all(|&b| is_value_byte(b)) {
                return Err(Error::HeaderLine(quote(line)));
            }
            value.push(' ');
            value.push_str(&String::from_utf8_lossy(trim_ows(line)));
            continue;
        }
        if headers.len() == MAX_HEADERS {
            return Err(Error::TooManyHeaders { limit: MAX_HEADERS });
        }
        headers.push(header_line(line)?);
    }
    Ok(Head {
        minor,
        status,
        reason: String::from_utf8_lossy(reason).into_owned(),
        headers,
    })
}

/// Comma-separated list elements of every header with this name, lower-cased.
fn tokens(head: &Head, name: &str) -> Vec<String> {
    head.all(name)
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// RFC 9112 §6.3, strictly: a length twice, a length beside a coding, or a coding other
/// than chunked is refused rather than guessed at, since a guess is how responses are split.
fn framing(head: &Head, head_only: bool) -> Result<Framing, Error> {
    if head_only || head.status == 204 || head.status == 304 {
        return Ok(Framing::Empty);
    }
    let codings = tokens(head, "transfer-encoding");
    let lengths: Vec<&str> = head.all("content-length").collect();
    if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err(Error::LengthAndEncoding);
        }
        if codings != ["chunked"] {
            return Err(Error::Coding(codings.join(", ")));
        }
        return Ok(Framing::Chunked);
    }
    match lengths.as_slice() {
        [] => Ok(Framing::ToClose),
        [one] if one.contains(',') => Err(Error::DuplicateLength),
        [one] => {
            // `str::parse` would take a leading '+'.
            if one.is_empty() || !one.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::ContentLength(quote(one.as_bytes())));
            }
            one.parse()
                .map(Framing::Length)
                .map_err(|_| Error::ContentLength(quote(one.as_bytes())))
        }
        _ => Err(Error::DuplicateLength),
    }
}

fn keep_alive(head: &Head) -> bool {
    let connection = tokens(head, "connection");
    if connection.iter().any(|t| t == "close") {
        return false;
    }
    head.minor >= 1 || connection.iter().any(|t| t == "keep-alive")
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

/// What a whole response came to, for [`fuzz`] and the tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The final head.
    pub head: Option<Head>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// The connection could carry another request.
    pub keep_alive: bool,
}

/// Parses `msg` offered `step` bytes at a time, as a caller reading from a socket does, and
/// treats the end of `msg` as the peer closing.
pub fn parse_in_steps(msg: &[u8], head_only: bool, step: usize) -> Result<Parsed, Error> {
    let mut parser = Parser::new(head_only);
    let mut out = Parsed::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    // Each turn consumes bytes, feeds bytes or ends: bounded by the length of `msg`.
    loop {
        let (used, event) = parser.advance(&buf)?;
        let more = match event {
            Event::NeedMore => true,
            Event::Head(h) => {
                out.head = Some(h);
                false
            }
            Event::Body(b) => {
                out.body.extend_from_slice(b);
                false
            }
            Event::Done => break,
        };
        buf.drain(..used.min(buf.len()));
        if more {
            if fed >= msg.len() {
                parser.finish()?;
                break;
            }
            let end = fed.saturating_add(step.max(1)).min(msg.len());
            buf.extend_from_slice(msg.get(fed..end).unwrap_or_default());
            fed = end;
        }
    }
    out.keep_alive = parser.keep_alive();
    Ok(out)
}

/// The fuzz entry point. The first byte says the request (`H`: HEAD, anything else: GET),
/// the second how many bytes each read brings; the rest is the response. Parsing must never
/// panic, and must come to the same result read at once or piece by piece.
pub fn fuzz(data: &[u8]) {
    let [method, step, msg @ ..] = data else {
        return;
    };
    let head_only = *method == b'H';
    let whole = parse_in_steps(msg, head_only, usize::MAX);
    let pieces = parse_in_steps(msg, head_only, usize::from(*step));
    assert_eq!(whole, pieces, "the result depends on how the bytes arrive");
}

#[cfg(test)]
mod tests;
