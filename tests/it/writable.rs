//! Tables the ACS can add to and delete from, backed by the system, and writes that change
//! it: on the OpenWrt fixtures (tests/fixtures/openwrt) NAT port mappings and DHCPv4 static
//! addresses in UCI, accounts through passwd, a DHCP renew through ubus; on Linux an IPv4
//! address through rtnetlink in a network namespace. Every write is read back from where
//! the system keeps it (the UCI file, /etc/shadow, the kernel).

use std::path::{Path, PathBuf};

use crate::support::copy_tree;
use crate::support::netns::Netns;
use cwmpd::config::Config;
use cwmpd::device::Device;
use cwmpd::model::SetItem;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &Path, board: &str) -> Config {
    std::fs::write(dir.join("board.toml"), board).unwrap();
    let d = dir.display();
    let text = format!(
        "[acs]\nurl = \"http://127.0.0.1:1/\"\n[paths]\ndatamodel = \"{}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
        root().display()
    );
    Config::parse(&text, "test", Path::new("/")).unwrap()
}

/// The OpenWrt board on a copy of the fixtures; apply commands touch marker files.
fn openwrt(tag: &str) -> (Dir, Device) {
    let dir = std::env::temp_dir().join(format!("cwmpd-writable-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(&root().join("tests/fixtures/openwrt"), &dir);
    let d = dir.display();
    let board = format!(
        "[board]\nname = \"t\"\ninclude = [\"{}/board/openwrt.toml\"]\n\
         [handlers.uci]\ndir = \"{d}/etc/config\"\napply.firewall = [\"touch\", \"{d}/applied-firewall\"]\n\
         apply.dhcp = [\"touch\", \"{d}/applied-dhcp\"]\n\
         [handlers.ubus]\ncommand = [\"{d}/bin/ubus\"]\n\
         [handlers.leases]\ndnsmasq = \"{d}/tmp/dhcp.leases\"\nodhcpd = \"{d}/tmp/hosts/odhcpd\"\n\
         [handlers.users]\npasswd = \"{d}/etc/passwd\"\nshadow = \"{d}/etc/shadow\"\n\
         passwd_tool = [\"{d}/bin/passwd\", \"{d}/etc/shadow\", \"{{user}}\"]\n\
         [handlers.sensors]\nsys = \"{d}/sys\"\n",
        root().display()
    );
    let cfg = config(&dir, &board);
    let dev = Device::open(&cfg).unwrap();
    (Dir(dir), dev)
}

fn item(name: &str, value: &str) -> SetItem {
    SetItem {
        name: name.into(),
        value: value.into(),
        xsd_type: None,
    }
}

fn value(dev: &mut Device, path: &str) -> String {
    dev.model.get_values(&[path]).unwrap().remove(0).value
}

fn read(dir: &Dir, file: &str) -> String {
    std::fs::read_to_string(dir.0.join(file)).unwrap()
}

#[test]
fn a_port_mapping_added_by_the_acs_is_a_firewall_redirect() {
    let (dir, mut dev) = openwrt("portmap");
    assert_eq!(
        value(&mut dev, "Device.NAT.PortMapping.1.Description"),
        "NAS-HTTPS"
    );
    assert_eq!(value(&mut dev, "Device.NAT.PortMapping.2.Enable"), "false");
    // Game-Server forwards `tcp udp`: mappings 2 and 3.
    assert_eq!(value(&mut dev, "Device.NAT.PortMapping.3.Protocol"), "UDP");
    let (n, status) = dev
        .model
        .add_object("Device.NAT.PortMapping.", "k1")
        .unwrap();
    assert_eq!(
        (n, status),
        (4, 1),
        "a firewall change waits for the reload"
    );
    let fw = read(&dir, "etc/config/firewall");
    assert!(
        fw.ends_with("config redirect\n\toption dest 'lan'\n\toption enabled '0'\n\toption proto 'tcp'\n\toption src 'wan'\n\toption target 'DNAT'\n"),
        "{fw}"
    );
    let p = "Device.NAT.PortMapping.4.";
    dev.model
        .set_values(
            &[
                item(&format!("{p}ExternalPort"), "2222"),
                item(&format!("{p}InternalPort"), "22"),
                item(&format!("{p}InternalClient"), "192.168.1.10"),
                item(&format!("{p}Protocol"), "TCP"),
                item(&format!("{p}Description"), "NAS SSH"),
                item(&format!("{p}Enable"), "true"),
            ],
            "k2",
        )
        .unwrap();
    let fw = read(&dir, "etc/config/firewall");
    for line in [
        "\toption src_dport '2222'",
        "\toption dest_port '22'",
        "\toption dest_ip '192.168.1.10'",
        "\toption name 'NAS SSH'",
        "\toption enabled '1'",
    ] {
        assert!(fw.contains(line), "{line} in {fw}");
    }
    assert!(dev.model.apply().is_empty());
    assert!(dir.0.join("applied-firewall").exists());
    dev.model.delete_object(p, "k3").unwrap();
    assert!(!read(&dir, "etc/config/firewall").contains("NAS SSH"));
    assert_eq!(
        value(&mut dev, "Device.NAT.PortMappingNumberOfEntries"),
        "3"
    );
}

#[test]
fn a_static_address_added_to_a_pool_is_a_dnsmasq_host() {
    let (dir, mut dev) = openwrt("static");
    // The LAN pool holds the two hosts in 192.168.1.0/24; the guest pool none.
    assert_eq!(
        value(
            &mut dev,
            "Device.DHCPv4.Server.Pool.1.StaticAddressNumberOfEntries"
        ),
        "2"
    );
    assert_eq!(
        value(
            &mut dev,
            "Device.DHCPv4.Server.Pool.2.StaticAddressNumberOfEntries"
        ),
        "0"
    );
    let (n, _) = dev
        .model
        .add_object("Device.DHCPv4.Server.Pool.2.StaticAddress.", "k1")
        .unwrap();
    assert_eq!(n, 1);
    let p = "Device.DHCPv4.Server.Pool.2.StaticAddress.1.";
    dev.model
        .set_values(
            &[
                item(&format!("{p}Chaddr"), "d8:3a:dd:70:80:90"),
                item(&format!("{p}Yiaddr"), "192.168.3.61"),
            ],
            "k2",
        )
        .unwrap();
    let dhcp = read(&dir, "etc/config/dhcp");
    assert!(
        dhcp.contains("config host 'guest_host1'\n\toption mac 'd8:3a:dd:70:80:90'\n\toption ip '192.168.3.61'\n"),
        "{dhcp}"
    );
    assert_eq!(value(&mut dev, &format!("{p}Yiaddr")), "192.168.3.61");
    assert_eq!(
        value(
            &mut dev,
            "Device.DHCPv4.Server.Pool.1.StaticAddressNumberOfEntries"
        ),
        "2",
        "not in the LAN pool"
    );
}

#[test]
fn pool_clients_come_from_the_lease_file() {
    let (_dir, mut dev) = openwrt("clients");
    let c = "Device.DHCPv4.Server.Pool.1.Client.";
    assert_eq!(
        value(
            &mut dev,
            "Device.DHCPv4.Server.Pool.1.ClientNumberOfEntries"
        ),
        "3"
    );
    assert_eq!(
        value(&mut dev, &format!("{c}1.Chaddr")),
        "3c:22:fb:10:20:30"
    );
    assert_eq!(
        value(&mut dev, &format!("{c}1.IPv4Address.1.IPAddress")),
        "192.168.1.105"
    );
    assert_eq!(
        value(&mut dev, &format!("{c}3.IPv4Address.1.LeaseTimeRemaining")),
        "9999-12-31T23:59:59Z"
    );
    assert_eq!(value(&mut dev, &format!("{c}1.Option.1.Tag")), "12");
    assert_eq!(
        value(&mut dev, &format!("{c}1.Option.1.Value")),
        "6c6170746f70"
    );
    assert_eq!(
        value(
            &mut dev,
            "Device.DHCPv4.Server.Pool.2.ClientNumberOfEntries"
        ),
        "1"
    );
}

#[test]
fn accounts_are_renamed_and_given_passwords_through_the_system_tool() {
    let (dir, mut dev) = openwrt("users");
    assert_eq!(value(&mut dev, "Device.Users.UserNumberOfEntries"), "2");
    assert_eq!(value(&mut dev, "Device.Users.User.2.Username"), "admin");
    assert_eq!(value(&mut dev, "Device.Users.User.2.Enable"), "false");
    assert_eq!(
        value(&mut dev, "Device.Users.User.1.Password"),
        "",
        "never the hash"
    );
    dev.model
        .set_values(
            &[
                item("Device.Users.User.2.Username", "operator"),
                item("Device.Users.User.2.Password", "s3cret!"),
                item("Device.Users.User.2.Enable", "true"),
            ],
            "k",
        )
        .unwrap();
    assert!(read(&dir, "etc/passwd").contains("operator:x:1000:"));
    assert!(read(&dir, "etc/shadow").contains("operator:$stand-in$7:"));
    assert_eq!(value(&mut dev, "Device.Users.User.2.Enable"), "true");
    let (n, _) = dev.model.add_object("Device.Users.User.", "k2").unwrap();
    assert_eq!(
        value(&mut dev, &format!("Device.Users.User.{n}.Username")),
        "user1001"
    );
    assert!(read(&dir, "etc/passwd").contains("user1001:x:1001:100::/:/bin/ash"));
    assert!(
        dev.model
            .delete_object("Device.Users.User.1.", "k3")
            .is_err(),
        "not root"
    );
}

#[test]
fn the_management_server_settings_are_read_and_written_in_etc_config_cwmpd() {
    let (dir, mut dev) = openwrt("cwmpd-uci");
    let ms = "Device.ManagementServer.";
    assert_eq!(
        value(&mut dev, &format!("{ms}URL")),
        "https://acs.isp.example/cwmp"
    );
    assert_eq!(value(&mut dev, &format!("{ms}Username")), "cpe-0011aabbcc");
    assert_eq!(
        value(&mut dev, &format!("{ms}PeriodicInformInterval")),
        "86400"
    );
    assert_eq!(
        value(&mut dev, &format!("{ms}PeriodicInformEnable")),
        "true"
    );
    assert_eq!(
        value(&mut dev, &format!("{ms}PeriodicInformTime")),
        "2024-01-01T03:00:00Z"
    );
    dev.model
        .set_values(
            &[
                item(&format!("{ms}URL"), "https://acs2.isp.example/cwmp"),
                item(&format!("{ms}PeriodicInformInterval"), "600"),
                item(&format!("{ms}PeriodicInformEnable"), "false"),
                item(&format!("{ms}ConnectionRequestUsername"), "acs-cr"),
            ],
            "k",
        )
        .unwrap();
    let uci = read(&dir, "etc/config/cwmpd");
    for line in [
        "option url 'https://acs2.isp.example/cwmp'",
        "option periodic_inform_interval '600'",
        "option periodic_inform_enable '0'",
        "option username 'acs-cr'",
    ] {
        assert!(uci.contains(line), "{line} in {uci}");
    }
    // `uci set` by hand, seen at the next operation; an option left out falls back to the
    // TOML configuration (no username there).
    std::fs::write(
        dir.0.join("etc/config/cwmpd"),
        "config acs 'acs'
	option url 'http://10.0.0.9:7547/'

config connection_request 'connection_request'
",
    )
    .unwrap();
    assert_eq!(
        value(&mut dev, &format!("{ms}URL")),
        "http://10.0.0.9:7547/"
    );
    assert_eq!(value(&mut dev, &format!("{ms}Username")), "");
    assert_eq!(
        value(&mut dev, &format!("{ms}PeriodicInformEnable")),
        "true"
    );
}

#[test]
fn a_dhcp_renew_is_a_netifd_call_after_the_session() {
    let (dir, mut dev) = openwrt("renew");
    let calls = dir.0.join("ubus-calls");
    // The stand-in records calls in $UBUS_CALLS; this test is the only one to set it.
    std::env::set_var("UBUS_CALLS", &calls);
    // The one interface with proto dhcp: iptv.
    let n = 1;
    assert_eq!(value(&mut dev, "Device.DHCPv4.ClientNumberOfEntries"), "1");
    assert_eq!(
        value(&mut dev, "Device.DHCPv4.Client.1.DHCPServer"),
        "10.64.0.2"
    );
    assert_eq!(
        value(&mut dev, &format!("Device.DHCPv4.Client.{n}.IPAddress")),
        "10.64.17.201"
    );
    assert_eq!(
        value(&mut dev, &format!("Device.DHCPv4.Client.{n}.SubnetMask")),
        "255.255.240.0"
    );
    assert_eq!(
        value(&mut dev, &format!("Device.DHCPv4.Client.{n}.IPRouters")),
        "10.64.0.1"
    );
    assert_eq!(
        value(&mut dev, &format!("Device.DHCPv4.Client.{n}.Renew")),
        "false"
    );
    let status = dev
        .model
        .set_values(
            &[item(&format!("Device.DHCPv4.Client.{n}.Renew"), "true")],
            "k",
        )
        .unwrap();
    assert_eq!(status, 1);
    assert!(!calls.exists() || !std::fs::read_to_string(&calls).unwrap().contains("renew"));
    assert!(dev.model.apply().is_empty());
    assert!(std::fs::read_to_string(&calls)
        .unwrap()
        .contains("network.interface.iptv renew"));
}

#[test]
fn an_ipv4_address_added_by_the_acs_reaches_the_kernel() {
    let Some(ns) = Netns::create("writable") else {
        return;
    };
    ns.ip("link set lo up");
    ns.ip("link add v0 type veth peer name v1");
    ns.ip("link set v0 up");
    ns.ip("addr add 192.0.2.1/24 dev v0");
    let dir = std::env::temp_dir().join(format!("cwmpd-writable-nl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keep = Dir(dir.clone());
    let board = format!(
        "[board]\nname = \"t\"\ninclude = [\"{}/board/linux.toml\"]\n",
        root().display()
    );
    let cfg = config(&dir, &board);
    let name = ns.0.clone();
    let shown = move |what: &str| -> String {
        let out = std::process::Command::new("ip")
            .args(["-n", &name, "-4", "addr", "show", "dev", what])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown2 = shown.clone();
    ns.within(move || {
        let mut dev = Device::open(&cfg).unwrap();
        let v0 = (1..=8)
            .find(|n| value(&mut dev, &format!("Device.IP.Interface.{n}.Name")) == "v0")
            .unwrap();
        let t = format!("Device.IP.Interface.{v0}.IPv4Address.");
        assert_eq!(value(&mut dev, &format!("{t}1.IPAddress")), "192.0.2.1");
        let (n, _) = dev.model.add_object(&t, "k1").unwrap();
        assert_eq!(n, 2);
        assert_eq!(value(&mut dev, &format!("{t}2.Enable")), "false");
        assert_eq!(value(&mut dev, &format!("{t}2.Status")), "Disabled");
        dev.model
            .set_values(
                &[
                    item(&format!("{t}2.IPAddress"), "198.51.100.7"),
                    item(&format!("{t}2.SubnetMask"), "255.255.255.128"),
                    item(&format!("{t}2.Enable"), "true"),
                ],
                "k2",
            )
            .unwrap();
        assert!(
            shown2("v0").contains("inet 198.51.100.7/25"),
            "{}",
            shown2("v0")
        );
        assert_eq!(value(&mut dev, &format!("{t}2.Status")), "Enabled");
        // A new address, same row (instance 2 keeps its number).
        dev.model
            .set_values(&[item(&format!("{t}2.IPAddress"), "198.51.100.9")], "k3")
            .unwrap();
        let now = shown2("v0");
        assert!(
            now.contains("inet 198.51.100.9/25") && !now.contains("198.51.100.7"),
            "{now}"
        );
        assert_eq!(value(&mut dev, &format!("{t}2.IPAddress")), "198.51.100.9");
        // A bad netmask is refused and nothing changes.
        assert!(dev
            .model
            .set_values(&[item(&format!("{t}2.SubnetMask"), "255.0.255.0")], "k4")
            .is_err());
        assert!(shown2("v0").contains("inet 198.51.100.9/25"));
        dev.model.delete_object(&format!("{t}2."), "k5").unwrap();
        assert!(!shown2("v0").contains("198.51.100.9"));
        assert_eq!(
            value(
                &mut dev,
                &format!("Device.IP.Interface.{v0}.IPv4AddressNumberOfEntries")
            ),
            "1"
        );
    });
    assert!(shown("v0").contains("192.0.2.1/24"));
    drop(keep);
}
