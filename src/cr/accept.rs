//! The bounded set of connections: accepting what the backlog holds (at most
//! [`MAX_ACCEPTS`](super::MAX_ACCEPTS) a round), dropping the oldest beyond the cap, keeping
//! fewer when file descriptors run out, pausing accepts when none can be freed, and closing
//! connections past their deadline with 408.

use std::io::ErrorKind;

use nix::errno::Errno;

use super::conn::{response, Conn};
use super::{Listener, ACCEPT_PAUSE_MS, DEADLINE_MS, FD_HEADROOM, MAX_ACCEPTS, MAX_CONNECTIONS};

impl Listener {
    pub(super) fn close(&mut self, i: usize) {
        if i < self.conns.len() {
            self.conns.swap_remove(i);
        }
        if self.conns.is_empty() {
            // A shortage of descriptors is over when nothing of ours holds any.
            self.cap = MAX_CONNECTIONS;
        }
    }

    /// Drops the oldest connection (to make room for a new one).
    fn drop_oldest(&mut self, now: u64, why: &str) {
        let oldest = (0..self.conns.len()).min_by_key(|i| self.conns.get(*i).map(|c| c.seq));
        if let Some(i) = oldest {
            if let Some(c) = self.conns.get(i) {
                let peer = c.peer;
                self.warn(
                    now,
                    format_args!("{why}: dropped the oldest connection (from {peer})"),
                );
            }
            self.conns.swap_remove(i);
        }
    }

    /// Closes connections past their deadline.
    pub(super) fn expire(&mut self, now: u64) {
        let mut i = 0;
        while i < self.conns.len() {
            match self.conns.get_mut(i) {
                Some(c) if c.expired(now) => {
                    let peer = c.peer;
                    c.last_word(&response(408, &[], true));
                    self.warn(
                        now,
                        format_args!(
                            "from {peer}: no whole request within {DEADLINE_MS} ms, closed"
                        ),
                    );
                    self.close(i);
                }
                _ => i += 1,
            }
        }
    }

    /// Accepts what the backlog holds (at most [`MAX_ACCEPTS`]).
    pub(super) fn accept(&mut self, now: u64) {
        for _ in 0..MAX_ACCEPTS {
            match self.socket.accept() {
                Ok((stream, peer)) => {
                    while self.conns.len() >= self.cap {
                        self.drop_oldest(now, "too many connections");
                    }
                    self.accepted += 1;
                    match Conn::new(stream, peer, self.accepted, now) {
                        Ok(c) => {
                            self.conns.push(c);
                            // Its request is usually there already.
                            if let Some(c) = self.conns.last_mut() {
                                c.recheck = true;
                            }
                        }
                        Err(e) => log::debug!("connection request: from {peer}: {e}"),
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e)
                    if e.kind() == ErrorKind::Interrupted
                        || e.kind() == ErrorKind::ConnectionAborted => {}
                Err(e) => {
                    let short = matches!(
                        e.raw_os_error().map(Errno::from_raw),
                        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)
                    );
                    if short && !self.conns.is_empty() {
                        // Out of descriptors: ours go first, and fewer are kept from now on,
                        // so the rest of the agent keeps some (FD_HEADROOM).
                        self.cap = self.conns.len().saturating_sub(FD_HEADROOM).max(1);
                        while self.conns.len() >= self.cap && !self.conns.is_empty() {
                            self.drop_oldest(now, &format!("accept: {e}"));
                        }
                    } else {
                        self.warn(
                            now,
                            format_args!("accept: {e}; pausing {ACCEPT_PAUSE_MS} ms"),
                        );
                        self.accept_paused_until = Some(now.saturating_add(ACCEPT_PAUSE_MS));
                        return;
                    }
                }
            }
        }
    }
}
