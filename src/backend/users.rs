//! `users`: the device's login accounts (`Device.Users.User.{i}.`) from `/etc/passwd`, with
//! the lock state from `/etc/shadow`.
//!
//! Only accounts with a login shell are listed (root and people, not daemons such as
//! `dnsmasq` whose shell is `/bin/false` or `nologin`). An instance is keyed by its UID, so a
//! rename keeps its instance number.
//!
//! Writes are staged and carried out at `commit`, in this order: account files (new accounts,
//! renames, removals; `/etc/passwd` and `/etc/shadow` each replaced atomically), then new
//! passwords through the system's own tool (`chpasswd`, reading `user:password` lines, which
//! hashes them as the system is configured to; or `passwd <user>`, answered twice, where the
//! system has no chpasswd, as BusyBox on OpenWrt), then the lock state (`Enable`: a `!` before
//! the hash, as `passwd -l` writes it). A password hash is never kept beyond rewriting its
//! line, and never reported: `Password` is hidden in TR-181 and reads back empty.
//!
//! A new account (AddObject) is created locked, named `user<UID>`, with the next free UID
//! from 1000; the ACS then names it and gives it a password. Root (UID 0) cannot be deleted.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::backend::{command, Args, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

/// Most bytes read from an account file.
pub const MAX_FILE: u64 = 256 * 1024;
/// Most accounts the handler deals with.
pub const MAX_ACCOUNTS: usize = 1024;
/// Longest user name accepted (TR-181 Username is a string(64)).
pub const MAX_NAME: usize = 32;
/// Time `chpasswd` may take.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(10);
/// First UID given to accounts the ACS creates.
pub const FIRST_UID: u32 = 1000;

/// One `/etc/passwd` account.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Account {
    name: String,
    uid: u32,
    shell: String,
}

fn read(path: &std::path::Path) -> Result<String, BackendError> {
    use std::io::Read;
    let f = std::fs::File::open(path)
        .map_err(|e| BackendError::NotFound(format!("{}: {e}", path.display())))?;
    let mut buf = String::new();
    f.take(MAX_FILE + 1)
        .read_to_string(&mut buf)
        .map_err(|e| BackendError::Io(format!("{}: {e}", path.display())))?;
    if buf.len() as u64 > MAX_FILE {
        return Err(BackendError::Limit(format!(
            "{}: larger than {MAX_FILE} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

fn parse_passwd(text: &str) -> Result<Vec<Account>, BackendError> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split(':').collect();
        let (Some(name), Some(uid), Some(shell)) = (f.first(), f.get(2), f.get(6)) else {
            continue;
        };
        let Ok(uid) = uid.parse() else { continue };
        out.push(Account {
            name: name.to_string(),
            uid,
            shell: shell.to_string(),
        });
        if out.len() > MAX_ACCOUNTS {
            return Err(BackendError::Limit(format!(
                "more than {MAX_ACCOUNTS} accounts"
            )));
        }
    }
    Ok(out)
}

/// Whether the shadow entry of `name` is locked (`!` before the hash). Only that first
/// character is looked at; the hash itself is not kept.
fn locked(shadow: &str, name: &str) -> Option<bool> {
    shadow.lines().find_map(|l| {
        let (n, rest) = l.split_once(':')?;
        (n == name).then(|| rest.starts_with('!'))
    })
}

fn login_shell(shell: &str) -> bool {
    !(shell.is_empty() || shell.ends_with("/false") || shell.ends_with("nologin"))
}

/// A user name `useradd` would take: letters, digits, `_`, `-`, `.`, not starting with `-`.
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= MAX_NAME
        && !n.starts_with('-')
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// Rewrites the lines of an account file: `edit(name, fields)` may change the fields of a
/// line (Some) or drop it (None); `add` lines are appended.
fn rewrite(
    text: &str,
    mut edit: impl FnMut(&str, Vec<String>) -> Option<Vec<String>>,
    add: &[String],
) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let fields: Vec<String> = line.split(':').map(String::from).collect();
        let name = fields.first().cloned().unwrap_or_default();
        if line.trim().is_empty() || line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if let Some(f) = edit(&name, fields) {
            out.push_str(&f.join(":"));
            out.push('\n');
        }
    }
    for a in add {
        out.push_str(a);
        out.push('\n');
    }
    out
}

/// Changes staged in the current operation.
#[derive(Default)]
struct Staged {
    /// uid → new name.
    renames: BTreeMap<u32, String>,
    /// uid → enable.
    enable: BTreeMap<u32, bool>,
    /// uid → new password (cleared after use).
    passwords: BTreeMap<u32, String>,
    /// New accounts (uid).
    added: Vec<u32>,
    /// Removed accounts (uid).
    deleted: Vec<u32>,
}

/// The users handler.
pub struct Users {
    passwd: PathBuf,
    shadow: PathBuf,
    chpasswd: Vec<String>,
    /// `passwd` argv with `{user}`, used instead of chpasswd when set.
    passwd_tool: Option<Vec<String>>,
    shell: String,
    gid: u32,
    staged: Staged,
    /// The account files as they were before the last commit, for `rollback` (held only
    /// until the next operation begins; never logged or reported).
    before: Option<(String, String)>,
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Passwords never reach a log line.
        f.debug_struct("Staged")
            .field("renames", &self.renames)
            .field("enable", &self.enable)
            .field("passwords", &self.passwords.len())
            .field("added", &self.added)
            .field("deleted", &self.deleted)
            .finish()
    }
}

