//! Words of UCI options as rows and values, and a package file's modification time.
//!
//! A table with `each = "<option>"` has one row per word of that option in each section (a
//! zone's `network`s, a redirect's `proto 'tcp udp'`): the key is the section's name when the
//! option holds one word (or none), `<section>.<n>` (its place, from 1) otherwise, and the
//! variable `each` is the word; `each_default` gives the words of a section without the option
//! (a fw4 redirect without `proto` forwards `tcp udp`). A value read with `word = "{each}"` is
//! that word when the option still holds it; written, a UCI list gets the value in that word's
//! place, a plain option the value alone (`Uci::set`).
//!
//! `mtime = true` with only a `package` reads when the package's file last changed (TR-181
//! `Firewall.LastChange`: fw4 is configured by `/etc/config/firewall` alone).

use std::path::Path;
use std::time::SystemTime;

use crate::backend::{BackendError, Instance};

/// The words of `option` among a section's options (lists joined with spaces), or of
/// `default` where the section has no such option.
pub(super) fn of(opts: &[(String, String)], option: &str, default: &str) -> Vec<String> {
    let v = opts
        .iter()
        .find(|(n, _)| n == option)
        .map_or(default, |(_, v)| v.as_str());
    v.split_whitespace().map(String::from).collect()
}

/// The rows of one section: one per word, each with its word as `each`.
pub(super) fn rows(inst: Instance, section: &str, words: &[String], out: &mut Vec<Instance>) {
    match words {
        [] => out.push(inst.var("each", "")),
        [w] => out.push(inst.var("each", w.clone())),
        many => {
            for (n, w) in many.iter().enumerate() {
                let mut row = inst.clone().var("each", w.clone());
                row.key = format!("{section}.{}", n + 1);
                out.push(row);
            }
        }
    }
}

/// `raw` itself, or with a `word` the one word of it (not found when it no longer holds it;
/// `what` names the option).
pub(super) fn pick(
    raw: String,
    word: Option<&str>,
    what: impl Fn() -> String,
) -> Result<String, BackendError> {
    match word {
        Some(w) if !w.is_empty() => match raw.split_whitespace().find(|x| *x == w) {
            Some(w) => Ok(w.to_string()),
            None => Err(BackendError::NotFound(format!("{} {w}", what()))),
        },
        _ => Ok(raw),
    }
}

/// When the file at `path` was last modified (dateTime, UTC).
pub(super) fn mtime(path: &Path) -> Result<String, BackendError> {
    let t = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| BackendError::NotFound(format!("{}: {e}", path.display())))?;
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    };
    Ok(crate::codec::datetime::format_utc(secs))
}
