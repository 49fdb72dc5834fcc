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
    let slow: fn(&str) -> Result<Vec<IpAddr>, String> = |_| {
        std::thread::sleep(Duration::from_millis(500));
        Ok(vec!["10.0.0.1".parse().unwrap()])
    };
    let started = std::time::Instant::now();
    let e = resolve_with(
        "acs.example",
        Protocol::Any,
        Duration::from_millis(50),
        slow,
    )
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.state(), "Error_CannotResolveHostName");
    assert!(e.to_string().contains("no answer within"), "{e}");
    let both: fn(&str) -> Result<Vec<IpAddr>, String> = |_| {
        Ok(vec![
            "10.0.0.1".parse().unwrap(),
            "fd00::1".parse().unwrap(),
        ])
    };
    let at = |p| resolve_with("h", p, Duration::from_secs(5), both);
    assert_eq!(at(Protocol::V6), Ok("fd00::1".parse().unwrap()));
    assert_eq!(at(Protocol::V4), Ok("10.0.0.1".parse().unwrap()));
    let failing: fn(&str) -> Result<Vec<IpAddr>, String> = |_| Err("NXDOMAIN".into());
    let e = resolve_with("h", Protocol::Any, Duration::from_secs(5), failing).unwrap_err();
    assert_eq!(e.state(), "Error_CannotResolveHostName");
    let none: fn(&str) -> Result<Vec<IpAddr>, String> = |_| Ok(vec!["10.0.0.1".parse().unwrap()]);
    assert!(resolve_with("h", Protocol::V6, Duration::from_secs(5), none).is_err());
}
