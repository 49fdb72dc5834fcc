//! `netlink`: links, addresses, routes and neighbours from rtnetlink, read with one dump per
//! kind per operation (so a full-tree get of many interfaces costs four syscalls), and link
//! changes (up/down, MTU) and address changes written back.
//!
//! TR-181 values are derived here: Status from operstate, address origins from flags and
//! scope, route origins from the routing protocol.

pub mod addresses;
pub mod msg;
pub mod socket;
pub mod watch;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::backend::stored::Values;
use crate::backend::{Args, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;
use msg::{Addr, Link, Neigh, Route};
use socket::Socket;

/// Fields a `kind = "link"` binding may read.
pub const LINK_FIELDS: [&str; 22] = [
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

/// The netlink handler with its per-operation caches.
#[derive(Default)]
pub struct Netlink {
    sock: Option<Socket>,
    links: Option<Vec<Link>>,
    addrs: Option<Vec<Addr>>,
    routes: Option<Vec<Route>>,
    neighs: Option<Vec<Neigh>>,
    /// Bridge forwarding database entries (which port each host's MAC address is behind).
    fdb: Option<Vec<msg::Fdb>>,
    /// Positions in `links` by name and by ifindex, and of `addrs` by ifindex: built once
    /// per operation, so naming the interface of each of N addresses, or reading a field of
    /// each of N links, is not a search of all N links each time (cubic in the link count for
    /// the IP.Interface.{i}.IPv4Address.{i} tables before).
    index: Option<LinkIndex>,
    addr_index: Option<HashMap<u32, Vec<usize>>>,
    /// Address rows the ACS created or changed, read on first use.
    managed: Option<addresses::Managed>,
    /// Where they are kept (none: in memory only).
    notes: Option<Values>,
    /// The file earlier versions kept them in.
    legacy_file: Option<std::path::PathBuf>,
    staged: addresses::Staged,
    /// Link writes staged for `commit`.
    link_edits: Vec<(String, LinkEdit)>,
    /// What the last commit did to the kernel, oldest first, for `rollback`.
    undo: Vec<Change>,
    /// The managed rows before this operation's change.
    before: Option<addresses::Managed>,
}

/// A link write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkEdit {
    Up(bool),
    Mtu(u32),
}

/// A change made to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// A link's admin state, with the one before.
    Up { ifname: String, was: bool },
    /// A link's MTU, with the one before.
    Mtu { ifname: String, was: u32 },
    /// An address added (or removed).
    Address {
        ifname: String,
        address: IpAddr,
        prefixlen: u8,
        added: bool,
    },
}

impl Netlink {
    /// A handler keeping the address rows the ACS manages with `notes` (read once from
    /// `<state_dir>/netlink-addresses` of earlier versions).
    pub fn new(state_dir: &std::path::Path, notes: Values) -> Netlink {
        Netlink {
            notes: Some(notes),
            legacy_file: Some(state_dir.join(addresses::NOTE)),
            ..Netlink::default()
        }
    }

    /// Reverses the kernel changes of the last commit, newest first, and puts the managed
    /// rows back.
    fn revert(&mut self) -> Result<(), BackendError> {
        let mut failed = None;
        for c in std::mem::take(&mut self.undo).into_iter().rev() {
            let r = match &c {
                Change::Up { ifname, was } => self.set_up(ifname, *was),
                Change::Mtu { ifname, was } => self.set_mtu(ifname, *was),
                Change::Address {
                    ifname,
                    address,
                    prefixlen,
                    added,
                } => self.change_address(ifname, *address, *prefixlen, !added),
            };
            if let Err(e) = r {
                log::error!("netlink: cannot undo {c:?}: {e}");
                failed = Some(e);
            }
        }
        if let Some(before) = self.before.take() {
            self.managed = Some(before);
            self.save_rows();
        }
        failed.map_or(Ok(()), Err)
    }

    fn save_rows(&mut self) {
        if let (Some(n), Some(m)) = (&self.notes, &self.managed) {
            n.set_note(addresses::NOTE, m.to_lines());
        }
    }
}

#[derive(Default)]
struct LinkIndex {
    by_name: HashMap<String, usize>,
    by_ifindex: HashMap<i32, usize>,
}

