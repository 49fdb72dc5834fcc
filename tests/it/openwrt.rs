//! The OpenWrt board against realistic UCI files: values read through the board, a
//! SetParameterValues that writes UCI and stored values and reports a pending apply, and an
//! all-or-nothing Set across UCI, stored values and a vendor handler that fails half-way.

use std::path::Path;

use cwmpd::backend::{Args, ArgsError, BackendError, BindingKind, Handler};
use cwmpd::config::Config;
use cwmpd::device::Device;
use cwmpd::model::SetItem;
use cwmpd::soap::fault::Fault;

use crate::support::{root, TempDir};

struct Env {
    dir: TempDir,
    cfg: Config,
}

fn env(tag: &str, extra_board: &str) -> Env {
    let dir = TempDir::new(&format!("owrt-{tag}"));
    std::fs::create_dir_all(dir.join("config")).unwrap();
    for e in std::fs::read_dir(root().join("tests/fixtures/uci"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(e.path(), dir.join("config").join(e.file_name())).unwrap();
    }
    let d = dir.path().display();
    std::fs::write(
        dir.join("board.toml"),
        format!(
            "[board]\nname = \"openwrt-test\"\ninclude = [\"{}/board/openwrt.toml\"]\n\n[handlers.uci]\ndir = \"{d}/config\"\n\
             apply.network = [\"touch\", \"{d}/applied-network\"]\napply.wireless = [\"touch\", \"{d}/applied-wireless\"]\n{extra_board}",
            root().display()
        ),
    )
    .unwrap();
    let text = format!(
        "[acs]\nurl = \"http://127.0.0.1:1/\"\n[paths]\ndatamodel = \"{}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
        root().display()
    );
    let cfg = Config::parse(&text, "test", Path::new("/")).unwrap();
    Env { dir, cfg }
}

fn value(dev: &mut Device, path: &str) -> String {
    dev.model.get_values(&[path]).unwrap().remove(0).value
}

fn item(name: &str, value: &str) -> SetItem {
    SetItem {
        name: name.into(),
        value: value.into(),
        xsd_type: None,
    }
}

#[test]
fn reads_uci_backed_parameters() {
    let e = env("read", "");
    let mut dev = Device::open(&e.cfg).unwrap();
    assert_eq!(value(&mut dev, "Device.DeviceInfo.HostName"), "OpenWrt");
    assert_eq!(value(&mut dev, "Device.WiFi.SSID.2.SSID"), "OpenWrt-5G");
    assert_eq!(
        value(&mut dev, "Device.WiFi.SSID.2.LowerLayers"),
        "Device.WiFi.Radio.2"
    );
    assert_eq!(value(&mut dev, "Device.WiFi.Radio.2.Enable"), "false");
    assert_eq!(
        value(&mut dev, "Device.WiFi.AccessPoint.1.Security.ModeEnabled"),
        "WPA2-Personal"
    );
    assert_eq!(
        value(&mut dev, "Device.WiFi.AccessPoint.1.Security.KeyPassphrase"),
        "",
        "keys read back empty"
    );
    assert_eq!(
        value(&mut dev, "Device.IP.Interface.1.IPv4Address.1.IPAddress"),
        "192.168.1.1"
    );
    assert_eq!(
        value(&mut dev, "Device.DHCPv4.Server.Pool.1.LeaseTime"),
        "43200"
    );
    assert_eq!(
        value(&mut dev, "Device.DHCPv4.Server.Pool.1.Interface"),
        "Device.IP.Interface.1"
    );
    assert_eq!(
        value(&mut dev, "Device.Time.NTPServer2"),
        "1.openwrt.pool.ntp.org"
    );
    assert_eq!(
        value(&mut dev, "Device.Firewall.Chain.2.Rule.2.Description"),
        "Allow-Ping"
    );
    // Linux board values are still there.
    assert!(value(&mut dev, "Device.DeviceInfo.UpTime")
        .parse::<u64>()
        .is_ok());
}

#[test]
fn set_writes_uci_and_reports_pending_apply() {
    let e = env("set", "");
    let mut dev = Device::open(&e.cfg).unwrap();
    let status = dev
        .model
        .set_values(
            &[
                item("Device.WiFi.SSID.1.SSID", "cwmpd test"),
                item("Device.IP.Interface.1.IPv4Address.1.IPAddress", "10.1.0.1"),
                item(
                    "Device.WiFi.AccessPoint.2.Security.ModeEnabled",
                    "WPA2-Personal",
                ),
                item("Device.WiFi.Radio.2.Alias", "five"),
            ],
            "key-1",
        )
        .unwrap();
    assert_eq!(status, 1, "UCI packages with an apply command changed");
    let wireless = std::fs::read_to_string(e.dir.join("config/wireless")).unwrap();
    assert!(wireless.contains("\toption ssid 'cwmpd test'"));
    assert!(
        wireless.contains("\toption encryption 'psk2'\n\toption key 'it'\\''s a secret'"),
        "{wireless}"
    );
    assert!(std::fs::read_to_string(e.dir.join("config/network"))
        .unwrap()
        .contains("\toption ipaddr '10.1.0.1'"));
    assert!(
        !e.dir.join("applied-network").exists(),
        "apply waits for the end of the session"
    );
    assert!(dev.model.apply().is_empty());
    assert!(e.dir.join("applied-network").exists() && e.dir.join("applied-wireless").exists());
    assert_eq!(value(&mut dev, "Device.WiFi.Radio.2.Alias"), "five");
    assert_eq!(dev.model.state().parameter_key, "key-1");
    // Values the data model forbids never reach UCI.
    let err = dev
        .model
        .set_values(
            &[item(
                "Device.WiFi.AccessPoint.1.Security.ModeEnabled",
                "WEP-Open",
            )],
            "k",
        )
        .unwrap_err();
    assert_eq!(Fault::from(&err).parameters[0].code.code(), 9007);
}

/// A vendor handler whose writes always fail.
struct Broken;

impl Handler for Broken {
    fn check(
        &self,
        _kind: BindingKind,
        _args: &cwmpd::codec::toml::Table,
    ) -> Result<(), ArgsError> {
        Ok(())
    }
    fn get(&mut self, _args: &Args) -> Result<String, BackendError> {
        Ok("old".into())
    }
    fn set(&mut self, _args: &Args, _value: &str) -> Result<(), BackendError> {
        Err(BackendError::Io("flash write failed".into()))
    }
}

#[test]
fn a_set_failing_half_way_leaves_every_backend_untouched() {
    let extra = "\n[[object]]\npath = \"Device.DeviceInfo.\"\n[object.params]\nProvisioningCode = { handler = \"broken\", write = true }\n";
    let e = env("rollback", extra);
    let mut dev = Device::open_with(&e.cfg, vec![("broken".into(), Box::new(Broken))]).unwrap();
    let before = std::fs::read_to_string(e.dir.join("config/wireless")).unwrap();
    let err = dev
        .model
        .set_values(
            &[
                item("Device.WiFi.SSID.1.SSID", "never"),
                item("Device.WiFi.Radio.1.Alias", "never"),
                item("Device.DeviceInfo.ProvisioningCode", "x"),
            ],
            "k-fail",
        )
        .unwrap_err();
    assert_eq!(Fault::from(&err).code.code(), 9002);
    assert_eq!(
        std::fs::read_to_string(e.dir.join("config/wireless")).unwrap(),
        before
    );
    assert_eq!(value(&mut dev, "Device.WiFi.SSID.1.SSID"), "OpenWrt");
    assert_eq!(value(&mut dev, "Device.WiFi.Radio.1.Alias"), "cpe-radio-1");
    assert!(!e.dir.join("state/stored.toml").exists(), "nothing stored");
    assert_eq!(dev.model.state().parameter_key, "");
    assert!(dev.model.apply().is_empty() && !e.dir.join("applied-wireless").exists());
}

#[test]
fn add_and_delete_an_ssid_through_uci() {
    let e = env("add", "");
    let mut dev = Device::open(&e.cfg).unwrap();
    let (n, status) = dev.model.add_object("Device.WiFi.SSID.", "add").unwrap();
    assert_eq!((n, status), (3, 1));
    dev.model
        .set_values(&[item("Device.WiFi.SSID.3.SSID", "guest")], "set")
        .unwrap();
    assert!(std::fs::read_to_string(e.dir.join("config/wireless"))
        .unwrap()
        .contains("config wifi-iface 'wifinet1'\n\toption ssid 'guest'"));
    dev.model
        .delete_object("Device.WiFi.SSID.3.", "del")
        .unwrap();
    assert!(!std::fs::read_to_string(e.dir.join("config/wireless"))
        .unwrap()
        .contains("guest"));
    let (n, _) = dev.model.add_object("Device.WiFi.SSID.", "again").unwrap();
    assert_eq!(n, 4, "numbers are not reused");
}
