//! TR-181 values derived from rtnetlink rows: an interface's Status from operstate and
//! flags, IPv4 netmasks, address origins from flags and scope, IPv6 address status, and
//! whether a neighbour is present. Pure functions of the decoded rows.

use std::net::IpAddr;

use super::msg::{self, Addr, Link};

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

pub(super) fn v4_origin(a: &Addr) -> &'static str {
    match a.address {
        IpAddr::V4(v) if v.is_link_local() => "AutoIP",
        _ if a.flags & msg::IFA_F_PERMANENT == 0 => "DHCP",
        _ => "Static",
    }
}

pub(super) fn v6_origin(a: &Addr) -> &'static str {
    if a.scope >= 253 {
        "WellKnown"
    } else if a.flags & msg::IFA_F_PERMANENT == 0 {
        "AutoConfigured"
    } else {
        "Static"
    }
}

pub(super) fn v6_address_status(a: &Addr) -> &'static str {
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
pub(super) fn neigh_active(state: u16) -> bool {
    state & (0x02 | 0x04 | 0x08 | 0x10 | 0x80) != 0
}
