//! Change notifications from the kernel: a NETLINK_ROUTE socket joined to the link and
//! address multicast groups. The agent runs [`spawn`] once; every batch of messages (an
//! interface going up or down, an address added or removed, or an overflow that lost some)
//! calls the given function, which wakes the loop to compare notified parameters at once
//! instead of at the next periodic check.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{self, MsgFlags};

use crate::backend::BackendError;

/// RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR.
pub const GROUPS: u32 = 0x1 | 0x10 | 0x100;

/// A socket subscribed to link and address changes.
pub struct Watch {
    fd: OwnedFd,
}

impl Watch {
    /// Opens the socket in the caller's network namespace.
    pub fn open() -> Result<Watch, BackendError> {
        Ok(Watch {
            fd: super::socket::bound(GROUPS)?,
        })
    }

    /// Blocks until the kernel reports a change; returns the bytes read (0 for an overflow,
    /// which also means something changed).
    pub fn wait(&self) -> Result<usize, BackendError> {
        let mut buf = [0u8; 8192];
        match socket::recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(n) => Ok(n),
            Err(nix::errno::Errno::ENOBUFS) => Ok(0),
            Err(nix::errno::Errno::EINTR) => Ok(0),
            Err(e) => Err(BackendError::Io(format!(
                "netlink recv: {}",
                std::io::Error::from(e)
            ))),
        }
    }
}

/// Starts the watching thread; `changed` runs after each batch of messages. Fails only when
/// the socket cannot be opened (then the periodic check alone notices changes).
pub fn spawn(changed: impl Fn() + Send + 'static) -> Result<(), BackendError> {
    let w = Watch::open()?;
    std::thread::Builder::new()
        .name("netlink-watch".into())
        .stack_size(64 * 1024)
        .spawn(move || loop {
            match w.wait() {
                Ok(_) => changed(),
                Err(e) => {
                    log::warn!("notify: {e}; netlink events off");
                    return;
                }
            }
        })
        .map_err(|e| BackendError::Io(format!("thread: {e}")))?;
    Ok(())
}
