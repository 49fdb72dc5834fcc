//! Values made of a UCI option's items: `has` (whether a list holds one item, as a TR-181
//! boolean: odhcpd's `ra_flags` list holds `managed-config` when RAs set the M flag) and
//! `words` (an option of space-separated words, such as odhcp6c's `reqopts '23 24'`, as a
//! TR-181 comma list).
//!
//! UCI writes a list either as `list` lines or as one option of words (OpenWrt's daemons
//! read both alike), so items are read from either; writes produce `list` lines for `has`
//! and one option for `words`. Nothing here touches files: the caller stages the document.

use super::doc::Doc;
use crate::backend::{Args, BackendError};

/// The items of `option` in section `id`: its `list` lines, else the words of its option
/// line, else `None` (not configured).
pub fn items(d: &Doc, id: &str, option: &str) -> Option<Vec<String>> {
    let list = d.list(id, option);
    if !list.is_empty() {
        return Some(list);
    }
    d.option(id, option)
        .map(|v| v.split_whitespace().map(String::from).collect())
}

/// The items that apply: the configured ones, else the `default` comma list (the daemon's
/// own default when the option is left out).
fn effective(configured: Option<Vec<String>>, args: &Args) -> Result<Vec<String>, BackendError> {
    Ok(match configured {
        Some(v) => v,
        None => args
            .opt_str("default")?
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    })
}

/// The TR-181 value of a `has` or `words` binding from the configured items.
pub fn value(configured: Option<Vec<String>>, args: &Args) -> Result<String, BackendError> {
    let items = effective(configured, args)?;
    Ok(match args.opt_str("has")? {
        Some(item) => items.iter().any(|i| i == item).to_string(),
        None => items.join(","),
    })
}

/// Writes `value` into the option of a `has` or `words` binding; `false` when the section
/// is gone.
pub fn set(
    d: &mut Doc,
    id: &str,
    option: &str,
    args: &Args,
    value: &str,
) -> Result<bool, BackendError> {
    match args.opt_str("has")? {
        Some(item) => {
            let on = match value {
                "true" | "1" => true,
                "false" | "0" => false,
                other => {
                    return Err(BackendError::InvalidValue(format!(
                        "{other:?} is not a boolean"
                    )))
                }
            };
            let empty = args.opt_str("empty")?;
            let mut items = effective(items(d, id, option), args)?;
            items.retain(|i| i != item && Some(i.as_str()) != empty);
            if on {
                items.push(item.to_string());
            }
            // An empty list would read as the daemon's default: say "none" instead.
            if items.is_empty() {
                if let Some(e) = empty {
                    items.push(e.to_string());
                }
            }
            Ok(d.set_list(id, option, &items))
        }
        None => {
            let mut words = Vec::new();
            for w in value.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                if w.chars().any(char::is_whitespace) {
                    return Err(BackendError::InvalidValue(format!(
                        "{w:?}: an item cannot hold spaces"
                    )));
                }
                words.push(w);
            }
            if words.is_empty() {
                d.delete_option(id, option);
                return Ok(d.resolve(id).is_some());
            }
            // One option line, replacing any list lines of the same name.
            d.delete_option(id, option);
            Ok(d.set_option(id, option, &words.join(" ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    fn a(t: &str) -> Args {
        Args {
            table: toml::from_str(t).unwrap(),
            path: String::new(),
        }
    }

    const DHCP: &str = "config dhcp 'lan'\n\tlist ra_flags 'managed-config'\n\tlist ra_flags 'other-config'\n\toption reqopts '23 24'\n\nconfig dhcp 'guest'\n\toption interface 'guest'\n\nconfig dhcp 'iot'\n\toption ra_flags 'home-agent other-config'\n";

    fn flag(item: &str) -> Args {
        a(&format!(
            "has = \"{item}\"\ndefault = \"other-config\"\nempty = \"none\""
        ))
    }

    fn get(d: &Doc, id: &str, option: &str, args: &Args) -> Result<String, BackendError> {
        value(items(d, id, option), args)
    }

    #[test]
    fn has_reads_list_lines_words_and_the_default() {
        let d = Doc::parse(DHCP).unwrap();
        assert_eq!(
            get(&d, "lan", "ra_flags", &flag("managed-config")).unwrap(),
            "true"
        );
        assert_eq!(
            get(&d, "lan", "ra_flags", &flag("home-agent")).unwrap(),
            "false"
        );
        assert_eq!(
            get(&d, "iot", "ra_flags", &flag("home-agent")).unwrap(),
            "true"
        );
        // Left out: odhcpd's default, other-config.
        assert_eq!(
            get(&d, "guest", "ra_flags", &flag("other-config")).unwrap(),
            "true"
        );
        assert_eq!(
            get(&d, "guest", "ra_flags", &flag("managed-config")).unwrap(),
            "false"
        );
    }

    #[test]
    fn has_adds_and_removes_one_item_and_never_leaves_the_list_empty() {
        let mut d = Doc::parse(DHCP).unwrap();
        assert!(set(&mut d, "guest", "ra_flags", &flag("managed-config"), "true").unwrap());
        assert_eq!(
            d.list("guest", "ra_flags"),
            ["other-config", "managed-config"]
        );
        assert!(set(&mut d, "guest", "ra_flags", &flag("other-config"), "false").unwrap());
        assert!(set(
            &mut d,
            "guest",
            "ra_flags",
            &flag("managed-config"),
            "false"
        )
        .unwrap());
        assert_eq!(
            d.list("guest", "ra_flags"),
            ["none"],
            "not the default again"
        );
        assert_eq!(
            get(&d, "guest", "ra_flags", &flag("other-config")).unwrap(),
            "false"
        );
        assert!(set(&mut d, "guest", "ra_flags", &flag("home-agent"), "true").unwrap());
        assert_eq!(d.list("guest", "ra_flags"), ["home-agent"], "none goes");
        // Words become list lines.
        assert!(set(&mut d, "iot", "ra_flags", &flag("managed-config"), "1").unwrap());
        assert_eq!(
            d.list("iot", "ra_flags"),
            ["home-agent", "other-config", "managed-config"]
        );
        assert_eq!(d.option("iot", "ra_flags"), None);
        assert!(matches!(
            set(&mut d, "iot", "ra_flags", &flag("home-agent"), "yes"),
            Err(BackendError::InvalidValue(_))
        ));
        assert!(!set(&mut d, "nosuch", "ra_flags", &flag("home-agent"), "true").unwrap());
    }

    #[test]
    fn words_are_a_comma_list() {
        let mut d = Doc::parse(DHCP).unwrap();
        let w = a("words = true");
        assert_eq!(get(&d, "lan", "reqopts", &w).unwrap(), "23,24");
        assert_eq!(get(&d, "guest", "reqopts", &w).unwrap(), "");
        assert!(set(&mut d, "guest", "reqopts", &w, "17, 64").unwrap());
        assert_eq!(d.option("guest", "reqopts").as_deref(), Some("17 64"));
        assert!(matches!(
            set(&mut d, "guest", "reqopts", &w, "1 2"),
            Err(BackendError::InvalidValue(_))
        ));
        assert!(set(&mut d, "guest", "reqopts", &w, "").unwrap());
        assert_eq!(d.option("guest", "reqopts"), None);
    }
}
