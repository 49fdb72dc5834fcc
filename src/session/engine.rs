//! One CWMP session as a state machine (TR-069 §3.7). It is fed the ACS's HTTP answers and
//! says what to POST next; it opens no sockets and reads no clock.
//!
//! ```text
//!   start ──Inform──▶ ExpectInformResponse ──InformResponse──┐
//!                                                             ▼
//!         ┌──── CPE requests pending and not HoldRequests ──▶ ExpectRequestResponse
//!         │                                                    │ (TransferCompleteResponse …)
//!         ▼                                                    ▼
//!   send empty POST ──▶ ExpectAcsRequest ◀──── our response to each ACS request
//!                          │ 204 / empty 200
//!                          ▼
//!                         Done
//! ```
//!
//! Faults and broken answers end the session as failed; whether the Inform was answered is
//! reported so the caller can retire delivered events (A.3.3.1).

use crate::rpc;
use crate::soap::{self, AcsMessage, CpeMessage, CwmpVersion, Header};

/// Most ACS requests answered in one session (a runaway ACS cannot keep us forever).
pub const MAX_EXCHANGES: usize = 10_000;

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// POST these bytes (empty for the empty POST).
    Send(Vec<u8>),
    /// The session is over.
    Done(Outcome),
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The ACS answered the Inform (its events are delivered).
    pub informed: bool,
    /// The session ended as the protocol says (not by a fault or a broken answer).
    pub success: bool,
    /// CPE requests the ACS acknowledged, by index into the list given to [`Engine::new`].
    pub acknowledged: Vec<usize>,
    /// Why it failed, for the log.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ExpectInformResponse,
    ExpectRequestResponse(usize),
    ExpectAcsRequest,
    Done,
}

/// The session engine.
pub struct Engine {
    state: State,
    version: CwmpVersion,
    requests: Vec<CpeMessage>,
    next_request: usize,
    hold: bool,
    informed: bool,
    acknowledged: Vec<usize>,
    exchanges: usize,
    id: u32,
}

impl Engine {
    /// A session that will send `inform`, then `requests` (TransferComplete …) in order.
    pub fn new(version: CwmpVersion, requests: Vec<CpeMessage>) -> Engine {
        Engine {
            state: State::ExpectInformResponse,
            version,
            requests,
            next_request: 0,
            hold: false,
            informed: false,
            acknowledged: Vec::new(),
            exchanges: 0,
            id: 0,
        }
    }

    /// The CWMP version in use (the ACS's, once it answered).
    pub fn version(&self) -> CwmpVersion {
        self.version
    }

    fn header(&mut self, id: Option<String>) -> Header {
        let id = id.unwrap_or_else(|| {
            self.id += 1;
            format!("cwmpd-{}", self.id)
        });
        Header {
            id: Some(id),
            ..Default::default()
        }
    }

    /// The Inform to open the session with.
    pub fn start(&mut self, inform: &CpeMessage) -> Vec<u8> {
        let mut h = self.header(None);
        h.session_timeout = Some(30);
        h.supported_versions = Some(
            CwmpVersion::ALL
                .iter()
                .map(|v| v.label())
                .collect::<Vec<_>>()
                .join(","),
        );
        soap::encode(inform, &h, self.version)
    }

    fn fail(&mut self, why: String) -> Step {
        self.state = State::Done;
        Step::Done(Outcome {
            informed: self.informed,
            success: false,
            acknowledged: std::mem::take(&mut self.acknowledged),
            error: Some(why),
        })
    }

    fn finish(&mut self) -> Step {
        self.state = State::Done;
        Step::Done(Outcome {
            informed: self.informed,
            success: true,
            acknowledged: std::mem::take(&mut self.acknowledged),
            error: None,
        })
    }

