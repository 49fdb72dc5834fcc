//! One UCI package file (`/etc/config/<package>`) as lines that keep their original text.
//!
//! Parsing understands `config <type> ['name']`, `option <name> <value>`, `list <name>
//! <value>`, comments and blank lines, and UCI's quoting: single quotes (no escapes), double
//! quotes and bare words (backslash escapes), pieces glued together (`'it'\''s'`). Edits
//! rewrite only the lines they touch, so a round trip of an unchanged file is byte-identical
//! and unrelated content (comments, ordering, spacing) survives every change.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 512 * 1024;
/// Most sections in one package.
pub const MAX_SECTIONS: usize = 4096;
/// Most option and list lines in one package (low enough that a file within
/// [`MAX_FILE_BYTES`] can reach it, so it is a real limit and not a dead one).
pub const MAX_OPTIONS: usize = 16_384;

/// A parse error with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "uci: line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Comment, blank or anything we keep verbatim.
    Other,
    /// `config type ['name']`
    Config { ty: String, name: Option<String> },
    /// `option name value`
    Option { name: String, value: String },
    /// `list name value`
    List { name: String, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    raw: String,
    kind: Kind,
}

/// A section as seen from outside: its id (name, or generated for anonymous sections),
/// type and position among sections of that type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Name, or `cfgXXYYYY` for an anonymous section.
    pub id: String,
    /// Section type.
    pub ty: String,
    /// True when the section has a name in the file.
    pub named: bool,
    /// Index among sections of the same type (for `@type[n]`).
    pub index: usize,
}

/// A parsed package.
#[derive(Debug, Clone)]
pub struct Doc {
    lines: Vec<Line>,
    trailing_newline: bool,
    /// Where each section is, built on first use after a change: lookups by id or
    /// `@type[n]` are then constant time instead of a scan of every line (a table of 1,000
    /// firewall rules is read with 7,000 lookups).
    index: OnceCell<Index>,
}

impl PartialEq for Doc {
    fn eq(&self, other: &Doc) -> bool {
        self.lines == other.lines && self.trailing_newline == other.trailing_newline
    }
}

impl Eq for Doc {}

/// Sections in file order with their line spans, by id and by type.
#[derive(Debug, Clone, Default)]
struct Index {
    sections: Vec<Section>,
    /// Line range (config line, end exclusive) of each section, parallel to `sections`.
    spans: Vec<(usize, usize)>,
    by_id: HashMap<String, usize>,
    by_type: HashMap<String, Vec<usize>>,
}

/// Splits a line into words with UCI quoting; `None` for an unterminated quote.
fn words(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        x => cur.push(x),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => cur.push(chars.next()?),
                        x => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next()?);
            }
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

/// Quotes a value the way `uci export` does: single quotes, `'` written as `'\''`.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn anon_id(ty: &str, position: usize) -> String {
    // Stable for a given file: position among all sections plus a hash of the type, like
    // libuci's `cfgNNHHHH`. libuci wraps the position at 256, which makes ids collide in
    // big files; here it widens instead (`cfg100HHHH`), so every id names one section.
    let h = ty
        .bytes()
        .fold(5381u32, |h, b| h.wrapping_mul(33) ^ u32::from(b))
        & 0xffff;
    format!("cfg{position:02x}{h:04x}")
}

