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
//!
//! The handler is split by concern: `files` reads and rewrites the account files,
//! `handler` answers the [`Handler`](crate::backend::Handler) calls and stages writes,
//! `commit` carries a staged change out.

mod commit;
mod files;
mod handler;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::backend::ArgsError;
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

/// What the ACS changed of one existing account in the current operation.
#[derive(Default)]
struct Change {
    /// A new name.
    rename: Option<String>,
    /// Enable.
    enable: Option<bool>,
    /// A new password (dropped with the staged change after use).
    password: Option<String>,
}

/// Changes staged in the current operation.
#[derive(Default)]
struct Staged {
    /// uid → what changed (one map of boxed records: one map type for three kinds of
    /// change).
    changes: BTreeMap<u32, Box<Change>>,
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
            .field("changes", &self.changes.len())
            .field("passwords", &self.passwords().count())
            .field("added", &self.added)
            .field("deleted", &self.deleted)
            .finish()
    }
}

impl Staged {
    /// The change of account `uid`, made on first use.
    fn change(&mut self, uid: u32) -> &mut Change {
        self.changes.entry(uid).or_default()
    }

    /// uid → new name.
    fn renames(&self) -> impl Iterator<Item = (u32, &str)> {
        self.changes
            .iter()
            .filter_map(|(u, c)| Some((*u, c.rename.as_deref()?)))
    }

    /// uid → enable.
    fn enables(&self) -> impl Iterator<Item = (u32, bool)> + '_ {
        self.changes
            .iter()
            .filter_map(|(u, c)| Some((*u, c.enable?)))
    }

    /// uid → new password.
    fn passwords(&self) -> impl Iterator<Item = (u32, &str)> {
        self.changes
            .iter()
            .filter_map(|(u, c)| Some((*u, c.password.as_deref()?)))
    }
}

impl Users {
    /// A handler for the board's `[handlers.users]`: `passwd`, `shadow` (paths), `chpasswd`
    /// (argv), `shell` and `gid` for new accounts.
    pub fn new(settings: Option<&toml::Value>) -> Result<Users, ArgsError> {
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
            let t = t
                .as_table()
                .ok_or(ArgsError::Settings("handlers.users must be a table".into()))?;
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("passwd", toml::Value::String(s)) => h.passwd = PathBuf::from(s),
                    ("shadow", toml::Value::String(s)) => h.shadow = PathBuf::from(s),
                    ("shell", toml::Value::String(s)) => h.shell = s.clone(),
                    ("gid", v @ toml::Value::Integer(_)) => {
                        h.gid = v.as_integer().and_then(|g| u32::try_from(g).ok()).ok_or(
                            ArgsError::Settings("handlers.users.gid must be a group id".into()),
                        )?
                    }
                    ("chpasswd" | "passwd_tool", toml::Value::Array(a)) if !a.is_empty() => {
                        let argv: Vec<String> = a
                            .iter()
                            .map(|x| x.as_str().map(String::from))
                            .collect::<Option<_>>()
                            .ok_or(ArgsError::Settings(format!(
                                "handlers.users.{k} must list strings"
                            )))?;
                        if k == "chpasswd" {
                            h.chpasswd = argv;
                        } else {
                            h.passwd_tool = Some(argv);
                        }
                    }
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.users.{k}: unknown or of the wrong type"
                        )))
                    }
                }
            }
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests;
