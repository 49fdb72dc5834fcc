//! The XML 1.0 tokenizer under [`super::Reader`]: UTF-8 bytes in, start tags, end tags, text
//! and the end of the document out. Sans-IO over one `&[u8]`, no recursion, every step linear.
//!
//! It owns the XML 1.0 rules (XML 1.0 fifth edition, §2–§4): the declaration and processing
//! instructions are passed over, comments too (`--` inside one is an error), `<!DOCTYPE` is
//! refused, CDATA sections come out as text, the five predefined entities and character
//! references are decoded, line ends are normalised (§2.11) and so are attribute values
//! (§3.3.3), each end tag must match the element open (§3, WFC: Element Type Match) and an
//! attribute may appear once in a tag. Names are passed on with their prefix: namespaces are
//! resolved above it ([`super::names`]). It does not own the counting limits either, except
//! the ones that bound its own memory: open elements ([`MAX_DEPTH`]) and attributes in a tag.
//!
//! ```text
//!   Prolog ──start tag──▶ Content(depth ≥ 1) ──last end tag──▶ Epilog ──end──▶ Eof
//!   (BOM, <?xml?>, PIs,    (tags, text, CDATA,                  (PIs, comments,
//!    comments, spaces)      comments, PIs)                        spaces)
//! ```

use super::{MAX_ATTRIBUTES, MAX_DEPTH, MAX_NAMESPACES};
use crate::soap::DecodeError;

/// One token.
#[derive(Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// A start tag (an empty-element tag gives a Start, then an End): byte offset of its `<`,
    /// qualified name, attributes as written (qualified name, normalised value).
    Start {
        at: usize,
        name: &'a str,
        attrs: Vec<(&'a str, String)>,
    },
    /// Character data inside the root element (text, references decoded, or a CDATA section).
    Text(String),
    /// An end tag matching the element open.
    End,
    /// The end of a well-formed document.
    Eof,
}

/// Where in the document the lexer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Prolog,
    Content,
    Epilog,
}

/// The tokenizer.
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    part: Part,
    /// Qualified names of the elements open now.
    open: Vec<&'a str>,
    /// The last start tag was an empty-element tag: its End comes next.
    pending_end: bool,
}

const BOM: &str = "\u{feff}";

impl<'a> Lexer<'a> {
    /// A lexer over `bytes`, which must be UTF-8 holding only XML characters (§2.2).
    pub fn new(bytes: &'a [u8]) -> Result<Lexer<'a>, DecodeError> {
        let src = std::str::from_utf8(bytes)
            .map_err(|e| DecodeError::Xml(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
        let mut lexer = Lexer::over(src);
        if let Some((at, c)) = src.char_indices().find(|&(_, c)| !is_xml_char(c)) {
            let what = format!("character U+{:04X} not allowed", c as u32);
            return Err(lexer.error_at(at, &what));
        }
        lexer.eat(BOM);
        let target_ends = |b: &u8| is_space(*b) || *b == b'?';
        if lexer.rest().starts_with("<?xml")
            && lexer.rest().as_bytes().get(5).is_some_and(target_ends)
        {
            lexer.declaration()?;
        }
        Ok(lexer)
    }

    fn over(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            part: Part::Prolog,
            open: Vec::new(),
            pending_end: false,
        }
    }

    /// An error at byte offset `at`, with its line and column.
    pub fn error_at(&self, at: usize, what: &str) -> DecodeError {
        let before = self.src.get(..at).unwrap_or(self.src);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        DecodeError::Xml(format!("{what} at {line}:{col}"))
    }

    fn error(&self, what: &str) -> DecodeError {
        self.error_at(self.pos, what)
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// Passes over `s` if the input goes on with it.
    fn eat(&mut self, s: &str) -> bool {
        let yes = self.rest().starts_with(s);
        if yes {
            self.pos += s.len();
        }
        yes
    }

    fn expect(&mut self, s: &str, what: &str) -> Result<(), DecodeError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// Passes over white space (§2.3 S); whether there was any.
    fn spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// The next token.
    pub fn next_token(&mut self) -> Result<Token<'a>, DecodeError> {
        if self.pending_end {
            self.pending_end = false;
            return Ok(self.close_element());
        }
        loop {
            let Some(b) = self.peek() else {
                return self.end_of_input();
            };
            if b != b'<' {
                if let Some(text) = self.text()? {
                    return Ok(Token::Text(text));
                }
            } else if self.rest().starts_with("<?") {
                self.processing_instruction()?;
            } else if self.rest().starts_with("<!--") {
                self.comment()?;
            } else if self.rest().starts_with("<![CDATA[") {
                return self.cdata().map(Token::Text);
            } else if self.rest().starts_with("<!DOCTYPE") {
                return Err(DecodeError::Xml("DOCTYPE not allowed".into()));
            } else if self.rest().starts_with("<!") {
                return Err(self.error("unexpected `<!`"));
            } else if self.rest().starts_with("</") {
                return self.end_tag();
            } else {
                return self.start_tag();
            }
        }
    }

    fn end_of_input(&self) -> Result<Token<'a>, DecodeError> {
        match self.part {
            Part::Epilog => Ok(Token::Eof),
            Part::Prolog => Err(self.error("no root element")),
            Part::Content => Err(self.error("unexpected end of document")),
        }
    }

    /// Ends the innermost element.
    fn close_element(&mut self) -> Token<'a> {
        self.open.pop();
        if self.open.is_empty() {
            self.part = Part::Epilog;
        }
        Token::End
    }

