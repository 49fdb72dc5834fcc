//! The ConnectionRequestURL the agent reports for its listener (TR-069 §3.2.2).

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

/// The ConnectionRequestURL for a listener bound to `listen` serving `path`.
///
/// `host_override` is the host (name or address, IPv6 without brackets) to report instead of
/// the listen address. A listener on 0.0.0.0 or :: cannot be reached at that address, so the
/// caller must pass the address the ACS can reach (see [`derive_url`], which picks the local
/// address of the route to the ACS); given none, the unspecified address is reported as is.
pub fn connection_request_url(
    listen: SocketAddr,
    path: &str,
    host_override: Option<&str>,
) -> String {
    let host = host_override
        .map(str::to_string)
        .unwrap_or_else(|| listen.ip().to_string());
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    format!("http://{host}:{}{path}", listen.port())
}

/// Derives the ConnectionRequestURL: the listen address, or when it is unspecified
/// (0.0.0.0 / ::) the local address used to reach the ACS (found with an unconnected UDP
/// socket: no packet is sent). Empty when `listen` is not an address.
pub fn derive_url(listen: &str, path: &str, acs_url: &str) -> String {
    let Ok(addr) = listen.parse::<SocketAddr>() else {
        return String::new();
    };
    let mut ip = addr.ip();
    if ip.is_unspecified() {
        if let Ok(u) = crate::http::Url::parse(acs_url) {
            let bind = if ip.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
            let local = (u.host.as_str(), u.port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.find(|x| x.is_ipv4() == ip.is_ipv4()))
                .and_then(|target| {
                    UdpSocket::bind(bind)
                        .ok()
                        .and_then(|s| s.connect(target).ok().and_then(|_| s.local_addr().ok()))
                });
            if let Some(l) = local {
                ip = l.ip();
            }
        }
    }
    connection_request_url(addr, path, Some(&ip.to_string()))
}
