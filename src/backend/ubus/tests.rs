//! The `ubus` handler against the stand-in client in `tests/fixtures/openwrt/bin/ubus`:
//! paths, netifd and iwinfo answers, `via`, tables, actions and writability.

use super::*;

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openwrt")
}

pub(crate) fn handler() -> Ubus {
    let mut t = toml::Table::new();
    t.insert(
        "command".into(),
        toml::Value::Array(vec![toml::Value::String(
            fixtures().join("bin/ubus").display().to_string(),
        )]),
    );
    Ubus::new(Some(&toml::Value::Table(t))).unwrap()
}

pub(crate) fn args(text: &str) -> Args {
    Args {
        table: toml::from_str(text).unwrap(),
        path: String::new(),
    }
}

#[test]
fn paths_select_members_positions_and_elements() {
    let v: Value = serde_json::from_str(
        r#"{"interface":[{"interface":"lan","mask":24},{"interface":"wan","up":true,"dns":["a","b"]}]}"#,
    )
    .unwrap();
    let get = |p: &str| follow(&v, &steps(p).unwrap()).and_then(text_of);
    assert_eq!(get("interface/[interface=wan]/up").as_deref(), Some("true"));
    assert_eq!(get("interface/0/mask").as_deref(), Some("24"));
    assert_eq!(get("interface/[interface=wan]/dns").as_deref(), Some("a,b"));
    assert_eq!(get("interface/[interface=wan6]/up"), None);
    let w: Value =
        serde_json::from_str(r#"{"i":[{"config":{"mode":"ap"}},{"config":{"mode":"sta"},"n":1}]}"#)
            .unwrap();
    let got = follow(&w, &steps("i/[config.mode=sta]/n").unwrap()).and_then(text_of);
    assert_eq!(got.as_deref(), Some("1"));
    assert_eq!(get("interface/7"), None);
    assert!(steps("a/[b]/c").is_none());
    assert!(steps("a/[b=c/d").is_none());
}

#[test]
fn reads_netifd_status_through_the_stand_in() {
    let mut h = handler();
    let get = |h: &mut Ubus, path: &str| {
        h.get(&args(&format!(
            "object = \"network.interface\"\nmethod = \"dump\"\npath = \"{path}\""
        )))
    };
    assert_eq!(
        get(&mut h, "interface/[interface=wan]/l3_device").unwrap(),
        "pppoe-wan"
    );
    assert_eq!(
        get(&mut h, "interface/[interface=wan]/dns-server").unwrap(),
        "203.0.113.53,203.0.113.54"
    );
    assert!(matches!(
        get(&mut h, "interface/[interface=nope]/up"),
        Err(BackendError::NotFound(_))
    ));
    // One call per operation.
    assert_eq!(h.answers.len(), 1);
    h.begin();
    assert!(h.answers.is_empty());
}

#[test]
fn via_finds_the_interface_of_a_radio_or_ssid_first() {
    let mut h = handler();
    let bssid = |h: &mut Ubus, section: &str| {
        h.get(&args(&format!(
            "object = \"iwinfo\"\nmethod = \"info\"\nmessage = '{{\"device\":\"{{via}}\"}}'\npath = \"bssid\"\n\
             via = {{ object = \"network.wireless\", method = \"status\", path = \"*/interfaces/[section={section}]/ifname\" }}"
        )))
    };
    assert_eq!(
        bssid(&mut h, "default_radio1").unwrap(),
        "02:4a:6c:11:22:31"
    );
    assert!(matches!(
        bssid(&mut h, "guest_radio0"),
        Err(BackendError::NotFound(_))
    ));
    let radios = h
        .instances(&args("object = \"network.wireless\"\nmethod = \"status\""))
        .unwrap();
    assert_eq!(radios[0].vars["j_interfaces_0_ifname"], "phy0-ap0");
}

#[test]
fn extra_paths_append_and_prefixes_become_netmasks() {
    let mut h = handler();
    let a = |extra: &str| {
        args(&format!(
            "object = \"network.interface\"\nmethod = \"dump\"\n{extra}"
        ))
    };
    assert_eq!(
        h.get(&a("path = \"interface/[interface=iptv]/dns-server\"\nalso = [\"interface/[interface=iptv]/inactive/dns-server\"]"))
            .unwrap(),
        "10.64.0.53"
    );
    let chans = h
        .get(&args(
            "object = \"iwinfo\"\nmethod = \"freqlist\"\nmessage = '{\"device\":\"phy0-ap0\"}'\npath = \"results\"\npluck = \"channel\"",
        ))
        .unwrap();
    assert_eq!(chans, "1,2,3,4,5,6,7,8,9,10,11,12,13");
    assert_eq!(
        h.get(&a(
            "path = \"interface/[interface=iptv]/ipv4-address/0/mask\"\nnetmask = true"
        ))
        .unwrap(),
        "255.255.240.0"
    );
}

#[test]
fn an_object_that_is_not_registered_has_no_rows() {
    let mut h = handler();
    let rows = h
        .instances(&args(
            "object = \"hostapd.phy9-ap0\"\nmethod = \"get_clients\"\npath = \"clients\"",
        ))
        .unwrap();
    assert!(rows.is_empty());
    assert!(matches!(
        h.get(&args(
            "object = \"hostapd.phy9-ap0\"\nmethod = \"get_clients\"\npath = \"freq\""
        )),
        Err(BackendError::NotFound(_))
    ));
}

#[test]
fn table_rows_carry_their_scalar_fields() {
    let mut h = handler();
    let rows = h
        .instances(&args(
            "object = \"hostapd.phy0-ap0\"\nmethod = \"get_clients\"\npath = \"clients\"",
        ))
        .unwrap();
    assert!(!rows.is_empty());
    let r = &rows[0];
    assert_eq!(r.vars["j_name"], r.key);
    assert!(r.vars.contains_key("j_rate_tx"), "{:?}", r.vars);
    let dns = h
        .instances(&args(
            "object = \"network.interface\"\nmethod = \"dump\"\npath = \"interface/[interface=wan]/dns-server\"",
        ))
        .unwrap();
    let keys: Vec<&str> = dns.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["203.0.113.53", "203.0.113.54"]);
}

#[test]
fn actions_run_once_after_commit_and_read_false() {
    let mut h = handler();
    let a = args("object = \"network.interface.iptv\"\nmethod = \"status\"\naction = \"renew\"");
    assert_eq!(h.get(&a).unwrap(), "false");
    h.set(&a, "false").unwrap();
    assert!(!h.commit().unwrap(), "false is no action");
    h.set(&a, "true").unwrap();
    h.abort();
    assert!(!h.commit().unwrap(), "aborted");
    h.set(&a, "true").unwrap();
    assert!(h.commit().unwrap());
    h.apply().unwrap();
    assert!(h.pending.is_empty());
}

#[test]
fn only_actions_are_writable() {
    let h = handler();
    let t = |s: &str| toml::from_str(s).unwrap();
    assert!(h
        .check(
            BindingKind::ReadWrite,
            &t("object = \"o\"\nmethod = \"m\"\npath = \"x\"")
        )
        .is_err());
    assert!(h
        .check(
            BindingKind::ReadWrite,
            &t("object = \"o\"\nmethod = \"m\"\naction = \"renew\"")
        )
        .is_ok());
    assert!(h.check(BindingKind::Read, &t("object = \"o\"")).is_err());
    assert!(h
        .check(
            BindingKind::Read,
            &t("object = \"o\"\nmethod = \"m\"\npath = \"[x]\"")
        )
        .is_err());
}
