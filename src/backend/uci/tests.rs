//! UCI handler tests on copies of realistic OpenWrt configuration files
//! (`tests/fixtures/uci`) in a temporary directory.

use super::get::duration_secs;
use super::*;
use crate::codec::toml;

const PACKAGES: [&str; 5] = ["network", "wireless", "dhcp", "system", "firewall"];

struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fixtures() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/uci")
}

fn tree(tag: &str) -> Tree {
    let d = std::env::temp_dir().join(format!("cwmpd-uci-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for p in PACKAGES {
        std::fs::copy(fixtures().join(p), d.join(p)).unwrap();
    }
    Tree(d)
}

fn handler(t: &Tree) -> Uci {
    let settings = toml::Value::Table(
        toml::from_str(&format!(
        "dir = \"{}\"\napply.network = [\"touch\", \"{}/applied-network\"]\napply.wireless = [\"touch\", \"{}/applied-wireless\"]",
        t.0.display(),
        t.0.display(),
        t.0.display()
    ))
    .unwrap(),
    );
    Uci::new(Some(&settings)).unwrap()
}

fn a(t: &str) -> Args {
    Args {
        table: toml::from_str(t).unwrap(),
        path: String::new(),
    }
}

#[test]
fn every_fixture_parses_and_round_trips_byte_for_byte() {
    for p in PACKAGES {
        let text = std::fs::read_to_string(fixtures().join(p)).unwrap();
        let d = Doc::parse(&text).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(d.render(), text, "{p}");
        assert!(!d.sections().is_empty());
    }
}

#[test]
fn reads_options_lists_booleans_and_maps() {
    let t = tree("read");
    let mut u = handler(&t);
    assert_eq!(
        u.get(&a(
            "package = \"network\"\nsection = \"lan\"\noption = \"ipaddr\""
        ))
        .unwrap(),
        "192.168.1.1"
    );
    assert_eq!(
        u.get(&a(
            "package = \"system\"\nsection = \"@system[0]\"\noption = \"hostname\""
        ))
        .unwrap(),
        "OpenWrt"
    );
    assert_eq!(
        u.get(&a(
            "package = \"system\"\nsection = \"ntp\"\noption = \"server\"\nlist = true"
        ))
        .unwrap()
        .split(',')
        .count(),
        4
    );
    assert_eq!(
        u.get(&a(
            "package = \"system\"\nsection = \"ntp\"\noption = \"server\"\nitem = 1"
        ))
        .unwrap(),
        "1.openwrt.pool.ntp.org"
    );
    assert_eq!(u.get(&a("package = \"wireless\"\nsection = \"radio1\"\noption = \"disabled\"\nbool = true\ninvert = true")).unwrap(), "false");
    assert_eq!(u.get(&a("package = \"wireless\"\nsection = \"radio0\"\noption = \"disabled\"\nbool = true\ninvert = true\ndefault = \"0\"")).unwrap(), "true");
    let enc = "package = \"wireless\"\nsection = \"default_radio0\"\noption = \"encryption\"\nmap = { psk2 = \"WPA2-Personal\", sae-mixed = \"WPA2-WPA3-Personal\" }";
    assert_eq!(u.get(&a(enc)).unwrap(), "WPA2-Personal");
    assert_eq!(
        u.get(&a(
            "package = \"wireless\"\nsection = \"default_radio1\"\noption = \"key\""
        ))
        .unwrap(),
        "it's a secret"
    );
    assert!(matches!(
        u.get(&a(
            "package = \"network\"\nsection = \"lan\"\noption = \"gateway\""
        )),
        Err(BackendError::NotFound(_))
    ));
    assert_eq!(
        u.get(&a(
            "package = \"dhcp\"\nsection = \"lan\"\noption = \"leasetime\"\nduration = true"
        ))
        .unwrap(),
        "43200"
    );
    assert_eq!(duration_secs("45m"), Some(2700));
    assert_eq!(duration_secs("3600"), Some(3600));
    assert_eq!(duration_secs("infinite"), Some(-1));
    assert_eq!(duration_secs("12x"), None);
    assert_eq!(duration_secs("-5"), None);
    assert!(matches!(
        u.get(&a(
            "package = \"network\"\nsection = \"nope\"\noption = \"x\""
        )),
        Err(BackendError::NotFound(_))
    ));
    assert!(matches!(
        u.get(&a(
            "package = \"../etc/passwd\"\nsection = \"x\"\noption = \"x\""
        )),
        Err(BackendError::BadArgs(_))
    ));
}

#[test]
fn tables_come_from_sections_of_a_type() {
    let t = tree("tables");
    let mut u = handler(&t);
    let ifaces = u
        .instances(&a(
            "package = \"network\"\ntype = \"interface\"\nexclude = [\"loopback\"]",
        ))
        .unwrap();
    assert_eq!(
        ifaces.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        ["lan", "wan", "wan6", "guest"]
    );
    assert_eq!(ifaces[0].vars["uci_proto"], "static");
    let static_only = u.instances(&a("package = \"network\"\ntype = \"interface\"\nmatch = { proto = \"static\" }\nname = \"lan\"")).unwrap();
    assert_eq!(static_only.len(), 1);
    let zones = u
        .instances(&a("package = \"firewall\"\ntype = \"zone\""))
        .unwrap();
    assert_eq!(zones.len(), 2);
    assert_eq!(zones[1].vars["uci_network"], "wan wan6");
    assert_eq!(zones[1].vars["index"], "1");
    // An anonymous section's id addresses it like @type[n] does.
    let id = zones[0].key.clone();
    assert_eq!(
        u.get(&a(&format!(
            "package = \"firewall\"\nsection = \"{id}\"\noption = \"name\""
        )))
        .unwrap(),
        "lan"
    );
}

#[test]
fn staged_changes_commit_atomically_and_apply_once() {
    let t = tree("commit");
    let mut u = handler(&t);
    u.begin();
    u.set(
        &a("package = \"network\"\nsection = \"lan\"\noption = \"ipaddr\""),
        "10.0.0.1",
    )
    .unwrap();
    u.set(&a("package = \"wireless\"\nsection = \"radio1\"\noption = \"disabled\"\nbool = true\ninvert = true"), "true").unwrap();
    u.set(
        &a("package = \"system\"\nsection = \"ntp\"\noption = \"server\"\nlist = true"),
        "a.example, b.example",
    )
    .unwrap();
    assert_eq!(
        u.get(&a(
            "package = \"network\"\nsection = \"lan\"\noption = \"ipaddr\""
        ))
        .unwrap(),
        "10.0.0.1",
        "staged value visible"
    );
    assert_eq!(
        std::fs::read_to_string(t.0.join("network")).unwrap(),
        std::fs::read_to_string(fixtures().join("network")).unwrap(),
        "nothing written before commit"
    );
    assert!(
        u.commit().unwrap(),
        "network and wireless have apply commands"
    );
    let net = std::fs::read_to_string(t.0.join("network")).unwrap();
    let orig = std::fs::read_to_string(fixtures().join("network")).unwrap();
    let changed: Vec<&str> = net
        .lines()
        .zip(orig.lines())
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x)
        .collect();
    assert_eq!(changed, ["\toption ipaddr '10.0.0.1'"]);
    assert!(std::fs::read_to_string(t.0.join("wireless"))
        .unwrap()
        .contains("\toption disabled '0'"));
    assert!(std::fs::read_to_string(t.0.join("system"))
        .unwrap()
        .contains("\tlist server 'a.example'\n\tlist server 'b.example'\n"));
    u.apply().unwrap();
    assert!(t.0.join("applied-network").exists() && t.0.join("applied-wireless").exists());
    std::fs::remove_file(t.0.join("applied-network")).unwrap();
    u.apply().unwrap();
    assert!(
        !t.0.join("applied-network").exists(),
        "apply runs once per change"
    );
    // Another process edits the file: the next operation sees it.
    std::fs::write(
        t.0.join("network"),
        net.replace("10.0.0.1", "10.0.0.254") + "\n",
    )
    .unwrap();
    u.begin();
    assert_eq!(
        u.get(&a(
            "package = \"network\"\nsection = \"lan\"\noption = \"ipaddr\""
        ))
        .unwrap(),
        "10.0.0.254"
    );
}

