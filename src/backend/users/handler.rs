//! The [`Handler`] calls of the users handler: argument checks, reads of a name or lock
//! state, staged writes (renames, lock state, passwords, new and removed accounts) and the
//! commit, rollback and abort of a change.

use super::files::{locked, login_shell, parse_passwd, read, valid_name, Account};
use super::{Staged, Users, FIRST_UID, MAX_NAME};
use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

impl Users {
    pub(super) fn accounts(&self) -> Result<Vec<Account>, BackendError> {
        parse_passwd(&read(&self.passwd)?)
    }

    pub(super) fn uid(args: &Args) -> Result<u32, BackendError> {
        args.str("uid")?
            .parse()
            .map_err(|_| BackendError::BadArgs("uid must be a number".into()))
    }

    pub(super) fn account(&self, uid: u32) -> Result<Account, BackendError> {
        self.accounts()?
            .into_iter()
            .find(|a| a.uid == uid)
            .ok_or_else(|| BackendError::NotFound(format!("no account with uid {uid}")))
    }
}

impl Handler for Users {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        match kind {
            BindingKind::Table => match args.keys().next() {
                None => Ok(()),
                Some(k) => Err(ArgsError::unknown(k)),
            },
            _ => {
                for k in args.keys() {
                    if !["uid", "field"].contains(&k.as_str()) {
                        return Err(ArgsError::unknown(k));
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
                    || self.staged.renames().any(|(u, n)| n == value && u != uid);
                if taken {
                    return Err(BackendError::InvalidValue(format!(
                        "user name {value:?} is taken"
                    )));
                }
                self.staged.change(uid).rename = Some(value.to_string());
            }
            "enable" => {
                self.staged.change(uid).enable = Some(value == "true");
            }
            "password" => {
                if value.contains(['\n', '\r', ':']) || value.is_empty() {
                    return Err(BackendError::InvalidValue(
                        "a password cannot be empty or contain ':' or line breaks".into(),
                    ));
                }
                self.staged.change(uid).password = Some(value.to_string());
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
