//! `map_with` on a `uci` value: a map keyed also by other options of the section (`"2g
//! HT20"`, `"5g HT20"`: the standards an `htmode` means depend on the band), and the way
//! back for a map whose raw values share a TR-181 value (`HT20`, `VHT20`, `HE20` are all
//! `20MHz`): the raw value closest to the current one is written, so changing the bandwidth
//! keeps the generation and changing the generation keeps the bandwidth. `allowed` limits
//! the items a written list may hold (a radio's SupportedStandards). Also `unmapped`, the
//! way back for `map_default`'s value.

use super::Uci;
use crate::backend::{Args, BackendError};
use crate::codec::toml;

/// The TR-181 value of `raw` given the other options' values `with` (a missing one is
/// `-`): the key `"<with…> <raw>"` first, then with the last of `with` left off, and so on
/// down to `raw` alone.
pub fn lookup(map: &toml::Table, with: &[String], raw: &str) -> Option<String> {
    (0..=with.len()).rev().find_map(|n| {
        let mut key = with.get(..n).unwrap_or_default().join(" ");
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(raw);
        map.get(&key).and_then(|v| v.as_str()).map(String::from)
    })
}

/// A comma list's items, sorted (TR-181: the order of such a list is not significant).
fn items(list: &str) -> Vec<&str> {
    let mut v: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    v.sort_unstable();
    v
}

/// How alike two raw values are: the length of their common prefix plus that of their
/// common suffix (`HE80` and `VHT80` share `80`, `HE80` and `HE20` share `HE`).
fn likeness(a: &str, b: &str) -> usize {
    let pre = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let suf = a
        .bytes()
        .rev()
        .zip(b.bytes().rev())
        .take_while(|(x, y)| x == y)
        .count();
    pre + suf
}

/// The raw value to write for `value`: among the raws that mean it given `with`, the one
/// most like `current`.
pub fn reverse(
    map: &toml::Table,
    with: &[String],
    value: &str,
    current: Option<&str>,
) -> Result<String, BackendError> {
    let want = items(value);
    let mut best: Option<(usize, &str)> = None;
    for key in map.keys() {
        let raw = key.rsplit(' ').next().unwrap_or(key);
        if lookup(map, with, raw).as_deref().map(items) != Some(want.clone()) {
            continue;
        }
        let score = current.map(|c| likeness(c, raw)).unwrap_or(0);
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, raw));
        }
    }
    best.map(|(_, raw)| raw.to_string())
        .ok_or_else(|| BackendError::InvalidValue(format!("{value:?} is not supported here")))
}

/// `allowed`: every item of the written list must be one of these.
pub fn check_allowed(args: &Args, value: &str) -> Result<(), BackendError> {
    let Some(allowed) = args.opt_str("allowed")? else {
        return Ok(());
    };
    let ok = items(allowed);
    match items(value).into_iter().find(|i| !ok.contains(i)) {
        Some(bad) => Err(BackendError::InvalidValue(format!(
            "{bad:?} is not one of {allowed:?}"
        ))),
        None => Ok(()),
    }
}

impl Uci {
    /// `unmapped`: writing `map_default`'s value, which no raw value maps to, keeps an option
    /// that already reads as it and replaces one of `map`'s raw values with `unmapped`
    /// (AutoChannelEnable false: a channel number stays, `auto` becomes the channel in use).
    /// `None` when the rule does not apply.
    pub(super) fn unmapped(
        &mut self,
        pkg: &str,
        id: &str,
        option: &str,
        args: &Args,
        value: &str,
    ) -> Result<Option<String>, BackendError> {
        let (Some(to), Some(default)) = (args.opt_str("unmapped")?, args.opt_str("map_default")?)
        else {
            return Ok(None);
        };
        if value != default {
            return Ok(None);
        }
        let current = self
            .doc(pkg)?
            .option(id, option)
            .or_else(|| args.opt_str("default").ok().flatten().map(String::from));
        let mapped = |raw: &str| match args.table.get("map") {
            Some(toml::Value::Table(m)) => m.contains_key(raw),
            _ => false,
        };
        let raw = match current {
            Some(c) if !mapped(&c) => c,
            _ if to.is_empty() || to.contains('{') => {
                return Err(BackendError::InvalidValue(format!(
                    "{pkg}.{id}.{option}: nothing to write for {value:?}"
                )))
            }
            _ => to.to_string(),
        };
        Ok(Some(raw))
    }

