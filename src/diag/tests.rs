//! Request plumbing without the network (the probes themselves are tested in namespaces by
//! `tests/it/diagnostics.rs`).

use super::*;

#[test]
fn protocol_versions_parse() {
    assert_eq!(Protocol::parse(""), Some(Protocol::Any));
    assert_eq!(Protocol::parse("Any"), Some(Protocol::Any));
    assert_eq!(Protocol::parse("IPv4"), Some(Protocol::V4));
    assert_eq!(Protocol::parse("IPv6"), Some(Protocol::V6));
    assert_eq!(Protocol::parse("ipv4"), None);
}

#[test]
fn literal_addresses_resolve_without_dns_and_respect_the_family() {
    assert_eq!(
        resolve(" 10.213.0.1 ", Protocol::Any),
        Ok("10.213.0.1".parse().unwrap())
    );
    assert_eq!(
        resolve("fd13::1", Protocol::V6),
        Ok("fd13::1".parse().unwrap())
    );
    for (host, p) in [
        ("10.213.0.1", Protocol::V6),
        ("fd13::1", Protocol::V4),
        ("", Protocol::Any),
    ] {
        let e = resolve(host, p).unwrap_err();
        assert_eq!(e.state(), "Error_CannotResolveHostName", "{host}");
    }
}

#[test]
fn errors_map_to_diagnostics_states() {
    assert_eq!(
        DiagError::NoRoute("x".into()).state(),
        "Error_NoRouteToHost"
    );
    assert_eq!(
        DiagError::MaxHopCountExceeded.state(),
        "Error_MaxHopCountExceeded"
    );
    assert_eq!(DiagError::Internal("x".into()).state(), "Error_Internal");
}

#[test]
fn a_ping_to_an_unresolvable_host_reports_it_without_sending() {
    let t = Target {
        host: "fd13::1".into(),
        protocol: Protocol::V4,
        interface: None,
        timeout: std::time::Duration::from_millis(10),
        size: 8,
        dscp: 0,
    };
    match run(&Request::IpPing {
        target: t.clone(),
        repetitions: 1,
    }) {
        Outcome::Ping(Err(e)) => assert_eq!(e.state(), "Error_CannotResolveHostName"),
        o => panic!("{o:?}"),
    }
    match run(&Request::TraceRoute {
        target: t,
        tries: 1,
        max_hops: 2,
    }) {
        Outcome::Trace(r, Some(e)) => {
            assert!(r.hops.is_empty());
            assert_eq!(e.state(), "Error_CannotResolveHostName");
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn name_lookups_are_bounded_and_filtered_by_family() {
    use crate::http::resolve::Resolver;
    let slow: crate::http::resolve::Lookup = |_| {
        std::thread::sleep(Duration::from_millis(500));
        Ok(vec!["10.0.0.1".parse().unwrap()])
    };
    let started = std::time::Instant::now();
    let r = Resolver::new(slow, Duration::from_millis(50));
    let e = resolve_with(&r, "acs.example", Protocol::Any).unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(400));
    assert_eq!(e.state(), "Error_CannotResolveHostName");
    assert!(e.to_string().contains("no answer within"), "{e}");
    let both: crate::http::resolve::Lookup = |_| {
        Ok(vec![
            "10.0.0.1".parse().unwrap(),
            "fd00::1".parse().unwrap(),
        ])
    };
    let r = Resolver::new(both, Duration::from_secs(5));
    assert_eq!(
        resolve_with(&r, "h", Protocol::V6),
        Ok("fd00::1".parse().unwrap())
    );
    assert_eq!(
        resolve_with(&r, "h", Protocol::V4),
        Ok("10.0.0.1".parse().unwrap())
    );
    let failing: crate::http::resolve::Lookup = |_| Err(std::io::Error::other("NXDOMAIN"));
    let r = Resolver::new(failing, Duration::from_secs(5));
    let e = resolve_with(&r, "h", Protocol::Any).unwrap_err();
    assert_eq!(e.state(), "Error_CannotResolveHostName");
}
