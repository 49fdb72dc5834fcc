//! rtnetlink message layouts and their decoding into plain structs. Every read is bounds
//! checked: malformed, truncated or hostile buffers decode to errors or are skipped, never a
//! panic. Integers are in native byte order, as the kernel writes them (big-endian on MIPS).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Netlink header length.
pub const NLMSG_HDRLEN: usize = 16;
/// End of a multi-part dump.
pub const NLMSG_DONE: u16 = 3;
/// Error or acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// rtnetlink message types.
pub const RTM_NEWLINK: u16 = 16;
/// Dump links.
pub const RTM_GETLINK: u16 = 18;
/// Add an address.
pub const RTM_NEWADDR: u16 = 20;
/// Delete an address.
pub const RTM_DELADDR: u16 = 21;
/// Dump addresses.
pub const RTM_GETADDR: u16 = 22;
/// A route.
pub const RTM_NEWROUTE: u16 = 24;
/// Dump routes.
pub const RTM_GETROUTE: u16 = 26;
/// A neighbour.
pub const RTM_NEWNEIGH: u16 = 28;
/// Dump neighbours.
pub const RTM_GETNEIGH: u16 = 30;

/// Address families.
pub const AF_UNSPEC: u8 = 0;
/// IPv4.
pub const AF_INET: u8 = 2;
/// IPv6.
pub const AF_INET6: u8 = 10;

/// Interface flags.
pub const IFF_UP: u32 = 0x1;
/// Loopback.
pub const IFF_LOOPBACK: u32 = 0x8;
/// Running (carrier).
pub const IFF_RUNNING: u32 = 0x40;

/// One netlink message: its type, flags and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// nlmsg_type
    pub kind: u16,
    /// nlmsg_flags
    pub flags: u16,
    /// nlmsg_seq
    pub seq: u32,
    /// Payload after the header.
    pub payload: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Splits a receive buffer into messages. A malformed length ends the walk.
pub fn messages(buf: &[u8]) -> Vec<Message<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + NLMSG_HDRLEN <= buf.len() {
        let Some(len) = u32_at(buf, at).map(|l| l as usize) else {
            break;
        };
        if len < NLMSG_HDRLEN || at + len > buf.len() {
            break;
        }
        let (Some(kind), Some(flags), Some(seq)) = (
            u16_at(buf, at + 4),
            u16_at(buf, at + 6),
            u32_at(buf, at + 8),
        ) else {
            break;
        };
        out.push(Message {
            kind,
            flags,
            seq,
            payload: &buf[at + NLMSG_HDRLEN..at + len],
        });
        at += align4(len);
    }
    out
}

/// The error code of an NLMSG_ERROR payload (0 is an acknowledgement).
pub fn error_code(payload: &[u8]) -> Option<i32> {
    i32_at(payload, 0)
}

/// Route attributes (type, payload) after a fixed header; stops at the first malformed one.
pub fn attrs(b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= b.len() {
        let (Some(len), Some(kind)) = (u16_at(b, at), u16_at(b, at + 2)) else {
            break;
        };
        let len = len as usize;
        if len < 4 || at + len > b.len() {
            break;
        }
        out.push((kind & 0x3fff, &b[at + 4..at + len]));
        at += align4(len);
    }
    out
}

fn attr<'a>(list: &[(u16, &'a [u8])], kind: u16) -> Option<&'a [u8]> {
    list.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Formats a hardware address as `aa:bb:cc:dd:ee:ff`.
pub fn mac_string(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ip(family: u8, b: &[u8]) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::from(
            <[u8; 4]>::try_from(b.get(..4)?).ok()?,
        ))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(b.get(..16)?).ok()?,
        ))),
        _ => None,
    }
}

/// Interface statistics (IFLA_STATS64).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Packets dropped on send.
    pub tx_dropped: u64,
    /// Multicast packets received.
    pub multicast: u64,
    /// Received frames with a bad CRC.
    pub rx_crc_errors: u64,
    /// Received packets no protocol handler took (rx_nohandler, Linux 4.6 and later).
    pub rx_nohandler: u64,
}

