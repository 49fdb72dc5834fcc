//! GetParameterValues and GetParameterNames (TR-069 A.3.2.2, A.3.2.3), and the values of
//! notified parameters the agent compares (A.3.2.4).

use super::error::ModelError;
use super::tree::{Entry, Resolved};
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
        self.begin();
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
}
