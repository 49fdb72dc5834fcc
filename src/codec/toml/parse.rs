//! Reading: TOML text to a [`Table`] through the `toml` crate's parser, used parse-only (its
//! spanned `DeTable`, no serde: serde's per-type code is what cost ~380 KB on MIPS, see
//! BENCHMARKS.md). This module turns the crate's tree into cwmpd's [`Value`] tree, its byte
//! spans into the 1-based lines of [`Lines`] and [`ParseError`], and refuses what no cwmpd file
//! holds: floats and dates (by name, so a user knows to quote them), integers outside
//! `i64::MIN..=u64::MAX`, and nesting deeper than [`MAX_DEPTH`].
//!
//! The grammar (TOML 1.1: all four string forms, integers in every base, dotted and quoted
//! keys, inline tables over several lines), duplicate keys and tables defined twice are the
//! `toml` crate's; it also bounds its own recursion (80 levels) so that hostile input cannot
//! exhaust the stack. The error is the first the crate reports, which need not be the first in
//! the text: structure is checked before the contents of strings and numbers, so a string
//! left open on one line shows as the error it causes on the next.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use ::toml::de::{DeInteger, DeTable, DeValue};
use ::toml::Spanned;

use super::value::{Table, Value};

/// Deepest nesting of arrays and tables (headers, dotted keys and inline tables alike) below
/// the root. cwmpd's deepest files nest 4 levels.
pub const MAX_DEPTH: usize = 32;

/// Separates the parts of a [`Lines`] key.
pub const SEP: char = '\u{1f}';

/// The line of every key, table header and array element: keyed by the path of keys from the
/// root, each preceded by [`SEP`], array elements by their index
/// (`␟object␟3␟params␟Enable`).
pub type Lines = BTreeMap<String, usize>;

/// The [`Lines`] key of a path.
pub fn path_key(parts: &[&str]) -> String {
    let mut k = String::new();
    for p in parts {
        push_part(&mut k, p);
    }
    k
}

/// Every part starts with [`SEP`], so that empty keys (`[""]`) make distinct paths.
fn push_part(key: &mut String, part: &str) {
    key.push(SEP);
    key.push_str(part);
}

/// Why a text is not TOML cwmpd can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line; 0 when the parser gave no position (a dotted key of 80 parts).
    pub line: usize,
    /// 1-based column in bytes; 0 with `line`.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return f.write_str(&self.message);
        }
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.col, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses a document.
pub fn parse(text: &str) -> Result<Table, ParseError> {
    Reader::new(text, false).document()
}

/// Parses a document and records the line of each key, header and array element.
pub fn parse_with_lines(text: &str) -> Result<(Table, Lines), ParseError> {
    let mut r = Reader::new(text, true);
    let t = r.document()?;
    Ok((t, r.lines.unwrap_or_default()))
}

type R<T> = Result<T, ParseError>;

