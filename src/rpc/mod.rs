//! ACS requests → CPE responses. Each RPC translates its typed request into model calls (or a
//! device action for after the session) and the result, or the fault `fault.rs` chooses, into
//! its typed response. No XML here, no I/O.

mod control;
mod parameters;

use crate::fault::{Fault, FaultCode};
use crate::model::ops::Model;
use crate::soap::{AcsMessage, CpeMessage};

/// Device actions requested during a session, carried out after it ends (TR-069 A.3.2.9:
/// Reboot happens after the session is closed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// Reboot with this CommandKey.
    pub reboot: Option<String>,
    /// Reset to factory defaults.
    pub factory_reset: bool,
    /// ScheduleInform requests: (delay seconds, CommandKey).
    pub scheduled: Vec<(u32, String)>,
    /// Parameters the ACS set: their changes are not notified back (TR-069 A.3.2.4).
    pub set_by_acs: Vec<String>,
}

/// The RPCs cwmpd answers (GetRPCMethodsResponse).
pub const METHODS: [&str; 12] = [
    "GetRPCMethods",
    "SetParameterValues",
    "GetParameterValues",
    "GetParameterNames",
    "SetParameterAttributes",
    "GetParameterAttributes",
    "AddObject",
    "DeleteObject",
    "Reboot",
    "FactoryReset",
    "ScheduleInform",
    "Inform",
];

/// What a request needs: the model and the actions list.
pub struct Context<'a> {
    /// The data model.
    pub model: &'a mut Model,
    /// Actions for after the session.
    pub actions: &'a mut Actions,
}

/// Answers one ACS request. Responses from the ACS (InformResponse …) are not requests and
/// are answered with 9003 here; the session engine handles them before they reach this.
pub fn handle(msg: AcsMessage, ctx: &mut Context) -> CpeMessage {
    let name = msg.name().to_string();
    log::info!("rpc: {name}");
    let answer = match msg {
        AcsMessage::GetRPCMethods => Ok(CpeMessage::GetRPCMethodsResponse {
            methods: METHODS.iter().map(|s| s.to_string()).collect(),
        }),
        AcsMessage::GetParameterValues { names } => parameters::get_values(ctx, &names),
        AcsMessage::SetParameterValues {
            list,
            parameter_key,
        } => parameters::set_values(ctx, &list, &parameter_key),
        AcsMessage::GetParameterNames { path, next_level } => {
            parameters::get_names(ctx, &path, next_level)
        }
        AcsMessage::GetParameterAttributes { names } => parameters::get_attributes(ctx, &names),
        AcsMessage::SetParameterAttributes { list } => parameters::set_attributes(ctx, &list),
        AcsMessage::AddObject {
            object_name,
            parameter_key,
        } => parameters::add_object(ctx, &object_name, &parameter_key),
        AcsMessage::DeleteObject {
            object_name,
            parameter_key,
        } => parameters::delete_object(ctx, &object_name, &parameter_key),
        AcsMessage::Reboot { command_key } => Ok(control::reboot(ctx, command_key)),
        AcsMessage::FactoryReset => Ok(control::factory_reset(ctx)),
        AcsMessage::ScheduleInform {
            delay_seconds,
            command_key,
        } => control::schedule_inform(ctx, delay_seconds, command_key),
        // File transfers arrive with the device-operations work; until then they are refused
        // plainly rather than acknowledged and never done.
        AcsMessage::Download(_)
        | AcsMessage::Upload(_)
        | AcsMessage::ScheduleDownload { .. }
        | AcsMessage::CancelTransfer { .. }
        | AcsMessage::GetQueuedTransfers
        | AcsMessage::GetAllQueuedTransfers
        | AcsMessage::Unknown { .. } => {
            Err(Fault::new(FaultCode::MethodNotSupported, name.clone()))
        }
        AcsMessage::InformResponse { .. }
        | AcsMessage::TransferCompleteResponse
        | AcsMessage::AutonomousTransferCompleteResponse
        | AcsMessage::GetRPCMethodsResponse { .. }
        | AcsMessage::Fault { .. } => Err(Fault::new(
            FaultCode::InvalidArguments,
            format!("{name} is not a request"),
        )),
    };
    answer.unwrap_or_else(|f| {
        log::info!("rpc: {name} → {f}");
        CpeMessage::Fault(f)
    })
}

#[cfg(test)]
mod tests;
