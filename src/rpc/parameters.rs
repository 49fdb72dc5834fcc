//! The parameter RPCs: Get/SetParameterValues, GetParameterNames, Get/SetParameterAttributes,
//! AddObject, DeleteObject — thin translations onto the `model`.

use super::Context;
use crate::model::{AttributeChange, SetItem};
use crate::soap::fault::Fault;
use crate::soap::{
    CpeMessage, ParameterAttribute, ParameterInfo, ParameterValue, SetParameterAttribute,
};

type Answer = Result<CpeMessage, Fault>;

/// GetParameterValues.
pub fn get_values(ctx: &mut Context, names: &[String]) -> Answer {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let values = ctx.model.get_values(&refs).map_err(|e| Fault::from(&e))?;
    Ok(CpeMessage::GetParameterValuesResponse {
        list: values
            .into_iter()
            .map(|v| ParameterValue {
                name: v.name,
                value: v.value,
                xsd_type: v.xsd_type.to_string(),
            })
            .collect(),
    })
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
