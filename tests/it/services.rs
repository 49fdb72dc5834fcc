//! LEDs, UPnP, firewall, NAT, time and the other services of board/openwrt.toml (issue 14),
//! over the wire: the real agent on a copy of the fixture router (`tests/fixtures/openwrt`:
//! UCI files, a sysfs LED tree) against the scripted ACS. Values read as the fixtures say;
//! Sets are read back from the UCI files; values the device cannot take are faults; a LED
//! changed in the sysfs tree reads changed.

use std::time::{Duration, SystemTime};

use cwmpd_testacs::{Acs, Reply};

use crate::support::agent::Agent;
use crate::support::copy_tree;
use crate::support::root;
use crate::support::soap::{gpv, spv};
use crate::support::wait::{until, T};

/// The OpenWrt board on a copy of the fixture router in `<agent dir>/fw`, its ACS URL
/// pointed at `acs`, every service's apply a `touch` of `applied-<package>`.
fn start(tag: &str, acs: &Acs, firewall_mtime: SystemTime) -> Agent {
    let url = acs.url();
    Agent::start_with(
        tag,
        |dir| {
            let fw = dir.join("fw");
            copy_tree(&root().join("tests/fixtures/openwrt"), &fw);
            let uci = fw.join("etc/config/cwmpd");
            let text = std::fs::read_to_string(&uci).unwrap().replace(
                "option url 'https://acs.isp.example/cwmp'",
                &format!("option url '{url}'"),
            );
            std::fs::write(&uci, text).unwrap();
            let f = std::fs::File::options()
                .write(true)
                .open(fw.join("etc/config/firewall"))
                .unwrap();
            f.set_modified(firewall_mtime).unwrap();
            let (d, f, r) = (dir.display(), fw.display(), root().display());
            let apply: String = ["system", "firewall", "upnpd"]
                .iter()
                .map(|p| format!("apply.{p} = [\"touch\", \"{d}/applied-{p}\"]\n"))
                .collect();
            std::fs::write(
                dir.join("board.toml"),
                format!(
                    "[board]\nname = \"services-test\"\ninclude = [\"{r}/board/openwrt.toml\"]\n\n\
                     [handlers.uci]\ndir = \"{f}/etc/config\"\n{apply}\
                     [handlers.ubus]\ncommand = [\"{f}/bin/ubus\"]\n\
                     [handlers.leases]\ndnsmasq = \"{f}/tmp/dhcp.leases\"\nodhcpd = \"{f}/tmp/hosts/odhcpd\"\n\
                     [handlers.users]\npasswd = \"{f}/etc/passwd\"\nshadow = \"{f}/etc/shadow\"\n\
                     [handlers.sensors]\nsys = \"{f}/sys\"\n[handlers.leds]\nsys = \"{f}/sys\"\n"
                ),
            )
            .unwrap();
            format!(
                "[acs]\nurl = \"{url}\"\nusername = \"cpe\"\npassword = \"pw\"\nperiodic_inform_enable = false\n\
                 [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
                 [paths]\ndatamodel = \"{r}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n"
            )
        },
        Some("debug"),
    )
}

/// One session started by a Connection Request (once the agent is idle) that runs
/// `requests`; the CPE's replies to them.
fn session(acs: &Acs, agent: &Agent, requests: &[String]) -> Vec<Reply> {
    agent.idle_after(&["session: end"]);
    let before = acs.replies().len();
    for r in requests {
        acs.push(r);
    }
    let url = acs.cr_url().expect("the agent informed its CR URL");
    assert_eq!(Acs::connection_request(&url, "acs", "crpw").unwrap(), 200);
    assert!(
        acs.wait(T, |_, r, left| left == 0
            && r.len() >= before + requests.len()),
        "{}",
        agent.log()
    );
    acs.replies().split_off(before)
}

fn value<'a>(values: &'a [(String, String)], name: &str) -> &'a str {
    values
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name} not in {values:?}"))
}

/// The fault code of the first parameter of a SetParameterValues fault.
fn set_fault(r: &Reply) -> Option<u32> {
    r.body
        .child("detail")?
        .child("Fault")?
        .child("SetParameterValuesFault")?
        .child("FaultCode")?
        .text
        .trim()
        .parse()
        .ok()
}

