//! TR-106 value checks (§3.2): is a lexical value acceptable for a parameter's syntax, and
//! what is its canonical form? Used by SetParameterValues before any backend is touched, and
//! by the board loader for constants.
//!
//! A declared `xsi:type` that does not fit the parameter is a type error (fault 9006); every
//! other problem is a value error (9007).

use std::fmt;

use crate::codec::datetime;
use crate::codec::{base64, hex};
use crate::model::pattern::Pattern;
use crate::model::schema::{BaseType, Range, Syntax};

/// Longest value accepted for a parameter with no size facet (TR-069 A.3.2.1 string(65535)...
/// in practice far less: keeps a hostile Set from filling memory).
pub const MAX_VALUE_LEN: usize = 65_535;
/// Most items in a list value without a maxItems facet.
pub const MAX_LIST_ITEMS: usize = 1024;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    /// The ACS declared a type that is not the parameter's.
    Type {
        declared: String,
        expected: BaseType,
    },
    /// The value does not fit the syntax.
    Value { reason: String },
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Type { declared, expected } => write!(
                f,
                "value: declared {declared}, parameter is xsd:{}",
                expected.xsd_local()
            ),
            ValueError::Value { reason } => write!(f, "value: {reason}"),
        }
    }
}

impl std::error::Error for ValueError {}

fn bad(reason: impl Into<String>) -> ValueError {
    ValueError::Value {
        reason: reason.into(),
    }
}

/// The lexical zero of a type: what a parameter reads as when nothing better is known.
pub fn default_for(base: BaseType) -> &'static str {
    match base {
        BaseType::String | BaseType::Base64 | BaseType::HexBinary => "",
        BaseType::Boolean => "false",
        BaseType::DateTime => datetime::UNKNOWN_TIME,
        BaseType::Int
        | BaseType::UnsignedInt
        | BaseType::Long
        | BaseType::UnsignedLong
        | BaseType::Decimal => "0",
    }
}

/// What a parameter whose value cannot be read is reported as: the type's zero, or for an
/// enumeration that does not hold it, its `Unknown` or `Error` where it has one (TR-181 Status
/// parameters do).
pub fn fallback(syntax: &Syntax) -> &str {
    let zero = default_for(syntax.base);
    if syntax.enumeration.is_empty() || syntax.enumeration.iter().any(|e| e == zero) {
        return zero;
    }
    ["Unknown", "Error"]
        .into_iter()
        .find_map(|w| syntax.enumeration.iter().find(|e| e.as_str() == w))
        .map_or(zero, String::as_str)
}

/// True when a declared xsi:type can carry a value of this base type. Lists and references
/// are strings on the wire; ACSs commonly send everything as xsd:string, which is accepted.
fn declared_fits(declared: &str, syntax: &Syntax) -> bool {
    let local = declared.rsplit(':').next().unwrap_or(declared);
    if local == "string" || local == "anySimpleType" {
        return true;
    }
    if syntax.list.is_some() {
        return false;
    }
    BaseType::from_xsd_local(local) == Some(syntax.base)
}

/// Checks a value against a syntax; returns its canonical form.
pub fn check(syntax: &Syntax, declared: Option<&str>, text: &str) -> Result<String, ValueError> {
    if let Some(d) = declared {
        if !declared_fits(d, syntax) {
            return Err(ValueError::Type {
                declared: d.to_string(),
                expected: syntax.base,
            });
        }
    }
    if text.len() > MAX_VALUE_LEN {
        return Err(bad(format!(
            "{} bytes, at most {MAX_VALUE_LEN}",
            text.len()
        )));
    }
    match &syntax.list {
        None => check_item(syntax, text),
        Some(list) => {
            if let Some(max) = list.max_length {
                if text.chars().count() > max as usize {
                    return Err(bad(format!("list longer than {max} characters")));
                }
            }
            // TR-106 3.2.3: items are comma-separated, white space around them ignored.
            let items: Vec<&str> = if text.trim().is_empty() {
                Vec::new()
            } else {
                text.split(',').map(str::trim).collect()
            };
            let max_items = list.max_items.map(|m| m as usize).unwrap_or(MAX_LIST_ITEMS);
            if items.len() > max_items {
                return Err(bad(format!("{} items, at most {max_items}", items.len())));
            }
            if let Some(min) = list.min_items {
                if items.len() < min as usize {
                    return Err(bad(format!("{} items, at least {min}", items.len())));
                }
            }
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                out.push(check_item(syntax, it)?);
            }
            Ok(out.join(","))
        }
    }
}

