//! `uci` writes: a TR-181 value translated back to its UCI form and staged in the
//! package document (`unset`, `create`, `list`, `item`, `word`, reverse maps).

use super::{flags, mapping, selector, sub_table, Uci};
use crate::backend::text;
use crate::backend::{Args, BackendError};
use crate::codec::toml;

impl Uci {
    /// Adds the section a `@type[option=value]` reference names.
    fn create_section(&mut self, args: &Args) -> Result<(String, String), BackendError> {
        let pkg = args.str("package")?.to_string();
        let reference = args.str("section")?.to_string();
        let (ty, opt, value) = selector(&reference)
            .ok_or_else(|| BackendError::BadArgs(format!("create: section {reference:?}")))?;
        let d = self.doc_for_change(&pkg)?;
        let id = d
            .add_section(ty, None)
            .ok_or_else(|| BackendError::Limit(format!("{pkg}: cannot add a {ty} section")))?;
        d.set_option(&id, opt, value);
        Ok((pkg, id))
    }
    /// Stages the write of a value binding (`Handler::set`).
    pub(super) fn set_value(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        if args.table.contains_key("row") {
            return self.set_item(args, value);
        }
        if args.table.contains_key("pool") {
            return self.set_pool(args, value);
        }
        if args.table.contains_key("tagged") {
            return self.set_tagged(args, value);
        }
        // `unset`: this TR-181 value means "not configured" (MaxBitRate -1, DuplexMode
        // Auto): the option is removed, and where no section holds it nothing is written.
        let unset = args.opt_str("unset")? == Some(value);
        let (pkg, id) = match self.section_id(args) {
            Ok(found) => found,
            Err(BackendError::NotFound(_)) if unset => return Ok(()),
            // `create`: the `@type[option=value]` section is added (a device section for a
            // port that had none).
            Err(BackendError::NotFound(_)) if args.opt_bool("create")?.unwrap_or(false) => {
                self.create_section(args)?
            }
            Err(e) => return Err(e),
        };
        let option = args.str("option")?.to_string();
        if let Some(when) = sub_table(args, "when")? {
            let d = self.doc(&pkg)?;
            if !when.iter().all(|(k, v)| {
                d.option(&id, k).unwrap_or_default().as_str() == v.as_str().unwrap_or("-")
            }) {
                return Err(BackendError::NotFound(format!("{pkg}.{id}.{option}")));
            }
        }
        if unset {
            self.doc_for_change(&pkg)?.delete_option(&id, &option);
            return Ok(());
        }
        if args.opt_str("has")?.is_some() || args.opt_bool("words")?.unwrap_or(false) {
            let d = self.doc_for_change(&pkg)?;
            return if flags::set(d, &id, &option, args, value)? {
                Ok(())
            } else {
                Err(BackendError::NotFound(format!("{pkg}.{id}")))
            };
        }
        let raw = if args.opt_bool("duration")?.unwrap_or(false) {
            if value.starts_with('-') {
                "infinite".to_string()
            } else {
                value.to_string()
            }
        } else if args.opt_bool("bool")?.unwrap_or(false) {
            let b = value == "true";
            if b != args.opt_bool("invert")?.unwrap_or(false) {
                "1"
            } else {
                "0"
            }
            .to_string()
        } else if let Some(suffix) = args.opt_str("suffix")? {
            value
                .strip_suffix(suffix)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    BackendError::InvalidValue(format!("{value:?} does not end with {suffix:?}"))
                })?
                .to_string()
        } else if let Some(raw) = self.unmapped(&pkg, &id, &option, args, value)? {
            raw
        } else if let (Some(with), Some(toml::Value::Table(map))) =
            (self.map_with(args, &pkg, &id)?, args.table.get("map"))
        {
            mapping::check_allowed(args, value)?;
            let current = self.doc(&pkg)?.option(&id, &option);
            mapping::reverse(map, &with, value, current.as_deref())?
        } else {
            mapping::check_allowed(args, value)?;
            text::reverse_map(value, args)?
        };
        let mut item = args.opt_int("item")?;
        let is_list = args.opt_bool("list")?.unwrap_or(false);
        let word = args.opt_str("word")?.unwrap_or("").to_string();
        let d = self.doc_for_change(&pkg)?;
        // `word` in a UCI list: that item is replaced (in a plain option, the whole option).
        if !word.is_empty() {
            if let Some(i) = d.list(&id, &option).iter().position(|x| *x == word) {
                item = i64::try_from(i).ok();
            }
        }
        let ok = match (item, is_list) {
            (Some(n), _) => {
                let mut items = d.list(&id, &option);
                let n = n as usize;
                if n > items.len() {
                    return Err(BackendError::InvalidValue(format!(
                        "{pkg}.{id}.{option}: no item {n}"
                    )));
                }
                if n == items.len() {
                    items.push(raw);
                } else {
                    items[n] = raw;
                }
                items.retain(|i| !i.is_empty());
                d.set_list(&id, &option, &items)
            }
            (None, true) => {
                let items: Vec<String> = raw
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                d.set_list(&id, &option, &items)
            }
            (None, false) => d.set_option(&id, &option, &raw),
        };
        if ok {
            Ok(())
        } else {
            Err(BackendError::NotFound(format!("{pkg}.{id}")))
        }
    }
}
