//! AddObject and DeleteObject (TR-069 A.3.2.6, A.3.2.7): the table's backend stages the new
//! or removed instance and commits it as one transaction (`transaction.rs`; a board may only
//! let the ACS add to tables whose handler can roll back); the model numbers instances so a
//! number is never reused.

use super::error::ModelError;
use super::path::Segment;
use super::tree::Resolved;
use super::{binding::substitute, parse_path, Model};
use crate::backend::Instance;

impl Model {
    /// AddObject on a table path (`Device.X.Table.`): returns (instance number, status).
    pub fn add_object(&mut self, path: &str, parameter_key: &str) -> Result<(u32, u8), ModelError> {
        self.begin();
        let parsed = parse_path(path, false)?;
        if !parsed.is_partial() {
            return Err(ModelError::InvalidName(path.to_string()));
        }
        let Resolved::Table {
            node,
            path: table_path,
            vars,
        } = self.resolve(&parsed)?
        else {
            return Err(ModelError::InvalidName(path.to_string()));
        };
        if !node.addable {
            return Err(ModelError::RequestDenied(format!(
                "{table_path} does not accept AddObject"
            )));
        }
        let (listed, _) = self.tree.list(
            &mut self.registry,
            &mut self.state,
            &node,
            &table_path,
            &vars,
        )?;
        if node.max_entries.is_some_and(|m| listed.len() >= m as usize) {
            return Err(ModelError::ResourcesExceeded(format!(
                "{table_path} is full"
            )));
        }
        let b = node
            .instances
            .clone()
            .ok_or_else(|| ModelError::InvalidName(path.to_string()))?;
        let args = substitute(&b, &vars, &table_path, None);
        let before = self.undo_point();
        let h = self
            .registry
            .get_mut(&b.handler)
            .ok_or_else(|| ModelError::InvalidName(path.to_string()))?;
        let inst = h.add(&args).map_err(|error| {
            h.abort();
            ModelError::Backend {
                path: table_path.clone(),
                error,
            }
        })?;
        let touched = [b.handler.clone()];
        let (pending, committed) = self.transact(&touched, &[], &table_path)?;
        let mut keys: Vec<&str> = listed.iter().map(|l| l.instance.key.as_str()).collect();
        keys.push(inst.key.as_str());
        let (numbered, _) = self.state.number(&table_path, &keys);
        let number = numbered
            .iter()
            .find(|(_, idx)| *idx == keys.len() - 1)
            .map(|(n, _)| *n)
            .ok_or_else(|| {
                ModelError::ResourcesExceeded(format!("{table_path}: no instance number left"))
            })?;
        self.dirty = true;
        let status = u8::from(pending);
        self.finish_change(parameter_key, status);
        self.committed(committed, Vec::new(), before);
        Ok((number, status))
    }

    /// DeleteObject on an instance path (`Device.X.Table.3.`): returns the status.
    pub fn delete_object(&mut self, path: &str, parameter_key: &str) -> Result<u8, ModelError> {
        self.begin();
        let parsed = parse_path(path, false)?;
        let last_is_instance = matches!(parsed.segments().last(), Some(Segment::Instance(_)));
        if !parsed.is_partial() || !last_is_instance {
            return Err(ModelError::InvalidName(path.to_string()));
        }
        let Resolved::Object {
            node,
            path: inst_path,
            vars,
        } = self.resolve(&parsed)?
        else {
            return Err(ModelError::InvalidName(path.to_string()));
        };
        if !node.addable {
            return Err(ModelError::RequestDenied(format!(
                "{inst_path} cannot be deleted"
            )));
        }
        let b = node
            .instances
            .clone()
            .ok_or_else(|| ModelError::InvalidName(path.to_string()))?;
        let key = vars.get("key").cloned().unwrap_or_default();
        let table_path = parsed.parent().map(|p| p.to_string()).unwrap_or_default();
        let args = substitute(&b, &vars, &table_path, None);
        let instance = Instance {
            key: key.clone(),
            vars: vars.flatten(),
        };
        let before = self.undo_point();
        let h = self
            .registry
            .get_mut(&b.handler)
            .ok_or_else(|| ModelError::InvalidName(path.to_string()))?;
        if let Err(error) = h.delete(&args, &instance) {
            h.abort();
            return Err(ModelError::Backend {
                path: inst_path.clone(),
                error,
            });
        }
        let touched = [b.handler.clone()];
        let (pending, committed) = self.transact(&touched, &[], &inst_path)?;
        self.state.forget(&table_path, &key);
        self.state.forget_below(&inst_path);
        self.dirty = true;
        let status = u8::from(pending);
        self.finish_change(parameter_key, status);
        self.committed(committed, Vec::new(), before);
        Ok(status)
    }
}
