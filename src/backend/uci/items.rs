//! UCI list items as table rows: each value of a list (`list dns '9.9.9.9'`) or each word of
//! an option holding a space-separated list (`option reqopts '121 249'`), in the sections a
//! table selects, is one row.
//!
//! A row's key is `<section>/<value>` (the k-th repeat of a value gets ` (k)`; a dnsmasq
//! option's is `<section>/<code>`, so a write of its value keeps it), so deleting
//! one item leaves the others' keys alone; a write that changes the value (or moves the item
//! to another section) renames the row ([`Handler::renamed_key`](crate::backend::Handler)).
//! Items keep the form they were written in: words of an option stay words, list lines stay
//! lines; an empty item (a row just added, before its value is set) needs list lines.
//!
//! DHCP options written the way udhcpc takes them (`-x OPT:VAL`, netifd's `sendopts`: a code
//! in decimal or `0x` hex, or a name, then the value in hex; `reqopts`: codes only) are read
//! and written by part: `field = "tag"` (the code, decimal) and `field = "data"` (hexBinary).

use super::dhcpopt;
use super::doc::Doc;
use super::Uci;
use crate::backend::{text, Args, ArgsError, BackendError, BindingKind, Instance};
use crate::codec::toml;

/// Arguments of a table of items.
pub const TABLE_KEYS: [&str; 6] = [
    "items", "only_ip", "add_to", "off_list", "as_words", "syntax",
];
/// Arguments of a value of one item.
pub const VALUE_KEYS: [&str; 6] = ["row", "field", "only_ip", "off_list", "as_words", "syntax"];
/// What a value binding reads of its item.
pub const FIELDS: [&str; 6] = ["value", "section", "order", "enable", "tag", "data"];

/// The lists a table's rows live in: `on` (the option the system reads) and, where the
/// board names one, `off` (`off_list`: a list of the same section only cwmpd reads, where a
/// disabled row is kept; the system no longer sees the item, the ACS still does).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lists<'a> {
    /// The option the system reads.
    pub on: &'a str,
    /// Where disabled items wait.
    pub off: Option<&'a str>,
    /// The items are dnsmasq's `dhcp_option`s (`6,192.168.1.1`), not udhcpc's `OPT:hex`.
    pub dnsmasq: bool,
    /// Items the `on` option does not hold yet are written as its words (`option reqopts
    /// '121'`: netifd's dhcp protocol reads `reqopts` as a string).
    pub words: bool,
}

impl<'a> Lists<'a> {
    /// The lists of `option` as a binding's `off_list`, `words` and `syntax` say.
    pub fn of_args(option: &'a str, args: &'a Args) -> Result<Lists<'a>, BackendError> {
        Ok(Lists {
            on: option,
            off: args.opt_str("off_list")?,
            words: args.opt_bool("as_words")?.unwrap_or(false),
            dnsmasq: args.opt_str("syntax")? == Some("dnsmasq"),
        })
    }

    fn of(&self, enabled: bool) -> Result<&str, BackendError> {
        if enabled {
            Ok(self.on)
        } else {
            self.off
                .ok_or(BackendError::Unsupported("a disabled item (no `off_list`)"))
        }
    }
}

/// One item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Table key.
    pub key: String,
    /// Section id.
    pub section: String,
    /// Position in its list (0-based).
    pub pos: usize,
    /// The item.
    pub value: String,
    /// In the `on` list (not the `off` one).
    pub enabled: bool,
    /// 1-based place among the section's items, the `off` ones after the `on` ones.
    pub order: usize,
}

/// The items of `option` in a section, and whether they are the words of an option.
pub fn items(d: &Doc, id: &str, option: &str) -> (Vec<String>, bool) {
    let list = d.list(id, option);
    if !list.is_empty() {
        return (list, false);
    }
    match d.option(id, option) {
        Some(v) => (v.split_whitespace().map(String::from).collect(), true),
        None => (Vec::new(), false),
    }
}

/// Writes a section's items back in their form (list lines once an item is empty or holds a
/// space, which words cannot say).
fn store(d: &mut Doc, id: &str, option: &str, items: &[String], words: bool) -> bool {
    if items.is_empty() {
        d.delete_option(id, option);
        return d.resolve(id).is_some();
    }
    if words
        && items
            .iter()
            .all(|i| !i.is_empty() && !i.contains(char::is_whitespace))
    {
        d.set_option(id, option, &items.join(" "))
    } else {
        d.delete_option(id, option);
        d.set_list(id, option, items)
    }
}

/// True for an IPv4 or IPv6 address, as dnsmasq's `server` takes a plain upstream.
fn is_ip(v: &str) -> bool {
    v.parse::<std::net::IpAddr>().is_ok()
}