impl Users {
    /// A handler for the board's `[handlers.users]`: `passwd`, `shadow` (paths), `chpasswd`
    /// (argv), `shell` and `gid` for new accounts.
    pub fn new(settings: Option<&toml::Value>) -> Result<Users, String> {
        let mut h = Users {
            passwd: PathBuf::from("/etc/passwd"),
            shadow: PathBuf::from("/etc/shadow"),
            chpasswd: vec!["chpasswd".into()],
            passwd_tool: None,
            shell: "/bin/sh".into(),
            gid: 100,
            staged: Staged::default(),
            before: None,
        };
        if let Some(t) = settings {
            let t = t.as_table().ok_or("handlers.users must be a table")?;
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("passwd", toml::Value::String(s)) => h.passwd = PathBuf::from(s),
                    ("shadow", toml::Value::String(s)) => h.shadow = PathBuf::from(s),
                    ("shell", toml::Value::String(s)) => h.shell = s.clone(),
                    ("gid", v @ toml::Value::Integer(_)) => {
                        h.gid = v
                            .as_integer()
                            .and_then(|g| u32::try_from(g).ok())
                            .ok_or("handlers.users.gid must be a group id")?
                    }
                    ("chpasswd" | "passwd_tool", toml::Value::Array(a)) if !a.is_empty() => {
                        let argv: Vec<String> = a
                            .iter()
                            .map(|x| x.as_str().map(String::from))
                            .collect::<Option<_>>()
                            .ok_or(format!("handlers.users.{k} must list strings"))?;
                        if k == "chpasswd" {
                            h.chpasswd = argv;
                        } else {
                            h.passwd_tool = Some(argv);
                        }
                    }
                    _ => return Err(format!("handlers.users.{k}: unknown or of the wrong type")),
                }
            }
        }
        Ok(h)
    }

    fn accounts(&self) -> Result<Vec<Account>, BackendError> {
        parse_passwd(&read(&self.passwd)?)
    }

    fn uid(args: &Args) -> Result<u32, BackendError> {
        args.str("uid")?
            .parse()
            .map_err(|_| BackendError::BadArgs("uid must be a number".into()))
    }

    fn account(&self, uid: u32) -> Result<Account, BackendError> {
        self.accounts()?
            .into_iter()
            .find(|a| a.uid == uid)
            .ok_or_else(|| BackendError::NotFound(format!("no account with uid {uid}")))
    }

    fn days_now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64 / 86_400)
            .unwrap_or(0)
    }

    /// Writes new accounts, renames and removals to both files.
    fn write_accounts(&self, s: &Staged) -> Result<(), BackendError> {
        if s.added.is_empty() && s.renames.is_empty() && s.deleted.is_empty() {
            return Ok(());
        }
        let accounts = self.accounts()?;
        let name_of = |uid: u32| {
            accounts
                .iter()
                .find(|a| a.uid == uid)
                .map(|a| a.name.clone())
        };
        let renamed: BTreeMap<String, String> = s
            .renames
            .iter()
            .filter_map(|(uid, new)| Some((name_of(*uid)?, new.clone())))
            .collect();
        let gone: Vec<String> = s.deleted.iter().filter_map(|u| name_of(*u)).collect();
        let edit = |name: &str, mut f: Vec<String>| {
            if gone.iter().any(|g| g == name) {
                return None;
            }
            if let (Some(new), Some(first)) = (renamed.get(name), f.first_mut()) {
                *first = new.clone();
            }
            Some(f)
        };
        let name_for = |uid: u32| {
            s.renames
                .get(&uid)
                .cloned()
                .unwrap_or_else(|| format!("user{uid}"))
        };
        let new_pw: Vec<String> = s
            .added
            .iter()
            .map(|u| format!("{}:x:{u}:{}::/:{}", name_for(*u), self.gid, self.shell))
            .collect();
        let days = Self::days_now();
        let new_sh: Vec<String> = s
            .added
            .iter()
            .map(|u| format!("{}:!:{days}:0:99999:7:::", name_for(*u)))
            .collect();
        let passwd = rewrite(&read(&self.passwd)?, edit, &new_pw);
        let shadow = rewrite(&read(&self.shadow)?, edit, &new_sh);
        // Shadow first: a crash between the two leaves an account without a password entry
        // (no login) rather than a shadow line for an account that is not there.
        crate::store::write_atomic(&self.shadow, shadow.as_bytes())
            .map_err(|e| BackendError::Io(format!("{}: {e}", self.shadow.display())))?;
        crate::store::write_atomic(&self.passwd, passwd.as_bytes())
            .map_err(|e| BackendError::Io(format!("{}: {e}", self.passwd.display())))
    }

    fn set_passwords(&self, s: &Staged) -> Result<(), BackendError> {
        if s.passwords.is_empty() {
            return Ok(());
        }
        let accounts = self.accounts()?;
        let mut runs: Vec<(Vec<String>, String)> = Vec::new();
        let mut batch = String::new();
        for (uid, pw) in &s.passwords {
            let name = accounts
                .iter()
                .find(|a| a.uid == *uid)
                .map(|a| a.name.as_str())
                .ok_or_else(|| BackendError::NotFound(format!("no account with uid {uid}")))?;
            match &self.passwd_tool {
                // passwd asks for the new password and then again to confirm it.
                Some(argv) => runs.push((
                    argv.iter().map(|a| a.replace("{user}", name)).collect(),
                    format!("{pw}\n{pw}\n"),
                )),
                None => batch.push_str(&format!("{name}:{pw}\n")),
            }
        }
        if !batch.is_empty() {
            runs.push((self.chpasswd.clone(), batch));
        }
        for (argv, input) in runs {
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            let done = command::exec(&refs, Some(input.as_bytes()), TOOL_TIMEOUT, 4096)?;
            if !done.status.success() {
                return Err(BackendError::Command(format!(
                    "{}: {}: {}",
                    argv.join(" "),
                    done.status,
                    done.stderr_text()
                )));
            }
        }
        Ok(())
    }

    fn write_locks(&self, s: &Staged) -> Result<(), BackendError> {
        if s.enable.is_empty() {
            return Ok(());
        }
        let accounts = self.accounts()?;
        let want: BTreeMap<String, bool> = s
            .enable
            .iter()
            .filter_map(|(uid, e)| {
                let a = accounts.iter().find(|a| a.uid == *uid)?;
                Some((a.name.clone(), *e))
            })
            .collect();
        let shadow = rewrite(
            &read(&self.shadow)?,
            |name, mut f| {
                if let (Some(enable), Some(hash)) = (want.get(name), f.get_mut(1)) {
                    let bare = hash.trim_start_matches('!').to_string();
                    *hash = if *enable { bare } else { format!("!{bare}") };
                }
                Some(f)
            },
            &[],
        );
        crate::store::write_atomic(&self.shadow, shadow.as_bytes())
            .map_err(|e| BackendError::Io(format!("{}: {e}", self.shadow.display())))
    }
}

