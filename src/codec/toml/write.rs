//! The writer: a [`Table`] to TOML text that [`super::parse()`] reads back to the same table.
//! Scalars and arrays of values come first, then `[sub]` tables and `[[arrays]]` of tables;
//! tables inside arrays of values are written inline.

use std::fmt::Write as _;

use super::value::{Table, Value};

/// Writes a document.
pub fn to_string(t: &Table) -> String {
    let mut out = String::new();
    let mut path = Vec::new();
    write_table(&mut out, t, &mut path);
    out
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty() && a.iter().all(|x| matches!(x, Value::Table(_))))
}

fn write_table<'t>(out: &mut String, t: &'t Table, path: &mut Vec<&'t str>) {
    for (k, v) in t {
        if !matches!(v, Value::Table(_)) && !is_table_array(v) {
            write_key(out, k);
            out.push_str(" = ");
            write_value(out, v);
            out.push('\n');
        }
    }
    for (k, v) in t {
        path.push(k);
        match v {
            Value::Table(sub) => {
                header(out, path, false);
                write_table(out, sub, path);
            }
            Value::Array(items) if is_table_array(v) => {
                for item in items {
                    if let Value::Table(sub) = item {
                        header(out, path, true);
                        write_table(out, sub, path);
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
}

fn header(out: &mut String, path: &[&str], array: bool) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(if array { "[[" } else { "[" });
    for (i, k) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        write_key(out, k);
    }
    out.push_str(if array { "]]\n" } else { "]\n" });
}

fn write_key(out: &mut String, k: &str) {
    if !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        out.push_str(k);
    } else {
        write_string(out, k);
    }
}

/// A value on one line.
fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => write_string(out, s),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, x);
            }
            out.push(']');
        }
        Value::Table(t) => {
            out.push('{');
            for (i, (k, x)) in t.iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { " " });
                write_key(out, k);
                out.push_str(" = ");
                write_value(out, x);
            }
            out.push_str(if t.is_empty() { "}" } else { " }" });
        }
    }
}

/// A basic string with every character TOML requires escaped.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
