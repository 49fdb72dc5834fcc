//! The response parser: every prefix of each valid response, every split of it, byte by
//! byte; each malformed input to its typed error; each limit reached and exceeded; the
//! committed fuzz corpus replayed.

use super::*;

const PLAIN: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 11\r\n\r\n<envelope/>";
const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
    5;name=value;q=\"a b\"\r\nhello\r\n6 ; ext\r\n world\r\n0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";
const CONTINUE: &[u8] =
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const EARLY_HINTS: &[u8] =
    b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
    HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
const NO_CONTENT: &[u8] = b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n";
const NOT_MODIFIED: &[u8] = b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n";
const HEAD_ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
const TO_CLOSE: &[u8] = b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it until the end";
const KEEP_ALIVE_10: &[u8] =
    b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\nabc";
const CLOSE_11: &[u8] = b"HTTP/1.1 401 Unauthorized\r\nConnection: keep-alive, close\r\n\
    WWW-Authenticate: Digest realm=\"acs\",\r\n  nonce=\"n1\"\r\nContent-Length: 0\r\n\r\n";
const NO_REASON: &[u8] = b"HTTP/1.1 200\r\ncontent-length: 1\r\n\r\nx";

fn head_of(msg: &[u8], head_only: bool) -> Head {
    parse_in_steps(msg, head_only, usize::MAX)
        .unwrap()
        .head
        .unwrap()
}

/// Feeds `msg` as the caller would, without treating its end as a close.
fn prefix(msg: &[u8], head_only: bool) -> Result<(Parsed, bool), Error> {
    let mut p = Parser::new(head_only);
    let mut out = Parsed::default();
    let mut at = 0;
    loop {
        let (used, ev) = p.advance(&msg[at..])?;
        at += used;
        match ev {
            Event::NeedMore => return Ok((out, false)),
            Event::Head(h) => out.head = Some(h),
            Event::Body(b) => out.body.extend_from_slice(b),
            Event::Done => return Ok((out, true)),
        }
    }
}

/// ureq-proto's and smoltcp's check: each proper prefix needs more and says nothing wrong;
/// any split, and byte by byte, gives the same result as the whole.
fn check_valid(msg: &[u8], head_only: bool, want_body: &[u8], keep: bool) {
    let whole = parse_in_steps(msg, head_only, usize::MAX).unwrap();
    assert_eq!(whole.body, want_body, "{}", String::from_utf8_lossy(msg));
    assert_eq!(whole.keep_alive, keep, "{}", String::from_utf8_lossy(msg));
    let to_close = Parser::new(head_only).advance(msg).is_ok()
        && parse_framing(msg, head_only) == Some(Framing::ToClose);
    for k in 0..msg.len() {
        let (got, done) = prefix(&msg[..k], head_only).unwrap();
        assert!(!done, "done after {k} of {} bytes", msg.len());
        if let Some(h) = &got.head {
            assert_eq!(Some(h), whole.head.as_ref());
        }
        assert!(whole.body.starts_with(&got.body), "wrong body after {k}");
        let mut p = Parser::new(head_only);
        let mut at = 0;
        while let Ok((used, ev)) = p.advance(&msg[at..k]) {
            at += used;
            if ev == Event::NeedMore {
                break;
            }
        }
        if !to_close {
            assert!(
                matches!(p.finish(), Err(Error::Closed(_))),
                "a close after {k} bytes is not a cut"
            );
        }
    }
    for step in [1, 2, 3, 7, 64] {
        assert_eq!(parse_in_steps(msg, head_only, step).unwrap(), whole);
    }
}

fn parse_framing(msg: &[u8], head_only: bool) -> Option<Framing> {
    let mut p = Parser::new(head_only);
    let mut at = 0;
    loop {
        let (used, ev) = p.advance(&msg[at..]).ok()?;
        at += used;
        match ev {
            Event::Head(_) => return p.framing(),
            Event::NeedMore | Event::Done => return None,
            Event::Body(_) => {}
        }
    }
}

fn error_of(msg: &[u8]) -> Error {
    parse_in_steps(msg, false, usize::MAX).unwrap_err()
}

#[test]
fn valid_responses_parse_from_every_prefix_and_split() {
    check_valid(PLAIN, false, b"<envelope/>", true);
    check_valid(CHUNKED, false, b"hello world", true);
    check_valid(CONTINUE, false, b"ok", true);
    check_valid(EARLY_HINTS, false, b"ok", true);
    check_valid(NO_CONTENT, false, b"", true);
    check_valid(NOT_MODIFIED, false, b"", true);
    check_valid(HEAD_ANSWER, true, b"", true);
    check_valid(TO_CLOSE, false, b"all of it until the end", false);
    check_valid(KEEP_ALIVE_10, false, b"abc", true);
    check_valid(CLOSE_11, false, b"", false);
    check_valid(NO_REASON, false, b"x", true);
}

