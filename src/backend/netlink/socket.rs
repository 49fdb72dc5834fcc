//! A NETLINK_ROUTE socket: dump requests (multi-part answers up to NLMSG_DONE) and
//! acknowledged change requests, with sequence numbers, a receive timeout and a size limit.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{
    self, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};
use nix::sys::time::{TimeVal, TimeValLike};

use super::msg;
use crate::backend::BackendError;

/// Most bytes accepted for one dump.
pub const MAX_DUMP_BYTES: usize = 16 << 20;
/// Receive timeout, milliseconds: the kernel answers at once; this only guards against bugs.
pub const RECV_TIMEOUT_MS: i64 = 2000;

/// Request flags.
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
/// Create flags for RTM_NEW*.
pub const NLM_F_CREATE: u16 = 0x400;
/// Fail if the object exists.
pub const NLM_F_EXCL: u16 = 0x200;

/// An open rtnetlink socket (in the network namespace of the thread that opened it).
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

fn io(what: &str, e: nix::Error) -> BackendError {
    // As std::io::Error: musl's message, not a second table of them in nix.
    BackendError::Io(format!("netlink {what}: {}", std::io::Error::from(e)))
}

/// A NETLINK_ROUTE socket bound to these multicast groups (0: none).
pub fn bound(groups: u32) -> Result<OwnedFd, BackendError> {
    let fd = socket::socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(|e| io("socket", e))?;
    socket::bind(fd.as_raw_fd(), &NetlinkAddr::new(0, groups)).map_err(|e| io("bind", e))?;
    Ok(fd)
}

impl Socket {
    /// Opens and binds a socket.
    pub fn open() -> Result<Socket, BackendError> {
        let fd = bound(0)?;
        socket::setsockopt(
            &fd,
            socket::sockopt::ReceiveTimeout,
            &TimeVal::milliseconds(RECV_TIMEOUT_MS),
        )
        .map_err(|e| io("setsockopt", e))?;
        // Ask for a large receive buffer so dumps of big tables are not truncated.
        let _ = socket::setsockopt(&fd, socket::sockopt::RcvBuf, &(1 << 20));
        Ok(Socket { fd, seq: 1 })
    }

    fn send(&mut self, kind: u16, flags: u16, body: &[u8]) -> Result<u32, BackendError> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let req = msg::request(kind, flags, self.seq, body);
        socket::send(self.fd.as_raw_fd(), &req, MsgFlags::empty()).map_err(|e| io("send", e))?;
        Ok(self.seq)
    }

    /// Receives until NLMSG_DONE (dumps) or the acknowledgement (changes) of `seq`; returns
    /// the payloads of messages of type `want`.
    fn receive(&mut self, seq: u32, want: Option<u16>) -> Result<Vec<Vec<u8>>, BackendError> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut out = Vec::new();
        let mut total = 0usize;
        loop {
            let n = socket::recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty())
                .map_err(|e| io("recv", e))?;
            if n == 0 {
                return Err(BackendError::Io("netlink: socket closed".into()));
            }
            total += n;
            if total > MAX_DUMP_BYTES {
                return Err(BackendError::Limit(format!(
                    "netlink answer larger than {MAX_DUMP_BYTES} bytes"
                )));
            }
            for m in msg::messages(&buf[..n]) {
                if m.seq != seq {
                    continue;
                }
                match m.kind {
                    msg::NLMSG_DONE => return Ok(out),
                    msg::NLMSG_ERROR => {
                        return match msg::error_code(m.payload) {
                            Some(0) if want.is_none() => Ok(out),
                            Some(0) => Ok(out),
                            Some(code) => Err(BackendError::Io(format!(
                                "netlink: {}",
                                std::io::Error::from_raw_os_error(-code)
                            ))),
                            None => {
                                Err(BackendError::Io("netlink: malformed error message".into()))
                            }
                        };
                    }
                    k if Some(k) == want => out.push(m.payload.to_vec()),
                    _ => {}
                }
            }
        }
    }

    /// Dumps a table: `kind` is an RTM_GET* type, `header` the family-specific request body.
    pub fn dump(
        &mut self,
        kind: u16,
        answer: u16,
        header: &[u8],
    ) -> Result<Vec<Vec<u8>>, BackendError> {
        let seq = self.send(kind, NLM_F_REQUEST | NLM_F_DUMP, header)?;
        self.receive(seq, Some(answer))
    }

    /// Sends a change request and waits for its acknowledgement.
    pub fn change(&mut self, kind: u16, flags: u16, body: &[u8]) -> Result<(), BackendError> {
        let seq = self.send(kind, NLM_F_REQUEST | NLM_F_ACK | flags, body)?;
        self.receive(seq, None).map(|_| ())
    }
}
