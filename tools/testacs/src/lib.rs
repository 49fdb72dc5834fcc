//! A small scripted ACS on 127.0.0.1 for cwmpd's demo and integration tests.
//!
//! It answers Informs with InformResponse (and a session cookie), sends the ACS requests
//! queued with [`Acs::push`] one per CPE POST, ends the session with 204 when the script is
//! empty, and records everything: each Inform's events and parameters, each CPE response,
//! which TCP connection carried each request and whether the session cookie came back.
//! It can require HTTP Digest from the CPE and sends Connection Requests with Digest.

pub mod dom;
pub mod files;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cwmpd::http::digest::{self, Scheme, Verifier};
pub use dom::Element;

/// One Inform as the ACS saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inform {
    /// (EventCode, CommandKey) pairs.
    pub events: Vec<(String, String)>,
    /// ParameterList (name, value).
    pub params: Vec<(String, String)>,
    /// RetryCount.
    pub retry_count: u32,
    /// The session number the ACS gave it.
    pub session: u32,
    /// When it arrived.
    pub at: Instant,
    /// The whole envelope as sent.
    pub raw: String,
}

impl Inform {
    /// Event codes only.
    pub fn codes(&self) -> Vec<String> {
        self.events.iter().map(|(c, _)| c.clone()).collect()
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A message the CPE sent in answer to an ACS request.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Local name of the body element (`GetParameterValuesResponse`, `Fault` …).
    pub name: String,
    /// The parsed body element.
    pub body: Element,
    /// Raw bytes.
    pub raw: String,
    /// When it arrived.
    pub at: Instant,
    /// How many requests had arrived with it (its own included).
    pub request: usize,
}

impl Reply {
    /// `Name = Value` pairs of a ParameterList (GetParameterValuesResponse).
    pub fn values(&self) -> Vec<(String, String)> {
        self.body
            .child("ParameterList")
            .map(|l| {
                l.children
                    .iter()
                    .map(|p| {
                        (
                            p.child("Name").map(|n| n.text.clone()).unwrap_or_default(),
                            p.child("Value").map(|v| v.text.clone()).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The CWMP fault code of a Fault reply.
    pub fn fault_code(&self) -> Option<u32> {
        self.body
            .child("detail")?
            .child("Fault")?
            .child("FaultCode")?
            .text
            .trim()
            .parse()
            .ok()
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<String>,
    informs: Vec<Inform>,
    replies: Vec<Reply>,
    /// Requests seen: (session, connection).
    requests: Vec<(u32, u64)>,
    cookie_errors: u32,
    session: u32,
    fail_informs: u32,
    cr_url: Option<String>,
    hold_requests: bool,
    /// The CWMP namespace to answer in, when set; else the one of the CPE's Inform.
    forced_ns: Option<String>,
    /// The namespace of the current session.
    session_ns: String,
    /// Sessions ended with 204 (the CPE had nothing more to send, the script was empty).
    ended: usize,
    /// Sent instead of ending a session when the script is empty (see [`Acs::filler`]).
    filler: Option<String>,
}

/// The test ACS.
pub struct Acs {
    addr: SocketAddr,
    shared: Arc<(Mutex<State>, Condvar)>,
}

fn envelope(id: u32, body: &str, hold: bool, ns: &str) -> String {
    let hold = if hold {
        "<cwmp:HoldRequests soap-env:mustUnderstand=\"1\">1</cwmp:HoldRequests>"
    } else {
        ""
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:cwmp=\"{ns}\"><soap-env:Header>\
         <cwmp:ID soap-env:mustUnderstand=\"1\">acs-{id}</cwmp:ID>{hold}</soap-env:Header><soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
    )
}

fn http(status: &str, extra: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nContent-Length: {}\r\n{extra}\r\n{body}", body.len())
}

fn inform_of(body: &Element, session: u32, raw: &[u8]) -> Inform {
    let text = |e: &Element, n: &str| e.child(n).map(|c| c.text.clone()).unwrap_or_default();
    Inform {
        events: body
            .child("Event")
            .map(|ev| {
                ev.children
                    .iter()
                    .map(|e| (text(e, "EventCode"), text(e, "CommandKey")))
                    .collect()
            })
            .unwrap_or_default(),
        params: body
            .child("ParameterList")
            .map(|l| {
                l.children
                    .iter()
                    .map(|p| (text(p, "Name"), text(p, "Value")))
                    .collect()
            })
            .unwrap_or_default(),
        retry_count: text(body, "RetryCount").trim().parse().unwrap_or(0),
        session,
        at: Instant::now(),
        raw: String::from_utf8_lossy(raw).into_owned(),
    }
}

impl Acs {
    /// Starts the ACS on an ephemeral port (or `port`); `auth` makes it require Digest.
    pub fn start(port: u16, auth: Option<(&str, &str)>) -> std::io::Result<Acs> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let verifier =
            auth.map(|(u, p)| Arc::new(Mutex::new(Verifier::new(u, p, "testacs", 300_000))));
        let s2 = shared.clone();
        let started = Instant::now();
        thread::spawn(move || {
            for (n, stream) in listener.incoming().flatten().enumerate() {
                let shared = s2.clone();
                let verifier = verifier.clone();
                let id = n as u64 + 1;
                thread::spawn(move || serve(stream, id, shared, verifier, started));
            }
        });
        Ok(Acs { addr, shared })
    }

    /// The ACS URL for cwmpd's config.
    pub fn url(&self) -> String {
        format!("http://{}/acs", self.addr)
    }

    /// Queues an ACS request body element (e.g. `<cwmp:GetRPCMethods/>`).
    pub fn push(&self, body: &str) {
        self.shared
            .0
            .lock()
            .map(|mut s| s.script.push_back(body.to_string()))
            .ok();
    }

    /// While `Some`, a session whose script is empty gets this request instead of its end:
    /// a session that lasts until the test says so (`None`).
    pub fn filler(&self, body: Option<&str>) {
        self.shared
            .0
            .lock()
            .map(|mut s| s.filler = body.map(str::to_string))
            .ok();
    }

    /// Answers the next `n` Informs with HTTP 500 (to exercise retries).
    pub fn fail_informs(&self, n: u32) {
        self.shared.0.lock().map(|mut s| s.fail_informs = n).ok();
    }

    /// Answers every session in this CWMP namespace (`urn:dslforum-org:cwmp-1-0` …) instead
    /// of the one of the CPE's Inform.
    pub fn answer_in(&self, ns: &str) {
        self.shared
            .0
            .lock()
            .map(|mut s| s.forced_ns = Some(ns.to_string()))
            .ok();
    }

    /// Sends HoldRequests=1 in InformResponses.
    pub fn hold_requests(&self, on: bool) {
        self.shared.0.lock().map(|mut s| s.hold_requests = on).ok();
    }

    /// Every Inform so far.
    pub fn informs(&self) -> Vec<Inform> {
        self.shared
            .0
            .lock()
            .map(|s| s.informs.clone())
            .unwrap_or_default()
    }

    /// Every CPE reply so far.
    pub fn replies(&self) -> Vec<Reply> {
        self.shared
            .0
            .lock()
            .map(|s| s.replies.clone())
            .unwrap_or_default()
    }

    /// (session, TCP connection) of every request.
    pub fn requests(&self) -> Vec<(u32, u64)> {
        self.shared
            .0
            .lock()
            .map(|s| s.requests.clone())
            .unwrap_or_default()
    }

    /// Requests that did not carry their session's cookie.
    pub fn cookie_errors(&self) -> u32 {
        self.shared.0.lock().map(|s| s.cookie_errors).unwrap_or(0)
    }

    /// The ConnectionRequestURL from the last Inform.
    pub fn cr_url(&self) -> Option<String> {
        self.shared.0.lock().ok().and_then(|s| s.cr_url.clone())
    }

    /// Waits until `f` holds for the state, or the timeout passes.
    pub fn wait(&self, timeout: Duration, f: impl Fn(&[Inform], &[Reply], usize) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.shared;
        let Ok(mut g) = m.lock() else { return false };
        loop {
            if f(&g.informs, &g.replies, g.script.len()) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            match cv.wait_timeout(g, deadline - now) {
                Ok((ng, _)) => g = ng,
                Err(_) => return false,
            }
        }
    }

    /// Waits for at least `n` Informs.
    pub fn wait_informs(&self, n: usize, timeout: Duration) -> bool {
        self.wait(timeout, |i, _, _| i.len() >= n)
    }

    /// Waits until `f` holds for (requests so far, sessions ended), or the timeout passes.
    fn wait_counts(&self, timeout: Duration, f: impl Fn(usize, usize) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.shared;
        let Ok(mut g) = m.lock() else { return false };
        while !f(g.requests.len(), g.ended) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            match cv.wait_timeout(g, deadline - now) {
                Ok((ng, _)) => g = ng,
                Err(_) => return false,
            }
        }
        true
    }

    /// Waits for at least `n` requests (see [`Acs::requests`]).
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait_counts(timeout, |r, _| r >= n)
    }

    /// Sessions the ACS ended so far: answered 204 with nothing left in the script.
    pub fn ended(&self) -> usize {
        self.shared.0.lock().map(|s| s.ended).unwrap_or(0)
    }

    /// Waits until the ACS has ended at least `n` sessions.
    pub fn wait_ended(&self, n: usize, timeout: Duration) -> bool {
        self.wait_counts(timeout, |_, e| e >= n)
    }

    /// Sends a Connection Request to `url` with Digest credentials; returns the final status.
    pub fn connection_request(url: &str, user: &str, pass: &str) -> std::io::Result<u16> {
        let u = cwmpd::http::Url::parse(url).map_err(std::io::Error::other)?;
        let ask = |auth: Option<String>| -> std::io::Result<(u16, Vec<String>)> {
            let mut s = TcpStream::connect(u.authority())?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            let a = auth
                .map(|a| format!("Authorization: {a}\r\n"))
                .unwrap_or_default();
            write!(
                s,
                "GET {} HTTP/1.1\r\nHost: {}\r\n{a}Connection: close\r\n\r\n",
                u.path,
                u.authority()
            )?;
            let mut text = String::new();
            let _ = s.read_to_string(&mut text);
            let status = text
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let ch = text
                .lines()
                .filter_map(|l| {
                    l.split_once(": ")
                        .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
                        .map(|(_, v)| v.to_string())
                })
                .collect();
            Ok((status, ch))
        };
        let (status, ch) = ask(None)?;
        if status != 401 {
            return Ok(status);
        }
        let Some(c) = ch
            .iter()
            .flat_map(|h| digest::parse_challenges(h))
            .find_map(|s| {
                if let Scheme::Digest(c) = s {
                    Some(c)
                } else {
                    None
                }
            })
        else {
            return Ok(status);
        };
        let auth = digest::authorization(&c, user, pass, "GET", &u.path, 1, &digest::random_hex(8));
        Ok(ask(Some(auth))?.0)
    }
}

/// A request as the test ACS needs it: path, headers (lower-cased names), body.
struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        if h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len.min(dom::MAX_BODY_BYTES)];
    r.read_exact(&mut body).ok()?;
    Some(Request {
        path,
        headers,
        body,
    })
}

fn serve(
    stream: TcpStream,
    conn: u64,
    shared: Arc<(Mutex<State>, Condvar)>,
    verifier: Option<Arc<Mutex<Verifier>>>,
    started: Instant,
) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut r = BufReader::new(read_half);
    let mut w = stream;
    let mut session_of_conn = 0u32;
    while let Some(Request {
        path,
        headers,
        body,
    }) = read_request(&mut r)
    {
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        if let Some(v) = &verifier {
            // One clock for every connection: the nonces carry its time.
            let verdict = v
                .lock()
                .map(|mut v| {
                    v.verify(
                        get("authorization").as_deref(),
                        "POST",
                        &path,
                        started.elapsed().as_millis() as u64,
                    )
                })
                .unwrap_or(Err(digest::AuthError::Missing));
            if let Err(e) = verdict {
                let stale = e == digest::AuthError::Stale;
                let ch: Vec<String> = v
                    .lock()
                    .map(|mut v| v.challenges(started.elapsed().as_millis() as u64, stale))
                    .unwrap_or_default();
                let extra: String = ch
                    .iter()
                    .map(|c| format!("WWW-Authenticate: {c}\r\n"))
                    .collect();
                if w.write_all(http("401 Unauthorized", &extra, "").as_bytes())
                    .is_err()
                {
                    return;
                }
                continue;
            }
        }
        let (m, cv) = &*shared;
        let Ok(mut st) = m.lock() else { return };
        let parsed = if body.iter().all(|b| b.is_ascii_whitespace()) {
            None
        } else {
            dom::parse(&body).ok()
        };
        let element = parsed
            .as_ref()
            .and_then(|env| env.child("Body"))
            .and_then(|b| b.children.first())
            .cloned();
        let response = match element {
            Some(el) if el.name == "Inform" => {
                if st.fail_informs > 0 {
                    st.fail_informs -= 1;
                    drop(st);
                    cv.notify_all();
                    let _ = w.write_all(
                        http("500 Internal Server Error", "Connection: close\r\n", "").as_bytes(),
                    );
                    return;
                }
                st.session += 1;
                session_of_conn = st.session;
                let inform = inform_of(&el, st.session, &body);
                if let Some(u) = inform.param("Device.ManagementServer.ConnectionRequestURL") {
                    st.cr_url = Some(u.to_string());
                }
                st.informs.push(inform);
                st.requests.push((session_of_conn, conn));
                // Like GenieACS: answer in the namespace the CPE used, unless told otherwise.
                st.session_ns = st.forced_ns.clone().unwrap_or_else(|| el.ns.clone());
                let body = envelope(
                    st.session * 1000,
                    "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
                    st.hold_requests,
                    &st.session_ns,
                );
                http(
                    "200 OK",
                    &format!("Set-Cookie: sid={}; Path=/\r\n", st.session),
                    &body,
                )
            }
            other => {
                st.requests.push((session_of_conn, conn));
                let cookie = get("cookie").unwrap_or_default();
                if session_of_conn == 0 || !cookie.contains(&format!("sid={session_of_conn}")) {
                    st.cookie_errors += 1;
                }
                let mut reply_now = None;
                if let Some(el) = other {
                    if el.name == "TransferComplete" || el.name == "AutonomousTransferComplete" {
                        reply_now = Some(envelope(
                            0,
                            &format!("<cwmp:{}Response/>", el.name),
                            false,
                            &st.session_ns,
                        ));
                    }
                    let request = st.requests.len();
                    st.replies.push(Reply {
                        name: el.name.clone(),
                        body: el,
                        raw: String::from_utf8_lossy(&body).into_owned(),
                        at: Instant::now(),
                        request,
                    });
                }
                // A scripted request waits while a transfer report is answered.
                let next = match reply_now {
                    Some(_) => None,
                    None => st.script.pop_front().or_else(|| st.filler.clone()),
                };
                match (reply_now, next) {
                    (Some(r), _) => http("200 OK", "", &r),
                    (None, Some(req)) => {
                        let n = st.requests.len() as u32;
                        http("200 OK", "", &envelope(n, &req, false, &st.session_ns))
                    }
                    (None, None) => {
                        st.ended += 1;
                        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".to_string()
                    }
                }
            }
        };
        drop(st);
        cv.notify_all();
        if w.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
