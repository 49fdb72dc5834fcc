//! The real `cwmpd run` against the scripted test ACS over HTTP on 127.0.0.1.

use std::time::{Duration, Instant};

use cwmpd_testacs::{Acs, Inform};
use nix::sys::signal::Signal;

use crate::support::agent::{Agent, NO_REBOOT, NO_RESET};
use crate::support::soap::{gpv, spa, spv};
use crate::support::wait::T;
use crate::support::{acs, TempDir};

const CR_URL: &str = "Device.ManagementServer.ConnectionRequestURL";

#[test]
fn bootstrap_then_boot_and_clean_sigterm() {
    let acs = acs();
    let mut a = Agent::start("boot", &acs, "", "");
    assert!(acs.wait(T, |i, _, _| !i.is_empty()), "{}", a.log());
    let first = &acs.informs()[0];
    assert_eq!(first.codes(), ["0 BOOTSTRAP", "1 BOOT"]);
    assert_eq!(first.retry_count, 0);
    assert!(first
        .param(CR_URL)
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    a.idle_after(&["session: end"]);
    let status = a.signal(Signal::SIGTERM).unwrap();
    assert!(
        status.success(),
        "SIGTERM exits cleanly: {status:?}\n{}",
        a.log()
    );
    assert!(a.log().contains("stopping"));
    // A restart of the daemon is no boot of the device: nothing to inform about.
    a.spawn();
    a.idle_after(&["agent: restarted in the same boot"]);
    assert_eq!(acs.informs().len(), 1, "{}", a.log());
    a.signal(Signal::SIGTERM);
    // The device booted: 1 BOOT, and no second BOOTSTRAP for the same ACS.
    a.new_boot();
    a.spawn();
    assert!(acs.wait_informs(2, T), "{}", a.log());
    assert_eq!(acs.informs()[1].codes(), ["1 BOOT"]);
    assert_eq!(acs.cookie_errors(), 0);
    let reqs = acs.requests();
    for (s, c) in &reqs {
        assert!(
            reqs.iter().filter(|(s2, _)| s2 == s).all(|(_, c2)| c2 == c),
            "session {s} used more than one connection"
        );
    }
}

#[test]
fn every_rpc_over_the_wire() {
    let acs = acs();
    acs.push(&gpv(&[
        "Device.DeviceInfo.UpTime",
        "Device.IP.Interface.1.",
    ]));
    acs.push(&gpv(&["Device.Nope."]));
    acs.push(&spv(
        &[(
            "Device.ManagementServer.PeriodicInformInterval",
            "unsignedInt",
            "7200",
        )],
        "k1",
    ));
    acs.push(&spv(
        &[("Device.DeviceInfo.UpTime", "unsignedInt", "5")],
        "k2",
    ));
    acs.push("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>1</NextLevel></cwmp:GetParameterNames>");
    acs.push("<cwmp:SetParameterAttributes><ParameterList soap-enc:arrayType=\"cwmp:SetParameterAttributesStruct[1]\"><SetParameterAttributesStruct><Name>Device.ManagementServer.PeriodicInformInterval</Name><NotificationChange>1</NotificationChange><Notification>1</Notification><AccessListChange>0</AccessListChange><AccessList></AccessList></SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>");
    acs.push("<cwmp:GetParameterAttributes><ParameterNames soap-enc:arrayType=\"xsd:string[1]\"><string>Device.ManagementServer.PeriodicInformInterval</string></ParameterNames></cwmp:GetParameterAttributes>");
    acs.push("<cwmp:AddObject><ObjectName>Device.IP.Interface.</ObjectName><ParameterKey>k3</ParameterKey></cwmp:AddObject>");
    acs.push("<cwmp:DeleteObject><ObjectName>Device.IP.Interface.9.</ObjectName><ParameterKey>k4</ParameterKey></cwmp:DeleteObject>");
    acs.push("<cwmp:GetRPCMethods/>");
    // The Linux board applies no download type: 9003 (every transfer RPC: transfer.rs).
    acs.push("<cwmp:Download><CommandKey>d</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>http://127.0.0.1:1/x</URL><Username></Username><Password></Password><FileSize>0</FileSize><TargetFileName></TargetFileName><DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL></cwmp:Download>");
    acs.push("<cwmp:X_Unknown/>");
    acs.push("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>perhaps</NextLevel></cwmp:GetParameterNames>");
    acs.push("<cwmp:ScheduleInform><DelaySeconds>1</DelaySeconds><CommandKey>soon</CommandKey></cwmp:ScheduleInform>");
    let a = Agent::start("rpcs", &acs, "", "");
    assert!(
        acs.wait(T, |_, r, left| left == 0 && r.len() >= 14),
        "{}",
        a.log()
    );
    let r = acs.replies();
    let names: Vec<&str> = r.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "GetParameterValuesResponse",
            "Fault",
            "SetParameterValuesResponse",
            "Fault",
            "GetParameterNamesResponse",
            "SetParameterAttributesResponse",
            "GetParameterAttributesResponse",
            "Fault",
            "Fault",
            "GetRPCMethodsResponse",
            "Fault",
            "Fault",
            "Fault",
            "ScheduleInformResponse"
        ]
    );
    assert!(r[0]
        .values()
        .iter()
        .any(|(n, v)| n == "Device.IP.Interface.1.Name" && v == "lo"));
    let codes: Vec<Option<u32>> = [1, 3, 7, 8, 10, 11, 12]
        .iter()
        .map(|&i| r[i].fault_code())
        .collect();
    assert_eq!(
        codes,
        [
            Some(9005),
            Some(9003),
            Some(9001),
            Some(9005),
            Some(9003),
            Some(9000),
            Some(9003)
        ]
    );
    assert!(
        r[3].raw.contains("<FaultCode>9008</FaultCode>"),
        "per-parameter fault inside 9003"
    );
    assert!(r[6].raw.contains("<Notification>1</Notification>"));
    // The ScheduleInform comes due a second later in its own session.
    assert!(acs.wait_informs(2, T), "{}", a.log());
    let second = &acs.informs()[1];
    assert_eq!(second.codes(), ["3 SCHEDULED", "M ScheduleInform"]);
    assert_eq!(second.events[1].1, "soon");
    assert_eq!(
        second.param("Device.ManagementServer.ParameterKey"),
        Some("k1"),
        "ParameterKey only from the successful Set"
    );
}

