//! The TR-181 model: schema, paths, typed values, bindings, instances, attributes and the
//! parameter semantics of every RPC (TR-069 A.3.2), independent of SOAP. It touches no OS:
//! values come from backends through the `backend::Handler` trait, bound by the plain
//! [`binding`] types that `board/` reads (the model never imports `board/`).
//!
//! [`Model`] is the entry point; each RPC family has a file of its own: [`get`] (values,
//! names), [`set`] (the all-or-nothing SetParameterValues), [`attributes`], [`objects`]
//! (AddObject, DeleteObject); `stack` derives InterfaceStack. Every public operation is one
//! operation for the backends: caches are dropped when it starts, so values are read fresh,
//! and kept while it runs.

pub mod attributes;
pub mod binding;
pub mod error;
pub mod get;
pub mod load;
pub mod objects;
pub mod path;
pub mod pattern;
pub mod refs;
pub mod schema;
pub mod set;
mod stack;
pub mod state;
#[cfg(test)]
mod tests;
mod transaction;
pub mod tree;
pub mod value;

use crate::backend::{BackendError, Registry};
use binding::{substitute, Binding, Bindings, Vars};
use error::ModelError;
use path::Path;
use schema::{BaseType, Schema};
use state::ModelState;
use tree::{Entry, ObjectNode, Resolved, Source, Tree};

pub use attributes::{AttributeChange, ParamAttributes};
pub use get::{ParamInfo, ParamValue};
pub use set::SetItem;

/// Most parameters one GetParameterValues/Names/Attributes may return (9004 beyond).
pub const MAX_RESULTS: usize = 100_000;
/// Most parameters in one SetParameterValues or SetParameterAttributes.
pub const MAX_SET_ITEMS: usize = 4096;

/// The model: supported tree, backends and durable state.
pub struct Model {
    tree: Tree,
    registry: Registry,
    state: ModelState,
    dirty: bool,
    /// Numbering changed below the reserved numbers: saved with the next write.
    unsaved: bool,
    pending_apply: bool,
    /// Backend read failures in the last operation (reported, value defaulted).
    pub read_errors: Vec<String>,
    /// What undoes the last change until it is saved.
    last: Option<transaction::Undo>,
}

/// The `xsi:type` local name of a supported parameter's values (lists travel as strings).
fn xsd_type(node: &ObjectNode, index: usize) -> &'static str {
    node.params
        .get(index)
        .map(|p| {
            if p.schema.syntax.list.is_some() {
                BaseType::String.xsd_local()
            } else {
                p.schema.syntax.base.xsd_local()
            }
        })
        .unwrap_or(BaseType::String.xsd_local())
}

/// A path as the ACS sent it; an empty one means `Device.` where `allow_empty` says so.
fn parse_path(text: &str, allow_empty: bool) -> Result<Path, ModelError> {
    if allow_empty && text.is_empty() {
        return Ok(Path::root());
    }
    Path::parse(text).map_err(|_| ModelError::InvalidName(text.to_string()))
}

impl Model {
    /// Builds the model from a schema, validated bindings, handlers and the saved state.
    pub fn new(
        schema: &Schema,
        bindings: &Bindings,
        registry: Registry,
        state: ModelState,
    ) -> Result<Model, ModelError> {
        let mut m = Model {
            tree: Tree::build(schema, bindings)?,
            registry,
            state,
            dirty: false,
            unsaved: false,
            pending_apply: false,
            read_errors: Vec::new(),
            last: None,
        };
        let key = m.state.parameter_key.clone();
        m.set_global("parameter_key", &key);
        Ok(m)
    }

    /// Sets a variable visible to every binding (`{name}`): configuration values, the
    /// ConnectionRequestURL the agent derived, the ParameterKey.
    pub fn set_global(&mut self, name: &str, value: &str) {
        if self.tree.globals.get(name).map(String::as_str) != Some(value) {
            std::rc::Rc::make_mut(&mut self.tree.globals)
                .insert(name.to_string(), value.to_string());
            self.tree.clear_cache();
        }
    }

    /// Paths of every supported parameter the data model marks forcedInform (TR-069 A.3.3.1),
    /// outside tables.
    pub fn forced_inform(&self) -> Vec<String> {
        self.tree.forced_inform()
    }

    /// Supported objects and parameters (schema level).
    pub fn supported_counts(&self) -> (usize, usize) {
        self.tree.counts()
    }

