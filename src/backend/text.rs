//! Parse rules shared by the `file` and `command` handlers: pick a line, a `key: value`
//! entry, a whitespace field; scale numbers; map raw words to TR-181 values.
//!
//! Rules apply in this order: `line`, `key` (with `sep`), `field`, trim, `scale`/`divide`,
//! `map` (with `map_default`), `parse`.

use crate::backend::{Args, ArgsError, BackendError};
use crate::codec::toml;

/// Argument names understood here (handlers accept them in `check`).
pub const RULE_KEYS: [&str; 10] = [
    "line",
    "key",
    "sep",
    "field",
    "trim",
    "scale",
    "divide",
    "map",
    "map_default",
    "parse",
];

/// Checks the types of the parse-rule arguments present in a binding.
pub fn check_rules(args: &toml::Table) -> Result<(), ArgsError> {
    for (k, v) in args {
        let ok = match k.as_str() {
            "line" | "field" | "scale" | "divide" => v.as_integer().is_some_and(|i| i >= 0),
            "key" | "sep" | "map_default" => v.is_str(),
            "trim" => v.as_bool().is_some(),
            "map" => v.as_table().is_some_and(|t| t.values().all(|x| x.is_str())),
            "parse" => matches!(v.as_str(), Some("int" | "bool" | "string")),
            _ => true,
        };
        if !ok {
            return Err(format!("`{k}` has the wrong type or value").into());
        }
    }
    if matches!(args.get("divide"), Some(toml::Value::Integer(0))) {
        return Err("`divide` must not be 0".into());
    }
    Ok(())
}

/// Applies the parse rules of `args` to raw text.
pub fn extract(raw: &str, args: &Args) -> Result<String, BackendError> {
    let mut text: String = raw.to_string();
    if let Some(n) = args.opt_int("line")? {
        text = raw
            .lines()
            .nth(n as usize)
            .ok_or_else(|| BackendError::NotFound(format!("line {n}")))?
            .to_string();
    }
    if let Some(key) = args.opt_str("key")? {
        let sep = args.opt_str("sep")?.unwrap_or(":");
        let found = text.lines().find_map(|l| {
            let (k, v) = l.split_once(sep)?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').trim_matches('\'').to_string())
        });
        text = found.ok_or_else(|| BackendError::NotFound(format!("key {key}")))?;
    }
    if let Some(n) = args.opt_int("field")? {
        text = text
            .split_whitespace()
            .nth(n as usize)
            .ok_or_else(|| BackendError::NotFound(format!("field {n}")))?
            .to_string();
    }
    if args.opt_bool("trim")?.unwrap_or(true) {
        text = text.trim().to_string();
    }
    let scale = args.opt_int("scale")?;
    let divide = args.opt_int("divide")?;
    if scale.is_some() || divide.is_some() {
        // Scale the leading number ("1234 kB" → 1234 × scale); integer arithmetic.
        let num: String = text
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-' || *c == '.')
            .collect();
        let whole = num.split('.').next().unwrap_or("");
        let mut v: i128 = whole
            .parse()
            .map_err(|_| BackendError::InvalidValue(format!("{text:?} is not a number")))?;
        if let Some(s) = scale {
            v = v.saturating_mul(i128::from(s));
        }
        if let Some(d) = divide.filter(|d| *d != 0) {
            v /= i128::from(d);
        }
        text = v.to_string();
    }
    if let Some(toml::Value::Table(map)) = args.table.get("map") {
        text = match map.get(&text).and_then(|v| v.as_str()) {
            Some(m) => m.to_string(),
            None => match args.opt_str("map_default")? {
                Some(d) => d.to_string(),
                None => text,
            },
        };
    }
    match args.opt_str("parse")? {
        Some("int") => {
            let n: i128 = text
                .parse()
                .map_err(|_| BackendError::InvalidValue(format!("{text:?} is not an integer")))?;
            text = n.to_string();
        }
        Some("bool") => {
            text = match text.as_str() {
                "1" | "true" | "yes" | "on" | "up" | "enabled" => "true".into(),
                "0" | "false" | "no" | "off" | "down" | "disabled" => "false".into(),
                _ => {
                    return Err(BackendError::InvalidValue(format!(
                        "{text:?} is not a boolean"
                    )))
                }
            }
        }
        _ => {}
    }
    Ok(text)
}

