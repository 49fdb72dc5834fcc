//! What the ACS sends, decoded by the real agent (issue 13 §3): memory follows the typed
//! message, not the number of elements, and arguments that do not fit their type are
//! 9003 Invalid arguments instead of silent defaults.

use cwmpd::soap::xml::{MAX_BODY_BYTES, MAX_ELEMENTS};

use crate::support::agent::Agent;
use crate::support::soap::{gpv, spv};
use crate::support::wait::T;
use crate::support::{acs, proc};

#[test]
fn a_body_of_many_empty_elements_costs_little_memory() {
    let acs = acs();
    let a = Agent::start("soapmem", &acs, "", "");
    assert!(acs.wait_informs(1, T), "{}", a.log());
    a.idle_after(&["session: end"]);
    let pid = a.pid();
    let peak = proc::peak_kib(pid);
    // ~800 KB of empty elements inside an RPC, inside every limit.
    let n = MAX_ELEMENTS - 100;
    let body = format!(
        "<cwmp:GetRPCMethods>{}</cwmp:GetRPCMethods>",
        "<x/>".repeat(n)
    );
    assert!(body.len() > 780_000 && body.len() + 1_000 < MAX_BODY_BYTES);
    acs.push(&body);
    let replies = acs.replies().len();
    let url = acs.cr_url().unwrap();
    assert_eq!(
        cwmpd_testacs::Acs::connection_request(&url, "acs", "crpw").unwrap(),
        200
    );
    assert!(
        acs.wait(T, |_, r, _| r.len() > replies),
        "no reply\n{}",
        a.log()
    );
    assert_eq!(acs.replies()[replies].name, "GetRPCMethodsResponse");
    let grew = proc::peak_kib(pid).saturating_sub(peak);
    assert!(
        grew < 16 * 1024,
        "peak RSS grew by {grew} KiB decoding {n} empty elements"
    );
}

#[test]
fn arguments_that_do_not_fit_their_type_are_invalid() {
    let acs = acs();
    let key33 = "k".repeat(33);
    // A ParameterKey one character too long: 9003, and nothing is set.
    acs.push(&spv(
        &[(
            "Device.ManagementServer.PeriodicInformInterval",
            "unsignedInt",
            "7300",
        )],
        &key33,
    ));
    // A Notification that is not a number: 9003, not "off".
    acs.push("<cwmp:SetParameterAttributes><ParameterList><SetParameterAttributesStruct><Name>Device.ManagementServer.PeriodicInformInterval</Name>\
              <NotificationChange>1</NotificationChange><Notification>active</Notification><AccessListChange>0</AccessListChange>\
              </SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>");
    acs.push(&format!("<cwmp:AddObject><ObjectName>Device.IP.Interface.</ObjectName><ParameterKey>{key33}</ParameterKey></cwmp:AddObject>"));
    acs.push(&format!(
        "<cwmp:ScheduleInform><DelaySeconds>1</DelaySeconds><CommandKey>{key33}</CommandKey></cwmp:ScheduleInform>"
    ));
    acs.push(&gpv(&["Device.ManagementServer.PeriodicInformInterval"]));
    let a = Agent::start("soapargs", &acs, "", "");
    assert!(
        acs.wait(T, |_, r, left| left == 0 && r.len() >= 5),
        "{}",
        a.log()
    );
    let r = acs.replies();
    let codes: Vec<Option<u32>> = r[..4].iter().map(|x| x.fault_code()).collect();
    assert_eq!(
        codes,
        [Some(9003); 4],
        "{:?}",
        r.iter().map(|x| &x.raw).collect::<Vec<_>>()
    );
    let values = r[4].values();
    assert!(
        values
            .iter()
            .any(|(n, v)| n.ends_with("PeriodicInformInterval") && v != "7300"),
        "{values:?}"
    );
}
