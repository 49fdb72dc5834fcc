//! A Connection Request's HTTP request head, parsed from bytes (no I/O, RFC 9112 §2–§5).
//!
//! Only what the listener needs is kept: the method, the request target, the first
//! `Authorization` header and whether the connection may stay open. The head is bounded
//! ([`MAX_HEAD_BYTES`], [`MAX_HEADERS`]) and checked before anything is copied, so a peer
//! cannot make the parser hold more than the listener's buffer. Bodies are not read: a
//! Connection Request is a GET (TR-069 §3.2.2), so a request that announces a body is
//! answered and its connection closed.

/// Longest request head (request line and headers, up to the empty line).
pub const MAX_HEAD_BYTES: usize = 8192;
/// Most header lines in one request.
pub const MAX_HEADERS: usize = 64;

/// Why a request head was refused; [`ParseError::status`] is the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// No end of the head within [`MAX_HEAD_BYTES`].
    TooLarge,
    /// More than [`MAX_HEADERS`] header lines.
    TooManyHeaders,
    /// The request line is not `method SP target SP HTTP/1.x`.
    RequestLine,
    /// A header line without a colon, or with a name that is not a token.
    Header,
    /// Not HTTP/1.0 or HTTP/1.1.
    Version,
}

impl ParseError {
    /// The HTTP status to answer with before closing.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::TooLarge | ParseError::TooManyHeaders => 431,
            ParseError::RequestLine | ParseError::Header => 400,
            ParseError::Version => 505,
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::TooLarge => write!(f, "request head over {MAX_HEAD_BYTES} bytes"),
            ParseError::TooManyHeaders => write!(f, "more than {MAX_HEADERS} header lines"),
            ParseError::RequestLine => write!(f, "malformed request line"),
            ParseError::Header => write!(f, "malformed header line"),
            ParseError::Version => write!(f, "unsupported HTTP version"),
        }
    }
}

impl std::error::Error for ParseError {}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent (methods are case-sensitive, RFC 9110 §9.1).
    pub method: String,
    /// The request target, as sent (path and query).
    pub target: String,
    /// The first `Authorization` header's value.
    pub authorization: Option<String>,
    /// The connection must close after the answer: `Connection: close`, HTTP/1.0 without
    /// keep-alive, or a body announced (it is not read).
    pub close: bool,
}