    /// The values of the `map_with` options in the section (`-` for one it lacks).
    pub(super) fn map_with(
        &mut self,
        args: &Args,
        pkg: &str,
        id: &str,
    ) -> Result<Option<Vec<String>>, BackendError> {
        let Some(names) = args.opt_str_list("map_with")? else {
            return Ok(None);
        };
        let names: Vec<String> = names.into_iter().map(String::from).collect();
        if pkg.is_empty() {
            return Ok(Some(vec!["-".to_string(); names.len()]));
        }
        let d = self.doc(pkg)?;
        Ok(Some(
            names
                .iter()
                .map(|n| d.option(id, n).unwrap_or_else(|| "-".into()))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    fn map() -> toml::Table {
        toml::from_str(
            r#""2g HT20" = "g,n"
"2g 1 HT20" = "b,g,n"
"2g HE20" = "g,n,ax"
"5g HT20" = "a,n"
"5g VHT80" = "a,n,ac"
"5g HE80" = "a,n,ac,ax"
"5g HE20" = "a,n,ac,ax"
"HT20" = "n""#,
        )
        .unwrap()
    }

    #[test]
    fn a_value_is_looked_up_with_the_other_option_first() {
        assert_eq!(
            lookup(&map(), &w(&["2g", "-"]), "HT20").as_deref(),
            Some("g,n")
        );
        assert_eq!(
            lookup(&map(), &w(&["2g", "1"]), "HT20").as_deref(),
            Some("b,g,n")
        );
        assert_eq!(
            lookup(&map(), &w(&["5g", "-"]), "HT20").as_deref(),
            Some("a,n")
        );
        assert_eq!(lookup(&map(), &w(&["6g"]), "HT20").as_deref(), Some("n"));
        assert_eq!(lookup(&map(), &w(&["2g"]), "VHT80"), None);
    }

    #[test]
    fn the_way_back_keeps_what_the_value_does_not_say() {
        let m = map();
        // The generation changes, the width stays.
        let (g5, g2) = (w(&["5g"]), w(&["2g", "-"]));
        assert_eq!(reverse(&m, &g5, "a,n,ac", Some("HE80")).unwrap(), "VHT80");
        assert_eq!(
            reverse(&m, &g5, "ax,ac,n,a", Some("VHT80")).unwrap(),
            "HE80"
        );
        assert_eq!(reverse(&m, &g2, "g,n,ax", Some("HT20")).unwrap(), "HE20");
        assert_eq!(
            reverse(&m, &w(&["2g", "1"]), "b,g,n", Some("HE20")).unwrap(),
            "HT20"
        );
        // A value this band has no raw for, or only with other options.
        assert!(reverse(&m, &g2, "a,n,ac", Some("HT20")).is_err());
        assert!(reverse(&m, &g2, "b,g,n", Some("HE20")).is_err());
        let widths: toml::Table = toml::from_str(
            "HT20 = \"20MHz\"\nHE20 = \"20MHz\"\nVHT20 = \"20MHz\"\nHE80 = \"80MHz\"",
        )
        .unwrap();
        assert_eq!(
            reverse(&widths, &[], "20MHz", Some("HE80")).unwrap(),
            "HE20"
        );
        assert_eq!(
            reverse(&widths, &[], "20MHz", Some("VHT80")).unwrap(),
            "VHT20"
        );
    }

    #[test]
    fn only_allowed_items_may_be_written() {
        let a = Args {
            table: toml::from_str("allowed = \"b,g,n,ax\"").unwrap(),
            path: String::new(),
        };
        assert!(check_allowed(&a, "n,ax").is_ok());
        assert!(matches!(
            check_allowed(&a, "a,n"),
            Err(BackendError::InvalidValue(_))
        ));
    }
}
