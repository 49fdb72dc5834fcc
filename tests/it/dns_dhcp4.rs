//! DNS client and relay, DHCPv4 client and server on board/openwrt.toml (issue 14), and the
//! DNS client of board/linux.toml, driven over the wire: the real `cwmpd run` answers the
//! scripted test ACS's GetParameterValues, SetParameterValues, AddObject and DeleteObject in
//! one session, and the test reads back what they wrote (the UCI files of a copy of
//! tests/fixtures/openwrt; a resolv.conf and an nsswitch.conf of its own for Linux).

use std::path::Path;

use cwmpd_testacs::{Acs, Reply};

use crate::support::agent::Agent;
use crate::support::copy_tree;
use crate::support::root;
use crate::support::soap::gpv;
use crate::support::wait::T;

/// SetParameterValues of strings (every value here is a string or a type the agent parses
/// from a string's lexical form).
fn spv(list: &[(&str, &str)], key: &str) -> String {
    let typed: Vec<(&str, &str, &str)> = list.iter().map(|(n, v)| (*n, "string", *v)).collect();
    crate::support::soap::spv(&typed, key)
}

fn add(object: &str) -> String {
    format!("<cwmp:AddObject><ObjectName>{object}</ObjectName><ParameterKey>add</ParameterKey></cwmp:AddObject>")
}

fn delete(object: &str) -> String {
    format!("<cwmp:DeleteObject><ObjectName>{object}</ObjectName><ParameterKey>del</ParameterKey></cwmp:DeleteObject>")
}

/// Pushes `requests`, starts the agent with `board` (written into its directory by
/// `write`), waits for the session's replies and the end of the session.
fn session(
    tag: &str,
    acs: &Acs,
    requests: &[String],
    write: impl FnOnce(&Path) -> String,
) -> (Agent, Vec<Reply>) {
    for r in requests {
        acs.push(r);
    }
    let url = acs.url();
    let agent = Agent::start_with(
        tag,
        |d| {
            let board = write(d);
            std::fs::write(d.join("board.toml"), board).unwrap();
            format!(
                "[acs]\nurl = \"{url}\"\nusername = \"cpe\"\npassword = \"pw\"\nperiodic_inform_enable = false\n\
                 [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
                 [paths]\ndatamodel = \"{}/datamodel\"\nboard = \"{}/board.toml\"\nstate_dir = \"{}/state\"\n",
                root().display(),
                d.display(),
                d.display()
            )
        },
        Some("debug"),
    );
    assert!(
        acs.wait(T, |_, r, _| r.len() >= requests.len()) && acs.wait_ended(1, T),
        "replies: {:?}\n{}",
        acs.replies()
            .iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>(),
        agent.log()
    );
    (agent, acs.replies())
}

fn value(r: &Reply, name: &str) -> String {
    r.values()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{name} not in {:?}", r.values()))
}

/// The FaultCode of the one parameter a SetParameterValuesFault names.
fn set_fault(r: &Reply) -> Option<u32> {
    let f = r.body.child("detail")?.child("Fault")?;
    let inner = f.all("SetParameterValuesFault").next()?;
    inner.child("FaultCode")?.text.trim().parse().ok()
}

fn instance(r: &Reply) -> String {
    r.body
        .child("InstanceNumber")
        .map(|n| n.text.trim().to_string())
        .unwrap_or_else(|| panic!("not an AddObjectResponse: {}", r.raw))
}