fn family_arg(args: &Args) -> Result<u8, BackendError> {
    match args.opt_str("family")? {
        None => Ok(msg::AF_UNSPEC),
        Some("inet") => Ok(msg::AF_INET),
        Some("inet6") => Ok(msg::AF_INET6),
        Some(o) => Err(BackendError::BadArgs(format!("family {o:?}"))),
    }
}

/// TR-181 Interface Status from operstate (RFC 2863) and flags.
pub fn status(l: &Link) -> &'static str {
    match l.operstate {
        6 => "Up",
        2 => "Down",
        3 => "LowerLayerDown",
        5 => "Dormant",
        1 => "NotPresent",
        4 => "Down",
        // IF_OPER_UNKNOWN: virtual devices (loopback, tun) that do not report carrier.
        _ if l.flags & msg::IFF_UP != 0 && l.flags & msg::IFF_RUNNING != 0 => "Up",
        _ if l.flags & msg::IFF_UP == 0 => "Down",
        _ => "Unknown",
    }
}

pub(crate) fn netmask_v4(len: u8) -> String {
    let m: u32 = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    };
    std::net::Ipv4Addr::from(m).to_string()
}

fn v4_origin(a: &Addr) -> &'static str {
    match a.address {
        IpAddr::V4(v) if v.is_link_local() => "AutoIP",
        _ if a.flags & msg::IFA_F_PERMANENT == 0 => "DHCP",
        _ => "Static",
    }
}

fn v6_origin(a: &Addr) -> &'static str {
    if a.scope >= 253 {
        "WellKnown"
    } else if a.flags & msg::IFA_F_PERMANENT == 0 {
        "AutoConfigured"
    } else {
        "Static"
    }
}

fn v6_address_status(a: &Addr) -> &'static str {
    if a.flags & msg::IFA_F_DADFAILED != 0 {
        "Duplicate"
    } else if a.flags & msg::IFA_F_TENTATIVE != 0 {
        "Tentative"
    } else if a.flags & msg::IFA_F_DEPRECATED != 0 {
        "Deprecated"
    } else {
        "Preferred"
    }
}

/// NUD states in which a neighbour is considered present.
fn neigh_active(state: u16) -> bool {
    state & (0x02 | 0x04 | 0x08 | 0x10 | 0x80) != 0
}

fn open_socket(sock: &mut Option<Socket>) -> Result<&mut Socket, BackendError> {
    if sock.is_none() {
        *sock = Some(Socket::open()?);
    }
    sock.as_mut()
        .ok_or_else(|| BackendError::Io("netlink: no socket".into()))
}

/// One dump per kind per operation: the first request fills the cache, later ones read it.
fn cached<'a, T>(
    sock: &mut Option<Socket>,
    cache: &'a mut Option<Vec<T>>,
    kind: u16,
    answer: u16,
    header: &[u8],
    decode: fn(&[u8]) -> Option<T>,
) -> Result<&'a [T], BackendError> {
    if cache.is_none() {
        let raw = open_socket(sock)?.dump(kind, answer, header)?;
        *cache = Some(raw.iter().filter_map(|p| decode(p)).collect());
    }
    Ok(cache.as_deref().unwrap_or(&[]))
}

impl Netlink {
    fn sock(&mut self) -> Result<&mut Socket, BackendError> {
        open_socket(&mut self.sock)
    }

    /// All links (cached for the operation).
    pub fn links(&mut self) -> Result<&[Link], BackendError> {
        cached(
            &mut self.sock,
            &mut self.links,
            msg::RTM_GETLINK,
            msg::RTM_NEWLINK,
            &[0u8; 16],
            msg::link,
        )
    }

    /// All addresses.
    pub fn addresses(&mut self) -> Result<&[Addr], BackendError> {
        cached(
            &mut self.sock,
            &mut self.addrs,
            msg::RTM_GETADDR,
            msg::RTM_NEWADDR,
            &[0u8; 8],
            msg::addr,
        )
    }

    /// All routes of every table.
    pub fn routes(&mut self) -> Result<&[Route], BackendError> {
        cached(
            &mut self.sock,
            &mut self.routes,
            msg::RTM_GETROUTE,
            msg::RTM_NEWROUTE,
            &[0u8; 12],
            msg::route,
        )
    }

