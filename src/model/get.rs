//! GetParameterValues and GetParameterNames (TR-069 A.3.2.2, A.3.2.3), and the values of
//! notified parameters the agent compares (A.3.2.4).

use std::ops::ControlFlow;
use std::rc::Rc;

use super::binding::Vars;
use super::error::ModelError;
use super::tree::{present, Entry, ObjectNode, Resolved};
use super::{parse_path, xsd_type, Model, MAX_RESULTS};

/// One value in a GetParameterValues answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamValue {
    /// Full instance path.
    pub name: String,
    /// Lexical value (empty for hidden parameters).
    pub value: String,
    /// Its `xsi:type` local name (`unsignedInt`).
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

impl Model {
    /// GetParameterValues: each path full or partial; results in request order.
    pub fn get_values(&mut self, paths: &[&str]) -> Result<Vec<ParamValue>, ModelError> {
        let mut out = Vec::new();
        self.stream_values(paths, &mut |v| {
            out.push(v);
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// GetParameterValues one value at a time: each is handed to `emit` as soon as it is
    /// read, so nothing grows with the tree but what the caller keeps (`cwmpd get` prints
    /// them as they come, a session's answer encodes them). Returns how many were emitted;
    /// an error ends the walk, and so does `emit` breaking (its answer is full, its output
    /// failed): then the walk returns at once with the count so far.
    pub fn stream_values(
        &mut self,
        paths: &[&str],
        emit: &mut dyn FnMut(ParamValue) -> ControlFlow<()>,
    ) -> Result<usize, ModelError> {
        self.begin();
        let mut count = 0;
        for text in paths {
            let path = parse_path(text, true)?;
            let at = self.resolve(&path)?;
            let flow = match at {
                Resolved::Table { .. } if !path.is_partial() => {
                    return Err(ModelError::InvalidName(text.to_string()))
                }
                Resolved::Param {
                    node,
                    index,
                    path,
                    vars,
                } => {
                    let value = self.read(&node, index, &path, &vars);
                    count += 1;
                    emit(ParamValue {
                        value,
                        xsd_type: xsd_type(&node, index),
                        name: path,
                    })
                }
                Resolved::Object { node, path, vars } => {
                    self.stream_object(&node, &path, &vars, emit, &mut count)?
                }
                Resolved::Table { node, path, vars } => {
                    self.stream_table(&node, &path, &vars, emit, &mut count)?
                }
            };
            if flow.is_break() {
                break;
            }
        }
        Ok(count)
    }

    /// The values of an object and everything below it, depth first in data-model order;
    /// `Break` once `emit` broke.
    fn stream_object(
        &mut self,
        node: &Rc<ObjectNode>,
        path: &str,
        vars: &Rc<Vars>,
        emit: &mut dyn FnMut(ParamValue) -> ControlFlow<()>,
        count: &mut usize,
    ) -> Result<ControlFlow<()>, ModelError> {
        for (index, p) in node.params.iter().enumerate() {
            let ppath = format!("{path}{}", p.name);
            if !present(&mut self.registry, p, &ppath, vars) {
                continue;
            }
            let value = self.read(node, index, &ppath, vars);
            *count += 1;
            if *count > MAX_RESULTS {
                return Err(ModelError::ResourcesExceeded(format!(
                    "more than {MAX_RESULTS} values"
                )));
            }
            let flow = emit(ParamValue {
                value,
                xsd_type: xsd_type(node, index),
                name: ppath,
            });
            if flow.is_break() {
                return Ok(flow);
            }
        }
        for child in &node.children {
            let Some(cnode) = self.tree.node(&child.schema) else {
                continue;
            };
            let cpath = format!("{path}{}.", child.name);
            let flow = if child.table {
                // A table whose backend fails is reported empty rather than failing the walk.
                match self.stream_table(&cnode, &cpath, vars, emit, count) {
                    Err(ModelError::ResourcesExceeded(m)) => {
                        return Err(ModelError::ResourcesExceeded(m))
                    }
                    Err(e) => {
                        log::warn!("{e}");
                        ControlFlow::Continue(())
                    }
                    Ok(flow) => flow,
                }
            } else {
                self.stream_object(&cnode, &cpath, vars, emit, count)?
            };
            if flow.is_break() {
                return Ok(flow);
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// The values of every instance of a table.
    fn stream_table(
        &mut self,
        node: &Rc<ObjectNode>,
        path: &str,
        vars: &Rc<Vars>,
        emit: &mut dyn FnMut(ParamValue) -> ControlFlow<()>,
        count: &mut usize,
    ) -> Result<ControlFlow<()>, ModelError> {
        let (listed, changed) =
            self.tree
                .list(&mut self.registry, &mut self.state, node, path, vars)?;
        self.numbered(changed);
        for l in listed.iter() {
            let ipath = format!("{path}{}.", l.number);
            if self
                .stream_object(node, &ipath, &l.vars, emit, count)?
                .is_break()
            {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// GetParameterNames (TR-069 A.3.2.3).
    pub fn get_names(
        &mut self,
        path: &str,
        next_level: bool,
    ) -> Result<Vec<ParamInfo>, ModelError> {
        self.begin();
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

    /// The values of the parameters a pattern names (`*` in place of any instance number,
    /// TR-181 InformParameter.ParameterName), nothing when it names none now.
    pub fn matching(&mut self, pattern: &str) -> Vec<ParamValue> {
        let segments: Vec<&str> = pattern.split('.').collect();
        let Some(star) = segments.iter().position(|s| *s == "*") else {
            return self.get_values(&[pattern]).unwrap_or_default();
        };
        let prefix = format!("{}.", segments.get(..star).unwrap_or_default().join("."));
        let matches = |name: &str| {
            let n: Vec<&str> = name.split('.').collect();
            n.len() == segments.len()
                && n.iter().zip(&segments).all(|(a, b)| {
                    a == b || (*b == "*" && !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit()))
                })
        };
        self.get_values(&[prefix.as_str()])
            .unwrap_or_default()
            .into_iter()
            .filter(|v| matches(&v.name))
            .collect()
    }
}
