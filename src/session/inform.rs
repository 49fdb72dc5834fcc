//! Building the Inform (TR-069 A.3.3.1): DeviceId from the board, the events, the current
//! time, the retry count, and the forced-inform parameters with their live values.

use crate::event::Event;
use crate::model::Model;
use crate::soap::{CpeMessage, DeviceId, EventStruct, ParameterValue};

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
        .lookup(&[
            "Device.DeviceInfo.Manufacturer",
            "Device.DeviceInfo.ManufacturerOUI",
            "Device.DeviceInfo.ProductClass",
            "Device.DeviceInfo.SerialNumber",
        ])
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