fn uci(agent: &Agent, package: &str) -> String {
    std::fs::read_to_string(agent.file("fw/etc/config").join(package)).unwrap()
}

fn started(tag: &str, firewall_mtime: SystemTime) -> (Acs, Agent) {
    let acs = Acs::start(0, Some(("cpe-0011aabbcc", "pw"))).unwrap();
    let agent = start(tag, &acs, firewall_mtime);
    assert!(acs.wait_informs(1, T), "{}", agent.log());
    (acs, agent)
}

#[test]
fn services_read_from_uci_sysfs_and_the_kernel() {
    let changed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let (acs, agent) = started("svc-read", changed);
    let r = session(
        &acs,
        &agent,
        &[gpv(&[
            "Device.LEDs.",
            "Device.UPnP.Device.",
            "Device.Firewall.",
            "Device.NAT.",
            "Device.Time.Status",
            "Device.Time.NTPServer3",
        ])],
    );
    assert_eq!(r[0].name, "GetParameterValuesResponse", "{}", r[0].raw);
    let v = r[0].values();
    // LEDs, sorted by name: amber:status blinks (timer 250/1750 ms, lit now).
    assert_eq!(value(&v, "Device.LEDs.LEDNumberOfEntries"), "4");
    assert_eq!(value(&v, "Device.LEDs.LED.1.Name"), "amber:status");
    assert_eq!(value(&v, "Device.LEDs.LED.1.Status"), "InUse");
    assert_eq!(value(&v, "Device.LEDs.LED.1.Reason"), "timer");
    assert_eq!(value(&v, "Device.LEDs.LED.1.CyclePeriodRepetitions"), "-1");
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CycleElementNumberOfEntries"),
        "2"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CycleElement.1.Color"),
        "FFBF00"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CycleElement.1.Duration"),
        "250"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CycleElement.2.Color"),
        "000000"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CycleElement.2.Duration"),
        "1750"
    );
    assert_eq!(
        value(
            &v,
            "Device.LEDs.LED.1.CurrentCycleElement.CycleElementReference"
        ),
        "Device.LEDs.LED.1.CycleElement.1"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CurrentCycleElement.Color"),
        "FFBF00"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CurrentCycleElement.Duration"),
        "250"
    );
    // The Wi-Fi LED follows phy0's traffic, dark now; the WAN LED follows the link.
    assert_eq!(value(&v, "Device.LEDs.LED.2.Reason"), "phy0tpt");
    assert_eq!(
        value(&v, "Device.LEDs.LED.2.CurrentCycleElement.Color"),
        "000000"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.2.CycleElementNumberOfEntries"),
        "0"
    );
    assert_eq!(value(&v, "Device.LEDs.LED.4.Reason"), "netdev");
    assert_eq!(value(&v, "Device.LEDs.LED.4.CyclePeriodRepetitions"), "0");
    // miniupnpd: running, IGD on, nothing else.
    assert_eq!(value(&v, "Device.UPnP.Device.Enable"), "true");
    assert_eq!(value(&v, "Device.UPnP.Device.UPnPIGD"), "true");
    assert_eq!(value(&v, "Device.UPnP.Device.UPnPMediaServer"), "false");
    assert_eq!(value(&v, "Device.UPnP.Device.Capabilities.UPnPIGD"), "2");
    assert_eq!(
        value(&v, "Device.UPnP.Device.Capabilities.UPnPMediaServer"),
        "0"
    );
    // fw4.
    assert_eq!(value(&v, "Device.Firewall.Config"), "Advanced");
    assert_eq!(value(&v, "Device.Firewall.Version"), "");
    assert_eq!(
        value(&v, "Device.Firewall.LastChange"),
        "2023-11-14T22:13:20Z"
    );
    // NAT: zone wan masquerades its three networks, one IP interface each.
    assert_eq!(value(&v, "Device.NAT.InterfaceSettingNumberOfEntries"), "3");
    for i in 1..=3 {
        let itf = value(&v, &format!("Device.NAT.InterfaceSetting.{i}.Interface"));
        assert!(
            itf.starts_with("Device.IP.Interface.") && !itf.contains(','),
            "{itf}"
        );
    }
    // The port forwards: NAS-HTTPS (tcp) and Game-Server (`tcp udp`: two mappings).
    assert_eq!(value(&v, "Device.NAT.PortMappingNumberOfEntries"), "3");
    let maps: Vec<(&str, &str, &str)> = (1..=3)
        .map(|i| {
            let p = |n: &str| value(&v, &format!("Device.NAT.PortMapping.{i}.{n}"));
            (p("Description"), p("Protocol"), p("ExternalPort"))
        })
        .collect();
    assert_eq!(
        maps,
        [
            ("NAS-HTTPS", "TCP", "8443"),
            ("Game-Server", "TCP", "27015"),
            ("Game-Server", "UDP", "27015")
        ]
    );
    assert_eq!(value(&v, "Device.NAT.PortMapping.2.Enable"), "false");
    // The kernel's own answer, as adjtimex gives it to this test.
    assert_eq!(
        value(&v, "Device.Time.Status"),
        cwmpd::backend::kernel::status().unwrap()
    );
    assert_eq!(value(&v, "Device.Time.NTPServer3"), "ntp1.t-online.de");

    // The blinking LED goes dark: the other cycle element is shown.
    let led = agent.file("fw/sys/class/leds/amber:status/brightness");
    std::fs::write(led, "0\n").unwrap();
    let r = session(
        &acs,
        &agent,
        &[gpv(&["Device.LEDs.LED.1.CurrentCycleElement."])],
    );
    let v = r[0].values();
    assert_eq!(
        value(
            &v,
            "Device.LEDs.LED.1.CurrentCycleElement.CycleElementReference"
        ),
        "Device.LEDs.LED.1.CycleElement.2"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CurrentCycleElement.Color"),
        "000000"
    );
    assert_eq!(
        value(&v, "Device.LEDs.LED.1.CurrentCycleElement.Duration"),
        "1750"
    );
}

