//! The writable address table (`Device.IP.Interface.{i}.IPv4Address.{i}.` on a plain Linux
//! host): rows are the kernel's addresses of a link, plus the rows the ACS created.
//!
//! The kernel has no half-made address, while TR-181 creates a row first (AddObject) and
//! fills it in later (SetParameterValues of IPAddress and SubnetMask). So rows the ACS
//! creates, and kernel addresses it changes, are *managed*: each keeps the key it was listed
//! with (`acs-3`, or the address it had) whatever address it holds now, so its instance
//! number stays (TR-069 A.3.2.6), and a row without a complete address, or disabled, stays
//! listed with `Enable` false. Writes are staged and reach the kernel at `commit`
//! (RTM_DELADDR of the old address, RTM_NEWADDR of the new one), which `rollback` reverses;
//! managed rows are kept with the stored values (`stored::Values::note`, saved in the
//! device's state file with the change), one a line: `<ifname> <key> <address/len or -> <0|1>`.
//!
//! Kernel addresses do not survive a reboot unless the system configures them; a managed row
//! whose enabled address is gone reads Status `Error` until the ACS sets it again.

use crate::backend::{BackendError, Instance};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The record's name among the stored values' notes (and the file of earlier versions).
pub const NOTE: &str = "netlink-addresses";

/// Most rows the ACS may create.
pub const MAX_MANAGED: usize = 256;

/// One managed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The link.
    pub ifname: String,
    /// Its key in the table.
    pub key: String,
    /// The address it holds, if complete.
    pub address: Option<(IpAddr, u8)>,
    /// `Enable`.
    pub enabled: bool,
}

/// What a Set changes in one row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    /// New address (keeping the prefix length unless `prefixlen` changes it too).
    pub ip: Option<IpAddr>,
    /// New prefix length.
    pub prefixlen: Option<u8>,
    /// New `Enable`.
    pub enabled: Option<bool>,
}

/// The managed rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed {
    /// Rows by key.
    pub rows: BTreeMap<String, Box<Row>>,
    next: u32,
}

/// An IPv4 netmask as a prefix length; `None` unless its ones are contiguous.
pub fn prefix_of_mask(mask: &str) -> Option<u8> {
    let m = u32::from(mask.parse::<std::net::Ipv4Addr>().ok()?);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

impl Managed {
    /// Rows from their saved lines (bad lines are skipped).
    pub fn from_lines(lines: &[String]) -> Managed {
        let mut m = Managed::default();
        for line in lines.iter().take(MAX_MANAGED) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(ifname), Some(key), Some(addr), Some(en)) =
                (f.first(), f.get(1), f.get(2), f.get(3))
            else {
                continue;
            };
            let address = addr.split_once('/').and_then(|(a, l)| {
                Some((a.parse().ok()?, l.parse().ok().filter(|l: &u8| *l <= 128)?))
            });
            if let Some(n) = key.strip_prefix("acs-").and_then(|n| n.parse::<u32>().ok()) {
                m.next = m.next.max(n);
            }
            m.rows.insert(
                key.to_string(),
                Box::new(Row {
                    ifname: ifname.to_string(),
                    key: key.to_string(),
                    address,
                    enabled: *en == "1",
                }),
            );
        }
        m
    }

    /// The rows as saved lines.
    pub fn to_lines(&self) -> Vec<String> {
        self.rows
            .values()
            .map(|r| {
                let a = r
                    .address
                    .map(|(a, l)| format!("{a}/{l}"))
                    .unwrap_or_else(|| "-".into());
                format!("{} {} {a} {}", r.ifname, r.key, u8::from(r.enabled))
            })
            .collect()
    }

    /// A new, empty and disabled row on `ifname`.
    pub fn create(&mut self, ifname: &str) -> Result<Row, BackendError> {
        if self.rows.len() >= MAX_MANAGED {
            return Err(BackendError::Limit(format!(
                "more than {MAX_MANAGED} addresses created by the ACS"
            )));
        }
        self.next += 1;
        let row = Row {
            ifname: ifname.to_string(),
            key: format!("acs-{}", self.next),
            address: None,
            enabled: false,
        };
        self.rows.insert(row.key.clone(), Box::new(row.clone()));
        Ok(row)
    }

    /// The managed row holding `address` on `ifname`, if any.
    pub fn holding(&self, ifname: &str, address: (IpAddr, u8)) -> Option<&Row> {
        self.rows
            .values()
            .find(|r| r.ifname == ifname && r.address == Some(address))
            .map(|r| &**r)
    }
}

