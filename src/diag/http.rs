//! DownloadDiagnostics (TR-143) over HTTP: one connection and one GET of DownloadURL, timed
//! when the TCP connection is opened (request and response), when the request goes out, and
//! at the first and last byte of the response. The response is counted (headers included, as
//! TestBytesReceived wants) and dropped; the interface's byte counters give the totals. Every
//! step has a deadline: the connection [`CONNECT_TIMEOUT`], each read [`READ_TIMEOUT`], the
//! whole transfer [`TOTAL_TIMEOUT`].

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};
use nix::sys::time::{TimeVal, TimeValLike};

use super::{resolve, DiagError, Protocol};
use crate::acs::Url;

/// Longest wait for the TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for any one read.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest whole transfer.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest response head read.
const MAX_HEAD: usize = 16 * 1024;

/// What to fetch and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// DownloadURL (`http://` only).
    pub url: String,
    /// ProtocolVersion.
    pub protocol: Protocol,
    /// Linux interface to use (from the Interface reference), if any.
    pub interface: Option<String>,
    /// DSCP of the test traffic.
    pub dscp: u8,
    /// EthernetPriority: the socket priority, which the interface's egress map turns into
    /// the 802.1p bits on a VLAN.
    pub priority: u8,
}

/// The timings and counts of one download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadReport {
    /// IPAddressUsed.
    pub source: Option<IpAddr>,
    /// TCPOpenRequestTime: the connection was asked for.
    pub tcp_open_request: SystemTime,
    /// TCPOpenResponseTime: the connection was open.
    pub tcp_open_response: SystemTime,
    /// ROMTime: the GET went out.
    pub rom: SystemTime,
    /// BOMTime: the first byte of the response arrived.
    pub bom: SystemTime,
    /// EOMTime: the last byte of the response arrived.
    pub eom: SystemTime,
    /// TestBytesReceived: the whole response, head and body.
    pub test_bytes: u64,
    /// TotalBytesReceived on the interface between BOM and EOM (0 when it cannot be read).
    pub total_received: u64,
    /// TotalBytesSent on the interface between BOM and EOM.
    pub total_sent: u64,
}

/// Runs the download to its end (blocking).
pub fn download(d: &Download) -> Result<DownloadReport, DiagError> {
    let url = Url::parse(d.url.trim()).filter(|u| !u.tls).ok_or_else(|| {
        DiagError::Other(format!("DownloadURL {:?} is not an http:// URL", d.url))
    })?;
    let ip = resolve(&url.host, d.protocol)?;
    let tcp_open_request = SystemTime::now();
    let mut stream = connect(SocketAddr::new(ip, url.port), d)?;
    let tcp_open_response = SystemTime::now();
    let source = stream.local_addr().ok().map(|a| a.ip());
    let ifname = d
        .interface
        .clone()
        .or_else(|| source.and_then(interface_of));
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .map_err(|e| DiagError::Internal(format!("socket: {e}")))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: cwmpd\r\nConnection: close\r\n\r\n",
        url.path,
        url.authority()
    );
    let rom = SystemTime::now();
    stream
        .write_all(request.as_bytes())
        .map_err(|e| DiagError::NoResponse(format!("sending the request: {e}")))?;
    let deadline = Instant::now() + TOTAL_TIMEOUT;
    let mut reader = Counted {
        stream,
        bytes: 0,
        deadline,
        first: None,
    };
    let head = reader.head()?;
    let bom = reader.first.unwrap_or_else(SystemTime::now);
    let before = ifname.as_deref().map(counters);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| head.starts_with("HTTP/1."))
        .ok_or_else(|| DiagError::NoResponse("not an HTTP response".into()))?;
    if status != 200 {
        return Err(DiagError::TransferFailed(format!("HTTP {status}")));
    }
    match body_framing(&head)? {
        Framing::Length(n) => reader.skip(n)?,
        Framing::Chunked => reader.chunked()?,
        Framing::Close => reader.until_close()?,
    }
    let eom = SystemTime::now();
    let (total_received, total_sent) = match (ifname.as_deref().map(counters), before) {
        (Some(Some((rx1, tx1))), Some(Some((rx0, tx0)))) => {
            (rx1.saturating_sub(rx0), tx1.saturating_sub(tx0))
        }
        _ => (0, 0),
    };
    Ok(DownloadReport {
        source,
        tcp_open_request,
        tcp_open_response,
        rom,
        bom,
        eom,
        test_bytes: reader.bytes,
        total_received,
        total_sent,
    })
}