#[test]
fn abort_discards_staged_changes() {
    let t = tree("abort");
    let mut u = handler(&t);
    u.set(
        &a("package = \"network\"\nsection = \"lan\"\noption = \"ipaddr\""),
        "10.9.9.9",
    )
    .unwrap();
    u.abort();
    assert_eq!(
        u.get(&a(
            "package = \"network\"\nsection = \"lan\"\noption = \"ipaddr\""
        ))
        .unwrap(),
        "192.168.1.1"
    );
    assert!(!u.commit().unwrap());
    assert_eq!(
        std::fs::read_to_string(t.0.join("network")).unwrap(),
        std::fs::read_to_string(fixtures().join("network")).unwrap()
    );
}

#[test]
fn add_and_delete_sections() {
    let t = tree("add");
    let mut u = handler(&t);
    let table = a("package = \"dhcp\"\ntype = \"host\"");
    let inst = u.add(&table).unwrap();
    u.set(
        &a(&format!(
            "package = \"dhcp\"\nsection = \"{}\"\noption = \"ip\"",
            inst.key
        )),
        "192.168.1.30",
    )
    .unwrap();
    u.commit().unwrap();
    assert_eq!(u.instances(&table).unwrap().len(), 2);
    let named = u
        .add(&a(
            "package = \"network\"\ntype = \"interface\"\nname_prefix = \"cwmp\"",
        ))
        .unwrap();
    assert_eq!(named.key, "cwmp1");
    u.commit().unwrap();
    let first = u.instances(&table).unwrap()[0].clone();
    u.delete(&table, &first).unwrap();
    u.commit().unwrap();
    let left = u.instances(&table).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].vars["uci_ip"], "192.168.1.30");
    assert!(!std::fs::read_to_string(t.0.join("dhcp"))
        .unwrap()
        .contains("printer"));
}