/// The rows of one section: the `on` items, then the `off` ones.
pub fn rows(d: &Doc, id: &str, lists: Lists, only_ip: bool) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    let off = lists.off.map(|o| (o, false));
    let mut before = 0;
    for (option, enabled) in std::iter::once((lists.on, true)).chain(off) {
        let list = items(d, id, option).0;
        let base = before;
        before += list.len();
        for (pos, value) in list.into_iter().enumerate() {
            if only_ip && !value.is_empty() && !is_ip(&value) {
                continue;
            }
            // A dnsmasq option is known by its code: writing its value keeps its key.
            let name = if lists.dnsmasq {
                value.split(',').next().unwrap_or_default()
            } else {
                value.as_str()
            };
            let seen = out
                .iter()
                .filter(|r| {
                    r.key == format!("{id}/{name}") || r.key.starts_with(&format!("{id}/{name} ("))
                })
                .count();
            let key = if seen == 0 {
                format!("{id}/{name}")
            } else {
                format!("{id}/{name} ({})", seen + 1)
            };
            out.push(Row {
                key,
                section: id.to_string(),
                pos,
                value,
                enabled,
                order: base + pos + 1,
            });
        }
    }
    out
}

/// The row a key names (`section/value`).
pub fn find(d: &Doc, key: &str, lists: Lists, only_ip: bool) -> Result<Row, BackendError> {
    let section = key.split_once('/').map(|(s, _)| s).unwrap_or(key);
    rows(d, section, lists, only_ip)
        .into_iter()
        .find(|r| r.key == key)
        .ok_or_else(|| BackendError::NotFound(format!("{} item {key:?}", lists.on)))
}

/// Reads one field of a row.
pub fn get(row: &Row, lists: Lists, field: &str) -> Result<String, BackendError> {
    Ok(match field {
        "section" => row.section.clone(),
        "order" => row.order.to_string(),
        "enable" => row.enabled.to_string(),
        "tag" => dhcpopt::parts(&row.value, lists.dnsmasq)?.0.to_string(),
        "data" => dhcpopt::parts(&row.value, lists.dnsmasq)?.1,
        _ => row.value.clone(),
    })
}

/// Takes a row's item out of its list.
fn take(d: &mut Doc, row: &Row, lists: Lists) -> Result<(), BackendError> {
    let option = lists.of(row.enabled)?;
    let (mut list, words) = items(d, &row.section, option);
    if row.pos >= list.len() {
        return Err(BackendError::NotFound(row.key.clone()));
    }
    list.remove(row.pos);
    if store(d, &row.section, option, &list, words) {
        Ok(())
    } else {
        Err(BackendError::NotFound(row.section.clone()))
    }
}

/// Appends an item to a section's on or off list; returns its row.
fn put(
    d: &mut Doc,
    id: &str,
    value: &str,
    enabled: bool,
    lists: Lists,
    only_ip: bool,
) -> Result<Row, BackendError> {
    let option = lists.of(enabled)?;
    let (mut list, mut words) = items(d, id, option);
    words |= enabled && lists.words && list.is_empty();
    list.push(value.to_string());
    if !store(d, id, option, &list, words) {
        return Err(BackendError::NotFound(id.to_string()));
    }
    let pos = list.len() - 1;
    rows(d, id, lists, only_ip)
        .into_iter()
        .find(|r| r.pos == pos && r.enabled == enabled)
        .ok_or_else(|| BackendError::NotFound(id.to_string()))
}