/// What a value read from a backend may be reported as: itself when it fits its syntax; an
/// integer outside its ranges, the nearest bound (TR-181's `MaxMTUSize` is 64–65535 and
/// Linux's loopback says 65536); anything else is an error: never sent (TR-069 A.3.2.2 holds
/// the CPE to the parameter's type).
pub fn conform(syntax: &Syntax, text: String) -> Result<String, ValueError> {
    let err = match check(syntax, None, &text) {
        Ok(_) => return Ok(text),
        Err(e) => e,
    };
    let integer = matches!(
        syntax.base,
        BaseType::Int | BaseType::UnsignedInt | BaseType::Long | BaseType::UnsignedLong
    );
    let signed = matches!(syntax.base, BaseType::Int | BaseType::Long);
    let Some(v) = integer
        .then_some(())
        .filter(|_| syntax.list.is_none())
        .and_then(|_| parse_integer(&text, signed))
    else {
        return Err(err);
    };
    // The nearest bound of any range.
    let nearest = syntax
        .ranges
        .iter()
        .flat_map(|r| [r.min, r.max])
        .flatten()
        .min_by_key(|b| (b - v).abs());
    match nearest.map(|b| b.to_string()) {
        Some(b) if check(syntax, None, &b).is_ok() => Ok(b),
        _ => Err(err),
    }
}

fn check_length(syntax: &Syntax, len: usize, what: &str) -> Result<(), ValueError> {
    if let Some(max) = syntax.max_length {
        if len > max as usize {
            return Err(bad(format!("{len} {what}, at most {max}")));
        }
    }
    if let Some(min) = syntax.min_length {
        if len < min as usize {
            return Err(bad(format!("{len} {what}, at least {min}")));
        }
    }
    Ok(())
}

fn in_ranges(ranges: &[Range], v: i128) -> bool {
    ranges.is_empty()
        || ranges.iter().any(|r| {
            r.min.is_none_or(|m| v >= m)
                && r.max.is_none_or(|m| v <= m)
                && r.step
                    .is_none_or(|s| s <= 0 || (v - r.min.unwrap_or(0)).rem_euclid(s) == 0)
        })
}

