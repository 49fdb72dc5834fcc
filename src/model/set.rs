//! SetParameterValues (TR-069 A.3.2.1): every value is checked before any is written, every
//! write is staged, and the handlers commit together (`transaction.rs`): all or nothing.

use std::collections::HashSet;
use std::rc::Rc;

use super::binding::{substitute, Binding, Vars};
use super::error::ModelError;
use super::path::Path;
use super::transaction::OldValue;
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

/// A checked value, ready to stage.
struct Planned {
    node: Rc<ObjectNode>,
    index: usize,
    path: String,
    vars: Rc<Vars>,
    value: String,
}

impl Model {
    /// SetParameterValues (TR-069 A.3.2.1): check everything, then write everything or
    /// nothing — commits included: a handler that fails to commit has the others' commits
    /// undone (`transaction.rs`). The change stays undoable until the caller saves the
    /// device's state ([`Model::confirm`]; [`Model::undo`] if that fails).
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
        // Writes to handlers that cannot roll back are undone by writing the old value
        // back: refused, before anything is written, when it cannot be read.
        let mut olds: Vec<OldValue> = Vec::new();
        let mut bindings: Vec<(Binding, Planned)> = Vec::new();
        let mut faults = Vec::new();
        let mut invalid = Vec::new();
        for mut p in plan {
            // A written reference goes to its `set` binding as the keys of the rows named.
            let b = match p.node.params.get(p.index).map(|x| &x.source) {
                // A binding read in one place and written in another (`set`).
                Some(Source::Bound(b)) => match &b.set {
                    Some(s) => (**s).clone(),
                    None => b.clone(),
                },
                Some(Source::Ref {
                    table,
                    by,
                    set: Some(b),
                    ..
                }) => {
                    let (table, by, b) = (table.clone(), by.clone(), b.clone());
                    match self.keys_of(&table, by.as_deref(), &p.value, &p.path) {
                        Ok(keys) => p.value = keys,
                        Err(e) => {
                            invalid.push((p.path.clone(), e));
                            continue;
                        }
                    }
                    b
                }
                _ => return Err(ModelError::NotWritable(p.path.clone())),
            };
            let b = &b;
            if let Err(e) = self.sibling_vars(b, &mut p) {
                invalid.push((p.path.clone(), e));
                continue;
            }
            let Some(h) = self.registry.get_mut(&b.handler) else {
                return Err(ModelError::Backend {
                    path: p.path.clone(),
                    error: BackendError::BadArgs(format!("no handler {}", b.handler)),
                });
            };
            if !h.transactional() {
                match h.get(&substitute(b, &p.vars, &p.path, None)) {
                    Ok(old) => olds.push(OldValue {
                        binding: b.clone(),
                        vars: p.vars.clone(),
                        path: p.path.clone(),
                        old,
                    }),
                    Err(error) => faults.push(ModelError::Irreversible {
                        path: p.path.clone(),
                        error,
                    }),
                }
            }
            bindings.push((b.clone(), p));
        }
        if !invalid.is_empty() {
            return Err(ModelError::Parameters(invalid));
        }
        if let Some(e) = faults.into_iter().next() {
            return Err(e);
        }
        let before = self.undo_point();
        // Stage every value in request order (a handler that cannot stage writes now).
        let mut touched: Vec<String> = Vec::new();
        let mut written = 0;
        for (b, p) in &bindings {
            let Some(h) = self.registry.get_mut(&b.handler) else {
                continue;
            };
            if !touched.contains(&b.handler) {
                touched.push(b.handler.clone());
            }
            let transactional = h.transactional();
            let set_args = substitute(b, &p.vars, &p.path, Some(&p.value));
            if let Err(error) = h.set(&set_args, &p.value) {
                let done = olds.get(..written).unwrap_or_default().to_vec();
                self.abandon(&touched, &done);
                return Err(match error {
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
            }
            if !transactional {
                written += 1;
            }
        }
        let (pending, committed) = self.transact(&touched, &olds, "SetParameterValues")?;
        let status = u8::from(pending);
        self.finish_change(parameter_key, status);
        self.committed(committed, olds, before);
        Ok(status)
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

    /// `{param:Name}` in a `set` binding: the current value of the parameter `Name` of the
    /// same object, read before anything is written (turning a radio's automatic channel
    /// off keeps the channel iwinfo reports in use: TR-181 AutoChannelEnable).
    fn sibling_vars(&mut self, b: &Binding, p: &mut Planned) -> Result<(), ModelError> {
        fn names(v: &crate::codec::toml::Value, out: &mut Vec<String>) {
            use crate::codec::toml::Value;
            match v {
                Value::String(s) => {
                    let mut rest = s.as_str();
                    while let Some(at) = rest.find("{param:") {
                        rest = &rest[at + 7..];
                        if let Some(end) = rest.find('}') {
                            out.push(rest[..end].to_string());
                        }
                    }
                }
                Value::Table(t) => t.values().for_each(|x| names(x, out)),
                Value::Array(a) => a.iter().for_each(|x| names(x, out)),
                _ => {}
            }
        }
        let mut wanted = Vec::new();
        b.args.values().for_each(|v| names(v, &mut wanted));
        if wanted.is_empty() {
            return Ok(());
        }
        let own = p
            .node
            .params
            .get(p.index)
            .map(|x| x.name.len())
            .unwrap_or(0);
        let object = p.path[..p.path.len().saturating_sub(own)].to_string();
        let mut vars = (*p.vars).clone();
        for name in wanted {
            let index = p
                .node
                .params
                .iter()
                .position(|x| x.name == name)
                .ok_or_else(|| ModelError::InvalidValue {
                    path: p.path.clone(),
                    reason: format!("no parameter {name} beside it"),
                })?;
            // One that cannot be read now stays `{param:Name}`: a binding that needs it
            // refuses the write then (turning auto channel off on a radio that is down),
            // one that does not is unaffected (turning it on).
            let node = p.node.clone();
            match self.read_raw(&node, index, &format!("{object}{name}"), &p.vars) {
                Ok(value) => {
                    vars.insert(format!("param:{name}"), value);
                }
                Err(e) => log::debug!("set: {}: {name} unread: {e}", p.path),
            }
        }
        p.vars = Rc::new(vars);
        Ok(())
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