    /// All neighbours.
    pub fn neighbours(&mut self) -> Result<&[Neigh], BackendError> {
        cached(
            &mut self.sock,
            &mut self.neighs,
            msg::RTM_GETNEIGH,
            msg::RTM_NEWNEIGH,
            &[0u8; 12],
            msg::neigh,
        )
    }

    /// The bridge forwarding database (learned and static entries of bridge ports).
    pub fn fdb(&mut self) -> Result<&[msg::Fdb], BackendError> {
        let mut header = [0u8; 12];
        header[0] = msg::AF_BRIDGE;
        cached(
            &mut self.sock,
            &mut self.fdb,
            msg::RTM_GETNEIGH,
            msg::RTM_NEWNEIGH,
            &header,
            msg::fdb,
        )
    }

    /// The link index of this operation.
    fn index(&mut self) -> Result<&LinkIndex, BackendError> {
        if self.index.is_none() {
            let mut ix = LinkIndex::default();
            for (n, l) in self.links()?.iter().enumerate() {
                ix.by_name.entry(l.name.clone()).or_insert(n);
                ix.by_ifindex.entry(l.index).or_insert(n);
            }
            self.index = Some(ix);
        }
        Ok(self.index.get_or_insert_with(LinkIndex::default))
    }

    /// ifindex → name of every link, for naming the interfaces of addresses, routes and
    /// neighbours.
    fn link_names(&mut self) -> Result<HashMap<i32, String>, BackendError> {
        Ok(self
            .links()?
            .iter()
            .map(|l| (l.index, l.name.clone()))
            .collect())
    }

    fn name_of(&mut self, index: i64) -> Result<String, BackendError> {
        let Ok(index) = i32::try_from(index) else {
            return Ok(String::new());
        };
        let at = self.index()?.by_ifindex.get(&index).copied();
        Ok(at
            .and_then(|n| self.links.as_ref()?.get(n))
            .map(|l| l.name.clone())
            .unwrap_or_default())
    }

    fn link(&mut self, ifname: &str) -> Result<&Link, BackendError> {
        let at = self.index()?.by_name.get(ifname).copied();
        at.and_then(|n| self.links.as_ref()?.get(n))
            .ok_or_else(|| BackendError::NotFound(format!("link {ifname}")))
    }

    /// Positions in the address dump of the addresses of one ifindex.
    fn addresses_of(&mut self, ifindex: Option<u32>) -> Result<Vec<usize>, BackendError> {
        if self.addr_index.is_none() {
            let mut m: HashMap<u32, Vec<usize>> = HashMap::new();
            for (n, a) in self.addresses()?.iter().enumerate() {
                m.entry(a.index).or_default().push(n);
            }
            self.addr_index = Some(m);
        }
        let m = self.addr_index.get_or_insert_with(HashMap::new);
        Ok(match ifindex {
            Some(i) => m.get(&i).cloned().unwrap_or_default(),
            None => {
                let mut all: Vec<usize> = m.values().flatten().copied().collect();
                all.sort_unstable();
                all
            }
        })
    }

    /// Sets a link up or down.
    pub fn set_up(&mut self, ifname: &str, up: bool) -> Result<(), BackendError> {
        let index = self.link(ifname)?.index;
        let mut body = vec![msg::AF_UNSPEC, 0, 0, 0];
        body.extend_from_slice(&index.to_ne_bytes());
        body.extend_from_slice(&(if up { msg::IFF_UP } else { 0 }).to_ne_bytes());
        body.extend_from_slice(&msg::IFF_UP.to_ne_bytes());
        self.sock()?.change(msg::RTM_NEWLINK, 0, &body)?;
        self.forget_links();
        Ok(())
    }

    fn forget_links(&mut self) {
        self.links = None;
        self.index = None;
    }

    /// Sets a link's MTU.
    pub fn set_mtu(&mut self, ifname: &str, mtu: u32) -> Result<(), BackendError> {
        let index = self.link(ifname)?.index;
        let mut body = vec![msg::AF_UNSPEC, 0, 0, 0];
        body.extend_from_slice(&index.to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes());
        msg::push_attr(&mut body, 4, &mtu.to_ne_bytes());
        self.sock()?
            .change(msg::RTM_NEWLINK, 0, &body)
            .map_err(|e| match e {
                BackendError::Io(m) if m.contains("EINVAL") => {
                    BackendError::InvalidValue(format!("mtu {mtu}: {m}"))
                }
                other => other,
            })?;
        self.forget_links();
        Ok(())
    }