fn parse_integer(text: &str, signed: bool) -> Option<i128> {
    // XSD: optional sign, then digits; no white space, no exponent.
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') if signed => (true, &text[1..]),
        Some(b'-') => {
            // "-0" is a valid unsigned value.
            let d = &text[1..];
            if !d.is_empty() && d.bytes().all(|b| b == b'0') {
                return Some(0);
            }
            return None;
        }
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 40 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

fn check_item(syntax: &Syntax, text: &str) -> Result<String, ValueError> {
    let canonical = match syntax.base {
        BaseType::String => {
            check_length(syntax, text.chars().count(), "characters")?;
            if !syntax.enumeration.is_empty() && !syntax.enumeration.iter().any(|e| e == text) {
                return Err(bad(format!("{text:?} is not one of the allowed values")));
            }
            text.to_string()
        }
        BaseType::Boolean => match text {
            "true" | "1" => "true".to_string(),
            "false" | "0" => "false".to_string(),
            _ => return Err(bad(format!("{text:?} is not a boolean"))),
        },
        BaseType::Int | BaseType::UnsignedInt | BaseType::Long | BaseType::UnsignedLong => {
            let (lo, hi, signed): (i128, i128, bool) = match syntax.base {
                BaseType::Int => (i32::MIN.into(), i32::MAX.into(), true),
                BaseType::UnsignedInt => (0, u32::MAX.into(), false),
                BaseType::Long => (i64::MIN.into(), i64::MAX.into(), true),
                _ => (0, u64::MAX.into(), false),
            };
            let v = parse_integer(text, signed)
                .ok_or_else(|| bad(format!("{text:?} is not an {}", syntax.base.xsd_local())))?;
            if v < lo || v > hi {
                return Err(bad(format!("{v} is outside {}", syntax.base.xsd_local())));
            }
            if !in_ranges(&syntax.ranges, v) {
                return Err(bad(format!("{v} is outside the allowed range")));
            }
            v.to_string()
        }
        BaseType::Decimal => {
            let (int, frac) = text.split_once('.').unwrap_or((text, ""));
            let int_ok = parse_integer(
                if int.is_empty() || int == "-" || int == "+" {
                    "0"
                } else {
                    int
                },
                true,
            )
            .is_some();
            if text.is_empty()
                || !int_ok
                || !frac.bytes().all(|b| b.is_ascii_digit())
                || !text.bytes().any(|b| b.is_ascii_digit())
            {
                return Err(bad(format!("{text:?} is not a decimal")));
            }
            text.to_string()
        }
        BaseType::DateTime => {
            datetime::parse(text).ok_or_else(|| bad(format!("{text:?} is not a dateTime")))?;
            text.to_string()
        }
        BaseType::Base64 => {
            let bytes = base64::decode(text).ok_or_else(|| bad("not valid base64"))?;
            check_length(syntax, bytes.len(), "bytes")?;
            text.split_ascii_whitespace().collect()
        }
        BaseType::HexBinary => {
            let bytes = hex::decode(text).ok_or_else(|| bad("not valid hexBinary"))?;
            check_length(syntax, bytes.len(), "bytes")?;
            text.to_string()
        }
    };
    if !syntax.patterns.is_empty() {
        let mut matched = false;
        for p in &syntax.patterns {
            match Pattern::new(p) {
                Ok(pat) if pat.is_match(&canonical) => {
                    matched = true;
                    break;
                }
                Ok(_) => {}
                Err(e) => log::warn!("data model pattern {p:?} unusable: {e}"),
            }
        }
        if !matched {
            return Err(bad(format!(
                "{canonical:?} does not match the required pattern"
            )));
        }
    }
    Ok(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema::ListSpec;

    fn syn(base: BaseType) -> Syntax {
        Syntax::new(base)
    }

    fn ok(s: &Syntax, v: &str) -> String {
        check(s, None, v).unwrap_or_else(|e| panic!("{v:?}: {e}"))
    }

    fn refused(s: &Syntax, v: &str) {
        assert!(
            matches!(check(s, None, v), Err(ValueError::Value { .. })),
            "{v:?} accepted"
        );
    }

    #[test]
    fn read_values_are_held_to_their_type() {
        let mut mtu = syn(BaseType::UnsignedInt);
        mtu.ranges = vec![Range {
            min: Some(64),
            max: Some(65535),
            step: None,
        }];
        assert_eq!(conform(&mtu, "1500".into()).unwrap(), "1500");
        assert_eq!(conform(&mtu, "65536".into()).unwrap(), "65535");
        assert_eq!(conform(&mtu, "0".into()).unwrap(), "64");
        assert!(conform(&mtu, "big".into()).is_err());
        let mut status = syn(BaseType::String);
        status.enumeration = vec!["Up".into(), "Down".into()];
        assert_eq!(conform(&status, "Up".into()).unwrap(), "Up");
        assert!(conform(&status, "".into()).is_err(), "not one of them");
        assert!(conform(&syn(BaseType::Boolean), "maybe".into()).is_err());
        // Unreadable: the zero of the type, or what the enumeration says for it.
        assert_eq!(fallback(&mtu), "0");
        assert_eq!(fallback(&status), "", "nothing better in Up, Down");
        status.enumeration.push("Unknown".into());
        assert_eq!(fallback(&status), "Unknown");
    }

    #[test]
    fn int_boundaries() {
        let s = syn(BaseType::Int);
        assert_eq!(ok(&s, "-2147483648"), "-2147483648");
        assert_eq!(ok(&s, "2147483647"), "2147483647");
        assert_eq!(ok(&s, "+5"), "5");
        assert_eq!(ok(&s, "-0"), "0");
        for v in [
            "2147483648",
            "-2147483649",
            "1e3",
            " 5",
            "5 ",
            "",
            "-",
            "+",
            "0x10",
            "1.0",
        ] {
            refused(&s, v);
        }
    }

    #[test]
    fn unsigned_boundaries() {
        let s = syn(BaseType::UnsignedInt);
        assert_eq!(ok(&s, "4294967295"), "4294967295");
        assert_eq!(ok(&s, "-0"), "0");
        refused(&s, "4294967296");
        refused(&s, "-1");
        let l = syn(BaseType::UnsignedLong);
        assert_eq!(ok(&l, "18446744073709551615"), "18446744073709551615");
        refused(&l, "18446744073709551616");
        let sl = syn(BaseType::Long);
        assert_eq!(ok(&sl, "-9223372036854775808"), "-9223372036854775808");
        refused(&sl, "9223372036854775808");
        refused(&sl, "-9223372036854775809");
        assert_eq!(ok(&sl, "+9223372036854775807"), "9223372036854775807");
        refused(&l, "-1");
        refused(&l, "+-1");
    }

    #[test]
    fn ranges_with_step() {
        let mut s = syn(BaseType::UnsignedInt);
        s.ranges = vec![
            Range {
                min: Some(10),
                max: Some(20),
                step: Some(5),
            },
            Range {
                min: Some(100),
                max: None,
                step: None,
            },
        ];
        for v in ["10", "15", "20", "100", "4000000000"] {
            ok(&s, v);
        }
        for v in ["9", "11", "21", "99"] {
            refused(&s, v);
        }
    }

    #[test]
    fn booleans() {
        let s = syn(BaseType::Boolean);
        assert_eq!(ok(&s, "1"), "true");
        assert_eq!(ok(&s, "false"), "false");
        for v in ["TRUE", "yes", "", "2"] {
            refused(&s, v);
        }
    }

    #[test]
    fn strings_length_in_characters_enumerations_and_patterns() {
        let mut s = syn(BaseType::String);
        s.max_length = Some(4);
        ok(&s, "äöüß");
        refused(&s, "äöüßx");
        s.min_length = Some(2);
        refused(&s, "a");
        let mut e = syn(BaseType::String);
        e.enumeration = vec!["Up".into(), "Down".into()];
        ok(&e, "Up");
        refused(&e, "up");
        let mut p = syn(BaseType::String);
        p.patterns = vec!["".into(), "[0-9A-F]{6}".into()];
        ok(&p, "");
        ok(&p, "00A0C9");
        refused(&p, "00a0c9");
    }

    #[test]
    fn datetimes() {
        let s = syn(BaseType::DateTime);
        ok(&s, "0001-01-01T00:00:00Z");
        ok(&s, "2024-02-29T23:59:59+01:00");
        refused(&s, "2023-02-29T00:00:00Z");
        refused(&s, "yesterday");
    }

    #[test]
    fn binary_lengths_count_decoded_bytes() {
        let mut b = syn(BaseType::Base64);
        b.max_length = Some(3);
        ok(&b, "Zm9v");
        refused(&b, "Zm9vYg==");
        refused(&b, "Zm9");
        let mut h = syn(BaseType::HexBinary);
        h.max_length = Some(2);
        ok(&h, "abCD");
        refused(&h, "abcdef");
        refused(&h, "abc");
    }

    #[test]
    fn lists() {
        let mut s = syn(BaseType::UnsignedInt);
        s.list = Some(ListSpec {
            min_items: Some(1),
            max_items: Some(3),
            max_length: Some(12),
        });
        assert_eq!(ok(&s, "1, 2 ,3"), "1,2,3");
        refused(&s, "1,2,3,4");
        refused(&s, "");
        refused(&s, "1,x");
        refused(&s, "1111,2222,33333");
        let mut open = syn(BaseType::String);
        open.list = Some(ListSpec::default());
        assert_eq!(ok(&open, ""), "");
        let many = vec!["a"; MAX_LIST_ITEMS + 1].join(",");
        refused(&open, &many);
    }

    #[test]
    fn declared_types() {
        let s = syn(BaseType::UnsignedInt);
        assert!(check(&s, Some("unsignedInt"), "5").is_ok());
        assert!(
            check(&s, Some("string"), "5").is_ok(),
            "ACSs often send xsd:string"
        );
        assert!(matches!(
            check(&s, Some("boolean"), "1"),
            Err(ValueError::Type { .. })
        ));
        assert!(matches!(
            check(&s, Some("xsd:int"), "1"),
            Err(ValueError::Type { .. })
        ));
        let mut l = syn(BaseType::UnsignedInt);
        l.list = Some(ListSpec::default());
        assert!(matches!(
            check(&l, Some("unsignedInt"), "1"),
            Err(ValueError::Type { .. })
        ));
    }

    #[test]
    fn oversized_values_are_refused() {
        refused(&syn(BaseType::String), &"x".repeat(MAX_VALUE_LEN + 1));
    }

    #[test]
    fn decimals() {
        let s = syn(BaseType::Decimal);
        for v in ["1", "-1.5", "+0.25", ".5", "3."] {
            ok(&s, v);
        }
        for v in ["", ".", "-", "+", "-.", "+.", "1.2.3", "1e5", "abc", " 1"] {
            refused(&s, v);
        }
    }
}
