//! The all-or-nothing part of every change (TR-069 A.3.2.1): the handlers a change touched
//! prepare and commit together, a failure anywhere undoes what was committed before it, and
//! a committed change stays undoable until its caller has saved the device's state
//! ([`Model::confirm`], [`Model::undo`]): a change that cannot be saved is not acknowledged,
//! so it must not stay either.
//!
//! A transactional handler undoes its own commit (`rollback`); a write to one that is not is
//! undone by writing the old value back, read before the write (so such a write is refused
//! when its old value cannot be read).

use std::rc::Rc;

use super::binding::{substitute, Binding, Vars};
use super::error::ModelError;
use super::state::ModelState;
use super::Model;

/// A write to a handler that cannot roll back, with the value to write back.
#[derive(Debug, Clone)]
pub(super) struct OldValue {
    pub binding: Binding,
    pub vars: Rc<Vars>,
    pub path: String,
    pub old: String,
}

/// What a committed change needs to be undone.
#[derive(Debug)]
pub(super) struct Undo {
    /// Transactional handlers that committed, oldest first.
    committed: Vec<String>,
    /// Writes to handlers that cannot roll back, oldest first.
    olds: Vec<OldValue>,
    /// The model's state before the change (ParameterKey, instance numbers, attributes).
    state: ModelState,
    pending_apply: bool,
}

impl Model {
    /// The model's state before a change, to undo it with.
    pub(super) fn undo_point(&self) -> (ModelState, bool) {
        (self.state.clone(), self.pending_apply)
    }

    /// Drops what a failed change staged in `touched` and writes `olds` back.
    pub(super) fn abandon(&mut self, touched: &[String], olds: &[OldValue]) {
        for name in touched {
            if let Some(h) = self.registry.get_mut(name) {
                h.abort();
            }
        }
        self.write_back(olds);
    }

    /// Writes old values back, newest first (and commits each handler after).
    fn write_back(&mut self, olds: &[OldValue]) {
        for o in olds.iter().rev() {
            let Some(h) = self.registry.get_mut(&o.binding.handler) else {
                continue;
            };
            let args = substitute(&o.binding, &o.vars, &o.path, Some(&o.old));
            if let Err(e) = h.set(&args, &o.old).and_then(|_| h.commit().map(|_| ())) {
                log::error!("model: cannot put {} back: {e}", o.path);
            }
        }
    }

    /// Prepares, then commits every touched handler in order; on a failure, what was
    /// committed is rolled back and the rest aborted, and the error names `path`. Returns
    /// whether an apply is pending.
    pub(super) fn transact(
        &mut self,
        touched: &[String],
        olds: &[OldValue],
        path: &str,
    ) -> Result<(bool, Vec<String>), ModelError> {
        let failed = |error| ModelError::Backend {
            path: path.to_string(),
            error,
        };
        for name in touched {
            let Some(h) = self.registry.get_mut(name) else {
                continue;
            };
            if let Err(e) = h.prepare() {
                log::warn!("model: {name} cannot prepare the change: {e}");
                self.abandon(touched, olds);
                return Err(failed(e));
            }
        }
        let mut pending = false;
        let mut committed = Vec::new();
        for (k, name) in touched.iter().enumerate() {
            let Some(h) = self.registry.get_mut(name) else {
                continue;
            };
            match h.commit() {
                Ok(p) => {
                    pending |= p;
                    if h.transactional() {
                        committed.push(name.clone());
                    }
                }
                Err(e) => {
                    log::warn!("model: {name} cannot commit the change: {e}; undoing it");
                    self.roll_back(&committed);
                    let rest = touched.get(k..).unwrap_or_default();
                    self.abandon(rest, olds);
                    return Err(failed(e));
                }
            }
        }
        Ok((pending, committed))
    }

    /// Rolls committed transactional handlers back, newest first.
    fn roll_back(&mut self, committed: &[String]) {
        for name in committed.iter().rev() {
            if let Some(h) = self.registry.get_mut(name) {
                if let Err(e) = h.rollback() {
                    log::error!("model: {name} cannot roll back: {e}");
                }
            }
        }
    }

    /// Keeps what undoes the change just committed, until [`Model::confirm`] or
    /// [`Model::undo`].
    pub(super) fn committed(
        &mut self,
        committed: Vec<String>,
        olds: Vec<OldValue>,
        before: (ModelState, bool),
    ) {
        self.last = Some(Undo {
            committed,
            olds,
            state: before.0,
            pending_apply: before.1,
        });
    }

    /// The last change was saved: it can no longer be undone.
    pub fn confirm(&mut self) {
        self.last = None;
    }

    /// Undoes the last change (its state could not be saved, so it is not acknowledged):
    /// handlers roll back, old values are written back, the model's state is as before.
    pub fn undo(&mut self) {
        let Some(u) = self.last.take() else { return };
        self.roll_back(&u.committed);
        self.write_back(&u.olds);
        let key = u.state.parameter_key.clone();
        self.state = u.state;
        self.pending_apply = u.pending_apply;
        self.set_global("parameter_key", &key);
        self.dirty = true;
        self.tree.clear_cache();
    }
}
