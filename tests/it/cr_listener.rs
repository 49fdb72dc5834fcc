//! The real agent's Connection Request port under attack (issue 13 §1), over real sockets on
//! 127.0.0.1: a client that pipelines and never reads, slow clients, thousands of idle
//! connections, an endless header line, a process out of file descriptors, a flood of
//! refused requests. In each, an honest Connection Request from the ACS is still answered
//! promptly, SIGTERM still ends the agent within a second, and the agent's threads, memory
//! and descriptors stay bounded (read from /proc).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cwmpd::cr::{request::MAX_HEAD_BYTES, DEADLINE_MS, MAX_CONNECTIONS};
use cwmpd_testacs::Acs;
use nix::sys::signal::Signal;

use crate::support::agent::Agent;
use crate::support::wait::T;
use crate::support::{acs, proc};

/// How soon an honest Connection Request must be answered during an attack.
const PROMPT: Duration = Duration::from_secs(2);
/// How soon SIGTERM must end the agent during an attack.
const SIGTERM_WITHIN: Duration = Duration::from_secs(1);

/// An agent that has finished its BOOTSTRAP session and waits; its CR URL.
fn idle_agent(tag: &str, acs: &Acs) -> (Agent, String) {
    let a = Agent::start(tag, acs, "", "");
    assert!(acs.wait_informs(1, T), "{}", a.log());
    a.idle_after(&["session: end"]);
    let url = acs.cr_url().unwrap();
    (a, url)
}

/// An honest Connection Request (challenge, then Digest): its status and how long it took.
fn honest(url: &str) -> (u16, Duration) {
    let t = Instant::now();
    let status = Acs::connection_request(url, "acs", "crpw").unwrap_or(0);
    (status, t.elapsed())
}

/// The request is answered 200 within [`PROMPT`] and the session it asks for reaches the
/// ACS.
fn assert_honest_answered(a: &Agent, acs: &Acs, url: &str, what: &str) {
    let informs = acs.informs().len();
    let (status, took) = honest(url);
    assert_eq!(
        status,
        200,
        "{what}: honest request answered {status}\n{}",
        a.log()
    );
    assert!(took < PROMPT, "{what}: answered after {took:?}");
    assert!(
        acs.wait_informs(informs + 1, T),
        "{what}: no session\n{}",
        a.log()
    );
}

/// SIGTERM ends the agent cleanly within [`SIGTERM_WITHIN`].
fn assert_sigterm_honoured(a: &mut Agent, what: &str) {
    let t = Instant::now();
    let status = a.signal(Signal::SIGTERM);
    assert!(
        t.elapsed() < SIGTERM_WITHIN,
        "{what}: SIGTERM took {:?}",
        t.elapsed()
    );
    assert!(status.is_some_and(|s| s.success()), "{what}: {status:?}");
}

/// Whether the agent closed `s` (EOF or reset) within `limit`; what it sent meanwhile.
fn closed_within(s: &mut TcpStream, limit: Duration) -> (bool, String) {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (false, String::from_utf8_lossy(&got).into_owned());
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut b) {
            Ok(0) => return (true, String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (true, String::from_utf8_lossy(&got).into_owned())
            }
            Err(_) => return (false, String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

/// Opens up to `n` connections that send nothing (each connect bounded to a second).
fn idle_connections(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok())
        .collect()
}

/// Lines the agent logged at WARN from the listener.
fn listener_warnings(log: &str) -> usize {
    log.lines()
        .filter(|l| l.starts_with("WARN") && l.contains("cr: "))
        .count()
}

#[test]
fn a_client_that_pipelines_and_never_reads_stalls_nothing() {
    let acs = acs();
    let (mut a, url) = idle_agent("crpipe", &acs);
    let addr = a.listening();
    // Pipelined requests, written for as long as the test runs (at most T) and whenever the
    // agent takes more; no answer is ever read.
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_write_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            let one = b"GET /cr HTTP/1.1\r\nHost: cpe\r\n\r\n";
            let started = Instant::now();
            let mut sent = 0u64;
            while !stop.load(Ordering::SeqCst) && started.elapsed() < T {
                match s.write(one) {
                    Ok(n) => sent += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                    // The agent closed it (after its share of answers): open another.
                    Err(_) => match TcpStream::connect(addr) {
                        Ok(n) => {
                            s = n;
                            s.set_write_timeout(Some(Duration::from_millis(100)))
                                .unwrap();
                        }
                        Err(_) => break,
                    },
                }
            }
            sent
        })
    };
    // Until the agent's loop is busy with the attacker's requests.
    a.wait_log("connection request: answered 401", 20);
    assert_honest_answered(&a, &acs, &url, "pipelining client");
    assert_sigterm_honoured(&mut a, "pipelining client");
    stop.store(true, Ordering::SeqCst);
    assert!(attacker.join().unwrap() > 0);
}

