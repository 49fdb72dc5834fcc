//! The `addresses`, `routes` and `neighbours` tables as instances, with the variables
//! their bindings read (address, prefix, origin, gateway, metric, MAC address, bridge port).

use std::collections::{HashMap, HashSet};

use super::msg::{self, Neigh};
use super::values::{neigh_active, netmask_v4, v4_origin, v6_address_status, v6_origin};
use super::Netlink;
use crate::backend::{Args, BackendError, Instance};

fn family_arg(args: &Args) -> Result<u8, BackendError> {
    match args.opt_str("family")? {
        None => Ok(msg::AF_UNSPEC),
        Some("inet") => Ok(msg::AF_INET),
        Some("inet6") => Ok(msg::AF_INET6),
        Some(o) => Err(BackendError::BadArgs(format!("family {o:?}"))),
    }
}

impl Netlink {
    pub(super) fn address_instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let family = family_arg(args)?;
        let ifname = args.opt_str("ifname")?.map(str::to_string);
        let only = match &ifname {
            Some(n) => match self.link(n) {
                Ok(l) => Some(l.index as u32),
                // No such link (yet): it has no addresses.
                Err(BackendError::NotFound(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            },
            None => None,
        };
        // One link's addresses are named by it; all addresses need the name map (built
        // once here, not once per interface: that was quadratic in the link count).
        let links = match &ifname {
            Some(_) => Default::default(),
            None => self.link_names()?,
        };
        let positions = self.addresses_of(only)?;
        let addrs = self.addresses()?;
        let mut out = Vec::new();
        for a in positions.iter().filter_map(|&n| addrs.get(n)) {
            let is_v4 = a.address.is_ipv4();
            if (family == msg::AF_INET && !is_v4) || (family == msg::AF_INET6 && is_v4) {
                continue;
            }
            let name = match &ifname {
                Some(n) => n.clone(),
                None => i32::try_from(a.index)
                    .ok()
                    .and_then(|i| links.get(&i))
                    .cloned()
                    .unwrap_or_default(),
            };
            let key = format!("{}/{}", a.address, a.prefixlen);
            let mut inst = Instance::new(key)
                .var("address", a.address.to_string())
                .var("prefixlen", a.prefixlen.to_string())
                .var("ifname", name)
                .var("scope", a.scope.to_string())
                .var("status", "Enabled");
            inst = if is_v4 {
                inst.var("netmask", netmask_v4(a.prefixlen))
                    .var("origin", v4_origin(a))
            } else {
                inst.var("origin", v6_origin(a))
                    .var("address_status", v6_address_status(a))
            };
            out.push(inst);
        }
        match ifname {
            Some(n) => Ok(self.address_rows(&n, family, out)),
            None => Ok(out),
        }
    }

    pub(super) fn route_instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let family = family_arg(args)?;
        let links = self.link_names()?;
        let mut seen = HashSet::new();
        let mut out: Vec<Instance> = Vec::new();
        for r in self.routes()? {
            // The main table's unicast routes are the forwarding table TR-181 describes.
            if r.table != 254 || r.kind != 1 || (family != msg::AF_UNSPEC && r.family != family) {
                continue;
            }
            let ifname = i32::try_from(r.oif)
                .ok()
                .and_then(|i| links.get(&i))
                .cloned()
                .unwrap_or_default();
            let gw = r.gateway.map(|g| g.to_string()).unwrap_or_default();
            let key = format!(
                "{}/{} via {} dev {} metric {}",
                r.dst,
                r.dst_len,
                if gw.is_empty() { "-" } else { &gw },
                ifname,
                r.priority
            );
            if !seen.insert(key.clone()) {
                continue;
            }
            let static_route = matches!(r.protocol, 3 | 4);
            let origin = match (r.family, r.protocol) {
                (msg::AF_INET, 16) => "DHCPv4",
                (msg::AF_INET6, 9) => "RA",
                (msg::AF_INET6, 16) => "DHCPv6",
                _ => "Static",
            };
            let mut inst = Instance::new(key)
                .var("dest", r.dst.to_string())
                .var("prefixlen", r.dst_len.to_string())
                .var("prefix", format!("{}/{}", r.dst, r.dst_len))
                .var("gateway", gw)
                .var("ifname", ifname)
                .var("metric", r.priority.min(i32::MAX as u32).to_string())
                .var("origin", origin)
                .var("static", static_route.to_string());
            if r.family == msg::AF_INET {
                inst = inst.var("netmask", netmask_v4(r.dst_len));
            }
            out.push(inst);
        }
        Ok(out)
    }

    /// Hosts of the neighbour table (key `ifname/address`); with `mac`, only those of that
    /// link-layer address (a host's addresses). Each row names the bridge port its MAC
    /// address was learned on (`port`, from the forwarding database; empty when unknown).
    pub(super) fn neighbour_instances(
        &mut self,
        args: &Args,
    ) -> Result<Vec<Instance>, BackendError> {
        let family = family_arg(args)?;
        // With `mac` (a host's own addresses, asked once per host): one byte comparison per
        // neighbour and no link map, so N hosts cost N passes of cheap comparisons.
        let mac: Option<Vec<u8>> = match args.opt_str("mac")? {
            Some(m) => match parse_mac(m) {
                Some(b) => Some(b),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let found: Vec<Neigh> = self
            .neighbours()?
            .iter()
            .filter(|n| {
                // Incomplete, failed or no-ARP entries are not hosts.
                let host = !n.lladdr.is_empty() && n.state & (0x01 | 0x20 | 0x40) == 0;
                let of_family = match family {
                    msg::AF_INET => n.address.is_ipv4(),
                    msg::AF_INET6 => !n.address.is_ipv4(),
                    _ => true,
                };
                host && of_family && mac.as_ref().is_none_or(|m| *m == n.lladdr)
            })
            .cloned()
            .collect();
        // One pass over the forwarding database: MAC → the port it was learned on.
        // Keyed by the MAC's text, the ifindex as a position: the map type of the link index,
        // so no code of its own.
        let mut ports: HashMap<String, usize> = HashMap::new();
        if mac.is_none() {
            for f in self.fdb()? {
                if let Ok(i) = usize::try_from(f.index) {
                    ports.entry(msg::mac_string(&f.lladdr)).or_insert(i);
                }
            }
        }
        let mut seen = HashSet::new();
        let mut out: Vec<Instance> = Vec::new();
        for n in found {
            let ifname = self.name_of(i64::from(n.index))?;
            let key = format!("{ifname}/{}", n.address);
            if !seen.insert(key.clone()) {
                continue;
            }
            let port = match ports.get(&msg::mac_string(&n.lladdr)) {
                Some(&i) => self.name_of(i64::try_from(i).unwrap_or(-1))?,
                None => String::new(),
            };
            out.push(
                Instance::new(key)
                    .var("address", n.address.to_string())
                    .var("mac", msg::mac_string(&n.lladdr))
                    .var("ifname", ifname)
                    .var("port", port)
                    .var("active", neigh_active(n.state).to_string()),
            );
        }
        Ok(out)
    }
}

/// `aa:bb:cc:dd:ee:ff` (either case) as its six bytes.
pub(super) fn parse_mac(s: &str) -> Option<Vec<u8>> {
    let b: Vec<u8> = s
        .split(':')
        .map(|x| {
            (x.len() == 2)
                .then(|| u8::from_str_radix(x, 16).ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    (b.len() == 6).then_some(b)
}