#[test]
fn sets_reach_the_uci_files_and_impossible_values_are_refused() {
    let changed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let (acs, agent) = started("svc-set", changed);
    let ip = session(&acs, &agent, &[gpv(&["Device.IP.Interface."])]);
    let guest = ip[0]
        .values()
        .into_iter()
        .find(|(n, v)| n.ends_with(".Name") && v == "guest")
        .map(|(n, _)| n.trim_end_matches("Name").trim_end_matches('.').to_string())
        .expect("the guest network's IP interface");
    let r = session(
        &acs,
        &agent,
        &[
            spv(
                &[
                    ("Device.UPnP.Device.Enable", "boolean", "false"),
                    ("Device.UPnP.Device.UPnPIGD", "boolean", "false"),
                    // What miniupnpd is already: accepted, nothing to change.
                    ("Device.UPnP.Device.UPnPMediaServer", "boolean", "false"),
                    ("Device.Firewall.Config", "string", "Advanced"),
                    ("Device.Time.Enable", "boolean", "false"),
                    ("Device.Time.NTPServer1", "string", "ntp.isp.example"),
                    (
                        "Device.NAT.PortMapping.1.ExternalPort",
                        "unsignedInt",
                        "9443",
                    ),
                    // The UDP half of Game-Server: the section becomes UDP alone.
                    ("Device.NAT.PortMapping.3.Protocol", "string", "UDP"),
                    // Zone wan masquerades guest instead of iptv.
                    ("Device.NAT.InterfaceSetting.3.Interface", "string", &guest),
                ],
                "svc-1",
            ),
            spv(
                &[("Device.UPnP.Device.UPnPMediaServer", "boolean", "true")],
                "svc-2",
            ),
            spv(&[("Device.Firewall.Config", "string", "High")], "svc-3"),
            spv(
                &[("Device.NAT.PortMapping.1.Protocol", "string", "SCTP")],
                "svc-4",
            ),
            gpv(&[
                "Device.Firewall.LastChange",
                "Device.NAT.PortMappingNumberOfEntries",
                "Device.NAT.InterfaceSetting.3.Interface",
            ]),
        ],
    );
    let names: Vec<&str> = r.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "SetParameterValuesResponse",
            "Fault",
            "Fault",
            "Fault",
            "GetParameterValuesResponse"
        ],
        "{}",
        agent.log()
    );
    let upnpd = uci(&agent, "upnpd");
    assert!(upnpd.contains("\toption enabled '0'"), "{upnpd}");
    assert!(upnpd.contains("\toption enable_upnp '0'"), "{upnpd}");
    let system = uci(&agent, "system");
    assert!(
        system.contains("config timeserver 'ntp'\n\toption enabled '0'"),
        "{system}"
    );
    assert!(system.contains("\tlist server 'ntp.isp.example'\n\tlist server '1.openwrt"));
    let firewall = uci(&agent, "firewall");
    assert!(firewall.contains("\toption src_dport '9443'"), "{firewall}");
    assert!(
        firewall.contains("option dest_ip '192.168.1.105'\n\toption proto 'udp'"),
        "{firewall}"
    );
    assert!(
        firewall.contains("\tlist network 'wan6'\n\tlist network 'guest'\n"),
        "{firewall}"
    );
    // The device cannot be what these ask: 9007 with the reason, nothing written.
    assert_eq!(set_fault(&r[1]), Some(9007));
    // The reason is the agent's to log (the wire's FaultString is the code's text).
    assert!(
        agent.log().contains("miniupnpd is no UPnP media server"),
        "{}",
        agent.log()
    );
    assert_eq!(set_fault(&r[2]), Some(9007));
    assert_eq!(set_fault(&r[3]), Some(9007));
    assert_eq!(uci(&agent, "firewall"), firewall);
    // The firewall's file changed: so did LastChange; Game-Server is one mapping now.
    let v = r[4].values();
    assert_ne!(
        value(&v, "Device.Firewall.LastChange"),
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(value(&v, "Device.NAT.PortMappingNumberOfEntries"), "2");
    assert_eq!(value(&v, "Device.NAT.InterfaceSetting.3.Interface"), guest);
    // Each changed package's service is reloaded after the session.
    for p in ["upnpd", "system", "firewall"] {
        let applied = agent.file(&format!("applied-{p}"));
        assert!(until(T, || applied.exists()), "{p}: {}", agent.log());
    }
}

