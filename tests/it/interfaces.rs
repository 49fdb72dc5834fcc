//! Ethernet, VLAN, bridge, PPP and IP interface tables on both boards (issue 14), over the
//! wire: the real `cwmpd run` in a network namespace this test makes, asked by the scripted
//! ACS in one session kept open (a filler request while the test looks at the answers).
//!
//! - board/linux.toml on veth and a bridge: link counters from the kernel, the driver's own
//!   counters through SIOCETHTOOL (veth names them otherwise than a switch: a test board maps
//!   one of veth's to prove the reading; the stock names are absent, never derived), a Link
//!   set down for real, a bad value refused.
//! - board/openwrt.toml on tests/fixtures/openwrt: switch counters from the mt7530 fixtures,
//!   AddObject/SetParameterValues/DeleteObject of IP and PPP interfaces, VLAN device Enable
//!   and LowerLayers, read back from the UCI file; faults for bad values.
//!
//! (This kernel has no VLAN or PPP devices: those rows come from the UCI fixtures.)

use cwmpd_testacs::{Acs, Reply};

use crate::support::agent::Agent;
use crate::support::copy_tree;
use crate::support::netns::Netns;
use crate::support::soap::{gpv, spv};
use crate::support::wait::T;
use crate::support::{root, TempDir};

/// Keeps the session open between the test's requests.
const FILLER: &str = "<cwmp:GetRPCMethods/>";

/// Sends one request in the open session and returns its answer.
fn ask(acs: &Acs, body: &str) -> Reply {
    let before = acs.replies().len();
    acs.push(body);
    let real = |r: &Reply| r.name != "GetRPCMethodsResponse";
    assert!(
        acs.wait(T, |_, r, _| r.iter().skip(before).any(real)),
        "no answer to {body}"
    );
    acs.replies()
        .into_iter()
        .skip(before)
        .find(real)
        .expect("an answer")
}

fn values(acs: &Acs, path: &str) -> Vec<(String, String)> {
    let r = ask(acs, &gpv(&[path]));
    assert_eq!(r.name, "GetParameterValuesResponse", "{}", r.raw);
    r.values()
}

/// The instance path (`Device.X.3.`) of the row of `table` whose `Name` is `name`.
fn row(vals: &[(String, String)], table: &str, name: &str) -> String {
    vals.iter()
        .find(|(p, v)| {
            v == name
                && p.strip_prefix(table)
                    .and_then(|rest| rest.split_once('.'))
                    .is_some_and(|(n, tail)| {
                        tail == "Name" && n.bytes().all(|b| b.is_ascii_digit())
                    })
        })
        .map(|(p, _)| p.trim_end_matches("Name").to_string())
        .unwrap_or_else(|| panic!("no {table} row named {name} in {vals:?}"))
}

fn value<'a>(vals: &'a [(String, String)], path: &str) -> Option<&'a str> {
    vals.iter()
        .find(|(p, _)| p == path)
        .map(|(_, v)| v.as_str())
}

fn fault(r: &Reply) -> Option<u32> {
    // A SetParameterValues fault names the parameter's own code inside.
    let outer = r.fault_code()?;
    let inner = r
        .body
        .child("detail")
        .and_then(|d| d.child("Fault"))
        .and_then(|f| f.child("SetParameterValuesFault"))
        .and_then(|s| s.child("FaultCode"))
        .and_then(|c| c.text.trim().parse().ok());
    Some(inner.unwrap_or(outer))
}

