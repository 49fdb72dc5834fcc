//! Router advertisement, neighbour discovery, DHCPv6 and Hosts on both boards (issue 14),
//! over the wire: the real agent in a network namespace this test makes, the scripted ACS.
//!
//! - Linux: neighbour discovery from the namespace's sysctls (written by SetParameterValues
//!   and read back from /proc inside the namespace; a value the sysctl's unit cannot hold is
//!   refused and nothing is written), the IPv6 switches, and a host of the neighbour table
//!   with its bridge port (a forwarding database entry) and its addresses.
//! - OpenWrt (the fixtures of tests/fixtures/openwrt): odhcpd's RA and DHCPv6 server
//!   settings, netifd's DHCPv6 client and the ULA prefix, set and read back from the UCI
//!   files; bad values refused without a write; Hosts pointing at the DHCPv4 client row and
//!   the Wi-Fi station of their MAC address.
//!
//! Needs root (network namespaces); skipped elsewhere.

use std::path::Path;
use std::process::Command;

use cwmpd_testacs::{Acs, Reply};

use crate::support::agent::Agent;
use crate::support::netns::Netns;
use crate::support::soap::{gpv, spv};
use crate::support::wait::T;
use crate::support::{root, TempDir};

/// Waits until the ACS has `n` replies and returns them.
fn replies(acs: &Acs, a: &Agent, n: usize) -> Vec<Reply> {
    assert!(
        acs.wait(T, |_, r, left| r.len() >= n && left == 0),
        "{} replies of {n}; log:\n{}",
        acs.replies().len(),
        a.log()
    );
    acs.replies()
}

/// `name = value` of a GetParameterValuesResponse.
fn of(r: &Reply, name: &str) -> String {
    r.values()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{name} not in {:?}", r.values()))
}

/// The instance path (`Device.X.3.`) under `table` whose `param` has `value`.
fn row(r: &Reply, table: &str, param: &str, value: &str) -> String {
    r.values()
        .into_iter()
        .find(|(n, v)| {
            n.starts_with(table)
                && n[table.len()..].split('.').count() == 2
                && n.ends_with(&format!(".{param}"))
                && v == value
        })
        .map(|(n, _)| n[..n.len() - param.len()].to_string())
        .unwrap_or_else(|| panic!("no {table}{{i}}.{param} = {value} in {:?}", r.values()))
}

/// A file in the namespace's view of /proc/sys (`ip netns exec` remounts /sys, and /proc/sys/net
/// follows the reader's namespace).
fn sysctl(ns: &Netns, path: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "cat", path])
        .output()
        .unwrap();
    assert!(out.status.success(), "{path}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn fault(r: &Reply) -> u32 {
    assert_eq!(r.name, "Fault", "{}", r.raw);
    r.fault_code().unwrap_or_default()
}

