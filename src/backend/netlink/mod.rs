//! `netlink`: links, addresses, routes and neighbours from rtnetlink, read with one dump per
//! kind per operation (so a full-tree get of many interfaces costs four syscalls), and link
//! changes (up/down, MTU) and address changes written back.
//!
//! TR-181 values are derived here: Status from operstate, address origins from flags and
//! scope, route origins from the routing protocol.
//!
//! The handler is split by concern: `dump` reads the kernel's tables (one dump per kind
//! per operation, with the indexes over them), `values` derives TR-181 values from their
//! rows, `links` and `tables` turn them into fields and instances, `change` writes
//! links and addresses and undoes what a commit did, [`addresses`] keeps the rows the ACS
//! manages, and `handler` is the [`Handler`](crate::backend::Handler) implementation with
//! its argument checks.

pub mod addresses;
mod change;
mod dump;
mod handler;
mod links;
pub mod msg;
pub mod socket;
mod tables;
mod values;
pub mod watch;

use crate::backend::stored::Values;
use change::{Change, LinkEdit};
use dump::LinkIndex;
use msg::{Addr, Link, Neigh, Route};
use socket::Socket;

pub use links::LINK_FIELDS;
pub(crate) use values::netmask_v4;
pub use values::status;

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
    /// (ifindex, position in the address dump), sorted.
    addr_index: Option<Vec<(u32, usize)>>,
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

    fn save_rows(&mut self) {
        if let (Some(n), Some(m)) = (&self.notes, &self.managed) {
            n.set_note(addresses::NOTE, m.to_lines());
        }
    }
}

#[cfg(test)]
mod tests;