// Real time passes inside the agent here (the shortest interval, 1 s).
#[test]
fn periodic_informs_follow_the_interval() {
    let acs = acs();
    let a = Agent::start("periodic", &acs, "periodic_inform_interval = 1", "");
    assert!(acs.wait_informs(3, T), "{}", a.log());
    let informs = acs.informs();
    assert_eq!(informs[1].codes(), ["2 PERIODIC"]);
    assert_eq!(informs[2].codes(), ["2 PERIODIC"]);
}

// Real time passes inside the agent here (the shortest back-off the board allows, 1 s).
#[test]
fn failed_sessions_retry_with_back_off_and_count() {
    let acs = acs();
    acs.fail_informs(2);
    let started = Instant::now();
    let a = Agent::start("retry", &acs, "", "");
    assert!(acs.wait_informs(1, Duration::from_secs(20)), "{}", a.log());
    let elapsed = started.elapsed();
    let i = &acs.informs()[0];
    assert_eq!(i.retry_count, 2, "two failures before this one");
    assert_eq!(
        i.codes(),
        ["0 BOOTSTRAP", "1 BOOT"],
        "events survive failed sessions"
    );
    // Back-off with m = 1 s, k = 1000: 1 s then 1 s.
    assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
    assert!(a.log().contains("retry 2 in 1000 ms"), "{}", a.log());
}

#[test]
fn reboot_runs_after_the_session_and_reports_m_reboot() {
    let acs = acs();
    acs.push("<cwmp:Reboot><CommandKey>rb-7</CommandKey></cwmp:Reboot>");
    let mut a = Agent::start("reboot", &acs, "", "");
    let status = a
        .wait_exit()
        .expect("cwmpd exits after running the reboot command");
    assert!(status.success());
    assert!(a.file("rebooted").exists(), "board reboot command ran");
    a.spawn();
    assert!(acs.wait_informs(2, T), "{}", a.log());
    let after = &acs.informs()[1];
    assert_eq!(after.codes(), ["1 BOOT", "M Reboot"]);
    assert_eq!(after.events[1].1, "rb-7");
}

