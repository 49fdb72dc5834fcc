//! The ParameterList of a GetParameterValuesResponse, encoded as it is filled (issue 13 §3).
//!
//! The RPC layer pushes each value as the model reads it; [`ValueList`] escapes it at once into
//! one buffer of XML and keeps nothing else of it, so a whole-tree answer costs the bytes it
//! will send, once: [`super::encode_owned`] builds the envelope around that buffer in place.
//! The buffer holds at most [`MAX_VALUES_BYTES`]: a value that would pass it is refused
//! ([`TooLarge`]) before it is written, and the RPC answers 9004 instead of building the rest.
//! This module knows nothing of the model: it is handed names, values and type names.

use std::fmt;

use super::xml::{escape_into, escaped_len, unescape};
use super::{ParameterValue, MAX_VALUES_BYTES};

const OPEN: &str = "<ParameterValueStruct><Name>";
const TYPE: &str = "</Name><Value xsi:type=\"xsd:";
const VALUE: &str = "\">";
const CLOSE: &str = "</Value></ParameterValueStruct>";

/// Writes one ParameterValueStruct (the one writer of them: Inform parameters too).
pub(super) fn write_struct(out: &mut String, name: &str, value: &str, xsd_type: &str) {
    out.push_str(OPEN);
    escape_into(out, name);
    // The `xsd:` prefix is written here, the one place: the type is a local name.
    out.push_str(TYPE);
    escape_into(
        out,
        if xsd_type.is_empty() {
            "string"
        } else {
            xsd_type
        },
    );
    out.push_str(VALUE);
    escape_into(out, value);
    out.push_str(CLOSE);
}

/// Values already in their XML form, in order, and how many.
#[derive(Clone, PartialEq, Eq)]
pub struct ValueList {
    /// The ParameterValueStructs, one after the other.
    xml: String,
    /// How many there are.
    len: usize,
    /// Most bytes `xml` may hold.
    limit: usize,
}

/// A value did not fit in a [`ValueList`]: the answer would be larger than its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// The limit, in bytes of XML.
    pub limit: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "soap: the values would take more than {} bytes",
            self.limit
        )
    }
}

impl std::error::Error for TooLarge {}

impl Default for ValueList {
    fn default() -> Self {
        ValueList::new()
    }
}

impl ValueList {
    /// An empty list bounded by [`MAX_VALUES_BYTES`].
    pub fn new() -> ValueList {
        ValueList::with_limit(MAX_VALUES_BYTES)
    }

    /// An empty list of at most `limit` bytes of XML.
    pub fn with_limit(limit: usize) -> ValueList {
        ValueList {
            xml: String::new(),
            len: 0,
            limit,
        }
    }

    /// Appends one ParameterValueStruct: `xsd_type` is the `xsi:type` local name (`string`
    /// when empty). Refused, and nothing written, when it would pass the limit.
    pub fn push(&mut self, name: &str, value: &str, xsd_type: &str) -> Result<(), TooLarge> {
        let ty = if xsd_type.is_empty() {
            "string"
        } else {
            xsd_type
        };
        let size = OPEN.len()
            + escaped_len(name)
            + TYPE.len()
            + escaped_len(ty)
            + VALUE.len()
            + escaped_len(value)
            + CLOSE.len();
        if size > self.limit.saturating_sub(self.xml.len()) {
            return Err(TooLarge { limit: self.limit });
        }
        write_struct(&mut self.xml, name, value, ty);
        self.len += 1;
        Ok(())
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No value at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of XML so far.
    pub fn bytes(&self) -> usize {
        self.xml.len()
    }

    /// The values, read back from their XML (for tests and logs: the RPC never needs them).
    pub fn iter(&self) -> impl Iterator<Item = ParameterValue> + '_ {
        self.xml.split(CLOSE).filter_map(|item| {
            let rest = item.strip_prefix(OPEN)?;
            let (name, rest) = rest.split_once(TYPE)?;
            let (ty, value) = rest.split_once(VALUE)?;
            Some(ParameterValue {
                name: unescape(name),
                value: unescape(value),
                xsd_type: unescape(ty),
            })
        })
    }

