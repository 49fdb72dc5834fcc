//! Building the Inform (TR-069 A.3.3.1): DeviceId from the board, the events, the current
//! time, the retry count, and the forced-inform parameters with their live values.

use crate::event::Event;
use crate::model::ops::Model;
use crate::soap::{CpeMessage, DeviceId, EventStruct, ParameterValue};

fn value(model: &mut Model, path: &str) -> String {
    model
        .get_values(&[path])
        .ok()
        .and_then(|mut v| v.pop())
        .map(|v| v.value)
        .unwrap_or_default()
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
    model.begin();
    let device_id = DeviceId {
        manufacturer: value(model, "Device.DeviceInfo.Manufacturer"),
        oui: value(model, "Device.DeviceInfo.ManufacturerOUI"),
        product_class: value(model, "Device.DeviceInfo.ProductClass"),
        serial_number: value(model, "Device.DeviceInfo.SerialNumber"),
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
            xsd_type: v.xsd_type.trim_start_matches("xsd:").to_string(),
        })
        .collect();
    for c in changed {
        if !parameters.iter().any(|p| p.name == c.name) {
            parameters.push(c.clone());
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