/// A link (RTM_NEWLINK).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: i32,
    /// Name.
    pub name: String,
    /// ARPHRD_* type.
    pub hw_type: u16,
    /// IFF_* flags.
    pub flags: u32,
    /// IF_OPER_* state.
    pub operstate: u8,
    /// MTU.
    pub mtu: u32,
    /// Hardware address.
    pub mac: Vec<u8>,
    /// Master (bridge/bond) index, 0 when none.
    pub master: i32,
    /// Lower link index (vlan, veth peer), 0 when none.
    pub link: i32,
    /// Driver kind from IFLA_LINKINFO (`bridge`, `veth`, `vlan` …).
    pub kind: String,
    /// Counters.
    pub stats: Stats,
}

/// Decodes an RTM_NEWLINK payload.
pub fn link(p: &[u8]) -> Option<Link> {
    let mut l = Link {
        hw_type: u16_at(p, 2)?,
        index: i32_at(p, 4)?,
        flags: u32_at(p, 8)?,
        ..Default::default()
    };
    let a = attrs(p.get(16..)?);
    l.name = c_string(attr(&a, 3)?);
    l.mtu = attr(&a, 4).and_then(|b| u32_at(b, 0)).unwrap_or(0);
    l.mac = attr(&a, 1).map(|b| b.to_vec()).unwrap_or_default();
    l.master = attr(&a, 10).and_then(|b| i32_at(b, 0)).unwrap_or(0);
    l.link = attr(&a, 5).and_then(|b| i32_at(b, 0)).unwrap_or(0);
    l.operstate = attr(&a, 16).and_then(|b| b.first().copied()).unwrap_or(0);
    if let Some(info) = attr(&a, 18) {
        if let Some(k) = attr(&attrs(info), 1) {
            l.kind = c_string(k);
        }
    }
    if let Some(s) = attr(&a, 23) {
        let g = |i: usize| u64_at(s, i * 8).unwrap_or(0);
        l.stats = Stats {
            rx_packets: g(0),
            tx_packets: g(1),
            rx_bytes: g(2),
            tx_bytes: g(3),
            rx_errors: g(4),
            tx_errors: g(5),
            rx_dropped: g(6),
            tx_dropped: g(7),
            multicast: g(8),
            rx_crc_errors: g(12),
            rx_nohandler: g(23),
        };
    }
    Some(l)
}

/// An address (RTM_NEWADDR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// Interface index.
    pub index: u32,
    /// The address.
    pub address: IpAddr,
    /// Prefix length.
    pub prefixlen: u8,
    /// RT_SCOPE_* (0 universe, 253 link, 254 host).
    pub scope: u8,
    /// IFA_F_* flags (from IFA_FLAGS when present).
    pub flags: u32,
    /// Preferred lifetime in seconds (u32::MAX forever).
    pub preferred: u32,
    /// Valid lifetime in seconds (u32::MAX forever).
    pub valid: u32,
}

/// Address flags.
pub const IFA_F_DADFAILED: u32 = 0x08;
/// Deprecated address.
pub const IFA_F_DEPRECATED: u32 = 0x20;
/// Duplicate address detection still running.
pub const IFA_F_TENTATIVE: u32 = 0x40;
/// Configured, not learned.
pub const IFA_F_PERMANENT: u32 = 0x80;

/// Decodes an RTM_NEWADDR payload.
pub fn addr(p: &[u8]) -> Option<Addr> {
    let family = *p.first()?;
    let a = attrs(p.get(8..)?);
    // IFA_LOCAL is the local address on point-to-point links; IFA_ADDRESS otherwise.
    let raw = attr(&a, 2).or_else(|| attr(&a, 1))?;
    let (preferred, valid) = attr(&a, 6)
        .map(|c| {
            (
                u32_at(c, 0).unwrap_or(u32::MAX),
                u32_at(c, 4).unwrap_or(u32::MAX),
            )
        })
        .unwrap_or((u32::MAX, u32::MAX));
    Some(Addr {
        address: ip(family, raw)?,
        prefixlen: *p.get(1)?,
        scope: *p.get(3)?,
        flags: attr(&a, 8)
            .and_then(|b| u32_at(b, 0))
            .unwrap_or(u32::from(*p.get(2)?)),
        index: u32_at(p, 4)?,
        preferred,
        valid,
    })
}