/// Writes one field of a row; returns the row's new key.
pub fn set(
    d: &mut Doc,
    row: &Row,
    lists: Lists,
    field: &str,
    value: &str,
    only_ip: bool,
) -> Result<String, BackendError> {
    let new = match field {
        "tag" => {
            let code = value
                .parse::<u8>()
                .ok()
                .filter(|c| (1..=254).contains(c))
                .ok_or_else(|| {
                    BackendError::InvalidValue(format!("option tag {value:?} is not 1 to 254"))
                })?;
            dhcpopt::with_tag(&row.value, code, lists.dnsmasq)
        }
        "data" => dhcpopt::with_data(&row.value, value, lists.dnsmasq)?,
        "section" | "enable" => {
            let (target, enabled) = if field == "section" {
                let t = d
                    .resolve(value)
                    .map(|s| s.id)
                    .ok_or_else(|| BackendError::InvalidValue(format!("no section {value:?}")))?;
                (t, row.enabled)
            } else {
                (row.section.clone(), value == "true")
            };
            if target == row.section && enabled == row.enabled {
                return Ok(row.key.clone());
            }
            // An empty item read by the system is a broken one (`--server=` stops dnsmasq):
            // a new row gets its value first (earlier in the same SetParameterValues will do).
            if enabled && row.value.is_empty() {
                return Err(BackendError::InvalidValue(
                    "an item without a value cannot be enabled".into(),
                ));
            }
            lists.of(enabled)?;
            take(d, row, lists)?;
            return put(d, &target, &row.value, enabled, lists, only_ip).map(|r| r.key);
        }
        "order" => {
            // TR-181 Order: the item's place in the on list (udhcpc asks in that order).
            let (mut list, words) = items(d, &row.section, lists.on);
            let n = value
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=list.len()).contains(n));
            let (Some(n), true) = (n, row.enabled) else {
                return Err(BackendError::InvalidValue(format!(
                    "order {value:?}: not a place among the {} enabled items",
                    list.len()
                )));
            };
            if row.pos >= list.len() {
                return Err(BackendError::NotFound(row.key.clone()));
            }
            let item = list.remove(row.pos);
            list.insert(n - 1, item);
            store(d, &row.section, lists.on, &list, words);
            return rows(d, &row.section, lists, only_ip)
                .into_iter()
                .find(|r| r.pos == n - 1 && r.enabled)
                .map(|r| r.key)
                .ok_or_else(|| BackendError::NotFound(row.key.clone()));
        }
        _ => value.to_string(),
    };
    let option = lists.of(row.enabled)?;
    let (mut list, words) = items(d, &row.section, option);
    if new.contains(['\n', '\r', '\'']) || (words && new.contains(char::is_whitespace)) {
        return Err(BackendError::InvalidValue(format!(
            "{new:?} cannot be a {option} item"
        )));
    }
    if only_ip && !is_ip(&new) {
        return Err(BackendError::InvalidValue(format!(
            "{new:?} is not an IP address"
        )));
    }
    if let Some(slot) = list.get_mut(row.pos) {
        *slot = new;
    }
    if !store(d, &row.section, option, &list, words) {
        return Err(BackendError::NotFound(row.section.clone()));
    }
    rows(d, &row.section, lists, only_ip)
        .into_iter()
        .find(|r| r.pos == row.pos && r.enabled == row.enabled)
        .map(|r| r.key)
        .ok_or_else(|| BackendError::NotFound(row.key.clone()))
}

/// Appends an empty item to a section (the ACS sets its value next): to the `off` list where
/// there is one (TR-181: a new row starts disabled), so the system never reads it empty.
pub fn add(d: &mut Doc, section: &str, lists: Lists, only_ip: bool) -> Result<Row, BackendError> {
    let id = d
        .resolve(section)
        .map(|s| s.id)
        .ok_or_else(|| BackendError::NotFound(format!("section {section}")))?;
    put(d, &id, "", lists.off.is_none(), lists, only_ip)
}

/// Removes a row's item.
pub fn delete(d: &mut Doc, row: &Row, lists: Lists) -> bool {
    take(d, row, lists).is_ok()
}

/// The rows of one section as a table's instances (vars `section`, `item`, `enabled`,
/// `order`).
pub fn instances(
    d: &Doc,
    id: &str,
    option: &str,
    args: &Args,
) -> Result<Vec<Instance>, BackendError> {
    let only_ip = args.opt_bool("only_ip")?.unwrap_or(false);
    let lists = Lists::of_args(option, args)?;
    Ok(rows(d, id, lists, only_ip)
        .into_iter()
        .map(|r| {
            Instance::new(r.key)
                .var("section", id)
                .var("item", r.value)
                .var("enabled", r.enabled.to_string())
                .var("order", r.order.to_string())
        })
        .collect())
}