#[test]
fn a_reboot_whose_command_fails_is_not_reported_and_the_agent_keeps_running() {
    let acs = acs();
    let a = Agent::start("reboot-fails", &acs, "", "");
    assert!(acs.wait_informs(1, T), "{}", a.log());
    a.idle_after(&["session: end"]);
    std::fs::write(a.file(NO_REBOOT), "").unwrap();
    acs.push("<cwmp:Reboot><CommandKey>rb-x</CommandKey></cwmp:Reboot>");
    let url = acs.cr_url().unwrap();
    assert_eq!(Acs::connection_request(&url, "acs", "crpw").unwrap(), 200);
    a.idle_after(&["reboot for \"rb-x\""]);
    assert!(a.log().contains("not rebooting"), "{}", a.log());
    // Still running: a Connection Request gets a session, and no M Reboot comes of it.
    assert_eq!(Acs::connection_request(&url, "acs", "crpw").unwrap(), 200);
    assert!(acs.wait_informs(3, T), "{}", a.log());
    for i in acs.informs() {
        assert!(
            !i.codes().contains(&"M Reboot".to_string()),
            "{:?}",
            i.codes()
        );
    }
}

#[test]
fn a_reboot_that_did_not_happen_is_not_reported_after_a_restart() {
    let acs = acs();
    acs.push("<cwmp:Reboot><CommandKey>rb-y</CommandKey></cwmp:Reboot>");
    let mut a = Agent::start("reboot-none", &acs, "", "");
    // The command says it rebooted, but the device does not boot (the same boot id): the
    // next start runs it again (a power cut may have come first), a few times at most.
    for _ in 0..cwmpd::rpc::MAX_REBOOT_ATTEMPTS {
        a.wait_exit()
            .expect("the agent exits after the reboot command");
        a.new_boot_undo();
        a.spawn();
    }
    a.idle_after(&["giving up"]);
    assert_eq!(acs.informs().len(), 1, "no Inform: no boot, no M Reboot");
}

#[test]
fn a_factory_reset_whose_command_fails_keeps_the_state_and_the_agent() {
    let acs = acs();
    let a = Agent::start("reset-fails", &acs, "", "");
    assert!(acs.wait_informs(1, T), "{}", a.log());
    a.idle_after(&["session: end"]);
    std::fs::write(a.file(NO_RESET), "").unwrap();
    acs.push("<cwmp:FactoryReset/>");
    let url = acs.cr_url().unwrap();
    assert_eq!(Acs::connection_request(&url, "acs", "crpw").unwrap(), 200);
    a.idle_after(&["the device keeps its state"]);
    assert!(a.file("state/state.toml").exists());
    assert_eq!(Acs::connection_request(&url, "acs", "crpw").unwrap(), 200);
    assert!(acs.wait_informs(3, T), "{}", a.log());
    assert!(
        !acs.informs()[2]
            .codes()
            .contains(&"0 BOOTSTRAP".to_string()),
        "not reset"
    );
}

#[test]
fn factory_reset_wipes_state_and_bootstraps_again() {
    let acs = acs();
    acs.push("<cwmp:FactoryReset/>");
    let mut a = Agent::start("reset", &acs, "", "");
    assert!(a.wait_exit().unwrap().success());
    assert!(a.file("reset").exists());
    a.spawn();
    assert!(acs.wait_informs(2, T));
    assert_eq!(acs.informs()[1].codes(), ["0 BOOTSTRAP", "1 BOOT"]);
}

#[test]
fn kill_9_loses_no_undelivered_event() {
    let acs = acs();
    acs.fail_informs(100);
    let mut a = Agent::start("kill", &acs, "", "");
    // Killed after a session failed: its events are still to be delivered.
    a.wait_log("session: failed", 1);
    a.signal(Signal::SIGKILL);
    let saved = std::fs::read_to_string(a.file("state/state.toml")).unwrap();
    assert!(saved.contains("0 BOOTSTRAP"), "{saved}");
    acs.fail_informs(0);
    a.spawn();
    assert!(acs.wait_informs(1, T), "{}", a.log());
    let codes = acs.informs()[0].codes();
    assert_eq!(
        codes,
        ["0 BOOTSTRAP", "1 BOOT"],
        "BOOTSTRAP kept, one BOOT (the old one replaced)"
    );
}

