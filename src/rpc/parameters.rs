//! The parameter RPCs: Get/SetParameterValues, GetParameterNames, Get/SetParameterAttributes,
//! AddObject, DeleteObject — thin translations onto the `model`.

use std::ops::ControlFlow;

use super::Context;
use crate::model::{AttributeChange, SetItem};
use crate::soap::fault::Fault;
use crate::soap::{
    CpeMessage, ParameterAttribute, ParameterInfo, ParameterValue, SetParameterAttribute, ValueList,
};

type Answer = Result<CpeMessage, Fault>;

/// GetParameterValues. Each value goes into the answer's [`ValueList`] as the model reads it
/// (nothing of it is kept but its XML); when the list is full the walk stops and the answer
/// is 9004 (issue 13 §3).
pub fn get_values(ctx: &mut Context, names: &[String]) -> Answer {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut list = ValueList::new();
    let mut full = None;
    ctx.model
        .stream_values(
            &refs,
            &mut |v| match list.push(&v.name, &v.value, v.xsd_type) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    full = Some(e);
                    ControlFlow::Break(())
                }
            },
        )
        .map_err(|e| Fault::from(&e))?;
    match full {
        Some(e) => Err(Fault::from(&e)),
        None => Ok(CpeMessage::GetParameterValuesResponse { list }),
    }
}

/// SetParameterValues.
pub fn set_values(ctx: &mut Context, list: &[ParameterValue], key: &str) -> Answer {
    let items: Vec<SetItem> = list
        .iter()
        .map(|p| SetItem {
            name: p.name.clone(),
            value: p.value.clone(),
            xsd_type: (!p.xsd_type.is_empty()).then(|| p.xsd_type.clone()),
        })
        .collect();
    let status = ctx
        .model
        .set_values(&items, key)
        .map_err(|e| Fault::from(&e))?;
    ctx.actions
        .set_by_acs
        .extend(items.into_iter().map(|i| i.name));
    Ok(CpeMessage::SetParameterValuesResponse { status })
}

/// GetParameterNames.
pub fn get_names(ctx: &mut Context, path: &str, next_level: bool) -> Answer {
    let names = ctx
        .model
        .get_names(path, next_level)
        .map_err(|e| Fault::from(&e))?;
    Ok(CpeMessage::GetParameterNamesResponse {
        list: names
            .into_iter()
            .map(|n| ParameterInfo {
                name: n.name,
                writable: n.writable,
            })
            .collect(),
    })
}

/// GetParameterAttributes.
pub fn get_attributes(ctx: &mut Context, names: &[String]) -> Answer {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let list = ctx
        .model
        .get_attributes(&refs)
        .map_err(|e| Fault::from(&e))?;
    Ok(CpeMessage::GetParameterAttributesResponse {
        list: list
            .into_iter()
            .map(|a| ParameterAttribute {
                name: a.name,
                notification: a.notification,
                access_list: a.access_list,
            })
            .collect(),
    })
}

/// SetParameterAttributes.
pub fn set_attributes(ctx: &mut Context, list: &[SetParameterAttribute]) -> Answer {
    let changes: Vec<AttributeChange> = list
        .iter()
        .map(|s| AttributeChange {
            name: s.name.clone(),
            notification: s.notification_change.then_some(s.notification),
            access_list: s.access_list_change.then(|| s.access_list.clone()),
        })
        .collect();
    ctx.model
        .set_attributes(&changes)
        .map_err(|e| Fault::from(&e))?;
    Ok(CpeMessage::SetParameterAttributesResponse)
}

/// AddObject.
pub fn add_object(ctx: &mut Context, name: &str, key: &str) -> Answer {
    let (instance_number, status) = ctx
        .model
        .add_object(name, key)
        .map_err(|e| Fault::from(&e))?;
    Ok(CpeMessage::AddObjectResponse {
        instance_number,
        status,
    })
}

/// DeleteObject.
pub fn delete_object(ctx: &mut Context, name: &str, key: &str) -> Answer {
    let status = ctx
        .model
        .delete_object(name, key)
        .map_err(|e| Fault::from(&e))?;
    Ok(CpeMessage::DeleteObjectResponse { status })
}
