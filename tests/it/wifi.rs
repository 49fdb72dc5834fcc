//! Wi-Fi radios, SSIDs and access points on board/openwrt.toml (issue 14), over the wire:
//! the real `cwmpd run` on the OpenWrt fixtures (`tests/fixtures/openwrt`: UCI `wireless`,
//! iwinfo and netifd answers from the stand-in `ubus`) answers the scripted test ACS. The
//! test reads radio, SSID and access-point values, writes radio, SSID and access-point
//! settings, adds and deletes an access point, reads the UCI file back, and checks that bad
//! values get their faults and change nothing.

use cwmpd_testacs::{Acs, Reply};

use crate::support::agent::Agent;
use crate::support::copy_tree;
use crate::support::soap::{gpv, spv};
use crate::support::wait::{until, T};
use crate::support::{root, TempDir};

/// The agent on a copy of the OpenWrt fixtures in its own directory, its ACS the test's.
fn start(acs: &Acs) -> Agent {
    let dir = TempDir::new("wifi");
    let fx = dir.join("fx");
    copy_tree(&root().join("tests/fixtures/openwrt"), &fx);
    let uci = fx.join("etc/config/cwmpd");
    let text = std::fs::read_to_string(&uci)
        .unwrap()
        .replace("https://acs.isp.example/cwmp", &acs.url());
    std::fs::write(&uci, text).unwrap();
    let (d, f, r) = (dir.path().display(), fx.display(), root().display());
    std::fs::write(
        dir.join("board.toml"),
        format!(
            "[board]\nname = \"openwrt-wifi-test\"\ninclude = [\"{r}/board/openwrt.toml\"]\n\n\
             [handlers.uci]\ndir = \"{f}/etc/config\"\napply.wireless = [\"touch\", \"{d}/applied-wireless\"]\n\
             [handlers.ubus]\ncommand = [\"{f}/bin/ubus\"]\n\
             [handlers.leases]\ndnsmasq = \"{f}/tmp/dhcp.leases\"\nodhcpd = \"{f}/tmp/hosts/odhcpd\"\n"
        ),
    )
    .unwrap();
    let config = format!(
        "[acs]\nurl = \"{}\"\npassword = \"pw\"\nperiodic_inform_enable = false\ntimeout = 5\n\
         [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"crpw\"\n\
         [paths]\ndatamodel = \"{r}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
        acs.url()
    );
    Agent::launch(dir, &config, None, Some("debug"), None)
}

/// The replies to `n` requests the ACS had queued.
fn replies(acs: &Acs, agent: &Agent, n: usize) -> Vec<Reply> {
    assert!(
        acs.wait(T, |_, r, _| r.len() >= n),
        "{} replies of {n}; log:\n{}",
        acs.replies().len(),
        agent.log()
    );
    acs.replies()
}

fn value<'a>(values: &'a [(String, String)], name: &str) -> &'a str {
    values
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name} not in {values:?}"))
}

const READ: [&str; 20] = [
    "Device.WiFi.Radio.1.Channel",
    "Device.WiFi.Radio.1.AutoChannelEnable",
    "Device.WiFi.Radio.2.Channel",
    "Device.WiFi.Radio.2.AutoChannelEnable",
    "Device.WiFi.Radio.1.RegulatoryDomain",
    "Device.WiFi.Radio.2.IEEE80211hEnabled",
    "Device.WiFi.Radio.1.SupportedStandards",
    "Device.WiFi.SSID.1.LowerLayers",
    "Device.WiFi.SSID.3.LowerLayers",
    "Device.WiFi.SSID.1.MLDUnit",
    "Device.WiFi.AccessPoint.2.SSIDReference",
    "Device.WiFi.AccessPoint.1.WPS.ConfigMethodsEnabled",
    "Device.WiFi.AccessPoint.1.Security.WEPKey",
    "Device.WiFi.AccessPoint.2.AllowedMACAddress",
    "Device.WiFi.Radio.1.Stats.BytesSent",
    "Device.WiFi.Radio.2.Upstream",
    "Device.WiFi.Radio.1.OperatingStandards",
    "Device.WiFi.Radio.2.OperatingStandards",
    "Device.WiFi.Radio.1.TransmitPowerSupported",
    "Device.WiFi.Radio.1.MCS",
];