fn in_ns(ns: &Netns, argv: &[&str]) -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .args(argv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{argv:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Starts a session and keeps it open.
fn open_session(acs: &Acs) {
    acs.filler(Some(FILLER));
    assert!(acs.wait_informs(1, T), "no Inform");
}

#[test]
fn linux_links_counters_and_enable_over_the_wire() {
    let Some(ns) = Netns::create("ifaces") else {
        return;
    };
    // No IPv6 (no router solicitations): the counters stay still while they are compared.
    in_ns(
        &ns,
        &["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"],
    );
    for cmd in [
        "link set lo up",
        "link add v0 type veth peer name v1",
        "link add br0 type bridge",
        "link set v1 master br0",
        "link set v0 up",
        "link set v1 up",
        "link set br0 up",
        "addr add 10.9.0.1/24 dev v0",
        "route add default via 10.9.0.2",
    ] {
        ns.ip(cmd);
    }
    let acs = ns.within(|| Acs::start(0, Some(("cpe", "pw"))).unwrap());
    // A test mapping of one of veth's own driver counters: the SIOCETHTOOL reading and the
    // first-name-the-driver-has rule, on a device this kernel can make.
    let extra = "[[object]]\npath = \"Device.Ethernet.Link.{i}.Stats.\"\n[object.params]\n\
                 UnicastPacketsSent = { handler = \"ethtool\", ifname = \"{ifname}\", stat = [\"no_such_counter\", \"peer_ifindex\"], optional = true }\n";
    let _agent = Agent::start_in("ifaces", &acs, "", extra, Some(&ns.0));
    open_session(&acs);

    let sys = |f: &str| in_ns(&ns, &["cat", &format!("/sys/class/net/v0/{f}")]);
    // The kernel's counters read before and after the answer: the agent's reading lies between
    // them (a packet the kernel itself sends meanwhile must not fail the test).
    let counters = ["statistics/tx_bytes", "statistics/rx_packets"];
    let before = counters.map(|c| counter(&sys(c)));
    let links = values(&acs, "Device.Ethernet.Link.");
    let after = counters.map(|c| counter(&sys(c)));
    let v0 = row(&links, "Device.Ethernet.Link.", "v0");
    for (i, param) in ["BytesSent", "PacketsReceived"].into_iter().enumerate() {
        let read = value(&links, &format!("{v0}Stats.{param}")).map(counter);
        assert!(
            read.is_some_and(|n| (before[i]..=after[i]).contains(&n)),
            "{param} {read:?} not within the kernel's {}..={}",
            before[i],
            after[i]
        );
    }
    // veth's peer_ifindex is v1's index.
    let v1_index = in_ns(&ns, &["cat", "/sys/class/net/v1/ifindex"]);
    assert_eq!(
        value(&links, &format!("{v0}Stats.UnicastPacketsSent")),
        Some(v1_index.as_str())
    );
    // The bridge has no driver counters: the row lists none.
    let br0 = row(&links, "Device.Ethernet.Link.", "br0");
    assert_eq!(
        value(&links, &format!("{br0}Stats.UnicastPacketsSent")),
        None
    );

    // The stock names: veth has none of them, so they are absent, not zero.
    let eth = values(&acs, "Device.Ethernet.Interface.");
    let e0 = row(&eth, "Device.Ethernet.Interface.", "v0");
    let e1 = row(&eth, "Device.Ethernet.Interface.", "v1");
    // The default route leaves through v0.
    assert_eq!(value(&eth, &format!("{e0}Upstream")), Some("true"));
    assert_eq!(value(&eth, &format!("{e1}Upstream")), Some("false"));
    assert_eq!(value(&eth, &format!("{e0}Stats.UnicastPacketsSent")), None);
    assert_eq!(
        value(&eth, &format!("{e0}Stats.BroadcastPacketsReceived")),
        None
    );
    let r = ask(&acs, &gpv(&[&format!("{e0}Stats.UnicastPacketsSent")]));
    assert_eq!(r.fault_code(), Some(9005), "{}", r.raw);

    // Link.Enable really sets the link down.
    let r = ask(
        &acs,
        &spv(&[(&format!("{v0}Enable"), "boolean", "false")], "down"),
    );
    assert_eq!(r.name, "SetParameterValuesResponse", "{}", r.raw);
    let flags = u32::from_str_radix(sys("flags").trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 0, "v0 still up: flags {flags:#x}");
    let r = ask(
        &acs,
        &spv(&[(&format!("{v0}Enable"), "boolean", "maybe")], "bad"),
    );
    assert_eq!(fault(&r), Some(9007), "{}", r.raw);
    acs.filler(None);
}

/// A kernel or agent counter as a number.
fn counter(text: &str) -> u64 {
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a counter: {text:?}"))
}

/// The UCI section `config <ty> '<name>'` … up to the next section, from `text`.
fn section<'a>(text: &'a str, head: &str) -> Option<&'a str> {
    let at = text.find(head)?;
    let rest = &text[at + head.len()..];
    Some(&rest[..rest.find("\nconfig ").unwrap_or(rest.len())])
}

/// The anonymous device section whose `name` is `name`.
fn device<'a>(text: &'a str, name: &str) -> &'a str {
    text.split("\nconfig ")
        .find(|s| s.starts_with("device") && s.contains(&format!("option name '{name}'")))
        .unwrap_or_else(|| panic!("no device {name} in\n{text}"))
}

