//! Parameter semantics of every model RPC, independent of SOAP: GetParameterNames,
//! GetParameterValues, SetParameterValues (all or nothing, with rollback),
//! Get/SetParameterAttributes, AddObject and DeleteObject (TR-069 A.3.2).
//!
//! The protocol layer translates typed requests into these calls and their results (or
//! [`ModelError`]s, mapped to faults in `fault.rs`) into responses.

use std::collections::{BTreeSet, HashSet};
use std::rc::Rc;

use crate::backend::{BackendError, Instance, Registry};
use crate::board::Binding;
use crate::board::Board;
use crate::model::error::ModelError;
use crate::model::path::Path;
use crate::model::schema::{BaseType, NotifyPolicy, Schema};
use crate::model::state::{Attributes, ModelState};
use crate::model::tree::{substitute, Entry, ObjectNode, Resolved, Source, Tree, Vars};
use crate::model::value;

/// Most parameters one GetParameterValues/Names/Attributes may return (9004 beyond).
pub const MAX_RESULTS: usize = 100_000;
/// Most parameters in one SetParameterValues or SetParameterAttributes.
pub const MAX_SET_ITEMS: usize = 4096;

/// One value in a GetParameterValues answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamValue {
    /// Full instance path.
    pub name: String,
    /// Lexical value (empty for hidden parameters).
    pub value: String,
    /// Its XSD type (`xsd:unsignedInt`).
    pub xsd_type: &'static str,
}

/// One entry of a GetParameterNames answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamInfo {
    /// Path (objects end with a dot).
    pub name: String,
    /// Writable by the ACS.
    pub writable: bool,
}

/// One entry of a GetParameterAttributes answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamAttributes {
    /// Full instance path.
    pub name: String,
    /// 0 off, 1 passive, 2 active.
    pub notification: u8,
    /// AccessList.
    pub access_list: Vec<String>,
}

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

/// One SetParameterAttributesStruct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeChange {
    /// Full or partial path.
    pub name: String,
    /// New notification, when NotificationChange is true.
    pub notification: Option<u8>,
    /// New access list, when AccessListChange is true.
    pub access_list: Option<Vec<String>>,
}

/// A write already made during a Set, kept so it can be undone.
struct Done {
    binding: Binding,
    vars: Rc<Vars>,
    path: String,
    old: Option<String>,
}

/// The model: supported tree, backends and durable state.
pub struct Model {
    tree: Tree,
    registry: Registry,
    state: ModelState,
    dirty: bool,
    pending_apply: bool,
    /// Backend read failures in the last operation (reported, value defaulted).
    pub read_errors: Vec<String>,
}

fn default_notification(policy: NotifyPolicy) -> u8 {
    match policy {
        NotifyPolicy::ForceEnabled | NotifyPolicy::ForceDefaultEnabled => 2,
        NotifyPolicy::Normal | NotifyPolicy::CanDeny => 0,
    }
}

fn xsd_type(node: &ObjectNode, index: usize) -> &'static str {
    node.params
        .get(index)
        .map(|p| {
            if p.schema.syntax.list.is_some() {
                "xsd:string"
            } else {
                p.schema.syntax.base.xsd_name()
            }
        })
        .unwrap_or("xsd:string")
}

fn parse_path(text: &str, allow_empty: bool) -> Result<Path, ModelError> {
    if allow_empty && text.is_empty() {
        return Path::parse("Device.").map_err(|_| ModelError::InvalidName(String::new()));
    }
    Path::parse(text).map_err(|_| ModelError::InvalidName(text.to_string()))
}

