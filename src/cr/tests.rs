//! The listener on 127.0.0.1 driven with raw HTTP requests from a client thread while the
//! test thread polls, as the agent loop does.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;

use super::*;
use crate::auth::digest::{authorization, parse_challenges, Scheme};

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
    (status, challenges)
}

/// Runs `client` on a thread while polling the listener; returns its result and the polls.
fn drive<T: Send + 'static>(
    l: &mut Listener,
    client: impl FnOnce(SocketAddr) -> T + Send + 'static,
) -> (T, Polled) {
    let addr = l.local_addr().unwrap();
    let h = thread::spawn(move || client(addr));
    let mut total = Polled::default();
    while !h.is_finished() {
        let p = l.poll(Duration::from_millis(20));
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