#[test]
fn the_acs_creates_inform_parameters() {
    let (acs, agent) = started("svc-inform", SystemTime::now());
    let table = "Device.ManagementServer.InformParameter.";
    let r = session(
        &acs,
        &agent,
        &[
            format!("<cwmp:AddObject><ObjectName>{table}</ObjectName><ParameterKey>ip-1</ParameterKey></cwmp:AddObject>"),
            spv(
                &[
                    (&format!("{table}1.Enable"), "boolean", "true"),
                    (&format!("{table}1.ParameterName"), "string", "Device.Time.Status"),
                    (&format!("{table}1.EventList"), "string", "6 CONNECTION REQUEST"),
                ],
                "ip-2",
            ),
            spv(&[(&format!("{table}1.EventList"), "string", "4 VALUE CHANGE")], "ip-3"),
            gpv(&[table]),
        ],
    );
    let names: Vec<&str> = r.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "AddObjectResponse",
            "SetParameterValuesResponse",
            "Fault",
            "GetParameterValuesResponse"
        ],
        "{}",
        agent.log()
    );
    assert_eq!(set_fault(&r[2]), Some(9007));
    let v = r[3].values();
    assert_eq!(
        value(&v, &format!("{table}1.ParameterName")),
        "Device.Time.Status"
    );
    assert_eq!(
        value(&v, &format!("{table}1.EventList")),
        "6 CONNECTION REQUEST"
    );
    // The next Connection Request's Inform carries the parameter.
    let before = acs.informs().len();
    session(&acs, &agent, &[]);
    assert!(acs.wait_informs(before + 1, T), "{}", agent.log());
    let informs = acs.informs();
    let last = informs.get(before).expect("an Inform for the request");
    assert!(last.param("Device.Time.Status").is_some(), "{:?}", last);
}
