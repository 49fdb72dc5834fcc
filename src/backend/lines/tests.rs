//! The `lines` handler on temporary copies of resolv.conf- and nsswitch.conf-like files: rows,
//! writes, renames, symbolic links, refused values and limits.

use super::*;

fn args(text: &str) -> Args {
    Args {
        table: toml::from_str(text).unwrap(),
        path: String::new(),
    }
}

/// A file of its own for each test (removed with its directory when dropped).
struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup(text: &str) -> (Dir, String) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("cwmpd-lines-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("resolv.conf");
    std::fs::write(&f, text).unwrap();
    (Dir(d), f.display().to_string())
}

fn keys(h: &mut Lines, f: &str) -> Vec<String> {
    let a = args(&format!(
        "file = {f:?}\nword = \"nameserver\"\ndisabled = \"#\""
    ));
    h.instances(&a)
        .unwrap()
        .into_iter()
        .map(|i| i.key)
        .collect()
}

fn commit(h: &mut Lines) {
    h.prepare().unwrap();
    h.commit().unwrap();
}

#[test]
fn rows_are_the_lines_of_the_word_commented_ones_disabled() {
    let (_d, f) = setup(
        "# generated\nsearch lan\nnameserver 192.0.2.1\n#nameserver 192.0.2.2\nnameserver 192.0.2.1\n",
    );
    let mut h = Lines::default();
    assert_eq!(keys(&mut h, &f), ["192.0.2.1", "192.0.2.2", "192.0.2.1#2"]);
    let a = |k: &str, field: &str| {
        args(&format!(
            "file = {f:?}\nword = \"nameserver\"\ndisabled = \"#\"\nkey = {k:?}\nfield = {field:?}"
        ))
    };
    assert_eq!(h.get(&a("192.0.2.2", "enable")).unwrap(), "false");
    assert_eq!(h.get(&a("192.0.2.1", "enable")).unwrap(), "true");
    assert_eq!(h.get(&a("192.0.2.1#2", "value")).unwrap(), "192.0.2.1");
    assert!(matches!(
        h.get(&a("198.51.100.1", "value")),
        Err(BackendError::NotFound(_))
    ));
}

#[test]
fn writes_rename_enable_add_and_delete_rows_in_place() {
    let (_d, f) = setup("search lan\nnameserver 192.0.2.1\nnameserver 192.0.2.2\n");
    let mut h = Lines::default();
    let base =
        format!("file = {f:?}\nword = \"nameserver\"\ndisabled = \"#\"\nvalue_type = \"ip\"");
    let a = args(&format!("{base}\nkey = \"192.0.2.1\"\nfield = \"value\""));
    h.set(&a, "2001:db8::53").unwrap();
    commit(&mut h);
    assert_eq!(
        h.renamed_key(&a, "2001:db8::53").as_deref(),
        Some("2001:db8::53")
    );
    let e = args(&format!("{base}\nkey = \"192.0.2.2\"\nfield = \"enable\""));
    h.set(&e, "false").unwrap();
    let new = h.add(&args(&base)).unwrap();
    assert_eq!(new.key, "#1");
    let empty = args(&format!("{base}\nkey = \"#1\"\nfield = \"enable\""));
    assert!(matches!(
        h.set(&empty, "true"),
        Err(BackendError::InvalidValue(_))
    ));
    commit(&mut h);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "search lan\nnameserver 2001:db8::53\n#nameserver 192.0.2.2\n#nameserver\n"
    );
    h.delete(&args(&base), &Instance::new("192.0.2.2")).unwrap();
    commit(&mut h);
    h.rollback().unwrap();
    assert!(std::fs::read_to_string(&f).unwrap().contains("192.0.2.2"));
}

#[test]
fn a_symbolic_link_is_followed_and_stays_one() {
    let (d, f) = setup("nameserver 192.0.2.1\n");
    let link = d.0.join("link.conf");
    std::os::unix::fs::symlink(&f, &link).unwrap();
    let mut h = Lines::default();
    let a = args(&format!(
        "file = {:?}\nword = \"nameserver\"\nkey = \"192.0.2.1\"",
        link.display().to_string()
    ));
    h.set(&a, "192.0.2.9").unwrap();
    commit(&mut h);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "nameserver 192.0.2.9\n"
    );
}

#[test]
fn refuses_a_value_that_is_not_an_address() {
    let (_d, f) = setup("nameserver 192.0.2.1\n");
    let mut h = Lines::default();
    let a = args(&format!(
        "file = {f:?}\nword = \"nameserver\"\nvalue_type = \"ip\"\nkey = \"192.0.2.1\""
    ));
    for bad in ["300.1.1.1", "dns.example", "192.0.2.1 x", "192.0.2.1%eth0"] {
        assert!(
            matches!(h.set(&a, bad), Err(BackendError::InvalidValue(_))),
            "{bad}"
        );
    }
    h.set(&a, "fe80::1%eth0").unwrap();
}

#[test]
fn a_word_of_a_line_is_a_switch() {
    let (_d, f) = setup("passwd: files\nhosts: files dns myhostname\n");
    let mut h = Lines::default();
    let a = args(&format!("file = {f:?}\nword = \"hosts:\"\nhas = \"dns\""));
    assert_eq!(h.get(&a).unwrap(), "true");
    h.set(&a, "false").unwrap();
    assert_eq!(h.get(&a).unwrap(), "false");
    commit(&mut h);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "passwd: files\nhosts: files myhostname\n"
    );
    h.set(&a, "true").unwrap();
    commit(&mut h);
    assert_eq!(h.get(&a).unwrap(), "true");
    // No such line, or no such file: the switch is not there.
    let n = args(&format!(
        "file = {f:?}\nword = \"networks:\"\nhas = \"dns\""
    ));
    assert!(matches!(h.get(&n), Err(BackendError::NotFound(_))));
    let m = args("file = \"/nonexistent/nsswitch.conf\"\nword = \"hosts:\"\nhas = \"dns\"");
    assert!(matches!(h.get(&m), Err(BackendError::NotFound(_))));
    assert!(matches!(h.set(&m, "true"), Err(BackendError::NotFound(_))));
}

#[test]
fn a_large_file_is_refused_and_bad_arguments_are_named() {
    let (_d, f) = setup(&"#\n".repeat(40_000));
    let mut h = Lines::default();
    let a = args(&format!("file = {f:?}\nword = \"nameserver\""));
    assert!(matches!(h.instances(&a), Err(BackendError::Limit(_))));
    let t: toml::Table =
        toml::from_str("file = \"x\"\nword = \"w\"\nkey = \"k\"\nfield = \"x\"").unwrap();
    assert!(h.check(BindingKind::ReadWrite, &t).is_err());
    let t: toml::Table = toml::from_str("file = \"x\"").unwrap();
    assert!(h.check(BindingKind::Table, &t).is_err());
}
