//! Writes to the kernel: a link's admin state and MTU, an address added or deleted, and the
//! record of what a commit changed so that `rollback` can reverse it, newest first.

use std::net::IpAddr;

use super::{msg, socket, Netlink};
use crate::backend::BackendError;

/// A link write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LinkEdit {
    Up(bool),
    Mtu(u32),
}

/// A change made to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Change {
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
    /// Reverses the kernel changes of the last commit, newest first, and puts the managed
    /// rows back.
    pub(super) fn revert(&mut self) -> Result<(), BackendError> {
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
                // The kernel's EINVAL, as std::io::Error words it.
                BackendError::Io(m) if m.ends_with(&format!("(os error {})", libc::EINVAL)) => {
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
}