    /// The durable state.
    pub fn state(&self) -> &ModelState {
        &self.state
    }

    /// Forgets instance numbers, attributes and the ParameterKey (a factory reset).
    pub fn reset_state(&mut self) {
        self.state = ModelState::default();
        self.set_global("parameter_key", "");
        self.dirty = true;
        self.last = None;
    }

    /// True when the state changed since it was last saved and must be saved now.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// True when the state holds anything not saved yet, even what may wait for the next
    /// write (new table rows below the reserved numbers: [`state::Numbered::Keys`]).
    pub fn unsaved(&self) -> bool {
        self.dirty || self.unsaved
    }

    /// The state was saved.
    pub fn mark_saved(&mut self) {
        self.dirty = false;
        self.unsaved = false;
    }

    /// Notes what numbering changed.
    pub(crate) fn numbered(&mut self, changed: state::Numbered) {
        match changed {
            state::Numbered::Same => {}
            state::Numbered::Keys => self.unsaved = true,
            state::Numbered::Reserve => self.dirty = true,
        }
    }

    /// Starts an operation: caches are dropped so values are read fresh. Every public
    /// operation calls it first; within one, listings and backend reads are cached.
    fn begin(&mut self) {
        self.tree.clear_cache();
        self.read_errors.clear();
        for (_, h) in self.registry.iter_mut() {
            h.begin();
        }
    }

    /// Runs pending apply actions of all handlers (after the CWMP session).
    pub fn apply(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        if std::mem::take(&mut self.pending_apply) {
            for (name, h) in self.registry.iter_mut() {
                if let Err(e) = h.apply() {
                    errors.push(format!("{name}: {e}"));
                }
            }
        }
        errors
    }

    /// True when a Set/Add/Delete left apply work for after the session.
    pub fn apply_pending(&self) -> bool {
        self.pending_apply
    }

    /// Resolves a path against the live tree (computing InterfaceStack first when the path
    /// may reach it).
    fn resolve(&mut self, path: &Path) -> Result<Resolved, ModelError> {
        self.ensure_stack(path)?;
        let (r, changed) = self
            .tree
            .resolve(&mut self.registry, &mut self.state, path)?;
        self.numbered(changed);
        Ok(r)
    }

    /// Everything below a resolved position (bounded by [`MAX_RESULTS`]).
    fn walk(&mut self, at: &Resolved, next_level: bool) -> Result<Vec<Entry>, ModelError> {
        let mut out = Vec::new();
        let changed = self.tree.walk(
            &mut self.registry,
            &mut self.state,
            at,
            next_level,
            &mut out,
        )?;
        self.numbered(changed);
        if out.len() > MAX_RESULTS {
            return Err(ModelError::ResourcesExceeded(format!(
                "more than {MAX_RESULTS} entries"
            )));
        }
        Ok(out)
    }

    /// Reads one parameter; a backend failure is logged and the type's default returned.
    fn read(&mut self, node: &ObjectNode, index: usize, path: &str, vars: &Vars) -> String {
        match self.read_strict(node, index, path, vars) {
            Ok(v) => v,
            Err(e) => {
                log::warn!("{e}");
                self.read_errors.push(e.to_string());
                node.params
                    .get(index)
                    .map(|p| value::fallback(&p.schema.syntax))
                    .unwrap_or("")
                    .to_string()
            }
        }
    }

    /// Reads one parameter as the ACS may see it: hidden ones read back empty.
    fn read_strict(
        &mut self,
        node: &ObjectNode,
        index: usize,
        path: &str,
        vars: &Vars,
    ) -> Result<String, ModelError> {
        if node
            .params
            .get(index)
            .is_some_and(|p| p.schema.syntax.hidden)
        {
            // TR-069 A.3.2.2: passwords and keys read back as an empty string.
            return Ok(String::new());
        }
        self.read_raw(node, index, path, vars)
    }

    /// The value fixed for a parameter ([`Model::fix`]), if any.
    pub fn fixed(&self, path: &str) -> Option<&str> {
        self.state.fixed.get(path).map(String::as_str)
    }

    /// Fixes a parameter's value for the life of the device (kept in the state): reads give
    /// it from now on, whatever its binding would read (the DeviceId must never change).
    pub fn fix(&mut self, path: &str, value: &str) {
        if self.state.fixed.get(path).map(String::as_str) != Some(value) {
            self.state.fixed.insert(path.to_string(), value.to_string());
            self.dirty = true;
        }
    }

