//! Listing a table's instances: asked of its backend (or the InterfaceStack rows the model
//! computed), numbered by key or through [`ModelState`], each carrying the variables of
//! everything below it; cached for the rest of the operation.

use std::rc::Rc;

use super::{Listed, ObjectNode, Tree};
use crate::backend::{BackendError, Instance, Registry};
use crate::model::binding::{substitute, Vars, STACK_HANDLER};
use crate::model::error::ModelError;
use crate::model::state::{ModelState, Numbered};

impl Tree {
    /// Lists the instances of a table at an instance path (`Device.IP.Interface.`).
    pub fn list(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        node: &ObjectNode,
        table_path: &str,
        vars: &Vars,
    ) -> Result<(Rc<Vec<Listed>>, Numbered), ModelError> {
        if let Some(l) = self.listings.get(table_path) {
            return Ok((l.clone(), Numbered::Same));
        }
        let b = node
            .instances
            .as_ref()
            .ok_or_else(|| ModelError::InvalidName(table_path.to_string()))?;
        let instances = if b.handler == STACK_HANDLER {
            match &self.stack_rows {
                Some(rows) => rows.clone(),
                // Not computed yet (the model is computing it right now): empty, not cached.
                None => return Ok((Rc::new(Vec::new()), Numbered::Same)),
            }
        } else {
            let args = substitute(b, vars, table_path, None);
            let handler = reg.get_mut(&b.handler).ok_or_else(|| ModelError::Backend {
                path: table_path.to_string(),
                error: BackendError::BadArgs(format!("no handler {}", b.handler)),
            })?;
            handler
                .instances(&args)
                .map_err(|error| ModelError::Backend {
                    path: table_path.to_string(),
                    error,
                })?
        };
        let keys: Vec<&str> = instances.iter().map(|i| i.key.as_str()).collect();
        let (numbered, changed) = if b.numbered {
            // Numbered by key: 1 … n again after every run, nothing to remember.
            let mut n: Vec<(u32, usize)> = keys
                .iter()
                .enumerate()
                .filter_map(|(idx, k)| k.parse::<u32>().ok().filter(|n| *n > 0).map(|n| (n, idx)))
                .collect();
            n.sort_unstable();
            n.dedup_by_key(|e| e.0);
            (n, Numbered::Same)
        } else {
            state.number(table_path, &keys)
        };
        // Every row sees the enclosing variables through one shared level, and keeps the
        // backend's instance itself (each index comes once), not a copy of it.
        let outer = Rc::new(vars.clone());
        let mut instances: Vec<Option<Instance>> = instances.into_iter().map(Some).collect();
        let listed: Vec<Listed> = numbered
            .into_iter()
            .filter_map(|(number, idx)| {
                let inst = instances.get_mut(idx)?.take()?;
                let mut v = Vars::inside(&outer);
                v.extend(inst.vars.iter().map(|(k, x)| (k.clone(), x.clone())));
                v.insert("i".into(), number.to_string());
                v.insert("key".into(), inst.key.clone());
                Some(Listed {
                    number,
                    instance: inst,
                    vars: Rc::new(v),
                })
            })
            .collect();
        let rc = Rc::new(listed);
        self.listings.insert(table_path.to_string(), rc.clone());
        Ok((rc, changed))
    }
}
