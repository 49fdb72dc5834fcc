//! The supported tree: the part of the schema a board binds, and how to walk it.
//!
//! Built once from the schema and the board. Walking a path lists table instances through
//! their backends, numbers them through [`ModelState`], and carries each instance's variables
//! down to nested bindings. Parameter *semantics* (Get/Set/…) live in `model::ops`.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::backend::{BackendError, Instance, Registry};
use crate::model::binding::{substitute, Binding, Bindings, Vars, STACK_HANDLER};
use crate::model::error::ModelError;
use crate::model::path::{Path, Segment};
use crate::model::schema::{Access, Parameter, Schema};
use crate::model::state::{ModelState, Numbered};

/// Where a parameter's value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A backend binding.
    Bound(Binding),
    /// An instance variable (`handler = "var"`).
    Var(String),
    /// A reference to the rows of a table (nested ones too) with the given keys (a comma
    /// list; `parent`: the key of the enclosing row), written through `set` with the keys of
    /// the rows the ACS names.
    Ref {
        table: String,
        key: String,
        parent: Option<String>,
        /// The rows' variable the keys are matched with instead of their instance keys.
        by: Option<String>,
        set: Option<Binding>,
    },
    /// The number of instances of a child table (`…NumberOfEntries`).
    Count(String),
}

/// A supported parameter.
#[derive(Debug, Clone)]
pub struct ParamNode {
    /// Name within its object.
    pub name: String,
    /// Its schema facts.
    pub schema: Parameter,
    /// Where the value comes from.
    pub source: Source,
    /// The ACS may write it (schema and board agree).
    pub writable: bool,
}

/// A child object of a supported object.
#[derive(Debug, Clone)]
pub struct Child {
    /// Name (`Interface`).
    pub name: String,
    /// Schema path of the child (`Device.IP.Interface.{i}.` for a table).
    pub schema: String,
    /// It is a table.
    pub table: bool,
}

/// A supported object.
#[derive(Debug, Clone)]
pub struct ObjectNode {
    /// Schema path.
    pub path: String,
    /// Instance source, for a table.
    pub instances: Option<Binding>,
    /// The ACS may add/delete instances.
    pub addable: bool,
    /// Maximum number of instances from the schema.
    pub max_entries: Option<u32>,
    /// Parameters in data-model order.
    pub params: Vec<ParamNode>,
    /// Child objects.
    pub children: Vec<Child>,
}

/// One listed instance of a table.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Instance number.
    pub number: u32,
    /// What the backend said.
    pub instance: Instance,
    /// Variables for everything below it.
    pub vars: Rc<Vars>,
}

/// A path resolved against the live tree.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// An object (or one instance of a table): its schema path, instance path and vars.
    Object {
        node: Rc<ObjectNode>,
        path: String,
        vars: Rc<Vars>,
    },
    /// A table itself (`Device.IP.Interface.`): the node of its instances.
    Table {
        node: Rc<ObjectNode>,
        path: String,
        vars: Rc<Vars>,
    },
    /// A parameter.
    Param {
        node: Rc<ObjectNode>,
        index: usize,
        path: String,
        vars: Rc<Vars>,
    },
}

/// An entry met while walking.
#[derive(Debug, Clone)]
pub enum Entry {
    /// An object or table path (ending with a dot) and whether it is writable.
    Object { path: String, writable: bool },
    /// A parameter.
    Param {
        node: Rc<ObjectNode>,
        index: usize,
        path: String,
        vars: Rc<Vars>,
    },
}

/// Whether a parameter exists in this instance: always, but for an `optional` binding whose
/// backend does not have the value here (TR-181 leaves such parameters out of the instance).
pub fn present(reg: &mut Registry, p: &ParamNode, path: &str, vars: &Vars) -> bool {
    let Source::Bound(b) = &p.source else {
        return true;
    };
    if !b.optional {
        return true;
    }
    let args = substitute(b, vars, path, None);
    // A value outside the parameter's type is no value of it either (Linux's "-1" for an
    // unlimited count, where TR-181 has an unsignedInt).
    match reg.get_mut(&b.handler).map(|h| h.get(&args)) {
        Some(Err(BackendError::NotFound(_))) | None => false,
        Some(Ok(v)) => {
            let v = super::normalize(p.schema.syntax.base, v);
            crate::model::value::check(&p.schema.syntax, None, &v).is_ok()
        }
        Some(Err(_)) => true,
    }
}

