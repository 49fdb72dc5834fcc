//! ACS requests → CPE responses. Each RPC translates its typed request into model calls (or a
//! device action for after the session) and the result, or the fault `fault.rs` chooses, into
//! its typed response. No XML here, no I/O.

mod control;
pub mod error;
pub mod fault;
mod parameters;
pub mod transfer;

use crate::board::TransferBoard;
use crate::model::Model;
use crate::soap::fault::Fault;
use crate::soap::{AcsMessage, CpeMessage};
use crate::transfer::{Direction, Transfers};
use error::RequestError;

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
pub const METHODS: [&str; 17] = [
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
    "Download",
    "Upload",
    "ScheduleDownload",
    "CancelTransfer",
    "GetQueuedTransfers",
    "GetAllQueuedTransfers",
];

/// What a request needs: the model, the actions list and the transfer queue.
pub struct Context<'a> {
    /// The data model.
    pub model: &'a mut Model,
    /// Actions for after the session.
    pub actions: &'a mut Actions,
    /// Queued transfers and undelivered results.
    pub transfers: &'a mut Transfers,
    /// What the board can download and upload.
    pub board: &'a TransferBoard,
    /// Unix time now (transfers are due relative to it).
    pub now: i64,
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
        AcsMessage::Download(t) => transfer::transfer(ctx, &t, Direction::Download),
        AcsMessage::Upload(t) => transfer::transfer(ctx, &t, Direction::Upload),
        AcsMessage::ScheduleDownload { transfer, windows } => {
            transfer::schedule_download(ctx, &transfer, &windows)
        }
        AcsMessage::CancelTransfer { command_key } => transfer::cancel(ctx, &command_key),
        AcsMessage::GetQueuedTransfers => Ok(transfer::queued(ctx, false)),
        AcsMessage::GetAllQueuedTransfers => Ok(transfer::queued(ctx, true)),
        AcsMessage::Unknown { .. } => {
            Err(Fault::from(&RequestError::MethodNotSupported(name.clone())))
        }
        AcsMessage::InformResponse { .. }
        | AcsMessage::TransferCompleteResponse
        | AcsMessage::AutonomousTransferCompleteResponse
        | AcsMessage::GetRPCMethodsResponse { .. }
        | AcsMessage::Fault { .. } => Err(Fault::from(&RequestError::NotARequest(name.clone()))),
    };
    answer.unwrap_or_else(|f| {
        log::info!("rpc: {name} → {f}");
        CpeMessage::Fault(f)
    })
}

#[cfg(test)]
mod tests;
