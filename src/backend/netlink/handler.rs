//! The [`Handler`] implementation: the checks of a binding's arguments at board load, and
//! get, set, instances, add and delete dispatched by `kind`, with the staged writes applied
//! at commit and reversed at rollback.

use super::change::{Change, LinkEdit};
use super::links::LINK_FIELDS;
use super::{addresses, msg, Netlink};
use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

const TABLE_KINDS: [&str; 5] = ["links", "addresses", "routes", "neighbours", "stack"];

impl Handler for Netlink {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        let k = args
            .get("kind")
            .and_then(|v| v.as_str())
            .ok_or("`kind` (a string) is required")?;
        let allowed: &[&str] = match (kind, k) {
            (BindingKind::Table, "links") => {
                &["kind", "type", "exclude", "kinds", "master", "and_master"]
            }
            (BindingKind::Table, "addresses") => &["kind", "family", "ifname"],
            (BindingKind::Table, "routes") => &["kind", "family"],
            (BindingKind::Table, "neighbours") => &["kind", "family", "mac"],
            (BindingKind::Table, "stack") => &["kind"],
            (BindingKind::Table, other) => {
                return Err(
                    format!("table kind {other:?}; one of {}", TABLE_KINDS.join(", ")).into(),
                )
            }
            (_, "link") => &["kind", "ifname", "field", "map", "map_default"],
            (_, "address") => {
                ArgsError::strings_required(args, &["ifname", "key", "field"])?;
                if !matches!(
                    args.get("field").and_then(|v| v.as_str()),
                    Some("ip" | "netmask" | "prefixlen" | "enable")
                ) {
                    return Err("address `field` must be ip, netmask, prefixlen or enable".into());
                }
                &["kind", "ifname", "key", "field", "family"]
            }
            (_, other) => {
                return Err(format!("value kind {other:?}; \"link\" or \"address\"").into())
            }
        };
        if let Some(x) = args.keys().find(|x| !allowed.contains(&x.as_str())) {
            return Err(ArgsError::unknown(x));
        }
        if let Some(f) = args.get("family") {
            if !matches!(f.as_str(), Some("inet" | "inet6")) {
                return Err("`family` must be \"inet\" or \"inet6\"".into());
            }
        }
        if kind != BindingKind::Table && k == "link" {
            let field = args
                .get("field")
                .and_then(|v| v.as_str())
                .ok_or("`field` (a string) is required")?;
            if !LINK_FIELDS.contains(&field) {
                return Err(format!("unknown link field {field:?}").into());
            }
            if !args.get("ifname").is_some_and(|v| v.is_str()) {
                return Err("`ifname` (a string) is required".into());
            }
            if kind == BindingKind::ReadWrite && !["up", "mtu"].contains(&field) {
                return Err(format!("link field {field} cannot be written (only up, mtu)").into());
            }
        }
        Ok(())
    }

    fn begin(&mut self) {
        self.staged = addresses::Staged::default();
        self.link_edits.clear();
        // The last change was saved (or undone) by now: no rollback reaches back to it.
        self.undo.clear();
        self.before = None;
        self.links = None;
        self.index = None;
        self.addr_index = None;
        self.addrs = None;
        self.routes = None;
        self.neighs = None;
        self.fdb = None;
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        if args.str("kind")? == "address" {
            return self.address_get(args);
        }
        let ifname = args.str("ifname")?.to_string();
        let raw = self.link_field(&ifname, args.str("field")?)?;
        if args.table.contains_key("map") {
            return crate::backend::text::extract(&raw, args);
        }
        Ok(raw)
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        if args.str("kind")? == "address" {
            return self.address_set(args, value);
        }
        let ifname = args.str("ifname")?.to_string();
        self.link(&ifname)?;
        let edit = match args.str("field")? {
            "up" => LinkEdit::Up(value == "true"),
            "mtu" => LinkEdit::Mtu(
                value
                    .parse()
                    .map_err(|_| BackendError::InvalidValue(format!("mtu {value:?}")))?,
            ),
            other => {
                return Err(BackendError::BadArgs(format!(
                    "link field {other} cannot be written"
                )))
            }
        };
        self.link_edits.push((ifname, edit));
        Ok(())
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        match args.str("kind")? {
            "links" => self.link_instances(args),
            "addresses" => self.address_instances(args),
            "routes" => self.route_instances(args),
            "neighbours" => self.neighbour_instances(args),
            "stack" => self.stack_instances(),
            other => Err(BackendError::BadArgs(format!("table kind {other:?}"))),
        }
    }

    fn add(&mut self, args: &Args) -> Result<Instance, BackendError> {
        match args.str("kind")? {
            "addresses" if args.opt_str("family")? == Some("inet") => self.address_add(args),
            _ => Err(BackendError::Unsupported("add")),
        }
    }

    fn delete(&mut self, args: &Args, instance: &Instance) -> Result<(), BackendError> {
        match args.str("kind")? {
            "addresses" => self.address_delete(instance),
            _ => Err(BackendError::Unsupported("delete")),
        }
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        self.undo.clear();
        let result = (|| {
            for (ifname, edit) in std::mem::take(&mut self.link_edits) {
                let link = self.link(&ifname)?.clone();
                match edit {
                    LinkEdit::Up(up) => {
                        self.set_up(&ifname, up)?;
                        self.undo.push(Change::Up {
                            ifname,
                            was: link.flags & msg::IFF_UP != 0,
                        });
                    }
                    LinkEdit::Mtu(mtu) => {
                        self.set_mtu(&ifname, mtu)?;
                        self.undo.push(Change::Mtu {
                            ifname,
                            was: link.mtu,
                        });
                    }
                }
            }
            self.address_commit()
        })();
        if let Err(e) = result {
            // Nothing of this change stays.
            self.link_edits.clear();
            self.staged = addresses::Staged::default();
            let _ = self.revert();
            return Err(e);
        }
        Ok(false)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        self.revert()
    }

    fn abort(&mut self) {
        self.staged = addresses::Staged::default();
        self.link_edits.clear();
        if let Some(before) = self.before.take() {
            self.managed = Some(before);
        }
    }

    fn transactional(&self) -> bool {
        true
    }
}
