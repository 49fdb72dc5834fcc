//! A pull reader over cwmpd's own XML tokenizer ([`lexer`], namespaces in [`names`]), with
//! namespace URIs resolved and every size bounded; and escaping for the encoder.
//!
//! The decoder walks the document with it element by element ([`Reader::child`],
//! [`Reader::text`], [`Reader::skip`]) and keeps only what the typed message needs: no element
//! tree is built, so what a message costs in memory follows its typed result, not its bytes
//! (issue 13 §3: 200,000 empty elements cost no more than one). DOCTYPE declarations are
//! refused (no entity tricks), so decoding untrusted bytes costs at most the limits below.
//!
//! The tokenizer replaced xml-rs (issue 11: its code cost ~53 KB on big-endian MIPS for the
//! narrow event stream read here); `differential.rs` holds the two to the same events.

#[cfg(test)]
mod differential;
mod lexer;
mod names;

use lexer::{Lexer, Token};
use names::{NameError, Scopes};

use super::DecodeError;

/// Largest message accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Deepest element nesting.
pub const MAX_DEPTH: usize = 32;
/// Most elements in one message.
pub const MAX_ELEMENTS: usize = 200_000;
/// Longest text content of one element.
pub const MAX_TEXT: usize = 65_536;
/// Most attributes on one element (namespace declarations not counted).
pub const MAX_ATTRIBUTES: usize = 32;
/// Most namespace declarations in scope at once (so that resolving a prefix costs a bounded
/// scan; xml-rs had no such limit).
pub const MAX_NAMESPACES: usize = 64;

/// An element's start tag: namespace URI (empty when none), local name, attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Start {
    /// Namespace URI, empty when none.
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes: (namespace URI, local name, value).
    pub attrs: Vec<(String, String, String)>,
}

impl Start {
    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(_, n, _)| n == name)
            .map(|(_, _, v)| v.as_str())
    }
}

/// One event, as the reader passes it on.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Start(Start),
    Text(String),
    End,
    Eof,
}

