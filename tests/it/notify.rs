//! Value-change notification driven by rtnetlink events: the agent runs in a network
//! namespace the test makes (with the test ACS listening inside it), and an address added to
//! a veth interface there must produce `4 VALUE CHANGE` with the new value at once, long
//! before the periodic check (set to an hour). Needs root; skipped elsewhere.

use std::time::{Duration, Instant};

use cwmpd_testacs::Acs;

use crate::support::agent::Agent;
use crate::support::netns::Netns;
use crate::support::soap::spa;
use crate::support::{acs, wait::T};

#[test]
fn an_address_added_to_a_veth_in_a_namespace_is_an_active_value_change() {
    let Some(ns) = Netns::create("nl") else {
        return;
    };
    ns.ip("link set lo up");
    ns.ip("link add cwa type veth peer name cwb");
    ns.ip("link set cwa up");
    ns.ip("link set cwb up");
    let acs: Acs = ns.within(acs);
    // lo is interface 1; the veth ends are 2 and 3 (in whichever order the kernel listed them).
    acs.push(&spa(
        &[
            "Device.IP.Interface.2.IPv4AddressNumberOfEntries",
            "Device.IP.Interface.3.IPv4AddressNumberOfEntries",
        ],
        2,
    ));
    let a = Agent::start_in(
        "nl",
        &acs,
        "[notify]\ninterval = 3600\nnetlink = true",
        "",
        Some(&ns.0),
    );
    assert!(
        acs.wait(T, |_, r, left| left == 0
            && r.iter().any(|r| r.name == "SetParameterAttributesResponse")),
        "{}",
        a.log()
    );
    // The session's end took the baseline: the agent is idle, nothing changed yet.
    let after = a.idle_after(&["session: end"]);
    assert!(!after.contains("session: start"), "{}", a.log());
    let n = acs.informs().len();
    assert_eq!(n, 1, "nothing changed yet");
    let added = Instant::now();
    ns.ip("addr add 10.213.9.1/24 dev cwa");
    assert!(
        acs.wait_informs(n + 1, Duration::from_secs(5)),
        "{}",
        a.log()
    );
    let took = added.elapsed();
    let inform = acs.informs().into_iter().last().unwrap();
    assert!(
        inform.codes().contains(&"4 VALUE CHANGE".to_string()),
        "{:?}",
        inform.codes()
    );
    let changed: Vec<_> = inform
        .params
        .iter()
        .filter(|(k, _)| k.ends_with("IPv4AddressNumberOfEntries"))
        .collect();
    assert_eq!(changed.len(), 1, "{:?}", inform.params);
    assert_eq!(changed[0].1, "1", "the new value");
    // The periodic check is an hour away: the netlink event did it.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    eprintln!("address added → Inform in {took:?}");
}
