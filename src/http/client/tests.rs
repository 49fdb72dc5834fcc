//! The client against a scripted HTTP server on 127.0.0.1 that records, for every request,
//! which TCP connection carried it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::http::url::UrlError;
use crate::http::wire;

#[derive(Debug, Clone)]
struct Seen {
    conn: usize,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

type Handler = dyn Fn(usize, &Seen) -> String + Send + Sync;

/// Serves `n` requests in total, answering each with the handler's raw HTTP response.
fn server(n: usize, handler: Arc<Handler>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    thread::spawn(move || {
        let mut served = 0;
        let mut conn_no = 0;
        while served < n {
            let Ok((stream, _)) = l.accept() else { return };
            conn_no += 1;
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut w = stream;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).unwrap();
                    if h == "\r\n" {
                        break;
                    }
                    let (k, v) = h.split_once(':').unwrap();
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                let req = Seen {
                    conn: conn_no,
                    path,
                    headers,
                    body,
                };
                s2.lock().unwrap().push(req.clone());
                let resp = handler(served, &req);
                served += 1;
                if resp.is_empty() {
                    return; // hang up without answering
                }
                w.write_all(resp.as_bytes()).unwrap();
                if resp.contains("Connection: close") || served >= n {
                    break;
                }
            }
        }
    });
    (format!("http://{addr}/acs"), seen)
}

fn client(url: &str, user: &str, pass: &str) -> Client {
    Client::new(Settings {
        username: user.into(),
        password: pass.into(),
        timeout: Duration::from_secs(2),
        ..Settings::new(url)
    })
    .unwrap()
}

fn ok(body: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}

#[test]
fn the_cookie_jar_is_bounded() {
    let (url, seen) = server(
        2,
        Arc::new(|i, _req: &Seen| {
            let many: String = (0..MAX_COOKIES + 8)
                .map(|n| format!("Set-Cookie: c{n}=v\r\n"))
                .collect();
            match i {
                0 => ok("<a/>", &many),
                _ => ok("<b/>", ""),
            }
        }),
    );
    let c = client(&url, "", "");
    let mut s = c.session();
    s.post(b"<x/>").unwrap();
    s.post(b"<y/>").unwrap();
    let seen = seen.lock().unwrap();
    let sent = seen[1]
        .headers
        .iter()
        .find(|(k, _)| k == "cookie")
        .map(|(_, v)| v.split("; ").count());
    assert_eq!(sent, Some(MAX_COOKIES));
}

#[test]
fn cookies_are_echoed_on_one_connection() {
    let (url, seen) = server(
        3,
        Arc::new(|i, _req: &Seen| match i {
            0 => ok(
                "<inform-response/>",
                "Set-Cookie: session=abc123; Path=/; HttpOnly\r\n",
            ),
            1 => ok("<rpc/>", "Set-Cookie: other=1\r\n"),
            _ => "HTTP/1.1 204 No Content\r\n\r\n".into(),
        }),
    );
    let c = client(&url, "", "");
    let mut s = c.session();
    assert_eq!(s.post(b"<inform/>").unwrap().body, b"<inform-response/>");
    assert_eq!(s.post(b"").unwrap().status, 200);
    assert_eq!(s.post(b"<resp/>").unwrap().status, 204);
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|r| r.conn == 1), "one connection");
    assert_eq!(s.connections, 1);
    let cookie = |i: usize| {
        seen[i]
            .headers
            .iter()
            .find(|(k, _)| k == "cookie")
            .map(|(_, v)| v.clone())
    };
    assert_eq!(cookie(0), None);
    assert_eq!(cookie(1).as_deref(), Some("session=abc123"));
    assert_eq!(cookie(2).as_deref(), Some("session=abc123; other=1"));
    assert!(seen[0]
        .headers
        .iter()
        .any(|(k, v)| k == "soapaction" && v == "\"\""));
    assert!(
        !seen[1].headers.iter().any(|(k, _)| k == "soapaction"),
        "no SOAPAction on the empty POST"
    );
    assert_eq!(seen[1].body.len(), 0);
}

fn digest_server(alg: &'static str) -> (String, Arc<Mutex<Vec<Seen>>>) {
    digest_server_for(alg, "POST")
}

fn digest_server_for(alg: &'static str, method: &'static str) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let verifier = Arc::new(Mutex::new(crate::http::digest::Verifier::new(
        "cpe", "pw", "acs", 60_000,
    )));
    server(
        3,
        Arc::new(move |_i, req: &Seen| {
            let mut v = verifier.lock().unwrap();
            let auth = req
                .headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.as_str());
            match v.verify(auth, method, "/acs", 1) {
                Ok(()) => ok("<ok/>", ""),
                Err(_) => {
                    let ch = v.challenges(0, false);
                    let offered: String = ch
                        .iter()
                        .filter(|c| c.contains(alg))
                        .map(|c| format!("WWW-Authenticate: {c}\r\n"))
                        .collect();
                    format!("HTTP/1.1 401 Unauthorized\r\n{offered}Content-Length: 0\r\n\r\n")
                }
            }
        }),
    )
}