    /// `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` at the very start (§2.8).
    fn declaration(&mut self) -> Result<(), DecodeError> {
        self.pos += "<?xml".len();
        let version = self.pseudo_attribute("version")?;
        let ok = version
            .and_then(|v| v.strip_prefix("1."))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(self.error("XML declaration without version 1.x"));
        }
        if let Some(enc) = self.pseudo_attribute("encoding")? {
            if !reads_as_utf8(enc, self.src) {
                return Err(self.error(&format!("encoding {enc} not supported (UTF-8 only)")));
            }
        }
        if let Some(sa) = self.pseudo_attribute("standalone")? {
            if sa != "yes" && sa != "no" {
                return Err(self.error("standalone must be yes or no"));
            }
        }
        self.spaces();
        self.expect("?>", "malformed XML declaration")
    }

    /// ` name = "value"` in the XML declaration, if the next one is `name`.
    fn pseudo_attribute(&mut self, name: &str) -> Result<Option<&'a str>, DecodeError> {
        let start = self.pos;
        if !self.spaces() || !self.eat(name) {
            self.pos = start;
            return Ok(None);
        }
        self.spaces();
        self.expect("=", "expected `=` in the XML declaration")?;
        self.spaces();
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return Err(self.error("expected a quoted value in the XML declaration")),
        };
        self.pos += 1;
        let rest = self.rest();
        let len = rest
            .bytes()
            .position(|b| b == quote || b == b'<' || b == b'>')
            .filter(|&n| rest.as_bytes().get(n) == Some(&quote))
            .ok_or_else(|| self.error("unterminated value in the XML declaration"))?;
        let value = rest.get(..len).unwrap_or("");
        self.pos += len + 1;
        Ok(Some(value))
    }

    /// `<?target ...?>`, passed over (§2.6); a second XML declaration is an error.
    fn processing_instruction(&mut self) -> Result<(), DecodeError> {
        let at = self.pos;
        self.pos += 2;
        let target = self.name()?;
        if target.eq_ignore_ascii_case("xml") {
            return Err(self.error_at(at, "XML declaration not at the start"));
        }
        if !self.eat("?>") {
            if !self.spaces() {
                return Err(self.error("expected white space after the target of `<?`"));
            }
            let len = self
                .rest()
                .find("?>")
                .ok_or_else(|| self.error_at(at, "unterminated `<?`"))?;
            self.pos += len + 2;
        }
        Ok(())
    }

    /// `<!-- ... -->`, passed over; `--` may not appear inside (§2.5).
    fn comment(&mut self) -> Result<(), DecodeError> {
        let at = self.pos;
        self.pos += "<!--".len();
        let len = self
            .rest()
            .find("--")
            .ok_or_else(|| self.error_at(at, "unterminated comment"))?;
        self.pos += len;
        self.expect("-->", "`--` inside a comment")
    }

    /// `<![CDATA[ ... ]]>`: its characters as they are, line ends normalised (§2.7).
    fn cdata(&mut self) -> Result<String, DecodeError> {
        if self.part != Part::Content {
            return Err(self.error("CDATA section outside the root element"));
        }
        let at = self.pos;
        self.pos += "<![CDATA[".len();
        let rest = self.rest();
        let len = rest
            .find("]]>")
            .ok_or_else(|| self.error_at(at, "unterminated CDATA section"))?;
        self.pos += len + 3;
        let mut out = String::with_capacity(len);
        push_normalised(&mut out, rest.get(..len).unwrap_or(""), '\n');
        Ok(out)
    }

    /// Character data up to the next `<`: inside the root element its text; outside only
    /// white space is allowed (§2.1 document, §2.8 Misc), and it is passed over (`None`).
    fn text(&mut self) -> Result<Option<String>, DecodeError> {
        if self.part != Part::Content {
            let start = self.pos;
            self.spaces();
            if self.peek().is_some_and(|b| b != b'<') {
                let what = match self.part {
                    Part::Prolog => "text before the root element",
                    _ => "content after the root element",
                };
                return Err(self.error_at(start, what));
            }
            return Ok(None);
        }
        let mut out = String::new();
        loop {
            let rest = self.rest();
            let run = rest
                .bytes()
                .position(|b| matches!(b, b'<' | b'&' | b'\r' | b']'))
                .unwrap_or(rest.len());
            out.push_str(rest.get(..run).unwrap_or(""));
            self.pos += run;
            match self.peek() {
                None | Some(b'<') => return Ok(Some(out)),
                Some(b'&') => self.reference(&mut out)?,
                Some(b'\r') => {
                    // §2.11: CR LF and a lone CR are read as LF.
                    self.pos += 1;
                    self.eat("\n");
                    out.push('\n');
                }
                _ => {
                    // §2.4: `]]>` may not appear in character data.
                    if self.rest().starts_with("]]>") {
                        return Err(self.error("`]]>` in text"));
                    }
                    self.pos += 1;
                    out.push(']');
                }
            }
        }
    }

    /// `&name;`, `&#N;` or `&#xH;` (§4.1, §4.6): its character appended to `out`.
    fn reference(&mut self, out: &mut String) -> Result<(), DecodeError> {
        let at = self.pos;
        self.pos += 1;
        let c = if self.eat("#x") {
            self.char_reference(at, 16)?
        } else if self.eat("#") {
            self.char_reference(at, 10)?
        } else {
            let name = self
                .name()
                .map_err(|_| self.error_at(at, "`&` not starting a reference"))?;
            match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => return Err(self.error_at(at, &format!("unknown entity `&{name};`"))),
            }
        };
        if !self.eat(";") {
            return Err(self.error_at(at, "reference without `;`"));
        }
        out.push(c);
        Ok(())
    }

    /// The digits of a character reference, in `radix`; the character must be one XML allows.
    fn char_reference(&mut self, at: usize, radix: u32) -> Result<char, DecodeError> {
        let mut value: u32 = 0;
        let mut digits = 0;
        while let Some(d) = self.peek().and_then(|b| (b as char).to_digit(radix)) {
            value = value.saturating_mul(radix).saturating_add(d);
            digits += 1;
            self.pos += 1;
        }
        char::from_u32(value)
            .filter(|&c| digits > 0 && is_xml_char(c))
            .ok_or_else(|| self.error_at(at, "invalid character reference"))
    }

    /// A Name (§2.3): a name start character, then name characters.
    fn name(&mut self) -> Result<&'a str, DecodeError> {
        let rest = self.rest();
        let mut chars = rest.char_indices();
        match chars.next() {
            Some((_, c)) if is_name_start(c) => {}
            _ => return Err(self.error("expected a name")),
        }
        let len = chars
            .find(|&(_, c)| !is_name_char(c))
            .map_or(rest.len(), |(i, _)| i);
        self.pos += len;
        Ok(rest.get(..len).unwrap_or(""))
    }

    /// `<name attr="value" ...>` or `<name .../>` (§3.1).
    fn start_tag(&mut self) -> Result<Token<'a>, DecodeError> {
        let at = self.pos;
        if self.part == Part::Epilog {
            return Err(self.error("content after the root element"));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(DecodeError::Limit("element depth"));
        }
        self.pos += 1;
        let name = self.name()?;
        let mut attrs: Vec<(&'a str, String)> = Vec::new();
        let (mut plain, mut declarations) = (0, 0);
        let empty = loop {
            let spaced = self.spaces();
            match self.peek() {
                Some(b'>') => {
                    self.pos += 1;
                    break false;
                }
                Some(b'/') => {
                    self.expect("/>", "expected `/>`")?;
                    break true;
                }
                None => return Err(self.error_at(at, "unterminated start tag")),
                Some(_) if spaced => {
                    let attr_at = self.pos;
                    let (attr, value) = self.attribute()?;
                    if attrs.iter().any(|(n, _)| *n == attr) {
                        return Err(self.error_at(attr_at, &format!("attribute `{attr}` twice")));
                    }
                    if attr == "xmlns" || attr.starts_with("xmlns:") {
                        declarations += 1;
                    } else {
                        plain += 1;
                    }
                    if plain > MAX_ATTRIBUTES {
                        return Err(DecodeError::Limit("attribute count"));
                    }
                    if declarations > MAX_NAMESPACES {
                        return Err(DecodeError::Limit("namespace count"));
                    }
                    attrs.push((attr, value));
                }
                Some(_) => return Err(self.error("expected white space, `>` or `/>` in a tag")),
            }
        };
        self.open.push(name);
        self.part = Part::Content;
        self.pending_end = empty;
        Ok(Token::Start { at, name, attrs })
    }

    /// `name = "value"` in a start tag.
    fn attribute(&mut self) -> Result<(&'a str, String), DecodeError> {
        let name = self.name()?;
        self.spaces();
        self.expect("=", "expected `=` after an attribute name")?;
        self.spaces();
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return Err(self.error("expected a quoted attribute value")),
        };
        let at = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let rest = self.rest();
            let run = rest
                .bytes()
                .position(|b| b == quote || matches!(b, b'<' | b'&' | b'\r' | b'\n' | b'\t'))
                .ok_or_else(|| self.error_at(at, "unterminated attribute value"))?;
            value.push_str(rest.get(..run).unwrap_or(""));
            self.pos += run;
            match self.peek() {
                Some(b'<') => return Err(self.error("`<` in an attribute value")),
                Some(b'&') => self.reference(&mut value)?,
                Some(b'\r') => {
                    // §2.11 then §3.3.3: CR LF is one line end, and a line end is a space.
                    self.pos += 1;
                    self.eat("\n");
                    value.push(' ');
                }
                Some(b'\n' | b'\t') => {
                    self.pos += 1;
                    value.push(' ');
                }
                _ => {
                    self.pos += 1;
                    return Ok((name, value));
                }
            }
        }
    }

    /// `</name>`, which must close the element open (§3 WFC: Element Type Match).
    fn end_tag(&mut self) -> Result<Token<'a>, DecodeError> {
        let at = self.pos;
        self.pos += 2;
        let name = self.name()?;
        self.spaces();
        self.expect(">", "expected `>` in an end tag")?;
        match self.open.last() {
            Some(&open) if open == name => Ok(self.close_element()),
            Some(&open) => {
                Err(self.error_at(at, &format!("end tag `{name}` does not match `{open}`")))
            }
            None => Err(self.error_at(at, "end tag outside the root element")),
        }
    }
}