#[test]
fn settings_and_arguments_are_checked() {
    assert!(Uci::new(Some(&toml::Value::Table(
        toml::from_str("dir = 5").unwrap()
    )))
    .is_err());
    assert!(Uci::new(Some(&toml::Value::Table(
        toml::from_str("apply.network = []").unwrap()
    )))
    .is_err());
    let u = Uci::new(None).unwrap();
    let t = |x: &str| toml::from_str(x).unwrap();
    assert!(u
        .check(
            BindingKind::Read,
            &t("package = \"network\"\nsection = \"lan\"\noption = \"ipaddr\"")
        )
        .is_ok());
    assert!(u
        .check(
            BindingKind::Read,
            &t("package = \"network\"\nsection = \"lan\"")
        )
        .is_err());
    assert!(u
        .check(
            BindingKind::Read,
            &t("package = \"a/b\"\nsection = \"lan\"\noption = \"x\"")
        )
        .is_err());
    assert!(u
        .check(
            BindingKind::Read,
            &t("package = \"n\"\nsection = \"l\"\noption = \"x\"\nbool = \"yes\"")
        )
        .is_err());
    assert!(u
        .check(BindingKind::Table, &t("package = \"network\""))
        .is_err());
    assert!(u
        .check(
            BindingKind::Table,
            &t("package = \"network\"\ntype = \"interface\"\nmatch = { proto = 1 }")
        )
        .is_err());
}

#[test]
fn joined_rows_carry_the_other_packages_options_and_within_filters_by_network() {
    let t = tree("join");
    let mut u = handler(&t);
    let pools = u
        .instances(&a(
            "package = \"dhcp\"\ntype = \"dhcp\"\njoin = { package = \"network\", by = \"interface\", prefix = \"net_\" }",
        ))
        .unwrap();
    assert_eq!(pools[0].vars["net_ipaddr"], "192.168.1.1");
    assert_eq!(pools[0].vars["net_netmask"], "255.255.255.0");
    assert!(
        !pools[1].vars.contains_key("net_ipaddr"),
        "wan has no address"
    );
    let lan_hosts = u
        .instances(&a(
            "package = \"dhcp\"\ntype = \"host\"\nwithin = { option = \"ip\", network = \"192.168.1.1\", netmask = \"24\" }",
        ))
        .unwrap();
    assert_eq!(lan_hosts.len(), 1);
    let none = u
        .instances(&a(
            "package = \"dhcp\"\ntype = \"host\"\nwithin = { option = \"ip\", network = \"10.9.0.1\", netmask = \"255.255.0.0\" }",
        ))
        .unwrap();
    assert!(none.is_empty());
    let unset = u
        .instances(&a(
            "package = \"dhcp\"\ntype = \"host\"\nwithin = { option = \"ip\", network = \"{net_ipaddr}\", netmask = \"{net_netmask}\" }",
        ))
        .unwrap();
    assert!(unset.is_empty(), "a pool without a network holds no hosts");
    let zones = u
        .instances(&a("package = \"firewall\"\ntype = \"zone\""))
        .unwrap();
    assert_eq!(zones[1].vars["ucilist_network"], "wan,wan6");
}