#[test]
fn radios_ssids_and_access_points_are_read_written_added_and_deleted_through_uci() {
    let acs = Acs::start(0, Some(("cpe-0011aabbcc", "pw"))).unwrap();
    // 1: what the fixtures say.
    acs.push(&gpv(&READ));
    // 2: radio, SSID and access-point settings in one Set.
    acs.push(&spv(
        &[
            ("Device.WiFi.Radio.2.AutoChannelEnable", "boolean", "false"),
            ("Device.WiFi.Radio.1.Channel", "unsignedInt", "6"),
            ("Device.WiFi.Radio.1.RegulatoryDomain", "string", "US "),
            ("Device.WiFi.Radio.2.IEEE80211hEnabled", "boolean", "false"),
            (
                "Device.WiFi.SSID.1.LowerLayers",
                "string",
                "Device.WiFi.Radio.2",
            ),
            (
                "Device.WiFi.AccessPoint.1.SSIDReference",
                "string",
                "Device.WiFi.SSID.1",
            ),
            (
                "Device.WiFi.AccessPoint.1.Security.WEPKey",
                "hexBinary",
                "0102030405",
            ),
            (
                "Device.WiFi.AccessPoint.1.WPS.ConfigMethodsEnabled",
                "string",
                "PushButton",
            ),
            // 802.11ax off, then 40 MHz: VHT40.
            ("Device.WiFi.Radio.2.OperatingStandards", "string", "ac,n,a"),
            (
                "Device.WiFi.Radio.2.OperatingChannelBandwidth",
                "string",
                "40MHz",
            ),
        ],
        "wifi-1",
    ));
    // 3-9: bad values, each refused as a whole.
    acs.push(&spv(
        &[(
            "Device.WiFi.AccessPoint.1.SSIDReference",
            "string",
            "Device.WiFi.SSID.2",
        )],
        "bad-1",
    ));
    acs.push(&spv(
        &[("Device.WiFi.Radio.1.RegulatoryDomain", "string", "DEI")],
        "bad-2",
    ));
    acs.push(&spv(
        &[
            ("Device.WiFi.Radio.2.Channel", "unsignedInt", "300"),
            ("Device.WiFi.Radio.1.Channel", "unsignedInt", "11"),
        ],
        "bad-3",
    ));
    acs.push(&spv(
        &[("Device.WiFi.Radio.1.OperatingStandards", "string", "a,n")],
        "bad-4",
    ));
    acs.push(&spv(&[("Device.WiFi.SSID.1.MLDUnit", "int", "3")], "bad-5"));
    acs.push(&spv(&[("Device.WiFi.Radio.2.MCS", "int", "7")], "bad-7"));
    acs.push(&spv(
        &[(
            "Device.WiFi.AccessPoint.1.WPS.ConfigMethodsEnabled",
            "string",
            "Label",
        )],
        "bad-6",
    ));
    // 10-11: a new access point, and the guest one deleted.
    acs.push("<cwmp:AddObject><ObjectName>Device.WiFi.AccessPoint.</ObjectName><ParameterKey>add</ParameterKey></cwmp:AddObject>");
    acs.push("<cwmp:DeleteObject><ObjectName>Device.WiFi.AccessPoint.3.</ObjectName><ParameterKey>del</ParameterKey></cwmp:DeleteObject>");
    // 12-13: read back.
    acs.push(&gpv(&READ[..4]));
    acs.push(&gpv(&[
        "Device.WiFi.Radio.1.RegulatoryDomain",
        "Device.WiFi.AccessPoint.4.Enable",
        "Device.WiFi.AccessPoint.4.SSIDReference",
        "Device.WiFi.AccessPoint.1.WPS.ConfigMethodsEnabled",
    ]));
    let agent = start(&acs);
    let r = replies(&acs, &agent, 13);
    let log = agent.log();

    let v = r[0].values();
    assert_eq!(r[0].name, "GetParameterValuesResponse", "{log}");
    assert_eq!(value(&v, "Device.WiFi.Radio.1.Channel"), "1");
    assert_eq!(value(&v, "Device.WiFi.Radio.1.AutoChannelEnable"), "false");
    assert_eq!(
        value(&v, "Device.WiFi.Radio.2.Channel"),
        "36",
        "hostapd's pick"
    );
    assert_eq!(value(&v, "Device.WiFi.Radio.2.AutoChannelEnable"), "true");
    assert_eq!(value(&v, "Device.WiFi.Radio.1.RegulatoryDomain"), "DE ");
    assert_eq!(value(&v, "Device.WiFi.Radio.2.IEEE80211hEnabled"), "true");
    assert_eq!(
        value(&v, "Device.WiFi.Radio.1.SupportedStandards"),
        "b,g,n,ax"
    );
    assert_eq!(
        value(&v, "Device.WiFi.SSID.1.LowerLayers"),
        "Device.WiFi.Radio.1"
    );
    assert_eq!(
        value(&v, "Device.WiFi.SSID.3.LowerLayers"),
        "Device.WiFi.Radio.1"
    );
    assert_eq!(value(&v, "Device.WiFi.SSID.1.MLDUnit"), "-1");
    assert_eq!(
        value(&v, "Device.WiFi.AccessPoint.2.SSIDReference"),
        "Device.WiFi.SSID.2"
    );
    assert_eq!(
        value(&v, "Device.WiFi.AccessPoint.1.WPS.ConfigMethodsEnabled"),
        ""
    );
    assert_eq!(
        value(&v, "Device.WiFi.AccessPoint.1.Security.WEPKey"),
        "",
        "hidden"
    );
    assert_eq!(
        value(&v, "Device.WiFi.AccessPoint.2.AllowedMACAddress"),
        "3c:22:fb:10:20:30,a4:83:e7:40:50:60"
    );
    assert_eq!(
        value(&v, "Device.WiFi.Radio.1.Stats.BytesSent"),
        "226599300",
        "phy0-ap0's"
    );
    assert_eq!(
        value(&v, "Device.WiFi.Radio.2.Upstream"),
        "false",
        "no client interface"
    );
    assert_eq!(
        value(&v, "Device.WiFi.Radio.1.OperatingStandards"),
        "g,n,ax",
        "no 11b rates"
    );
    assert_eq!(
        value(&v, "Device.WiFi.Radio.2.OperatingStandards"),
        "a,n,ac,ax"
    );
    assert_eq!(
        value(&v, "Device.WiFi.Radio.1.TransmitPowerSupported"),
        "1,2,3,4,5,6,8,10,13,16,20,25,32,40,50,63,79,100",
        "of 100 mW"
    );
    assert_eq!(value(&v, "Device.WiFi.Radio.1.MCS"), "-1", "automatic");

    assert_eq!(
        r[1].name, "SetParameterValuesResponse",
        "{}\n{log}",
        r[1].raw
    );
    for (i, param) in [
        (2, "AccessPoint.1.SSIDReference"),
        (3, "Radio.1.RegulatoryDomain"),
        (4, "Radio.2.Channel"),
        (5, "Radio.1.OperatingStandards"),
        (6, "SSID.1.MLDUnit"),
        (7, "Radio.2.MCS"),
        (8, "AccessPoint.1.WPS.ConfigMethodsEnabled"),
    ] {
        assert_eq!(r[i].fault_code(), Some(9003), "{}", r[i].raw);
        let inner = format!(
            "<ParameterName>Device.WiFi.{param}</ParameterName><FaultCode>9007</FaultCode>"
        );
        assert!(r[i].raw.contains(&inner), "{}", r[i].raw);
    }
    assert_eq!(r[9].name, "AddObjectResponse", "{}", r[9].raw);
    assert!(
        r[9].raw.contains("<InstanceNumber>4</InstanceNumber>"),
        "{}",
        r[9].raw
    );
    assert_eq!(r[10].name, "DeleteObjectResponse", "{}", r[10].raw);

    let v = r[11].values();
    assert_eq!(value(&v, "Device.WiFi.Radio.1.AutoChannelEnable"), "false");
    assert_eq!(
        value(&v, "Device.WiFi.Radio.2.AutoChannelEnable"),
        "false",
        "pinned"
    );
    assert_eq!(r[12].name, "GetParameterValuesResponse", "{}", r[12].raw);
    let v = r[12].values();
    assert_eq!(value(&v, "Device.WiFi.Radio.1.RegulatoryDomain"), "US ");
    assert_eq!(value(&v, "Device.WiFi.AccessPoint.4.Enable"), "false");
    assert_eq!(
        value(&v, "Device.WiFi.AccessPoint.4.SSIDReference"),
        "Device.WiFi.SSID.4",
        "its own section's SSID"
    );
    assert_eq!(
        value(&v, "Device.WiFi.AccessPoint.1.WPS.ConfigMethodsEnabled"),
        "PushButton"
    );

    // The UCI file as `wifi reload` will read it.
    let wireless = std::fs::read_to_string(agent.file("fx/etc/config/wireless")).unwrap();
    let section = |name: &str| -> String {
        wireless
            .split("\nconfig ")
            .find(|s| {
                s.lines()
                    .next()
                    .is_some_and(|l| l.ends_with(&format!(" '{name}'")))
            })
            .unwrap_or_else(|| panic!("no {name}: {wireless}"))
            .to_string()
    };
    let radio0 = section("radio0");
    assert!(radio0.contains("\toption channel '6'"), "{radio0}");
    assert!(radio0.contains("\toption country 'US'"), "{radio0}");
    let radio1 = section("radio1");
    assert!(
        radio1.contains("\toption channel '36'"),
        "the channel in use: {radio1}"
    );
    assert!(radio1.contains("\toption doth '0'"), "{radio1}");
    assert!(
        radio1.contains("\toption htmode 'VHT40'"),
        "{radio1}\n{}",
        agent.log()
    );
    assert!(
        radio0.contains("\toption htmode 'HE20'"),
        "unchanged: {radio0}"
    );
    let ap0 = section("default_radio0");
    assert!(ap0.contains("\toption device 'radio1'"), "{ap0}");
    assert!(ap0.contains("\toption key1 '0102030405'"), "{ap0}");
    assert!(ap0.contains("\toption wps_pushbutton '1'"), "{ap0}");
    assert!(!wireless.contains("guest_radio0"), "deleted: {wireless}");
    assert!(
        wireless
            .contains("config wifi-iface 'wifinet1'\n\toption disabled '1'\n\toption mode 'ap'"),
        "the new access point: {wireless}"
    );
    assert!(
        !wireless.contains("'DEI'") && !wireless.contains("'11'"),
        "{wireless}"
    );
    // `wifi reload` once the session is over.
    assert!(
        until(T, || agent.file("applied-wireless").exists()),
        "wifi reload did not run:\n{}",
        agent.log()
    );
}