/// The table row for a kernel address or a managed row, with the variables bindings use.
pub fn instance(
    key: &str,
    address: Option<(IpAddr, u8)>,
    ifname: &str,
    status: &str,
    enabled: bool,
) -> Instance {
    let (a, l) = address
        .map(|(a, l)| (a.to_string(), l.to_string()))
        .unwrap_or_default();
    let mut inst = Instance::new(key)
        .var("address", a)
        .var("prefixlen", l)
        .var("ifname", ifname)
        .var("status", status)
        .var("enable", enabled.to_string())
        .var("origin", "Static");
    if let Some((IpAddr::V4(_), len)) = address {
        inst = inst.var("netmask", super::netmask_v4(len));
    } else if address.is_none() {
        inst = inst.var("netmask", "");
    }
    inst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_must_be_contiguous() {
        assert_eq!(prefix_of_mask("255.255.255.0"), Some(24));
        assert_eq!(prefix_of_mask("255.255.255.255"), Some(32));
        assert_eq!(prefix_of_mask("0.0.0.0"), Some(0));
        assert_eq!(prefix_of_mask("255.0.255.0"), None);
        assert_eq!(prefix_of_mask("nope"), None);
    }

    #[test]
    fn managed_rows_round_trip_through_their_lines() {
        let mut m = Managed::default();
        let r = m.create("eth0").unwrap();
        assert_eq!(r.key, "acs-1");
        m.rows.get_mut("acs-1").unwrap().address = Some(("192.0.2.7".parse().unwrap(), 24));
        m.rows.get_mut("acs-1").unwrap().enabled = true;
        m.create("eth1").unwrap();
        let again = Managed::from_lines(&m.to_lines());
        assert_eq!(again.rows, m.rows);
        assert_eq!(again.next, 2);
        assert!(again
            .holding("eth0", ("192.0.2.7".parse().unwrap(), 24))
            .is_some());
        let mut full = Managed::default();
        for _ in 0..MAX_MANAGED {
            full.create("x").unwrap();
        }
        assert!(matches!(full.create("x"), Err(BackendError::Limit(_))));
    }
}

/// An address with its prefix length.
pub type Prefixed = (IpAddr, u8);

/// Staged changes of one operation.
#[derive(Debug, Default)]
pub struct Staged {
    /// Row key → (link, the address it has in the kernel now if any, edit).
    pub edits: BTreeMap<String, Box<(String, Option<Prefixed>, Edit)>>,
    /// Rows to delete: (key, link, address in the kernel if any).
    pub deletes: Vec<(String, String, Option<Prefixed>)>,
}

impl super::Netlink {
    fn managed(&mut self) -> &mut Managed {
        if self.managed.is_none() {
            let lines = match (&self.notes, &self.legacy_file) {
                (Some(n), Some(f)) => n.note_or_file(NOTE, f),
                (Some(n), None) => n.note(NOTE).unwrap_or_default(),
                _ => Vec::new(),
            };
            self.managed = Some(Managed::from_lines(&lines));
        }
        self.managed.get_or_insert_with(Managed::default)
    }

    /// The managed rows as they are before this operation's first change (for `abort` and
    /// `rollback`).
    fn snapshot(&mut self) {
        if self.before.is_none() {
            self.before = Some(self.managed().clone());
        }
    }

