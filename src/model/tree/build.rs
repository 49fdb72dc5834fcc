//! Building the supported tree from the schema and the board's bindings: the ancestors of
//! bound objects supported too, each parameter's source (backend, instance variable,
//! reference, NumberOfEntries count), children linked, parameters in data-model order.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::{parent_of, Child, ObjectNode, ParamNode, Source, Tree};
use crate::model::binding::{Bindings, Vars};
use crate::model::error::ModelError;
use crate::model::schema::{Access, Schema};

impl Tree {
    /// Builds the supported tree. The bindings must already be validated against the schema
    /// (`board::validate`).
    pub fn build(schema: &Schema, objects: &Bindings) -> Result<Tree, ModelError> {
        let mut nodes: BTreeMap<String, Box<ObjectNode>> = BTreeMap::new();
        let mut wanted: Vec<String> = objects.keys().cloned().collect();
        // Ancestors of bound objects are supported too (with no parameters of their own).
        for path in objects.keys() {
            let mut p = path.as_str();
            while let Some((parent, _)) = parent_of(p) {
                if !wanted.iter().any(|w| w == parent) {
                    wanted.push(parent.to_string());
                }
                p = parent;
            }
        }
        wanted.sort();
        for path in &wanted {
            let sobj = schema
                .object(path)
                .ok_or_else(|| ModelError::InvalidName(path.clone()))?;
            let bound = objects.get(path);
            let mut params = Vec::new();
            if let Some(b) = bound {
                for sp in &sobj.params {
                    let Some(binding) = b.params.get(&sp.name) else {
                        continue;
                    };
                    let source = match binding.handler.as_str() {
                        "var" => Source::Var(
                            binding
                                .args
                                .get("name")
                                .and_then(|v| v.as_str())
                                .unwrap_or_default()
                                .to_string(),
                        ),
                        "ref" => {
                            let arg = |k: &str| {
                                binding
                                    .args
                                    .get(k)
                                    .and_then(|v| v.as_str())
                                    .map(String::from)
                            };
                            Source::Ref {
                                table: arg("table").unwrap_or_default(),
                                key: arg("key").unwrap_or_default(),
                                parent: arg("parent"),
                                by: arg("by"),
                                set: binding.set.as_deref().cloned(),
                            }
                        }
                        _ => Source::Bound((**binding).clone()),
                    };
                    let writable = binding.write && sp.access != Access::ReadOnly;
                    params.push(ParamNode {
                        name: sp.name.clone(),
                        schema: sp.clone(),
                        source,
                        writable,
                    });
                }
            }
            nodes.insert(
                path.clone(),
                Box::new(ObjectNode {
                    path: path.clone(),
                    instances: bound.and_then(|b| b.instances.clone()),
                    addable: bound
                        .and_then(|b| b.instances.as_ref())
                        .is_some_and(|i| i.add)
                        && sobj.access == Access::ReadWrite,
                    max_entries: sobj.max_entries,
                    params,
                    children: Vec::new(),
                }),
            );
        }
        // Link children and add NumberOfEntries counts for supported tables.
        let paths: Vec<String> = nodes.keys().cloned().collect();
        for path in &paths {
            let Some((parent, name)) = parent_of(path) else {
                continue;
            };
            let table = path.ends_with("{i}.");
            let num_entries = schema.object(path).and_then(|o| o.num_entries.clone());
            let Some(pnode) = nodes.get_mut(parent) else {
                continue;
            };
            pnode.children.push(Child {
                name: name.to_string(),
                schema: path.clone(),
                table,
            });
            if let (true, Some(count)) = (table, num_entries) {
                if let Some(sp) = schema.object(parent).and_then(|o| o.param(&count)) {
                    if !pnode.params.iter().any(|p| p.name == count) {
                        pnode.params.push(ParamNode {
                            name: count,
                            schema: sp.clone(),
                            source: Source::Count(path.clone()),
                            writable: false,
                        });
                    }
                }
            }
        }
        // Keep data-model order for parameters (counts were appended).
        for (path, node) in nodes.iter_mut() {
            if let Some(sobj) = schema.object(path) {
                node.params.sort_by_key(|p| {
                    sobj.params
                        .iter()
                        .position(|sp| sp.name == p.name)
                        .unwrap_or(usize::MAX)
                });
            }
        }
        Ok(Tree {
            nodes: nodes.into_iter().map(|(k, v)| (k, Rc::new(*v))).collect(),
            listings: HashMap::new(),
            stack_rows: None,
            refs: HashMap::new(),
            globals: Rc::new(Vars::new()),
        })
    }
}
