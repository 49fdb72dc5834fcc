//! A pull reader over xml-rs events, with namespace URIs resolved and every size bounded;
//! and escaping for the encoder.
//!
//! The decoder walks the document with it element by element ([`Reader::child`],
//! [`Reader::text`], [`Reader::skip`]) and keeps only what the typed message needs: no element
//! tree is built, so what a message costs in memory follows its typed result, not its bytes
//! (issue 13 §3: 200,000 empty elements cost no more than one). DOCTYPE declarations are
//! refused (no entity tricks), so decoding untrusted bytes costs at most the limits below.

use xml::reader::{EventReader, ParserConfig, XmlEvent};

use super::DecodeError;

/// Largest message accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Deepest element nesting.
pub const MAX_DEPTH: usize = 32;
/// Most elements in one message.
pub const MAX_ELEMENTS: usize = 200_000;
/// Longest text content of one element.
pub const MAX_TEXT: usize = 65_536;
/// Most attributes on one element.
pub const MAX_ATTRIBUTES: usize = 32;

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
enum Event {
    Start(Start),
    Text(String),
    End,
    Eof,
}

/// The reader: where it is (depth) and what it has counted.
pub struct Reader<'a> {
    events: EventReader<&'a [u8]>,
    /// Elements open now.
    depth: usize,
    /// Elements seen so far.
    elements: usize,
    /// The root element has ended.
    root_done: bool,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes` (at most [`MAX_BODY_BYTES`]).
    pub fn new(bytes: &'a [u8]) -> Result<Reader<'a>, DecodeError> {
        if bytes.len() > MAX_BODY_BYTES {
            return Err(DecodeError::Limit("body size"));
        }
        let cfg = ParserConfig::new()
            .trim_whitespace(false)
            .whitespace_to_characters(true)
            .cdata_to_characters(true)
            .ignore_comments(true);
        Ok(Reader {
            events: EventReader::new_with_config(bytes, cfg),
            depth: 0,
            elements: 0,
            root_done: false,
        })
    }

    /// Elements open now (the root's children are at depth 1).
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn next(&mut self) -> Result<Event, DecodeError> {
        loop {
            let ev = self
                .events
                .next()
                .map_err(|e| DecodeError::Xml(e.to_string()))?;
            match ev {
                XmlEvent::Doctype { .. } => {
                    return Err(DecodeError::Xml("DOCTYPE not allowed".into()))
                }
                XmlEvent::StartElement {
                    name, attributes, ..
                } => {
                    self.elements += 1;
                    if self.elements > MAX_ELEMENTS {
                        return Err(DecodeError::Limit("element count"));
                    }
                    if self.depth >= MAX_DEPTH {
                        return Err(DecodeError::Limit("element depth"));
                    }
                    if attributes.len() > MAX_ATTRIBUTES {
                        return Err(DecodeError::Limit("attribute count"));
                    }
                    if self.root_done {
                        return Err(DecodeError::Xml("content after the root element".into()));
                    }
                    self.depth += 1;
                    return Ok(Event::Start(Start {
                        ns: name.namespace.unwrap_or_default(),
                        name: name.local_name,
                        attrs: attributes
                            .into_iter()
                            .map(|a| {
                                (
                                    a.name.namespace.unwrap_or_default(),
                                    a.name.local_name,
                                    a.value,
                                )
                            })
                            .collect(),
                    }));
                }
                XmlEvent::Characters(t) => return Ok(Event::Text(t)),
                XmlEvent::EndElement { .. } => {
                    self.depth = self
                        .depth
                        .checked_sub(1)
                        .ok_or_else(|| DecodeError::Xml("unbalanced end tag".into()))?;
                    if self.depth == 0 {
                        self.root_done = true;
                    }
                    return Ok(Event::End);
                }
                XmlEvent::EndDocument => return Ok(Event::Eof),
                _ => {}
            }
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
