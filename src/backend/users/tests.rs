//! Users handler tests against account files in a temporary directory, with stand-in
//! `chpasswd` and `passwd` tools.

use super::files::parse_passwd;
use super::*;
use crate::backend::{Args, BackendError, Handler, Instance};

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup(tag: &str) -> (Dir, Users) {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openwrt");
    let d = std::env::temp_dir().join(format!("cwmpd-users-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for f in ["passwd", "shadow"] {
        std::fs::copy(src.join("etc").join(f), d.join(f)).unwrap();
    }
    let s = |p: PathBuf| toml::Value::String(p.display().to_string());
    let mut t = toml::Table::new();
    t.insert("passwd".into(), s(d.join("passwd")));
    t.insert("shadow".into(), s(d.join("shadow")));
    t.insert(
        "chpasswd".into(),
        toml::Value::Array(vec![s(src.join("bin/chpasswd")), s(d.join("shadow"))]),
    );
    t.insert("shell".into(), toml::Value::String("/bin/ash".into()));
    let h = Users::new(Some(&toml::Value::Table(t))).unwrap();
    (Dir(d), h)
}

fn args(uid: &str, field: &str) -> Args {
    let mut t = toml::Table::new();
    t.insert("uid".into(), toml::Value::String(uid.into()));
    t.insert("field".into(), toml::Value::String(field.into()));
    Args {
        table: t,
        path: String::new(),
    }
}

#[test]
fn lists_login_accounts_by_uid_with_their_lock_state() {
    let (_d, mut h) = setup("list");
    let rows = h.instances(&Args::default()).unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["0", "1000"], "daemons with /bin/false are not users");
    assert_eq!(h.get(&args("0", "username")).unwrap(), "root");
    assert_eq!(h.get(&args("0", "enable")).unwrap(), "true");
    assert_eq!(h.get(&args("1000", "enable")).unwrap(), "false");
    assert_eq!(h.get(&args("0", "password")).unwrap(), "");
}

#[test]
fn writes_rename_unlock_and_set_the_password_through_chpasswd() {
    let (d, mut h) = setup("write");
    h.set(&args("1000", "username"), "operator").unwrap();
    h.set(&args("1000", "password"), "n3w pass").unwrap();
    h.set(&args("1000", "enable"), "true").unwrap();
    assert!(h.set(&args("1000", "username"), "root").is_err(), "taken");
    assert!(h.set(&args("1000", "username"), "-x").is_err());
    assert!(h.set(&args("1000", "password"), "a:b").is_err());
    let before = std::fs::read_to_string(d.0.join("passwd")).unwrap();
    assert!(before.contains("admin:x:1000"), "staged until commit");
    assert!(!h.commit().unwrap());
    let passwd = std::fs::read_to_string(d.0.join("passwd")).unwrap();
    assert!(passwd.contains("operator:x:1000:1000:admin:/home/admin:/bin/ash"));
    let shadow = std::fs::read_to_string(d.0.join("shadow")).unwrap();
    // The stand-in chpasswd writes "$stand-in$<length>" for the hash it was given.
    assert!(shadow.contains("operator:$stand-in$8:"), "{shadow}");
    assert!(
        shadow.contains("root:$1$fixture$"),
        "other hashes untouched"
    );
    assert_eq!(h.get(&args("1000", "enable")).unwrap(), "true");
    h.set(&args("1000", "enable"), "false").unwrap();
    h.commit().unwrap();
    let shadow = std::fs::read_to_string(d.0.join("shadow")).unwrap();
    assert!(shadow.contains("operator:!$stand-in$8:"), "{shadow}");
}

#[test]
fn passwd_is_answered_twice_where_there_is_no_chpasswd() {
    let (d, _) = setup("passwd");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openwrt");
    let s = |p: PathBuf| toml::Value::String(p.display().to_string());
    let mut t = toml::Table::new();
    t.insert("passwd".into(), s(d.0.join("passwd")));
    t.insert("shadow".into(), s(d.0.join("shadow")));
    t.insert(
        "passwd_tool".into(),
        toml::Value::Array(vec![
            s(src.join("bin/passwd")),
            s(d.0.join("shadow")),
            toml::Value::String("{user}".into()),
        ]),
    );
    let mut h = Users::new(Some(&toml::Value::Table(t))).unwrap();
    h.set(&args("0", "password"), "hunter22").unwrap();
    h.commit().unwrap();
    let shadow = std::fs::read_to_string(d.0.join("shadow")).unwrap();
    assert!(shadow.starts_with("root:$stand-in$8:"), "{shadow}");
}

#[test]
fn add_creates_a_locked_account_and_delete_removes_it_but_not_root() {
    let (d, mut h) = setup("add");
    let inst = h.add(&Args::default()).unwrap();
    assert_eq!(inst.key, "1001");
    h.commit().unwrap();
    let passwd = std::fs::read_to_string(d.0.join("passwd")).unwrap();
    assert!(
        passwd.contains("user1001:x:1001:100::/:/bin/ash"),
        "{passwd}"
    );
    assert_eq!(h.get(&args("1001", "enable")).unwrap(), "false");
    h.delete(&Args::default(), &inst).unwrap();
    h.commit().unwrap();
    assert!(!std::fs::read_to_string(d.0.join("passwd"))
        .unwrap()
        .contains("user1001"));
    assert!(!std::fs::read_to_string(d.0.join("shadow"))
        .unwrap()
        .contains("user1001"));
    assert!(h.delete(&Args::default(), &Instance::new("0")).is_err());
}

#[test]
fn aborted_changes_write_nothing() {
    let (d, mut h) = setup("abort");
    let before = std::fs::read_to_string(d.0.join("shadow")).unwrap();
    h.set(&args("0", "password"), "secret").unwrap();
    h.abort();
    h.commit().unwrap();
    assert_eq!(std::fs::read_to_string(d.0.join("shadow")).unwrap(), before);
    assert!(!format!("{:?}", h.staged).contains("secret"));
}

#[test]
fn files_over_the_limit_are_refused() {
    let (d, h) = setup("big");
    std::fs::write(d.0.join("passwd"), vec![b'#'; MAX_FILE as usize + 1]).unwrap();
    assert!(matches!(h.accounts(), Err(BackendError::Limit(_))));
    let many: String = (0..=MAX_ACCOUNTS)
        .map(|n| format!("u{n}:x:{n}:0::/:/bin/sh\n"))
        .collect();
    assert!(matches!(parse_passwd(&many), Err(BackendError::Limit(_))));
}