/// The OpenWrt fixtures in `d/fx`, the agent's ACS in their /etc/config/cwmpd, applies that
/// only touch a file.
fn openwrt_board(d: &Path, acs_url: &str) -> String {
    let fx = d.join("fx");
    copy_tree(&root().join("tests/fixtures/openwrt"), &fx);
    let uci = fx.join("etc/config/cwmpd");
    let text = std::fs::read_to_string(&uci).unwrap().replace(
        "option url 'https://acs.isp.example/cwmp'",
        &format!("option url '{acs_url}'"),
    );
    assert!(text.contains(acs_url));
    std::fs::write(&uci, text).unwrap();
    let f = fx.display();
    format!(
        "[board]\nname = \"openwrt-dns\"\ninclude = [\"{}/board/openwrt.toml\"]\n\n\
         [handlers.uci]\ndir = \"{f}/etc/config\"\n\
         apply = {{ network = [\"touch\", \"{f}/applied-network\"], dhcp = [\"touch\", \"{f}/applied-dhcp\"] }}\n\
         [handlers.ubus]\ncommand = [\"{f}/bin/ubus\"]\n\
         [handlers.leases]\ndnsmasq = \"{f}/tmp/dhcp.leases\"\nodhcpd = \"{f}/tmp/hosts/odhcpd\"\n\
         [handlers.users]\npasswd = \"{f}/etc/passwd\"\nshadow = \"{f}/etc/shadow\"\n\
         [handlers.sensors]\nsys = \"{f}/sys\"\n",
        root().display()
    )
}

const SERVER: &str = "Device.DNS.Client.Server.";
const FWD: &str = "Device.DNS.Relay.Forwarding.";
const POOL: &str = "Device.DHCPv4.Server.Pool.1.";
const CLIENT: &str = "Device.DHCPv4.Client.1.";