#[test]
fn digest_sha256_and_md5_on_the_same_connection() {
    for alg in ["SHA-256", "MD5"] {
        let (url, seen) = digest_server(alg);
        let c = client(&url, "cpe", "pw");
        let mut s = c.session();
        assert_eq!(s.post(b"<inform/>").unwrap().body, b"<ok/>");
        assert_eq!(
            s.post(b"").unwrap().body,
            b"<ok/>",
            "later requests stay authenticated"
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(
            seen.iter().all(|r| r.conn == 1),
            "{alg}: retry on the same connection"
        );
        assert!(seen[1]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.contains(&format!("algorithm={alg}"))));
        assert!(seen[2]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.contains("nc=00000002")));
    }
}

#[test]
fn wrong_credentials_fail_after_one_retry() {
    let (url, seen) = digest_server("MD5");
    let c = client(&url, "cpe", "nope");
    let mut s = c.session();
    assert!(matches!(
        s.post(b"<inform/>"),
        Err(Error::Auth(AuthFailure::Refused(_)))
    ));
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn basic_auth_when_only_basic_is_offered_and_allowed() {
    let basic_only = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"acs\"\r\nContent-Length: 0\r\n\r\n";
    let (url, seen) = server(1, Arc::new(move |_i, _req: &Seen| basic_only.into()));
    assert!(matches!(
        client(&url, "cpe", "pw").session().post(b"<x/>"),
        Err(Error::Auth(AuthFailure::BasicOverHttp))
    ));
    assert_eq!(seen.lock().unwrap().len(), 1, "no password sent in clear");
    let (url, seen) = server(
        2,
        Arc::new(|_i, req: &Seen| {
            if req
                .headers
                .iter()
                .any(|(k, v)| k == "authorization" && v == "Basic Y3BlOnB3")
            {
                ok("<ok/>", "")
            } else {
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"acs\"\r\nContent-Length: 0\r\n\r\n".into()
            }
        }),
    );
    let c = Client::new(Settings {
        username: "cpe".into(),
        password: "pw".into(),
        allow_basic_over_http: true,
        ..Settings::new(&url)
    })
    .unwrap();
    assert_eq!(c.session().post(b"<x/>").unwrap().status, 200);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn redirects_are_followed_and_kept_for_the_session() {
    let (url, seen) = server(
        3,
        Arc::new(|i, _req: &Seen| match i {
            0 => "HTTP/1.1 307 Temporary Redirect\r\nLocation: /other\r\nContent-Length: 0\r\n\r\n"
                .into(),
            _ => ok("<ok/>", ""),
        }),
    );
    let c = client(&url, "", "");
    let mut s = c.session();
    s.post(b"<a/>").unwrap();
    s.post(b"<b/>").unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/acs", "/other", "/other"]
    );
    assert_eq!(s.url().path, "/other");
}

#[test]
fn redirect_loops_are_bounded() {
    let (url, _) = server(
        MAX_REDIRECTS + 1,
        Arc::new(|_i, _r: &Seen| {
            "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n".into()
        }),
    );
    let c = client(&url, "", "");
    assert!(matches!(
        c.session().post(b"<a/>"),
        Err(Error::Redirects {
            limit: MAX_REDIRECTS
        })
    ));
}

#[test]
fn chunked_bodies_and_closed_connections() {
    let (url, seen) = server(
        2,
        Arc::new(|i, _r: &Seen| {
            match i {
            0 => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n<ok/\r\n1\r\n>\r\n0\r\n\r\n".into(),
            _ => ok("<again/>", ""),
        }
        }),
    );
    let c = client(&url, "", "");
    let mut s = c.session();
    assert_eq!(s.post(b"<a/>").unwrap().body, b"<ok/>");
    assert_eq!(
        s.post(b"<b/>").unwrap().body,
        b"<again/>",
        "reconnects after Connection: close"
    );
    assert_eq!(seen.lock().unwrap().last().unwrap().conn, 2);
}

#[test]
fn a_silent_server_times_out() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let hold = thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        thread::sleep(Duration::from_millis(1500));
        drop(s);
    });
    let c = Client::new(Settings {
        timeout: Duration::from_millis(300),
        ..Settings::new(&url)
    })
    .unwrap();
    let t = Instant::now();
    assert!(matches!(
        c.session().post(b"<a/>"),
        Err(Error::Timeout(Timeout::RoundTrip(_)))
    ));
    assert!(t.elapsed() < Duration::from_millis(1200));
    hold.join().unwrap();
}

