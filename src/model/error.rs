//! Errors of the model's operations. `fault.rs` maps each to its CWMP fault code.

use std::fmt;

use crate::backend::BackendError;

/// Why a model operation failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// The path is malformed, or names nothing this device supports.
    InvalidName(String),
    /// The arguments are inconsistent (a full path with NextLevel, a duplicate name …).
    InvalidArguments(String),
    /// The value's declared type does not match the parameter.
    InvalidType { path: String, reason: String },
    /// The value is not acceptable for the parameter.
    InvalidValue { path: String, reason: String },
    /// The parameter or object is not writable.
    NotWritable(String),
    /// A notification attribute change the parameter's policy forbids.
    NotificationRejected(String),
    /// A table is full or another limit was reached.
    ResourcesExceeded(String),
    /// The request is understood but refused (e.g. AddObject on a table this device fixes).
    RequestDenied(String),
    /// A backend failed.
    Backend { path: String, error: BackendError },
    /// A write could not be undone if the change failed (its old value cannot be read, and its
    /// handler cannot roll back), so it is refused before anything is written.
    Irreversible { path: String, error: BackendError },
    /// Faults on individual parameters of a SetParameterValues.
    Parameters(Vec<(String, ModelError)>),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::InvalidName(p) => write!(f, "model: invalid name {p}"),
            ModelError::InvalidArguments(m) => write!(f, "model: invalid arguments: {m}"),
            ModelError::InvalidType { path, reason } => {
                write!(f, "model: {path}: invalid type: {reason}")
            }
            ModelError::InvalidValue { path, reason } => {
                write!(f, "model: {path}: invalid value: {reason}")
            }
            ModelError::NotWritable(p) => write!(f, "model: {p} is not writable"),
            ModelError::NotificationRejected(p) => {
                write!(f, "model: notification change refused for {p}")
            }
            ModelError::ResourcesExceeded(m) => write!(f, "model: resources exceeded: {m}"),
            ModelError::RequestDenied(m) => write!(f, "model: request denied: {m}"),
            ModelError::Backend { path, error } => write!(f, "model: {path}: {error}"),
            ModelError::Irreversible { path, error } => write!(
                f,
                "model: {path}: the write could not be undone ({error}), so it is refused"
            ),
            ModelError::Parameters(list) => {
                write!(f, "model: {} parameter fault(s)", list.len())?;
                for (p, e) in list {
                    write!(f, "; {p}: {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ModelError {}
