//! `ubus` binding arguments checked at board load.

use super::steps;
use crate::backend::{text, ArgsError, BindingKind};
use crate::codec::toml;

const VALUE_KEYS: [&str; 17] = [
    "percent_of",
    "sum",
    "pluck",
    "also",
    "netmask",
    "via",
    "object",
    "method",
    "message",
    "path",
    "default",
    "count",
    "action",
    "map",
    "map_default",
    "scale",
    "divide",
];
const TABLE_KEYS: [&str; 7] = [
    "via", "object", "method", "message", "path", "key", "prefix",
];

fn check_path(args: &toml::Table) -> Result<(), ArgsError> {
    match args.get("path") {
        None => Ok(()),
        Some(toml::Value::String(p)) => steps(p)
            .map(|_| ())
            .ok_or_else(|| format!("`path` {p:?}: a step `[k=v]` is malformed").into()),
        Some(_) => Err("`path` must be a string".into()),
    }
}

/// Checks a `ubus` binding's arguments (`Handler::check`).
pub(super) fn check(kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
    let allowed: &[&str] = if kind == BindingKind::Table {
        &TABLE_KEYS
    } else {
        &VALUE_KEYS
    };
    ArgsError::only(args, allowed)?;
    ArgsError::strings_required(args, &["object", "method"])?;
    for k in [
        "message",
        "default",
        "key",
        "prefix",
        "action",
        "percent_of",
    ] {
        if args.get(k).is_some_and(|v| !v.is_str()) {
            return Err(format!("`{k}` must be a string").into());
        }
    }
    if let Some(v) = args.get("via") {
        let ok = v.as_table().is_some_and(|t| {
            t.keys()
                .all(|k| ["object", "method", "message", "path"].contains(&k.as_str()))
                && t.values().all(|x| x.is_str())
                && t.contains_key("object")
                && t.contains_key("method")
        });
        if !ok {
            return Err("`via` must be a table of strings: object, method, message, path".into());
        }
    }
    if args
        .get("also")
        .is_some_and(|v| !v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str())))
    {
        return Err("`also` must be a list of paths".into());
    }
    if args.get("pluck").is_some_and(|v| !v.is_str()) {
        return Err("`pluck` must be a string".into());
    }
    if args.get("netmask").is_some_and(|v| v.as_bool().is_none()) {
        return Err("`netmask` must be true or false".into());
    }
    if args.get("sum").is_some_and(|v| v.as_bool().is_none()) {
        return Err("`sum` must be true or false".into());
    }
    if args.get("count").is_some_and(|v| v.as_bool().is_none()) {
        return Err("`count` must be true or false".into());
    }
    check_path(args)?;
    match kind {
        BindingKind::ReadWrite if !args.contains_key("action") => {
            Err("ubus values are read-only; only an `action` can be written".into())
        }
        BindingKind::Read | BindingKind::ReadWrite => text::check_rules(args),
        BindingKind::Table => Ok(()),
    }
}
