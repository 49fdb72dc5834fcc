//! GetParameterAttributes and SetParameterAttributes (TR-069 A.3.2.4, A.3.2.5): notification
//! and access lists, kept in the model's durable state, with the data model's notification
//! policy (TR-106 A.2.7.1); and the list of notified parameters the agent watches.

use std::collections::BTreeSet;

use super::error::ModelError;
use super::get::ParamValue;
use super::path::Path;
use super::schema::NotifyPolicy;
use super::state::Attributes;
use super::tree::Entry;
use super::{parse_path, xsd_type, Model, MAX_SET_ITEMS};

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

/// The notification a parameter has until the ACS changes it.
fn default_notification(policy: NotifyPolicy) -> u8 {
    match policy {
        NotifyPolicy::ForceEnabled | NotifyPolicy::ForceDefaultEnabled => 2,
        NotifyPolicy::Normal | NotifyPolicy::CanDeny => 0,
    }
}

impl Model {
    /// GetParameterAttributes.
    pub fn get_attributes(&mut self, paths: &[&str]) -> Result<Vec<ParamAttributes>, ModelError> {
        self.begin();
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
                        .map(|a| (**a).clone())
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
        self.begin();
        let at = self.resolve(&Path::root())?;
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
        self.begin();
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
        let before = self.undo_point();
        for (path, policy, c) in plan {
            let mut a = self
                .state
                .attributes
                .get(&path)
                .map(|a| (**a).clone())
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
                self.state
                    .attributes
                    .insert(path, Box::new(a.clone()))
                    .as_deref()
                    != Some(&a)
            };
            self.dirty |= changed;
        }
        self.committed(Vec::new(), Vec::new(), before);
        Ok(())
    }
}