/// The supported tree plus per-operation caches.
pub struct Tree {
    nodes: BTreeMap<String, Rc<ObjectNode>>,
    listings: HashMap<String, Rc<Vec<Listed>>>,
    /// Rows of a `stack` table (InterfaceStack), computed by the model from LowerLayers.
    pub stack_rows: Option<Vec<Instance>>,
    /// Every row of a referenced table, by schema path (what `ref` bindings resolve
    /// against), built once per operation.
    pub refs: HashMap<String, Rc<crate::model::refs::RowIndex>>,
    /// Variables visible everywhere (configuration values, the ParameterKey …).
    pub globals: Rc<Vars>,
}

fn parent_of(path: &str) -> Option<(&str, &str)> {
    // "Device.IP.Interface.{i}." → ("Device.IP.", "Interface"); "Device.IP." → ("Device.", "IP")
    let trimmed = path.strip_suffix("{i}.").unwrap_or(path);
    let body = trimmed.strip_suffix('.')?;
    let dot = body.rfind('.')?;
    Some((&body[..=dot], &body[dot + 1..]))
}

impl Tree {
    /// Builds the supported tree. The bindings must already be validated against the schema
    /// (`board::validate`).
    pub fn build(schema: &Schema, objects: &Bindings) -> Result<Tree, ModelError> {
        let mut nodes: BTreeMap<String, ObjectNode> = BTreeMap::new();
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
                        _ => Source::Bound(binding.clone()),
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
                ObjectNode {
                    path: path.clone(),
                    instances: bound.and_then(|b| b.instances.clone()),
                    addable: bound
                        .and_then(|b| b.instances.as_ref())
                        .is_some_and(|i| i.add)
                        && sobj.access == Access::ReadWrite,
                    max_entries: sobj.max_entries,
                    params,
                    children: Vec::new(),
                },
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
            nodes: nodes.into_iter().map(|(k, v)| (k, Rc::new(v))).collect(),
            listings: HashMap::new(),
            stack_rows: None,
            refs: HashMap::new(),
            globals: Rc::new(Vars::new()),
        })
    }

    /// Forgets cached instance listings (start of an operation, or after Add/Delete).
    pub fn clear_cache(&mut self) {
        self.listings.clear();
        self.stack_rows = None;
        self.refs.clear();
    }

    /// The schema path of a table fed by the `stack` source, if the board has one.
    pub fn stack_table(&self) -> Option<String> {
        self.nodes
            .values()
            .find(|n| {
                n.instances
                    .as_ref()
                    .is_some_and(|b| b.handler == STACK_HANDLER)
            })
            .map(|n| n.path.clone())
    }

    /// The supported node at a schema path.
    pub fn node(&self, schema_path: &str) -> Option<Rc<ObjectNode>> {
        self.nodes.get(schema_path).cloned()
    }

    /// Instance paths of forced-inform parameters in single-instance objects.
    pub fn forced_inform(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (path, node) in &self.nodes {
            if path.contains("{i}") {
                continue;
            }
            for p in node.params.iter().filter(|p| p.schema.forced_inform) {
                out.push(format!("{path}{}", p.name));
            }
        }
        out
    }

    /// Number of supported objects and parameters (schema level).
    pub fn counts(&self) -> (usize, usize) {
        (
            self.nodes.len(),
            self.nodes.values().map(|n| n.params.len()).sum(),
        )
    }

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

    /// Resolves an instance path against the live tree. Returns the resolution and whether
    /// instance numbering changed on the way.
    pub fn resolve(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        path: &Path,
    ) -> Result<(Resolved, Numbered), ModelError> {
        let text = path.to_string();
        let bad = || ModelError::InvalidName(text.clone());
        let segs = path.segments();
        if segs.first() != Some(&Segment::Name("Device".into())) {
            return Err(bad());
        }
        let mut node = self.node("Device.").ok_or_else(bad)?;
        let mut cur = String::from("Device.");
        let mut vars: Rc<Vars> = self.globals.clone();
        let mut changed = Numbered::Same;
        // Set while positioned on a table (after its name, before its instance number).
        let mut in_table: Option<Rc<ObjectNode>> = None;
        let last = segs.len() - 1;
        for (i, seg) in segs.iter().enumerate().skip(1) {
            match (seg, in_table.take()) {
                (Segment::Instance(n), Some(table)) => {
                    let (listed, ch) = self.list(reg, state, &table, &cur, &vars)?;
                    changed = changed.max(ch);
                    let found = listed.iter().find(|l| l.number == *n).ok_or_else(bad)?;
                    vars = found.vars.clone();
                    cur.push_str(&format!("{n}."));
                    node = table;
                }
                (Segment::Name(name), None) => {
                    if let Some(child) = node.children.iter().find(|c| &c.name == name) {
                        let child_node = self.node(&child.schema).ok_or_else(bad)?;
                        cur.push_str(name);
                        cur.push('.');
                        if child.table {
                            in_table = Some(child_node);
                        } else {
                            node = child_node;
                        }
                    } else if let Some(index) = node.params.iter().position(|p| &p.name == name) {
                        if i != last || path.is_partial() {
                            return Err(bad());
                        }
                        if !node
                            .params
                            .get(index)
                            .is_some_and(|p| present(reg, p, &text, &vars))
                        {
                            return Err(bad());
                        }
                        return Ok((
                            Resolved::Param {
                                node,
                                index,
                                path: text,
                                vars,
                            },
                            changed,
                        ));
                    } else {
                        return Err(bad());
                    }
                }
                _ => return Err(bad()),
            }
        }
        if !path.is_partial() {
            return Err(bad());
        }
        match in_table {
            Some(table) => Ok((
                Resolved::Table {
                    node: table,
                    path: cur,
                    vars,
                },
                changed,
            )),
            None => Ok((
                Resolved::Object {
                    node,
                    path: cur,
                    vars,
                },
                changed,
            )),
        }
    }

    /// Walks everything below a resolved position, depth first, in data-model order.
    /// With `next_level`, only the immediate children are emitted.
    pub fn walk(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        at: &Resolved,
        next_level: bool,
        out: &mut Vec<Entry>,
    ) -> Result<Numbered, ModelError> {
        match at {
            Resolved::Param {
                node,
                index,
                path,
                vars,
            } => {
                out.push(Entry::Param {
                    node: node.clone(),
                    index: *index,
                    path: path.clone(),
                    vars: vars.clone(),
                });
                Ok(Numbered::Same)
            }
            Resolved::Object { node, path, vars } => self.walk_object(
                reg,
                state,
                node.clone(),
                path,
                vars.clone(),
                next_level,
                out,
            ),
            Resolved::Table { node, path, vars } => {
                self.walk_table(reg, state, node.clone(), path, vars, next_level, out)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_table(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        node: Rc<ObjectNode>,
        path: &str,
        vars: &Vars,
        next_level: bool,
        out: &mut Vec<Entry>,
    ) -> Result<Numbered, ModelError> {
        let (listed, mut changed) = self.list(reg, state, &node, path, vars)?;
        for l in listed.iter() {
            let ipath = format!("{path}{}.", l.number);
            out.push(Entry::Object {
                path: ipath.clone(),
                writable: node.addable,
            });
            if !next_level {
                let c =
                    self.walk_object(reg, state, node.clone(), &ipath, l.vars.clone(), false, out)?;
                changed = changed.max(c);
            }
        }
        Ok(changed)
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_object(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        node: Rc<ObjectNode>,
        path: &str,
        vars: Rc<Vars>,
        next_level: bool,
        out: &mut Vec<Entry>,
    ) -> Result<Numbered, ModelError> {
        let mut changed = Numbered::Same;
        for (index, p) in node.params.iter().enumerate() {
            let ppath = format!("{path}{}", p.name);
            if !present(reg, p, &ppath, &vars) {
                continue;
            }
            out.push(Entry::Param {
                node: node.clone(),
                index,
                path: ppath,
                vars: vars.clone(),
            });
        }
        for child in &node.children {
            let cpath = format!("{path}{}.", child.name);
            let Some(cnode) = self.node(&child.schema) else {
                continue;
            };
            out.push(Entry::Object {
                path: cpath.clone(),
                writable: child.table && cnode.addable,
            });
            if next_level {
                continue;
            }
            if child.table {
                // A table whose backend fails is reported empty rather than failing the walk.
                match self.walk_table(reg, state, cnode, &cpath, &vars, false, out) {
                    Ok(c) => changed = changed.max(c),
                    Err(e) => log::warn!("{e}"),
                }
            } else {
                let c = self.walk_object(reg, state, cnode, &cpath, vars.clone(), false, out)?;
                changed = changed.max(c);
            }
        }
        Ok(changed)
    }
}