    /// After the Inform and each acknowledged request: our next request, or the empty POST.
    fn send_next(&mut self) -> Step {
        if !self.hold && self.next_request < self.requests.len() {
            let i = self.next_request;
            self.next_request += 1;
            self.state = State::ExpectRequestResponse(i);
            let h = self.header(None);
            return Step::Send(soap::encode(&self.requests[i], &h, self.version));
        }
        self.state = State::ExpectAcsRequest;
        Step::Send(Vec::new())
    }

    /// Feeds the ACS's HTTP answer; `handle` answers ACS requests.
    pub fn on_response(&mut self, status: u16, body: &[u8], ctx: &mut rpc::Context) -> Step {
        if self.state == State::Done {
            return self.fail("session already ended".into());
        }
        let empty =
            status == 204 || (status == 200 && body.iter().all(|b| b.is_ascii_whitespace()));
        if status != 200 && status != 204 {
            return self.fail(format!("ACS answered HTTP {status}"));
        }
        let decoded = if empty {
            None
        } else {
            match soap::decode(body) {
                Ok(d) => Some(d),
                Err(e) => return self.fail(e.to_string()),
            }
        };
        if let Some(d) = &decoded {
            if let Some(h) = d.header.hold_requests {
                self.hold = h;
            }
        }
        match self.state {
            State::ExpectInformResponse => {
                match decoded.and_then(|d| d.message.map(|m| (m, d.version))) {
                    Some((AcsMessage::InformResponse { .. }, v)) => {
                        self.informed = true;
                        if let Some(v) = v {
                            self.version = v;
                        }
                        self.send_next()
                    }
                    Some((AcsMessage::Fault { code, string }, _)) => {
                        self.fail(format!("ACS fault {code} to Inform: {string}"))
                    }
                    Some((m, _)) => self.fail(format!("expected InformResponse, got {}", m.name())),
                    None => self.fail("empty answer to Inform".into()),
                }
            }
            State::ExpectRequestResponse(i) => match decoded.and_then(|d| d.message) {
                Some(
                    AcsMessage::TransferCompleteResponse
                    | AcsMessage::AutonomousTransferCompleteResponse
                    | AcsMessage::GetRPCMethodsResponse { .. },
                ) => {
                    self.acknowledged.push(i);
                    self.send_next()
                }
                Some(AcsMessage::Fault { code, string }) => {
                    // The request stays pending for a later session; this one goes on.
                    log::warn!("session: ACS fault {code} to our request: {string}");
                    self.state = State::ExpectAcsRequest;
                    Step::Send(Vec::new())
                }
                Some(m) => self.fail(format!(
                    "expected a response to our request, got {}",
                    m.name()
                )),
                None => self.fail("empty answer to our request".into()),
            },
            State::ExpectAcsRequest => {
                let Some(d) = decoded else {
                    // The ACS has nothing more. Requests it held back may go now (A.3.1.2).
                    if !self.hold && self.next_request < self.requests.len() {
                        return self.send_next();
                    }
                    return self.finish();
                };
                self.exchanges += 1;
                if self.exchanges > MAX_EXCHANGES {
                    return self.fail(format!("more than {MAX_EXCHANGES} requests in one session"));
                }
                if let Some(v) = d.version {
                    self.version = v;
                }
                let id = d.header.id.clone();
                let answer = match (d.message, d.invalid) {
                    (Some(AcsMessage::Fault { code, string }), _) => {
                        return self.fail(format!("ACS fault {code}: {string}"))
                    }
                    (Some(m), _) => rpc::handle(m, ctx),
                    (None, Some((rpc, e))) => {
                        log::warn!("session: {rpc}: {e}");
                        CpeMessage::Fault(crate::fault::Fault::new(
                            crate::fault::FaultCode::InvalidArguments,
                            e.to_string(),
                        ))
                    }
                    (None, None) => return self.finish(),
                };
                let h = self.header(id);
                Step::Send(soap::encode(&answer, &h, self.version))
            }
            State::Done => self.fail("session already ended".into()),
        }
    }
}