#[test]
fn heads_are_typed() {
    let h = head_of(PLAIN, false);
    assert_eq!((h.minor, h.status, h.reason.as_str()), (1, 200, "OK"));
    assert_eq!(h.header("content-type"), Some("text/xml"));
    let h = head_of(CONTINUE, false);
    assert_eq!(h.status, 200, "the interim answer is skipped");
    let h = head_of(CLOSE_11, false);
    assert_eq!(
        h.header("www-authenticate"),
        Some("Digest realm=\"acs\", nonce=\"n1\""),
        "obsolete folding becomes a space"
    );
    assert_eq!(head_of(NO_REASON, false).reason, "");
    let h = head_of(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
        false,
    );
    assert_eq!(h.all("set-cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
}

#[test]
fn framing_follows_rfc_9112() {
    let f = |m: &[u8], head_only| parse_framing(m, head_only).unwrap();
    assert_eq!(f(PLAIN, false), Framing::Length(11));
    assert_eq!(f(CHUNKED, false), Framing::Chunked);
    assert_eq!(f(NO_CONTENT, false), Framing::Empty);
    assert_eq!(f(NOT_MODIFIED, false), Framing::Empty);
    assert_eq!(f(HEAD_ANSWER, true), Framing::Empty);
    assert_eq!(f(HEAD_ANSWER, false), Framing::Length(1000));
    assert_eq!(f(TO_CLOSE, false), Framing::ToClose);
    assert_eq!(
        f(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n",
            false
        ),
        Framing::Chunked
    );
}

#[test]
fn malformed_responses_give_typed_errors() {
    let cases: &[(&[u8], Error)] = &[
        (b"HTTP/2 200 OK\r\n\r\n", Error::StatusLine("HTTP/2 200 OK".into())),
        (b"HTTP/1.1 20 OK\r\n\r\n", Error::StatusLine("HTTP/1.1 20 OK".into())),
        (b"HTTP/1.1 999 What\r\n\r\n", Error::StatusLine("HTTP/1.1 999 What".into())),
        (b"HTTP/1.1 200OK\r\n\r\n", Error::StatusLine("HTTP/1.1 200OK".into())),
        (b"hello\r\n\r\n", Error::StatusLine("hello".into())),
        (b"HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", Error::HeaderLine("nocolon".into())),
        (b"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", Error::HeaderLine("Name : v".into())),
        (b"HTTP/1.1 200 OK\r\n: v\r\n\r\n", Error::HeaderLine(": v".into())),
        (b"HTTP/1.1 200 OK\r\nA: x\0y\r\n\r\n", Error::HeaderLine("A: x\0y".into())),
        (b"HTTP/1.1 200 OK\r\nA: x\ry\r\n\r\n", Error::HeaderLine("A: x\ry".into())),
        (b"HTTP/1.1 200 OK\r\n folded\r\n\r\n", Error::HeaderLine(" folded".into())),
        (b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", Error::ContentLength("+5".into())),
        (b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", Error::ContentLength("abc".into())),
        (b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", Error::ContentLength("".into())),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            Error::ContentLength("99999999999999999999".into()),
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", Error::DuplicateLength),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", Error::DuplicateLength),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", Error::DuplicateLength),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            Error::LengthAndEncoding,
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", Error::Coding("gzip".into())),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            Error::Coding("gzip, chunked".into()),
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Error::ChunkSize("zz".into())),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", Error::ChunkSize("-1".into())),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", Error::ChunkSize("5 x".into())),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
            Error::ChunkSize("10000000000000000".into()),
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", Error::ChunkEnd),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n",
            Error::HeaderLine("bad trailer".into()),
        ),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", Error::SwitchingProtocols),
        (b"", Error::Closed(Part::Head)),
        (b"HTTP/1.1 200 OK\r\n", Error::Closed(Part::Head)),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", Error::Closed(Part::Body)),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", Error::Closed(Part::Chunk)),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n", Error::Closed(Part::Trailers)),
    ];
    for (msg, want) in cases {
        assert_eq!(&error_of(msg), want, "{}", String::from_utf8_lossy(msg));
        for step in [1, 5] {
            assert_eq!(&parse_in_steps(msg, false, step).unwrap_err(), want);
        }
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn head_size_is_bounded() {
    let head_with = |pad: usize| {
        let mut m = b"HTTP/1.1 204 No Content\r\nX: ".to_vec();
        m.extend(std::iter::repeat_n(b'a', pad));
        m.extend_from_slice(b"\r\n\r\n");
        m
    };
    let base = head_with(0).len();
    let at_limit = head_with(MAX_HEAD_BYTES - base);
    assert_eq!(at_limit.len(), MAX_HEAD_BYTES);
    for step in [1, 1000, usize::MAX] {
        assert!(parse_in_steps(&at_limit, false, step).is_ok());
    }
    let over = head_with(MAX_HEAD_BYTES - base + 1);
    let want = Error::HeadTooLarge {
        limit: MAX_HEAD_BYTES,
    };
    assert_eq!(error_of(&over), want);
    assert_eq!(parse_in_steps(&over, false, 1000).unwrap_err(), want);
    // A peer that never ends its head is stopped at the limit, not buffered without end.
    let endless = vec![b'a'; MAX_HEAD_BYTES];
    assert_eq!(Parser::new(false).advance(&endless).unwrap_err(), want);
    assert_eq!(
        Parser::new(false).advance(&endless[1..]).unwrap(),
        (0, Event::NeedMore)
    );
}

#[test]
fn header_count_is_bounded() {
    let with = |n: usize| {
        let mut m = b"HTTP/1.1 204 No Content\r\n".to_vec();
        for i in 0..n {
            m.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        m.extend_from_slice(b"\r\n");
        m
    };
    assert_eq!(
        head_of(&with(MAX_HEADERS), false).headers.len(),
        MAX_HEADERS
    );
    assert_eq!(
        error_of(&with(MAX_HEADERS + 1)),
        Error::TooManyHeaders { limit: MAX_HEADERS }
    );
}

#[test]
fn chunk_lines_and_trailers_are_bounded() {
    let chunk_line = |ext: usize| {
        let mut m = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
        m.extend(std::iter::repeat_n(b'e', ext));
        m.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        m
    };
    // "1;" + extension + CRLF fills the line limit exactly.
    let fits = chunk_line(MAX_CHUNK_LINE - 4);
    assert_eq!(parse_in_steps(&fits, false, 100).unwrap().body, b"x");
    assert_eq!(
        error_of(&chunk_line(MAX_CHUNK_LINE - 3)),
        Error::ChunkLineTooLong {
            limit: MAX_CHUNK_LINE
        }
    );
    let trailers = |n: usize| {
        let mut m = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        // Each "X: v" line is 6 bytes with its CRLF; the empty line counts too.
        for _ in 0..n {
            m.extend_from_slice(b"X: v\r\n");
        }
        m.extend_from_slice(b"\r\n");
        m
    };
    let most = (MAX_TRAILER_BYTES - 2) / 6;
    assert!(parse_in_steps(&trailers(most), false, 50).is_ok());
    let want = Error::TrailersTooLarge {
        limit: MAX_TRAILER_BYTES,
    };
    assert_eq!(error_of(&trailers(most + 1)), want);
    assert_eq!(
        parse_in_steps(&trailers(most + 1), false, 1).unwrap_err(),
        want
    );
}

#[test]
fn interim_responses_are_bounded() {
    let with = |n: usize| {
        let mut m = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(n);
        m.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        m
    };
    assert_eq!(head_of(&with(MAX_INTERIM), false).status, 204);
    assert_eq!(
        error_of(&with(MAX_INTERIM + 1)),
        Error::TooManyInterim { limit: MAX_INTERIM }
    );
}

#[test]
fn bytes_after_a_complete_response_are_left_for_the_next() {
    let mut two = PLAIN.to_vec();
    two.extend_from_slice(NO_CONTENT);
    let mut p = Parser::new(false);
    let mut at = 0;
    loop {
        let (used, ev) = p.advance(&two[at..]).unwrap();
        at += used;
        if ev == Event::Done {
            break;
        }
    }
    assert_eq!(at, PLAIN.len());
    assert_eq!(p.advance(&two[at..]).unwrap(), (0, Event::Done));
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/http_wire");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(v.len() >= 12, "corpus missing");
    v
}

#[test]
fn the_fuzz_corpus_replays() {
    for (name, data) in corpus() {
        fuzz(&data);
        let [method, _, msg @ ..] = data.as_slice() else {
            panic!("{name}: too short");
        };
        let result = parse_in_steps(msg, *method == b'H', usize::MAX);
        if name.starts_with("ok-") {
            assert!(result.is_ok(), "{name}: {result:?}");
        } else if name.starts_with("bad-") {
            assert!(result.is_err(), "{name}: {result:?}");
        }
    }
}