struct Reader<'a> {
    text: &'a str,
    /// Byte offsets of the text's line feeds, found when a line is first asked for.
    newlines: Option<Vec<usize>>,
    lines: Option<Lines>,
    /// The [`Lines`] key of the value being converted.
    key: String,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, lines: bool) -> Reader<'a> {
        Reader {
            text,
            newlines: None,
            lines: lines.then(Lines::new),
            key: String::new(),
        }
    }

    /// The 1-based line and column (in bytes) of a byte offset.
    fn position(&mut self, pos: usize) -> (usize, usize) {
        let text = self.text;
        let newlines = self.newlines.get_or_insert_with(|| {
            text.bytes()
                .enumerate()
                .filter(|&(_, c)| c == b'\n')
                .map(|(i, _)| i)
                .collect()
        });
        let before = newlines.partition_point(|&n| n < pos);
        let start = match before.checked_sub(1).and_then(|i| newlines.get(i)) {
            Some(&n) => n + 1,
            None => 0,
        };
        (before + 1, pos.saturating_sub(start) + 1)
    }

    fn err<T>(&mut self, pos: usize, message: impl Into<String>) -> R<T> {
        let (line, col) = self.position(pos);
        Err(ParseError {
            line,
            col,
            message: message.into(),
        })
    }

    fn record(&mut self, pos: usize) {
        if self.lines.is_some() {
            let (line, _) = self.position(pos);
            if let Some(l) = self.lines.as_mut() {
                l.insert(self.key.clone(), line);
            }
        }
    }

    fn document(&mut self) -> R<Table> {
        match DeTable::parse(self.text) {
            Ok(doc) => self.table(doc.into_inner(), 0),
            Err(e) => {
                let message = describe(&e, self.text);
                match e.span() {
                    Some(span) => self.err(span.start, message),
                    None => Err(ParseError {
                        line: 0,
                        col: 0,
                        message,
                    }),
                }
            }
        }
    }

    fn table(&mut self, t: DeTable<'_>, depth: usize) -> R<Table> {
        let mut out = Table::new();
        for (k, v) in t {
            let at = k.span().start;
            let k = owned(k.into_inner());
            let len = self.key.len();
            push_part(&mut self.key, &k);
            self.record(at);
            let v = self.value(v, depth)?;
            self.key.truncate(len);
            out.insert(k, v);
        }
        Ok(out)
    }

    /// Converts the value of the key (or array element) at `self.key`, found in a container
    /// `depth` levels below the root.
    fn value(&mut self, v: Spanned<DeValue<'_>>, depth: usize) -> R<Value> {
        let at = v.span().start;
        match v.into_inner() {
            DeValue::String(s) => Ok(Value::String(owned(s))),
            DeValue::Boolean(b) => Ok(Value::Boolean(b)),
            DeValue::Integer(i) => match integer(&i) {
                Some(n) => Ok(Value::Integer(n)),
                None => self.err(at, format!("integer `{i}` out of range")),
            },
            DeValue::Float(_) => self.err(at, "floats are not supported"),
            DeValue::Datetime(_) => self.err(at, "dates and times are not supported: quote them"),
            DeValue::Array(a) => {
                self.enter(at, depth)?;
                let mut items = Vec::with_capacity(a.len());
                for (i, x) in a.into_iter().enumerate() {
                    let len = self.key.len();
                    push_part(&mut self.key, &i.to_string());
                    // An element of an array of tables starts at its `[[header]]`.
                    self.record(x.span().start);
                    items.push(self.value(x, depth + 1)?);
                    self.key.truncate(len);
                }
                Ok(Value::Array(items))
            }
            DeValue::Table(t) => {
                self.enter(at, depth)?;
                self.table(t, depth + 1).map(Value::Table)
            }
        }
    }

    fn enter(&mut self, at: usize, depth: usize) -> R<()> {
        if depth >= MAX_DEPTH {
            return self.err(at, format!("nested deeper than {MAX_DEPTH}"));
        }
        Ok(())
    }
}

/// The integer, if it is within `i64::MIN..=u64::MAX`: TOML's integers are 64-bit signed,
/// and TR-106's unsignedLong ranges reach 2^64−1. The parser hands over the digits (sign
/// included, `_` removed, no `0x` prefix) and the radix.
fn integer(i: &DeInteger<'_>) -> Option<i128> {
    let n = i128::from_str_radix(i.as_str(), i.radix()).ok()?;
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&n)
        .then_some(n)
}

/// A string the parser borrowed from the text or decoded: owned with no spare capacity (the
/// loaded data model keeps thousands of them).
fn owned(s: Cow<'_, str>) -> String {
    match s {
        Cow::Borrowed(b) => b.to_owned(),
        Cow::Owned(mut o) => {
            o.shrink_to_fit();
            o
        }
    }
}

/// The parser's message, with the text it points at when that is short and on one line
/// (`duplicate key` says which).
fn describe(e: &::toml::de::Error, text: &str) -> String {
    // The parser says what it expected; "expected nothing" adds nothing.
    let mut m = e.message().replace(", expected nothing", "");
    let shown = e
        .span()
        .and_then(|s| text.get(s))
        .filter(|s| !s.is_empty() && s.len() <= 40 && !s.contains(['\n', '\r']));
    if let Some(s) = shown {
        m.push_str(": `");
        m.push_str(s);
        m.push('`');
    }
    m
}
