//! Links as values and tables: the fields a `kind = "link"` binding reads, the `links`
//! table (with its type, kind, exclusion and bridge-port filters) and the `stack` table of
//! InterfaceStack pairs.

use std::collections::HashSet;

use super::values::status;
use super::{msg, Netlink};
use crate::backend::{Args, BackendError, Instance};

/// Fields a `kind = "link"` binding may read.
pub const LINK_FIELDS: [&str; 23] = [
    "upstream",
    "unknown_proto_packets_received",
    "crc_errors_received",
    "up",
    "running",
    "status",
    "mtu",
    "mac",
    "type",
    "kind",
    "ifindex",
    "loopback",
    "tr181_type",
    "bytes_sent",
    "bytes_received",
    "packets_sent",
    "packets_received",
    "errors_sent",
    "errors_received",
    "discard_packets_sent",
    "discard_packets_received",
    "multicast_packets_received",
    "master",
];

impl Netlink {
    pub(super) fn link_field(&mut self, ifname: &str, field: &str) -> Result<String, BackendError> {
        if field == "master" {
            let master = self.link(ifname)?.master;
            return self.name_of(i64::from(master));
        }
        if field == "upstream" {
            // Towards the Internet: a default route of the main table leaves through it.
            let index = self.link(ifname)?.index;
            let up = self.routes()?.iter().any(|r| {
                r.table == 254
                    && r.kind == 1
                    && r.dst_len == 0
                    && i64::from(r.oif) == i64::from(index)
            });
            return Ok(up.to_string());
        }
        let l = self.link(ifname)?;
        let s = &l.stats;
        Ok(match field {
            "up" => (l.flags & msg::IFF_UP != 0).to_string(),
            "running" => (l.flags & msg::IFF_RUNNING != 0).to_string(),
            "status" => status(l).to_string(),
            "mtu" => l.mtu.to_string(),
            "mac" => msg::mac_string(&l.mac),
            "type" => match l.hw_type {
                1 => "ether".into(),
                772 => "loopback".into(),
                other => format!("arphrd{other}"),
            },
            "kind" => l.kind.clone(),
            "ifindex" => l.index.to_string(),
            "loopback" => (l.flags & msg::IFF_LOOPBACK != 0).to_string(),
            "tr181_type" => if l.flags & msg::IFF_LOOPBACK != 0 {
                "Loopback"
            } else {
                "Normal"
            }
            .to_string(),
            "bytes_sent" => s.tx_bytes.to_string(),
            "bytes_received" => s.rx_bytes.to_string(),
            "packets_sent" => s.tx_packets.to_string(),
            "packets_received" => s.rx_packets.to_string(),
            "errors_sent" => s.tx_errors.min(u64::from(u32::MAX)).to_string(),
            "errors_received" => s.rx_errors.min(u64::from(u32::MAX)).to_string(),
            "discard_packets_sent" => s.tx_dropped.min(u64::from(u32::MAX)).to_string(),
            "discard_packets_received" => s.rx_dropped.min(u64::from(u32::MAX)).to_string(),
            "multicast_packets_received" => s.multicast.to_string(),
            "unknown_proto_packets_received" => s.rx_nohandler.min(u64::from(u32::MAX)).to_string(),
            "crc_errors_received" => s.rx_crc_errors.min(u64::from(u32::MAX)).to_string(),
            other => {
                return Err(BackendError::BadArgs(format!(
                    "unknown link field {other:?}"
                )))
            }
        })
    }

    pub(super) fn link_instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let ty = args.opt_str("type")?.map(str::to_string);
        let exclude = args.opt_str_list("exclude")?.unwrap_or_default();
        let kinds = args.opt_str_list("kinds")?;
        // `master`: the ports of a bridge (links enslaved to it), and with `and_master` the
        // bridge itself first (TR-181's management port).
        let master = match args.opt_str("master")? {
            Some(m) => match self.link(m) {
                Ok(l) => Some((l.index, l.name.clone())),
                Err(BackendError::NotFound(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            },
            None => None,
        };
        let and_master = args.opt_bool("and_master")?.unwrap_or(false);
        let mut out = Vec::new();
        if let (Some((index, name)), true) = (&master, and_master) {
            out.push(
                Instance::new(name.clone())
                    .var("ifname", name.clone())
                    .var("ifindex", index.to_string())
                    .var("management", "true"),
            );
        }
        for l in self.links()? {
            if master.as_ref().is_some_and(|(m, _)| l.master != *m) {
                continue;
            }
            let is_ether = l.hw_type == 1 && l.flags & msg::IFF_LOOPBACK == 0;
            if ty.as_deref() == Some("ether") && !is_ether {
                continue;
            }
            if ty.as_deref() == Some("loopback") && l.flags & msg::IFF_LOOPBACK == 0 {
                continue;
            }
            if exclude.contains(&l.name.as_str())
                || kinds
                    .as_ref()
                    .is_some_and(|k| !k.contains(&l.kind.as_str()))
            {
                continue;
            }
            out.push(
                Instance::new(l.name.clone())
                    .var("ifname", l.name.clone())
                    .var("ifindex", l.index.to_string())
                    .var("management", "false"),
            );
        }
        Ok(out)
    }

    /// InterfaceStack pairs (higher, lower): a bridge/bond above its ports (IFLA_MASTER) and
    /// a vlan/macvlan above its lower link (IFLA_LINK; a veth's IFLA_LINK is its peer, not a
    /// lower layer, so it is skipped). Key `higher/lower`.
    pub(super) fn stack_instances(&mut self) -> Result<Vec<Instance>, BackendError> {
        let names = self.link_names()?;
        let links = self.links()?;
        let name = |i: i32| names.get(&i).cloned();
        let mut seen = HashSet::new();
        let mut out: Vec<Instance> = Vec::new();
        for l in links {
            let mut pairs = Vec::new();
            if l.master != 0 {
                if let Some(m) = name(l.master) {
                    pairs.push((m, l.name.clone()));
                }
            }
            if l.link != 0 && l.link != l.index && l.kind != "veth" {
                if let Some(lower) = name(l.link) {
                    pairs.push((l.name.clone(), lower));
                }
            }
            for (higher, lower) in pairs {
                let key = format!("{higher}/{lower}");
                if !seen.insert(key.clone()) {
                    continue;
                }
                out.push(Instance::new(key).var("higher", higher).var("lower", lower));
            }
        }
        Ok(out)
    }
}