#[test]
fn oversized_and_malformed_responses_are_refused() {
    let (url, _) = server(
        1,
        Arc::new(|_i, _r: &Seen| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                MAX_BODY_BYTES + 1
            )
        }),
    );
    assert!(matches!(
        client(&url, "", "").session().post(b"<a/>"),
        Err(Error::BodyTooLarge { .. })
    ));
    let (url, _) = server(1, Arc::new(|_i, _r: &Seen| "SMTP ready\r\n\r\n".into()));
    assert!(matches!(
        client(&url, "", "").session().post(b"<a/>"),
        Err(Error::Wire(wire::Error::StatusLine(_)))
    ));
    let (url, _) = server(
        1,
        Arc::new(|_i, _r: &Seen| {
            format!(
                "HTTP/1.1 200 OK\r\nX: {}\r\n\r\n",
                "a".repeat(wire::MAX_HEAD_BYTES)
            )
        }),
    );
    assert!(matches!(
        client(&url, "", "").session().post(b"<a/>"),
        Err(Error::Wire(wire::Error::HeadTooLarge { .. }))
    ));
    assert!(matches!(
        Client::new(Settings::new("ftp://x/")),
        Err(Error::Url(UrlError::Scheme(_)))
    ));
    // A bound socket that does not listen refuses connections (and keeps its port).
    use nix::sys::socket::{
        bind, getsockname, socket, AddressFamily, SockFlag, SockType, SockaddrIn,
    };
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .unwrap();
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::new(127, 0, 0, 1, 0),
    )
    .unwrap();
    let port = getsockname::<SockaddrIn>(std::os::fd::AsRawFd::as_raw_fd(&fd))
        .unwrap()
        .port();
    assert!(matches!(
        client(&format!("http://127.0.0.1:{port}/"), "", "")
            .session()
            .post(b"<a/>"),
        Err(Error::Connect(..))
    ));
}

/// Collects a streamed body and records the head it was shown.
#[derive(Default)]
struct Collect {
    head_status: Option<u16>,
    data: Vec<u8>,
    refuse_after: Option<usize>,
}

impl Sink for Collect {
    type Error = &'static str;

    fn head(&mut self, resp: &Response) -> Result<(), &'static str> {
        self.head_status = Some(resp.status);
        Ok(())
    }
    fn write(&mut self, data: &[u8]) -> Result<(), &'static str> {
        if self
            .refuse_after
            .is_some_and(|n| self.data.len() + data.len() > n)
        {
            return Err("full");
        }
        self.data.extend_from_slice(data);
        Ok(())
    }
}

#[test]
fn get_streams_a_body_larger_than_the_memory_limit() {
    // A Content-Length body three times MAX_BODY_BYTES, from a raw socket.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let body = big.clone();
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(),
        );
        let _ = s.write_all(&body);
    });
    let c = client(&format!("http://{addr}/big"), "", "");
    let mut sink = Collect::default();
    let r = c.session().get_to(&mut sink).unwrap();
    assert_eq!((r.status, sink.head_status), (200, Some(200)));
    assert!(r.body.is_empty(), "a streamed body is not kept");
    assert_eq!(
        sink.data.len(),
        big.len(),
        "larger than MAX_BODY_BYTES, streamed"
    );
    assert!(sink.data == big);
}

#[test]
fn get_handles_chunks_close_errors_and_a_refusing_sink() {
    let (url, seen) = server(
        4,
        Arc::new(|i, _| {
            match i {
            0 => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n".into(),
            1 => "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here!".into(),
            2 => "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789".into(),
            _ => "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nuntil close".into(),
        }
        }),
    );
    let c = client(&url, "", "");
    let mut s = c.session();
    let mut sink = Collect::default();
    s.get_to(&mut sink).unwrap();
    assert_eq!(sink.data, b"hello world");
    let mut sink = Collect::default();
    let r = s.get_to(&mut sink).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (404, &b"not here!"[..]));
    assert!(
        sink.data.is_empty() && sink.head_status.is_none(),
        "errors stay out of the sink"
    );
    let mut sink = Collect {
        refuse_after: Some(4),
        ..Default::default()
    };
    assert!(matches!(s.get_to(&mut sink), Err(FetchError::Sink("full"))));
    let mut sink = Collect::default();
    s.get_to(&mut sink).unwrap();
    assert_eq!(sink.data, b"until close");
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|r| r.path == "/acs"));
    assert!(
        seen[0].headers.iter().all(|(k, _)| k != "content-length"),
        "GET has no body"
    );
}

#[test]
fn put_sends_a_file_again_after_a_digest_challenge() {
    let (url, seen) = digest_server_for("MD5", "PUT");
    let path = std::env::temp_dir().join(format!("cwmpd-put-{}", std::process::id()));
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 7) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let c = client(&url, "cpe", "pw");
    let mut f = std::fs::File::open(&path).unwrap();
    let r = c.session().put_file(&mut f).unwrap();
    assert_eq!(r.status, 200);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "challenged, then answered");
    assert_eq!(seen[1].body, data, "the whole file went again");
    assert!(seen[1]
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v.contains("Digest")));
    let _ = std::fs::remove_file(&path);
}