#[test]
fn added_sections_start_with_their_defaults_and_named_ones_stay_in_their_pool() {
    let t = tree("defaults");
    let mut u = handler(&t);
    let table = a(
        "package = \"dhcp\"\ntype = \"host\"\nname_prefix = \"lan_host\"\ndefaults = { leasetime = \"infinite\" }\n\
         within = { option = \"ip\", network = \"192.168.1.1\", netmask = \"24\", or_prefix = \"lan_host\" }",
    );
    let inst = u.add(&table).unwrap();
    assert_eq!(inst.key, "lan_host1");
    u.commit().unwrap();
    let text = std::fs::read_to_string(t.0.join("dhcp")).unwrap();
    assert!(
        text.ends_with("config host 'lan_host1'\n\toption leasetime 'infinite'\n"),
        "{text}"
    );
    let rows = u.instances(&table).unwrap();
    assert!(
        rows.iter().any(|r| r.key == "lan_host1"),
        "listed before it has an address"
    );
    assert!(u
        .check(
            BindingKind::Table,
            &toml::from_str("package = \"p\"\ntype = \"t\"\njoin = { package = \"n\" }").unwrap()
        )
        .is_err());
}

#[test]
fn a_default_covers_a_missing_package_or_section_too() {
    let t = tree("missing");
    let mut u = handler(&t);
    let get = |u: &mut Uci, s: &str| u.get(&a(s));
    assert_eq!(
        get(
            &mut u,
            "package = \"cwmpd\"\nsection = \"acs\"\noption = \"url\"\ndefault = \"http://x/\""
        )
        .unwrap(),
        "http://x/"
    );
    assert_eq!(
        get(
            &mut u,
            "package = \"system\"\nsection = \"nope\"\noption = \"x\"\ndefault = \"d\""
        )
        .unwrap(),
        "d"
    );
    assert!(matches!(
        get(
            &mut u,
            "package = \"cwmpd\"\nsection = \"acs\"\noption = \"url\""
        ),
        Err(BackendError::NotFound(_))
    ));
}

#[test]
fn a_section_found_by_option_is_created_on_write_and_an_unset_value_removes_the_option() {
    let t = tree("selector");
    let mut u = handler(&t);
    let speed = |port: &str| {
        a(&format!(
            "package = \"network\"\nsection = \"@device[name={port}]\"\noption = \"speed\"\n\
             default = \"-1\"\nunset = \"-1\"\ncreate = true"
        ))
    };
    // The bridge's section is found by its name; a port without a section reads the default.
    let bridge = a("package = \"network\"\nsection = \"@device[name=br-lan]\"\noption = \"type\"");
    assert_eq!(u.get(&bridge).unwrap(), "bridge");
    assert_eq!(u.get(&speed("lan3")).unwrap(), "-1");
    // Unset where nothing is configured writes nothing.
    u.set(&speed("lan3"), "-1").unwrap();
    assert!(u.originals.is_empty());
    // A value creates the section, named by its option.
    u.set(&speed("lan3"), "100").unwrap();
    u.commit().unwrap();
    let text = std::fs::read_to_string(t.0.join("network")).unwrap();
    assert!(
        text.contains("config device\n\toption name 'lan3'\n\toption speed '100'"),
        "{text}"
    );
    assert_eq!(u.get(&speed("lan3")).unwrap(), "100");
    // The unset value removes the option again (the section stays).
    u.set(&speed("lan3"), "-1").unwrap();
    u.commit().unwrap();
    let text = std::fs::read_to_string(t.0.join("network")).unwrap();
    assert!(!text.contains("option speed"), "{text}");
    assert!(text.contains("option name 'lan3'"));
    // Without `create`, a missing section is not found; `create` needs a selector.
    let plain = a("package = \"network\"\nsection = \"@device[name=lan9]\"\noption = \"speed\"");
    assert!(matches!(
        u.set(&plain, "10"),
        Err(BackendError::NotFound(_))
    ));
    let bad: toml::Table =
        toml::from_str("package = \"network\"\nsection = \"lan\"\noption = \"mtu\"\ncreate = true")
            .unwrap();
    assert!(u.check(BindingKind::ReadWrite, &bad).is_err());
}

