//! The real agent with `[agent] user` (issue 13 §5): it becomes that user after binding its
//! port, keeps exactly the capabilities configured (read from /proc/<pid>/status), and still
//! answers Connection Requests, runs sessions and saves its state. Needs root to start (the
//! tests run as root); elsewhere there is nothing to switch from, and the tests say so.

use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use cwmpd::privilege::{capability, DEFAULT_CAPABILITIES};
use cwmpd_testacs::Acs;
use nix::sys::signal::Signal;
use nix::unistd::User;

use crate::support::agent::Agent;
use crate::support::wait::T;
use crate::support::{acs, proc};

/// The /proc/<pid>/status mask of these capabilities.
fn mask(caps: &[&str]) -> String {
    let bits = caps
        .iter()
        .map(|c| 1u64 << capability(c).unwrap())
        .fold(0, |a, b| a | b);
    format!("{bits:016x}")
}

/// Starts an agent as `nobody` with `[agent]` settings `extra`, checks its credentials and
/// capabilities (`caps`), that it answers a Connection Request with a session, and that it
/// saves its state on SIGTERM; returns nothing when not root.
fn runs_as_nobody(tag: &str, extra: &str, caps: &[&str]) {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("privileges: not root, nothing to switch from");
        return;
    }
    let nobody = User::from_name("nobody").unwrap().unwrap();
    let acs = acs();
    let mut a = Agent::start(
        tag,
        &acs,
        &format!("\n[agent]\nuser = \"nobody\"\n{extra}"),
        "",
    );
    assert!(acs.wait_informs(1, T), "{}", a.log());
    a.idle_after(&["session: end"]);
    assert!(a.log().contains("agent: running as nobody"), "{}", a.log());
    let pid = a.pid();
    let uid = nobody.uid.to_string();
    let gid = nobody.gid.to_string();
    assert_eq!(
        proc::status(pid, "Uid")
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        [uid.as_str(); 4],
        "real, effective, saved and filesystem uid"
    );
    assert_eq!(
        proc::status(pid, "Gid")
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        [gid.as_str(); 4]
    );
    assert_eq!(proc::status(pid, "Groups").unwrap(), gid);
    let want = mask(caps);
    for set in ["CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"] {
        assert_eq!(proc::status(pid, set).unwrap(), want, "{set}");
    }
    let t = Instant::now();
    assert_eq!(
        Acs::connection_request(&acs.cr_url().unwrap(), "acs", "crpw").unwrap(),
        200
    );
    assert!(acs.wait_informs(2, T), "{}", a.log());
    assert!(t.elapsed() < Duration::from_secs(2));
    a.idle_after(&["session: end"]);
    assert!(a.signal(Signal::SIGTERM).is_some_and(|s| s.success()));
    // The state was written by the agent as nobody.
    let state = std::fs::metadata(a.file("state/state.toml")).unwrap();
    assert_eq!(state.uid(), nobody.uid.as_raw(), "{}", a.log());
    assert!(!a.log().contains("ERROR"), "{}", a.log());
}

#[test]
fn the_agent_runs_as_its_user_with_the_default_capabilities() {
    runs_as_nobody("privdefault", "", DEFAULT_CAPABILITIES);
}

#[test]
fn the_agent_keeps_only_the_capabilities_configured() {
    runs_as_nobody("privfew", "capabilities = [\"net_raw\"]\n", &["net_raw"]);
}

#[test]
fn an_unknown_user_stops_the_agent_before_it_runs() {
    let acs = acs();
    let mut a = Agent::start(
        "privnouser",
        &acs,
        "\n[agent]\nuser = \"no-such-user-cwmpd\"\n",
        "",
    );
    let status = a.wait_exit();
    assert!(status.is_some_and(|s| !s.success()), "{}", a.log());
    assert!(
        a.log().contains("no user \"no-such-user-cwmpd\""),
        "{}",
        a.log()
    );
    assert!(acs.informs().is_empty(), "no session as root instead");
}