    /// The ParameterValueStructs as they go on the wire.
    pub(super) fn xml(&self) -> &str {
        &self.xml
    }

    /// The buffer itself, for the envelope to be built around it.
    pub(super) fn into_xml(self) -> String {
        self.xml
    }
}

/// A list of values held in memory already (Inform parameters, tests): not bounded.
impl FromIterator<ParameterValue> for ValueList {
    fn from_iter<I: IntoIterator<Item = ParameterValue>>(iter: I) -> Self {
        let mut list = ValueList::with_limit(usize::MAX);
        for p in iter {
            // No limit: nothing is refused.
            let _ = list.push(&p.name, &p.value, &p.xsd_type);
        }
        list
    }
}

impl fmt::Debug for ValueList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(name: &str, value: &str, ty: &str) -> ParameterValue {
        ParameterValue {
            name: name.into(),
            value: value.into(),
            xsd_type: ty.into(),
        }
    }

    #[test]
    fn values_are_escaped_once_and_read_back() {
        let mut l = ValueList::new();
        l.push("Device.A", "<&\"'>", "string").unwrap();
        l.push("Device.B", "7", "unsignedInt").unwrap();
        l.push("Device.C", "", "").unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(
            l.xml(),
            "<ParameterValueStruct><Name>Device.A</Name><Value xsi:type=\"xsd:string\">&lt;&amp;&quot;&apos;&gt;</Value></ParameterValueStruct>\
             <ParameterValueStruct><Name>Device.B</Name><Value xsi:type=\"xsd:unsignedInt\">7</Value></ParameterValueStruct>\
             <ParameterValueStruct><Name>Device.C</Name><Value xsi:type=\"xsd:string\"></Value></ParameterValueStruct>"
        );
        assert_eq!(l.bytes(), l.xml().len());
        assert_eq!(
            l.iter().collect::<Vec<_>>(),
            [
                pv("Device.A", "<&\"'>", "string"),
                pv("Device.B", "7", "unsignedInt"),
                pv("Device.C", "", "string"),
            ]
        );
        let again: ValueList = l.iter().collect();
        assert_eq!(again.xml(), l.xml());
    }

    #[test]
    fn a_value_past_the_limit_is_refused_and_not_written() {
        let one = {
            let mut l = ValueList::new();
            l.push("Device.X", "12345", "string").unwrap();
            l.bytes()
        };
        // Room for exactly two.
        let mut l = ValueList::with_limit(2 * one);
        l.push("Device.X", "12345", "string").unwrap();
        l.push("Device.X", "12345", "string").unwrap();
        assert_eq!(l.bytes(), 2 * one, "the limit itself is allowed");
        assert_eq!(
            l.push("Device.X", "1", "string"),
            Err(TooLarge { limit: 2 * one })
        );
        assert_eq!((l.len(), l.bytes()), (2, 2 * one), "nothing of it written");
        // Escaping counts: one `&` is five bytes on the wire.
        let mut l = ValueList::with_limit(one);
        assert!(l.push("Device.X", "1234&", "string").is_err());
        assert!(l.push("Device.X", "1&", "string").is_err());
        assert!(l.push("Device.X", "&", "string").is_ok());
        assert!(ValueList::with_limit(0).push("", "", "").is_err());
        assert!(TooLarge { limit: 9 }.to_string().contains("9 bytes"));
    }

    #[test]
    fn the_default_limit_is_max_values_bytes() {
        let mut l = ValueList::default();
        let big = "v".repeat(MAX_VALUES_BYTES / 2);
        l.push("Device.A", &big, "string").unwrap();
        assert_eq!(
            l.push("Device.B", &big, "string"),
            Err(TooLarge {
                limit: MAX_VALUES_BYTES
            })
        );
        assert_eq!(l.len(), 1);
    }
}
