//! The diagnostics handler: inputs, the TR-181 reset rules, requests and results.
use super::*;
use crate::backend::Handler as _;
use crate::codec::toml;
use crate::diag::{Hop, PingReport, TraceReport};

fn args(test: &str, field: &str) -> Args {
    let mut table = toml::Table::new();
    table.insert("test".into(), test.into());
    table.insert("field".into(), field.into());
    Args {
        table,
        path: String::new(),
    }
}

fn set(d: &mut Handler, list: &[(&str, &str, &str)]) -> Result<(), BackendError> {
    d.begin();
    for (t, f, v) in list {
        if let Err(e) = d.set(&args(t, f), v) {
            d.abort();
            return Err(e);
        }
    }
    d.commit().map(|_| ())
}

fn get(d: &mut Handler, t: &str, f: &str) -> String {
    d.get(&args(t, f)).unwrap()
}

fn no_iface(_: &str) -> Option<String> {
    None
}

#[test]
fn requested_with_inputs_runs_with_the_new_inputs() {
    let mut d = Handler::default();
    assert_eq!(get(&mut d, "ipping", "DiagnosticsState"), "None");
    set(
        &mut d,
        &[
            ("ipping", "Host", "10.0.0.1"),
            ("ipping", "NumberOfRepetitions", "2"),
            ("ipping", "DiagnosticsState", "Requested"),
        ],
    )
    .unwrap();
    assert_eq!(get(&mut d, "ipping", "DiagnosticsState"), "Requested");
    let r = d.tests.requested(no_iface);
    assert_eq!(r.len(), 1);
    let (name, generation, req) = &r[0];
    assert_eq!(name, "ipping");
    match req {
        Ok(Request::IpPing {
            target,
            repetitions,
        }) => {
            assert_eq!((target.host.as_str(), *repetitions), ("10.0.0.1", 2));
            assert_eq!(target.timeout, Duration::from_millis(PING_TIMEOUT_MS));
        }
        other => panic!("{other:?}"),
    }
    assert!(d.tests.requested(no_iface).is_empty(), "handed out once");
    let report = PingReport {
        success: 2,
        min_us: 100,
        avg_us: 1500,
        max_us: 2900,
        ..Default::default()
    };
    assert!(d
        .tests
        .finish("ipping", *generation, Ok(Outcome::Ping(Ok(report)))));
    assert_eq!(get(&mut d, "ipping", "DiagnosticsState"), "Complete");
    assert_eq!(get(&mut d, "ipping", "SuccessCount"), "2");
    assert_eq!(
        get(&mut d, "ipping", "AverageResponseTime"),
        "2",
        "rounded up"
    );
    assert_eq!(get(&mut d, "ipping", "MaximumResponseTimeDetailed"), "2900");
}

#[test]
fn changing_an_input_resets_and_makes_a_running_result_stale() {
    let mut d = Handler::default();
    set(&mut d, &[("ipping", "DiagnosticsState", "Requested")]).unwrap();
    let (_, generation, _) = d.tests.requested(no_iface).remove(0);
    set(&mut d, &[("ipping", "Host", "h2")]).unwrap();
    assert_eq!(get(&mut d, "ipping", "DiagnosticsState"), "None");
    assert!(
        !d.tests.finish(
            "ipping",
            generation,
            Ok(Outcome::Ping(Ok(PingReport::default())))
        ),
        "a result for the old inputs is dropped"
    );
    assert_eq!(get(&mut d, "ipping", "SuccessCount"), "");
    // Canceled stops a requested test too.
    set(&mut d, &[("traceroute", "DiagnosticsState", "Requested")]).unwrap();
    set(&mut d, &[("traceroute", "DiagnosticsState", "Canceled")]).unwrap();
    assert_eq!(get(&mut d, "traceroute", "DiagnosticsState"), "None");
    assert!(d.tests.requested(no_iface).is_empty());
}

#[test]
fn only_requested_or_canceled_may_be_written_and_abort_drops_staged_writes() {
    let mut d = Handler::default();
    assert!(matches!(
        set(
            &mut d,
            &[
                ("ipping", "Host", "x"),
                ("ipping", "DiagnosticsState", "Complete")
            ]
        ),
        Err(BackendError::InvalidValue(_))
    ));
    assert_eq!(
        get(&mut d, "ipping", "Host"),
        "",
        "the Host write was aborted"
    );
    assert!(matches!(
        d.get(&args("nope", "Host")),
        Err(BackendError::BadArgs(_))
    ));
}

#[test]
fn download_requests_take_their_inputs_and_refuse_what_is_not_offered() {
    let mut d = Handler::default();
    let download = [
        ("download", "DownloadURL", "http://h/f"),
        ("download", "Interface", "Device.IP.Interface.2"),
        ("download", "DSCP", "46"),
        ("download", "EthernetPriority", "5"),
        ("download", "DiagnosticsState", "Requested"),
    ];
    set(&mut d, &download).unwrap();
    let iface = |p: &str| (p == "Device.IP.Interface.2").then(|| "eth0".to_string());
    let (name, _, req) = d.tests.requested(iface).remove(0);
    assert_eq!(name, "download");
    assert_eq!(
        req.unwrap(),
        Request::Download(diag::http::HttpTest {
            url: "http://h/f".into(),
            protocol: Protocol::Any,
            interface: Some("eth0".into()),
            dscp: 46,
            priority: 5,
        })
    );
    for (k, v, state) in [
        ("NumberOfConnections", "2", "Error_Other"),
        ("TimeBasedTestDuration", "10", "Error_Other"),
        ("EthernetPriority", "8", "Error_Internal"),
    ] {
        let mut d = Handler::default();
        let mut writes: Vec<_> = download.iter().filter(|w| w.1 != k).copied().collect();
        writes.insert(0, ("download", k, v));
        set(&mut d, &writes).unwrap();
        let (_, generation, req) = d.tests.requested(iface).remove(0);
        let e = req.unwrap_err();
        assert_eq!(e.state(), state, "{k} = {v}");
        assert!(d.tests.finish("download", generation, Err(e)));
        assert_eq!(get(&mut d, "download", "DiagnosticsState"), state);
    }
}