/// The reader: where it is (depth) and what it has counted.
pub struct Reader<'a> {
    lexer: Lexer<'a>,
    scopes: Scopes,
    /// Elements open now.
    depth: usize,
    /// Elements seen so far.
    elements: usize,
    /// The first error met: every later read gives it again (the reader does not go on
    /// past a fault in the document).
    failed: Option<DecodeError>,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes` (at most [`MAX_BODY_BYTES`]).
    pub fn new(bytes: &'a [u8]) -> Result<Reader<'a>, DecodeError> {
        if bytes.len() > MAX_BODY_BYTES {
            return Err(DecodeError::Limit("body size"));
        }
        Ok(Reader {
            lexer: Lexer::new(bytes)?,
            scopes: Scopes::default(),
            depth: 0,
            elements: 0,
            failed: None,
        })
    }

    /// Elements open now (the root's children are at depth 1).
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn next(&mut self) -> Result<Event, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let event = self.read();
        if let Err(e) = &event {
            self.failed = Some(e.clone());
        }
        event
    }

    fn read(&mut self) -> Result<Event, DecodeError> {
        match self.lexer.next_token()? {
            Token::Start { at, name, attrs } => {
                self.elements += 1;
                if self.elements > MAX_ELEMENTS {
                    return Err(DecodeError::Limit("element count"));
                }
                let start = self.scopes.open(name, attrs).map_err(|e| match e {
                    NameError::Xml(m) => self.lexer.error_at(at, &m),
                    NameError::Limit(what) => DecodeError::Limit(what),
                })?;
                self.depth += 1;
                Ok(Event::Start(start))
            }
            Token::Text(t) => Ok(Event::Text(t)),
            Token::End => {
                self.scopes.close();
                self.depth = self.depth.saturating_sub(1);
                Ok(Event::End)
            }
            Token::Eof => Ok(Event::Eof),
        }
    }

    /// The root element's start tag.
    pub fn root(&mut self) -> Result<Start, DecodeError> {
        loop {
            match self.next()? {
                Event::Start(s) => return Ok(s),
                Event::Text(_) | Event::End => {}
                Event::Eof => return Err(DecodeError::Xml("no root element".into())),
            }
        }
    }

    /// The next child of the element open now (its start tag: the child is then open), or
    /// None once that element has ended (its end tag is read). Text between children is
    /// passed over.
    pub fn child(&mut self) -> Result<Option<Start>, DecodeError> {
        loop {
            match self.next()? {
                Event::Start(s) => return Ok(Some(s)),
                Event::Text(_) => {}
                Event::End => return Ok(None),
                Event::Eof => return Err(DecodeError::Xml("unexpected end of document".into())),
            }
        }
    }

    /// The text of the element open now (its character data, children passed over, at most
    /// [`MAX_TEXT`] bytes), reading up to its end.
    pub fn text(&mut self) -> Result<String, DecodeError> {
        let depth = self.depth;
        let mut text = String::new();
        loop {
            match self.next()? {
                Event::Text(t) if self.depth == depth => {
                    if text.len() + t.len() > MAX_TEXT {
                        return Err(DecodeError::Limit("text length"));
                    }
                    text.push_str(&t);
                }
                Event::Start(_) | Event::Text(_) => {}
                Event::End if self.depth < depth => return Ok(text),
                Event::End => {}
                Event::Eof => return Err(DecodeError::Xml("unexpected end of document".into())),
            }
        }
    }

    /// Reads past the end of the element open now (everything in it is checked, not kept).
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        self.skip_to(self.depth.saturating_sub(1))
    }

    /// Reads on until only `depth` elements are open (the ones open now beyond it end).
    pub fn skip_to(&mut self, depth: usize) -> Result<(), DecodeError> {
        while self.depth > depth {
            match self.next()? {
                Event::Eof => return Err(DecodeError::Xml("unexpected end of document".into())),
                Event::Start(_) | Event::Text(_) | Event::End => {}
            }
        }
        Ok(())
    }

    /// Reads the rest of the document, which may hold nothing but white space, comments and
    /// processing instructions after the root.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        self.skip_to(0)?;
        loop {
            match self.next()? {
                Event::Eof => return Ok(()),
                Event::Text(t) if t.trim().is_empty() => {}
                Event::Text(_) | Event::Start(_) | Event::End => {
                    return Err(DecodeError::Xml("content after the root element".into()))
                }
            }
        }
    }
}

/// Escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// What [`escape`] makes of one character: its entity, the character itself, or nothing.
fn escaped(c: char) -> Option<&'static str> {
    match c {
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '&' => Some("&amp;"),
        '"' => Some("&quot;"),
        '\'' => Some("&apos;"),
        // Control characters other than tab/newline/CR are not allowed in XML 1.0.
        c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => Some(""),
        _ => None,
    }
}

/// [`escape`], appended to `out` (no string of its own).
pub fn escape_into(out: &mut String, s: &str) {
    let mut copied = 0;
    for (i, c) in s.char_indices() {
        if let Some(entity) = escaped(c) {
            out.push_str(s.get(copied..i).unwrap_or_default());
            out.push_str(entity);
            copied = i + c.len_utf8();
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
}

/// The length of [`escape`]`(s)`, without making it.
pub fn escaped_len(s: &str) -> usize {
    s.chars()
        .map(|c| escaped(c).map_or(c.len_utf8(), str::len))
        .sum()
}

/// The text [`escape`] made, back (the control characters it dropped stay dropped).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        rest = rest.get(at..).unwrap_or_default();
        let entity = ["&lt;", "&gt;", "&amp;", "&quot;", "&apos;"]
            .into_iter()
            .zip(['<', '>', '&', '"', '\''])
            .find(|(e, _)| rest.starts_with(e));
        match entity {
            Some((e, c)) => {
                out.push(c);
                rest = rest.get(e.len()..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = rest.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_elements_text_and_skips() {
        let doc = b"<r xmlns='urn:x'><a k='v'>one<i>x</i>two</a><b><c/><c/></b><d>3</d></r>";
        let mut r = Reader::new(doc).unwrap();
        let root = r.root().unwrap();
        assert_eq!((root.ns.as_str(), root.name.as_str()), ("urn:x", "r"));
        let a = r.child().unwrap().unwrap();
        assert_eq!((a.name.as_str(), a.attr("k")), ("a", Some("v")));
        assert_eq!(
            r.text().unwrap(),
            "onetwo",
            "text of the element, not of children"
        );
        let b = r.child().unwrap().unwrap();
        assert_eq!(b.name, "b");
        r.skip().unwrap();
        assert_eq!(r.child().unwrap().unwrap().name, "d");
        assert_eq!(r.text().unwrap(), "3");
        assert_eq!(r.child().unwrap(), None, "the root ended");
        assert_eq!(r.depth(), 0);
        r.finish().unwrap();
    }

    #[test]
    fn a_truncated_document_is_an_error() {
        let mut r = Reader::new(b"<r><a>x").unwrap();
        r.root().unwrap();
        r.child().unwrap();
        assert!(matches!(r.text(), Err(DecodeError::Xml(_))));
        let mut r = Reader::new(b"<r><a/>").unwrap();
        r.root().unwrap();
        assert!(matches!(r.finish(), Err(DecodeError::Xml(_))));
        let mut r = Reader::new(b"<r/><r/>").unwrap();
        r.root().unwrap();
        assert!(matches!(r.finish(), Err(DecodeError::Xml(_))));
    }
}