    /// Keeps the managed rows with the stored values (saved with the change).
    fn save_managed(&mut self) {
        let lines = self.managed().to_lines();
        if let Some(n) = &self.notes {
            n.set_note(NOTE, lines);
        }
    }

    /// Adds or removes a kernel address, remembering it so that `rollback` can reverse it.
    fn apply_address(
        &mut self,
        ifname: &str,
        address: IpAddr,
        prefixlen: u8,
        add: bool,
    ) -> Result<(), BackendError> {
        self.change_address(ifname, address, prefixlen, add)?;
        self.undo.push(super::Change::Address {
            ifname: ifname.to_string(),
            address,
            prefixlen,
            added: add,
        });
        Ok(())
    }

    /// Kernel addresses of one link (in the family asked) as rows, managed keys applied,
    /// then the managed rows that have no kernel address now.
    pub(super) fn address_rows(
        &mut self,
        ifname: &str,
        family: u8,
        kernel: Vec<Instance>,
    ) -> Vec<Instance> {
        let managed = self.managed();
        let mut out = Vec::with_capacity(kernel.len());
        let mut present = Vec::new();
        for mut inst in kernel {
            let addr = inst
                .vars
                .get("address")
                .and_then(|a| a.parse::<IpAddr>().ok())
                .zip(
                    inst.vars
                        .get("prefixlen")
                        .and_then(|l| l.parse::<u8>().ok()),
                );
            if let Some(row) = addr.and_then(|a| managed.holding(ifname, a)) {
                inst.key = row.key.clone();
                present.push(row.key.clone());
            }
            inst.vars.insert("enable".into(), "true".into());
            out.push(inst);
        }
        for r in managed.rows.values().filter(|r| r.ifname == ifname) {
            let fits = match r.address {
                Some((IpAddr::V4(_), _)) => family != super::msg::AF_INET6,
                Some((IpAddr::V6(_), _)) => family != super::msg::AF_INET,
                None => family == super::msg::AF_INET,
            };
            if !fits || present.contains(&r.key) {
                continue;
            }
            let status = match (r.enabled, r.address) {
                (false, _) => "Disabled",
                (true, None) => "Error_Misconfigured",
                (true, Some(_)) => "Error",
            };
            out.push(instance(&r.key, r.address, ifname, status, r.enabled));
        }
        out
    }

    /// The row `key` of link `ifname` (family from the binding).
    fn address_row(&mut self, args: &crate::backend::Args) -> Result<Instance, BackendError> {
        let key = args.str("key")?.to_string();
        let mut list_args = args.clone();
        list_args.table.remove("field");
        list_args.table.remove("key");
        list_args.table.insert(
            "kind".into(),
            crate::codec::toml::Value::String("addresses".into()),
        );
        self.address_instances(&list_args)?
            .into_iter()
            .find(|i| i.key == key)
            .ok_or_else(|| BackendError::NotFound(format!("address row {key}")))
    }

    /// Reads `ip`, `netmask`, `prefixlen` or `enable` of a row.
    pub(super) fn address_get(
        &mut self,
        args: &crate::backend::Args,
    ) -> Result<String, BackendError> {
        let row = self.address_row(args)?;
        let var = match args.str("field")? {
            "ip" => "address",
            other => other,
        };
        Ok(row.vars.get(var).cloned().unwrap_or_default())
    }

