//! Whole messages offered in steps, as a caller reading a socket does: the fuzz entry
//! point and the tests compare a response read at once with the same one read piece by piece.

use super::{Error, Event, Head, Parser};

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