impl Handler for Users {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), String> {
        match kind {
            BindingKind::Table => match args.keys().next() {
                None => Ok(()),
                Some(k) => Err(format!("unknown argument `{k}`")),
            },
            _ => {
                for k in args.keys() {
                    if !["uid", "field"].contains(&k.as_str()) {
                        return Err(format!("unknown argument `{k}`"));
                    }
                }
                if !args.get("uid").is_some_and(|v| v.is_str()) {
                    return Err("`uid` (a string, usually \"{uid}\") is required".into());
                }
                match args.get("field").and_then(|v| v.as_str()) {
                    Some("username" | "enable" | "password") => Ok(()),
                    _ => Err("`field` must be username, enable or password".into()),
                }
            }
        }
    }

    fn begin(&mut self) {
        self.abort();
        self.before = None;
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let uid = Self::uid(args)?;
        match args.str("field")? {
            "username" => Ok(self.account(uid)?.name),
            "enable" => {
                let name = self.account(uid)?.name;
                let shadow = read(&self.shadow)?;
                Ok((!locked(&shadow, &name).unwrap_or(false)).to_string())
            }
            // Never the hash (TR-181: Password is hidden and reads back empty).
            "password" => Ok(String::new()),
            other => Err(BackendError::BadArgs(format!("field {other:?}"))),
        }
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let uid = Self::uid(args)?;
        match args.str("field")? {
            "username" => {
                if !valid_name(value) {
                    return Err(BackendError::InvalidValue(format!(
                        "{value:?} is not a user name (letters, digits, _ - ., at most {MAX_NAME})"
                    )));
                }
                let taken = self
                    .accounts()?
                    .iter()
                    .any(|a| a.name == value && a.uid != uid)
                    || self
                        .staged
                        .renames
                        .iter()
                        .any(|(u, n)| n == value && *u != uid);
                if taken {
                    return Err(BackendError::InvalidValue(format!(
                        "user name {value:?} is taken"
                    )));
                }
                self.staged.renames.insert(uid, value.to_string());
            }
            "enable" => {
                self.staged.enable.insert(uid, value == "true");
            }
            "password" => {
                if value.contains(['\n', '\r', ':']) || value.is_empty() {
                    return Err(BackendError::InvalidValue(
                        "a password cannot be empty or contain ':' or line breaks".into(),
                    ));
                }
                self.staged.passwords.insert(uid, value.to_string());
            }
            other => return Err(BackendError::BadArgs(format!("field {other:?}"))),
        }
        Ok(())
    }

    fn instances(&mut self, _args: &Args) -> Result<Vec<Instance>, BackendError> {
        Ok(self
            .accounts()?
            .into_iter()
            .filter(|a| login_shell(&a.shell))
            .map(|a| {
                Instance::new(a.uid.to_string())
                    .var("uid", a.uid.to_string())
                    .var("username", a.name)
                    // Root cannot be deleted (TR-181 StaticUser).
                    .var("static", (a.uid == 0).to_string())
            })
            .collect())
    }

    fn add(&mut self, _args: &Args) -> Result<Instance, BackendError> {
        let accounts = self.accounts()?;
        let uid = (FIRST_UID..u32::MAX)
            .find(|u| !accounts.iter().any(|a| a.uid == *u) && !self.staged.added.contains(u))
            .ok_or_else(|| BackendError::Limit("no free uid".into()))?;
        self.staged.added.push(uid);
        Ok(Instance::new(uid.to_string())
            .var("uid", uid.to_string())
            .var("username", format!("user{uid}"))
            .var("static", "false"))
    }

    fn delete(&mut self, _args: &Args, instance: &Instance) -> Result<(), BackendError> {
        let uid: u32 = instance
            .key
            .parse()
            .map_err(|_| BackendError::NotFound(instance.key.clone()))?;
        if uid == 0 {
            return Err(BackendError::InvalidValue("root cannot be deleted".into()));
        }
        self.staged.deleted.push(uid);
        Ok(())
    }

    fn commit(&mut self) -> Result<bool, BackendError> {
        let s = std::mem::take(&mut self.staged);
        // The files before, so that a commit that fails half-way, or one the device's state
        // cannot be saved after, is undone whole (passwords included).
        let before = (read(&self.passwd)?, read(&self.shadow)?);
        let result = self
            .write_accounts(&s)
            .and_then(|_| self.set_passwords(&s))
            .and_then(|_| self.write_locks(&s));
        self.before = Some(before);
        if let Err(e) = result {
            let _ = self.rollback();
            return Err(e);
        }
        Ok(false)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        let Some((passwd, shadow)) = self.before.take() else {
            return Ok(());
        };
        for (path, text) in [(&self.passwd, passwd), (&self.shadow, shadow)] {
            crate::store::write_atomic(path, text.as_bytes())
                .map_err(|e| BackendError::Io(format!("{}: {e}", path.display())))?;
        }
        Ok(())
    }

    fn transactional(&self) -> bool {
        true
    }

    fn abort(&mut self) {
        self.staged = Staged::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