#[test]
fn openwrt_interfaces_written_to_uci_over_the_wire() {
    let Some(ns) = Netns::create("ifaces-owrt") else {
        return;
    };
    ns.ip("link set lo up");
    ns.ip("link add br-lan type bridge");
    for port in ["lan1", "lan2", "lan3", "lan4", "wan"] {
        ns.ip(&format!("link add {port} type veth peer name {port}p"));
        if port.starts_with("lan") {
            ns.ip(&format!("link set {port} master br-lan"));
        }
        ns.ip(&format!("link set {port} up"));
    }
    ns.ip("link set br-lan up");
    let acs = ns.within(|| Acs::start(0, Some(("cpe-0011aabbcc", "pw"))).unwrap());
    let dir = TempDir::new("ifaces-owrt");
    let fx = dir.join("fx");
    copy_tree(&root().join("tests/fixtures/openwrt"), &fx);
    let uci = fx.join("etc/config/cwmpd");
    let text = std::fs::read_to_string(&uci).unwrap();
    let text = text.replace(
        "option url 'https://acs.isp.example/cwmp'",
        &format!("option url '{}'", acs.url()),
    );
    std::fs::write(&uci, text).unwrap();
    let (f, r) = (fx.display(), root().display());
    std::fs::write(
        dir.join("board.toml"),
        format!(
            "[board]\nname = \"openwrt-fixtures\"\ninclude = [\"{r}/board/openwrt.toml\"]\n\
             [handlers.uci]\ndir = \"{f}/etc/config\"\napply.network = [\"true\"]\n\
             [handlers.ubus]\ncommand = [\"{f}/bin/ubus\"]\n\
             [handlers.leases]\ndnsmasq = \"{f}/tmp/dhcp.leases\"\nodhcpd = \"{f}/tmp/hosts/odhcpd\"\n\
             [handlers.users]\npasswd = \"{f}/etc/passwd\"\nshadow = \"{f}/etc/shadow\"\n\
             [handlers.sensors]\nsys = \"{f}/sys\"\n\
             [handlers.ethtool]\ndir = \"{f}/ethtool\"\n\
             [handlers.json]\nroot = \"{f}\"\n"
        ),
    )
    .unwrap();
    let d = dir.display();
    let config = format!(
        "[acs]\nurl = \"{}\"\nusername = \"cpe\"\npassword = \"pw\"\nperiodic_inform_enable = false\n\
         [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
         [paths]\ndatamodel = \"{r}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
        acs.url()
    );
    let network = fx.join("etc/config/network");
    let _agent = Agent::launch(dir, &config, Some(&ns.0), Some("trace"), None);
    open_session(&acs);

    // The switch's own counters of lan1 (the mt7530 fixture), none on the bridge.
    let eth = values(&acs, "Device.Ethernet.Interface.");
    let lan1 = row(&eth, "Device.Ethernet.Interface.", "lan1");
    assert_eq!(
        value(&eth, &format!("{lan1}Stats.UnicastPacketsSent")),
        Some("182344")
    );
    assert_eq!(
        value(&eth, &format!("{lan1}Stats.BroadcastPacketsReceived")),
        Some("1879")
    );
    assert_eq!(
        value(&eth, &format!("{lan1}Stats.MulticastPacketsSent")),
        Some("1203")
    );
    // Link settings: lan4's device section says 100 Mb/s full duplex; lan3 has none (a
    // section named after it is added), and -1 removes lan4's speed again.
    let lan3 = row(&eth, "Device.Ethernet.Interface.", "lan3");
    let lan4 = row(&eth, "Device.Ethernet.Interface.", "lan4");
    assert_eq!(value(&eth, &format!("{lan4}MaxBitRate")), Some("100"));
    assert_eq!(value(&eth, &format!("{lan4}DuplexMode")), Some("Full"));
    assert_eq!(value(&eth, &format!("{lan3}MaxBitRate")), Some("-1"));
    assert_eq!(value(&eth, &format!("{lan3}DuplexMode")), Some("Auto"));
    // Upstream: the port board.json names the WAN device.
    let wan = row(&eth, "Device.Ethernet.Interface.", "wan");
    assert_eq!(value(&eth, &format!("{wan}Upstream")), Some("true"));
    assert_eq!(value(&eth, &format!("{lan3}Upstream")), Some("false"));
    let r = ask(
        &acs,
        &spv(
            &[
                (&format!("{lan3}MaxBitRate"), "int", "1000"),
                (&format!("{lan3}DuplexMode"), "string", "Half"),
                (&format!("{lan4}MaxBitRate"), "int", "-1"),
            ],
            "speed",
        ),
    );
    assert_eq!(r.name, "SetParameterValuesResponse", "{}", r.raw);
    let text = std::fs::read_to_string(&network).unwrap();
    let dev = device(&text, "lan3");
    assert!(
        dev.contains("option speed '1000'") && dev.contains("option duplex '0'"),
        "{dev}"
    );
    let dev = device(&text, "lan4");
    assert!(
        !dev.contains("option speed") && dev.contains("option duplex '1'"),
        "{dev}"
    );
    let r = ask(
        &acs,
        &spv(
            &[(&format!("{lan3}DuplexMode"), "string", "Sideways")],
            "bad",
        ),
    );
    assert_eq!(fault(&r), Some(9007), "{}", r.raw);
    assert_eq!(std::fs::read_to_string(&network).unwrap(), text);

    let links = values(&acs, "Device.Ethernet.Link.");
    let link_lan3 = row(&links, "Device.Ethernet.Link.", "lan3");
    let link_lan2 = row(&links, "Device.Ethernet.Link.", "lan2");

    // A new IP interface is a disabled, unmanaged section; its LowerLayers is its device.
    let r = ask(&acs, "<cwmp:AddObject><ObjectName>Device.IP.Interface.</ObjectName><ParameterKey>a1</ParameterKey></cwmp:AddObject>");
    assert_eq!(r.name, "AddObjectResponse", "{}", r.raw);
    let n = r
        .body
        .child("InstanceNumber")
        .unwrap()
        .text
        .trim()
        .to_string();
    let ip = format!("Device.IP.Interface.{n}.");
    let text = std::fs::read_to_string(&network).unwrap();
    let s = section(&text, "config interface 'cwmp_ip1'").expect("added section");
    assert!(
        s.contains("option proto 'none'") && s.contains("option disabled '1'"),
        "{s}"
    );
    let r = ask(
        &acs,
        &spv(&[(&format!("{ip}LowerLayers"), "string", &link_lan3)], "ll"),
    );
    assert_eq!(r.name, "SetParameterValuesResponse", "{}", r.raw);
    let text = std::fs::read_to_string(&network).unwrap();
    let s = section(&text, "config interface 'cwmp_ip1'").unwrap();
    assert!(s.contains("option device 'lan3'"), "{s}");
    // A path that is no Link is refused, and nothing is written.
    let r = ask(
        &acs,
        &spv(
            &[(
                &format!("{ip}LowerLayers"),
                "string",
                "Device.IP.Interface.1.",
            )],
            "bad",
        ),
    );
    assert_eq!(fault(&r), Some(9007), "{}", r.raw);
    assert_eq!(std::fs::read_to_string(&network).unwrap(), text);
    let r = ask(&acs, &format!("<cwmp:DeleteObject><ObjectName>{ip}</ObjectName><ParameterKey>d1</ParameterKey></cwmp:DeleteObject>"));
    assert_eq!(r.name, "DeleteObjectResponse", "{}", r.raw);
    let text = std::fs::read_to_string(&network).unwrap();
    assert!(!text.contains("cwmp_ip1"), "{text}");

    // A new PPP interface is a disabled pppoe section.
    let r = ask(&acs, "<cwmp:AddObject><ObjectName>Device.PPP.Interface.</ObjectName><ParameterKey>a2</ParameterKey></cwmp:AddObject>");
    assert_eq!(r.name, "AddObjectResponse", "{}", r.raw);
    let text = std::fs::read_to_string(&network).unwrap();
    let s = section(&text, "config interface 'cwmp_ppp1'").expect("added section");
    assert!(
        s.contains("option proto 'pppoe'") && s.contains("option disabled '1'"),
        "{s}"
    );

    // The PPPoE session runs on the VLAN device wan.7; moved onto wan.8.
    let vlans = values(&acs, "Device.Ethernet.VLANTermination.");
    let v7 = row(&vlans, "Device.Ethernet.VLANTermination.", "wan.7");
    let v8 = row(&vlans, "Device.Ethernet.VLANTermination.", "wan.8");
    let ppp = values(&acs, "Device.PPP.Interface.");
    let wan = row(&ppp, "Device.PPP.Interface.", "wan");
    assert_eq!(
        value(&ppp, &format!("{wan}LowerLayers")),
        Some(v7.trim_end_matches('.'))
    );
    let r = ask(
        &acs,
        &spv(&[(&format!("{wan}LowerLayers"), "string", &v8)], "ppp"),
    );
    assert_eq!(r.name, "SetParameterValuesResponse", "{}", r.raw);
    let text = std::fs::read_to_string(&network).unwrap();
    let s = section(&text, "config interface 'wan'").unwrap();
    assert!(s.contains("option device 'wan.8'"), "{s}");

    // The VLAN device wan.8: disabled, and moved onto lan2.
    assert_eq!(value(&vlans, &format!("{v8}Enable")), Some("true"));
    assert_eq!(value(&vlans, &format!("{v8}VLANID")), Some("8"));
    let r = ask(
        &acs,
        &spv(
            &[
                (&format!("{v8}Enable"), "boolean", "false"),
                (&format!("{v8}LowerLayers"), "string", &link_lan2),
            ],
            "vlan",
        ),
    );
    assert_eq!(r.name, "SetParameterValuesResponse", "{}", r.raw);
    let text = std::fs::read_to_string(&network).unwrap();
    let dev = device(&text, "wan.8");
    assert!(dev.contains("option enabled '0'"), "{dev}");
    assert!(dev.contains("option ifname 'lan2'"), "{dev}");
    assert!(device(&text, "wan.7").contains("option ifname 'wan'"));
    acs.filler(None);
}
