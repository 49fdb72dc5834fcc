//! The parser: TOML text to a [`Table`], with the line and column of the first error. It
//! reads the TOML 1.0 forms cwmpd's files use (tables, arrays of tables, dotted and quoted
//! keys, all four string forms, integers in every base, booleans, arrays, inline tables, which
//! may span lines as in TOML 1.1) and refuses floats and dates by name. Duplicate keys and
//! tables defined twice are errors; nesting is bounded, so hostile input cannot exhaust the
//! stack.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::value::{Table, Value};

/// Deepest nesting of arrays and inline tables.
pub const MAX_DEPTH: usize = 32;

/// Separates the parts of a [`Lines`] key.
pub const SEP: char = '\u{1f}';

/// The line of every key and table header: keyed by the path of keys from the root, each
/// preceded by [`SEP`], array-of-tables elements by their index (`␟object␟3␟params␟Enable`).
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
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in bytes).
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
    Parser::new(text, false).document()
}

/// Parses a document and records the line of each key and header.
pub fn parse_with_lines(text: &str) -> Result<(Table, Lines), ParseError> {
    let mut p = Parser::new(text, true);
    let t = p.document()?;
    Ok((t, p.lines.unwrap_or_default()))
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    lines: Option<Lines>,
    /// (position, line) of the last line lookup: lookups move forward.
    cache: (usize, usize),
    /// Tables given a `[header]` (or created as array elements).
    defined: BTreeSet<String>,
}

