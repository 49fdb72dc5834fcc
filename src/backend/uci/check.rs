//! `uci` binding arguments checked at board load: which keys a value or table binding
//! may have and what each must hold.

use super::{dhcp, items, selector, valid_package};
use crate::backend::{text, ArgsError, BindingKind};
use crate::codec::toml;

const VALUE_KEYS: [&str; 25] = [
    "create",
    "unset",
    "map_with",
    "allowed",
    "when",
    "suffix",
    "unmapped",
    "mtime",
    "word",
    "has",
    "empty",
    "words",
    "scale",
    "divide",
    "package",
    "section",
    "option",
    "list",
    "item",
    "bool",
    "invert",
    "map",
    "map_default",
    "default",
    "duration",
];
const TABLE_KEYS: [&str; 12] = [
    "each",
    "each_default",
    "package",
    "type",
    "exclude",
    "match",
    "name",
    "name_prefix",
    "join",
    "within",
    "defaults",
    "delete_sets",
];

/// Checks a `uci` binding's arguments (`Handler::check`).
pub(super) fn check(kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
    let allowed: &[&[&str]] = if kind == BindingKind::Table {
        &[&TABLE_KEYS, &items::TABLE_KEYS]
    } else {
        &[&VALUE_KEYS, &items::VALUE_KEYS, &dhcp::VALUE_KEYS]
    };
    if let Some(k) = args
        .keys()
        .find(|k| !allowed.iter().any(|a| a.contains(&k.as_str())))
    {
        return Err(ArgsError::unknown(k));
    }
    if let Some(e) = items::check(kind, args) {
        return e;
    }
    if let Some(e) = dhcp::check(kind, args) {
        e?;
    }
    let need = |k: &str| -> Result<(), ArgsError> {
        match args.get(k) {
            Some(toml::Value::String(_)) => Ok(()),
            _ => Err(format!("`{k}` (a string) is required").into()),
        }
    };
    need("package")?;
    if let Some(p) = args.get("package").and_then(|v| v.as_str()) {
        if !p.contains('{') && !valid_package(p) {
            return Err(format!("invalid package name {p:?}").into());
        }
    }
    for key in ["each", "each_default", "word"] {
        if args.get(key).is_some_and(|v| !v.is_str()) {
            return Err(format!("`{key}` must be a string").into());
        }
    }
    if kind == BindingKind::Table {
        need("type")?;
        if args
            .get("exclude")
            .is_some_and(|v| !v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str())))
        {
            return Err("`exclude` must be a list of strings".into());
        }
        for (key, need) in [
            ("match", &[][..]),
            ("defaults", &[][..]),
            ("delete_sets", &[][..]),
            ("join", &["package", "by"][..]),
            ("within", &["option", "network", "netmask"][..]),
        ] {
            match args.get(key) {
                None => {}
                Some(toml::Value::Table(t))
                    if t.values().all(|x| x.is_str())
                        && need.iter().all(|k| t.contains_key(*k)) => {}
                Some(_) if need.is_empty() => {
                    return Err(format!("`{key}` must be a table of strings").into())
                }
                Some(_) => {
                    return Err(format!(
                        "`{key}` must be a table of strings with {}",
                        need.join(", ")
                    )
                    .into())
                }
            }
        }
        return Ok(());
    }
    if args.contains_key("mtime") {
        if args.get("mtime").and_then(|v| v.as_bool()) != Some(true) || args.len() != 2 {
            return Err("`mtime = true` goes with a `package` and nothing else".into());
        }
        if kind == BindingKind::ReadWrite {
            return Err("a file's modification time cannot be written".into());
        }
        return Ok(());
    }
    need("section")?;
    need("option")?;
    if args.get("unset").is_some_and(|v| !v.is_str()) {
        return Err("`unset` must be a string (the value that removes the option)".into());
    }
    if args.get("create").is_some() {
        let selector = args
            .get("section")
            .and_then(|v| v.as_str())
            .and_then(selector);
        if selector.is_none() {
            return Err("`create` needs a section `@type[option=value]`".into());
        }
    }
    if args.contains_key("map_with") && args.get("map").is_none_or(|m| m.as_table().is_none()) {
        return Err("`map_with` needs `map`".into());
    }
    if args
        .get("map_with")
        .is_some_and(|v| !v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str())))
    {
        return Err("`map_with` must be a list of option names".into());
    }
    for k in ["suffix", "unmapped", "allowed"] {
        if args.get(k).is_some_and(|v| !v.is_str()) {
            return Err(format!("`{k}` must be a string").into());
        }
    }
    if args.contains_key("unmapped") && !args.contains_key("map_default") {
        return Err("`unmapped` needs `map_default`, the value it writes for".into());
    }
    if args
        .get("when")
        .is_some_and(|v| !v.as_table().is_some_and(|t| t.values().all(|x| x.is_str())))
    {
        return Err("`when` must be a table of strings".into());
    }
    for key in ["has", "empty"] {
        if args.get(key).is_some_and(|v| !v.is_str()) {
            return Err(format!("`{key}` must be a string").into());
        }
    }
    if args.contains_key("empty") && !args.contains_key("has") {
        return Err("`empty` goes with `has`".into());
    }
    for flag in ["list", "bool", "invert", "duration", "words", "create"] {
        if args.get(flag).is_some_and(|v| v.as_bool().is_none()) {
            return Err(format!("`{flag}` must be true or false").into());
        }
    }
    if args
        .get("item")
        .is_some_and(|v| !matches!(v.as_integer(), Some(i) if i >= 0))
    {
        return Err("`item` must be a non-negative integer".into());
    }
    text::check_rules(
        &args
            .iter()
            .filter(|(k, _)| ["map", "map_default", "scale", "divide"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}