#[test]
fn connection_requests_start_sessions_only_when_authenticated() {
    let acs = acs();
    let a = Agent::start("cr", &acs, "", "");
    assert!(acs.wait_informs(1, T), "{}", a.log());
    a.idle_after(&["session: end"]);
    let url = acs.cr_url().unwrap();
    assert_eq!(Acs::connection_request(&url, "acs", "wrong").unwrap(), 401);
    assert_eq!(
        Acs::connection_request(&url.replace("/cr", "/other"), "acs", "crpw").unwrap(),
        404
    );
    // Three answers refused (the challenge, the wrong password, the wrong path): the turn
    // that handled the last one ended idle, with no session.
    let answered = "connection request: answered";
    let after = a.idle_after(&[answered, answered, answered]);
    assert!(!after.contains("session: start"), "{}", a.log());
    assert_eq!(acs.informs().len(), 1, "no session for a refused request");
    let t = Instant::now();
    assert_eq!(Acs::connection_request(&url, "acs", "crpw").unwrap(), 200);
    assert!(acs.wait_informs(2, T));
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(acs.informs()[1].codes(), ["6 CONNECTION REQUEST"]);
}

#[test]
fn a_connection_request_during_a_session_is_coalesced_into_the_next() {
    let acs = acs();
    let a = Agent::start("crsess", &acs, "", "");
    assert!(acs.wait_informs(1, T), "{}", a.log());
    a.idle_after(&["session: end"]);
    let url = acs.cr_url().unwrap();
    // The ACS keeps the session going until the next requests have arrived during it.
    acs.filler(Some(&gpv(&["Device.DeviceInfo.UpTime"])));
    assert_eq!(Acs::connection_request(&url, "acs", "crpw").unwrap(), 200);
    assert!(acs.wait(T, |i, r, _| i.len() >= 2 && !r.is_empty()));
    let during: Vec<u16> = (0..3)
        .map(|_| Acs::connection_request(&url, "acs", "crpw").unwrap())
        .collect();
    assert!(during.iter().all(|s| *s == 200 || *s == 503), "{during:?}");
    assert_eq!(acs.ended(), 1, "the second session still runs");
    acs.filler(None);
    assert!(
        acs.wait(T, |i, _, left| left == 0 && i.len() >= 3),
        "{}",
        a.log()
    );
    // After the third session the agent went idle: no fourth.
    let end = "session: end";
    let after = a.idle_after(&[end, end, end]);
    assert!(!after.contains("session: start"), "{}", a.log());
    let informs = acs.informs();
    assert_eq!(
        informs.len(),
        3,
        "the requests during the session became one more session"
    );
    assert_eq!(informs[2].codes(), ["6 CONNECTION REQUEST"]);
}

#[test]
fn a_corrupt_state_file_is_replaced_not_fatal() {
    let acs = acs();
    let mut a = Agent::start("corrupt", &acs, "", "");
    assert!(acs.wait_informs(1, T));
    a.signal(Signal::SIGTERM);
    std::fs::write(
        a.file("state/state.toml"),
        "version = 1\nagent = [[[ truncated",
    )
    .unwrap();
    a.spawn();
    assert!(acs.wait_informs(2, T), "{}", a.log());
    assert!(a.log().contains("corrupt"), "{}", a.log());
    assert_eq!(
        acs.informs()[1].codes(),
        ["0 BOOTSTRAP", "1 BOOT"],
        "a lost bootstrap marker means bootstrap again"
    );
}

