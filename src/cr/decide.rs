//! What answers one request: the path and method checked, the Digest credentials verified
//! (with fresh challenges when they are missing, wrong or stale), the rate limit applied;
//! and servicing one connection: reading what it completed and writing the answer.

use std::net::SocketAddr;

use super::conn::{response, Input, Output};
use super::{request, Listener, Polled};
use crate::http::digest::AuthError;

impl Listener {
    /// What answers request `req` at `now`: (status, headers, accepted).
    fn decide(
        &mut self,
        req: &request::Request,
        peer: SocketAddr,
        now: u64,
    ) -> (u16, Vec<(&'static str, String)>, bool) {
        if req.path() != self.path {
            return (404, Vec::new(), false);
        }
        if req.method != "GET" {
            return (405, vec![("Allow", "GET".into())], false);
        }
        let Some(v) = self.verifier.as_mut() else {
            self.warn(
                now,
                format_args!("from {peer} refused: no credentials configured"),
            );
            return (401, Vec::new(), false);
        };
        match v.verify(req.authorization.as_deref(), "GET", &req.target, now) {
            Ok(()) => match self.bucket.take(now) {
                Ok(()) => {
                    log::info!("connection request accepted");
                    (200, Vec::new(), true)
                }
                Err(after) => {
                    self.warn(now, format_args!("from {peer}: rate limit, answered 503"));
                    (503, vec![("Retry-After", after.to_string())], false)
                }
            },
            Err(e) => {
                let challenges = v.challenges(now, e == AuthError::Stale);
                if !matches!(e, AuthError::Missing) {
                    self.warn(now, format_args!("from {peer} refused: {e}"));
                }
                let ch = challenges
                    .into_iter()
                    .map(|c| ("WWW-Authenticate", c))
                    .collect();
                (401, ch, false)
            }
        }
    }

    /// Reads connection `i` and answers what it completed, deciding as at `at` (nonces, the
    /// rate limit) with deadlines from `now`; true when a request was handled (`out` counts
    /// it). False leaves the connection waiting; it may have been closed.
    pub(super) fn service(&mut self, i: usize, at: u64, now: u64, out: &mut Polled) -> bool {
        let Some(c) = self.conns.get_mut(i) else {
            return false;
        };
        if c.writing() {
            if c.flush(now) == Output::Gone {
                self.close(i);
            }
            return false;
        }
        let peer = c.peer;
        let (status, headers, close, accepted) = match c.read() {
            Input::Pending => return false,
            Input::Gone => {
                self.close(i);
                return false;
            }
            Input::Bad(e) => {
                self.warn(at, format_args!("from {peer} refused: {e}"));
                (e.status(), Vec::new(), true, false)
            }
            Input::Request(req) => {
                let last = c.last_request();
                let (status, headers, accepted) = self.decide(&req, peer, at);
                (status, headers, req.close || last, accepted)
            }
        };
        if status != 200 {
            // Before the answer leaves: whoever sees the answer finds the line.
            log::debug!("connection request: answered {status}");
        }
        if accepted {
            out.accepted += 1;
        } else {
            out.refused += 1;
        }
        let answer = response(status, &headers, close);
        if let Some(c) = self.conns.get_mut(i) {
            if c.answer(answer, close, now) == Output::Gone {
                self.close(i);
            }
        }
        true
    }
}