#[test]
fn when_suffix_and_unmapped_shape_values_by_their_section() {
    let t = tree("when");
    let mut u = handler(&t);
    u.begin();
    // `when`: 802.11h exists on the 5 GHz radio only.
    let h = "package = \"wireless\"\noption = \"doth\"\nbool = true\ndefault = \"1\"\nwhen = { band = \"5g\" }\nsection = ";
    assert_eq!(u.get(&a(&format!("{h}\"radio1\""))).unwrap(), "true");
    assert!(matches!(
        u.get(&a(&format!("{h}\"radio0\""))),
        Err(BackendError::NotFound(_))
    ));
    assert!(matches!(
        u.set(&a(&format!("{h}\"radio0\"")), "false"),
        Err(BackendError::NotFound(_))
    ));
    // `""` in `when` is an option left out.
    let unset = a("package = \"wireless\"\nsection = \"radio0\"\noption = \"band\"\nwhen = { country3 = \"\" }");
    assert_eq!(u.get(&unset).unwrap(), "2g");
    let set3 = a(
        "package = \"wireless\"\nsection = \"radio0\"\noption = \"band\"\nwhen = { band = \"\" }",
    );
    assert!(matches!(u.get(&set3), Err(BackendError::NotFound(_))));
    // `suffix`: appended when read, required and stripped when written.
    let c = a("package = \"wireless\"\nsection = \"radio0\"\noption = \"country\"\ndefault = \"00\"\nsuffix = \" \"");
    assert_eq!(u.get(&c).unwrap(), "00 ");
    u.set(&c, "DE ").unwrap();
    assert_eq!(u.get(&c).unwrap(), "DE ");
    assert!(matches!(
        u.set(&c, "DEI"),
        Err(BackendError::InvalidValue(_))
    ));
    // `unmapped`: map_default's value keeps a channel number and replaces `auto`.
    let ch = |s: &str| {
        a(&format!(
            "package = \"wireless\"\nsection = \"{s}\"\noption = \"channel\"\nmap = {{ auto = \"true\" }}\nmap_default = \"false\"\nunmapped = \"44\""
        ))
    };
    assert_eq!(u.get(&ch("radio1")).unwrap(), "true");
    u.set(&ch("radio1"), "false").unwrap();
    u.set(&ch("radio0"), "false").unwrap();
    u.prepare().unwrap();
    u.commit().unwrap();
    let text = std::fs::read_to_string(t.0.join("wireless")).unwrap();
    assert!(text.contains("option channel '44'"), "{text}");
    assert!(text.contains("option channel '1'"), "radio0 kept: {text}");
    assert!(text.contains("option country 'DE'"), "{text}");
    // Nothing to pin to: refused.
    let bad = a("package = \"wireless\"\nsection = \"radio1\"\noption = \"channel\"\nmap = { \"44\" = \"true\" }\nmap_default = \"false\"\nunmapped = \"{param:Channel}\"");
    assert!(matches!(
        u.set(&bad, "false"),
        Err(BackendError::InvalidValue(_))
    ));
    assert!(u.check(BindingKind::ReadWrite, &bad.table).is_ok());
    let mut no_default = bad.table.clone();
    no_default.remove("map_default");
    assert!(u.check(BindingKind::ReadWrite, &no_default).is_err());
}