#[test]
fn connection_request_credentials_follow_the_data_model() {
    let acs = acs();
    acs.push(&spv(
        &[(
            "Device.ManagementServer.ConnectionRequestUsername",
            "string",
            "genie",
        )],
        "c1",
    ));
    acs.push(&spv(
        &[(
            "Device.ManagementServer.ConnectionRequestPassword",
            "string",
            "s3cret",
        )],
        "c2",
    ));
    let a = Agent::start("crcreds", &acs, "", "");
    assert!(
        acs.wait(T, |i, r, left| !i.is_empty() && left == 0 && r.len() >= 2),
        "{}",
        a.log()
    );
    // The listener takes the new credentials when the session is over.
    a.idle_after(&["session: end"]);
    let url = acs.cr_url().unwrap();
    assert_eq!(
        Acs::connection_request(&url, "acs", "crpw").unwrap(),
        401,
        "the configured credentials no longer work"
    );
    assert_eq!(
        Acs::connection_request(&url, "genie", "s3cret").unwrap(),
        200
    );
    assert!(acs.wait_informs(2, T));
    assert_eq!(acs.informs()[1].codes(), ["6 CONNECTION REQUEST"]);
}

#[test]
fn kill_9_after_the_inform_response_does_not_resend_bootstrap() {
    let acs = acs();
    // A session the ACS keeps going: the agent is killed while it works through requests.
    acs.filler(Some(&gpv(&["Device.DeviceInfo.UpTime"])));
    let mut a = Agent::start("killmid", &acs, "", "");
    assert!(
        acs.wait(T, |i, r, _| !i.is_empty() && r.len() >= 5),
        "{}",
        a.log()
    );
    // A power cut: killed mid-session, and the device boots again.
    a.signal(Signal::SIGKILL);
    assert_eq!(acs.ended(), 0, "killed mid-session");
    acs.filler(None);
    a.new_boot();
    a.spawn();
    assert!(acs.wait_informs(2, T), "{}", a.log());
    assert_eq!(
        acs.informs()[1].codes(),
        ["1 BOOT"],
        "BOOTSTRAP was delivered before the kill"
    );
}

/// A board where two DeviceInfo values come from files the test can change (in the
/// directory returned with the agent).
fn notify_agent(tag: &str, acs: &Acs) -> (Agent, TempDir) {
    let files = TempDir::new(&format!("notify-{tag}"));
    std::fs::write(files.join("model"), "M1\n").unwrap();
    std::fs::write(files.join("descr"), "D1\n").unwrap();
    let d = files.path().display();
    let extra = format!(
        "\n[[object]]\npath = \"Device.DeviceInfo.\"\n[object.params]\nModelNumber = {{ handler = \"file\", file = \"{d}/model\" }}\n\
         Description = {{ handler = \"file\", file = \"{d}/descr\" }}\n"
    );
    (
        Agent::start(tag, acs, "[notify]\ninterval = 1", &extra),
        files,
    )
}

