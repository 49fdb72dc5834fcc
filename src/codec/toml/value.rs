//! The value tree a TOML document parses into and is written from: plain owned data, with
//! integers wide enough for every TR-106 integer type (data-model ranges reach
//! 18446744073709551615).

use std::collections::BTreeMap;

/// A table: keys in sorted order (documents are written back sorted).
pub type Table = BTreeMap<String, Value>;

/// One TOML value. Floats and dates are not part of any cwmpd file and are refused by the
/// parser with a message saying so (quote them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string.
    String(String),
    /// An integer (64-bit in TOML; the unsigned 64-bit range is accepted as well).
    Integer(i128),
    /// `true` or `false`.
    Boolean(bool),
    /// An array (of any values, mixed types allowed as in TOML 1.0).
    Array(Vec<Value>),
    /// A table (a `[header]`, an inline table or a dotted key's parent).
    Table(Table),
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// True for a string.
    pub fn is_str(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// The integer, if this is one within `i64`.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => i64::try_from(*i).ok(),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The TOML name of this value's type, for error messages.
    pub fn type_str(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Boolean(_) => "boolean",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Boolean(b)
    }
}

impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Value {
        Value::Array(v.into_iter().map(Value::String).collect())
    }
}

impl From<Table> for Value {
    fn from(t: Table) -> Value {
        Value::Table(t)
    }
}

macro_rules! from_int {
    ($($t:ty)*) => {$(
        impl From<$t> for Value {
            fn from(i: $t) -> Value {
                Value::Integer(i128::from(i))
            }
        }
    )*};
}
from_int!(u8 u16 u32 u64 i32 i64);
