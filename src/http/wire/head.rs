//! A response head: the status line and header fields checked byte by byte (RFC 9110
//! §5.5, §5.6.2), and what the headers decide: the framing of the body (RFC 9112 §6.3) and
//! whether the connection stays open.

use super::{is_tchar, is_value_byte, quote, trim_ows, Error, MAX_HEADERS};

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

/// `name: value`, checked.
pub(super) fn header_line(line: &[u8]) -> Result<(String, String), Error> {
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
pub(super) fn parse_head(bytes: &[u8]) -> Result<Head, Error> {
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
pub(super) fn framing(head: &Head, head_only: bool) -> Result<Framing, Error> {
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

pub(super) fn keep_alive(head: &Head) -> bool {
    let connection = tokens(head, "connection");
    if connection.iter().any(|t| t == "close") {
        return false;
    }
    head.minor >= 1 || connection.iter().any(|t| t == "keep-alive")
}