    /// Stages a write of a row's field.
    pub(super) fn address_set(
        &mut self,
        args: &crate::backend::Args,
        value: &str,
    ) -> Result<(), BackendError> {
        let row = self.address_row(args)?;
        let ifname = args.str("ifname")?.to_string();
        let current = row
            .vars
            .get("address")
            .and_then(|a| a.parse::<IpAddr>().ok())
            .zip(row.vars.get("prefixlen").and_then(|l| l.parse::<u8>().ok()));
        let in_kernel =
            current.filter(|_| row.vars.get("status").map(String::as_str) == Some("Enabled"));
        let entry = self
            .staged
            .edits
            .entry(row.key.clone())
            .or_insert_with(|| Box::new((ifname, in_kernel, Edit::default())));
        match args.str("field")? {
            "ip" => {
                let ip: IpAddr = value.parse().map_err(|_| {
                    BackendError::InvalidValue(format!("{value:?} is not an address"))
                })?;
                entry.2.ip = Some(ip);
            }
            "netmask" => {
                entry.2.prefixlen = Some(prefix_of_mask(value).ok_or_else(|| {
                    BackendError::InvalidValue(format!("{value:?} is not a netmask"))
                })?);
            }
            "prefixlen" => {
                entry.2.prefixlen = Some(
                    value
                        .parse::<u8>()
                        .ok()
                        .filter(|l| *l <= 128)
                        .ok_or_else(|| BackendError::InvalidValue(format!("prefix {value:?}")))?,
                );
            }
            "enable" => entry.2.enabled = Some(value == "true"),
            other => return Err(BackendError::BadArgs(format!("address field {other:?}"))),
        }
        Ok(())
    }

    /// Creates an empty, disabled row (AddObject).
    pub(super) fn address_add(
        &mut self,
        args: &crate::backend::Args,
    ) -> Result<Instance, BackendError> {
        let ifname = args.str("ifname")?.to_string();
        self.link(&ifname)?;
        self.snapshot();
        let row = self.managed().create(&ifname)?;
        Ok(instance(&row.key, None, &ifname, "Disabled", false))
    }

    /// Stages the removal of a row (DeleteObject).
    pub(super) fn address_delete(&mut self, instance: &Instance) -> Result<(), BackendError> {
        let ifname = instance.vars.get("ifname").cloned().unwrap_or_default();
        let addr = instance
            .vars
            .get("address")
            .and_then(|a| a.parse::<IpAddr>().ok())
            .zip(
                instance
                    .vars
                    .get("prefixlen")
                    .and_then(|l| l.parse::<u8>().ok()),
            )
            .filter(|_| instance.vars.get("status").map(String::as_str) == Some("Enabled"));
        self.staged
            .deletes
            .push((instance.key.clone(), ifname, addr));
        Ok(())
    }

    /// Carries staged edits and deletions to the kernel and the managed rows.
    pub(super) fn address_commit(&mut self) -> Result<(), BackendError> {
        let staged = std::mem::take(&mut self.staged);
        if staged.edits.is_empty() && staged.deletes.is_empty() {
            if self.before.is_some() {
                self.save_managed();
            }
            return Ok(());
        }
        self.snapshot();
        for (key, ifname, addr) in staged.deletes {
            if let Some((a, l)) = addr {
                self.apply_address(&ifname, a, l, false)?;
            }
            self.managed().rows.remove(&key);
        }
        for (key, edit) in staged.edits {
            let (ifname, in_kernel, edit) = *edit;
            let row = self
                .managed()
                .rows
                .get(&key)
                .map(|r| (**r).clone())
                .unwrap_or(Row {
                    // A kernel address the ACS changes becomes managed under its old key.
                    ifname: ifname.clone(),
                    key: key.clone(),
                    address: in_kernel,
                    enabled: in_kernel.is_some(),
                });
            let old = row.address;
            let ip = edit.ip.or(old.map(|o| o.0));
            let len = edit.prefixlen.or(old.map(|o| o.1));
            let new = ip.zip(len);
            let enabled = edit.enabled.unwrap_or(row.enabled);
            let keep = in_kernel.is_some() && enabled && new == in_kernel;
            if let (Some((a, l)), false) = (in_kernel, keep) {
                self.apply_address(&ifname, a, l, false)?;
            }
            if let (Some((a, l)), true, false) = (new, enabled, keep) {
                self.apply_address(&ifname, a, l, true)?;
            }
            self.managed().rows.insert(
                key.clone(),
                Box::new(Row {
                    ifname,
                    key,
                    address: new,
                    enabled,
                }),
            );
        }
        self.save_managed();
        Ok(())
    }
}