#[test]
fn openwrt_dns_and_dhcpv4_read_and_write_uci() {
    // The user name is the one in the fixture's /etc/config/cwmpd.
    let acs = Acs::start(0, Some(("cpe-0011aabbcc", "pw"))).unwrap();
    let url = acs.url();
    let s = |p: &str, n: &str| format!("{p}{n}");
    let requests = [
        gpv(&["Device.DNS.", "Device.DHCPv4.Client.1.", POOL]),
        // The wan's first server is rewritten, its second moved to lan; the relay's
        // upstream rewritten; the pool's range and DNS servers; a sent option's value.
        spv(
            &[
                (&s(SERVER, "1.DNSServer"), "8.8.8.8"),
                (&s(SERVER, "2.Interface"), "Device.IP.Interface.1"),
                (&s(FWD, "1.DNSServer"), "149.112.112.112"),
                (&s(POOL, "MinAddress"), "192.168.1.50"),
                (&s(POOL, "MaxAddress"), "192.168.1.99"),
                (&s(POOL, "DNSServers"), "192.168.1.1"),
                (&s(POOL, "DomainName"), "home.arpa"),
                (&s(CLIENT, "SentOption.1.Value"), "0102"),
                (&s(CLIENT, "ReqOption.2.Tag"), "42"),
                (&s(CLIENT, "ReqOption.2.Order"), "1"),
            ],
            "k1",
        ),
        // Bad values are refused, nothing written.
        spv(&[(&s(SERVER, "1.DNSServer"), "dns.example")], "bad1"),
        spv(&[(&s(POOL, "MinAddress"), "10.0.0.1")], "bad2"),
        add(FWD),
        spv(
            &[
                (&s(FWD, "2.DNSServer"), "194.242.2.2"),
                (&s(FWD, "2.Enable"), "true"),
                (&s(SERVER, "1.Enable"), "false"),
            ],
            "k2",
        ),
        add(SERVER),
        delete(&s(SERVER, "2.")),
        add(&s(CLIENT, "SentOption.")),
        // The new row, before it has an option, reads (disabled) without failing the RPC.
        gpv(&[&s(CLIENT, "SentOption.2.")]),
        spv(
            &[
                (&s(CLIENT, "SentOption.2.Tag"), "60"),
                (&s(CLIENT, "SentOption.2.Value"), "49505456"),
                (&s(CLIENT, "SentOption.2.Enable"), "true"),
                (&s(CLIENT, "ReqOption.1.Enable"), "false"),
            ],
            "k3",
        ),
        add(&s(POOL, "Option.")),
        spv(
            &[
                (&s(POOL, "Option.4.Tag"), "252"),
                (&s(POOL, "Option.4.Value"), "0a0b"),
                (&s(POOL, "Option.4.Enable"), "true"),
                (&s(POOL, "Option.2.Enable"), "false"),
            ],
            "k4",
        ),
        add("Device.DHCPv4.Client."),
        delete("Device.DHCPv4.Client.2."),
        // A server without an address cannot be enabled (dnsmasq would get an empty one).
        spv(&[(&s(SERVER, "3.Enable"), "true")], "bad3"),
        gpv(&["Device.DNS.", POOL, CLIENT]),
    ];
    let (agent, replies) = session("dns-owrt", &acs, &requests, |d| openwrt_board(d, &url));
    let log = agent.log();
    let r0 = &replies[0];
    assert_eq!(value(r0, "Device.DNS.Client.Server.1.DNSServer"), "1.1.1.1");
    assert_eq!(
        value(r0, "Device.DNS.Client.Server.2.DNSServer"),
        "2606:4700:4700::1111"
    );
    assert_eq!(
        value(r0, "Device.DNS.Client.Server.1.Interface"),
        "Device.IP.Interface.3"
    );
    assert_eq!(
        value(r0, "Device.DNS.Relay.Forwarding.1.DNSServer"),
        "9.9.9.9"
    );
    assert_eq!(value(r0, "Device.DNS.Relay.ForwardNumberOfEntries"), "1");
    assert_eq!(value(r0, "Device.DNS.Relay.Enable"), "true");
    assert_eq!(value(r0, &s(CLIENT, "SentOption.1.Tag")), "77");
    assert_eq!(
        value(r0, &s(CLIENT, "SentOption.1.Value")),
        "696e7465726e6574"
    );
    assert_eq!(value(r0, &s(CLIENT, "ReqOption.1.Tag")), "121");
    assert_eq!(value(r0, &s(CLIENT, "ReqOption.2.Order")), "2");
    assert_eq!(value(r0, &s(POOL, "MinAddress")), "192.168.1.100");
    assert_eq!(value(r0, &s(POOL, "MaxAddress")), "192.168.1.249");
    assert_eq!(value(r0, &s(POOL, "DNSServers")), "192.168.1.1,9.9.9.9");
    assert_eq!(value(r0, &s(POOL, "IPRouters")), "192.168.1.1");
    assert_eq!(value(r0, &s(POOL, "DomainName")), "lan");

    assert_eq!(replies[1].name, "SetParameterValuesResponse", "{log}");
    assert_eq!(replies[2].name, "Fault");
    assert_eq!(set_fault(&replies[2]), Some(9007), "{}", replies[2].raw);
    assert_eq!(set_fault(&replies[3]), Some(9007), "{}", replies[3].raw);
    assert_eq!(instance(&replies[4]), "2");
    assert_eq!(replies[5].name, "SetParameterValuesResponse", "{log}");
    assert_eq!(instance(&replies[6]), "3");
    assert_eq!(replies[7].name, "DeleteObjectResponse", "{log}");
    assert_eq!(instance(&replies[8]), "2");
    let fresh = &replies[9];
    assert_eq!(fresh.name, "GetParameterValuesResponse", "{}", fresh.raw);
    assert_eq!(value(fresh, &s(CLIENT, "SentOption.2.Enable")), "false");

    assert_eq!(replies[10].name, "SetParameterValuesResponse", "{log}");

    assert_eq!(instance(&replies[11]), "4");
    assert_eq!(replies[12].name, "SetParameterValuesResponse", "{log}");

    assert_eq!(instance(&replies[13]), "2");
    assert_eq!(replies[14].name, "DeleteObjectResponse", "{log}");

    assert_eq!(set_fault(&replies[15]), Some(9007), "{}", replies[15].raw);

    // Rows whose value changed keep their instance numbers.
    let last = &replies[16];
    assert_eq!(value(last, &s(POOL, "Option.1.Value")), "c0a80101");
    assert_eq!(value(last, &s(POOL, "Option.2.Enable")), "false");
    assert_eq!(value(last, &s(POOL, "Option.3.Tag")), "15");
    assert_eq!(value(last, &s(POOL, "Option.4.Tag")), "252");
    assert_eq!(value(last, &s(POOL, "Option.4.Value")), "0a0b");
    assert_eq!(value(last, &s(POOL, "OptionNumberOfEntries")), "4");
    assert_eq!(value(last, &s(CLIENT, "SentOption.2.Tag")), "60");
    assert_eq!(value(last, &s(CLIENT, "SentOption.2.Enable")), "true");
    assert_eq!(value(last, &s(CLIENT, "ReqOption.1.Enable")), "false");
    assert_eq!(value(last, &s(CLIENT, "ReqOption.1.Tag")), "121");
    assert_eq!(value(last, &s(CLIENT, "ReqOption.2.Tag")), "42");
    assert_eq!(value(last, &s(CLIENT, "ReqOption.2.Order")), "1");
    assert_eq!(value(last, &s(CLIENT, "ReqOption.1.Order")), "2");
    assert_eq!(
        value(last, "Device.DNS.Client.Server.1.DNSServer"),
        "8.8.8.8"
    );
    assert_eq!(value(last, "Device.DNS.Client.Server.3.DNSServer"), "");
    assert!(
        !last
            .values()
            .iter()
            .any(|(n, _)| n.starts_with("Device.DNS.Client.Server.2.")),
        "{:?}",
        last.values()
    );
    assert_eq!(
        value(last, "Device.DNS.Relay.Forwarding.1.DNSServer"),
        "149.112.112.112"
    );
    assert_eq!(
        value(last, "Device.DNS.Relay.Forwarding.2.DNSServer"),
        "194.242.2.2"
    );
    assert_eq!(value(last, &s(POOL, "MinAddress")), "192.168.1.50");
    assert_eq!(value(last, &s(POOL, "MaxAddress")), "192.168.1.99");
    assert_eq!(value(last, &s(POOL, "DomainName")), "home.arpa");

    // And the UCI files say so: disabled servers wait where netifd does not look.
    let cfg = agent.file("fx/etc/config");
    let network = std::fs::read_to_string(cfg.join("network")).unwrap();
    let wan = &network[network.find("config interface 'wan'").unwrap()..];
    let wan = &wan[..wan[1..].find("config ").unwrap() + 1];
    assert!(
        wan.contains("\tlist cwmpd_dns_disabled '8.8.8.8'\n\tlist cwmpd_dns_disabled ''\n"),
        "{wan}"
    );
    assert!(
        !network.contains("1.1.1.1") && !network.contains("2606:4700"),
        "{network}"
    );
    for want in [
        "\toption sendopts '0x4d:0102 0x3c:49505456'\n",
        "\toption reqopts '42'\n",
        "\tlist cwmpd_reqopts_disabled '121'\n",
    ] {
        assert!(network.contains(want), "{want:?} not in\n{network}");
    }
    assert!(!network.contains("cwmpd_sendopts_disabled"), "{network}");
    // The client added and deleted again: an interface left unconfigured.
    assert!(
        network.contains("config interface 'dhcp1'\n\toption proto 'none'\n"),
        "{network}"
    );
    let dhcp = std::fs::read_to_string(cfg.join("dhcp")).unwrap();
    for want in [
        "\tlist server '/corp.example/10.20.0.53'\n\tlist server '149.112.112.112'\n\tlist server '194.242.2.2'\n",
        "\toption start '50'\n\toption limit '50'\n",
        "\tlist dhcp_option '6,192.168.1.1'\n\tlist dhcp_option '15,home.arpa'\n\tlist dhcp_option '252,0a:0b'\n",
        "\tlist cwmpd_dhcp_option_disabled '42,192.168.1.1'\n",
    ] {
        assert!(dhcp.contains(want), "{want:?} not in\n{dhcp}");
    }
    assert!(!dhcp.contains("dns.example") && !dhcp.contains("10.0.0.1"));
    // One apply of each package after the session.
    assert!(
        crate::support::wait::until(T, || agent.file("fx/applied-dhcp").exists()
            && agent.file("fx/applied-network").exists()),
        "{}",
        agent.log()
    );
}

