//! The UCI document: byte-identical round trips, sections and quoting read, one-line edits,
//! options, lists and sections added and removed, malformed input named by its line.

use super::*;

const NET: &str = "# comment\n\nconfig interface 'loopback'\n\toption device 'lo'\n\toption proto 'static'\n\nconfig device\n\toption name 'br-lan'\n\toption type 'bridge'\n\tlist ports 'lan1'\n\tlist ports 'lan2'\n\nconfig interface 'lan'\n\toption device 'br-lan'\n\toption proto 'static'\n\toption ipaddr '192.168.1.1'   # the router\n";

#[test]
fn round_trip_is_byte_identical() {
    let d = Doc::parse(NET).unwrap();
    assert_eq!(d.render(), NET);
    let no_nl = NET.trim_end();
    assert_eq!(Doc::parse(no_nl).unwrap().render(), no_nl);
}

#[test]
fn reads_named_and_anonymous_sections() {
    let d = Doc::parse(NET).unwrap();
    let s = d.sections();
    assert_eq!(s.len(), 3);
    assert!(!s[1].named);
    assert_eq!(d.resolve("@device[0]").unwrap().id, s[1].id);
    assert_eq!(d.resolve("@interface[-1]").unwrap().id, "lan");
    assert_eq!(d.resolve("@interface[1]").unwrap().id, "lan");
    assert!(d.resolve("@interface[2]").is_none());
    assert_eq!(d.option("lan", "ipaddr").as_deref(), Some("192.168.1.1"));
    assert_eq!(d.list(&s[1].id, "ports"), ["lan1", "lan2"]);
    assert_eq!(d.option("lan", "gateway"), None);
}

#[test]
fn quoting() {
    assert_eq!(
        words("option x 'it'\\''s'").unwrap(),
        ["option", "x", "it's"]
    );
    assert_eq!(
        words("option x \"a \\\"b\\\" c\"").unwrap(),
        ["option", "x", "a \"b\" c"]
    );
    assert_eq!(words("option x a\\ b # c").unwrap(), ["option", "x", "a b"]);
    assert_eq!(words("option x 'a#b'").unwrap(), ["option", "x", "a#b"]);
    assert_eq!(words("option x ''").unwrap(), ["option", "x", ""]);
    assert!(words("option x 'open").is_none());
    assert_eq!(quote("it's"), "'it'\\''s'");
    let mut d = Doc::parse("config a 'b'\n").unwrap();
    d.set_option("b", "k", "it's \"x\"");
    let again = Doc::parse(&d.render()).unwrap();
    assert_eq!(again.option("b", "k").as_deref(), Some("it's \"x\""));
}

#[test]
fn changing_one_option_rewrites_one_line() {
    let mut d = Doc::parse(NET).unwrap();
    assert!(d.set_option("lan", "ipaddr", "10.0.0.1"));
    let out = d.render();
    let diff: Vec<(&str, &str)> = NET
        .lines()
        .zip(out.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        diff,
        [(
            "\toption ipaddr '192.168.1.1'   # the router",
            "\toption ipaddr '10.0.0.1'"
        )]
    );
    assert_eq!(NET.lines().count(), out.lines().count());
    // Setting the same value changes nothing, not even the comment.
    let mut same = Doc::parse(NET).unwrap();
    same.set_option("lan", "ipaddr", "192.168.1.1");
    assert_eq!(same.render(), NET);
}

#[test]
fn add_and_remove_options_lists_and_sections() {
    let mut d = Doc::parse(NET).unwrap();
    d.set_option("lan", "netmask", "255.255.255.0");
    assert!(d.render().ends_with("\toption netmask '255.255.255.0'\n"));
    let dev = d.resolve("@device[0]").unwrap().id;
    d.set_list(&dev, "ports", &["lan3".into()]);
    assert_eq!(d.list(&dev, "ports"), ["lan3"]);
    assert!(d
        .render()
        .contains("\tlist ports 'lan3'\n\nconfig interface 'lan'"));
    assert!(d.delete_option("lan", "netmask"));
    assert!(!d.delete_option("lan", "netmask"));
    let id = d.add_section("interface", Some("guest")).unwrap();
    d.set_option(&id, "proto", "static");
    assert_eq!(d.resolve("@interface[-1]").unwrap().id, "guest");
    assert!(d
        .render()
        .ends_with("\nconfig interface 'guest'\n\toption proto 'static'\n"));
    assert!(
        d.add_section("interface", Some("guest")).is_none(),
        "duplicate name"
    );
    let anon = d.add_section("rule", None).unwrap();
    assert!(d.resolve(&anon).is_some());
    assert!(d.delete_section(&anon));
    assert!(d.delete_section("guest"));
    assert!(d.delete_section(&dev));
    let out = d.render();
    assert!(!out.contains("br-lan'\n\toption type"));
    assert!(out.starts_with("# comment\n\nconfig interface 'loopback'"));
    assert!(Doc::parse(&out).is_ok());
}

#[test]
fn malformed_input_names_the_line() {
    for (text, line) in [
        ("config\n", 1),
        ("option x 'y'\n", 1),
        ("config a\n\toption x 'unterminated\n", 2),
        ("config a\nfrobnicate x\n", 2),
        ("config a\n\toption x y z\n", 2),
        ("config a 'b c'\n", 1),
    ] {
        assert_eq!(Doc::parse(text).unwrap_err().line, line, "{text:?}");
    }
    let big = "#".repeat(MAX_FILE_BYTES + 1);
    assert!(Doc::parse(&big).is_err());
    let many = "config a\n".repeat(MAX_SECTIONS + 1);
    assert!(Doc::parse(&many).unwrap_err().message.contains("sections"));
    let opts = format!("config a\n{}", "\toption x 'y'\n".repeat(MAX_OPTIONS + 1));
    assert!(
        opts.len() <= MAX_FILE_BYTES,
        "the options test must not hit the size limit"
    );
    let e = Doc::parse(&opts).unwrap_err();
    assert!(e.message.contains("options"), "{e}");
    assert_eq!(e.line, MAX_OPTIONS + 2);
}

#[test]
fn anonymous_ids_stay_unique_past_256_sections() {
    let text = "config rule\n\toption name 'r'\n".repeat(300);
    let d = Doc::parse(&text).unwrap();
    let ids: Vec<String> = d.sections().into_iter().map(|s| s.id).collect();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 300);
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(&d.resolve(id).unwrap().id, id);
        assert_eq!(&d.resolve(&format!("@rule[{n}]")).unwrap().id, id);
    }
    assert_eq!(&d.resolve("@rule[-1]").unwrap().id, &ids[299]);
}
