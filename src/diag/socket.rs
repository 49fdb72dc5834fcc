//! The ICMP socket a test probes with: raw (the agent runs as root on routers) or, when raw
//! sockets are refused, the unprivileged datagram ICMP socket (ping only: the kernel does not
//! hand Time Exceeded to those). DSCP, TTL / hop limit per probe, an optional interface, and
//! receive deadlines; every read is bounded.

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::socket::{
    self, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn,
    SockaddrIn6, SockaddrStorage,
};
use nix::sys::time::{TimeVal, TimeValLike};

use super::icmp::{self, Answer};
use super::DiagError;

/// Largest packet read.
const MAX_PACKET: usize = 2048;

/// An open ICMP socket for one test.
pub struct Prober {
    fd: OwnedFd,
    ipv6: bool,
    raw: bool,
    id: u16,
}

fn internal(what: &str, e: Errno) -> DiagError {
    // As std::io::Error: musl's message, not a second table of them in nix.
    DiagError::Internal(format!("{what}: {}", std::io::Error::from(e)))
}

fn family(ipv6: bool) -> (AddressFamily, SockProtocol) {
    if ipv6 {
        (AddressFamily::Inet6, SockProtocol::IcmpV6)
    } else {
        (AddressFamily::Inet, SockProtocol::Icmp)
    }
}

fn bind_device(fd: &OwnedFd, ifname: Option<&str>) -> Result<(), DiagError> {
    if let Some(name) = ifname {
        socket::setsockopt(fd, sockopt::BindToDevice, &OsString::from(name))
            .map_err(|e| internal(&format!("interface {name}"), e))?;
    }
    Ok(())
}

fn sockaddr(ip: IpAddr, port: u16) -> SockaddrStorage {
    match ip {
        IpAddr::V4(a) => SockaddrStorage::from(SocketAddr::V4(SocketAddrV4::new(a, port))),
        IpAddr::V6(a) => SockaddrStorage::from(SocketAddr::V6(SocketAddrV6::new(a, port, 0, 0))),
    }
}

fn ip_of(s: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(a) = s.as_sockaddr_in() {
        return Some(IpAddr::V4(SockaddrIn::ip(a)));
    }
    s.as_sockaddr_in6().map(|a| IpAddr::V6(SockaddrIn6::ip(a)))
}

/// The source address the kernel would use to reach `to` (IPAddressUsed). A connected UDP
/// socket sends nothing.
pub fn source_for(to: IpAddr, ifname: Option<&str>) -> Result<IpAddr, DiagError> {
    let fam = if to.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let fd = socket::socket(fam, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| internal("socket", e))?;
    bind_device(&fd, ifname)?;
    match socket::connect(fd.as_raw_fd(), &sockaddr(to, 9)) {
        Ok(()) => {}
        Err(Errno::ENETUNREACH | Errno::EHOSTUNREACH) => {
            return Err(DiagError::NoRoute(format!("no route to {to}")))
        }
        Err(e) => return Err(internal("connect", e)),
    }
    let local: SockaddrStorage =
        socket::getsockname(fd.as_raw_fd()).map_err(|e| internal("getsockname", e))?;
    ip_of(&local).ok_or_else(|| DiagError::Internal("no local address".into()))
}

impl Prober {
    /// Opens a socket for `ipv6` or IPv4 probes.
    pub fn open(ipv6: bool, dscp: u8, ifname: Option<&str>, id: u16) -> Result<Prober, DiagError> {
        let (fam, proto) = family(ipv6);
        let (fd, raw) = match socket::socket(fam, SockType::Raw, SockFlag::SOCK_CLOEXEC, proto) {
            Ok(fd) => (fd, true),
            Err(Errno::EPERM | Errno::EACCES) => (
                socket::socket(fam, SockType::Datagram, SockFlag::SOCK_CLOEXEC, proto)
                    .map_err(|e| internal("ICMP socket (raw refused, datagram too)", e))?,
                false,
            ),
            Err(e) => return Err(internal("ICMP socket", e)),
        };
        let tos = i32::from(dscp) << 2;
        if tos != 0 {
            let set = if ipv6 {
                socket::setsockopt(&fd, sockopt::Ipv6TClass, &tos)
            } else {
                socket::setsockopt(&fd, sockopt::Ipv4Tos, &tos)
            };
            set.map_err(|e| internal("DSCP", e))?;
        }
        bind_device(&fd, ifname)?;
        Ok(Prober { fd, ipv6, raw, id })
    }

    /// True for a raw socket (Time Exceeded answers arrive).
    pub fn is_raw(&self) -> bool {
        self.raw
    }

    /// Sets the TTL / hop limit of the next probes.
    pub fn set_ttl(&self, ttl: u8) -> Result<(), DiagError> {
        let t = i32::from(ttl);
        let set = if self.ipv6 {
            socket::setsockopt(&self.fd, sockopt::Ipv6Ttl, &t)
        } else {
            socket::setsockopt(&self.fd, sockopt::Ipv4Ttl, &t)
        };
        set.map_err(|e| internal("TTL", e))
    }

    /// Sends one echo request.
    pub fn send(&self, to: IpAddr, seq: u16, size: usize) -> Result<(), DiagError> {
        let packet = icmp::echo_request(self.ipv6, self.id, seq, size);
        match socket::sendto(
            self.fd.as_raw_fd(),
            &packet,
            &sockaddr(to, 0),
            MsgFlags::empty(),
        ) {
            Ok(_) => Ok(()),
            Err(Errno::ENETUNREACH | Errno::EHOSTUNREACH) => {
                Err(DiagError::NoRoute(format!("no route to {to}")))
            }
            Err(e) => Err(internal("send", e)),
        }
    }

    /// Waits until `until` for an answer to one of our probes: who sent it and what it is.
    pub fn recv(&self, until: Instant) -> Result<Option<(IpAddr, Answer)>, DiagError> {
        let mut buf = [0u8; MAX_PACKET];
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let ms = i64::try_from(left.as_millis()).unwrap_or(i64::MAX).max(1);
            socket::setsockopt(
                &self.fd,
                sockopt::ReceiveTimeout,
                &TimeVal::milliseconds(ms),
            )
            .map_err(|e| internal("timeout", e))?;
            let (n, from) = match socket::recvfrom::<SockaddrStorage>(self.fd.as_raw_fd(), &mut buf)
            {
                Ok(r) => r,
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                Err(e) => return Err(internal("recv", e)),
            };
            let Some(from) = from.as_ref().and_then(ip_of) else {
                continue;
            };
            let data = &buf[..n.min(buf.len())];
            let msg = if self.raw && !self.ipv6 {
                match icmp::strip_ipv4_header(data) {
                    Some(m) => m,
                    None => continue,
                }
            } else {
                data
            };
            let Some(answer) = icmp::parse(self.ipv6, msg) else {
                continue;
            };
            // A raw socket sees every ICMP message of the host: keep ours. The kernel picks
            // the identifier of a datagram socket and delivers only its own replies.
            if self.raw && answer.id() != self.id {
                continue;
            }
            return Ok(Some((from, answer)));
        }
    }
}
