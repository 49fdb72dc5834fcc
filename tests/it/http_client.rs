//! The HTTP client, file transfers, TR-143 diagnostics and the real agent against hostile
//! servers on 127.0.0.1 (issue 13 §2): an ACS that drips its answer, one that keeps a session
//! going, one that answers every request with `401 stale=true`, redirects that would carry
//! credentials to another origin or from https to http, Basic over plain http, a resolver
//! that never answers, and `100 Continue` before a chunked answer with trailers. Every server
//! here is a raw socket written by the test; every wait has a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::agent::Agent;
use crate::support::netns::Netns;
use crate::support::wait::{until, T};
use crate::support::{root, TempDir};
use cwmpd::http::resolve::{Lookup, ResolveError, Resolver};
use cwmpd::http::{AuthFailure, Client, Error, FetchError, Settings, Sink, Timeout};
use cwmpd::transfer::error::TransferError;
use cwmpd::transfer::{run, Direction, Job, Phase};

/// One request as a raw server read it.
#[derive(Debug, Clone)]
struct Req {
    conn: usize,
    at: Instant,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Answer = dyn Fn(usize, &Req, &mut TcpStream) -> bool + Send + Sync;

/// A raw HTTP server: every request is read whole and handed, with its number, to the
/// answer, which writes what it likes (and says whether the connection goes on).
struct Raw {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
}

impl Raw {
    fn start(answer: impl Fn(usize, &Req, &mut TcpStream) -> bool + Send + Sync + 'static) -> Raw {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let answer: Arc<Answer> = Arc::new(answer);
        let (s2, st2) = (seen.clone(), stop.clone());
        let count = Arc::new(AtomicUsize::new(0));
        thread::spawn(move || {
            for (conn, stream) in l.incoming().enumerate() {
                if st2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (seen, answer, count) = (s2.clone(), answer.clone(), count.clone());
                thread::spawn(move || serve(conn + 1, stream, &seen, &*answer, &count));
            }
        });
        Raw { addr, seen, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Req> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived.
    fn wait_for(&self, n: usize, within: Duration) -> Vec<Req> {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.seen();
            if seen.len() >= n || Instant::now() > deadline {
                return seen;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    conn: usize,
    stream: TcpStream,
    seen: &Mutex<Vec<Req>>,
    answer: &Answer,
    count: &AtomicUsize,
) {
    // Bounded: a client that goes quiet ends this thread.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut r = BufReader::new(read_half);
    let mut w = stream;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
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
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let req = Req {
            conn,
            at: Instant::now(),
            path,
            headers,
            body,
        };
        seen.lock().unwrap().push(req.clone());
        let n = count.fetch_add(1, Ordering::SeqCst);
        if !answer(n, &req, &mut w) {
            return;
        }
    }
}

fn ok(body: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}

fn send(w: &mut TcpStream, text: &str) -> bool {
    w.write_all(text.as_bytes()).is_ok()
}

/// Writes `bytes` one at a time, `gap` apart, until done or the client is gone; returns how
/// long the client stayed.
fn drip(w: &mut TcpStream, bytes: &[u8], gap: Duration) -> Duration {
    let started = Instant::now();
    for b in bytes {
        if w.write_all(&[*b]).is_err() || closed(w) {
            break;
        }
        thread::sleep(gap);
    }
    started.elapsed()
}

/// The peer has closed (a read would return end of file at once).
fn closed(w: &TcpStream) -> bool {
    let _ = w.set_nonblocking(true);
    let mut b = [0u8; 1];
    let gone = match w.peek(&mut b) {
        Ok(n) => n == 0,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    let _ = w.set_nonblocking(false);
    gone
}

fn settings(url: &str, timeout: Duration) -> Settings {
    Settings {
        username: "cpe".into(),
        password: "pw".into(),
        timeout,
        ..Settings::new(url)
    }
}

const STALE: &str = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"acs\", nonce=\"n{N}\", qop=\"auth\", stale=true\r\nContent-Length: 0\r\n\r\n";

fn stale(n: usize) -> String {
    STALE.replace("{N}", &n.to_string())
}

#[test]
fn a_dripping_answer_is_abandoned_at_the_round_trip_deadline() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let acs = Raw::start(move |_, _, w| {
        let mut answer = b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n".to_vec();
        answer.extend_from_slice(b"<still-coming-soon/>");
        // One byte every 50 ms: each read gets its byte long before a 400 ms timeout.
        let stayed = drip(w, &answer, Duration::from_millis(50));
        let _ = tx.lock().unwrap().send(stayed);
        false
    });
    let c = Client::new(settings(&acs.url("/acs"), Duration::from_millis(400))).unwrap();
    let started = Instant::now();
    let e = c.session().post(b"<inform/>").unwrap_err();
    assert!(
        matches!(e, Error::Timeout(Timeout::RoundTrip(d)) if d == Duration::from_millis(400)),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    let stayed = rx.recv_timeout(T).unwrap();
    assert!(
        stayed < Duration::from_millis(1200),
        "connection held {stayed:?}"
    );
}

#[test]
fn a_session_ends_at_its_deadline() {
    let acs = Raw::start(|_, _, w| {
        thread::sleep(Duration::from_millis(100));
        send(w, &ok("<rpc/>", ""))
    });
    let c = Client::new(Settings {
        session_timeout: Duration::from_millis(700),
        ..settings(&acs.url("/acs"), Duration::from_millis(500))
    })
    .unwrap();
    let mut s = c.session();
    let started = Instant::now();
    let mut answered = 0;
    let e = loop {
        match s.post(b"<rpc-response/>") {
            Ok(_) if answered < 50 => answered += 1,
            Ok(_) => panic!("the session never ended"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(e, Error::Timeout(Timeout::Session(d)) if d == Duration::from_millis(700)),
        "{e}"
    );
    assert!((3..=7).contains(&answered), "{answered} round trips");
    assert!(started.elapsed() < Duration::from_millis(1300));
}

#[test]
fn a_stale_nonce_is_retried_once_per_request() {
    let acs = Raw::start(|n, _, w| send(w, &stale(n)));
    let c = Client::new(settings(&acs.url("/acs"), Duration::from_secs(2))).unwrap();
    let e = c.session().post(b"<inform/>").unwrap_err();
    assert!(matches!(e, Error::Auth(AuthFailure::Refused(_))), "{e}");
    let seen = acs.wait_for(3, Duration::from_millis(200));
    assert_eq!(
        seen.len(),
        3,
        "without, then answered, then once for the stale nonce"
    );
    assert!(seen[0].header("authorization").is_none());
    assert!(seen[1..]
        .iter()
        .all(|r| r.header("authorization").is_some()));
}

#[test]
fn a_session_gives_up_after_a_bounded_number_of_401s() {
    // Every other answer is a stale nonce: each request succeeds at its second try.
    let acs = Raw::start(|n, _, w| {
        if n % 2 == 0 {
            send(w, &stale(n))
        } else {
            send(w, &ok("<ok/>", ""))
        }
    });
    let c = Client::new(settings(&acs.url("/acs"), Duration::from_secs(2))).unwrap();
    let mut s = c.session();
    let limit = cwmpd::http::client::MAX_UNAUTHORIZED;
    for i in 0..limit {
        assert_eq!(
            s.post(b"<x/>").map(|r| r.status).ok(),
            Some(200),
            "request {i}"
        );
    }
    let e = s.post(b"<x/>").unwrap_err();
    assert!(
        matches!(e, Error::Auth(AuthFailure::TooMany { limit: l }) if l == limit),
        "{e}"
    );
    assert_eq!(acs.seen().len(), 2 * limit + 1);
}

/// An origin that asks for Basic and redirects, once authenticated, to `to`.
fn redirecting_origin(to: String) -> Raw {
    Raw::start(move |_, r, w| {
        if r.header("authorization").is_none() {
            send(
                w,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"acs\"\r\nContent-Length: 0\r\n\r\n",
            )
        } else {
            send(
                w,
                &format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nSet-Cookie: sid=secret\r\nContent-Length: 0\r\n\r\n"),
            )
        }
    })
}

#[test]
fn credentials_and_cookies_never_follow_a_redirect_to_another_origin() {
    let other = Raw::start(|_, _, w| send(w, &ok("<elsewhere/>", "")));
    let origin = redirecting_origin(other.url("/next"));
    let c = Client::new(Settings {
        allow_basic_over_http: true,
        ..settings(&origin.url("/acs"), Duration::from_secs(2))
    })
    .unwrap();
    let mut s = c.session();
    assert_eq!(s.post(b"<a/>").unwrap().body, b"<elsewhere/>");
    assert_eq!(
        s.post(b"<b/>").unwrap().body,
        b"<elsewhere/>",
        "redirected for the session"
    );
    let at_origin = origin.seen();
    assert_eq!(at_origin.len(), 2);
    assert_eq!(at_origin[1].header("authorization"), Some("Basic Y3BlOnB3"));
    let elsewhere = other.seen();
    assert_eq!(elsewhere.len(), 2);
    for r in &elsewhere {
        assert_eq!(r.header("authorization"), None, "{r:?}");
        assert_eq!(r.header("cookie"), None, "{r:?}");
    }
    // Another origin that asks for the credentials does not get them.
    let greedy = Raw::start(|_, _, w| {
        send(
            w,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"give\"\r\nContent-Length: 0\r\n\r\n",
        )
    });
    let origin = redirecting_origin(greedy.url("/next"));
    let c = Client::new(Settings {
        allow_basic_over_http: true,
        ..settings(&origin.url("/acs"), Duration::from_secs(2))
    })
    .unwrap();
    let e = c.session().post(b"<a/>").unwrap_err();
    assert!(matches!(e, Error::Auth(AuthFailure::OtherOrigin(_))), "{e}");
    let asked = greedy.seen();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].header("authorization"), None);
}

#[test]
fn basic_is_answered_over_plain_http_only_when_allowed() {
    let acs = Raw::start(|_, r, w| {
        if r.header("authorization") == Some("Basic Y3BlOnB3") {
            send(w, &ok("<ok/>", ""))
        } else {
            send(
                w,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"acs\"\r\nContent-Length: 0\r\n\r\n",
            )
        }
    });
    let refused = Client::new(settings(&acs.url("/acs"), Duration::from_secs(2))).unwrap();
    let e = refused.session().post(b"<a/>").unwrap_err();
    assert!(matches!(e, Error::Auth(AuthFailure::BasicOverHttp)), "{e}");
    assert_eq!(acs.seen().len(), 1, "the password never went out");
    let allowed = Client::new(Settings {
        allow_basic_over_http: true,
        ..settings(&acs.url("/acs"), Duration::from_secs(2))
    })
    .unwrap();
    assert_eq!(allowed.session().post(b"<a/>").unwrap().status, 200);
}

#[test]
fn a_dead_resolver_costs_a_round_trip_deadline_not_the_resolver_retries() {
    let dead: Lookup = |_| loop {
        thread::park();
    };
    let c = Client::with_resolver(
        settings("http://acs.example:7547/acs", Duration::from_millis(300)),
        Resolver::new(dead, Duration::from_secs(10)),
    )
    .unwrap();
    let started = Instant::now();
    let e = c.session().post(b"<inform/>").unwrap_err();
    assert!(
        matches!(e, Error::Resolve(ResolveError::NoAnswer { ref host, after }) if host == "acs.example" && after <= Duration::from_millis(300)),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_millis(800));
}

#[test]
fn continue_then_chunks_with_trailers_keep_the_connection_in_step() {
    let acs = Raw::start(|n, _, w| {
        if n == 0 {
            send(
                w,
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                 4;ext=1\r\n<inf\r\n3\r\no/>\r\n0\r\nX-Digest: abc\r\nX-More: 1\r\n\r\n",
            )
        } else {
            send(w, "HTTP/1.1 204 No Content\r\n\r\n")
        }
    });
    let c = Client::new(settings(&acs.url("/acs"), Duration::from_secs(2))).unwrap();
    let mut s = c.session();
    assert_eq!(s.post(b"<inform/>").unwrap().body, b"<info/>");
    assert_eq!(
        s.post(b"").unwrap().status,
        204,
        "the trailers were not taken for the next answer"
    );
    let seen = acs.seen();
    assert!(seen.iter().all(|r| r.conn == 1), "one connection");
}

#[cfg(feature = "tls")]
#[test]
fn https_never_redirects_to_plain_http() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openssl is required in CI"
        );
        eprintln!("skipped: openssl not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("cwmpd-http-client-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-subj",
            "/CN=127.0.0.1",
            "-days",
            "1",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("c.pem"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("k.pem")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap(),
    );
    let plain = Raw::start(|_, _, w| send(w, &ok("<in-clear/>", "")));
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/acs", l.local_addr().unwrap());
    let to = plain.url("/acs");
    let server = thread::spawn(move || {
        let (sock, _) = l.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut tls = rustls::StreamOwned::new(rustls::ServerConnection::new(cfg).unwrap(), sock);
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&req).contains("<a/>") {
            let n = tls.read(&mut buf).unwrap();
            assert!(n > 0, "request cut off");
            req.extend_from_slice(&buf[..n]);
        }
        let answer = format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n");
        tls.write_all(answer.as_bytes()).unwrap();
        tls.flush().unwrap();
        let _ = tls.read(&mut buf);
    });
    let mut s = settings(&url, Duration::from_secs(5));
    s.tls.insecure = true;
    let c = Client::new(s).unwrap();
    let e = c.session().post(b"<a/>").unwrap_err();
    assert!(matches!(e, Error::InsecureRedirect(ref u) if !u.tls), "{e}");
    drop(c);
    server.join().unwrap();
    assert!(plain.seen().is_empty(), "nothing went out in clear");
}

fn job(url: &str, user: &str, pass: &str) -> Job {
    Job {
        id: 1,
        direction: Direction::Download,
        scheduled: false,
        command_key: "k".into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url: url.into(),
        username: user.into(),
        password: pass.into(),
        file_size: 0,
        target_file_name: String::new(),
        due: 0,
        windows: Vec::new(),
        retries_left: 0,
        phase: Phase::Running,
        started: None,
        file: None,
        software_before: None,
    }
}

fn transfer_settings(tag: &str, allow_basic: bool, total: Duration) -> run::Settings {
    run::Settings {
        dir: std::env::temp_dir().join(format!("cwmpd-http-client-{tag}-{}", std::process::id())),
        max_size: None,
        tls: Default::default(),
        timeout: Duration::from_secs(1),
        total_timeout: total,
        allow_basic_over_http: allow_basic,
    }
}

#[test]
fn downloads_follow_the_same_origin_and_basic_rules() {
    let files = Raw::start(|_, _, w| send(w, &ok("firmware", "")));
    let origin = redirecting_origin(files.url("/fw.bin"));
    let s = transfer_settings("origin", true, run::TRANSFER_TIMEOUT);
    let path = run::download(&job(&origin.url("/fw"), "cpe", "pw"), &s).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"firmware");
    let at_files = files.seen();
    assert_eq!(at_files.len(), 1);
    assert_eq!(at_files[0].path, "/fw.bin");
    assert_eq!(
        at_files[0].header("authorization"),
        None,
        "no credentials to another origin"
    );
    // Basic over plain http only when allowed: 9012 otherwise, and no password sent.
    let basic = Raw::start(|_, _, w| {
        send(
            w,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"f\"\r\nContent-Length: 0\r\n\r\n",
        )
    });
    let refused = transfer_settings("basic", false, run::TRANSFER_TIMEOUT);
    let e = run::download(&job(&basic.url("/fw"), "cpe", "pw"), &refused).unwrap_err();
    assert!(matches!(e, TransferError::Auth(_)), "{e}");
    assert_eq!(basic.seen().len(), 1);
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&refused.dir);
}

#[test]
fn a_crawling_download_is_cut_off_at_the_transfer_deadline() {
    let files = Raw::start(|_, _, w| {
        let mut answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".to_vec();
        answer.extend(std::iter::repeat_n(b'x', 100));
        drip(w, &answer, Duration::from_millis(40));
        false
    });
    let s = transfer_settings("crawl", false, Duration::from_millis(1500));
    let started = Instant::now();
    let e = run::download(&job(&files.url("/fw"), "", ""), &s).unwrap_err();
    assert!(
        matches!(e, TransferError::Incomplete(ref m) if m.contains("longer than")),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert!(!run::part_path(&s.dir, 1).exists(), "no partial file");
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn a_sink_sees_its_own_error_back() {
    struct Refuse;
    impl Sink for Refuse {
        type Error = u32;
        fn write(&mut self, _: &[u8]) -> Result<(), u32> {
            Err(7)
        }
    }
    let files = Raw::start(|_, _, w| send(w, &ok("data", "")));
    let c = Client::new(settings(&files.url("/f"), Duration::from_secs(1))).unwrap();
    assert!(matches!(
        c.session().get_to(&mut Refuse),
        Err(FetchError::Sink(7))
    ));
}

#[cfg(feature = "diagnostics")]
#[test]
fn tr143_downloads_read_interim_answers_and_trailers_and_follow_no_redirect() {
    use cwmpd::diag::http::{download, HttpTest};
    use cwmpd::diag::Protocol;
    let answer = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                  5;x=y\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n";
    let server = Raw::start(move |_, _, w| {
        send(w, answer);
        false
    });
    let test = |url: String| HttpTest {
        url,
        protocol: Protocol::Any,
        interface: None,
        dscp: 0,
        priority: 0,
    };
    let report = download(&test(server.url("/file"))).unwrap();
    assert_eq!(report.test_bytes, answer.len() as u64);
    let elsewhere = Raw::start(|_, _, w| send(w, &ok("x", "")));
    let to = elsewhere.url("/x");
    let redirecting = Raw::start(move |_, _, w| {
        send(
            w,
            &format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n"),
        );
        false
    });
    let e = download(&test(redirecting.url("/file"))).unwrap_err();
    assert_eq!(e.state(), "Error_TransferFailed", "{e}");
    assert!(elsewhere.seen().is_empty(), "no redirect followed");
}

// The real agent.

const INFORM_RESPONSE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap-env:Envelope \
    xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\">\
    <soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">1</cwmp:ID></soap-env:Header><soap-env:Body>\
    <cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse></soap-env:Body></soap-env:Envelope>";

/// Starts `cwmpd run` against `acs_url` with `[acs]` lines `extra`, the Connection Request
/// listener on `listen`.
fn agent(tag: &str, acs_url: &str, extra: &str, listen: &str, netns: Option<&str>) -> Agent {
    let dir = TempDir::new(&format!("agent-{tag}"));
    let root = root().display();
    let d = dir.display();
    std::fs::write(
        dir.join("board.toml"),
        format!(
            "[board]\nname = \"test\"\ninclude = [\"{root}/board/linux.toml\"]\n\n[[object]]\npath = \"Device.ManagementServer.\"\n\
             [object.params]\nCWMPRetryMinimumWaitInterval = {{ handler = \"stored\", default = \"1\", write = true }}\n\
             CWMPRetryIntervalMultiplier = {{ handler = \"stored\", default = \"1000\", write = true }}\n"
        ),
    )
    .unwrap();
    let config = format!(
        "[acs]\nurl = \"{acs_url}\"\nusername = \"cpe\"\npassword = \"pw\"\n{extra}\n[connection_request]\n\
         listen = \"{listen}\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
         [paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n"
    );
    Agent::launch(dir, &config, netns, Some("debug"), None)
}

/// Waits until the agent's log contains `needle`.
fn wait_log(a: &Agent, needle: &str, within: Duration) -> bool {
    until(within, || a.log().contains(needle))
}

/// The ConnectionRequestURL an Inform carries.
fn cr_url(inform: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(inform);
    let at = text.find("ConnectionRequestURL</Name>")?;
    let rest = &text[at..];
    let value = &rest[rest.find("<Value")?..];
    let start = value.find('>')? + 1;
    let end = value.find("</Value>")?;
    Some(value[start..end].to_string())
}

/// Sends a Connection Request; returns its status and how long the answer took.
fn connection_request(url: &str) -> (u16, Duration) {
    let started = Instant::now();
    let status = cwmpd_testacs::Acs::connection_request(url, "acs", "crpw").unwrap_or(0);
    (status, started.elapsed())
}

#[test]
fn the_agent_abandons_a_dripping_acs_answers_connection_requests_and_backs_off() {
    let (url_tx, url_rx) = mpsc::channel();
    let (stayed_tx, stayed_rx) = mpsc::channel();
    let (url_tx, stayed_tx) = (Mutex::new(url_tx), Mutex::new(stayed_tx));
    let acs = Raw::start(move |_, r, w| {
        let mut answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            INFORM_RESPONSE.len()
        )
        .into_bytes();
        answer.extend_from_slice(INFORM_RESPONSE.as_bytes());
        let _ = url_tx.lock().unwrap().send(cr_url(&r.body));
        // One byte every 200 ms (8 s for these 40): no read ever waits a whole second.
        let stayed = drip(w, &answer[..40], Duration::from_millis(200));
        let _ = stayed_tx.lock().unwrap().send(stayed);
        false
    });
    let a = agent(
        "drip",
        &acs.url("/acs"),
        "timeout = 1\nsession_timeout = 5",
        "127.0.0.1:0",
        None,
    );
    let url = url_rx
        .recv_timeout(T)
        .unwrap()
        .expect("an Inform with a ConnectionRequestURL");
    // A Connection Request while the round trip is being dripped: answered once the round
    // trip's deadline has ended it.
    let (status, took) = connection_request(&url);
    assert_eq!(status, 200, "{}", a.log());
    assert!(
        took < Duration::from_millis(2500),
        "CR answered after {took:?}"
    );
    let stayed = stayed_rx.recv_timeout(T).unwrap();
    assert!(
        stayed < Duration::from_secs(2),
        "the slow ACS kept the session {stayed:?}"
    );
    eprintln!(
        "figure: a dripping ACS (timeout = 1) abandoned after {stayed:?}; CR answered in {took:?}"
    );
    assert!(
        wait_log(&a, "no complete answer within 1000 ms", T),
        "{}",
        a.log()
    );
    // The CR's session comes at once (a new event ends the back-off, TR-069 §3.2.1.1) and
    // fails the same way; the one after it waits for the back-off (1 s here).
    let seen = acs.wait_for(3, T);
    assert!(seen.len() >= 3, "{}", a.log());
    let gap = seen[2].at - seen[1].at;
    assert!(
        gap >= Duration::from_millis(1900) && gap < Duration::from_secs(5),
        "one round trip's deadline and the back-off, not more: {gap:?}"
    );
}

#[test]
fn the_agent_ends_a_session_that_outlives_session_timeout() {
    let acs = Raw::start(|n, _, w| {
        if n == 0 {
            send(w, &ok(INFORM_RESPONSE, ""))
        } else {
            // An ACS that never lets the session end: one more GetRPCMethods each time.
            let body = INFORM_RESPONSE.replace(
                "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
                "<cwmp:GetRPCMethods/>",
            );
            thread::sleep(Duration::from_millis(20));
            send(w, &ok(&body, ""))
        }
    });
    let a = agent(
        "endless",
        &acs.url("/acs"),
        "timeout = 1\nsession_timeout = 2",
        "127.0.0.1:0",
        None,
    );
    assert!(
        wait_log(&a, "session took longer than 2000 ms", T),
        "{}",
        a.log()
    );
    let seen = acs.seen();
    let first = seen.iter().filter(|r| r.conn == seen[0].conn).count();
    assert!(first < 200, "{first} requests in the first session");
    let last = seen.iter().rfind(|r| r.conn == seen[0].conn).unwrap().at;
    assert!(last - seen[0].at < Duration::from_millis(2600));
    // Failed, not ended: the back-off counts it (the Inform's events were delivered, so no
    // retry is owed until a new event).
    assert!(wait_log(&a, "session: failed", T), "{}", a.log());
    assert!(a.log().contains("retry 1 in"), "{}", a.log());
}

#[test]
fn the_agent_stops_answering_a_401_stale_acs_and_backs_off() {
    let acs = Raw::start(|n, _, w| send(w, &stale(n)));
    let a = agent(
        "stale",
        &acs.url("/acs"),
        "timeout = 2",
        "127.0.0.1:0",
        None,
    );
    let seen = acs.wait_for(6, T);
    assert!(seen.len() >= 6, "{}", a.log());
    assert!(wait_log(&a, "refused the credentials", T), "{}", a.log());
    // Three requests a session: without credentials, answered, the stale nonce once.
    let gap = seen[3].at - seen[2].at;
    assert!(
        gap >= Duration::from_millis(900),
        "a session after {gap:?}: {seen:?}"
    );
    assert!(seen[1..3]
        .iter()
        .all(|r| r.header("authorization").is_some()));
    let window = seen[5].at - seen[0].at;
    eprintln!("figure: 6 requests to a 401-stale ACS in {window:?} (two sessions, retry wait 1 s)");
    drop(a);
}

#[test]
fn the_agent_completes_a_session_with_continue_and_chunked_trailers() {
    let acs = Raw::start(|n, _, w| {
        if n == 0 {
            let half = INFORM_RESPONSE.len() / 2;
            let (a, b) = INFORM_RESPONSE.split_at(half);
            send(
                w,
                &format!(
                    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                     {:x};name=value\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n",
                    a.len(),
                    b.len()
                ),
            )
        } else {
            send(w, "HTTP/1.1 204 No Content\r\n\r\n")
        }
    });
    let a = agent(
        "continue",
        &acs.url("/acs"),
        "timeout = 5",
        "127.0.0.1:0",
        None,
    );
    assert!(wait_log(&a, "session: end (ok)", T), "{}", a.log());
    let seen = acs.seen();
    assert_eq!(seen.len(), 2, "Inform, then the empty POST");
    assert!(seen[1].body.is_empty());
    assert_eq!(seen[0].conn, seen[1].conn, "on one connection");
}

/// Issue 12 §5: an ACS that takes the empty POST and closes the kept-alive connection without
/// a byte of answer. The agent must not send the message again on a new connection (the ACS
/// may have taken it): the session fails. Its events were delivered with the InformResponse,
/// so nothing is retried; the next session (a Connection Request here) starts afresh with an
/// Inform on a connection of its own.
#[test]
fn a_session_cut_short_on_its_connection_is_failed_not_resent() {
    let acs = Raw::start(|n, req, w| match n {
        0 | 2 => send(w, &ok(INFORM_RESPONSE, "Content-Type: text/xml\r\n")),
        // Taken, never answered: the connection closes under the request.
        1 => {
            assert!(req.body.is_empty(), "the empty POST");
            false
        }
        _ => send(w, "HTTP/1.1 204 No Content\r\n\r\n"),
    });
    let a = agent("cut", &acs.url("/acs"), "timeout = 5", "127.0.0.1:0", None);
    assert!(wait_log(&a, "session: failed", T), "{}", a.log());
    let seen = acs.seen();
    assert_eq!(seen.len(), 2, "nothing sent again: {seen:?}");
    assert_eq!(
        (seen[0].conn, seen[1].conn),
        (1, 1),
        "one session, one connection"
    );
    // Nothing is left to deliver: the agent idles until its next timer, no retry wait
    // (a retry timer left armed with nothing to send once spun the loop at 100 % CPU).
    let idles_long = || {
        let log = a.log();
        let after = &log[log.find("session: failed").unwrap_or(0)..];
        after.split("idle for up to ").skip(1).any(|rest| {
            rest.split(' ')
                .next()
                .and_then(|ms| ms.parse::<u64>().ok())
                .is_some_and(|ms| ms > 2000)
        })
    };
    assert!(until(T, idles_long), "{}", a.log());
    let url = cr_url(&seen[0].body).expect("a ConnectionRequestURL");
    assert_eq!(connection_request(&url).0, 200);
    assert!(wait_log(&a, "session: end (ok)", T), "{}", a.log());
    let seen = acs.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_ne!(
        seen[2].conn, 1,
        "the next session on a connection of its own"
    );
    let inform = String::from_utf8_lossy(&seen[2].body);
    assert!(
        inform.contains("6 CONNECTION REQUEST") && !inform.contains("1 BOOT"),
        "a new session's Inform (BOOT was delivered): {inform}"
    );
    assert!(
        inform.contains("<RetryCount>1</RetryCount>"),
        "the failed session counts: {inform}"
    );
    drop(a);
}

#[test]
fn the_agent_resolves_off_its_loop_within_the_deadline() {
    let Some(ns) = Netns::create("resolve") else {
        return;
    };
    ns.ip("link set lo up");
    // The namespace's resolv.conf (bind-mounted by `ip netns exec`) names a DNS server on
    // 127.0.0.1 that reads queries and never answers; nothing leaves the namespace.
    let etc = std::path::PathBuf::from(format!("/etc/netns/{}", ns.0));
    std::fs::create_dir_all(&etc).unwrap();
    struct Gone(std::path::PathBuf);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _etc = Gone(etc.clone());
    std::fs::write(
        etc.join("resolv.conf"),
        "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n",
    )
    .unwrap();
    let _dns = ns.within(|| std::net::UdpSocket::bind("127.0.0.1:53").unwrap());
    // A fixed port is safe in a namespace of the test's own.
    let started = Instant::now();
    let a = agent(
        "resolve",
        "http://acs.example:7557/acs",
        "timeout = 1",
        "127.0.0.1:7547",
        Some(&ns.0),
    );
    assert!(
        wait_log(&a, "agent: connection requests on", T),
        "{}",
        a.log()
    );
    let (status, took) = ns.within(|| connection_request("http://127.0.0.1:7547/cr"));
    assert_eq!(status, 200, "{}", a.log());
    assert!(
        took < Duration::from_millis(2500),
        "CR answered after {took:?}"
    );
    assert!(wait_log(&a, "cannot resolve acs.example", T), "{}", a.log());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}