impl Doc {
    /// Parses a package file.
    pub fn parse(text: &str) -> Result<Doc, ParseError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(ParseError {
                line: 0,
                message: format!("{} bytes, at most {MAX_FILE_BYTES}", text.len()),
            });
        }
        let mut lines = Vec::new();
        let (mut sections, mut options) = (0usize, 0usize);
        for (i, raw) in text.lines().enumerate() {
            let err = |m: &str| ParseError {
                line: i + 1,
                message: m.to_string(),
            };
            let w = words(raw).ok_or_else(|| err("unterminated quote"))?;
            let kind = match w.first().map(|s| s.as_str()) {
                None => Kind::Other,
                Some("config") => {
                    sections += 1;
                    if sections > MAX_SECTIONS {
                        return Err(err(&format!("more than {MAX_SECTIONS} sections")));
                    }
                    let ty = w
                        .get(1)
                        .ok_or_else(|| err("config without a type"))?
                        .clone();
                    if !valid_name(&ty) {
                        return Err(err("invalid section type"));
                    }
                    let name = w.get(2).cloned();
                    if name.as_deref().is_some_and(|n| !valid_name(n)) {
                        return Err(err("invalid section name"));
                    }
                    if w.len() > 3 {
                        return Err(err("too many words after config"));
                    }
                    Kind::Config { ty, name }
                }
                Some(k @ ("option" | "list")) => {
                    if sections == 0 {
                        return Err(err(&format!("{k} before any config section")));
                    }
                    options += 1;
                    if options > MAX_OPTIONS {
                        return Err(err(&format!("more than {MAX_OPTIONS} options")));
                    }
                    let name = w.get(1).ok_or_else(|| err("missing option name"))?.clone();
                    if !valid_name(&name) {
                        return Err(err("invalid option name"));
                    }
                    let value = w.get(2).cloned().unwrap_or_default();
                    if w.len() > 3 {
                        return Err(err("too many words (quote values with spaces)"));
                    }
                    if k == "option" {
                        Kind::Option { name, value }
                    } else {
                        Kind::List { name, value }
                    }
                }
                Some("package") => Kind::Other,
                Some(other) => return Err(err(&format!("unknown keyword {other:?}"))),
            };
            lines.push(Line {
                raw: raw.to_string(),
                kind,
            });
        }
        Ok(Doc {
            lines,
            trailing_newline: text.ends_with('\n') || text.is_empty(),
            index: OnceCell::new(),
        })
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut ix = Index::default();
            for (i, l) in self.lines.iter().enumerate() {
                if let Kind::Config { ty, name } = &l.kind {
                    if let Some(last) = ix.spans.last_mut() {
                        last.1 = i;
                    }
                    let pos = ix.sections.len();
                    let of_type = ix.by_type.entry(ty.clone()).or_default();
                    let id = name.clone().unwrap_or_else(|| anon_id(ty, pos));
                    ix.sections.push(Section {
                        id: id.clone(),
                        ty: ty.clone(),
                        named: name.is_some(),
                        index: of_type.len(),
                    });
                    of_type.push(pos);
                    ix.spans.push((i, self.lines.len()));
                    // The first of equal ids wins, as a scan from the top would find it.
                    ix.by_id.entry(id).or_insert(pos);
                }
            }
            ix
        })
    }

    /// Drops the section index before the lines change.
    fn touched(&mut self) {
        self.index = OnceCell::new();
    }

    /// The file text.
    pub fn render(&self) -> String {
        let mut s = self
            .lines
            .iter()
            .map(|l| l.raw.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if self.trailing_newline && !self.lines.is_empty() {
            s.push('\n');
        }
        s
    }

    /// All sections in file order.
    pub fn sections(&self) -> Vec<Section> {
        self.index().sections.clone()
    }

    /// Resolves a section reference: a name/id, `@type[n]` or `@type[-n]`.
    pub fn resolve(&self, reference: &str) -> Option<Section> {
        let ix = self.index();
        if let Some(rest) = reference.strip_prefix('@') {
            let (ty, idx) = rest.strip_suffix(']')?.split_once('[')?;
            let of_type = ix.by_type.get(ty)?;
            // `@device[name=lan4]`: the first section of the type with that option value
            // (netifd's device sections are anonymous, known by their `name`).
            if let Some((opt, want)) = idx.split_once('=') {
                let found = of_type.iter().find(|&&at| {
                    ix.sections
                        .get(at)
                        .is_some_and(|s| self.option(&s.id, opt).as_deref() == Some(want))
                });
                return found.and_then(|&at| ix.sections.get(at)).cloned();
            }
            let i: i64 = idx.parse().ok()?;
            let pos = if i < 0 { of_type.len() as i64 + i } else { i };
            let at = *of_type.get(usize::try_from(pos).ok()?)?;
            return ix.sections.get(at).cloned();
        }
        ix.by_id
            .get(reference)
            .and_then(|&at| ix.sections.get(at))
            .cloned()
    }

    /// Line range (config line, end exclusive) of the section with this id.
    fn span(&self, id: &str) -> Option<(usize, usize)> {
        let ix = self.index();
        ix.by_id.get(id).and_then(|&at| ix.spans.get(at)).copied()
    }

    /// An option's value.
    pub fn option(&self, id: &str, name: &str) -> Option<String> {
        let (s, e) = self.span(id)?;
        self.lines[s..e].iter().find_map(|l| match &l.kind {
            Kind::Option { name: n, value } if n == name => Some(value.clone()),
            _ => None,
        })
    }

    /// A list's values (empty when absent).
    pub fn list(&self, id: &str, name: &str) -> Vec<String> {
        let Some((s, e)) = self.span(id) else {
            return Vec::new();
        };
        self.lines[s..e]
            .iter()
            .filter_map(|l| match &l.kind {
                Kind::List { name: n, value } if n == name => Some(value.clone()),
                _ => None,
            })
            .collect()
    }

    /// All options of a section (name, value), lists joined with spaces.
    pub fn options(&self, id: &str) -> Vec<(String, String)> {
        let Some((s, e)) = self.span(id) else {
            return Vec::new();
        };
        let mut out: Vec<(String, String)> = Vec::new();
        for l in &self.lines[s..e] {
            match &l.kind {
                Kind::Option { name, value } => out.push((name.clone(), value.clone())),
                Kind::List { name, value } => match out.iter_mut().find(|(n, _)| n == name) {
                    Some((_, v)) => {
                        v.push(' ');
                        v.push_str(value);
                    }
                    None => out.push((name.clone(), value.clone())),
                },
                _ => {}
            }
        }
        out
    }

    fn indent(&self, s: usize, e: usize) -> String {
        self.lines[s + 1..e]
            .iter()
            .find(|l| matches!(l.kind, Kind::Option { .. } | Kind::List { .. }))
            .map(|l| l.raw.chars().take_while(|c| c.is_whitespace()).collect())
            .unwrap_or_else(|| "\t".to_string())
    }

    /// Where new lines of a section go: after its last option or list line.
    fn insert_at(&self, s: usize, e: usize) -> usize {
        (s + 1..e)
            .rev()
            .find(|&i| matches!(self.lines[i].kind, Kind::Option { .. } | Kind::List { .. }))
            .map(|i| i + 1)
            .unwrap_or(s + 1)
    }

    /// Sets an option, replacing its line or adding one; `false` if the section is missing.
    pub fn set_option(&mut self, id: &str, name: &str, value: &str) -> bool {
        let Some((s, e)) = self.span(id) else {
            return false;
        };
        self.touched();
        let indent = self.indent(s, e);
        let raw = format!("{indent}option {name} {}", quote(value));
        let kind = Kind::Option {
            name: name.into(),
            value: value.into(),
        };
        if let Some(i) = (s..e)
            .find(|&i| matches!(&self.lines[i].kind, Kind::Option { name: n, .. } if n == name))
        {
            if self.lines[i].kind != kind {
                self.lines[i] = Line { raw, kind };
            }
        } else {
            let at = self.insert_at(s, e);
            self.lines.insert(at, Line { raw, kind });
        }
        true
    }

    /// Removes an option (or all lines of a list).
    pub fn delete_option(&mut self, id: &str, name: &str) -> bool {
        let Some((s, e)) = self.span(id) else {
            return false;
        };
        self.touched();
        let before = self.lines.len();
        let mut i = e;
        while i > s + 1 {
            i -= 1;
            if matches!(&self.lines[i].kind, Kind::Option { name: n, .. } | Kind::List { name: n, .. } if n == name)
            {
                self.lines.remove(i);
            }
        }
        self.lines.len() != before
    }

    /// Replaces a list's values.
    pub fn set_list(&mut self, id: &str, name: &str, values: &[String]) -> bool {
        let Some((s, e)) = self.span(id) else {
            return false;
        };
        if self.list(id, name) == values {
            return true;
        }
        let indent = self.indent(s, e);
        let first = (s..e)
            .find(|&i| matches!(&self.lines[i].kind, Kind::List { name: n, .. } if n == name));
        self.delete_option(id, name);
        let Some((s, e)) = self.span(id) else {
            return false;
        };
        let at = first
            .map(|f| f.min(e))
            .unwrap_or_else(|| self.insert_at(s, e));
        self.touched();
        for (k, v) in values.iter().enumerate() {
            let raw = format!("{indent}list {name} {}", quote(v));
            self.lines.insert(
                at + k,
                Line {
                    raw,
                    kind: Kind::List {
                        name: name.into(),
                        value: v.clone(),
                    },
                },
            );
        }
        true
    }

    /// Appends a section; returns its id.
    pub fn add_section(&mut self, ty: &str, name: Option<&str>) -> Option<String> {
        if !valid_name(ty) || name.is_some_and(|n| !valid_name(n) || self.resolve(n).is_some()) {
            return None;
        }
        if self.sections().len() >= MAX_SECTIONS {
            return None;
        }
        self.touched();
        if self.lines.last().is_some_and(|l| !l.raw.trim().is_empty()) {
            self.lines.push(Line {
                raw: String::new(),
                kind: Kind::Other,
            });
        }
        let raw = match name {
            Some(n) => format!("config {ty} {}", quote(n)),
            None => format!("config {ty}"),
        };
        self.lines.push(Line {
            raw,
            kind: Kind::Config {
                ty: ty.into(),
                name: name.map(String::from),
            },
        });
        self.trailing_newline = true;
        let count = self.sections().len();
        Some(
            name.map(String::from)
                .unwrap_or_else(|| anon_id(ty, count - 1)),
        )
    }

    /// Removes a section with its lines and one blank line before it.
    pub fn delete_section(&mut self, id: &str) -> bool {
        let Some((s, e)) = self.span(id) else {
            return false;
        };
        self.touched();
        // Keep trailing comments/blank lines that belong to the next section's preamble.
        let mut end = e;
        while end > s + 1 && matches!(self.lines[end - 1].kind, Kind::Other) {
            end -= 1;
        }
        self.lines.drain(s..end);
        if s > 0
            && self
                .lines
                .get(s - 1)
                .is_some_and(|l| l.raw.trim().is_empty())
            && self.lines.get(s).is_none_or(|l| l.raw.trim().is_empty())
        {
            self.lines.remove(s - 1);
        }
        true
    }
}

#[cfg(test)]
mod tests;
