//! `uci` reads: an option, list item or word of a section, translated to its TR-181 form
//! (`bool`, `invert`, `duration`, `map`, `map_with`, `suffix`, `when`, `default`).

use super::{flags, known_default, mapping, sub_table, valid_package, words, Uci};
use crate::backend::text;
use crate::backend::{Args, BackendError};
use crate::codec::toml;

fn truthy(v: &str) -> Option<bool> {
    match v {
        "1" | "on" | "true" | "yes" | "enabled" => Some(true),
        "0" | "off" | "false" | "no" | "disabled" => Some(false),
        _ => None,
    }
}

/// UCI durations (`3600`, `45m`, `12h`, `2d`, `1w`, `infinite`) in seconds; -1 for infinite.
pub(super) fn duration_secs(v: &str) -> Option<i64> {
    if v == "infinite" {
        return Some(-1);
    }
    let (num, unit) = match v.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&v[..i], c),
        _ => (v, 's'),
    };
    let n: i64 = num.parse().ok().filter(|n: &i64| *n >= 0)?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Uci {
    /// The value a value binding reads (`Handler::get`).
    pub(super) fn get_value(&mut self, args: &Args) -> Result<String, BackendError> {
        if args.table.contains_key("row") {
            return self.get_item(args);
        }
        if args.table.contains_key("pool") {
            return self.get_pool(args);
        }
        if args.table.contains_key("tagged") {
            return self.get_tagged(args);
        }
        if args.opt_bool("mtime")? == Some(true) {
            let pkg = args.str("package")?;
            if !valid_package(pkg) {
                return Err(BackendError::BadArgs(format!("package {pkg:?}")));
            }
            return words::mtime(&self.dir.join(pkg));
        }
        let option = args.str("option")?.to_string();
        if args.opt_str("has")?.is_some() || args.opt_bool("words")?.unwrap_or(false) {
            let configured = match self.section_id(args) {
                Ok((pkg, id)) => flags::items(self.doc(&pkg)?, &id, &option),
                Err(BackendError::NotFound(_)) if args.opt_str("default")?.is_some() => None,
                Err(e) => return Err(e),
            };
            return flags::value(configured, args);
        }
        let is_list = args.opt_bool("list")?.unwrap_or(false) || args.opt_int("item")?.is_some();
        let (pkg, id, raw) = match self.section_id(args) {
            Ok((pkg, id)) => {
                let d = self.doc(&pkg)?;
                // `when`: the value exists only in sections whose options hold these values
                // (802.11h only on a 5 GHz radio); `""` stands for an option left out.
                if let Some(when) = sub_table(args, "when")? {
                    let holds = when.iter().all(|(k, v)| {
                        d.option(&id, k).unwrap_or_default().as_str() == v.as_str().unwrap_or("-")
                    });
                    if !holds {
                        return Err(BackendError::NotFound(format!(
                            "{pkg}.{id}.{option}: not in this kind of section"
                        )));
                    }
                }
                let raw = if is_list {
                    let items = d.list(&id, &option);
                    match args.opt_int("item")? {
                        Some(n) => items.get(n as usize).cloned(),
                        None if items.is_empty() => None,
                        None => Some(items.join(",")),
                    }
                } else {
                    d.option(&id, &option)
                };
                (pkg, id, raw)
            }
            // No such package file or section: nothing is configured there, so a default
            // applies as it does to a missing option (`uci get … || echo default`).
            Err(BackendError::NotFound(_)) if known_default(args)?.is_some() => {
                (String::new(), String::new(), None)
            }
            Err(e) => return Err(e),
        };
        let raw = match (raw, known_default(args)?) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_string(),
            (None, None) if is_list => String::new(),
            (None, None) => return Err(BackendError::NotFound(format!("{pkg}.{id}.{option}"))),
        };
        let raw = words::pick(raw, args.opt_str("word")?, || {
            format!("{pkg}.{id}.{option}")
        })?;
        if args.opt_bool("duration")?.unwrap_or(false) {
            return duration_secs(&raw).map(|n| n.to_string()).ok_or_else(|| {
                BackendError::InvalidValue(format!(
                    "{pkg}.{id}.{option} = {raw:?} is not a duration"
                ))
            });
        }
        if args.opt_bool("bool")?.unwrap_or(false) {
            let b = truthy(&raw).ok_or_else(|| {
                BackendError::InvalidValue(format!(
                    "{pkg}.{id}.{option} = {raw:?} is not a boolean"
                ))
            })?;
            return Ok((b != args.opt_bool("invert")?.unwrap_or(false)).to_string());
        }
        // `map_with`: the map is keyed by another option too (`"<band> <htmode>"`).
        let with = self.map_with(args, &pkg, &id)?;
        let (raw, rules): (String, &[&str]) = match (with, args.table.get("map")) {
            (Some(with), Some(toml::Value::Table(map))) => {
                match mapping::lookup(map, &with, &raw) {
                    Some(v) => (v, &["scale", "divide"]),
                    None => (raw, &["map", "map_default", "scale", "divide"]),
                }
            }
            _ => (raw, &["map", "map_default", "scale", "divide"]),
        };
        let mapped = Args {
            table: args
                .table
                .iter()
                .filter(|(k, _)| rules.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            path: String::new(),
        };
        // `suffix`: what TR-181 adds to the stored value (a regulatory domain's
        // environment octet after UCI's country code).
        let suffix = args.opt_str("suffix")?.unwrap_or("");
        Ok(text::extract(&raw, &mapped)? + suffix)
    }
}