#[test]
fn slow_clients_are_closed_at_their_deadline() {
    let acs = acs();
    let (mut a, url) = idle_agent("crslow", &acs);
    let addr = a.listening();
    // More slow clients than connections are kept: each has sent part of a request.
    let mut slow: Vec<TcpStream> = idle_connections(addr, MAX_CONNECTIONS + 8);
    for s in &mut slow {
        s.write_all(b"GET /cr HTTP/1.1\r\nHost: c").unwrap();
    }
    assert_honest_answered(&a, &acs, &url, "slow clients");
    // Every one of them is closed by its deadline (or dropped earlier for a newer one).
    let limit = Duration::from_millis(DEADLINE_MS) + Duration::from_secs(2);
    for (i, s) in slow.iter_mut().enumerate() {
        let (closed, _) = closed_within(s, limit);
        assert!(closed, "slow client {i} still open after {limit:?}");
    }
    let mut more = idle_connections(addr, 4);
    for s in &mut more {
        s.write_all(b"GET /cr HTTP/1.1\r\n").unwrap();
    }
    assert_sigterm_honoured(&mut a, "slow clients");
}

#[test]
fn thousands_of_idle_connections_need_no_threads() {
    let acs = acs();
    let (mut a, url) = idle_agent("cridle", &acs);
    let addr = a.listening();
    let pid = a.pid();
    let (threads, fds) = (proc::threads(pid), proc::fds(pid));
    let idle = idle_connections(addr, 3_000);
    assert!(idle.len() > 2_000, "only {} connected", idle.len());
    assert_honest_answered(&a, &acs, &url, "3,000 idle connections");
    let after = proc::threads(pid);
    assert!(
        after <= threads,
        "{threads} threads before, {after} with the idle connections"
    );
    let open = proc::fds(pid);
    assert!(
        open <= fds + MAX_CONNECTIONS + 2,
        "{fds} descriptors before, {open} with the idle connections"
    );
    assert_sigterm_honoured(&mut a, "3,000 idle connections");
    drop(idle);
}

#[test]
fn an_endless_header_line_is_cut_off_at_the_limit() {
    let acs = acs();
    let (mut a, url) = idle_agent("crlong", &acs);
    let addr = a.listening();
    let pid = a.pid();
    let peak = proc::peak_kib(pid);
    // One header line of up to 64 MiB, without its end.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(b"GET /cr HTTP/1.1\r\nX-Long: ").unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0usize;
    while sent < 64 << 20 && s.write_all(&chunk).is_ok() {
        sent += chunk.len();
    }
    let (closed, answer) = closed_within(&mut s, T);
    assert!(closed, "the connection stays open after {sent} bytes");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    assert!(sent < 64 << 20, "the agent took all {sent} bytes");
    let grew = proc::peak_kib(pid).saturating_sub(peak);
    assert!(
        grew < 4 * 1024,
        "peak memory grew by {grew} KiB for a head limited to {MAX_HEAD_BYTES} bytes"
    );
    assert_honest_answered(&a, &acs, &url, "endless header line");
    assert_sigterm_honoured(&mut a, "endless header line");
}

#[test]
fn the_listener_recovers_after_running_out_of_file_descriptors() {
    let acs = acs();
    // Few descriptors to spare: the idle connections below exhaust them (EMFILE) long
    // before the connection limit.
    let probe = Agent::start("crfd0", &acs, "", "");
    assert!(acs.wait_informs(1, T), "{}", probe.log());
    probe.idle_after(&["session: end"]);
    let baseline = proc::fds(probe.pid()) as u64;
    drop(probe);
    let limit = baseline + 12;
    assert!(limit < (MAX_CONNECTIONS as u64) + baseline);
    let acs = crate::support::acs();
    let a = Agent::start_nofile("crfd", &acs, limit);
    assert!(acs.wait_informs(1, T), "{}", a.log());
    a.idle_after(&["session: end"]);
    let url = acs.cr_url().unwrap();
    let addr = a.listening();
    let mut a = a;
    let pid = a.pid();
    // More idle connections than the agent has descriptors: the listener runs out.
    let idle = idle_connections(addr, 60);
    assert!(idle.len() >= 40, "only {} connected", idle.len());
    // While they stay open, the ACS still gets through, and so does the session it asks for.
    assert_honest_answered(&a, &acs, &url, "out of descriptors");
    assert!(proc::fds(pid) as u64 <= limit);
    drop(idle);
    // And afterwards, for good.
    assert_honest_answered(&a, &acs, &url, "after running out of descriptors");
    let again = idle_connections(addr, 60);
    assert_honest_answered(&a, &acs, &url, "out of descriptors again");
    assert_sigterm_honoured(&mut a, "out of descriptors");
    drop(again);
}

#[test]
fn refused_requests_are_logged_once_per_window_with_a_count() {
    let acs = acs();
    let (a, url) = idle_agent("crwarn", &acs);
    let before = listener_warnings(&a.log());
    for _ in 0..50 {
        assert_eq!(Acs::connection_request(&url, "acs", "wrong").unwrap(), 401);
    }
    // The 100 requests (50 challenges, 50 wrong answers) have all been answered.
    a.wait_log("connection request: answered 401", 100);
    let warned = listener_warnings(&a.log()) - before;
    assert!(
        warned <= 1,
        "{warned} warnings for 50 refused requests:\n{}",
        a.log()
    );
    assert!(warned >= 1, "the first refusal is logged");
}
