//! The supported tree: the part of the schema a board binds, and how to walk it.
//!
//! Built once from the schema and the board. Walking a path lists table instances through
//! their backends, numbers them through
//! [`ModelState`](crate::model::state::ModelState), and carries each instance's variables
//! down to nested bindings. Parameter *semantics* (Get/Set/…) live in the model's `get`,
//! `set`, `objects` and `attributes` modules.
//!
//! The node types and the tree's small queries are here; [`build`](Tree::build) is in
//! `build`, listing a table's instances in `list`, resolving and walking paths in `walk`.

mod build;
mod list;
mod walk;

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::backend::{BackendError, Instance, Registry};
use crate::model::binding::{substitute, Binding, Vars, STACK_HANDLER};
use crate::model::schema::Parameter;

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
}
