//! Namespaces in XML 1.0 (third edition) over the lexer's qualified names: the declarations
//! in scope (a stack, one mark per open element), prefixes resolved to namespace URIs.
//!
//! It owns §3 (declarations: `xmlns` and `xmlns:p`, scoped to their element), §4 (a prefix
//! must be bound; an attribute without a prefix is in no namespace) and §6.3 (an attribute
//! may not appear twice under one expanded name). Declarations are not passed on as
//! attributes. At most [`MAX_NAMESPACES`] are in scope at once, so resolving a name costs a
//! bounded scan.

use super::{Start, MAX_NAMESPACES};

/// The namespace the `xml` prefix is bound to, by definition (§3).
pub const XML_URI: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of `xmlns` itself, which nothing may be bound to (§3).
pub const XMLNS_URI: &str = "http://www.w3.org/2000/xmlns/";

/// The declarations in scope.
#[derive(Default)]
pub struct Scopes {
    /// (prefix, URI): the default namespace has the prefix "", and "" as its URI undeclares it.
    bindings: Vec<(String, String)>,
    /// For each open element, how many bindings there were before its start tag.
    marks: Vec<usize>,
}

/// Why a start tag's names could not be resolved (the caller adds where).
pub enum NameError {
    Xml(String),
    Limit(&'static str),
}

impl Scopes {
    /// Opens an element: its declarations come into scope, and its names are resolved.
    pub fn open(&mut self, name: &str, attrs: Vec<(&str, String)>) -> Result<Start, NameError> {
        self.marks.push(self.bindings.len());
        let mut plain = Vec::with_capacity(attrs.len());
        for (qname, value) in attrs {
            if qname == "xmlns" {
                self.declare("", value)?;
            } else if let Some(prefix) = qname.strip_prefix("xmlns:") {
                if prefix.is_empty() {
                    return Err(NameError::Xml(format!("`{qname}` is not a qualified name")));
                }
                self.declare(prefix, value)?;
            } else {
                plain.push((qname, value));
            }
        }
        let (prefix, local) = split(name)?;
        if matches!(prefix, Some("xml" | "xmlns")) {
            return Err(NameError::Xml(format!(
                "element `{name}` has a reserved prefix"
            )));
        }
        let ns = self.resolve(prefix.unwrap_or(""), name)?.to_string();
        let mut out: Vec<(String, String, String)> = Vec::with_capacity(plain.len());
        for (qname, value) in plain {
            let (prefix, local) = split(qname)?;
            let ns = match prefix {
                Some(p) => self.resolve(p, qname)?,
                None => "",
            };
            if out.iter().any(|(n, l, _)| n == ns && l == local) {
                return Err(NameError::Xml(format!("attribute `{qname}` twice")));
            }
            out.push((ns.to_string(), local.to_string(), value));
        }
        Ok(Start {
            ns,
            name: local.to_string(),
            attrs: out,
        })
    }

    /// Closes the innermost element: its declarations go out of scope.
    pub fn close(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.bindings.truncate(mark);
        }
    }

    fn declare(&mut self, prefix: &str, uri: String) -> Result<(), NameError> {
        let bad = match prefix {
            "" => uri == XML_URI || uri == XMLNS_URI,
            "xmlns" => true,
            "xml" => uri != XML_URI,
            _ => uri.is_empty() || uri == XML_URI || uri == XMLNS_URI || prefix.contains(':'),
        };
        if bad {
            return Err(NameError::Xml(format!(
                "namespace declaration `{}` = `{uri}` not allowed",
                if prefix.is_empty() { "xmlns" } else { prefix }
            )));
        }
        if self.bindings.len() >= MAX_NAMESPACES {
            return Err(NameError::Limit("namespace count"));
        }
        self.bindings.push((prefix.to_string(), uri));
        Ok(())
    }

    /// The URI `prefix` is bound to ("" for no default namespace).
    fn resolve(&self, prefix: &str, qname: &str) -> Result<&str, NameError> {
        if prefix == "xml" {
            return Ok(XML_URI);
        }
        match self.bindings.iter().rev().find(|(p, _)| p == prefix) {
            Some((_, uri)) => Ok(uri),
            None if prefix.is_empty() => Ok(""),
            None => Err(NameError::Xml(format!("prefix of `{qname}` not bound"))),
        }
    }
}

/// A QName (§4): `local` or `prefix:local`, neither part empty nor with a colon.
fn split(qname: &str) -> Result<(Option<&str>, &str), NameError> {
    let bad = || NameError::Xml(format!("`{qname}` is not a qualified name"));
    match qname.split_once(':') {
        None => Ok((None, qname)),
        Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => Ok((Some(p), l)),
        Some(_) => Err(bad()),
    }
}