/// Whether a document declared in `encoding` reads the same as UTF-8: it is UTF-8 or US-ASCII,
/// or ISO-8859-1 with nothing but ASCII in it (as some ACSs declare). Others are refused rather
/// than misread; CWMP ACSs send UTF-8.
fn reads_as_utf8(encoding: &str, src: &str) -> bool {
    let is = |names: &[&str]| names.iter().any(|n| encoding.eq_ignore_ascii_case(n));
    is(&["utf-8", "utf8", "us-ascii", "ascii"])
        || (is(&["iso-8859-1", "latin1", "iso_8859-1", "latin-1"]) && src.is_ascii())
}

/// Appends `s` to `out` with CR LF and lone CRs as `eol` (§2.11).
fn push_normalised(out: &mut String, s: &str, eol: char) {
    let mut rest = s;
    while let Some(cr) = rest.find('\r') {
        out.push_str(rest.get(..cr).unwrap_or(""));
        out.push(eol);
        rest = rest.get(cr + 1..).unwrap_or("");
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
}

/// §2.3 S.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// §2.2 Char (surrogates cannot occur in a `char`).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{fffd}' | '\u{10000}'..)
}

/// §2.3 NameStartChar.
fn is_name_start(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{c0}'..='\u{d6}' | '\u{d8}'..='\u{f6}' | '\u{f8}'..='\u{2ff}'
        | '\u{370}'..='\u{37d}' | '\u{37f}'..='\u{1fff}' | '\u{200c}'..='\u{200d}'
        | '\u{2070}'..='\u{218f}' | '\u{2c00}'..='\u{2fef}' | '\u{3001}'..='\u{d7ff}'
        | '\u{f900}'..='\u{fdcf}' | '\u{fdf0}'..='\u{fffd}' | '\u{10000}'..='\u{effff}')
}

/// §2.3 NameChar.
fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c,
            '-' | '.' | '0'..='9' | '\u{b7}' | '\u{300}'..='\u{36f}' | '\u{203f}'..='\u{2040}')
}

#[cfg(test)]
mod tests;
