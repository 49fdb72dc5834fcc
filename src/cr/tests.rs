//! The listener on 127.0.0.1 driven with raw HTTP requests from a client thread while the
//! test thread polls, as the agent loop does.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use super::*;
use crate::http::digest::{authorization, parse_challenges, Algorithm, Scheme};

fn listener(user: &str, pass: &str) -> Listener {
    Listener::bind(&Settings {
        listen: "127.0.0.1:0".into(),
        path: "/cr".into(),
        username: user.into(),
        password: pass.into(),
    })
    .unwrap()
}

/// Sends raw requests (one connection each) and returns (status, WWW-Authenticate values).
fn send(addr: SocketAddr, method: &str, path: &str, auth: Option<&str>) -> (u16, Vec<String>) {
    let (status, challenges, _) = send_full(addr, method, path, auth);
    (status, challenges)
}

/// As [`send`], with the whole response text.
fn send_full(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
) -> (u16, Vec<String>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let challenges = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("WWW-Authenticate: ")
                .or_else(|| l.strip_prefix("www-authenticate: "))
        })
        .map(String::from)
        .collect();
    (status, challenges, text)
}

/// Runs `client` on a thread while polling the listener; returns its result and the polls.
fn drive<T: Send + 'static>(
    l: &mut Listener,
    client: impl FnOnce(SocketAddr) -> T + Send + 'static,
) -> (T, Polled) {
    drive_at(l, None, client)
}

/// As [`drive`], at a fixed time `now` (ms) when given; also checks that every poll returns
/// promptly (well under a second beyond its 20 ms timeout).
fn drive_at<T: Send + 'static>(
    l: &mut Listener,
    now: Option<u64>,
    client: impl FnOnce(SocketAddr) -> T + Send + 'static,
) -> (T, Polled) {
    let addr = l.local_addr().unwrap();
    let h = thread::spawn(move || client(addr));
    let mut total = Polled::default();
    while !h.is_finished() {
        let t = Instant::now();
        let p = match now {
            Some(n) => l.poll_at(Duration::from_millis(20), n),
            None => l.poll(Duration::from_millis(20)),
        };
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "a poll took {:?}",
            t.elapsed()
        );
        total.accepted += p.accepted;
        total.refused += p.refused;
    }
    (h.join().unwrap(), total)
}

fn answer(challenges: &[String], alg: &str, user: &str, pass: &str, nc: u32) -> String {
    let ch = challenges.iter().find(|c| c.contains(alg)).unwrap();
    let Scheme::Digest(c) = parse_challenges(ch).remove(0) else {
        panic!()
    };
    authorization(&c, user, pass, "GET", "/cr", nc, "abc")
}

#[test]
fn without_credentials_every_request_is_refused() {
    let mut l = listener("", "");
    let ((s1, c1), p) = drive(&mut l, |a| send(a, "GET", "/cr", None));
    assert_eq!(s1, 401);
    assert!(c1.is_empty(), "no challenge to answer");
    assert_eq!(p.accepted, 0);
}

#[test]
fn digest_sha256_and_md5_are_accepted_once() {
    for alg in ["SHA-256", "MD5"] {
        let mut l = listener("acs", "secret");
        let (results, p) = drive(&mut l, move |a| {
            let (s0, ch) = send(a, "GET", "/cr", None);
            let good = answer(&ch, alg, "acs", "secret", 1);
            let bad = answer(&ch, alg, "acs", "wrong", 2);
            let (s1, _) = send(a, "GET", "/cr", Some(&good));
            let (s2, _) = send(a, "GET", "/cr", Some(&good));
            let (s3, _) = send(a, "GET", "/cr", Some(&bad));
            (s0, ch.len(), s1, s2, s3)
        });
        assert_eq!(
            results,
            (401, 2, 200, 401, 401),
            "{alg}: challenge, accept, replay refused, wrong password refused"
        );
        assert_eq!(p.accepted, 1);
    }
}

#[test]
fn wrong_path_and_method() {
    let mut l = listener("acs", "secret");
    let (r, p) = drive(&mut l, |a| {
        (
            send(a, "GET", "/other", None).0,
            send(a, "POST", "/cr", None).0,
        )
    });
    assert_eq!(r, (404, 405));
    assert_eq!(p.accepted, 0);
}

