//! The test ACS's reader of what the CPE sends: a small element tree built from xml-rs
//! events, with namespace URIs resolved and sizes bounded. cwmpd itself decodes from the
//! event stream without a tree (`cwmpd::soap::xml::Reader`); the test ACS only reads its own
//! CPE's messages, and a tree is the handiest way to look into them.

use xml::reader::{EventReader, ParserConfig, XmlEvent};

/// Why a message is not a well-formed document within the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not well-formed XML (or a DOCTYPE).
    Xml(String),
    /// A named limit was exceeded.
    Limit(&'static str),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Xml(m) => write!(f, "xml: {m}"),
            ParseError::Limit(what) => write!(f, "xml: limit exceeded: {what}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Largest message accepted: above what cwmpd may send (its GetParameterValuesResponse is
/// capped at 16 MiB of values, `cwmpd::soap::MAX_VALUES_BYTES`), so the tests see its largest
/// answers whole.
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// Deepest element nesting.
pub const MAX_DEPTH: usize = 32;
/// Most elements in one message.
pub const MAX_ELEMENTS: usize = 200_000;
/// Longest text content of one element.
pub const MAX_TEXT: usize = 65_536;
/// Most attributes on one element.
pub const MAX_ATTRIBUTES: usize = 32;

/// An element: namespace URI, local name, attributes (local name → value), children, text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI, empty when none.
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes by (namespace, local name).
    pub attrs: Vec<(String, String, String)>,
    /// Child elements.
    pub children: Vec<Element>,
    /// Concatenated character data.
    pub text: String,
}

impl Element {
    /// The first child with this local name (any namespace: CWMP argument elements are
    /// unqualified, but some ACSs qualify them).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this local name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(_, n, _)| n == name)
            .map(|(_, _, v)| v.as_str())
    }
}

/// Parses bytes into the root element.
pub fn parse(bytes: &[u8]) -> Result<Element, ParseError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ParseError::Limit("body size"));
    }
    let cfg = ParserConfig::new()
        .trim_whitespace(false)
        .whitespace_to_characters(true)
        .cdata_to_characters(true)
        .ignore_comments(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    for ev in EventReader::new_with_config(bytes, cfg) {
        match ev.map_err(|e| ParseError::Xml(e.to_string()))? {
            XmlEvent::Doctype { .. } => return Err(ParseError::Xml("DOCTYPE not allowed".into())),
            XmlEvent::StartElement {
                name, attributes, ..
            } => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(ParseError::Limit("element count"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError::Limit("element depth"));
                }
                if attributes.len() > MAX_ATTRIBUTES {
                    return Err(ParseError::Limit("attribute count"));
                }
                if root.is_some() {
                    return Err(ParseError::Xml("content after the root element".into()));
                }
                stack.push(Element {
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
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            XmlEvent::Characters(t) => {
                if let Some(top) = stack.last_mut() {
                    if top.text.len() + t.len() > MAX_TEXT {
                        return Err(ParseError::Limit("text length"));
                    }
                    top.text.push_str(&t);
                }
            }
            XmlEvent::EndElement { .. } => {
                let done = stack
                    .pop()
                    .ok_or_else(|| ParseError::Xml("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            _ => {}
        }
    }
    root.ok_or_else(|| ParseError::Xml("no root element".into()))
}