#[test]
fn mtime_reads_when_the_package_file_changed() {
    let t = tree("mtime");
    let mut u = handler(&t);
    let f = std::fs::File::options()
        .write(true)
        .open(t.0.join("firewall"))
        .unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .unwrap();
    drop(f);
    let args = a("package = \"firewall\"\nmtime = true");
    assert_eq!(u.get(&args).unwrap(), "2023-11-14T22:13:20Z");
    assert!(matches!(
        u.get(&a("package = \"nope\"\nmtime = true")),
        Err(BackendError::NotFound(_))
    ));
    assert!(u.check(BindingKind::Read, &args.table).is_ok());
    assert!(u.check(BindingKind::ReadWrite, &args.table).is_err());
    let extra = a("package = \"firewall\"\nmtime = true\noption = \"x\"");
    assert!(u.check(BindingKind::Read, &extra.table).is_err());
}

#[test]
fn each_word_of_an_option_is_a_row() {
    let t = tree("each");
    std::fs::write(
        t.0.join("firewall"),
        "config zone\n\toption name 'wan'\n\tlist network 'wan'\n\tlist network 'wan6'\n\toption masq '1'\n\n\
         config redirect 'web'\n\toption proto 'tcp'\n\toption target 'DNAT'\n\n\
         config redirect 'game'\n\toption proto 'tcp udp'\n\toption target 'DNAT'\n\n\
         config redirect 'any'\n\toption target 'DNAT'\n",
    )
    .unwrap();
    let mut u = handler(&t);
    let rows = |u: &mut Uci, text: &str| -> Vec<(String, String)> {
        u.instances(&a(text))
            .unwrap()
            .into_iter()
            .map(|i| (i.key, i.vars["each"].clone()))
            .collect()
    };
    let zones = rows(
        &mut u,
        "package = \"firewall\"\ntype = \"zone\"\neach = \"network\"",
    );
    assert_eq!(zones.len(), 2);
    assert_eq!(zones[0].1, "wan");
    assert_eq!(zones[1].1, "wan6");
    assert!(zones[0].0.ends_with(".1") && zones[1].0.ends_with(".2"));
    let maps = rows(
        &mut u,
        "package = \"firewall\"\ntype = \"redirect\"\neach = \"proto\"",
    );
    let want = [
        ("web", "tcp"),
        ("game.1", "tcp"),
        ("game.2", "udp"),
        ("any", ""),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, w)| (k.to_string(), w.to_string()))
        .collect();
    assert_eq!(maps, want);
    let maps = rows(
        &mut u,
        "package = \"firewall\"\ntype = \"redirect\"\neach = \"proto\"\neach_default = \"tcp udp\"",
    );
    assert_eq!(maps[3], ("any.1".to_string(), "tcp".to_string()));
    assert_eq!(maps[4], ("any.2".to_string(), "udp".to_string()));
    let proto = |w: &str| {
        a(&format!(
            "package = \"firewall\"\nsection = \"game\"\noption = \"proto\"\nword = \"{w}\"\nmap = {{ tcp = \"TCP\", udp = \"UDP\" }}"
        ))
    };
    assert_eq!(u.get(&proto("udp")).unwrap(), "UDP");
    assert_eq!(u.get(&proto("tcp")).unwrap(), "TCP");
    assert!(matches!(
        u.get(&proto("sctp")),
        Err(BackendError::NotFound(_))
    ));
    // Written, the option holds the one protocol: the section is one mapping again.
    u.set(&proto("udp"), "TCP").unwrap();
    u.prepare().unwrap();
    u.commit().unwrap();
    let text = std::fs::read_to_string(t.0.join("firewall")).unwrap();
    assert!(
        text.contains("config redirect 'game'\n\toption proto 'tcp'\n"),
        "{text}"
    );
}

#[test]
fn delete_sets_turns_a_role_off_and_keeps_the_section() {
    let t = tree("delete-sets");
    let mut h = handler(&t);
    let args = a("package = \"network\"\ntype = \"interface\"\nmatch = { proto = \"dhcp\" }\ndelete_sets = { proto = \"none\" }");
    let rows = h.instances(&args).unwrap();
    let first = rows
        .first()
        .expect("a dhcp interface in the fixture")
        .clone();
    h.delete(&args, &first).unwrap();
    h.prepare().unwrap();
    h.commit().unwrap();
    let after = h.instances(&args).unwrap();
    assert_eq!(after.len(), rows.len() - 1);
    let text = std::fs::read_to_string(t.0.join("network")).unwrap();
    assert!(
        text.contains(&format!("config interface '{}'", first.key)),
        "{text}"
    );
    assert!(text.contains("option proto 'none'"), "{text}");
}
