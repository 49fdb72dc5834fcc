//! IPPing and TraceRoute over real ICMP between network namespaces the test makes, never
//! outside this machine:
//!
//! ```text
//!   ns A (cwmpd, test ACS)  a0 10.213.1.1 ── b0 10.213.1.2  ns B (router)  b1 10.213.2.1 ── c0 10.213.2.2  ns C
//!                           a0 fd13:1::1 ─── b0 fd13:1::2
//! ```
//!
//! The library is driven from a thread inside ns A; the agent runs in ns A and is driven by
//! the ACS (SetParameterValues → 8 DIAGNOSTICS COMPLETE → GetParameterValues). Needs root.
//!
//! Download/UploadDiagnostics need no namespace: the library and the agent use a file server
//! and one-shot HTTP servers on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use cwmpd::diag::http::{self, HttpReport, HttpTest};
use cwmpd::diag::{self, DiagError, Outcome, Protocol, Request, Target};
use cwmpd_testacs::files::{FileServer, Serve};
use cwmpd_testacs::Acs;

use crate::support::agent::Agent;
use crate::support::netns::Netns;
use crate::support::soap::{gpv, spv};
use crate::support::wait::T;
use crate::support::{acs, ClosedPort};

/// A Connection Request from namespace A. A test sends at most three, the burst the agent's
/// rate limit allows at once: none is refused.
fn connection_request(n: &Net, acs: &Acs) {
    let cr = acs.cr_url().unwrap();
    let status =
        n.a.within(move || Acs::connection_request(&cr, "acs", "crpw").unwrap());
    assert_eq!(status, 200);
}

struct Net {
    a: Netns,
    _b: Netns,
    _c: Netns,
}

fn net(tag: &str) -> Option<Net> {
    let a = Netns::create(&format!("{tag}a"))?;
    let b = Netns::create(&format!("{tag}b"))?;
    let c = Netns::create(&format!("{tag}c"))?;
    for n in [&a, &b, &c] {
        n.ip("link set lo up");
        // New interfaces skip duplicate address detection: a link-local address still
        // tentative right after the link comes up would delay the first IPv6 probes.
        n.within(|| {
            std::fs::write("/proc/sys/net/ipv6/conf/default/accept_dad", "0").expect("accept_dad")
        });
    }
    a.ip(&format!("link add a0 type veth peer name b0 netns {}", b.0));
    b.ip(&format!("link add b1 type veth peer name c0 netns {}", c.0));
    a.ip("addr add 10.213.1.1/24 dev a0");
    a.ip("addr add fd13:1::1/64 dev a0 nodad");
    b.ip("addr add 10.213.1.2/24 dev b0");
    b.ip("addr add fd13:1::2/64 dev b0 nodad");
    b.ip("addr add 10.213.2.1/24 dev b1");
    c.ip("addr add 10.213.2.2/24 dev c0");
    a.ip("link set a0 up");
    b.ip("link set b0 up");
    b.ip("link set b1 up");
    c.ip("link set c0 up");
    a.ip("route add 10.213.2.0/24 via 10.213.1.2");
    c.ip("route add default via 10.213.2.1");
    // B forwards, and answers every probe (no ICMP rate limit in the way of repeated tests).
    b.within(|| {
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1").expect("ip_forward");
        std::fs::write("/proc/sys/net/ipv4/icmp_ratelimit", "0").expect("icmp_ratelimit");
    });
    Some(Net { a, _b: b, _c: c })
}

fn target(host: &str, protocol: Protocol, timeout_ms: u64) -> Target {
    Target {
        host: host.into(),
        protocol,
        interface: None,
        timeout: Duration::from_millis(timeout_ms),
        size: 56,
        dscp: 10,
    }
}