/// Replaces a watched file's content at once (write + rename): a plain `fs::write` truncates
/// first, and the agent's check could read the empty file in between.
fn replace(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

// Real time passes inside the agent here: the value checks come every second (the shortest
// [notify] interval).
#[test]
fn active_and_passive_value_change_notification() {
    let acs = acs();
    acs.push(&spa(&["Device.DeviceInfo.ModelNumber"], 2));
    acs.push(&spa(&["Device.DeviceInfo.Description"], 1));
    let (a, files) = notify_agent("vc", &acs);
    assert!(
        acs.wait(T, |i, r, left| !i.is_empty() && left == 0 && r.len() >= 2),
        "{}",
        a.log()
    );
    // The session took the baseline of the newly notified values when it ended.
    a.idle_after(&["session: end"]);
    // Passive: seen by the next check, but no session of its own.
    replace(&files.join("descr"), "D2\n");
    let after = a.idle_after(&["notify: Device.DeviceInfo.Description changed (passive)"]);
    assert!(!after.contains("session: start"), "{}", a.log());
    assert_eq!(
        acs.informs().len(),
        1,
        "a passive change waits for the next Inform\n{}",
        a.log()
    );
    // Active: a session with 4 VALUE CHANGE and both new values.
    replace(&files.join("model"), "M2\n");
    assert!(acs.wait_informs(2, T), "{}", a.log());
    let i = &acs.informs()[1];
    assert_eq!(i.codes(), ["4 VALUE CHANGE"]);
    assert_eq!(i.param("Device.DeviceInfo.ModelNumber"), Some("M2"));
    assert_eq!(
        i.param("Device.DeviceInfo.Description"),
        Some("D2"),
        "the passive change rides along"
    );
}

// Real time passes inside the agent here: a periodic value check (every second) after each
// session.
#[test]
fn the_acs_own_changes_and_restarts_are_not_notified() {
    let acs = acs();
    // ProvisioningCode is forceEnabled: active notification always on.
    acs.push(&spv(
        &[("Device.DeviceInfo.ProvisioningCode", "string", "from-acs")],
        "p1",
    ));
    let (mut a, _files) = notify_agent("own", &acs);
    assert!(
        acs.wait(T, |i, r, left| !i.is_empty() && left == 0 && !r.is_empty()),
        "{}",
        a.log()
    );
    // The check at the session's end and the next periodic one found nothing to notify.
    let after = a.idle_after(&["session: end", "values checked"]);
    assert!(!after.contains("session: start"), "{}", a.log());
    assert!(!a.log().contains("4 VALUE CHANGE"), "{}", a.log());
    assert_eq!(
        acs.informs().len(),
        1,
        "the ACS's own Set is not notified back\n{}",
        a.log()
    );
    a.signal(Signal::SIGTERM);
    a.new_boot();
    a.spawn();
    assert!(acs.wait_informs(2, T), "{}", a.log());
    let after = a.idle_after(&["session: end", "values checked"]);
    assert!(!after.contains("session: start"), "{}", a.log());
    let log = a.log();
    assert_eq!(
        acs.informs()[1].codes(),
        ["1 BOOT"],
        "no spurious VALUE CHANGE after a restart\n{}",
        log.lines()
            .filter(|l| l.contains("notify"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(acs.informs().len(), 2);
}

#[test]
fn a_restart_binds_the_connection_request_port_again_or_reports_the_new_one() {
    let acs = acs();
    let url = |i: &Inform| i.param(CR_URL).unwrap_or_default().to_string();
    let mut a = Agent::start("crport", &acs, "", "");
    // The system chose the port (the config says 127.0.0.1:0); the Inform carries it.
    let first = a.listening();
    assert_ne!(first.port(), 0);
    assert!(acs.wait_informs(1, T), "{}", a.log());
    assert_eq!(url(&acs.informs()[0]), format!("http://{first}/cr"));
    a.idle_after(&["session: end"]);
    a.signal(Signal::SIGTERM);
    // A restart binds it again (after a boot, so that there is an Inform): the URL the ACS
    // knows still reaches us.
    a.new_boot();
    a.spawn();
    assert_eq!(a.listening(), first, "{}", a.log());
    assert!(acs.wait_informs(2, T), "{}", a.log());
    assert_eq!(acs.informs()[1].codes(), ["1 BOOT"]);
    assert_eq!(url(&acs.informs()[1]), url(&acs.informs()[0]));
    a.idle_after(&["session: end"]);
    a.signal(Signal::SIGTERM);
    // Taken meanwhile (here, or by whoever holds it if this bind fails): a new port, and the
    // changed URL is a value change the ACS hears of at once.
    let _taken = std::net::TcpListener::bind(first);
    a.spawn();
    let second = a.listening();
    assert_ne!(second, first);
    assert!(a.log().contains("taking a new port"), "{}", a.log());
    assert!(acs.wait_informs(3, T), "{}", a.log());
    let third = &acs.informs()[2];
    assert_eq!(url(third), format!("http://{second}/cr"));
    assert!(
        third.codes().contains(&"4 VALUE CHANGE".to_string()),
        "{:?}\n{}",
        third.codes(),
        a.log()
    );
    // The new port is the one kept from now on.
    assert!(acs.wait_ended(3, T), "{}", a.log());
    a.signal(Signal::SIGTERM);
    a.new_boot();
    a.spawn();
    assert_eq!(a.listening(), second, "{}", a.log());
    assert!(acs.wait_informs(4, T), "{}", a.log());
    assert_eq!(acs.informs()[3].codes(), ["1 BOOT"]);
}

#[test]
fn trace_logs_every_soap_body_with_secrets_masked() {
    let acs = acs();
    acs.push(&spv(
        &[(
            "Device.ManagementServer.ConnectionRequestPassword",
            "string",
            "cr-s3cret",
        )],
        "kt",
    ));
    acs.push("<cwmp:Download><CommandKey>d</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>http://127.0.0.1:1/x</URL><Username>fu</Username><Password>file-s3cret</Password><FileSize>0</FileSize><TargetFileName></TargetFileName><DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL></cwmp:Download>");
    let a = Agent::start("trace", &acs, "", "");
    assert!(
        acs.wait(T, |_, r, left| left == 0 && r.len() >= 2),
        "{}",
        a.log()
    );
    let log = a.log();
    for part in [
        "soap: sent",
        "<cwmp:Inform>",
        "soap: received HTTP 200",
        "cwmp:SetParameterValues",
        "<Username>fu</Username>",
        "SetParameterValuesResponse",
        "session: ExpectInformResponse → ",
    ] {
        assert!(log.contains(part), "{part} not logged:\n{log}");
    }
    for secret in ["cr-s3cret", "file-s3cret"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}

/// Validates each document against `tests/fixtures/xsd/envelope-<label>.xsd` with xmllint
/// (skipped without it, except in CI).
fn validate(label: &str, docs: &[String]) {
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "xmllint is required in CI"
        );
        return;
    }
    let dir = TempDir::new(&format!("xsd-{label}"));
    let files: Vec<_> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let f = dir.join(format!("{i}.xml"));
            std::fs::write(&f, d).unwrap();
            f
        })
        .collect();
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/xsd/envelope-{label}.xsd"));
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd)
        .args(&files)
        .output()
        .unwrap();
    drop(dir);
    assert!(
        out.status.success(),
        "cwmp-{label}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_session_runs_in_the_version_the_acs_answers_with() {
    for (ns, label, methods) in [
        ("urn:dslforum-org:cwmp-1-0", "1-0", 14),
        ("urn:dslforum-org:cwmp-1-1", "1-1", 15),
        ("urn:dslforum-org:cwmp-1-2", "1-4", 17),
    ] {
        let acs = acs();
        acs.answer_in(ns);
        acs.push("<cwmp:GetRPCMethods/>");
        acs.push("<cwmp:GetAllQueuedTransfers/>");
        acs.push(&gpv(&["Device.DeviceInfo.SoftwareVersion"]));
        let a = Agent::start(&format!("ver{label}"), &acs, "", "");
        assert!(
            acs.wait(T, |_, r, left| left == 0 && r.len() >= 3),
            "{}",
            a.log()
        );
        // TR-069 §3.7.4: the Inform offers the highest version…
        let inform = &acs.informs()[0].raw;
        assert!(
            inform.contains("xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\""),
            "{inform}"
        );
        assert!(
            inform.contains(">1.0,1.1,1.2,1.3,1.4</cwmp:SupportedCWMPVersions>"),
            "{inform}"
        );
        validate("1-4", std::slice::from_ref(inform));
        // …and the rest of the session speaks the ACS's, with only what it defines.
        let r = acs.replies();
        for reply in &r {
            assert!(
                reply.raw.contains(&format!("xmlns:cwmp=\"{ns}\"")),
                "{}",
                reply.raw
            );
        }
        match r[0].body.child("MethodList") {
            Some(list) => assert_eq!(list.children.len(), methods, "{label}"),
            None => panic!("{}", r[0].raw),
        }
        let all_queued = if label == "1-0" { Some(9000) } else { None };
        assert_eq!(r[1].fault_code(), all_queued, "{}", r[1].raw);
        let raws: Vec<String> = r.iter().map(|x| x.raw.clone()).collect();
        validate(label, &raws);
    }
}

#[test]
fn inform_parameters_the_acs_adds_ride_the_informs_of_their_events() {
    let acs = acs();
    let table = "Device.ManagementServer.InformParameter.";
    acs.push(&format!(
        "<cwmp:AddObject><ObjectName>{table}</ObjectName><ParameterKey>i1</ParameterKey></cwmp:AddObject>"
    ));
    acs.push(&format!(
        "<cwmp:AddObject><ObjectName>{table}</ObjectName><ParameterKey>i2</ParameterKey></cwmp:AddObject>"
    ));
    let row = |n: u32, f: &str| format!("{table}{n}.{f}");
    let (n1, n2, e1, e2) = (
        row(1, "ParameterName"),
        row(2, "ParameterName"),
        row(1, "EventList"),
        row(2, "EventList"),
    );
    acs.push(&spv(
        &[
            (&row(1, "Enable"), "boolean", "true"),
            (&n1, "string", "Device.DeviceInfo.UpTime"),
            (&row(2, "Enable"), "boolean", "true"),
            (&n2, "string", "Device.IP.Interface.*.Name"),
            (&e2, "string", "2 PERIODIC"),
        ],
        "i3",
    ));
    // Patterns and event lists the CPE must refuse (TR-181: 4 VALUE CHANGE is not allowed).
    acs.push(&spv(&[(&n1, "string", "Device.IP.")], "bad"));
    acs.push(&spv(&[(&e1, "string", "4 VALUE CHANGE")], "bad"));
    let a = Agent::start("informparam", &acs, "", "");
    assert!(
        acs.wait(T, |_, r, left| left == 0 && r.len() >= 5),
        "{}",
        a.log()
    );
    let r = acs.replies();
    assert_eq!(r[2].name, "SetParameterValuesResponse", "{}", r[2].raw);
    for bad in &r[3..5] {
        assert!(
            bad.raw.contains("<FaultCode>9007</FaultCode>"),
            "{}",
            bad.raw
        );
    }
    a.idle_after(&["session: end"]);
    // The next Inform (a Connection Request) carries row 1 (every event) but not row 2.
    let url = acs.cr_url().unwrap();
    assert_eq!(Acs::connection_request(&url, "acs", "crpw").unwrap(), 200);
    assert!(acs.wait_informs(2, T), "{}", a.log());
    let inform = &acs.informs()[1];
    assert_eq!(inform.codes(), ["6 CONNECTION REQUEST"]);
    assert!(
        inform.param("Device.DeviceInfo.UpTime").is_some(),
        "{:?}",
        inform.params
    );
    assert!(
        inform.param("Device.IP.Interface.1.Name").is_none(),
        "row 2 is for 2 PERIODIC only"
    );
}

#[test]
fn the_device_id_is_fixed_at_the_first_start() {
    let acs = acs();
    let dir = TempDir::new("deviceid-src");
    std::fs::write(dir.join("serial"), "SN-1\n").unwrap();
    let board = format!(
        "\n[[object]]\npath = \"Device.DeviceInfo.\"\n[object.params]\n\
         SerialNumber = {{ handler = \"file\", file = \"{}\" }}\n",
        dir.join("serial").display()
    );
    let mut a = Agent::start("deviceid", &acs, "", &board);
    assert!(acs.wait_informs(1, T), "{}", a.log());
    let serial = |i: &Inform| {
        let raw = &i.raw;
        let at = raw.find("<SerialNumber>").unwrap() + "<SerialNumber>".len();
        raw[at..at + raw[at..].find('<').unwrap()].to_string()
    };
    assert_eq!(serial(&acs.informs()[0]), "SN-1");
    a.idle_after(&["session: end"]);
    // What the binding reads changes (a NIC replaced, an interface added): the device is
    // the same one, to the ACS and in its data model.
    std::fs::write(dir.join("serial"), "SN-2\n").unwrap();
    a.signal(Signal::SIGTERM);
    a.new_boot();
    acs.push(&gpv(&["Device.DeviceInfo.SerialNumber"]));
    a.spawn();
    assert!(
        acs.wait(T, |i, r, left| i.len() >= 2 && left == 0 && !r.is_empty()),
        "{}",
        a.log()
    );
    assert_eq!(serial(&acs.informs()[1]), "SN-1");
    assert_eq!(
        acs.informs()[1].codes(),
        ["1 BOOT"],
        "no BOOTSTRAP: the same device"
    );
    assert!(acs.replies()[0].values().contains(&(
        "Device.DeviceInfo.SerialNumber".to_string(),
        "SN-1".to_string()
    )));
}
