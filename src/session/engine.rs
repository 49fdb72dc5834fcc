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

/// A request of the CPE's own (TransferComplete …) waiting to go in a session. It is made
/// for the session's CWMP version when it goes; `None` means that version has no such
/// message (AutonomousTransferComplete before 1.1), so it waits for another session.
pub type Request = Box<dyn Fn(CwmpVersion) -> Option<CpeMessage>>;

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
    requests: Vec<Request>,
    next_request: usize,
    hold: bool,
    informed: bool,
    acknowledged: Vec<usize>,
    exchanges: usize,
    id: u32,
}

impl Engine {
    /// A session that will send `inform` in `version` (cwmpd offers its highest, TR-069
    /// §3.7.4), then `requests` in order, in the version the ACS chose.
    pub fn new(version: CwmpVersion, requests: Vec<Request>) -> Engine {
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

    /// True once the ACS answered the Inform (its events are delivered).
    pub fn informed(&self) -> bool {
        self.informed
    }

    /// CPE requests acknowledged so far, by index into the list given to [`Engine::new`].
    pub fn acknowledged(&self) -> &[usize] {
        &self.acknowledged
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

    /// Moves to `next` (logged at debug: the session's state transitions).
    fn enter(&mut self, next: State) {
        if self.state != next {
            log::debug!("session: {:?} → {next:?}", self.state);
        }
        self.state = next;
    }

    fn fail(&mut self, why: String) -> Step {
        self.enter(State::Done);
        Step::Done(Outcome {
            informed: self.informed,
            success: false,
            acknowledged: std::mem::take(&mut self.acknowledged),
            error: Some(why),
        })
    }

    fn finish(&mut self) -> Step {
        self.enter(State::Done);
        Step::Done(Outcome {
            informed: self.informed,
            success: true,
            acknowledged: std::mem::take(&mut self.acknowledged),
            error: None,
        })
    }

    /// After the Inform and each acknowledged request: our next request, or the empty POST.
    fn send_next(&mut self) -> Step {
        while !self.hold && self.next_request < self.requests.len() {
            let i = self.next_request;
            self.next_request += 1;
            let Some(msg) = self.requests.get(i).and_then(|r| r(self.version)) else {
                log::info!(
                    "session: a request waits: CWMP {} has no message for it",
                    self.version.label()
                );
                continue;
            };
            self.enter(State::ExpectRequestResponse(i));
            let h = self.header(None);
            return Step::Send(soap::encode_owned(msg, &h, self.version));
        }
        self.enter(State::ExpectAcsRequest);
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
        // TR-069 A.4.2.2: HoldRequests holds only for the message that carries it; a message
        // without it (or no message at all) lets the CPE send requests again.
        self.hold = decoded
            .as_ref()
            .and_then(|d| d.header.hold_requests)
            .unwrap_or(false);
        match self.state {
            State::ExpectInformResponse => {
                // TR-069 A.2.2: UseCWMPVersion names the version for the rest of the session;
                // without it the ACS's namespace decides.
                let chosen = decoded
                    .as_ref()
                    .and_then(|d| d.header.use_version.as_deref())
                    .and_then(|u| CwmpVersion::ALL.iter().copied().find(|v| v.label() == u));
                match decoded.and_then(|d| d.message.map(|m| (m, d.version))) {
                    Some((AcsMessage::InformResponse { .. }, v)) => {
                        self.informed = true;
                        if let Some(v) = chosen.or(v) {
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
                    self.enter(State::ExpectAcsRequest);
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
                    (Some(m), _) => rpc::handle(m, self.version, ctx),
                    (None, Some((rpc, e))) => {
                        log::warn!("session: {rpc}: {e}");
                        CpeMessage::Fault(crate::soap::fault::Fault::from(&e))
                    }
                    (None, None) => return self.finish(),
                };
                let h = self.header(id);
                // Consumed: a GetParameterValuesResponse's values become the envelope.
                Step::Send(soap::encode_owned(answer, &h, self.version))
            }
            State::Done => self.fail("session already ended".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::device::Device;
    use crate::rpc::{Actions, Context};

    fn device(tag: &str) -> (Device, std::path::PathBuf) {
        let root = env!("CARGO_MANIFEST_DIR");
        let dir = std::env::temp_dir().join(format!("cwmpd-engine-{tag}-{}", std::process::id()));
        let text = format!("[acs]\nurl = \"http://127.0.0.1:1/\"\n[paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{root}/board/linux.toml\"\nstate_dir = \"{}\"\n", dir.display());
        (
            Device::open(&Config::parse(&text, "t", std::path::Path::new("/")).unwrap()).unwrap(),
            dir,
        )
    }

    /// What a session borrows besides the model.
    #[derive(Default)]
    struct Parts {
        actions: Actions,
        pending: crate::rpc::Pending,
        journal: crate::rpc::NoJournal,
        board: crate::board::TransferBoard,
    }

    impl Parts {
        fn ctx<'a>(&'a mut self, model: &'a mut crate::model::Model) -> Context<'a> {
            Context {
                model,
                actions: &mut self.actions,
                pending: &mut self.pending,
                journal: &mut self.journal,
                board: &self.board,
                now: 0,
            }
        }
    }

    fn acs(body: &str, hold: bool) -> Vec<u8> {
        let h = if hold {
            "<cwmp:HoldRequests>1</cwmp:HoldRequests>"
        } else {
            ""
        };
        format!("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"><s:Header><cwmp:ID>a1</cwmp:ID>{h}</s:Header><s:Body>{body}</s:Body></s:Envelope>").into_bytes()
    }

    const INFORM_RESPONSE: &str =
        "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>";
    const GPV: &str = "<cwmp:GetParameterValues><ParameterNames><string>Device.DeviceInfo.UpTime</string></ParameterNames></cwmp:GetParameterValues>";

    fn sent(step: Step) -> String {
        match step {
            Step::Send(b) => String::from_utf8(b).unwrap(),
            Step::Done(o) => panic!("session ended: {o:?}"),
        }
    }

    fn done(step: Step) -> Outcome {
        match step {
            Step::Done(o) => o,
            Step::Send(b) => panic!("still sending {}", String::from_utf8_lossy(&b)),
        }
    }

    #[test]
    fn inform_requests_empty_post_and_end() {
        let (mut dev, dir) = device("basic");
        let mut parts = Parts::default();
        let mut ctx = parts.ctx(&mut dev.model);
        let mut e = Engine::new(CwmpVersion::V1_0, Vec::new());
        let inform = crate::session::inform::build(
            ctx.model,
            &[crate::event::Event::new("1 BOOT")],
            0,
            "2024-01-01T00:00:00Z",
            &[],
        );
        assert!(String::from_utf8(e.start(&inform))
            .unwrap()
            .contains("<EventCode>1 BOOT</EventCode>"));
        assert_eq!(
            sent(e.on_response(200, &acs(INFORM_RESPONSE, false), &mut ctx)),
            "",
            "empty POST"
        );
        let resp = sent(e.on_response(200, &acs(GPV, false), &mut ctx));
        assert!(
            resp.contains("GetParameterValuesResponse") && resp.contains(">a1</cwmp:ID>"),
            "answer echoes the ID"
        );
        let o = done(e.on_response(204, b"", &mut ctx));
        assert!(o.informed && o.success);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn hold_requests_delays_cpe_requests_until_lifted() {
        let (mut dev, dir) = device("hold");
        let mut parts = Parts::default();
        let mut ctx = parts.ctx(&mut dev.model);
        let mut e = Engine::new(
            CwmpVersion::V1_0,
            vec![Box::new(|_| Some(CpeMessage::GetRPCMethods))],
        );
        e.start(&CpeMessage::GetRPCMethods);
        assert_eq!(
            sent(e.on_response(200, &acs(INFORM_RESPONSE, true), &mut ctx)),
            "",
            "held: empty POST instead of our request"
        );
        assert!(sent(e.on_response(200, &acs(GPV, true), &mut ctx))
            .contains("GetParameterValuesResponse"));
        // The ACS lifts HoldRequests on its next request, then has nothing more: our request goes.
        assert!(sent(e.on_response(200, &acs(GPV, false), &mut ctx))
            .contains("GetParameterValuesResponse"));
        assert!(sent(e.on_response(204, b"", &mut ctx)).contains("<cwmp:GetRPCMethods>"));
        let methods = "<cwmp:GetRPCMethodsResponse><MethodList><string>Inform</string></MethodList></cwmp:GetRPCMethodsResponse>";
        assert_eq!(sent(e.on_response(200, &acs(methods, false), &mut ctx)), "");
        let o = done(e.on_response(204, b"", &mut ctx));
        assert_eq!(o.acknowledged, vec![0]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_request_the_acs_faults_stays_pending() {
        let (mut dev, dir) = device("held");
        let mut parts = Parts::default();
        let mut ctx = parts.ctx(&mut dev.model);
        let mut e = Engine::new(
            CwmpVersion::V1_0,
            vec![Box::new(|_| Some(CpeMessage::GetRPCMethods))],
        );
        e.start(&CpeMessage::GetRPCMethods);
        assert!(
            sent(e.on_response(200, &acs(INFORM_RESPONSE, false), &mut ctx))
                .contains("<cwmp:GetRPCMethods>")
        );
        let fault = "<s:Fault><faultcode>Server</faultcode><faultstring>x</faultstring><detail><cwmp:Fault><FaultCode>8005</FaultCode><FaultString>retry</FaultString></cwmp:Fault></detail></s:Fault>";
        assert_eq!(
            sent(e.on_response(200, &acs(fault, false), &mut ctx)),
            "",
            "the session goes on with the empty POST"
        );
        let o = done(e.on_response(204, b"", &mut ctx));
        assert!(o.success && o.acknowledged.is_empty(), "{o:?}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_acs_namespace_and_use_cwmp_version_choose_the_version() {
        let (mut dev, dir) = device("version");
        let mut parts = Parts::default();
        let mut ctx = parts.ctx(&mut dev.model);
        let mut e = Engine::new(CwmpVersion::V1_0, Vec::new());
        e.start(&CpeMessage::GetRPCMethods);
        let v12 = String::from_utf8(acs(INFORM_RESPONSE, false))
            .unwrap()
            .replace("cwmp-1-0", "cwmp-1-2");
        e.on_response(200, v12.as_bytes(), &mut ctx);
        assert_eq!(e.version(), CwmpVersion::V1_2);
        let mut e = Engine::new(CwmpVersion::V1_0, Vec::new());
        e.start(&CpeMessage::GetRPCMethods);
        let with_use = String::from_utf8(acs(INFORM_RESPONSE, false))
            .unwrap()
            .replace(
                "<cwmp:ID>a1</cwmp:ID>",
                "<cwmp:ID>a1</cwmp:ID><cwmp:UseCWMPVersion>1.4</cwmp:UseCWMPVersion>",
            );
        e.on_response(200, with_use.as_bytes(), &mut ctx);
        assert_eq!(e.version(), CwmpVersion::V1_4);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn failures_end_the_session() {
        let (mut dev, dir) = device("fail");
        let mut parts = Parts::default();
        let mut ctx = parts.ctx(&mut dev.model);
        for (status, body) in [
            (500, Vec::new()),
            (200, b"garbage".to_vec()),
            (200, acs("<s:Fault><faultcode>Server</faultcode><faultstring>x</faultstring><detail><cwmp:Fault><FaultCode>8005</FaultCode><FaultString>retry</FaultString></cwmp:Fault></detail></s:Fault>", false)),
            (204, Vec::new()),
            (200, acs(GPV, false)),
        ] {
            let mut e = Engine::new(CwmpVersion::V1_0, Vec::new());
            e.start(&CpeMessage::GetRPCMethods);
            let o = done(e.on_response(status, &body, &mut ctx));
            assert!(!o.informed && !o.success && o.error.is_some(), "{status}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_arguments_get_9003_with_the_requests_id() {
        let (mut dev, dir) = device("args");
        let mut parts = Parts::default();
        let mut ctx = parts.ctx(&mut dev.model);
        let mut e = Engine::new(CwmpVersion::V1_0, Vec::new());
        e.start(&CpeMessage::GetRPCMethods);
        e.on_response(200, &acs(INFORM_RESPONSE, false), &mut ctx);
        let bad = "<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>maybe</NextLevel></cwmp:GetParameterNames>";
        let r = sent(e.on_response(200, &acs(bad, false), &mut ctx));
        assert!(
            r.contains("<FaultCode>9003</FaultCode>") && r.contains(">a1</cwmp:ID>"),
            "{r}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
