//! The kernel's tables as this operation sees them: one rtnetlink dump per kind (links,
//! addresses, routes, neighbours, the bridge forwarding database), read on first use and
//! cached until the next `begin`, with indexes by name and ifindex built once over them.

use std::collections::HashMap;

use super::msg::{self, Addr, Link, Neigh, Route};
use super::socket::Socket;
use super::Netlink;
use crate::backend::BackendError;

#[derive(Default)]
pub(super) struct LinkIndex {
    by_name: HashMap<String, usize>,
    /// (ifindex, position) sorted: a sorted list rather than a hash map of its own (its
    /// code is shared with the address index's).
    by_ifindex: Vec<(u32, usize)>,
}

/// ifindex → name of every link, sorted by ifindex, for naming the interfaces of addresses,
/// routes and neighbours while other dumps are read.
#[derive(Default)]
pub(super) struct LinkNames(Vec<(u32, String)>);

impl LinkNames {
    /// The name of the link with this ifindex.
    pub(super) fn get(&self, index: &i32) -> Option<&String> {
        let index = u32::try_from(*index).ok()?;
        let at = self.0.binary_search_by_key(&index, |e| e.0).ok()?;
        self.0.get(at).map(|e| &e.1)
    }
}

/// The positions listed under `key` in a sorted (key, position) list, in order.
fn positions_of(list: &[(u32, usize)], key: u32) -> impl Iterator<Item = usize> + '_ {
    let lo = list.partition_point(|e| e.0 < key);
    let hi = list.partition_point(|e| e.0 <= key);
    list.get(lo..hi).unwrap_or(&[]).iter().map(|e| e.1)
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
    pub(super) fn sock(&mut self) -> Result<&mut Socket, BackendError> {
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
                if let Ok(i) = u32::try_from(l.index) {
                    ix.by_ifindex.push((i, n));
                }
            }
            ix.by_ifindex.sort_unstable();
            self.index = Some(ix);
        }
        Ok(self.index.get_or_insert_with(LinkIndex::default))
    }

    /// ifindex → name of every link.
    pub(super) fn link_names(&mut self) -> Result<LinkNames, BackendError> {
        let mut names: Vec<(u32, String)> = self
            .links()?
            .iter()
            .filter_map(|l| Some((u32::try_from(l.index).ok()?, l.name.clone())))
            .collect();
        names.sort_unstable_by_key(|e| e.0);
        Ok(LinkNames(names))
    }

    pub(super) fn name_of(&mut self, index: i64) -> Result<String, BackendError> {
        let Ok(index) = u32::try_from(index) else {
            return Ok(String::new());
        };
        // The first link with this ifindex, as the hash map's first entry was.
        let at = positions_of(&self.index()?.by_ifindex, index).next();
        Ok(at
            .and_then(|n| self.links.as_ref()?.get(n))
            .map(|l| l.name.clone())
            .unwrap_or_default())
    }

    pub(super) fn link(&mut self, ifname: &str) -> Result<&Link, BackendError> {
        let at = self.index()?.by_name.get(ifname).copied();
        at.and_then(|n| self.links.as_ref()?.get(n))
            .ok_or_else(|| BackendError::NotFound(format!("link {ifname}")))
    }

    /// Positions in the address dump of the addresses of one ifindex.
    pub(super) fn addresses_of(
        &mut self,
        ifindex: Option<u32>,
    ) -> Result<Vec<usize>, BackendError> {
        if self.addr_index.is_none() {
            let mut m: Vec<(u32, usize)> = self
                .addresses()?
                .iter()
                .enumerate()
                .map(|(n, a)| (a.index, n))
                .collect();
            m.sort_unstable();
            self.addr_index = Some(m);
        }
        let m = self.addr_index.get_or_insert_with(Vec::new);
        Ok(match ifindex {
            Some(i) => positions_of(m, i).collect(),
            None => (0..m.len()).collect(),
        })
    }
}