#[test]
fn linux_neighbour_discovery_is_the_kernels_and_hosts_know_their_port() {
    let Some(ns) = Netns::create("ipv6-nd") else {
        return;
    };
    for cmd in [
        "link set lo up",
        "link add br-lan type bridge",
        "link add lan1 type veth peer name lan1p",
        "link set lan1 master br-lan",
        "link set lan1 up",
        "link set lan1p up",
        "link set br-lan up",
        "addr add 192.168.5.1/24 dev br-lan",
        "-6 addr add fd00:5::1/64 dev br-lan nodad",
        "neigh add 192.168.5.20 lladdr 02:00:00:00:05:20 dev br-lan nud permanent",
        "neigh add fd00:5::20 lladdr 02:00:00:00:05:20 dev br-lan nud permanent",
    ] {
        ns.ip(cmd);
    }
    let fdb = Command::new("bridge")
        .args([
            "-n",
            &ns.0,
            "fdb",
            "replace",
            "02:00:00:00:05:20",
            "dev",
            "lan1",
        ])
        .args(["master", "static"])
        .status()
        .unwrap();
    assert!(fdb.success());
    // br-lan with a finite count (the ACS sets it below); lan1 keeps the kernel's default,
    // which newer kernels make -1 (unlimited).
    let rs = Command::new("ip")
        .args(["netns", "exec", &ns.0, "sh", "-c"])
        .arg("echo 3 > /proc/sys/net/ipv6/conf/br-lan/router_solicitations")
        .status()
        .unwrap();
    assert!(rs.success());
    let acs: Acs = ns.within(crate::support::acs);
    acs.push(&gpv(&[
        "Device.IP.",
        "Device.NeighborDiscovery.",
        "Device.Hosts.",
        "Device.Ethernet.Interface.",
    ]));
    let a = Agent::start_in("ipv6-nd", &acs, "", "", Some(&ns.0));
    let r = replies(&acs, &a, 1).remove(0);
    assert_eq!(of(&r, "Device.IP.IPv6Enable"), "true");
    assert_eq!(of(&r, "Device.IP.IPv6Status"), "Enabled");

    // The InterfaceSetting of br-lan: the kernel's defaults.
    let ip_br = row(&r, "Device.IP.Interface.", "Name", "br-lan");
    let ip_lan1 = row(&r, "Device.IP.Interface.", "Name", "lan1");
    let nd = row(
        &r,
        "Device.NeighborDiscovery.InterfaceSetting.",
        "Interface",
        ip_br.trim_end_matches('.'),
    );
    assert_eq!(of(&r, &format!("{nd}Enable")), "true");
    assert_eq!(of(&r, &format!("{nd}Status")), "Enabled");
    assert_eq!(of(&r, &format!("{nd}RetransTimer")), "1000");
    assert_eq!(of(&r, &format!("{nd}RtrSolicitationInterval")), "4000");
    // Newer kernels say -1 ("unlimited"), which an unsignedInt cannot hold: then the
    // parameter is left out of the row rather than reported as some number.
    let rs = sysctl(&ns, "/proc/sys/net/ipv6/conf/br-lan/router_solicitations");
    let name = format!("{nd}MaxRtrSolicitations");
    let reported = r.values().into_iter().find(|(n, _)| *n == name);
    if rs == "-1" {
        assert_eq!(reported, None, "unlimited is no unsignedInt");
    } else {
        assert_eq!(reported.map(|(_, v)| v), Some(rs));
    }

    // The host: its addresses by MAC, its bridge port.
    let host = row(&r, "Device.Hosts.Host.", "IPAddress", "192.168.5.20");
    assert_eq!(of(&r, &format!("{host}PhysAddress")), "02:00:00:00:05:20");
    assert_eq!(of(&r, &format!("{host}IPv4AddressNumberOfEntries")), "1");
    assert_eq!(
        of(&r, &format!("{host}IPv4Address.1.IPAddress")),
        "192.168.5.20"
    );
    assert_eq!(
        of(&r, &format!("{host}IPv6Address.1.IPAddress")),
        "fd00:5::20"
    );
    let eth_lan1 = row(&r, "Device.Ethernet.Interface.", "Name", "lan1");
    assert_eq!(
        of(&r, &format!("{host}Layer1Interface")),
        eth_lan1.trim_end_matches('.')
    );

    // Writes reach the kernel: milliseconds as they are, the interval in whole seconds.
    acs.push(&spv(
        &[
            (&format!("{nd}RetransTimer"), "unsignedInt", "2500"),
            (
                &format!("{nd}RtrSolicitationInterval"),
                "unsignedInt",
                "8000",
            ),
            (&format!("{nd}MaxRtrSolicitations"), "unsignedInt", "5"),
            (&format!("{ip_lan1}IPv6Enable"), "boolean", "false"),
        ],
        "nd-1",
    ));
    // Not a whole number of seconds: refused, and the other value of the Set not written.
    acs.push(&spv(
        &[
            (&format!("{nd}RetransTimer"), "unsignedInt", "9000"),
            (
                &format!("{nd}RtrSolicitationInterval"),
                "unsignedInt",
                "4500",
            ),
        ],
        "nd-2",
    ));
    acs.push(&gpv(&[
        &format!("{nd}RtrSolicitationInterval"),
        &format!("{ip_lan1}IPv6Enable"),
    ]));
    let url = acs.cr_url().expect("connection request URL");
    let cr = ns.within(move || Acs::connection_request(&url, "acs", "crpw").unwrap());
    assert_eq!(cr, 200);
    let rs = replies(&acs, &a, 4);
    assert_eq!(rs[1].name, "SetParameterValuesResponse", "{}", rs[1].raw);
    assert_eq!(fault(&rs[2]), 9003, "{}", rs[2].raw);
    assert!(rs[2].raw.contains("9007"), "{}", rs[2].raw);
    assert_eq!(
        sysctl(&ns, "/proc/sys/net/ipv6/neigh/br-lan/retrans_time_ms"),
        "2500"
    );
    assert_eq!(
        sysctl(
            &ns,
            "/proc/sys/net/ipv6/conf/br-lan/router_solicitation_interval"
        ),
        "8"
    );
    assert_eq!(
        sysctl(&ns, "/proc/sys/net/ipv6/conf/br-lan/router_solicitations"),
        "5"
    );
    assert_eq!(
        sysctl(&ns, "/proc/sys/net/ipv6/conf/lan1/disable_ipv6"),
        "1"
    );
    assert_eq!(of(&rs[3], &format!("{nd}RtrSolicitationInterval")), "8000");
    assert_eq!(of(&rs[3], &format!("{ip_lan1}IPv6Enable")), "false");
}

