//! Building the Inform (TR-069 A.3.3.1): the DeviceId (fixed for the life of the device, see
//! the agent), the events, the current time, the retry count, the forced-inform parameters
//! with their live values, and those the ACS asked for with
//! `Device.ManagementServer.InformParameter.{i}.` for these events.

use crate::event::Event;
use crate::model::Model;
use crate::soap::{CpeMessage, DeviceId, EventStruct, ParameterValue};

/// The DeviceId's parameters, in DeviceIdStruct order.
pub const IDENTITY: [&str; 4] = [
    "Device.DeviceInfo.Manufacturer",
    "Device.DeviceInfo.ManufacturerOUI",
    "Device.DeviceInfo.ProductClass",
    "Device.DeviceInfo.SerialNumber",
];

/// Where the ACS names parameters to add to Informs (TR-181 InformParameters profile).
const INFORM_PARAMETERS: &str = "Device.ManagementServer.InformParameter.";

/// The patterns of the enabled InformParameter rows whose EventList asks for one of these
/// events (an empty EventList: every event but 4 VALUE CHANGE).
fn requested(model: &mut Model, events: &[Event]) -> Vec<String> {
    let rows = model.get_values(&[INFORM_PARAMETERS]).unwrap_or_default();
    // Boxed: a map of pointers shares its code with the others.
    let mut by_row: std::collections::BTreeMap<String, Box<[String; 3]>> = Default::default();
    for v in rows {
        let Some((row, field)) = v.name.rsplit_once('.') else {
            continue;
        };
        let slot = match field {
            "Enable" => 0,
            "ParameterName" => 1,
            "EventList" => 2,
            _ => continue,
        };
        if let Some(f) = by_row.entry(row.to_string()).or_default().get_mut(slot) {
            *f = v.value;
        }
    }
    by_row
        .into_values()
        .map(|row| *row)
        .filter(|[enable, name, _]| enable == "true" && !name.is_empty())
        .filter(|[_, _, list]| {
            let wanted: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect();
            events.iter().any(|e| {
                if wanted.is_empty() {
                    e.code != crate::event::code::VALUE_CHANGE
                } else {
                    wanted.contains(&e.code.as_str())
                }
            })
        })
        .map(|[_, name, _]| name)
        .collect()
}

/// The Inform for these events; `now` is the CurrentTime in dateTime form.
/// `changed` are notified parameters whose values changed since the last Inform.
pub fn build(
    model: &mut Model,
    events: &[Event],
    retry_count: u32,
    now: &str,
    changed: &[ParameterValue],
) -> CpeMessage {
    let mut id = model
        .lookup(&IDENTITY)
        .into_iter()
        .map(Option::unwrap_or_default);
    let mut next = || id.next().unwrap_or_default();
    let device_id = DeviceId {
        manufacturer: next(),
        oui: next(),
        product_class: next(),
        serial_number: next(),
    };
    let forced = model.forced_inform();
    let refs: Vec<&str> = forced.iter().map(String::as_str).collect();
    let mut parameters: Vec<ParameterValue> = model
        .get_values(&refs)
        .unwrap_or_default()
        .into_iter()
        .map(|v| ParameterValue {
            name: v.name,
            value: v.value,
            xsd_type: v.xsd_type.to_string(),
        })
        .collect();
    for c in changed {
        if !parameters.iter().any(|p| p.name == c.name) {
            parameters.push(c.clone());
        }
    }
    for pattern in requested(model, events) {
        for v in model.matching(&pattern) {
            if !parameters.iter().any(|p| p.name == v.name) {
                parameters.push(ParameterValue {
                    name: v.name,
                    value: v.value,
                    xsd_type: v.xsd_type.to_string(),
                });
            }
        }
    }
    CpeMessage::Inform {
        device_id,
        events: events
            .iter()
            .map(|e| EventStruct {
                code: e.code.clone(),
                command_key: e.command_key.clone(),
            })
            .collect(),
        max_envelopes: 1,
        current_time: now.to_string(),
        retry_count,
        parameters,
    }
}