impl Request {
    /// The target's path (without the query).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

fn is_token(s: &str) -> bool {
    // RFC 9110 §5.6.2.
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Where the head ends: the index just past the empty line (CRLF CRLF, or bare LFs, which
/// RFC 9112 §2.2 lets a recipient accept). Empty lines before the request line are skipped
/// (RFC 9112 §2.2).
fn head_end(buf: &[u8]) -> Option<usize> {
    let lead = buf
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    let mut line_start = lead;
    for (i, b) in buf.iter().enumerate().skip(lead) {
        if *b == b'\n' {
            let line = buf.get(line_start..i).unwrap_or_default();
            if line.is_empty() || line == b"\r" {
                return Some(i + 1);
            }
            line_start = i + 1;
        }
    }
    None
}

/// Whether bytes from `from` on may hold the end of a head (an empty line), so that the
/// listener parses again only then: a peer sending a byte at a time costs one look at each
/// byte, not a parse of the whole buffer per byte.
pub fn may_end_after(buf: &[u8], from: usize) -> bool {
    let tail = buf.get(from.saturating_sub(2)..).unwrap_or_default();
    tail.windows(2).any(|w| w == b"\n\n") || tail.windows(3).any(|w| w == b"\n\r\n")
}

/// Parses the request head at the start of `buf`: `Ok(None)` while it is incomplete (read
/// more), `Ok(Some((request, length of the head)))` once the empty line is in, an error when
/// it can never become a valid head. Bytes after the head (a pipelined request) are left.
pub fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, ParseError> {
    let Some(end) = head_end(buf) else {
        return if buf.len() >= MAX_HEAD_BYTES {
            Err(ParseError::TooLarge)
        } else {
            Ok(None)
        };
    };
    if end > MAX_HEAD_BYTES {
        return Err(ParseError::TooLarge);
    }
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| ParseError::Header)?;
    let mut lines = head
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .skip_while(|l| l.is_empty());
    let line = lines.next().ok_or(ParseError::RequestLine)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::RequestLine);
    };
    if !is_token(method) || target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(ParseError::RequestLine);
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/") => return Err(ParseError::Version),
        _ => return Err(ParseError::RequestLine),
    };
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        authorization: None,
        close: http10,
    };
    let mut count = 0;
    for l in lines.take_while(|l| !l.is_empty()) {
        count += 1;
        if count > MAX_HEADERS {
            return Err(ParseError::TooManyHeaders);
        }
        let (name, value) = l.split_once(':').ok_or(ParseError::Header)?;
        if !is_token(name) {
            // Also refuses obsolete line folding (a line starting with white space).
            return Err(ParseError::Header);
        }
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("authorization") {
            if req.authorization.is_none() {
                req.authorization = Some(value.to_string());
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    req.close = true;
                } else if option.eq_ignore_ascii_case("keep-alive") && http10 {
                    req.close = false;
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            || (name.eq_ignore_ascii_case("content-length") && value != "0")
        {
            // A body we do not read: after the answer, the connection ends.
            req.close = true;
        }
    }
    Ok(Some((req, end)))
}

/// The fuzz entry point (`fuzz/fuzz_targets/cr_request.rs`): parsing any bytes, and every
/// prefix of them, succeeds or fails cleanly and never reports a head beyond the input or the
/// limit.
pub fn fuzz(data: &[u8]) {
    for cut in [data.len(), data.len() / 2, 1] {
        if let Ok(Some((_, n))) = parse(&data[..cut.min(data.len())]) {
            assert!(n <= cut && n <= MAX_HEAD_BYTES);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (Request, usize) {
        parse(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn parses_a_connection_request() {
        let text = "GET /cr?x=1 HTTP/1.1\r\nHost: cpe\r\nAuthorization: Digest a=b\r\n\r\nGET";
        let (r, n) = ok(text);
        assert_eq!(n, text.len() - 3, "the pipelined rest is left");
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/cr?x=1");
        assert_eq!(r.path(), "/cr");
        assert_eq!(r.authorization.as_deref(), Some("Digest a=b"));
        assert!(!r.close);
    }

    #[test]
    fn every_prefix_of_a_head_is_incomplete() {
        let text = b"GET /cr HTTP/1.1\r\nHost: cpe\r\n\r\n";
        for cut in 0..text.len() {
            assert_eq!(parse(&text[..cut]), Ok(None), "{cut}");
        }
        assert!(parse(text).unwrap().is_some());
    }

    #[test]
    fn bare_line_feeds_and_leading_blank_lines_are_accepted() {
        let (r, _) = ok("\r\n\nGET /cr HTTP/1.1\nHost: x\n\n");
        assert_eq!(r.target, "/cr");
    }

    #[test]
    fn the_connection_closes_when_asked_or_a_body_is_announced() {
        assert!(ok("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").0.close);
        assert!(ok("GET / HTTP/1.0\r\n\r\n").0.close);
        assert!(
            !ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                .0
                .close
        );
        assert!(ok("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").0.close);
        assert!(!ok("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").0.close);
        assert!(
            ok("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                .0
                .close
        );
    }

    #[test]
    fn a_head_over_the_limit_is_refused_without_its_end() {
        let mut long = b"GET /cr HTTP/1.1\r\nX: ".to_vec();
        long.resize(MAX_HEAD_BYTES - 1, b'a');
        assert_eq!(parse(&long), Ok(None));
        long.push(b'a');
        assert_eq!(parse(&long), Err(ParseError::TooLarge));
        assert_eq!(ParseError::TooLarge.status(), 431);
        // An end found beyond the limit is refused too.
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&long), Err(ParseError::TooLarge));
    }

    #[test]
    fn too_many_headers_are_refused() {
        let mut text = "GET / HTTP/1.1\r\n".to_string();
        for i in 0..MAX_HEADERS {
            text.push_str(&format!("X{i}: y\r\n"));
        }
        assert!(parse(format!("{text}\r\n").as_bytes()).is_ok());
        text.push_str("Z: z\r\n\r\n");
        assert_eq!(parse(text.as_bytes()), Err(ParseError::TooManyHeaders));
    }

    #[test]
    fn malformed_heads_are_refused() {
        for (text, e) in [
            ("GET /cr\r\n\r\n", ParseError::RequestLine),
            ("GET  /cr HTTP/1.1\r\n\r\n", ParseError::RequestLine),
            ("G(T /cr HTTP/1.1\r\n\r\n", ParseError::RequestLine),
            ("GET /cr FTP/1.1\r\n\r\n", ParseError::RequestLine),
            ("GET /cr HTTP/2.0\r\n\r\n", ParseError::Version),
            ("GET /cr HTTP/1.1\r\nno colon\r\n\r\n", ParseError::Header),
            ("GET /cr HTTP/1.1\r\n folded: x\r\n\r\n", ParseError::Header),
        ] {
            assert_eq!(parse(text.as_bytes()), Err(e.clone()), "{text:?}");
        }
        assert_eq!(
            parse(b"GET /c\x01r HTTP/1.1\r\n\r\n"),
            Err(ParseError::RequestLine)
        );
        assert_eq!(
            parse(b"GET /cr HTTP/1.1\r\nX: \xff\r\n\r\n"),
            Err(ParseError::Header)
        );
    }

    /// The fuzz corpus (`fuzz/corpus/cr_request`), replayed with every prefix and a few
    /// thousand deterministic mutations.
    #[test]
    fn fuzz_corpus_replays_cleanly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/cr_request");
        let seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        assert!(seeds.len() >= 6, "corpus missing");
        let mut x: u32 = 12345;
        for seed in &seeds {
            for cut in 0..=seed.len() {
                fuzz(&seed[..cut]);
            }
            for _ in 0..500 {
                let mut m = seed.clone();
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if m.is_empty() {
                    continue;
                }
                let at = (x >> 8) as usize % m.len();
                match x % 3 {
                    0 => m[at] = (x >> 16) as u8,
                    1 => {
                        m.remove(at);
                    }
                    _ => m.insert(at, b"\r\n: "[(x >> 20) as usize % 4]),
                }
                fuzz(&m);
            }
        }
    }
}