    /// Reads one parameter's value from where it lives (or where it was fixed).
    fn read_raw(
        &mut self,
        node: &ObjectNode,
        index: usize,
        path: &str,
        vars: &Vars,
    ) -> Result<String, ModelError> {
        let p = node
            .params
            .get(index)
            .ok_or_else(|| ModelError::InvalidName(path.to_string()))?;
        if let Some(v) = self.state.fixed.get(path) {
            return Ok(v.clone());
        }
        let raw = match &p.source {
            Source::Bound(b) => {
                let args = substitute(b, vars, path, None);
                let h = self
                    .registry
                    .get_mut(&b.handler)
                    .ok_or_else(|| ModelError::Backend {
                        path: path.to_string(),
                        error: BackendError::BadArgs(format!("no handler {}", b.handler)),
                    })?;
                h.get(&args).map_err(|error| ModelError::Backend {
                    path: path.to_string(),
                    error,
                })?
            }
            Source::Var(name) => vars.get(name).cloned().ok_or_else(|| ModelError::Backend {
                path: path.to_string(),
                error: BackendError::NotFound(format!("variable {name}")),
            })?,
            Source::Ref {
                table, key, parent, ..
            } => self.reference(table, key, parent.as_deref(), vars)?,
            Source::Count(child) => {
                let node = self
                    .tree
                    .node(child)
                    .ok_or_else(|| ModelError::InvalidName(child.clone()))?;
                let name = child
                    .trim_end_matches("{i}.")
                    .trim_end_matches('.')
                    .rsplit('.')
                    .next()
                    .unwrap_or_default();
                let parent = &path[..path.len() - p.name.len()];
                let table_path = format!("{parent}{name}.");
                let (listed, ch) = self.tree.list(
                    &mut self.registry,
                    &mut self.state,
                    &node,
                    &table_path,
                    vars,
                )?;
                self.numbered(ch);
                listed.len().to_string()
            }
        };
        let v = normalize(p.schema.syntax.base, raw);
        value::conform(&p.schema.syntax, v).map_err(|e| ModelError::Backend {
            path: path.to_string(),
            error: BackendError::InvalidValue(format!("read a value outside its type ({e})")),
        })
    }

    /// Current values of these parameters, in one operation; a path that names nothing
    /// supported, or whose backend fails, gives `None` (the agent reads its own settings and
    /// the Inform's DeviceId this way: a missing one falls back rather than failing all).
    pub fn lookup(&mut self, paths: &[&str]) -> Vec<Option<String>> {
        self.begin();
        paths
            .iter()
            .map(|text| {
                let path = Path::parse(text).ok()?;
                match self.resolve(&path).ok()? {
                    Resolved::Param {
                        node,
                        index,
                        path,
                        vars,
                    } => self.read_strict(&node, index, &path, &vars).ok(),
                    _ => None,
                }
            })
            .collect()
    }

    /// The real value of a hidden parameter (a password or key), which every RPC reads back
    /// empty (TR-069 A.3.2.2): for the agent to authenticate with the credentials the ACS
    /// set. `None` when the path names no supported parameter or its backend fails.
    pub fn secret(&mut self, path: &str) -> Option<String> {
        self.begin();
        let parsed = Path::parse(path).ok()?;
        let Resolved::Param {
            node,
            index,
            path,
            vars,
        } = self.resolve(&parsed).ok()?
        else {
            return None;
        };
        self.read_raw(&node, index, &path, &vars).ok()
    }
}

/// Backends may answer booleans as 1/0; the wire wants true/false.
fn normalize(base: BaseType, raw: String) -> String {
    if base == BaseType::Boolean {
        match raw.trim() {
            "1" | "true" | "TRUE" | "True" | "yes" | "on" | "up" => return "true".into(),
            "0" | "false" | "FALSE" | "False" | "no" | "off" | "down" | "" => {
                return "false".into()
            }
            _ => {}
        }
    }
    raw
}

/// Substitutes `{var}` in one string (a `ref` binding's key).
fn substitute_str(s: &str, vars: &Vars) -> String {
    let b = Binding::of("", [("k".to_string(), s.into())].into_iter().collect());
    substitute(&b, vars, "", None)
        .table
        .get("k")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}