#[test]
fn ping_and_traceroute_across_namespaces() {
    let Some(n) = net("dg") else { return };
    let run = |r: Request| n.a.within(move || diag::run(&r));
    // Two hops away: every echo answered, round trips sane.
    match run(Request::IpPing {
        target: target("10.213.2.2", Protocol::Any, 1000),
        repetitions: 3,
    }) {
        Outcome::Ping(Ok(r)) => {
            assert_eq!((r.success, r.failure), (3, 0), "{r:?}");
            assert!(
                r.min_us > 0 && r.min_us <= r.avg_us && r.avg_us <= r.max_us,
                "{r:?}"
            );
            assert!(r.max_us < 1_000_000, "{r:?}");
            assert_eq!(r.source, Some("10.213.1.1".parse().unwrap()));
        }
        o => panic!("{o:?}"),
    }
    // IPv6 on the first link (the first echo waits for neighbour discovery on both sides,
    // about a second on a fresh link: a generous timeout).
    match run(Request::IpPing {
        target: target("fd13:1::2", Protocol::V6, 3000),
        repetitions: 2,
    }) {
        Outcome::Ping(Ok(r)) => assert_eq!((r.success, r.failure), (2, 0), "{r:?}"),
        o => panic!("{o:?}"),
    }
    // Nobody at .99: each echo fails within its timeout, no hang.
    let started = std::time::Instant::now();
    match run(Request::IpPing {
        target: target("10.213.2.99", Protocol::V4, 300),
        repetitions: 2,
    }) {
        Outcome::Ping(Ok(r)) => assert_eq!((r.success, r.failure), (0, 2), "{r:?}"),
        o => panic!("{o:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    // No route at all.
    match run(Request::IpPing {
        target: target("10.214.0.1", Protocol::V4, 300),
        repetitions: 1,
    }) {
        Outcome::Ping(Err(e)) => assert_eq!(e.state(), "Error_NoRouteToHost"),
        o => panic!("{o:?}"),
    }
    // TraceRoute: the router, then the host.
    match run(Request::TraceRoute {
        target: target("10.213.2.2", Protocol::V4, 1000),
        tries: 2,
        max_hops: 8,
    }) {
        Outcome::Trace(r, None) => {
            let hops: Vec<String> = r
                .hops
                .iter()
                .map(|h| h.address.map(|a| a.to_string()).unwrap_or_default())
                .collect();
            assert_eq!(hops, ["10.213.1.2", "10.213.2.2"]);
            assert!(r
                .hops
                .iter()
                .all(|h| h.rtts_ms.len() == 2 && h.rtts_ms.iter().all(|&t| t >= 1)));
            assert!(r.response_ms >= 1);
        }
        o => panic!("{o:?}"),
    }
    // One hop allowed: the router answers, the host is out of reach.
    match run(Request::TraceRoute {
        target: target("10.213.2.2", Protocol::V4, 1000),
        tries: 1,
        max_hops: 1,
    }) {
        Outcome::Trace(r, Some(e)) => {
            assert_eq!(e.state(), "Error_MaxHopCountExceeded");
            assert_eq!(r.hops.len(), 1);
            assert_eq!(r.hops[0].address, Some("10.213.1.2".parse().unwrap()));
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn the_acs_requests_tests_and_reads_their_results() {
    let Some(n) = net("dga") else { return };
    let acs: Acs = n.a.within(acs);
    let p = "Device.IP.Diagnostics.";
    acs.push(&spv(
        &[
            (&format!("{p}IPPing.Host"), "string", "10.213.2.2"),
            (
                &format!("{p}IPPing.NumberOfRepetitions"),
                "unsignedInt",
                "3",
            ),
            (&format!("{p}IPPing.Timeout"), "unsignedInt", "1000"),
            (
                &format!("{p}IPPing.DiagnosticsState"),
                "string",
                "Requested",
            ),
            (&format!("{p}TraceRoute.Host"), "string", "10.213.2.2"),
            (&format!("{p}TraceRoute.NumberOfTries"), "unsignedInt", "1"),
            (
                &format!("{p}TraceRoute.DiagnosticsState"),
                "string",
                "Requested",
            ),
        ],
        "diag",
    ));
    let a = Agent::start_in("diag", &acs, "", "", Some(&n.a.0));
    let eight = |i: &[cwmpd_testacs::Inform]| {
        i.iter()
            .filter(|i| i.codes().contains(&"8 DIAGNOSTICS COMPLETE".to_string()))
            .count()
    };
    assert!(
        acs.wait(Duration::from_secs(20), |i, _, _| eight(i) >= 1),
        "{}",
        a.log()
    );
    // Both tests may finish before or after each other's session: once the agent is idle
    // after the second one ended, both are done and their sessions over.
    let ended = " ended: ";
    a.idle_after(&[ended, ended]);
    acs.push(&gpv(&[&format!("{p}IPPing."), &format!("{p}TraceRoute.")]));
    let before = acs.replies().len();
    connection_request(&n, &acs);
    assert!(acs.wait(T, |_, r, _| r.len() > before));
    let values = acs.replies().last().unwrap().values();
    let v = |k: &str| {
        values
            .iter()
            .find(|(n, _)| n == &format!("{p}{k}"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} missing: {values:?}"))
    };
    for test in ["IPPing", "TraceRoute"] {
        assert_eq!(
            v(&format!("{test}.DiagnosticsState")),
            "Complete",
            "{values:?}\n{}",
            a.log()
        );
    }
    assert_eq!(v("IPPing.SuccessCount"), "3");
    assert_eq!(v("IPPing.FailureCount"), "0");
    assert_eq!(v("IPPing.IPAddressUsed"), "10.213.1.1");
    assert_eq!(v("TraceRoute.RouteHopsNumberOfEntries"), "2");
    assert_eq!(v("TraceRoute.RouteHops.1.HostAddress"), "10.213.1.2");
    assert_eq!(v("TraceRoute.RouteHops.2.HostAddress"), "10.213.2.2");
    assert_eq!(v("TraceRoute.RouteHops.2.ErrorCode"), "0");
    // A second run rebuilds the hop table as RouteHops.1 and .2 again.
    acs.push(&spv(
        &[(
            &format!("{p}TraceRoute.DiagnosticsState"),
            "string",
            "Requested",
        )],
        "diag",
    ));
    // Read while the hops are cleared (the model then forgets remembered keys).
    acs.push(&gpv(&[&format!("{p}TraceRoute.")]));
    let informs = acs.informs().len();
    connection_request(&n, &acs);
    assert!(acs.wait(Duration::from_secs(20), |i, _, _| eight(&i[informs..]) >= 1));
    // That run's session is over too.
    a.idle_after(&[ended, ended, ended]);
    acs.push(&gpv(&[&format!("{p}TraceRoute.")]));
    let before = acs.replies().len();
    connection_request(&n, &acs);
    assert!(acs.wait(T, |_, r, _| r.len() > before));
    let hops: Vec<String> = acs
        .replies()
        .last()
        .unwrap()
        .values()
        .into_iter()
        .filter(|(n, _)| n.ends_with(".HostAddress"))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        hops,
        [
            format!("{p}TraceRoute.RouteHops.1.HostAddress"),
            format!("{p}TraceRoute.RouteHops.2.HostAddress")
        ]
    );
}

fn fetch(url: &str) -> Result<HttpReport, DiagError> {
    http::download(&HttpTest {
        url: url.into(),
        protocol: Protocol::Any,
        interface: None,
        dscp: 10,
        priority: 3,
    })
}

/// A server on 127.0.0.1 that reads one request (head and Content-Length body: closing with
/// unread bytes would reset the connection), answers it with `response` and closes.
fn one_shot(response: &'static [u8]) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = l.accept() {
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && c.read(&mut b).unwrap_or(0) == 1 {
                head.push(b[0]);
            }
            let length: u64 = String::from_utf8_lossy(&head)
                .to_ascii_lowercase()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let _ = std::io::copy(&mut (&mut c).take(length), &mut std::io::sink());
            let _ = c.write_all(response);
        }
    });
    format!("http://127.0.0.1:{port}/file")
}

#[test]
fn download_diagnostics_time_and_count_one_http_get() {
    let files = FileServer::start(None).unwrap();
    files.serve("/100k", Serve::Pattern(100_000));
    let r = fetch(&files.url("/100k")).unwrap();
    assert!(
        r.test_bytes > 100_000 && r.test_bytes < 100_000 + 1024,
        "head and body: {}",
        r.test_bytes
    );
    assert!(r.tcp_open_request <= r.tcp_open_response);
    assert!(
        r.tcp_open_response <= r.rom && r.rom <= r.bom && r.bom <= r.eom,
        "{r:?}"
    );
    assert_eq!(r.source, Some("127.0.0.1".parse().unwrap()));
    // Chunked and close-delimited bodies, counted with their framing and head.
    let chunked: &[u8] =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n";
    assert_eq!(
        fetch(&one_shot(chunked)).unwrap().test_bytes,
        chunked.len() as u64
    );
    let close: &[u8] = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nsome bytes until the close";
    assert_eq!(
        fetch(&one_shot(close)).unwrap().test_bytes,
        close.len() as u64
    );
}

#[test]
fn download_diagnostics_failures_have_their_states() {
    let files = FileServer::start(None).unwrap();
    files.serve("/missing", Serve::Status(404));
    files.serve(
        "/cut",
        Serve::Cut {
            body: vec![7; 5000],
            sent: 1000,
        },
    );
    let closed = ClosedPort::new();
    let cases: Vec<(String, &str)> = vec![
        (files.url("/missing"), "Error_TransferFailed"),
        (files.url("/cut"), "Error_TransferFailed"),
        (
            format!("http://127.0.0.1:{}/", closed.port),
            "Error_InitConnectionFailed",
        ),
        (one_shot(b""), "Error_NoResponse"),
        (one_shot(b"SSH-2.0-x\r\n\r\n"), "Error_NoResponse"),
        (
            one_shot(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            "Error_TransferFailed",
        ),
        ("https://127.0.0.1/x".into(), "Error_Other"),
        ("ftp://127.0.0.1/x".into(), "Error_Other"),
    ];
    for (url, state) in cases {
        let e = fetch(&url).unwrap_err();
        assert_eq!(e.state(), state, "{url}: {e}");
    }
    // A name that is not an address of the family asked for: no DNS query leaves the host.
    let e = http::download(&HttpTest {
        url: "http://127.0.0.1/x".into(),
        protocol: Protocol::V6,
        interface: None,
        dscp: 0,
        priority: 0,
    })
    .unwrap_err();
    assert_eq!(e.state(), "Error_CannotResolveHostName");
}

/// Waits for 8 DIAGNOSTICS COMPLETE, then reads the object `p` with a GetParameterValues in
/// a session started by a Connection Request: a lookup of a value by its name without `p`
/// (a missing name fails the test).
fn results_after_completion(acs: &Acs, a: &Agent, p: &str) -> impl Fn(&str) -> String {
    assert!(
        acs.wait(Duration::from_secs(20), |i, _, _| i.iter().any(|i| i
            .codes()
            .contains(&"8 DIAGNOSTICS COMPLETE".to_string()))),
        "{}",
        a.log()
    );
    acs.push(&gpv(&[p]));
    let before = acs.replies().len();
    let cr = acs.cr_url().unwrap();
    assert_eq!(Acs::connection_request(&cr, "acs", "crpw").unwrap(), 200);
    assert!(acs.wait(T, |_, r, _| r.len() > before), "{}", a.log());
    let values = acs.replies().last().unwrap().values();
    let values: std::collections::BTreeMap<String, String> = values
        .into_iter()
        .filter_map(|(n, v)| Some((n.strip_prefix(p)?.to_string(), v)))
        .collect();
    move |k| {
        values
            .get(k)
            .cloned()
            .unwrap_or_else(|| panic!("{k} missing: {values:?}"))
    }
}

#[test]
fn the_acs_runs_a_download_diagnostic_and_reads_its_results() {
    let files = FileServer::start(None).unwrap();
    files.serve("/speed", Serve::Pattern(300_000));
    let acs = acs();
    let p = "Device.IP.Diagnostics.DownloadDiagnostics.";
    acs.push(&spv(
        &[
            (&format!("{p}DownloadURL"), "string", &files.url("/speed")),
            (&format!("{p}DSCP"), "unsignedInt", "8"),
            (&format!("{p}DiagnosticsState"), "string", "Requested"),
        ],
        "diag",
    ));
    let a = Agent::start("dldiag", &acs, "", "");
    let v = results_after_completion(&acs, &a, p);
    assert_eq!(v("DiagnosticsState"), "Complete", "{}", a.log());
    assert_eq!(v("IPAddressUsed"), "127.0.0.1");
    let bytes: u64 = v("TestBytesReceived").parse().unwrap();
    assert!((300_000..301_024).contains(&bytes), "{bytes}");
    assert_eq!(
        v("TestBytesReceivedUnderFullLoading"),
        v("TestBytesReceived")
    );
    // Same-length UTC times with microseconds: their text order is their time order.
    let times: Vec<String> = [
        "TCPOpenRequestTime",
        "TCPOpenResponseTime",
        "ROMTime",
        "BOMTime",
        "EOMTime",
    ]
    .iter()
    .map(|k| v(k))
    .collect();
    for t in &times {
        assert_eq!(t.len(), "2026-11-25T10:00:00.000000Z".len(), "{t}");
        assert!(t.ends_with('Z') && !t.starts_with("0001"), "{t}");
    }
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(v("DownloadTransports"), "HTTP");
    assert_eq!(v("DownloadDiagnosticMaxConnections"), "1");
}

#[test]
fn upload_diagnostics_send_test_file_length_bytes_and_time_the_answer() {
    let files = FileServer::start(None).unwrap();
    let test = HttpTest {
        url: files.url("/up"),
        protocol: Protocol::V4,
        interface: None,
        dscp: 0,
        priority: 0,
    };
    let r = http::upload(&test, 200_000).unwrap();
    let uploads = files.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].1.len(), 200_000);
    assert!(uploads[0]
        .1
        .iter()
        .enumerate()
        .all(|(i, b)| *b == (i % 16384 % 251) as u8));
    assert!(
        r.test_bytes > 200_000 && r.test_bytes < 200_000 + 1024,
        "{}",
        r.test_bytes
    );
    assert!(
        r.tcp_open_response <= r.rom && r.rom <= r.bom && r.bom <= r.eom,
        "{r:?}"
    );
    // A refusal is a failed transfer; a server that says nothing is no response.
    let refused = HttpTest {
        url: one_shot(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
        ..test.clone()
    };
    assert_eq!(
        http::upload(&refused, 10).unwrap_err().state(),
        "Error_TransferFailed"
    );
    let silent = HttpTest {
        url: one_shot(b""),
        ..test
    };
    assert_eq!(
        http::upload(&silent, 10).unwrap_err().state(),
        "Error_NoResponse"
    );
}

#[test]
fn the_acs_runs_an_upload_diagnostic_and_reads_its_results() {
    let files = FileServer::start(None).unwrap();
    let acs = acs();
    let p = "Device.IP.Diagnostics.UploadDiagnostics.";
    acs.push(&spv(
        &[
            (&format!("{p}UploadURL"), "string", &files.url("/speed")),
            (&format!("{p}TestFileLength"), "unsignedLong", "150000"),
            (&format!("{p}DiagnosticsState"), "string", "Requested"),
        ],
        "diag",
    ));
    let a = Agent::start("uldiag", &acs, "", "");
    let v = results_after_completion(&acs, &a, p);
    assert_eq!(v("DiagnosticsState"), "Complete", "{}", a.log());
    let sent: u64 = v("TestBytesSent").parse().unwrap();
    assert!((150_000..151_024).contains(&sent), "{sent}");
    assert_eq!(files.uploads()[0].1.len(), 150_000);
    assert!(v("ROMTime") <= v("BOMTime") && v("BOMTime") <= v("EOMTime"));
    assert_eq!(v("UploadTransports"), "HTTP");
}
