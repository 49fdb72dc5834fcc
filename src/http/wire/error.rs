//! What can be wrong with a response: the typed [`Error`] with the data to report it, and
//! the [`Part`] of the message it was met in.

use std::fmt;

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
