//! Carrying a staged change out, in order: new accounts, renames and removals written to
//! both account files (each replaced atomically), new passwords through `chpasswd` or
//! `passwd`, then the lock state in `/etc/shadow`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::files::{read, rewrite};
use super::{Staged, Users, TOOL_TIMEOUT};
use crate::backend::{command, BackendError};

impl Users {
    fn days_now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64 / 86_400)
            .unwrap_or(0)
    }

    /// Writes new accounts, renames and removals to both files.
    pub(super) fn write_accounts(&self, s: &Staged) -> Result<(), BackendError> {
        if s.added.is_empty() && s.renames().next().is_none() && s.deleted.is_empty() {
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
            .renames()
            .filter_map(|(uid, new)| Some((name_of(uid)?, new.to_string())))
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
            s.changes
                .get(&uid)
                .and_then(|c| c.rename.clone())
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

    pub(super) fn set_passwords(&self, s: &Staged) -> Result<(), BackendError> {
        if s.passwords().next().is_none() {
            return Ok(());
        }
        let accounts = self.accounts()?;
        let mut runs: Vec<(Vec<String>, String)> = Vec::new();
        let mut batch = String::new();
        for (uid, pw) in s.passwords() {
            let name = accounts
                .iter()
                .find(|a| a.uid == uid)
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

    pub(super) fn write_locks(&self, s: &Staged) -> Result<(), BackendError> {
        if s.enables().next().is_none() {
            return Ok(());
        }
        let accounts = self.accounts()?;
        let want: BTreeMap<String, bool> = s
            .enables()
            .filter_map(|(uid, e)| {
                let a = accounts.iter().find(|a| a.uid == uid)?;
                Some((a.name.clone(), e))
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
