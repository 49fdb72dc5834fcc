//! References (TR-181 `LowerLayers`, `Interface`, `SSIDReference`, `DHCPClient` …): a
//! parameter whose value is the path of rows of another table, bound with `ref` to the keys
//! a backend knows them by. Reading turns keys into paths; writing (a `ref` with `set`)
//! checks each path names a row of the table and hands the rows' keys to the `set` binding.
//! The table may be nested (`Device.DHCPv4.Server.Pool.{i}.Client.{i}.`): its rows are those
//! of every enclosing row, and `parent` names the key of the one meant. Each table's rows are
//! indexed once per operation, so N references cost one listing, not N searches.

use std::collections::HashMap;
use std::rc::Rc;

use super::binding::Vars;
use super::error::ModelError;
use super::{substitute_str, Model};

/// One row of a referenced table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Its instance path, without the trailing dot (`Device.IP.Interface.3`).
    pub path: String,
    /// Its key.
    pub key: String,
    /// The key of the row of the enclosing table (nested tables).
    pub parent: Option<String>,
}

/// The rows of one table, looked up by key and by path.
#[derive(Debug, Default)]
pub struct RowIndex {
    rows: Vec<Row>,
    by_key: HashMap<String, Vec<usize>>,
    by_path: HashMap<String, usize>,
}

impl RowIndex {
    fn new(rows: Vec<Row>) -> RowIndex {
        let mut ix = RowIndex::default();
        for (i, r) in rows.iter().enumerate() {
            ix.by_key.entry(r.key.clone()).or_default().push(i);
            ix.by_path.insert(r.path.clone(), i);
        }
        ix.rows = rows;
        ix
    }

    /// The paths of the rows with `key` (under the parent row `parent`, when given).
    fn paths(&self, key: &str, parent: Option<&str>) -> Vec<&str> {
        self.by_key
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.rows.get(i))
            .filter(|r| parent.is_none() || r.parent.as_deref() == parent)
            .map(|r| r.path.as_str())
            .collect()
    }

    /// The row at a path (with or without the trailing dot).
    fn at(&self, path: &str) -> Option<&Row> {
        let p = path.strip_suffix('.').unwrap_or(path);
        self.by_path.get(p).and_then(|&i| self.rows.get(i))
    }
}

impl Model {
    /// Every row of `table` (a schema path ending with `{i}.`), enclosing tables walked.
    pub(super) fn row_index(&mut self, table: &str) -> Result<Rc<RowIndex>, ModelError> {
        if let Some(ix) = self.tree.refs.get(table) {
            return Ok(ix.clone());
        }
        // "Device.A.{i}.B.{i}." → ["Device.A.", "B.", ""]: the names between the levels.
        let parts: Vec<&str> = table.split("{i}.").collect();
        let levels = parts.len().saturating_sub(1);
        let mut frontier: Vec<(String, Rc<Vars>, Option<String>)> =
            vec![(String::new(), self.tree.globals.clone(), None)];
        let mut rows = Vec::new();
        for level in 0..levels {
            let schema: String = parts
                .iter()
                .take(level + 1)
                .map(|p| format!("{p}{{i}}."))
                .collect();
            let node = self
                .tree
                .node(&schema)
                .ok_or_else(|| ModelError::InvalidName(schema.clone()))?;
            let name = parts.get(level).copied().unwrap_or_default();
            let mut next = Vec::new();
            for (parent_path, vars, parent_key) in std::mem::take(&mut frontier) {
                let table_path = format!("{parent_path}{name}");
                let (listed, ch) = self.tree.list(
                    &mut self.registry,
                    &mut self.state,
                    &node,
                    &table_path,
                    &vars,
                )?;
                self.numbered(ch);
                for l in listed.iter() {
                    let path = format!("{table_path}{}", l.number);
                    if level + 1 == levels {
                        rows.push(Row {
                            path,
                            key: l.instance.key.clone(),
                            parent: parent_key.clone(),
                        });
                    } else {
                        next.push((
                            format!("{path}."),
                            l.vars.clone(),
                            Some(l.instance.key.clone()),
                        ));
                    }
                }
            }
            frontier = next;
        }
        let ix = Rc::new(RowIndex::new(rows));
        self.tree.refs.insert(table.to_string(), ix.clone());
        Ok(ix)
    }

    /// The paths of the rows of `table` whose keys are `key` (a comma list), as a comma list.
    pub(super) fn reference(
        &mut self,
        table: &str,
        key: &str,
        parent: Option<&str>,
        vars: &Vars,
    ) -> Result<String, ModelError> {
        let keys = substitute_str(key, vars);
        let parent = parent.map(|p| substitute_str(p, vars));
        let ix = self.row_index(table)?;
        let found: Vec<&str> = keys
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .flat_map(|k| ix.paths(k, parent.as_deref()))
            .collect();
        Ok(found.join(","))
    }

    /// The keys a written reference hands its `set` binding: each path of `value` (a comma
    /// list) must name a row of `table`.
    pub(super) fn keys_of(
        &mut self,
        table: &str,
        value: &str,
        path: &str,
    ) -> Result<String, ModelError> {
        let ix = self.row_index(table)?;
        let mut keys = Vec::new();
        for p in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let row = ix.at(p).ok_or_else(|| ModelError::InvalidValue {
                path: path.to_string(),
                reason: format!("{p} is not a row of {table}"),
            })?;
            keys.push(row.key.clone());
        }
        Ok(keys.join(","))
    }
}
