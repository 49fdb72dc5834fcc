//! `uci` tables: the sections of a type as instances (`match`, `exclude`, `join`,
//! `within`, `each`), and adding and deleting them (`name_prefix`, `defaults`, `delete_sets`).

use super::doc::Doc;
use super::{ipv4, items, mask, sub_table, words, Uci};
use crate::backend::{Args, BackendError, Instance};
use crate::codec::toml;

impl Uci {
    /// The rows of a table binding (`Handler::instances`).
    pub(super) fn section_rows(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let pkg = args.str("package")?.to_string();
        let ty = args.str("type")?.to_string();
        let exclude = args.opt_str_list("exclude")?.unwrap_or_default();
        let only = args.opt_str("name")?.map(String::from);
        let each = args.opt_str("each")?.map(String::from);
        let each_default = args.opt_str("each_default")?.unwrap_or("").to_string();
        let want: Vec<(String, String)> = match args.table.get("match") {
            Some(toml::Value::Table(t)) => t
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
            _ => Vec::new(),
        };
        // `join`: each row also carries the options of the section of another package named
        // by one of its options (a DHCP pool's `interface` → that network interface), as
        // variables with a prefix (`net_ipaddr`).
        let join = sub_table(args, "join")?.map(|t| {
            let s = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            (s("package"), s("by"), s("prefix"))
        });
        let joined: Option<Doc> = match &join {
            Some((p, _, _)) => Some(self.doc(p)?.clone()),
            None => None,
        };
        // `within`: only rows whose `option` holds an address inside network/netmask; rows
        // without it are kept when their name starts with `or_prefix` (sections added here).
        let within = match sub_table(args, "within")? {
            Some(t) => {
                let s = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                let (net, m) = (s("network"), s("netmask"));
                match (ipv4(&net), mask(&m)) {
                    (Some(n), Some(m)) => Some((s("option"), n & m, m, s("or_prefix"))),
                    // The pool's network is not configured: nothing lies inside it.
                    _ => return Ok(Vec::new()),
                }
            }
            None => None,
        };
        let d = self.doc(&pkg)?;
        let mut out = Vec::new();
        for s in d.sections().into_iter().filter(|s| s.ty == ty) {
            if exclude.contains(&s.id.as_str()) || only.as_ref().is_some_and(|o| o != &s.id) {
                continue;
            }
            let opts = d.options(&s.id);
            if !want
                .iter()
                .all(|(k, v)| opts.iter().any(|(n, x)| n == k && x == v))
            {
                continue;
            }
            if let Some((opt, net, m, prefix)) = &within {
                let inside = match opts.iter().find(|(n, _)| n == opt) {
                    Some((_, v)) => ipv4(v).is_some_and(|a| a & m == *net),
                    None => !prefix.is_empty() && s.id.starts_with(prefix.as_str()),
                };
                if !inside {
                    continue;
                }
            }
            if let Some(option) = args.opt_str("items")? {
                out.extend(items::instances(d, &s.id, option, args)?);
                continue;
            }
            let mut inst = Instance::new(s.id.clone())
                .var("section", s.id.clone())
                .var("index", s.index.to_string());
            if let (Some((_, by, prefix)), Some(jd)) = (&join, &joined) {
                let target = opts.iter().find(|(n, _)| n == by).map(|(_, v)| v.clone());
                if let Some(t) = target.and_then(|t| jd.resolve(&t)) {
                    for (k, v) in jd.options(&t.id) {
                        inst = inst.var(&format!("{prefix}{k}"), v);
                    }
                }
            }
            let words = each.as_deref().map(|e| words::of(&opts, e, &each_default));
            for (k, v) in opts {
                // Lists are joined with spaces; `ucilist_` has them with commas, as TR-181
                // lists and `ref` keys want them.
                inst = inst.var(
                    &format!("ucilist_{k}"),
                    v.split(' ').collect::<Vec<_>>().join(","),
                );
                inst = inst.var(&format!("uci_{k}"), v);
            }
            match words {
                Some(w) => words::rows(inst, &s.id, &w, &mut out),
                None => out.push(inst),
            }
        }
        Ok(out)
    }

    /// Adds a row (`Handler::add`).
    pub(super) fn add_row(&mut self, args: &Args) -> Result<Instance, BackendError> {
        if args.table.contains_key("items") {
            return self.add_item(args);
        }
        let pkg = args.str("package")?.to_string();
        let ty = args.str("type")?.to_string();
        let prefix = args.opt_str("name_prefix")?.map(String::from);
        let d = self.doc_for_change(&pkg)?;
        let name = prefix.map(|p| {
            (1..)
                .map(|n| format!("{p}{n}"))
                .find(|n| d.resolve(n).is_none())
                .unwrap_or_default()
        });
        let id = d
            .add_section(&ty, name.as_deref())
            .ok_or_else(|| BackendError::Limit(format!("{pkg}: cannot add a {ty} section")))?;
        // `defaults`: options a new section starts with (a port mapping starts disabled,
        // TR-181's default for PortMapping.Enable).
        if let Some(defaults) = sub_table(args, "defaults")? {
            for (k, v) in defaults {
                d.set_option(&id, k, v.as_str().unwrap_or_default());
            }
        }
        let index = d.resolve(&id).map(|s| s.index).unwrap_or(0);
        Ok(Instance::new(id.clone())
            .var("section", id)
            .var("index", index.to_string()))
    }

    /// Deletes a row (`Handler::delete`).
    pub(super) fn delete_row(
        &mut self,
        args: &Args,
        instance: &Instance,
    ) -> Result<(), BackendError> {
        let pkg = args.str("package")?.to_string();
        if args.table.contains_key("items") {
            return self.delete_item(args, instance);
        }
        let id = instance
            .vars
            .get("section")
            .cloned()
            .unwrap_or_else(|| instance.key.clone());
        // `delete_sets`: the row is a role of a section (a network interface's dhcp protocol),
        // not the section: deleting it sets these options (`proto = "none"`), so it leaves
        // the table and the section stays.
        if let Some(sets) = sub_table(args, "delete_sets")? {
            let d = self.doc_for_change(&pkg)?;
            let mut ok = d.resolve(&id).is_some();
            for (k, v) in sets {
                ok &= d.set_option(&id, k, v.as_str().unwrap_or_default());
            }
            return if ok {
                Ok(())
            } else {
                Err(BackendError::NotFound(format!("{pkg}.{id}")))
            };
        }
        if self.doc_for_change(&pkg)?.delete_section(&id) {
            Ok(())
        } else {
            Err(BackendError::NotFound(format!("{pkg}.{id}")))
        }
    }
}
