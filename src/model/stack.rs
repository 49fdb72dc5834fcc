//! InterfaceStack (TR-181 `Device.InterfaceStack.{i}.`): its rows are not stored anywhere,
//! they are derived from every LowerLayers parameter of the tree, once per operation and only
//! when the path being served may reach the table.

use super::error::ModelError;
use super::path::Path;
use super::tree::Entry;
use super::Model;
use crate::backend::Instance;

impl Model {
    /// Computes InterfaceStack rows (TR-181: derived from every LowerLayers parameter) when
    /// the path being served may reach the stack table.
    pub(super) fn ensure_stack(&mut self, path: &Path) -> Result<(), ModelError> {
        if self.tree.stack_rows.is_some() {
            return Ok(());
        }
        let Some(table) = self.tree.stack_table() else {
            return Ok(());
        };
        let text = path.to_string();
        let base = table.trim_end_matches("{i}.");
        let parent = match base.trim_end_matches('.').rfind('.') {
            Some(d) => &base[..=d],
            None => return Ok(()),
        };
        if !(text.starts_with(base.trim_end_matches('.'))
            || text == parent
            || parent.starts_with(&text))
        {
            return Ok(());
        }
        let (at, changed) =
            self.tree
                .resolve(&mut self.registry, &mut self.state, &Path::root())?;
        self.numbered(changed);
        let mut entries = Vec::new();
        let changed = self.tree.walk(
            &mut self.registry,
            &mut self.state,
            &at,
            false,
            &mut entries,
        )?;
        self.numbered(changed);
        let mut rows = Vec::new();
        for e in entries {
            let Entry::Param {
                node,
                index,
                path,
                vars,
            } = e
            else {
                continue;
            };
            if node.params.get(index).map(|p| p.name.as_str()) != Some("LowerLayers") {
                continue;
            }
            let value = self.read(&node, index, &path, &vars);
            let higher = path.trim_end_matches(".LowerLayers");
            for lower in value.split(',').map(str::trim).filter(|l| !l.is_empty()) {
                rows.push(
                    Instance::new(format!("{higher}|{lower}"))
                        .var("higher", higher)
                        .var("lower", lower),
                );
            }
        }
        self.tree.stack_rows = Some(rows);
        Ok(())
    }
}
