//! The agent loop driven by a manual clock, in process, against the scripted ACS on
//! 127.0.0.1: periodic informs and the retry back-off of TR-069 §3.2.1.1 happen at exactly
//! the times the spec gives, in milliseconds of real time.

use std::time::Duration;

use cwmpd::agent::Agent;
use cwmpd::clock::ManualClock;
use cwmpd::config::Config;
use cwmpd_testacs::Acs;

use crate::support::{root, TempDir};

/// An agent on the Linux board with `acs_extra` in `[acs]`, reading time from `clock`.
fn agent(tag: &str, acs: &Acs, acs_extra: &str, clock: &ManualClock) -> (Agent, TempDir) {
    let dir = TempDir::new(&format!("clock-{tag}"));
    let root = root().display();
    let text = format!(
        "[acs]\nurl = \"{}\"\nusername = \"cpe\"\npassword = \"pw\"\ntimeout = 5\n{acs_extra}\n\
         [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
         [notify]\ninterval = 0\nnetlink = false\n\
         [paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{root}/board/linux.toml\"\nstate_dir = \"{}/state\"\n",
        acs.url(),
        dir.display()
    );
    let cfg = Config::parse(&text, "cwmpd.toml", &dir).unwrap();
    let a = Agent::with_clock(cfg, Vec::new(), Box::new(clock.clone())).unwrap();
    (a, dir)
}

fn codes(acs: &Acs, n: usize) -> Vec<String> {
    acs.informs()[n]
        .events
        .iter()
        .map(|(c, _)| c.clone())
        .collect()
}

#[test]
fn periodic_informs_come_every_interval_of_the_clock() {
    let acs = Acs::start(0, Some(("cpe", "pw"))).unwrap();
    let clock = ManualClock::at(1_764_000_000);
    let (mut a, _dir) = agent("periodic", &acs, "periodic_inform_interval = 600", &clock);
    a.start();
    let wait = a.step().unwrap();
    assert_eq!(acs.informs().len(), 1);
    assert_eq!(codes(&acs, 0), ["0 BOOTSTRAP", "1 BOOT"]);
    assert_eq!(
        wait,
        Duration::from_secs(600),
        "the next inform is one interval away"
    );
    clock.advance(Duration::from_millis(599_999));
    assert_eq!(a.step(), Some(Duration::from_millis(1)));
    assert_eq!(acs.informs().len(), 1, "not a millisecond early");
    clock.advance(Duration::from_millis(1));
    assert_eq!(a.step(), Some(Duration::from_secs(600)));
    assert_eq!(acs.informs().len(), 2);
    assert_eq!(codes(&acs, 1), ["2 PERIODIC"]);
    for n in 3..=5 {
        clock.advance(Duration::from_secs(600));
        a.step();
        assert_eq!(acs.informs().len(), n);
    }
}

#[test]
fn failed_sessions_back_off_within_the_spec_ranges() {
    let acs = Acs::start(0, Some(("cpe", "pw"))).unwrap();
    let clock = ManualClock::at(1_764_000_000);
    let (mut a, _dir) = agent("backoff", &acs, "periodic_inform_enable = false", &clock);
    acs.fail_informs(3);
    a.start();
    // Defaults m = 5 s, k = 2000: the n-th retry waits in [5·2^(n-1), 5·2^n] seconds.
    let mut total = Duration::ZERO;
    for (retry, (lo, hi)) in [(5, 10), (10, 20), (20, 40)].into_iter().enumerate() {
        let wait = a.step().unwrap();
        assert_eq!(a.sessions as usize, retry + 1, "one attempt");
        assert!(acs.informs().is_empty(), "the ACS refused it");
        assert!(
            (Duration::from_secs(lo)..=Duration::from_secs(hi)).contains(&wait),
            "retry {}: waits {wait:?}, not in [{lo}, {hi}] s",
            retry + 1
        );
        // Nothing happens before the wait is over.
        clock.advance(wait - Duration::from_millis(1));
        assert_eq!(a.step(), Some(Duration::from_millis(1)));
        assert_eq!(a.sessions as usize, retry + 1, "not a millisecond early");
        clock.advance(Duration::from_millis(1));
        total += wait;
    }
    assert!(a.step().is_some());
    let informs = acs.informs();
    assert_eq!((a.sessions, informs.len()), (4, 1));
    assert_eq!(
        informs[0].retry_count, 3,
        "RetryCount counts the failed sessions"
    );
    assert_eq!(
        codes(&acs, 0),
        ["0 BOOTSTRAP", "1 BOOT"],
        "events kept until delivered"
    );
    assert!(
        total >= Duration::from_secs(35),
        "{total:?} of back-off passed on the manual clock"
    );
    // After a success the count starts again and nothing more is due.
    assert_eq!(a.step(), Some(cwmpd_max_wait()));
    assert_eq!(a.sessions, 4);
}

/// The loop's longest wait with nothing due.
fn cwmpd_max_wait() -> Duration {
    Duration::from_secs(3600)
}

/// The flash budget (issue 12 §1): a periodic session, read-only RPCs in it, and each
/// acknowledged RPC, counted in atomic writes of the state file.
#[test]
fn state_writes_per_session_stay_within_the_flash_budget() {
    let acs = Acs::start(0, Some(("cpe", "pw"))).unwrap();
    let clock = ManualClock::at(1_764_000_000);
    let (mut a, _dir) = agent("writes", &acs, "periodic_inform_interval = 600", &clock);
    a.start();
    a.step();
    let (w0, b0) = a.state_writes();
    eprintln!("start and bootstrap session: {w0} writes, {b0} bytes");
    let periodic = |a: &mut Agent, n: usize| {
        clock.advance(Duration::from_secs(600));
        a.step();
        assert_eq!(acs.informs().len(), n);
        a.state_writes()
    };
    let (w1, b1) = periodic(&mut a, 2);
    let mut last = (w1, b1);
    for n in 3..=12 {
        last = periodic(&mut a, n);
    }
    let per = (last.0 - w1) as f64 / 10.0;
    let bytes = (last.1 - b1) as f64 / 10.0;
    eprintln!("periodic session: {per} writes, {bytes} bytes each");
    assert_eq!(
        per, 0.0,
        "a periodic session acknowledges nothing: no write"
    );
    // Read-only RPCs add nothing (the first walk of the tree numbers the table rows it
    // meets, and numbers are kept: that is written once).
    let read_only = || {
        acs.push("<cwmp:GetParameterValues><ParameterNames soap-enc:arrayType=\"xsd:string[1]\"><string>Device.DeviceInfo.</string></ParameterNames></cwmp:GetParameterValues>");
        acs.push("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>false</NextLevel></cwmp:GetParameterNames>");
        acs.push("<cwmp:GetParameterAttributes><ParameterNames soap-enc:arrayType=\"xsd:string[1]\"><string>Device.ManagementServer.</string></ParameterNames></cwmp:GetParameterAttributes>");
        acs.push("<cwmp:GetRPCMethods/>");
    };
    read_only();
    let before = a.state_writes().0;
    periodic(&mut a, 13);
    eprintln!(
        "first walk of the tree: {} writes",
        a.state_writes().0 - before
    );
    read_only();
    let before = a.state_writes().0;
    periodic(&mut a, 14);
    let ro = a.state_writes().0 - before;
    eprintln!("periodic session with 4 read-only RPCs: {ro} writes");
    assert!(ro as f64 <= per.ceil(), "read-only RPCs wrote the state");
    // Each acknowledged RPC: at most one write of its own.
    acs.push("<cwmp:SetParameterValues><ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[1]\"><ParameterValueStruct><Name>Device.DeviceInfo.ProvisioningCode</Name><Value xsi:type=\"xsd:string\">w1</Value></ParameterValueStruct></ParameterList><ParameterKey>k1</ParameterKey></cwmp:SetParameterValues>");
    acs.push("<cwmp:SetParameterAttributes><ParameterList soap-enc:arrayType=\"cwmp:SetParameterAttributesStruct[1]\"><SetParameterAttributesStruct><Name>Device.ManagementServer.PeriodicInformInterval</Name><NotificationChange>true</NotificationChange><Notification>1</Notification><AccessListChange>false</AccessListChange><AccessList soap-enc:arrayType=\"xsd:string[0]\"></AccessList></SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>");
    acs.push("<cwmp:ScheduleInform><DelaySeconds>3600</DelaySeconds><CommandKey>s1</CommandKey></cwmp:ScheduleInform>");
    let before = a.state_writes().0;
    periodic(&mut a, 15);
    let acked = a.state_writes().0 - before;
    eprintln!("periodic session with 3 acknowledged RPCs: {acked} writes");
    assert!(
        acked as f64 <= per.ceil() + 3.0,
        "{acked} writes for 3 acknowledged RPCs"
    );
    assert!(acked as f64 > per, "the acknowledged RPCs were not written");
}