/// Copies the OpenWrt fixtures into `dir` and returns the config of an agent on the OpenWrt
/// board over them (apply commands that leave a mark).
fn openwrt(dir: &Path, acs: &Acs) -> String {
    let copy = Command::new("cp")
        .arg("-a")
        .arg(root().join("tests/fixtures/openwrt/."))
        .arg(dir)
        .status()
        .unwrap();
    assert!(copy.success());
    let d = dir.display();
    std::fs::write(
        dir.join("board.toml"),
        format!(
            "[board]\nname = \"openwrt-ipv6\"\ninclude = [\"{}/board/openwrt.toml\"]\n\n\
             [handlers.uci]\ndir = \"{d}/etc/config\"\n\
             apply.network = [\"touch\", \"{d}/applied-network\"]\napply.dhcp = [\"touch\", \"{d}/applied-dhcp\"]\n\
             [handlers.ubus]\ncommand = [\"{d}/bin/ubus\"]\n\
             [handlers.leases]\ndnsmasq = \"{d}/tmp/dhcp.leases\"\nodhcpd = \"{d}/tmp/hosts/odhcpd\"\n\
             [handlers.users]\npasswd = \"{d}/etc/passwd\"\nshadow = \"{d}/etc/shadow\"\n\
             [handlers.sensors]\nsys = \"{d}/sys\"\n",
            root().display()
        ),
    )
    .unwrap();
    format!(
        "[acs]\nurl = \"{}\"\nusername = \"cpe\"\npassword = \"pw\"\nperiodic_inform_enable = false\n\
         [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
         [paths]\ndatamodel = \"{}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
        acs.url(),
        root().display()
    )
}

/// The section `name` of a UCI file's text (up to the next `config`).
fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let head = text
        .lines()
        .find(|l| l.starts_with("config ") && l.ends_with(&format!(" '{name}'")))
        .unwrap_or_else(|| panic!("no section {name}"));
    let start = text.find(head).unwrap_or_default();
    let rest = &text[start..];
    &rest[..rest[1..].find("\nconfig ").map_or(rest.len(), |e| e + 1)]
}