/// Maps a TR-181 value back through `map` for writing. With a `map`, only its values can be
/// written (the board lists what the device supports); without one the value passes as is.
/// A `scale`/`divide` is undone too (1000 ms written to a file in seconds is `1`); a value
/// the file's unit cannot hold exactly is refused rather than rounded.
pub fn reverse_map(value: &str, args: &Args) -> Result<String, BackendError> {
    let raw = match args.table.get("map") {
        Some(toml::Value::Table(map)) => map
            .iter()
            .find(|(_, v)| v.as_str() == Some(value))
            .map(|(raw, _)| raw.clone())
            .ok_or_else(|| {
                BackendError::InvalidValue(format!("{value:?} is not supported here"))
            })?,
        _ => value.to_string(),
    };
    let scale = args.opt_int("scale")?.unwrap_or(1);
    let divide = args.opt_int("divide")?.unwrap_or(1);
    if scale == 1 && divide == 1 {
        return Ok(raw);
    }
    let n: i128 = raw
        .parse()
        .map_err(|_| BackendError::InvalidValue(format!("{raw:?} is not an integer")))?;
    let times = n.saturating_mul(i128::from(divide));
    let scale = i128::from(scale);
    if scale == 0 || times % scale != 0 {
        return Err(BackendError::InvalidValue(format!(
            "{value} is not a multiple of {scale}"
        )));
    }
    Ok((times / scale).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    fn args(t: &str) -> Args {
        Args {
            table: toml::from_str(t).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn every_rule() {
        let meminfo = "MemTotal:       16318412 kB\nMemFree:         1000 kB\n";
        assert_eq!(
            extract(meminfo, &args("key = \"MemFree\"\nfield = 0")).unwrap(),
            "1000"
        );
        assert_eq!(
            extract(
                meminfo,
                &args("key = \"MemTotal\"\nscale = 1024\ndivide = 1000")
            )
            .unwrap(),
            "16710053"
        );
        assert_eq!(
            extract("1565.26 3064.16\n", &args("field = 0\ndivide = 1")).unwrap(),
            "1565"
        );
        assert_eq!(extract("a\nb\nc", &args("line = 1")).unwrap(), "b");
        assert_eq!(
            extract("NAME=\"Debian\"\n", &args("key = \"NAME\"\nsep = \"=\"")).unwrap(),
            "Debian"
        );
        assert_eq!(
            extract(" up\n", &args("map = { up = \"Up\" }")).unwrap(),
            "Up"
        );
        assert_eq!(
            extract(
                "weird",
                &args("map = { up = \"Up\" }\nmap_default = \"Unknown\"")
            )
            .unwrap(),
            "Unknown"
        );
        assert_eq!(extract(" x ", &args("trim = false")).unwrap(), " x ");
        assert_eq!(extract("1", &args("parse = \"bool\"")).unwrap(), "true");
        assert_eq!(extract("0042", &args("parse = \"int\"")).unwrap(), "42");
    }

    #[test]
    fn missing_pieces_are_not_found_and_bad_numbers_invalid() {
        assert!(matches!(
            extract("a", &args("line = 5")),
            Err(BackendError::NotFound(_))
        ));
        assert!(matches!(
            extract("a: 1", &args("key = \"b\"")),
            Err(BackendError::NotFound(_))
        ));
        assert!(matches!(
            extract("a", &args("field = 3")),
            Err(BackendError::NotFound(_))
        ));
        assert!(matches!(
            extract("abc", &args("scale = 2")),
            Err(BackendError::InvalidValue(_))
        ));
        assert!(matches!(
            extract("maybe", &args("parse = \"bool\"")),
            Err(BackendError::InvalidValue(_))
        ));
    }

    #[test]
    fn rule_types_are_checked() {
        assert!(check_rules(&toml::from_str("line = \"x\"").unwrap()).is_err());
        assert!(check_rules(&toml::from_str("divide = 0").unwrap()).is_err());
        // Integers past i64 (the parser reads up to u64::MAX) are refused here, at load.
        assert!(check_rules(&toml::from_str("line = 9223372036854775808").unwrap()).is_err());
        assert!(check_rules(&toml::from_str("parse = \"float\"").unwrap()).is_err());
        assert!(check_rules(&toml::from_str("map = { a = 1 }").unwrap()).is_err());
        assert!(check_rules(&toml::from_str("line = 1\nmap = { a = \"b\" }").unwrap()).is_ok());
        assert_eq!(
            reverse_map("Up", &args("map = { up = \"Up\" }")).unwrap(),
            "up"
        );
        assert!(matches!(
            reverse_map("Other", &args("map = { up = \"Up\" }")),
            Err(BackendError::InvalidValue(_))
        ));
        assert_eq!(reverse_map("Other", &args("")).unwrap(), "Other");
        // Scaling is undone exactly, or refused.
        assert_eq!(reverse_map("4000", &args("scale = 1000")).unwrap(), "4");
        assert_eq!(reverse_map("7", &args("divide = 100")).unwrap(), "700");
        assert!(matches!(
            reverse_map("4500", &args("scale = 1000")),
            Err(BackendError::InvalidValue(_))
        ));
        assert!(matches!(
            reverse_map("soon", &args("scale = 1000")),
            Err(BackendError::InvalidValue(_))
        ));
    }
}