/// Opens the test connection: on the interface and with the DSCP asked for, within
/// [`CONNECT_TIMEOUT`].
fn connect(to: SocketAddr, d: &Download) -> Result<TcpStream, DiagError> {
    let internal = |what: &str, e: Errno| DiagError::Internal(format!("{what}: {e}"));
    let family = if to.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd: OwnedFd = socket::socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| internal("socket", e))?;
    if let Some(name) = &d.interface {
        socket::setsockopt(&fd, sockopt::BindToDevice, &OsString::from(name))
            .map_err(|e| DiagError::Internal(format!("interface {name}: {e}")))?;
    }
    let tos = i32::from(d.dscp) << 2;
    if to.is_ipv4() {
        socket::setsockopt(&fd, sockopt::Ipv4Tos, &tos).map_err(|e| internal("DSCP", e))?;
    } else {
        socket::setsockopt(&fd, sockopt::Ipv6TClass, &tos).map_err(|e| internal("DSCP", e))?;
    }
    socket::setsockopt(&fd, sockopt::Priority, &i32::from(d.priority))
        .map_err(|e| internal("EthernetPriority", e))?;
    // Linux bounds a blocking connect by the send timeout.
    let limit = TimeVal::milliseconds(CONNECT_TIMEOUT.as_millis() as i64);
    socket::setsockopt(&fd, sockopt::SendTimeout, &limit).map_err(|e| internal("socket", e))?;
    match socket::connect(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrStorage::from(to),
    ) {
        Ok(()) => Ok(TcpStream::from(fd)),
        Err(Errno::ENETUNREACH) => Err(DiagError::NoRoute(format!("{to}: no route"))),
        Err(Errno::EINPROGRESS | Errno::EAGAIN | Errno::ETIMEDOUT) => Err(
            DiagError::InitConnectionFailed(format!("{to}: no answer within {CONNECT_TIMEOUT:?}")),
        ),
        Err(e) => Err(DiagError::InitConnectionFailed(format!("{to}: {e}"))),
    }
}

/// The interface that has this local address.
fn interface_of(ip: IpAddr) -> Option<String> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    for a in addrs {
        let found = a.address.as_ref().and_then(|s| {
            s.as_sockaddr_in()
                .map(|v| IpAddr::from(v.ip()))
                .or_else(|| s.as_sockaddr_in6().map(|v| IpAddr::from(v.ip())))
        });
        if found == Some(ip) {
            return Some(a.interface_name);
        }
    }
    None
}

/// The interface's received and sent byte counters.
fn counters(ifname: &str) -> Option<(u64, u64)> {
    let read = |what: &str| -> Option<u64> {
        let p = format!("/sys/class/net/{ifname}/statistics/{what}");
        std::fs::read_to_string(p).ok()?.trim().parse().ok()
    };
    Some((read("rx_bytes")?, read("tx_bytes")?))
}

enum Framing {
    Length(u64),
    Chunked,
    Close,
}

fn body_framing(head: &str) -> Result<Framing, DiagError> {
    let mut framing = Framing::Close;
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            return Ok(Framing::Chunked);
        }
        if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse()
                .map_err(|_| DiagError::NoResponse(format!("Content-Length {value:?}")))?;
            framing = Framing::Length(n);
        }
    }
    Ok(framing)
}

/// The response stream, counting every byte and noting when the first one came.
struct Counted {
    stream: TcpStream,
    bytes: u64,
    deadline: Instant,
    first: Option<SystemTime>,
}

impl Counted {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DiagError> {
        if Instant::now() > self.deadline {
            return Err(DiagError::Timeout(format!(
                "transfer longer than {TOTAL_TIMEOUT:?}"
            )));
        }
        match self.stream.read(buf) {
            Ok(n) => {
                if n > 0 && self.first.is_none() {
                    self.first = Some(SystemTime::now());
                }
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(DiagError::Timeout(format!("no data for {READ_TIMEOUT:?}")))
            }
            Err(e) => Err(DiagError::TransferFailed(format!("reading: {e}"))),
        }
    }

    /// Reads the status line and headers (the body bytes read with them are kept back).
    fn head(&mut self) -> Result<String, DiagError> {
        let mut head = Vec::new();
        let mut one = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= MAX_HEAD {
                return Err(DiagError::NoResponse("response head too large".into()));
            }
            // One byte at a time: the head is small, and the body is not read ahead.
            match self.read(&mut one)? {
                0 if head.is_empty() => return Err(DiagError::NoResponse("no response".into())),
                0 => return Err(DiagError::NoResponse("response head cut off".into())),
                _ => head.push(one[0]),
            }
        }
        Ok(String::from_utf8_lossy(&head).into_owned())
    }

    fn skip(&mut self, mut n: u64) -> Result<(), DiagError> {
        let mut buf = vec![0u8; 16 * 1024];
        while n > 0 {
            let want = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            match self.read(&mut buf[..want])? {
                0 => return Err(DiagError::TransferFailed(format!("{n} bytes missing"))),
                got => n -= got as u64,
            }
        }
        Ok(())
    }

    fn until_close(&mut self) -> Result<(), DiagError> {
        let mut buf = vec![0u8; 16 * 1024];
        while self.read(&mut buf)? > 0 {}
        Ok(())
    }

    fn line(&mut self) -> Result<String, DiagError> {
        let mut line = Vec::new();
        let mut one = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            if line.len() > 1024 || self.read(&mut one)? == 0 {
                return Err(DiagError::TransferFailed("bad chunk framing".into()));
            }
            line.push(one[0]);
        }
        line.truncate(line.len() - 2);
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    fn chunked(&mut self) -> Result<(), DiagError> {
        loop {
            let size_line = self.line()?;
            let hex = size_line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(hex, 16)
                .map_err(|_| DiagError::TransferFailed(format!("chunk size {hex:?}")))?;
            if size == 0 {
                // Trailers, then the empty line.
                while !self.line()?.is_empty() {}
                return Ok(());
            }
            self.skip(size)?;
            if !self.line()?.is_empty() {
                return Err(DiagError::TransferFailed("bad chunk framing".into()));
            }
        }
    }
}

/// A dateTime with microseconds, as TR-143 times are given.
pub fn format_micros(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = crate::model::datetime::format_utc(d.as_secs() as i64);
    format!("{}.{:06}Z", secs.trim_end_matches('Z'), d.subsec_micros())
}