type R<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    fn new(src: &'a str, lines: bool) -> Parser<'a> {
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
            depth: 0,
            lines: lines.then(Lines::new),
            cache: (0, 1),
            defined: BTreeSet::new(),
        }
    }

    fn line_at(&mut self, pos: usize) -> usize {
        let (from, mut line) = if pos >= self.cache.0 {
            self.cache
        } else {
            (0, 1)
        };
        line += self.b[from..pos].iter().filter(|&&c| c == b'\n').count();
        self.cache = (pos, line);
        line
    }

    fn err<T>(&mut self, message: impl Into<String>) -> R<T> {
        let pos = self.pos.min(self.b.len());
        let line = self.line_at(pos);
        let start = self.b[..pos]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        Err(ParseError {
            line,
            col: pos - start + 1,
            message: message.into(),
        })
    }

    fn record(&mut self, key: &str, pos: usize) {
        if self.lines.is_some() {
            let line = self.line_at(pos);
            if let Some(l) = self.lines.as_mut() {
                l.insert(key.to_string(), line);
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.b.get(self.pos + n).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> R<()> {
        if self.eat(c) {
            Ok(())
        } else {
            self.err(format!("expected {what}"))
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_comment(&mut self) -> R<()> {
        if self.peek() == Some(b'#') {
            while let Some(c) = self.peek() {
                if c == b'\n' || (c == b'\r' && self.peek_at(1) == Some(b'\n')) {
                    break;
                }
                if c < 0x20 && c != b'\t' || c == 0x7f {
                    return self.err("control character in a comment");
                }
                self.pos += 1;
            }
        }
        Ok(())
    }

    fn eat_newline(&mut self) -> bool {
        if self.eat(b'\n') {
            return true;
        }
        if self.peek() == Some(b'\r') && self.peek_at(1) == Some(b'\n') {
            self.pos += 2;
            return true;
        }
        false
    }

    /// Whitespace, comments and newlines (between statements and inside arrays).
    fn skip_blank(&mut self) -> R<()> {
        loop {
            self.skip_ws();
            self.skip_comment()?;
            if !self.eat_newline() {
                return Ok(());
            }
        }
    }

    fn end_of_line(&mut self) -> R<()> {
        self.skip_ws();
        self.skip_comment()?;
        if self.pos < self.b.len() && !self.eat_newline() {
            return self.err("expected the end of the line");
        }
        Ok(())
    }

    fn document(&mut self) -> R<Table> {
        let mut root = Table::new();
        let mut section: Vec<String> = Vec::new();
        let mut section_key = String::new();
        loop {
            self.skip_blank()?;
            let Some(c) = self.peek() else { break };
            let start = self.pos;
            if c == b'[' {
                let array = self.peek_at(1) == Some(b'[');
                self.pos += if array { 2 } else { 1 };
                self.skip_ws();
                let keys = self.key_path()?;
                self.skip_ws();
                self.expect(b']', "`]`")?;
                if array {
                    self.expect(b']', "`]]`")?;
                }
                self.end_of_line()?;
                section_key = self.open_header(&mut root, &keys, array, start)?;
                section = keys;
            } else {
                let keys = self.key_path()?;
                self.skip_ws();
                self.expect(b'=', "`=` after a key")?;
                self.skip_ws();
                let value = self.value(&section_key, &keys)?;
                let Some(table) = navigate(&mut root, &section) else {
                    return self.err("internal: section vanished");
                };
                self.insert(table, &section_key, &keys, value, start)?;
                self.end_of_line()?;
            }
        }
        Ok(root)
    }

    /// Creates (or, for `[[…]]`, appends) the table a header names; returns its lines key.
    fn open_header(
        &mut self,
        root: &mut Table,
        keys: &[String],
        array: bool,
        start: usize,
    ) -> R<String> {
        let mut t = root;
        let mut pkey = String::new();
        for (i, k) in keys.iter().enumerate() {
            let last = i + 1 == keys.len();
            push_part(&mut pkey, k);
            if last && array {
                let entry = t
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(a) = entry else {
                    let msg = format!("`{}` is not an array of tables", keys.join("."));
                    return self.err(msg);
                };
                if a.iter().any(|v| !matches!(v, Value::Table(_))) {
                    let msg = format!("`{}` is an array of values", keys.join("."));
                    return self.err(msg);
                }
                a.push(Value::Table(Table::new()));
                push_part(&mut pkey, &(a.len() - 1).to_string());
                self.defined.insert(pkey.clone());
                self.record(&pkey, start);
                return Ok(pkey);
            }
            let entry = t
                .entry(k.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            t = match entry {
                Value::Table(nt) => nt,
                Value::Array(a) if !last && matches!(a.last(), Some(Value::Table(_))) => {
                    push_part(&mut pkey, &(a.len() - 1).to_string());
                    match a.last_mut() {
                        Some(Value::Table(nt)) => nt,
                        _ => return self.err("internal: array element vanished"),
                    }
                }
                _ => {
                    let msg = format!("`{}` is already a value", keys[..=i].join("."));
                    return self.err(msg);
                }
            };
        }
        if !self.defined.insert(pkey.clone()) {
            return self.err(format!("table [{}] defined twice", keys.join(".")));
        }
        self.record(&pkey, start);
        Ok(pkey)
    }

    /// Puts a value at a (dotted) key inside `table`.
    fn insert(
        &mut self,
        mut table: &mut Table,
        base: &str,
        keys: &[String],
        value: Value,
        start: usize,
    ) -> R<()> {
        let mut pkey = base.to_string();
        let Some((last, parents)) = keys.split_last() else {
            return self.err("empty key");
        };
        for k in parents {
            push_part(&mut pkey, k);
            let entry = table
                .entry(k.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            table = match entry {
                Value::Table(t) => t,
                _ => return self.err(format!("`{}` is already a value", keys.join("."))),
            };
        }
        push_part(&mut pkey, last);
        if table.contains_key(last) || self.defined.contains(&pkey) {
            return self.err(format!("duplicate key `{}`", keys.join(".")));
        }
        table.insert(last.clone(), value);
        self.record(&pkey, start);
        Ok(())
    }

    fn key_path(&mut self) -> R<Vec<String>> {
        let mut keys = vec![self.key()?];
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.eat(b'.') {
                self.skip_ws();
                keys.push(self.key()?);
            } else {
                self.pos = save;
                return Ok(keys);
            }
        }
    }

    fn key(&mut self) -> R<String> {
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.basic_string()
            }
            Some(b'\'') => {
                self.pos += 1;
                self.literal_string()
            }
            _ => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                {
                    self.pos += 1;
                }
                if start == self.pos {
                    return self.err("expected a key");
                }
                Ok(self.src[start..self.pos].to_string())
            }
        }
    }

    fn value(&mut self, base: &str, keys: &[String]) -> R<Value> {
        match self.peek() {
            Some(b'"') => {
                if self.b[self.pos..].starts_with(b"\"\"\"") {
                    self.pos += 3;
                    self.ml_basic_string().map(Value::String)
                } else {
                    self.pos += 1;
                    self.basic_string().map(Value::String)
                }
            }
            Some(b'\'') => {
                if self.b[self.pos..].starts_with(b"'''") {
                    self.pos += 3;
                    self.ml_literal_string().map(Value::String)
                } else {
                    self.pos += 1;
                    self.literal_string().map(Value::String)
                }
            }
            Some(b'[') => self.array(base, keys),
            Some(b'{') => self.inline_table(base, keys),
            Some(b't') if self.b[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            Some(b'f') if self.b[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            Some(c) if c.is_ascii_digit() || c == b'+' || c == b'-' || c == b'i' || c == b'n' => {
                self.number()
            }
            _ => self.err("expected a value"),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(format!("nested deeper than {MAX_DEPTH}"));
        }
        Ok(())
    }

    fn array(&mut self, base: &str, keys: &[String]) -> R<Value> {
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            if self.eat(b']') {
                break;
            }
            let mut key = keys.to_vec();
            key.push(items.len().to_string());
            items.push(self.value(base, &key)?);
            self.skip_blank()?;
            if self.eat(b']') {
                break;
            }
            self.expect(b',', "`,` or `]` in an array")?;
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    fn inline_table(&mut self, base: &str, keys: &[String]) -> R<Value> {
        self.enter()?;
        self.pos += 1;
        let mut pkey = base.to_string();
        for k in keys {
            push_part(&mut pkey, k);
        }
        let mut table = Table::new();
        loop {
            self.skip_blank()?;
            if self.eat(b'}') {
                break;
            }
            let start = self.pos;
            let inner = self.key_path()?;
            self.skip_ws();
            self.expect(b'=', "`=` after a key")?;
            self.skip_ws();
            let value = self.value(&pkey, &inner)?;
            self.insert(&mut table, &pkey, &inner, value, start)?;
            self.skip_blank()?;
            if self.eat(b'}') {
                break;
            }
            self.expect(b',', "`,` or `}` in an inline table")?;
        }
        self.depth -= 1;
        Ok(Value::Table(table))
    }

    fn number(&mut self) -> R<Value> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'+' | b'-' | b'.' | b':'))
        {
            self.pos += 1;
        }
        let tok = &self.src[start..self.pos];
        let (neg, body) = match tok.as_bytes().first() {
            Some(b'-') => (true, &tok[1..]),
            Some(b'+') => (false, &tok[1..]),
            _ => (false, tok),
        };
        let (radix, digits) = match body.get(..2) {
            Some("0x") => (16, &body[2..]),
            Some("0o") => (8, &body[2..]),
            Some("0b") => (2, &body[2..]),
            _ => (10, body),
        };
        let is_date = radix == 10
            && body.len() > 4
            && body.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && body.as_bytes()[4] == b'-'
            || tok.contains(':');
        if is_date {
            self.pos = start;
            return self.err("dates and times are not supported: quote them");
        }
        if radix == 10 && (digits.contains(['.', 'e', 'E']) || matches!(digits, "inf" | "nan")) {
            self.pos = start;
            return self.err("floats are not supported");
        }
        if radix != 10 && tok.len() != body.len() {
            self.pos = start;
            return self.err("a sign is not allowed before 0x, 0o or 0b");
        }
        if radix == 10 && digits.len() > 1 && digits.starts_with('0') {
            self.pos = start;
            return self.err("leading zeros are not allowed");
        }
        let mut n: i128 = 0;
        let mut prev_digit = false;
        for c in digits.chars() {
            if c == '_' && prev_digit {
                prev_digit = false;
                continue;
            }
            let Some(d) = c.to_digit(radix) else {
                self.pos = start;
                return self.err(format!("invalid number `{tok}`"));
            };
            prev_digit = true;
            n = n * i128::from(radix) + i128::from(d);
            if n > i128::from(u64::MAX) + 1 {
                break;
            }
        }
        if !prev_digit {
            self.pos = start;
            return self.err(format!("invalid number `{tok}`"));
        }
        let n = if neg { -n } else { n };
        if n < i128::from(i64::MIN) || n > i128::from(u64::MAX) {
            self.pos = start;
            return self.err(format!("integer `{tok}` out of range"));
        }
        Ok(Value::Integer(n))
    }

    /// After the opening quote; consumes the closing one.
    fn basic_string(&mut self) -> R<String> {
        // Most strings have no escapes: copied in one piece they keep no spare capacity (the
        // loaded data model holds thousands of them).
        let start = self.pos;
        let plain = self.b[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20 || c == 0x7f);
        if let Some(n) = plain {
            if self.b[start + n] == b'"' {
                self.pos = start + n + 1;
                return Ok(self.src[start..start + n].to_string());
            }
        }
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return self.err("unterminated string");
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => self.escape(&mut out)?,
                b'\n' | b'\r' => {
                    return self.err("newline in a string (use \"\"\" for several lines)")
                }
                _ => self.plain_run(&mut out, b'"')?,
            }
        }
    }

    /// Copies characters up to the next quote, backslash or line end.
    fn plain_run(&mut self, out: &mut String, quote: u8) -> R<()> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == quote || c == b'\\' || c == b'\n' || c == b'\r' {
                break;
            }
            if c < 0x20 && c != b'\t' || c == 0x7f {
                return self.err("control character in a string");
            }
            self.pos += 1;
        }
        out.push_str(&self.src[start..self.pos]);
        Ok(())
    }

    fn escape(&mut self, out: &mut String) -> R<()> {
        self.pos += 1;
        let Some(c) = self.peek() else {
            return self.err("unterminated string");
        };
        self.pos += 1;
        let ch = match c {
            b'b' => '\u{8}',
            b't' => '\t',
            b'n' => '\n',
            b'f' => '\u{c}',
            b'r' => '\r',
            b'e' => '\u{1b}',
            b'"' => '"',
            b'\\' => '\\',
            b'u' | b'U' => {
                let n = if c == b'u' { 4 } else { 8 };
                let hex = self.src.get(self.pos..self.pos + n).unwrap_or("");
                let code = (hex.len() == n && hex.bytes().all(|h| h.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32);
                match code {
                    Some(ch) => {
                        self.pos += n;
                        ch
                    }
                    None => return self.err("invalid \\u escape"),
                }
            }
            _ => {
                self.pos -= 1;
                return self.err("invalid escape");
            }
        };
        out.push(ch);
        Ok(())
    }

    fn ml_basic_string(&mut self) -> R<String> {
        self.eat_newline();
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return self.err("unterminated string");
            };
            match c {
                b'"' => {
                    if self.closing_quotes(b'"', &mut out) {
                        return Ok(out);
                    }
                }
                b'\\' => {
                    // A backslash at the end of a line joins it to the next non-blank text.
                    let save = self.pos;
                    self.pos += 1;
                    self.skip_ws();
                    if self.eat_newline() {
                        while matches!(self.peek(), Some(b' ' | b'\t')) || self.eat_newline() {
                            self.skip_ws();
                        }
                    } else {
                        self.pos = save;
                        self.escape(&mut out)?;
                    }
                }
                b'\n' => {
                    self.pos += 1;
                    out.push('\n');
                }
                b'\r' => self.crlf(&mut out)?,
                _ => self.plain_run(&mut out, b'"')?,
            }
        }
    }

    /// At a carriage return in a multi-line string: a CRLF line end, or an error.
    fn crlf(&mut self, out: &mut String) -> R<()> {
        if self.eat_newline() {
            out.push('\n');
            Ok(())
        } else {
            self.err("carriage return without a line feed")
        }
    }

    /// At a quote in a multi-line string: true (and consumed) when it closes the string.
    fn closing_quotes(&mut self, q: u8, out: &mut String) -> bool {
        let n = self.b[self.pos..].iter().take_while(|&&c| c == q).count();
        if n >= 3 {
            // Up to two quotes may stand right before the closing three.
            for _ in 0..(n - 3).min(2) {
                out.push(q as char);
            }
            self.pos += n.min(5);
            true
        } else {
            for _ in 0..n {
                out.push(q as char);
            }
            self.pos += n;
            false
        }
    }

    fn literal_string(&mut self) -> R<String> {
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some(b'\n' | b'\r') => return self.err("unterminated string"),
                Some(b'\'') => break,
                Some(c) if c < 0x20 && c != b'\t' || c == 0x7f => {
                    return self.err("control character in a string")
                }
                _ => self.pos += 1,
            }
        }
        let s = self.src[start..self.pos].to_string();
        self.pos += 1;
        Ok(s)
    }

    fn ml_literal_string(&mut self) -> R<String> {
        self.eat_newline();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'\'') => {
                    if self.closing_quotes(b'\'', &mut out) {
                        return Ok(out);
                    }
                }
                Some(b'\n') => {
                    self.pos += 1;
                    out.push('\n');
                }
                Some(b'\r') => self.crlf(&mut out)?,
                Some(_) => self.plain_run(&mut out, b'\'')?,
            }
            // A literal string has no escapes: a backslash is itself.
            if self.peek() == Some(b'\\') {
                self.pos += 1;
                out.push('\\');
            }
        }
    }
}

/// The table a section path names (the last element of an array of tables).
fn navigate<'t>(root: &'t mut Table, keys: &[String]) -> Option<&'t mut Table> {
    let mut t = root;
    for k in keys {
        t = match t.get_mut(k)? {
            Value::Table(nt) => nt,
            Value::Array(a) => match a.last_mut()? {
                Value::Table(nt) => nt,
                _ => return None,
            },
            _ => return None,
        };
    }
    Some(t)
}