#[test]
fn openwrt_ra_dhcpv6_and_ula_are_odhcpds_and_netifds_uci() {
    let Some(ns) = Netns::create("ipv6-owrt") else {
        return;
    };
    for cmd in [
        "link set lo up",
        "link add br-lan type bridge",
        "link set br-lan up",
        "addr add 192.168.1.1/24 dev br-lan",
        "neigh add 192.168.1.105 lladdr 3c:22:fb:10:20:30 dev br-lan nud permanent",
    ] {
        ns.ip(cmd);
    }
    let dir = TempDir::new("agent-ipv6-owrt");
    // The user name the fixture's /etc/config/cwmpd gives the agent.
    let acs: Acs = ns.within(|| Acs::start(0, Some(("cpe-0011aabbcc", "pw"))).unwrap());
    let config = openwrt(&dir, &acs);
    // The ACS URL lives in /etc/config/cwmpd on OpenWrt.
    let uci = dir.join("etc/config/cwmpd");
    let text = std::fs::read_to_string(&uci).unwrap();
    std::fs::write(
        &uci,
        text.replace("https://acs.isp.example/cwmp", &acs.url()),
    )
    .unwrap();
    // dhcp sections: lan 1, guest 2, wan 3; interfaces (loopback excluded): lan 1, guest 2,
    // wan 3, wan6 4, iptv 5.
    let ra = "Device.RouterAdvertisement.InterfaceSetting.";
    acs.push(&gpv(&[
        "Device.RouterAdvertisement.",
        "Device.DHCPv6.",
        "Device.Hosts.",
        "Device.IP.ULAPrefix",
    ]));
    acs.push(&spv(
        &[
            (&format!("{ra}2.AdvManagedFlag"), "boolean", "true"),
            (&format!("{ra}2.AdvOtherConfigFlag"), "boolean", "false"),
            (&format!("{ra}1.AdvMobileAgentFlag"), "boolean", "true"),
            (
                &format!("{ra}3.Interface"),
                "string",
                "Device.IP.Interface.4",
            ),
            ("Device.DHCPv6.Server.Pool.2.IANAEnable", "boolean", "false"),
            ("Device.DHCPv6.Server.Pool.3.Enable", "boolean", "true"),
            ("Device.DHCPv6.Client.1.RequestPrefixes", "boolean", "false"),
            ("Device.DHCPv6.Client.1.RequestedOptions", "string", "23,24"),
            ("Device.IP.ULAPrefix", "string", "fd11:2233:4455::/48"),
        ],
        "v6-1",
    ));
    // A path that is no IP interface, and a word that is no boolean: refused, nothing written.
    acs.push(&spv(
        &[
            (&format!("{ra}1.AdvManagedFlag"), "boolean", "false"),
            (
                &format!("{ra}1.Interface"),
                "string",
                "Device.IP.Interface.99",
            ),
        ],
        "v6-2",
    ));
    acs.push(&spv(
        &[("Device.DHCPv6.Client.1.RequestedOptions", "string", "23 24")],
        "v6-3",
    ));
    // A new InterfaceSetting is a new dhcp section that serves nothing yet (no DHCPv4 either).
    acs.push(&format!(
        "<cwmp:AddObject><ObjectName>{ra}</ObjectName><ParameterKey>v6-4</ParameterKey></cwmp:AddObject>"
    ));
    let mut a = Agent::launch(dir, &config, Some(&ns.0), Some("debug"), None);
    let rs = replies(&acs, &a, 5);
    let r = &rs[0];
    assert_eq!(of(r, &format!("{ra}1.AdvManagedFlag")), "true");
    assert_eq!(of(r, &format!("{ra}1.AdvOtherConfigFlag")), "true");
    assert_eq!(of(r, &format!("{ra}1.AdvMobileAgentFlag")), "false");
    // guest has no ra_flags: odhcpd's default, other-config.
    assert_eq!(of(r, &format!("{ra}2.AdvManagedFlag")), "false");
    assert_eq!(of(r, &format!("{ra}2.AdvOtherConfigFlag")), "true");
    assert_eq!(of(r, &format!("{ra}2.MaxRtrAdvInterval")), "900");
    assert_eq!(of(r, &format!("{ra}2.Interface")), "Device.IP.Interface.2");
    assert_eq!(of(r, &format!("{ra}3.Status")), "Disabled");
    assert_eq!(of(r, "Device.DHCPv6.Server.Pool.1.Enable"), "true");
    assert_eq!(of(r, "Device.DHCPv6.Server.Pool.1.IANAEnable"), "true");
    assert_eq!(of(r, "Device.DHCPv6.Server.Pool.3.Status"), "Disabled");
    // odhcpd's two leases on br-lan, the lan pool's device.
    assert_eq!(
        of(r, "Device.DHCPv6.Server.Pool.1.ClientNumberOfEntries"),
        "2"
    );
    assert_eq!(
        of(r, "Device.DHCPv6.Server.Pool.2.ClientNumberOfEntries"),
        "0"
    );
    assert_eq!(of(r, "Device.DHCPv6.ClientNumberOfEntries"), "1");
    assert_eq!(
        of(r, "Device.DHCPv6.Client.1.Interface"),
        "Device.IP.Interface.4"
    );
    assert_eq!(of(r, "Device.DHCPv6.Client.1.RequestAddresses"), "true");
    assert_eq!(of(r, "Device.DHCPv6.Client.1.RequestPrefixes"), "true");
    assert_eq!(of(r, "Device.DHCPv6.Client.1.RequestedOptions"), "");
    assert_eq!(of(r, "Device.IP.ULAPrefix"), "fd4c:9a2e:51b7::/48");
    // The laptop: dnsmasq's client row and hostapd's station of its MAC address.
    let host = row(r, "Device.Hosts.Host.", "PhysAddress", "3c:22:fb:10:20:30");
    let client = of(r, &format!("{host}DHCPClient"));
    assert!(
        client.starts_with("Device.DHCPv4.Server.Pool.1.Client."),
        "{client}"
    );
    assert_eq!(
        of(r, &format!("{host}AssociatedDevice")),
        "Device.WiFi.AccessPoint.1.AssociatedDevice.1"
    );

    assert_eq!(rs[1].name, "SetParameterValuesResponse", "{}", rs[1].raw);
    assert_eq!(fault(&rs[2]), 9003, "{}", rs[2].raw);
    assert_eq!(fault(&rs[3]), 9003, "{}", rs[3].raw);
    assert_eq!(rs[4].name, "AddObjectResponse", "{}", rs[4].raw);
    a.idle_after(&["session: end"]);
    let dhcp = std::fs::read_to_string(a.file("etc/config/dhcp")).unwrap();
    let guest = section(&dhcp, "guest");
    assert!(guest.contains("list ra_flags 'managed-config'"), "{guest}");
    assert!(!guest.contains("other-config"), "{guest}");
    assert!(guest.contains("option dhcpv6_na '0'"), "{guest}");
    let lan = section(&dhcp, "lan");
    assert!(lan.contains("list ra_flags 'home-agent'"), "{lan}");
    assert!(
        lan.contains("list ra_flags 'managed-config'"),
        "the refused Set: {lan}"
    );
    assert!(lan.contains("option interface 'lan'"), "{lan}");
    let wan = section(&dhcp, "wan");
    assert!(wan.contains("option interface 'wan6'"), "{wan}");
    assert!(wan.contains("option dhcpv6 'server'"), "{wan}");
    let added = &dhcp[dhcp.rfind("config dhcp").unwrap()..];
    let added = &added[..added[1..].find("\nconfig ").map_or(added.len(), |e| e + 1)];
    for opt in ["ra 'disabled'", "dhcpv6 'disabled'", "ignore '1'"] {
        assert!(added.contains(&format!("option {opt}")), "{added}");
    }
    let network = std::fs::read_to_string(a.file("etc/config/network")).unwrap();
    let wan6 = section(&network, "wan6");
    assert!(wan6.contains("option reqprefix 'no'"), "{wan6}");
    assert!(wan6.contains("option reqopts '23 24'"), "{wan6}");
    assert!(section(&network, "globals").contains("option ula_prefix 'fd11:2233:4455::/48'"));
    // One apply each, after the session.
    assert!(a.file("applied-dhcp").exists() && a.file("applied-network").exists());
    let _ = a.signal(nix::sys::signal::Signal::SIGTERM);
}
