//! Rows per list item (`items`): reading, writing, adding and deleting them in a package.

use super::*;

const NET: &str = "config interface 'wan'\n\toption proto 'pppoe'\n\tlist dns '9.9.9.9'\n\tlist dns '149.112.112.112'\n\nconfig interface 'lan'\n\toption proto 'static'\n\nconfig interface 'iptv'\n\toption proto 'dhcp'\n\toption reqopts '121 249'\n\toption sendopts '0x4d:696e7465726e6574 hostname:stb'\n";

fn doc() -> Doc {
    Doc::parse(NET).unwrap()
}

fn on(option: &str) -> Lists<'_> {
    Lists {
        on: option,
        ..Default::default()
    }
}

const DNS: Lists = Lists {
    on: "dns",
    off: Some("cwmpd_dns_disabled"),
    words: false,
    dnsmasq: false,
};

#[test]
fn list_values_and_words_of_an_option_are_rows() {
    let d = doc();
    let r = rows(&d, "wan", on("dns"), true);
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].key, "wan/149.112.112.112");
    let o = rows(&d, "iptv", on("reqopts"), false);
    assert_eq!(
        o.iter()
            .map(|r| get(r, Lists::default(), "tag").unwrap())
            .collect::<Vec<_>>(),
        ["121", "249"]
    );
    assert_eq!(get(&o[1], Lists::default(), "order").unwrap(), "2");
    let s = rows(&d, "iptv", on("sendopts"), false);
    assert_eq!(get(&s[0], Lists::default(), "tag").unwrap(), "77");
    assert_eq!(
        get(&s[0], Lists::default(), "data").unwrap(),
        "696e7465726e6574"
    );
    assert_eq!(get(&s[1], Lists::default(), "tag").unwrap(), "12");
    assert_eq!(get(&s[1], Lists::default(), "data").unwrap(), "737462");
    assert!(find(&d, "wan/1.1.1.1", on("dns"), true).is_err());
}

#[test]
fn writes_keep_the_form_and_rename_the_row() {
    let mut d = doc();
    let r = find(&d, "wan/9.9.9.9", on("dns"), true).unwrap();
    assert_eq!(
        set(&mut d, &r, on("dns"), "value", "1.1.1.1", true).unwrap(),
        "wan/1.1.1.1"
    );
    assert!(set(&mut d, &r, on("dns"), "value", "not-an-ip", true).is_err());
    let r = find(&d, "wan/1.1.1.1", on("dns"), true).unwrap();
    assert_eq!(
        set(&mut d, &r, on("dns"), "section", "lan", true).unwrap(),
        "lan/1.1.1.1"
    );
    let o = rows(&d, "iptv", on("sendopts"), false);
    assert_eq!(
        set(&mut d, &o[0], on("sendopts"), "data", "AB01", false).unwrap(),
        "iptv/0x4d:ab01"
    );
    let o = rows(&d, "iptv", on("reqopts"), false);
    set(&mut d, &o[0], on("reqopts"), "tag", "42", false).unwrap();
    assert!(set(&mut d, &o[0], on("reqopts"), "tag", "255", false).is_err());
    let text = d.render();
    assert!(text.contains("\tlist dns '149.112.112.112'\n"), "{text}");
    assert!(
        text.contains("config interface 'lan'\n\toption proto 'static'\n\tlist dns '1.1.1.1'\n"),
        "{text}"
    );
    assert!(
        text.contains("option sendopts '0x4d:ab01 hostname:stb'"),
        "{text}"
    );
    assert!(text.contains("option reqopts '42 249'"), "{text}");
}

#[test]
fn an_added_item_is_empty_until_set_and_delete_removes_one() {
    let mut d = doc();
    let r = add(&mut d, "wan", on("dns"), true).unwrap();
    assert_eq!(r.key, "wan/");
    assert_eq!(
        set(&mut d, &r, on("dns"), "value", "2001:db8::53", true).unwrap(),
        "wan/2001:db8::53"
    );
    let r = find(&d, "wan/9.9.9.9", on("dns"), true).unwrap();
    assert!(delete(&mut d, &r, on("dns")));
    let keys: Vec<String> = rows(&d, "wan", on("dns"), true)
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(keys, ["wan/149.112.112.112", "wan/2001:db8::53"]);
    assert!(add(&mut d, "nosuch", on("dns"), true).is_err());
}

#[test]
fn a_disabled_item_waits_in_the_off_list_under_the_same_key() {
    let mut d = doc();
    let r = find(&d, "wan/9.9.9.9", DNS, true).unwrap();
    assert_eq!(
        set(&mut d, &r, DNS, "enable", "false", true).unwrap(),
        "wan/9.9.9.9"
    );
    let r = find(&d, "wan/9.9.9.9", DNS, true).unwrap();
    assert!(!r.enabled);
    assert_eq!(get(&r, Lists::default(), "enable").unwrap(), "false");
    assert_eq!(
        set(&mut d, &r, DNS, "value", "1.0.0.1", true).unwrap(),
        "wan/1.0.0.1"
    );
    // A new row starts disabled: the system never reads an empty item.
    let n = add(&mut d, "wan", DNS, true).unwrap();
    assert!(!n.enabled);
    assert!(set(&mut d, &n, DNS, "enable", "true", true).is_err());
    let text = d.render();
    assert!(
        text.contains("\tlist dns '149.112.112.112'\n\tlist cwmpd_dns_disabled '1.0.0.1'\n\tlist cwmpd_dns_disabled ''\n"),
        "{text}"
    );
    let r = find(&d, "wan/1.0.0.1", DNS, true).unwrap();
    set(&mut d, &r, DNS, "enable", "true", true).unwrap();
    assert!(d
        .render()
        .contains("\tlist dns '149.112.112.112'\n\tlist dns '1.0.0.1'\n"));
    let r = find(&d, "wan/149.112.112.112", on("dns"), true).unwrap();
    assert!(set(&mut d, &r, on("dns"), "enable", "false", true).is_err());
    // Options a section does not have yet become words where the board says so.
    let req = Lists {
        on: "reqopts",
        off: Some("cwmpd_reqopts_disabled"),
        words: true,
        dnsmasq: false,
    };
    let n = add(&mut d, "lan", req, false).unwrap();
    set(&mut d, &n, req, "tag", "33", false).unwrap();
    let n = find(&d, "lan/33", req, false).unwrap();
    set(&mut d, &n, req, "enable", "true", false).unwrap();
    let text = d.render();
    assert!(text.contains("\toption reqopts '33'\n"), "{text}");
    assert!(!text.contains("cwmpd_reqopts_disabled"), "{text}");
    let r = find(&d, "iptv/249", req, false).unwrap();
    assert_eq!(
        set(&mut d, &r, req, "order", "1", false).unwrap(),
        "iptv/249"
    );
    assert!(d.render().contains("option reqopts '249 121'"));
    let r = find(&d, "iptv/249", req, false).unwrap();
    assert!(set(&mut d, &r, req, "order", "3", false).is_err());
}