#[test]
fn upload_requests_need_a_test_file_length() {
    let mut d = Handler::default();
    let upload = [
        ("upload", "UploadURL", "http://h/u"),
        ("upload", "TestFileLength", "4096"),
        ("upload", "DiagnosticsState", "Requested"),
    ];
    set(&mut d, &upload).unwrap();
    let (name, _, req) = d.tests.requested(no_iface).remove(0);
    assert_eq!(name, "upload");
    match req.unwrap() {
        Request::Upload(t, 4096) => assert_eq!(t.url, "http://h/u"),
        r => panic!("{r:?}"),
    }
    set(&mut d, &[("upload", "TestFileLength", "0"), upload[2]]).unwrap();
    let (_, _, req) = d.tests.requested(no_iface).remove(0);
    assert_eq!(req.unwrap_err().state(), "Error_Other");
}

#[test]
fn bad_inputs_and_unknown_interfaces_become_errors_not_runs() {
    let mut d = Handler::default();
    set(
        &mut d,
        &[
            ("traceroute", "Host", "h"),
            ("traceroute", "Interface", "Device.IP.Interface.7"),
            ("traceroute", "DiagnosticsState", "Requested"),
        ],
    )
    .unwrap();
    let (_, generation, req) = d.tests.requested(no_iface).remove(0);
    let e = req.unwrap_err();
    assert_eq!(e.state(), "Error_Internal");
    assert!(d.tests.finish("traceroute", generation, Err(e)));
    assert_eq!(
        get(&mut d, "traceroute", "DiagnosticsState"),
        "Error_Internal"
    );
    set(
        &mut d,
        &[
            ("traceroute", "Interface", "Device.IP.Interface.2."),
            ("traceroute", "NumberOfTries", "x"),
            ("traceroute", "DiagnosticsState", "Requested"),
        ],
    )
    .unwrap();
    let r = d
        .tests
        .requested(|p| (p == "Device.IP.Interface.2").then(|| "eth0".to_string()));
    assert!(r[0].2.is_err(), "NumberOfTries is not a number");
    set(
        &mut d,
        &[
            ("traceroute", "NumberOfTries", "2"),
            ("traceroute", "DiagnosticsState", "Requested"),
        ],
    )
    .unwrap();
    let r = d
        .tests
        .requested(|p| (p == "Device.IP.Interface.2").then(|| "eth0".to_string()));
    match &r[0].2 {
        Ok(Request::TraceRoute { target, tries, .. }) => {
            assert_eq!((target.interface.as_deref(), *tries), (Some("eth0"), 2))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn trace_hops_form_the_route_hops_table() {
    let mut d = Handler::default();
    set(&mut d, &[("traceroute", "DiagnosticsState", "Requested")]).unwrap();
    let (_, generation, _) = d.tests.requested(no_iface).remove(0);
    let hop = |a: &str, rtts: Vec<u32>| Hop {
        address: a.parse().ok(),
        error_code: 0,
        rtts_ms: rtts,
    };
    let report = TraceReport {
        source: "10.0.0.2".parse().ok(),
        response_ms: 3,
        hops: vec![hop("10.0.0.1", vec![1, 0, 2]), hop("10.0.1.1", vec![3])],
    };
    assert!(d.tests.finish(
        "traceroute",
        generation,
        Ok(Outcome::Trace(report, Some(DiagError::MaxHopCountExceeded)))
    ));
    assert_eq!(
        get(&mut d, "traceroute", "DiagnosticsState"),
        "Error_MaxHopCountExceeded"
    );
    let mut table = toml::Table::new();
    table.insert("test".into(), "traceroute".into());
    table.insert("table".into(), "RouteHops".into());
    let list = d
        .instances(&Args {
            table,
            path: String::new(),
        })
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].vars["hop"], "2");
    let mut a = args("traceroute", "RouteHops.RTTimes");
    a.table.insert("hop".into(), "1".into());
    assert_eq!(d.get(&a).unwrap(), "1,0,2");
    a.table.insert("hop".into(), "3".into());
    assert!(matches!(d.get(&a), Err(BackendError::NotFound(_))));
    assert_eq!(get(&mut d, "traceroute", "IPAddressUsed"), "10.0.0.2");
}

#[test]
fn bindings_are_checked() {
    let d = Handler::default();
    let t = |s: &str| -> toml::Table { toml::from_str(s).unwrap() };
    assert!(d
        .check(BindingKind::Read, &t("test = \"ipping\"\nfield = \"Host\""))
        .is_ok());
    for (kind, text) in [
        (BindingKind::Read, "test = \"dns\"\nfield = \"Host\""),
        (BindingKind::Read, "test = \"ipping\""),
        (
            BindingKind::Read,
            "test = \"traceroute\"\nfield = \"RouteHops.Host\"",
        ),
        (
            BindingKind::ReadWrite,
            "test = \"traceroute\"\nfield = \"RouteHops.Host\"\nhop = \"1\"",
        ),
        (
            BindingKind::Table,
            "test = \"ipping\"\ntable = \"RouteHops\"",
        ),
        (
            BindingKind::Read,
            "test = \"ipping\"\nfield = \"Host\"\ncolour = 1",
        ),
    ] {
        assert!(d.check(kind, &t(text)).is_err(), "{text}");
    }
}
