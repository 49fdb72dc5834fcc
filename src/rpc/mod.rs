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
use crate::soap::{AcsMessage, CpeMessage, CwmpVersion};
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

/// The RPCs cwmpd answers, each with the CWMP version that introduced it
/// (GetRPCMethodsResponse lists those of the session's version; a later method in an earlier
/// session is 9000, as for a CPE of that version).
pub const METHODS: [(&str, CwmpVersion); 17] = [
    ("GetRPCMethods", CwmpVersion::V1_0),
    ("SetParameterValues", CwmpVersion::V1_0),
    ("GetParameterValues", CwmpVersion::V1_0),
    ("GetParameterNames", CwmpVersion::V1_0),
    ("SetParameterAttributes", CwmpVersion::V1_0),
    ("GetParameterAttributes", CwmpVersion::V1_0),
    ("AddObject", CwmpVersion::V1_0),
    ("DeleteObject", CwmpVersion::V1_0),
    ("Reboot", CwmpVersion::V1_0),
    ("FactoryReset", CwmpVersion::V1_0),
    ("ScheduleInform", CwmpVersion::V1_0),
    ("Download", CwmpVersion::V1_0),
    ("Upload", CwmpVersion::V1_0),
    ("ScheduleDownload", CwmpVersion::V1_2),
    ("CancelTransfer", CwmpVersion::V1_2),
    ("GetQueuedTransfers", CwmpVersion::V1_0),
    ("GetAllQueuedTransfers", CwmpVersion::V1_1),
];

/// The methods a session of `version` offers.
pub fn methods(version: CwmpVersion) -> impl Iterator<Item = &'static str> {
    METHODS
        .iter()
        .filter(move |(_, since)| *since <= version)
        .map(|(m, _)| *m)
}

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

/// Answers one ACS request in a session of `version`. Responses from the ACS (InformResponse
/// …) are not requests and are answered with 9003 here; the session engine handles them
/// before they reach this.
pub fn handle(msg: AcsMessage, version: CwmpVersion, ctx: &mut Context) -> CpeMessage {
    let name = msg.name().to_string();
    log::info!("rpc: {name}");
    let later = METHODS
        .iter()
        .any(|(m, since)| *m == name && *since > version);
    let answer = match msg {
        _ if later => Err(Fault::from(&RequestError::MethodNotSupported(format!(
            "{name} (not in CWMP {})",
            version.label()
        )))),
        AcsMessage::GetRPCMethods => Ok(CpeMessage::GetRPCMethodsResponse {
            methods: methods(version).map(str::to_string).collect(),
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