/// Checks the arguments of item tables and item values (`items.rs`); `None` when the
/// binding is not about items.
pub fn check(kind: BindingKind, args: &toml::Table) -> Option<Result<(), ArgsError>> {
    let is_str = |k: &str| args.get(k).is_some_and(|v| v.is_str());
    if kind == BindingKind::Table {
        if !args.contains_key("items") {
            return ["only_ip", "add_to", "off_list", "as_words", "syntax"]
                .iter()
                .find(|k| args.contains_key(**k))
                .map(|k| Err(format!("`{k}` needs `items`").into()));
        }
        if !is_str("items") || !is_str("type") || !is_str("package") {
            return Some(Err(
                "`items`, `type` and `package` (strings) are required".into()
            ));
        }
        for flag in ["only_ip", "as_words"] {
            if args.get(flag).is_some_and(|v| v.as_bool().is_none()) {
                return Some(Err(format!("`{flag}` must be true or false").into()));
            }
        }
        if args.contains_key("add_to") && !is_str("add_to") {
            return Some(Err("`add_to` must be a section (a string)".into()));
        }
        if args.contains_key("off_list") && !is_str("off_list") {
            return Some(Err("`off_list` must be an option name (a string)".into()));
        }
        return Some(Ok(()));
    }
    if !args.contains_key("row") {
        return args
            .contains_key("field")
            .then(|| Err("`field` needs `row`".into()));
    }
    if !is_str("row")
        || !is_str("option")
        || !is_str("package")
        || args.get("off_list").is_some_and(|v| !v.is_str())
    {
        return Some(Err(
            "`row`, `option` and `package` (strings) are required".into()
        ));
    }
    if args
        .get("syntax")
        .is_some_and(|v| !matches!(v.as_str(), Some("udhcpc" | "dnsmasq")))
    {
        return Some(Err("`syntax` must be \"udhcpc\" or \"dnsmasq\"".into()));
    }
    if let Some(f) = args.get("field") {
        if !f.as_str().is_some_and(|f| FIELDS.contains(&f)) {
            return Some(Err(
                format!("`field` must be one of {}", FIELDS.join(", ")).into()
            ));
        }
    }
    Some(text::check_rules(
        &args
            .iter()
            .filter(|(k, _)| ["map", "map_default"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ))
}

impl Uci {
    /// A value of an item row (`row`, `items.rs`), through `map`.
    pub(super) fn get_item(&mut self, args: &Args) -> Result<String, BackendError> {
        let pkg = args.str("package")?.to_string();
        let option = args.str("option")?.to_string();
        let key = args.str("row")?.to_string();
        let field = args.opt_str("field")?.unwrap_or("value").to_string();
        let lists = Lists::of_args(&option, args)?;
        let row = find(self.doc(&pkg)?, &key, lists, false)?;
        let raw = get(&row, lists, &field)?;
        text::extract(&raw, &Self::map_rules(args))
    }

    /// Writes a value of an item row; remembers the row's new key for `renamed_key`.
    pub(super) fn set_item(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let pkg = args.str("package")?.to_string();
        let option = args.str("option")?.to_string();
        let key = args.str("row")?.to_string();
        let field = args.opt_str("field")?.unwrap_or("value").to_string();
        let only_ip = args.opt_bool("only_ip")?.unwrap_or(false);
        let value = text::reverse_map(value, args)?;
        // A row written twice in one operation is found under the key the first write gave it.
        let current = self
            .renamed
            .get(&key)
            .cloned()
            .unwrap_or_else(|| key.clone());
        let d = self.doc_for_change(&pkg)?;
        let lists = Lists::of_args(&option, args)?;
        let row = find(d, &current, lists, false)?;
        let new = set(d, &row, lists, &field, &value, only_ip)?;
        if new == key {
            self.renamed.remove(&key);
        } else {
            self.renamed.insert(key, new);
        }
        Ok(())
    }

    /// AddObject on a table of items: an empty item in the `add_to` section.
    pub(super) fn add_item(&mut self, args: &Args) -> Result<Instance, BackendError> {
        let pkg = args.str("package")?.to_string();
        let option = args.str("items")?;
        let only_ip = args.opt_bool("only_ip")?.unwrap_or(false);
        let to = args
            .opt_str("add_to")?
            .ok_or(BackendError::Unsupported("add (no `add_to` section)"))?;
        let lists = Lists::of_args(option, args)?;
        let r = add(self.doc_for_change(&pkg)?, to, lists, only_ip)?;
        Ok(Instance::new(r.key)
            .var("section", r.section)
            .var("item", "")
            .var("enabled", r.enabled.to_string())
            .var("order", r.order.to_string()))
    }

    /// DeleteObject on a table of items: the row's item leaves its list.
    pub(super) fn delete_item(
        &mut self,
        args: &Args,
        instance: &Instance,
    ) -> Result<(), BackendError> {
        let pkg = args.str("package")?.to_string();
        let lists = Lists::of_args(args.str("items")?, args)?;
        let d = self.doc_for_change(&pkg)?;
        let row = find(d, &instance.key, lists, false)?;
        if delete(d, &row, lists) {
            Ok(())
        } else {
            Err(BackendError::NotFound(instance.key.clone()))
        }
    }

    /// The `map` rules of a binding alone.
    fn map_rules(args: &Args) -> Args {
        Args {
            table: args
                .table
                .iter()
                .filter(|(k, _)| ["map", "map_default", "scale", "divide"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            path: String::new(),
        }
    }
}

#[cfg(test)]
mod tests;
