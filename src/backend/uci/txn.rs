//! `uci` transaction: changed packages staged beside the old files (`prepare`), renamed
//! into place (`commit`), put back (`rollback`, `abort`), and the board's apply command run
//! once per changed package after the session (`apply`).

use super::{Cached, Uci, APPLY_TIMEOUT};
use crate::backend::{command, BackendError, Handler};

impl Uci {
    /// Writes every changed package beside the old one (`Handler::prepare`).
    pub(super) fn stage(&mut self) -> Result<(), BackendError> {
        // Every changed package is written and synced beside the old one first: a package
        // that cannot be written (a read-only or full /etc/config) fails here, before any
        // file is replaced.
        self.prepared.clear();
        for (pkg, before) in &self.originals {
            let Some(cached) = self.docs.get(pkg) else {
                continue;
            };
            let text = cached.doc.render();
            if text == before.render() {
                continue;
            }
            let path = self.dir.join(pkg);
            match crate::store::stage(&path, text.as_bytes()) {
                Ok(staged) => self.prepared.push((pkg.clone(), staged)),
                Err(e) => {
                    self.prepared.clear();
                    return Err(BackendError::Io(format!("{}: {e}", path.display())));
                }
            }
        }
        Ok(())
    }

    /// Renames the staged packages into place (`Handler::commit`).
    pub(super) fn install(&mut self) -> Result<bool, BackendError> {
        if self.prepared.is_empty() {
            self.prepare()?;
        }
        let mut pending = false;
        let originals = std::mem::take(&mut self.originals);
        self.replaced.clear();
        for (pkg, staged) in std::mem::take(&mut self.prepared) {
            let path = staged.path().to_path_buf();
            if let Err(e) = staged.install() {
                // Put back the packages this commit replaced already, and every document.
                self.originals = originals;
                let _ = self.rollback();
                self.abort();
                return Err(BackendError::Io(format!("{}: {e}", path.display())));
            }
            let stamp = self.stamp(&pkg);
            if let Some(c) = self.docs.get_mut(&pkg) {
                c.stamp = stamp;
            }
            let was_pending = self.pending_apply.contains(&pkg);
            if self.apply_cmds.contains_key(&pkg) {
                self.pending_apply.insert(pkg.clone());
                pending = true;
            }
            if let Some(before) = originals.get(&pkg) {
                self.replaced.push((pkg, (**before).clone(), was_pending));
            }
        }
        Ok(pending)
    }

    /// Puts back the packages the last commit replaced (`Handler::rollback`).
    pub(super) fn restore(&mut self) -> Result<(), BackendError> {
        let mut failed = Vec::new();
        for (pkg, before, was_pending) in std::mem::take(&mut self.replaced).into_iter().rev() {
            let path = self.dir.join(&pkg);
            match crate::store::write_atomic(&path, before.render().as_bytes()) {
                Ok(()) => {
                    let stamp = self.stamp(&pkg);
                    let cached = Box::new(Cached { doc: before, stamp });
                    self.docs.insert(pkg.clone(), cached);
                    if !was_pending {
                        self.pending_apply.remove(&pkg);
                    }
                }
                Err(e) => failed.push(format!("{}: {e}", path.display())),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(BackendError::Io(failed.join("; ")))
        }
    }

    /// Drops the staged changes (`Handler::abort`).
    pub(super) fn discard(&mut self) {
        self.prepared.clear();
        for (pkg, before) in std::mem::take(&mut self.originals) {
            if let Some(c) = self.docs.get_mut(&pkg) {
                c.doc = *before;
            }
        }
    }

    /// Runs the apply command of each changed package (`Handler::apply`).
    pub(super) fn run_apply(&mut self) -> Result<(), BackendError> {
        let mut failed = Vec::new();
        for pkg in std::mem::take(&mut self.pending_apply) {
            let Some(argv) = self.apply_cmds.get(&pkg) else {
                continue;
            };
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            log::info!("uci: applying {pkg}: {}", argv.join(" "));
            if let Err(e) = command::run(&refs, APPLY_TIMEOUT) {
                log::warn!("uci: apply {pkg}: {e}");
                failed.push(format!("{pkg}: {e}"));
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(BackendError::Command(failed.join("; ")))
        }
    }
}