    /// Adds (`add = true`) or deletes an address on a link.
    pub fn change_address(
        &mut self,
        ifname: &str,
        address: IpAddr,
        prefixlen: u8,
        add: bool,
    ) -> Result<(), BackendError> {
        let index = self.link(ifname)?.index;
        let (family, bytes) = match address {
            IpAddr::V4(a) => (msg::AF_INET, a.octets().to_vec()),
            IpAddr::V6(a) => (msg::AF_INET6, a.octets().to_vec()),
        };
        let mut body = vec![family, prefixlen, 0, 0];
        body.extend_from_slice(&(index as u32).to_ne_bytes());
        msg::push_attr(&mut body, 2, &bytes);
        msg::push_attr(&mut body, 1, &bytes);
        let (kind, flags) = if add {
            (msg::RTM_NEWADDR, socket::NLM_F_CREATE | socket::NLM_F_EXCL)
        } else {
            (msg::RTM_DELADDR, 0)
        };
        self.sock()?.change(kind, flags, &body)?;
        self.addrs = None;
        self.addr_index = None;
        Ok(())
    }

    fn link_field(&mut self, ifname: &str, field: &str) -> Result<String, BackendError> {
        if field == "master" {
            let master = self.link(ifname)?.master;
            return self.name_of(i64::from(master));
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

    fn link_instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
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

    fn address_instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
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
            Some(_) => HashMap::new(),
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

    fn route_instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
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
    fn neighbour_instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
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
        let mut ports: HashMap<Vec<u8>, i32> = HashMap::new();
        if mac.is_none() {
            for f in self.fdb()? {
                ports.entry(f.lladdr.clone()).or_insert(f.index);
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
            let port = match ports.get(&n.lladdr) {
                Some(&i) => self.name_of(i64::from(i))?,
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
fn parse_mac(s: &str) -> Option<Vec<u8>> {
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

impl Netlink {
    /// InterfaceStack pairs (higher, lower): a bridge/bond above its ports (IFLA_MASTER) and
    /// a vlan/macvlan above its lower link (IFLA_LINK; a veth's IFLA_LINK is its peer, not a
    /// lower layer, so it is skipped). Key `higher/lower`.
    fn stack_instances(&mut self) -> Result<Vec<Instance>, BackendError> {
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

const TABLE_KINDS: [&str; 5] = ["links", "addresses", "routes", "neighbours", "stack"];

impl Handler for Netlink {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), String> {
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
                return Err(format!(
                    "table kind {other:?}; one of {}",
                    TABLE_KINDS.join(", ")
                ))
            }
            (_, "link") => &["kind", "ifname", "field", "map", "map_default"],
            (_, "address") => {
                for k in ["ifname", "key", "field"] {
                    if !args.get(k).is_some_and(|v| v.is_str()) {
                        return Err(format!("`{k}` (a string) is required"));
                    }
                }
                if !matches!(
                    args.get("field").and_then(|v| v.as_str()),
                    Some("ip" | "netmask" | "prefixlen" | "enable")
                ) {
                    return Err("address `field` must be ip, netmask, prefixlen or enable".into());
                }
                &["kind", "ifname", "key", "field", "family"]
            }
            (_, other) => return Err(format!("value kind {other:?}; \"link\" or \"address\"")),
        };
        if let Some(x) = args.keys().find(|x| !allowed.contains(&x.as_str())) {
            return Err(format!("unknown argument `{x}`"));
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
                return Err(format!("unknown link field {field:?}"));
            }
            if !args.get("ifname").is_some_and(|v| v.is_str()) {
                return Err("`ifname` (a string) is required".into());
            }
            if kind == BindingKind::ReadWrite && !["up", "mtu"].contains(&field) {
                return Err(format!(
                    "link field {field} cannot be written (only up, mtu)"
                ));
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

#[cfg(test)]
mod tests;