#[test]
fn linux_dns_client_writes_resolv_conf_and_nsswitch_conf() {
    let acs = crate::support::acs();
    let requests = [
        gpv(&["Device.DNS.Client."]),
        spv(
            &[
                (&format!("{SERVER}1.DNSServer"), "2001:db8::53"),
                (&format!("{SERVER}2.Enable"), "false"),
            ],
            "k1",
        ),
        spv(&[(&format!("{SERVER}1.DNSServer"), "300.1.1.1")], "bad"),
        add(SERVER),
        spv(
            &[
                (&format!("{SERVER}3.DNSServer"), "192.0.2.99"),
                (&format!("{SERVER}3.Enable"), "true"),
                ("Device.DNS.Client.Enable", "false"),
            ],
            "k2",
        ),
        delete(&format!("{SERVER}2.")),
        gpv(&["Device.DNS.Client."]),
    ];
    let (agent, replies) = session("dns-linux", &acs, &requests, |d| {
        std::fs::write(
            d.join("resolv.conf"),
            "# written by the test\nsearch example.net\nnameserver 192.0.2.1\nnameserver 192.0.2.2\n",
        )
        .unwrap();
        std::fs::write(
            d.join("nsswitch.conf"),
            "passwd: files\nhosts:          files dns\n",
        )
        .unwrap();
        // The Linux DNS part, pointed at the test's files.
        let part = std::fs::read_to_string(root().join("board/linux/dns.toml"))
            .unwrap()
            .replace(
                "/etc/resolv.conf",
                &d.join("resolv.conf").display().to_string(),
            )
            .replace(
                "/etc/nsswitch.conf",
                &d.join("nsswitch.conf").display().to_string(),
            )
            .replace("name = \"linux-dns\"", "name = \"linux-dns-test\"");
        std::fs::write(d.join("dns.toml"), part).unwrap();
        format!(
            "[board]\nname = \"linux-dns\"\ninclude = [\"{}/board/linux.toml\", \"dns.toml\"]\n",
            root().display()
        )
    });
    let log = agent.log();
    let r0 = &replies[0];
    assert_eq!(value(r0, "Device.DNS.Client.Enable"), "true");
    assert_eq!(value(r0, "Device.DNS.Client.Status"), "Enabled");
    assert_eq!(value(r0, &format!("{SERVER}1.DNSServer")), "192.0.2.1");
    assert_eq!(value(r0, &format!("{SERVER}2.Status")), "Enabled");
    assert_eq!(replies[1].name, "SetParameterValuesResponse", "{log}");
    assert_eq!(set_fault(&replies[2]), Some(9007), "{}", replies[2].raw);
    assert_eq!(instance(&replies[3]), "3");
    assert_eq!(replies[4].name, "SetParameterValuesResponse", "{log}");
    assert_eq!(replies[5].name, "DeleteObjectResponse", "{log}");
    let last = &replies[6];
    assert_eq!(value(last, &format!("{SERVER}1.DNSServer")), "2001:db8::53");
    assert_eq!(value(last, &format!("{SERVER}3.DNSServer")), "192.0.2.99");
    assert_eq!(value(last, &format!("{SERVER}3.Enable")), "true");
    assert_eq!(value(last, "Device.DNS.Client.ServerNumberOfEntries"), "2");
    assert_eq!(value(last, "Device.DNS.Client.Status"), "Disabled");
    assert_eq!(
        std::fs::read_to_string(agent.file("resolv.conf")).unwrap(),
        "# written by the test\nsearch example.net\nnameserver 2001:db8::53\nnameserver 192.0.2.99\n"
    );
    assert_eq!(
        std::fs::read_to_string(agent.file("nsswitch.conf")).unwrap(),
        "passwd: files\nhosts: files\n"
    );
}
