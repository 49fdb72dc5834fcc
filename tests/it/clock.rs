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
