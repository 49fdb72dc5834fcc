//! The account files: `/etc/passwd` and `/etc/shadow` read within a size limit, accounts
//! parsed from them, the lock state of a shadow entry, the user names accepted, and the
//! line rewriter every write goes through. No handler state.

use super::{MAX_ACCOUNTS, MAX_FILE, MAX_NAME};
use crate::backend::BackendError;

/// One `/etc/passwd` account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Account {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) shell: String,
}

pub(super) fn read(path: &std::path::Path) -> Result<String, BackendError> {
    crate::backend::file::read_text(path, MAX_FILE)
}

pub(super) fn parse_passwd(text: &str) -> Result<Vec<Account>, BackendError> {
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
pub(super) fn locked(shadow: &str, name: &str) -> Option<bool> {
    shadow.lines().find_map(|l| {
        let (n, rest) = l.split_once(':')?;
        (n == name).then(|| rest.starts_with('!'))
    })
}

pub(super) fn login_shell(shell: &str) -> bool {
    !(shell.is_empty() || shell.ends_with("/false") || shell.ends_with("nologin"))
}

/// A user name `useradd` would take: letters, digits, `_`, `-`, `.`, not starting with `-`.
pub(super) fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= MAX_NAME
        && !n.starts_with('-')
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// Rewrites the lines of an account file: `edit(name, fields)` may change the fields of a
/// line (Some) or drop it (None); `add` lines are appended.
pub(super) fn rewrite(
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