impl Model {
    /// Builds the model from a schema, a validated board, handlers and the saved state.
    pub fn new(
        schema: &Schema,
        board: &Board,
        registry: Registry,
        state: ModelState,
    ) -> Result<Model, ModelError> {
        let mut m = Model {
            tree: Tree::build(schema, board)?,
            registry,
            state,
            dirty: false,
            pending_apply: false,
            read_errors: Vec::new(),
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

    /// True once after the state changed (the caller persists it).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// The handlers, e.g. for a vendor to reach its own.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Starts an operation: caches are dropped so values are read fresh.
    pub fn begin(&mut self) {
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

    /// Lets every handler write what it keeps (once per agent loop turn).
    pub fn flush(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        for (name, h) in self.registry.iter_mut() {
            if let Err(e) = h.flush() {
                errors.push(format!("{name}: {e}"));
            }
        }
        errors
    }

    /// True when a Set/Add/Delete left apply work for after the session.
    pub fn apply_pending(&self) -> bool {
        self.pending_apply
    }

    /// Computes InterfaceStack rows (TR-181: derived from every LowerLayers parameter) when
    /// the path being served may reach the stack table.
    fn ensure_stack(&mut self, path: &Path) -> Result<(), ModelError> {
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
        let root = Path::parse("Device.").map_err(|_| ModelError::InvalidName("Device.".into()))?;
        let (at, changed) = self
            .tree
            .resolve(&mut self.registry, &mut self.state, &root)?;
        self.dirty |= changed;
        let mut entries = Vec::new();
        self.dirty |= self.tree.walk(
            &mut self.registry,
            &mut self.state,
            &at,
            false,
            &mut entries,
        )?;
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

    fn resolve(&mut self, path: &Path) -> Result<Resolved, ModelError> {
        self.ensure_stack(path)?;
        let (r, changed) = self
            .tree
            .resolve(&mut self.registry, &mut self.state, path)?;
        self.dirty |= changed;
        Ok(r)
    }

    fn walk(&mut self, at: &Resolved, next_level: bool) -> Result<Vec<Entry>, ModelError> {
        let mut out = Vec::new();
        let changed = self.tree.walk(
            &mut self.registry,
            &mut self.state,
            at,
            next_level,
            &mut out,
        )?;
        self.dirty |= changed;
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
                    .map(|p| value::default_for(p.schema.syntax.base))
                    .unwrap_or("")
                    .to_string()
            }
        }
    }

    fn read_strict(
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
        if p.schema.syntax.hidden {
            // TR-069 A.3.2.2: passwords and keys read back as an empty string.
            return Ok(String::new());
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
            Source::Ref { table, key } => self.reference(table, key, vars)?,
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
                self.dirty |= ch;
                listed.len().to_string()
            }
        };
        Ok(normalize(p.schema.syntax.base, raw))
    }

    /// The path of the instance(s) of a top-level table whose key is `key` (comma list).
    fn reference(&mut self, table: &str, key: &str, vars: &Vars) -> Result<String, ModelError> {
        let keys = substitute_str(key, vars);
        let node = self
            .tree
            .node(table)
            .ok_or_else(|| ModelError::InvalidName(table.to_string()))?;
        let table_path = table.trim_end_matches("{i}.").to_string();
        let (listed, ch) = self.tree.list(
            &mut self.registry,
            &mut self.state,
            &node,
            &table_path,
            &Vars::new(),
        )?;
        self.dirty |= ch;
        let found: Vec<String> = keys
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .filter_map(|k| {
                listed
                    .iter()
                    .find(|l| l.instance.key == k)
                    .map(|l| format!("{table_path}{}", l.number))
            })
            .collect();
        Ok(found.join(","))
    }

    /// GetParameterValues: each path full or partial; results in request order.
    pub fn get_values(&mut self, paths: &[&str]) -> Result<Vec<ParamValue>, ModelError> {
        let mut out = Vec::new();
        for text in paths {
            let path = parse_path(text, true)?;
            let at = self.resolve(&path)?;
            if matches!(at, Resolved::Table { .. }) && !path.is_partial() {
                return Err(ModelError::InvalidName(text.to_string()));
            }
            for e in self.walk(&at, false)? {
                if let Entry::Param {
                    node,
                    index,
                    path,
                    vars,
                } = e
                {
                    let value = self.read(&node, index, &path, &vars);
                    out.push(ParamValue {
                        value,
                        xsd_type: xsd_type(&node, index),
                        name: path,
                    });
                    if out.len() > MAX_RESULTS {
                        return Err(ModelError::ResourcesExceeded(format!(
                            "more than {MAX_RESULTS} values"
                        )));
                    }
                }
            }
        }
        Ok(out)
    }

    /// GetParameterNames (TR-069 A.3.2.3).
    pub fn get_names(
        &mut self,
        path: &str,
        next_level: bool,
    ) -> Result<Vec<ParamInfo>, ModelError> {
        let parsed = parse_path(path, true)?;
        if path.is_empty() && next_level {
            // An empty path with NextLevel lists only the root object.
            return Ok(vec![ParamInfo {
                name: "Device.".into(),
                writable: false,
            }]);
        }
        let at = self.resolve(&parsed)?;
        let mut out = Vec::new();
        match &at {
            Resolved::Param { .. } if next_level => {
                return Err(ModelError::InvalidArguments(
                    "NextLevel true with a parameter path".into(),
                ))
            }
            Resolved::Object { node, path, .. } if !next_level => {
                let instance = node.instances.is_some();
                out.push(ParamInfo {
                    name: path.clone(),
                    writable: instance && node.addable,
                });
            }
            Resolved::Table { node, path, .. } if !next_level => {
                out.push(ParamInfo {
                    name: path.clone(),
                    writable: node.addable,
                });
            }
            _ => {}
        }
        for e in self.walk(&at, next_level)? {
            match e {
                Entry::Object { path, writable } => out.push(ParamInfo {
                    name: path,
                    writable,
                }),
                Entry::Param {
                    node, index, path, ..
                } => {
                    let writable = node.params.get(index).is_some_and(|p| p.writable);
                    out.push(ParamInfo {
                        name: path,
                        writable,
                    });
                }
            }
        }
        Ok(out)
    }

    /// SetParameterValues: validate everything, then write everything or nothing.
    /// Returns the Status (0 applied, 1 applied after the session).
    pub fn set_values(&mut self, items: &[SetItem], parameter_key: &str) -> Result<u8, ModelError> {
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

    fn finish_change(&mut self, parameter_key: &str, status: u8) {
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

    /// GetParameterAttributes.
    pub fn get_attributes(&mut self, paths: &[&str]) -> Result<Vec<ParamAttributes>, ModelError> {
        let mut out = Vec::new();
        for text in paths {
            let path = parse_path(text, true)?;
            let at = self.resolve(&path)?;
            for e in self.walk(&at, false)? {
                if let Entry::Param {
                    node, index, path, ..
                } = e
                {
                    let policy = node
                        .params
                        .get(index)
                        .map(|p| p.schema.notify)
                        .unwrap_or_default();
                    let a = self
                        .state
                        .attributes
                        .get(&path)
                        .cloned()
                        .unwrap_or(Attributes {
                            notification: default_notification(policy),
                            access_list: Vec::new(),
                        });
                    out.push(ParamAttributes {
                        name: path,
                        notification: a.notification,
                        access_list: a.access_list,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Every parameter whose notification is passive (1) or active (2), with its current value
    /// and level: what the agent watches for value changes (TR-069 A.3.2.4).
    pub fn notified(&mut self) -> Result<Vec<(ParamValue, u8)>, ModelError> {
        let root = Path::parse("Device.").map_err(|_| ModelError::InvalidName("Device.".into()))?;
        let at = self.resolve(&root)?;
        let mut out = Vec::new();
        for e in self.walk(&at, false)? {
            let Entry::Param {
                node,
                index,
                path,
                vars,
            } = e
            else {
                continue;
            };
            let policy = node
                .params
                .get(index)
                .map(|p| p.schema.notify)
                .unwrap_or_default();
            let level = self
                .state
                .attributes
                .get(&path)
                .map(|a| a.notification)
                .unwrap_or(default_notification(policy));
            if level == 0 {
                continue;
            }
            let value = self.read(&node, index, &path, &vars);
            out.push((
                ParamValue {
                    value,
                    xsd_type: xsd_type(&node, index),
                    name: path,
                },
                level,
            ));
        }
        Ok(out)
    }

    /// SetParameterAttributes: all changes are checked before any is made.
    pub fn set_attributes(&mut self, changes: &[AttributeChange]) -> Result<(), ModelError> {
        if changes.len() > MAX_SET_ITEMS {
            return Err(ModelError::ResourcesExceeded(format!(
                "more than {MAX_SET_ITEMS} attribute changes"
            )));
        }
        let mut plan: Vec<(String, NotifyPolicy, &AttributeChange)> = Vec::new();
        for c in changes {
            if let Some(n) = c.notification {
                if n > 2 {
                    return Err(ModelError::InvalidArguments(format!(
                        "notification {n} for {}",
                        c.name
                    )));
                }
            }
            if let Some(list) = &c.access_list {
                if let Some(bad) = list.iter().find(|e| e.as_str() != "Subscriber") {
                    return Err(ModelError::InvalidArguments(format!(
                        "access list entry {bad:?}"
                    )));
                }
            }
            let path = parse_path(&c.name, true)?;
            let at = self.resolve(&path)?;
            for e in self.walk(&at, false)? {
                if let Entry::Param {
                    node, index, path, ..
                } = e
                {
                    let policy = node
                        .params
                        .get(index)
                        .map(|p| p.schema.notify)
                        .unwrap_or_default();
                    if let Some(n) = c.notification {
                        // TR-106 A.2.7.1 activeNotify: forceEnabled cannot be changed;
                        // canDeny parameters (mostly counters) are refused active notification.
                        let refused = match policy {
                            NotifyPolicy::ForceEnabled => n != 2,
                            NotifyPolicy::CanDeny => n == 2,
                            NotifyPolicy::Normal | NotifyPolicy::ForceDefaultEnabled => false,
                        };
                        if refused {
                            return Err(ModelError::NotificationRejected(path));
                        }
                    }
                    plan.push((path, policy, c));
                }
            }
        }
        for (path, policy, c) in plan {
            let mut a = self
                .state
                .attributes
                .get(&path)
                .cloned()
                .unwrap_or(Attributes {
                    notification: default_notification(policy),
                    access_list: Vec::new(),
                });
            if let Some(n) = c.notification {
                a.notification = n;
            }
            if let Some(list) = &c.access_list {
                a.access_list = list
                    .iter()
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
            }
            let is_default =
                a.notification == default_notification(policy) && a.access_list.is_empty();
            let changed = if is_default {
                self.state.attributes.remove(&path).is_some()
            } else {
                self.state.attributes.insert(path, a.clone()).as_ref() != Some(&a)
            };
            self.dirty |= changed;
        }
        Ok(())
    }

    /// AddObject on a table path (`Device.X.Table.`): returns (instance number, status).
    pub fn add_object(&mut self, path: &str, parameter_key: &str) -> Result<(u32, u8), ModelError> {
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
        let h = self
            .registry
            .get_mut(&b.handler)
            .ok_or_else(|| ModelError::InvalidName(path.to_string()))?;
        let inst = h.add(&args).map_err(|error| ModelError::Backend {
            path: table_path.clone(),
            error,
        })?;
        let pending = match h.commit() {
            Ok(p) => p,
            Err(error) => {
                h.abort();
                return Err(ModelError::Backend {
                    path: table_path,
                    error,
                });
            }
        };
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
        Ok((number, status))
    }

    /// DeleteObject on an instance path (`Device.X.Table.3.`): returns the status.
    pub fn delete_object(&mut self, path: &str, parameter_key: &str) -> Result<u8, ModelError> {
        let parsed = parse_path(path, false)?;
        let last_is_instance = matches!(
            parsed.segments().last(),
            Some(crate::model::path::Segment::Instance(_))
        );
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
            vars: (*vars).clone(),
        };
        let h = self
            .registry
            .get_mut(&b.handler)
            .ok_or_else(|| ModelError::InvalidName(path.to_string()))?;
        h.delete(&args, &instance)
            .map_err(|error| ModelError::Backend {
                path: inst_path.clone(),
                error,
            })?;
        let pending = match h.commit() {
            Ok(p) => p,
            Err(error) => {
                h.abort();
                return Err(ModelError::Backend {
                    path: inst_path,
                    error,
                });
            }
        };
        self.state.forget(&table_path, &key);
        self.state.forget_below(&inst_path);
        self.dirty = true;
        let status = u8::from(pending);
        self.finish_change(parameter_key, status);
        Ok(status)
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

fn substitute_str(s: &str, vars: &Vars) -> String {
    let b = crate::board::Binding {
        handler: String::new(),
        args: [("k".to_string(), s.into())].into_iter().collect(),
        write: false,
        add: false,
        numbered: false,
        at: Default::default(),
    };
    substitute(&b, vars, "", None)
        .table
        .get("k")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}