/// A route (RTM_NEWROUTE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Family.
    pub family: u8,
    /// Destination (unspecified for the default route).
    pub dst: IpAddr,
    /// Destination prefix length.
    pub dst_len: u8,
    /// Gateway, if any.
    pub gateway: Option<IpAddr>,
    /// Output interface index.
    pub oif: u32,
    /// Metric.
    pub priority: u32,
    /// RTPROT_* (2 kernel, 3 boot, 4 static, 9 ra, 16 dhcp).
    pub protocol: u8,
    /// Routing table.
    pub table: u32,
    /// RTN_* type (1 unicast).
    pub kind: u8,
}

/// Decodes an RTM_NEWROUTE payload.
pub fn route(p: &[u8]) -> Option<Route> {
    let family = *p.first()?;
    let a = attrs(p.get(12..)?);
    let unspecified = match family {
        AF_INET => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        AF_INET6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        _ => return None,
    };
    Some(Route {
        family,
        dst: attr(&a, 1)
            .and_then(|b| ip(family, b))
            .unwrap_or(unspecified),
        dst_len: *p.get(1)?,
        gateway: attr(&a, 5).and_then(|b| ip(family, b)),
        oif: attr(&a, 4).and_then(|b| u32_at(b, 0)).unwrap_or(0),
        priority: attr(&a, 6).and_then(|b| u32_at(b, 0)).unwrap_or(0),
        protocol: *p.get(5)?,
        table: attr(&a, 15)
            .and_then(|b| u32_at(b, 0))
            .unwrap_or(u32::from(*p.get(4)?)),
        kind: *p.get(7)?,
    })
}

/// A neighbour (RTM_NEWNEIGH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neigh {
    /// Interface index.
    pub index: i32,
    /// Protocol address.
    pub address: IpAddr,
    /// Link-layer address.
    pub lladdr: Vec<u8>,
    /// NUD_* state.
    pub state: u16,
}

/// A bridge forwarding database entry: a MAC address learned (or set) on a bridge port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fdb {
    /// The port's interface index.
    pub index: i32,
    /// The MAC address.
    pub lladdr: Vec<u8>,
}

/// AF_BRIDGE: the family of forwarding database dumps.
pub const AF_BRIDGE: u8 = 7;

/// Decodes an RTM_NEWNEIGH payload of the AF_BRIDGE family into a learned or static entry
/// of a bridge port; `None` for the bridge's own addresses (NUD_PERMANENT: "local"), entries
/// of the port device itself (NTF_SELF, its multicast filters) and other families.
pub fn fdb(p: &[u8]) -> Option<Fdb> {
    if *p.first()? != AF_BRIDGE {
        return None;
    }
    let state = u16_at(p, 8)?;
    let flags = *p.get(10)?;
    if state & 0x80 != 0 || flags & 0x02 != 0 {
        return None;
    }
    let a = attrs(p.get(12..)?);
    let lladdr = attr(&a, 2)?.to_vec();
    (lladdr.len() == 6).then_some(Fdb {
        index: i32_at(p, 4)?,
        lladdr,
    })
}

/// Decodes an RTM_NEWNEIGH payload.
pub fn neigh(p: &[u8]) -> Option<Neigh> {
    let family = *p.first()?;
    let a = attrs(p.get(12..)?);
    Some(Neigh {
        index: i32_at(p, 4)?,
        state: u16_at(p, 8)?,
        address: ip(family, attr(&a, 1)?)?,
        lladdr: attr(&a, 2).map(|b| b.to_vec()).unwrap_or_default(),
    })
}

/// Appends an attribute (padded) to a request buffer.
pub fn push_attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(align4(buf.len()), 0);
}

