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
    by_ifindex: HashMap<i32, usize>,
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
                ix.by_ifindex.entry(l.index).or_insert(n);
            }
            self.index = Some(ix);
        }
        Ok(self.index.get_or_insert_with(LinkIndex::default))
    }

    /// ifindex → name of every link, for naming the interfaces of addresses, routes and
    /// neighbours.
    pub(super) fn link_names(&mut self) -> Result<HashMap<i32, String>, BackendError> {
        Ok(self
            .links()?
            .iter()
            .map(|l| (l.index, l.name.clone()))
            .collect())
    }

    pub(super) fn name_of(&mut self, index: i64) -> Result<String, BackendError> {
        let Ok(index) = i32::try_from(index) else {
            return Ok(String::new());
        };
        let at = self.index()?.by_ifindex.get(&index).copied();
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
            let mut m: HashMap<u32, Vec<usize>> = HashMap::new();
            for (n, a) in self.addresses()?.iter().enumerate() {
                m.entry(a.index).or_default().push(n);
            }
            self.addr_index = Some(m);
        }
        let m = self.addr_index.get_or_insert_with(HashMap::new);
        Ok(match ifindex {
            Some(i) => m.get(&i).cloned().unwrap_or_default(),
            None => {
                let mut all: Vec<usize> = m.values().flatten().copied().collect();
                all.sort_unstable();
                all
            }
        })
    }
}