#[test]
fn a_flood_is_rate_limited_and_the_listener_stays_responsive() {
    let mut l = listener("acs", "secret");
    let (statuses, p) = drive(&mut l, |a| {
        let (_, ch) = send(a, "GET", "/cr", None);
        let mut out = Vec::new();
        // Valid requests with growing nonce counts, as fast as possible (loopback, bounded).
        for nc in 1..=20 {
            out.push(
                send(
                    a,
                    "GET",
                    "/cr",
                    Some(&answer(&ch, "SHA-256", "acs", "secret", nc)),
                )
                .0,
            );
        }
        // Garbage from a misbehaving client.
        for _ in 0..200 {
            out.push(send(a, "GET", "/cr", Some("Digest nonsense")).0);
        }
        out
    });
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    // A burst of BURST, plus one per second of refill on a slow machine.
    assert!((1..=BURST as usize + 3).contains(&ok), "{ok} accepted");
    assert!(busy >= 14, "{busy} answered 503");
    assert_eq!(statuses[20..].iter().filter(|s| **s == 401).count(), 200);
    assert_eq!(p.accepted as usize, ok);
    // Right after the flood a good request is answered promptly.
    let started = Instant::now();
    let (s, _) = drive(&mut l, |a| send(a, "GET", "/cr", None).0);
    assert_eq!(s, 401);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_request_without_authorization_gets_both_challenges() {
    let mut l = listener("acs", "secret");
    let ((status, ch), p) = drive(&mut l, |a| send(a, "GET", "/cr", None));
    assert_eq!(status, 401);
    let algs: Vec<Algorithm> = ch
        .iter()
        .flat_map(|c| parse_challenges(c))
        .map(|s| match s {
            Scheme::Digest(c) => {
                assert_eq!(c.qop, ["auth"]);
                assert_eq!(c.realm, REALM);
                assert!(!c.stale);
                c.algorithm
            }
            s => panic!("{s:?}"),
        })
        .collect();
    assert_eq!(algs, [Algorithm::Sha256, Algorithm::Md5]);
    assert_eq!((p.accepted, p.refused), (0, 1));
}

#[test]
fn an_expired_nonce_is_refused_as_stale_then_a_fresh_one_works() {
    for alg in ["SHA-256", "MD5"] {
        let mut l = listener("acs", "secret");
        l.set_nonce_lifetime(5_000);
        let (ch, _) = drive_at(&mut l, Some(0), |a| send(a, "GET", "/cr", None).1);
        let late = answer(&ch, alg, "acs", "secret", 1);
        let ((s1, ch2), p) = drive_at(&mut l, Some(5_000), move |a| {
            send(a, "GET", "/cr", Some(&late))
        });
        assert_eq!(s1, 401, "{alg}");
        assert_eq!(p.accepted, 0);
        assert_eq!(ch2.len(), 2);
        assert!(ch2.iter().all(|c| c.ends_with("stale=true")), "{ch2:?}");
        let fresh = answer(&ch2, alg, "acs", "secret", 1);
        let (s2, p) = drive_at(&mut l, Some(9_999), move |a| {
            send(a, "GET", "/cr", Some(&fresh)).0
        });
        assert_eq!((s2, p.accepted), (200, 1), "{alg}");
    }
}

#[test]
fn a_wrong_user_or_a_wrong_uri_is_refused() {
    let mut l = listener("acs", "secret");
    let (r, p) = drive(&mut l, |a| {
        let (_, ch) = send(a, "GET", "/cr", None);
        let other_user = answer(&ch, "MD5", "eve", "secret", 1);
        let Scheme::Digest(c) = parse_challenges(&ch[0]).remove(0) else {
            panic!()
        };
        let other_uri = authorization(&c, "acs", "secret", "GET", "/elsewhere", 2, "x");
        (
            send(a, "GET", "/cr", Some(&other_user)).0,
            send(a, "GET", "/cr", Some(&other_uri)).0,
            send(a, "GET", "/cr", Some("Basic YWNzOnNlY3JldA==")).0,
        )
    });
    assert_eq!(r, (401, 401, 401), "Basic is never accepted either");
    assert_eq!(p.accepted, 0);
}

#[test]
fn a_flood_of_good_requests_gets_503_beyond_the_bucket() {
    let mut l = listener("acs", "secret");
    let (ch, _) = drive_at(&mut l, Some(0), |a| send(a, "GET", "/cr", None).1);
    let ch2 = ch.clone();
    // Time stands still during the flood: exactly BURST pass.
    let (out, p) = drive_at(&mut l, Some(10), move |a| {
        (1..=200u32)
            .map(|nc| {
                let h = answer(&ch2, "SHA-256", "acs", "secret", nc);
                let (status, _, text) = send_full(a, "GET", "/cr", Some(&h));
                (status, text.contains("Retry-After: 1\r\n"))
            })
            .collect::<Vec<_>>()
    });
    let ok = out.iter().filter(|(s, _)| *s == 200).count();
    let busy: Vec<_> = out.iter().filter(|(s, _)| *s == 503).collect();
    assert_eq!(ok, BURST as usize);
    assert_eq!(busy.len(), 200 - BURST as usize);
    assert!(
        busy.iter().all(|(_, retry)| *retry),
        "503 carries Retry-After"
    );
    assert_eq!(p.accepted, BURST);
    // One refill interval later the same ACS gets through again at once.
    let good = answer(&ch, "SHA-256", "acs", "secret", 201);
    let t = Instant::now();
    let (s, p) = drive_at(&mut l, Some(10 + REFILL_MS), move |a| {
        send(a, "GET", "/cr", Some(&good)).0
    });
    assert_eq!((s, p.accepted), (200, 1));
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn the_rate_limit_is_configurable() {
    let mut l = listener("acs", "secret");
    l.set_rate_limit(RateLimit {
        burst: 1,
        refill_ms: 10_000,
    });
    assert_eq!(l.bucket.take(0), Ok(()));
    assert_eq!(l.bucket.take(1), Err(10), "seconds until the next token");
    assert_eq!(l.bucket.take(9_999), Err(1));
    assert_eq!(l.bucket.take(10_000), Ok(()));
    // Time spent full earns nothing extra.
    assert_eq!(l.bucket.take(100_000), Ok(()));
    assert_eq!(l.bucket.take(100_001), Err(10));
    l.set_rate_limit(RateLimit::default());
    for t in 0..BURST as u64 {
        assert_eq!(l.bucket.take(t), Ok(()));
    }
    assert_eq!(l.bucket.take(5), Err(1));
    assert_eq!(l.bucket.take(REFILL_MS), Ok(()));
}

#[test]
fn one_poll_handles_a_bounded_number_of_requests() {
    let mut l = listener("acs", "secret");
    let addr = l.local_addr().unwrap();
    let n = MAX_CONNECTIONS;
    assert!(n >= 2 * MAX_PER_POLL);
    // Many connections, each with a request written before anything is read.
    let mut conns: Vec<TcpStream> = (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            write!(
                s,
                "GET /cr HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            s
        })
        .collect();
    let mut polls = Vec::new();
    let mut handled = 0;
    let started = Instant::now();
    while handled < n && started.elapsed() < Duration::from_secs(10) {
        let p = l.poll(Duration::from_millis(50));
        let k = (p.accepted + p.refused) as usize;
        assert!(k <= MAX_PER_POLL, "{k} in one poll");
        handled += k;
        polls.push(k);
    }
    assert_eq!(handled, n, "{polls:?}");
    assert!(polls.len() >= n / MAX_PER_POLL, "{polls:?}");
    for c in &mut conns {
        let mut text = String::new();
        let _ = c.read_to_string(&mut text);
        assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    }
}

/// Reads what the listener sent until it closes the connection (or 5 s pass).
fn read_all(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut bytes = Vec::new();
    let _ = s.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether the listener closed the connection (EOF or reset within 5 s, not a timeout).
fn closed(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 256];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

#[test]
fn the_digest_exchange_may_share_one_connection() {
    let mut l = listener("acs", "secret");
    let (statuses, p) = drive(&mut l, |a| {
        let mut s = TcpStream::connect(a).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(s, "GET /cr HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut first = vec![0u8; 4096];
        let n = s.read(&mut first).unwrap();
        let first = String::from_utf8_lossy(&first[..n]).into_owned();
        let ch: Vec<String> = first
            .lines()
            .filter_map(|l| l.strip_prefix("WWW-Authenticate: ").map(String::from))
            .collect();
        let auth = answer(&ch, "SHA-256", "acs", "secret", 1);
        write!(
            s,
            "GET /cr HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        (first, read_all(&mut s))
    });
    assert!(statuses.0.starts_with("HTTP/1.1 401"), "{}", statuses.0);
    assert!(!statuses.0.contains("Connection: close"), "{}", statuses.0);
    assert!(statuses.1.starts_with("HTTP/1.1 200"), "{}", statuses.1);
    assert_eq!(p.accepted, 1);
}

#[test]
fn a_head_over_the_limit_gets_431_and_the_connection_closes() {
    let mut l = listener("acs", "secret");
    let (text, p) = drive(&mut l, |a| {
        let mut s = TcpStream::connect(a).unwrap();
        let mut head = b"GET /cr HTTP/1.1\r\nX: ".to_vec();
        head.resize(request::MAX_HEAD_BYTES + 1, b'a');
        // The listener stops reading at the limit; what it has not read may reset the
        // connection, so the write may fail.
        let _ = s.write_all(&head);
        read_all(&mut s)
    });
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    assert_eq!(p.refused, 1);
    assert_eq!(l.connections(), 0);
}

#[test]
fn a_client_that_pipelines_and_never_reads_cannot_hold_a_poll() {
    let mut l = listener("acs", "secret");
    let addr = l.local_addr().unwrap();
    let mut attacker = TcpStream::connect(addr).unwrap();
    attacker
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // Pipelined requests, far more than are answered on one connection; nothing is read.
    let one = b"GET /cr HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut sent = 0;
    while sent < 20_000 && attacker.write_all(one).is_ok() {
        sent += 1;
    }
    // Honest requests meanwhile are answered, and every poll returns promptly.
    let ((status, _), _) = drive(&mut l, |a| send(a, "GET", "/cr", None));
    assert_eq!(status, 401);
    // The attacker's connection ends once it has had its share.
    let started = Instant::now();
    while l.connections() > 0 && started.elapsed() < Duration::from_secs(5) {
        l.poll(Duration::from_millis(20));
    }
    assert_eq!(l.connections(), 0);
    // The attacker got at most MAX_REQUESTS answers before its connection was closed. (Closed
    // with requests unread, the connection may be reset before the attacker reads what was
    // sent: then fewer answers, or none, reach it.)
    let text = read_all(&mut attacker);
    let answers = text.matches("HTTP/1.1 401").count();
    assert!(answers <= MAX_REQUESTS as usize, "{answers} answers");
    if answers == MAX_REQUESTS as usize {
        assert!(
            text.contains("Connection: close"),
            "the last answer says it closes"
        );
    }
}

#[test]
fn connections_are_capped_and_the_oldest_is_dropped() {
    let mut l = listener("acs", "secret");
    let addr = l.local_addr().unwrap();
    let mut idle: Vec<TcpStream> = (0..MAX_CONNECTIONS + 3)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    // Accept them all (nothing is sent, so no poll reports a request).
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(300) {
        l.poll_at(Duration::from_millis(20), 0);
    }
    assert_eq!(l.connections(), MAX_CONNECTIONS);
    // The first three were closed (EOF), the newest are open.
    for s in idle.iter_mut().take(3) {
        assert!(closed(s));
    }
    let newest = idle.last_mut().unwrap();
    newest.set_nonblocking(true).unwrap();
    let mut b = [0u8; 1];
    assert_eq!(
        newest.read(&mut b).map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock)
    );
}

#[test]
fn a_connection_without_a_whole_request_is_closed_at_its_deadline() {
    let mut l = listener("acs", "secret");
    let addr = l.local_addr().unwrap();
    let mut slow = TcpStream::connect(addr).unwrap();
    write!(slow, "GET /cr HTTP/1.1\r\nHost:").unwrap();
    // The listener's time is passed in: just before the deadline the connection lives...
    let t0 = 1_000;
    let started = Instant::now();
    while l.connections() == 0 && started.elapsed() < Duration::from_secs(5) {
        l.poll_at(Duration::from_millis(20), t0);
    }
    assert_eq!(l.connections(), 1);
    l.poll_at(Duration::ZERO, t0 + DEADLINE_MS - 100);
    assert_eq!(l.connections(), 1);
    // ...and at it, it is answered 408 and closed.
    l.poll_at(Duration::ZERO, t0 + DEADLINE_MS + 100);
    assert_eq!(l.connections(), 0);
    assert!(read_all(&mut slow).starts_with("HTTP/1.1 408"));
}

#[test]
fn the_url_comes_from_the_listen_address_or_the_override() {
    let v4: SocketAddr = "192.0.2.1:7547".parse().unwrap();
    assert_eq!(
        connection_request_url(v4, "/cr", None),
        "http://192.0.2.1:7547/cr"
    );
    assert_eq!(
        connection_request_url(v4, "cr", Some("cpe.example")),
        "http://cpe.example:7547/cr"
    );
    let any: SocketAddr = "[::]:7547".parse().unwrap();
    assert_eq!(
        connection_request_url(any, "/", Some("2001:db8::1")),
        "http://[2001:db8::1]:7547/"
    );
    assert_eq!(connection_request_url(any, "/", None), "http://[::]:7547/");
}

#[test]
fn derives_the_connection_request_url() {
    assert_eq!(
        derive_url("127.0.0.1:7547", "/cr", "http://127.0.0.1:7557/"),
        "http://127.0.0.1:7547/cr"
    );
    assert_eq!(
        derive_url("0.0.0.0:7547", "/", "http://127.0.0.1:7557/"),
        "http://127.0.0.1:7547/"
    );
    assert_eq!(
        derive_url("[::1]:7547", "/x", "http://[::1]:1/"),
        "http://[::1]:7547/x"
    );
    assert_eq!(derive_url("bogus", "/", "http://x/"), "");
}

#[test]
fn a_waker_interrupts_a_long_poll() {
    let mut l = listener("acs", "secret");
    let w = l.waker();
    let t = Instant::now();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        w.wake();
    });
    l.poll(Duration::from_secs(10));
    assert!(t.elapsed() < Duration::from_secs(5));
    h.join().unwrap();
}

fn any_port(listen: &str) -> Settings {
    Settings {
        listen: listen.into(),
        path: "/cr".into(),
        username: "acs".into(),
        password: "secret".into(),
    }
}

#[test]
fn a_remembered_port_that_is_taken_gives_way_to_a_new_one() {
    // The port stays held by this test: nobody else can take it, or give it back.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let l = Listener::bind_remembering(&any_port("127.0.0.1:0"), Some(port)).unwrap();
    let got = l.local_addr().unwrap();
    assert_eq!(got.ip().to_string(), "127.0.0.1");
    assert!(got.port() != 0 && got.port() != port, "{got}");
    // Nothing remembered: the system's choice.
    let l = Listener::bind_remembering(&any_port("127.0.0.1:0"), None).unwrap();
    assert_ne!(l.local_addr().unwrap().port(), 0);
}

#[test]
fn a_configured_port_is_never_replaced_by_a_remembered_one() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let other = Listener::bind_remembering(&any_port("127.0.0.1:0"), None).unwrap();
    let remembered = other.local_addr().unwrap().port();
    // Freed, so that binding it would succeed: the right outcome does not depend on it.
    drop(other);
    let e = match Listener::bind_remembering(&any_port(&addr), Some(remembered)) {
        Ok(l) => panic!("bound {:?} instead of failing on {addr}", l.local_addr()),
        Err(e) => e,
    };
    assert!(
        e.to_string().contains(&format!("cannot listen on {addr}")),
        "{e}"
    );
}