/// A complete request: header + body (length filled in).
pub fn request(kind: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(NLMSG_HDRLEN + body.len());
    b.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
    b.extend_from_slice(&kind.to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(body);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_msg() -> Vec<u8> {
        let mut body = vec![0u8, 0];
        body.extend_from_slice(&1u16.to_ne_bytes());
        body.extend_from_slice(&7i32.to_ne_bytes());
        body.extend_from_slice(&(IFF_UP | IFF_RUNNING).to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes());
        push_attr(&mut body, 3, b"veth0\0");
        push_attr(&mut body, 4, &1400u32.to_ne_bytes());
        push_attr(&mut body, 1, &[2, 0, 0, 0, 0, 9]);
        push_attr(&mut body, 16, &[6]);
        let mut info = Vec::new();
        push_attr(&mut info, 1, b"veth\0");
        push_attr(&mut body, 18, &info);
        let mut stats = Vec::new();
        for i in 0..24u64 {
            stats.extend_from_slice(&(i * 10).to_ne_bytes());
        }
        push_attr(&mut body, 23, &stats);
        request(RTM_NEWLINK, 2, 5, &body)
    }

    #[test]
    fn decodes_a_link() {
        let buf = link_msg();
        let msgs = messages(&buf);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].seq, 5);
        let l = link(msgs[0].payload).unwrap();
        assert_eq!(
            (
                l.index,
                l.name.as_str(),
                l.mtu,
                l.operstate,
                l.kind.as_str()
            ),
            (7, "veth0", 1400, 6, "veth")
        );
        assert_eq!(mac_string(&l.mac), "02:00:00:00:00:09");
        assert_eq!(
            (l.stats.rx_bytes, l.stats.tx_bytes, l.stats.multicast),
            (20, 30, 80)
        );
    }

    #[test]
    fn decodes_addresses_routes_and_neighbours() {
        let mut a = vec![AF_INET, 24, 0, 0];
        a.extend_from_slice(&3u32.to_ne_bytes());
        push_attr(&mut a, 2, &[10, 1, 2, 3]);
        push_attr(&mut a, 8, &IFA_F_PERMANENT.to_ne_bytes());
        let ad = addr(&a).unwrap();
        assert_eq!(
            (ad.address.to_string(), ad.prefixlen, ad.index, ad.flags),
            ("10.1.2.3".into(), 24, 3, IFA_F_PERMANENT)
        );
        let mut r = vec![AF_INET, 0, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0];
        push_attr(&mut r, 5, &[10, 1, 2, 1]);
        push_attr(&mut r, 4, &3u32.to_ne_bytes());
        let rt = route(&r).unwrap();
        assert_eq!(
            (
                rt.dst.to_string(),
                rt.gateway.unwrap().to_string(),
                rt.oif,
                rt.protocol
            ),
            ("0.0.0.0".into(), "10.1.2.1".into(), 3, 4)
        );
        let mut n = vec![AF_INET6, 0, 0, 0];
        n.extend_from_slice(&3i32.to_ne_bytes());
        n.extend_from_slice(&2u16.to_ne_bytes());
        n.extend_from_slice(&[0, 0]);
        push_attr(&mut n, 1, &"fd00::9".parse::<Ipv6Addr>().unwrap().octets());
        push_attr(&mut n, 2, &[2, 0, 0, 0, 0, 1]);
        let ne = neigh(&n).unwrap();
        assert_eq!((ne.address.to_string(), ne.state), ("fd00::9".into(), 2));
    }

    #[test]
    fn truncated_and_garbage_buffers_never_panic() {
        let buf = link_msg();
        for cut in 0..buf.len() {
            for m in messages(&buf[..cut]) {
                let _ = link(m.payload);
            }
            let _ = link(&buf[..cut]);
            let _ = addr(&buf[..cut]);
            let _ = route(&buf[..cut]);
            let _ = neigh(&buf[..cut]);
            let _ = attrs(&buf[..cut]);
        }
        // Pseudo-random bytes (xorshift), deterministic.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let mut b = Vec::new();
            for _ in 0..(x % 96) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b.push(x as u8);
            }
            for m in messages(&b) {
                let _ = (
                    link(m.payload),
                    addr(m.payload),
                    route(m.payload),
                    neigh(m.payload),
                    error_code(m.payload),
                );
            }
            let _ = (link(&b), addr(&b), route(&b), neigh(&b));
        }
        // A length field larger than the buffer stops the walk.
        let mut bad = buf.clone();
        bad[0..4].copy_from_slice(&10_000u32.to_ne_bytes());
        assert!(messages(&bad).is_empty());
    }
}
