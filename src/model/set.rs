//! SetParameterValues (TR-069 A.3.2.1): every value is checked before any is written, and the
//! Set is all or nothing — a failed write undoes those made before it.

use std::collections::HashSet;
use std::rc::Rc;

use super::binding::{substitute, Binding, Vars};
use super::error::ModelError;
use super::path::Path;
use super::tree::{ObjectNode, Resolved, Source};
use super::{value, Model, MAX_SET_ITEMS};
use crate::backend::BackendError;

/// One value to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetItem {
    /// Full instance path.
    pub name: String,
    /// New value, lexical form.
    pub value: String,
    /// The `xsi:type` local name the ACS sent, if any.
    pub xsd_type: Option<String>,
}

/// A write already made during a Set, kept so it can be undone.
struct Done {
    binding: Binding,
    vars: Rc<Vars>,
    path: String,
    old: Option<String>,
}

impl Model {
    /// SetParameterValues: validate everything, then write everything or nothing.
    /// Returns the Status (0 applied, 1 applied after the session).
    pub fn set_values(&mut self, items: &[SetItem], parameter_key: &str) -> Result<u8, ModelError> {
        self.begin();
        if items.len() > MAX_SET_ITEMS {
            return Err(ModelError::ResourcesExceeded(format!(
                "more than {MAX_SET_ITEMS} parameters"
            )));
        }
        // TR-069 A.3.2.1: the same parameter twice is an invalid-arguments fault.
        let mut seen = HashSet::new();
        for it in items {
            if !seen.insert(it.name.as_str()) {
                return Err(ModelError::InvalidArguments(format!(
                    "{} appears more than once",
                    it.name
                )));
            }
        }
        struct Planned {
            node: Rc<ObjectNode>,
            index: usize,
            path: String,
            vars: Rc<Vars>,
            value: String,
        }
        let mut plan = Vec::new();
        let mut faults = Vec::new();
        for it in items {
            match self.plan_set(it) {
                Ok((node, index, vars, value)) => plan.push(Planned {
                    node,
                    index,
                    path: it.name.clone(),
                    vars,
                    value,
                }),
                Err(e) => faults.push((it.name.clone(), e)),
            }
        }
        if !faults.is_empty() {
            return Err(ModelError::Parameters(faults));
        }
        // Apply in request order; on a failure undo what was done, newest first.
        let mut done: Vec<Done> = Vec::new();
        let mut touched: Vec<String> = Vec::new();
        let mut failure = None;
        for p in &plan {
            let Some(Source::Bound(b)) = p.node.params.get(p.index).map(|x| &x.source) else {
                failure = Some(ModelError::NotWritable(p.path.clone()));
                break;
            };
            let get_args = substitute(b, &p.vars, &p.path, None);
            let set_args = substitute(b, &p.vars, &p.path, Some(&p.value));
            let Some(h) = self.registry.get_mut(&b.handler) else {
                failure = Some(ModelError::Backend {
                    path: p.path.clone(),
                    error: BackendError::BadArgs("no handler".into()),
                });
                break;
            };
            let old = h.get(&get_args).ok();
            if !touched.contains(&b.handler) {
                touched.push(b.handler.clone());
            }
            match h.set(&set_args, &p.value) {
                Ok(()) => done.push(Done {
                    binding: b.clone(),
                    vars: p.vars.clone(),
                    path: p.path.clone(),
                    old,
                }),
                Err(error) => {
                    failure = Some(match error {
                        BackendError::InvalidValue(reason) => ModelError::Parameters(vec![(
                            p.path.clone(),
                            ModelError::InvalidValue {
                                path: p.path.clone(),
                                reason,
                            },
                        )]),
                        error => ModelError::Backend {
                            path: p.path.clone(),
                            error,
                        },
                    });
                    break;
                }
            }
        }
        if failure.is_none() {
            let mut status = 0;
            for name in &touched {
                if let Some(h) = self.registry.get_mut(name) {
                    match h.commit() {
                        Ok(pending) => {
                            if pending {
                                status = 1;
                            }
                        }
                        Err(error) => {
                            failure = Some(ModelError::Backend {
                                path: name.clone(),
                                error,
                            });
                            break;
                        }
                    }
                }
            }
            if failure.is_none() {
                self.finish_change(parameter_key, status);
                return Ok(status);
            }
        }
        self.rollback(done, &touched);
        Err(failure.unwrap_or_else(|| ModelError::InvalidArguments("set failed".into())))
    }

    fn rollback(&mut self, done: Vec<Done>, touched: &[String]) {
        for d in done.into_iter().rev() {
            let Some(old) = d.old else {
                log::warn!("rollback: {} had no readable old value", d.path);
                continue;
            };
            let Some(h) = self.registry.get_mut(&d.binding.handler) else {
                continue;
            };
            let args = substitute(&d.binding, &d.vars, &d.path, Some(&old));
            if let Err(e) = h.set(&args, &old) {
                log::error!("rollback of {} failed: {e}", d.path);
            }
        }
        for name in touched {
            if let Some(h) = self.registry.get_mut(name) {
                h.abort();
            }
        }
    }

    pub(super) fn finish_change(&mut self, parameter_key: &str, status: u8) {
        if self.state.parameter_key != parameter_key {
            self.state.parameter_key = parameter_key.to_string();
            self.dirty = true;
        }
        self.set_global("parameter_key", parameter_key);
        if status == 1 {
            self.pending_apply = true;
        }
        self.tree.clear_cache();
    }

    fn plan_set(
        &mut self,
        it: &SetItem,
    ) -> Result<(Rc<ObjectNode>, usize, Rc<Vars>, String), ModelError> {
        let path = Path::parse(&it.name).map_err(|_| ModelError::InvalidName(it.name.clone()))?;
        if path.is_partial() {
            return Err(ModelError::InvalidName(it.name.clone()));
        }
        let Resolved::Param {
            node, index, vars, ..
        } = self.resolve(&path)?
        else {
            return Err(ModelError::InvalidName(it.name.clone()));
        };
        let p = node
            .params
            .get(index)
            .ok_or_else(|| ModelError::InvalidName(it.name.clone()))?;
        if !p.writable {
            return Err(ModelError::NotWritable(it.name.clone()));
        }
        let canonical = value::check(&p.schema.syntax, it.xsd_type.as_deref(), &it.value).map_err(
            |e| match e {
                value::ValueError::Type { .. } => ModelError::InvalidType {
                    path: it.name.clone(),
                    reason: e.to_string(),
                },
                _ => ModelError::InvalidValue {
                    path: it.name.clone(),
                    reason: e.to_string(),
                },
            },
        )?;
        Ok((node.clone(), index, vars, canonical))
    }
}
