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
pub use control::MAX_SCHEDULED;
use error::RequestError;

/// What the session learned that is not durable: the parameters the ACS set, whose changes
/// are not notified back (TR-069 A.3.2.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// Parameters the ACS set.
    pub set_by_acs: Vec<String>,
}

/// A ScheduleInform waiting to come due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// Unix time when it is due.
    pub due: i64,
    /// Its CommandKey.
    pub command_key: String,
}

/// A Reboot the ACS asked for and that is owed until the device has rebooted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reboot {
    /// Its CommandKey (M Reboot after the boot).
    pub command_key: String,
    /// The boot the reboot command was last run in (saved before it runs).
    pub issued_in: Option<String>,
    /// Times the command has been run for it in that boot (a power cut may come before the
    /// command took the device down: the next start runs it again, a few times at most).
    pub attempts: u32,
}

/// Runs of the reboot command for one Reboot in one boot before cwmpd gives up on it.
pub const MAX_REBOOT_ATTEMPTS: u32 = 3;

/// What the ACS asked the device to do after its RPC answered: durable, saved before the
/// response leaves (an acknowledged order survives a power cut).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    /// Queued transfers and results not yet acknowledged.
    pub transfers: Transfers,
    /// ScheduleInforms waiting to come due.
    pub scheduled: Vec<Scheduled>,
    /// A Reboot owed (TR-069 A.3.2.9: after the session).
    pub reboot: Option<Reboot>,
    /// A FactoryReset owed (A.4.1.6).
    pub factory_reset: bool,
}

/// Makes what a request changed durable before its response leaves (write-ahead): one atomic
/// write of the device's whole state, the model's and `pending` included.
pub trait Journal {
    /// Writes the state. An error means nothing of the request may be acknowledged.
    /// `set_by_acs` names the parameters the ACS has set in this session (their new values
    /// are no change to notify: the write that acknowledges them says so too).
    fn save(
        &mut self,
        model: &mut Model,
        pending: &Pending,
        set_by_acs: &[String],
    ) -> Result<(), SaveError>;
}

/// Why the state could not be written.
#[derive(Debug)]
pub struct SaveError(pub crate::store::StoreError);

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for SaveError {}

/// A journal that keeps nothing (`cwmpd get`, tests of RPC semantics).
#[derive(Debug, Default)]
pub struct NoJournal;

impl Journal for NoJournal {
    fn save(&mut self, _: &mut Model, _: &Pending, _: &[String]) -> Result<(), SaveError> {
        Ok(())
    }
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

/// What a request needs: the model, what is pending, the journal that saves them.
pub struct Context<'a> {
    /// The data model.
    pub model: &'a mut Model,
    /// Orders for after the session (durable).
    pub pending: &'a mut Pending,
    /// What the session learned (not durable).
    pub actions: &'a mut Actions,
    /// Saves the state before a response that acknowledges a change.
    pub journal: &'a mut dyn Journal,
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
    let before = ctx.pending.clone();
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
    let answer = match answer {
        Ok(ok) if changes(&ok) => durable(ok, before, ctx),
        other => other,
    };
    answer.unwrap_or_else(|f| {
        log::info!("rpc: {name} → {f}");
        CpeMessage::Fault(f)
    })
}

/// Whether a successful answer acknowledges a change (write-ahead: saved before it leaves;
/// the read-only RPCs write nothing).
fn changes(answer: &CpeMessage) -> bool {
    matches!(
        answer,
        CpeMessage::SetParameterValuesResponse { .. }
            | CpeMessage::SetParameterAttributesResponse
            | CpeMessage::AddObjectResponse { .. }
            | CpeMessage::DeleteObjectResponse { .. }
            | CpeMessage::RebootResponse
            | CpeMessage::FactoryResetResponse
            | CpeMessage::DownloadResponse { .. }
            | CpeMessage::UploadResponse { .. }
            | CpeMessage::ScheduleInformResponse
            | CpeMessage::ScheduleDownloadResponse
            | CpeMessage::CancelTransferResponse
    )
}

/// Saves the change before `answer` goes; if that fails, the change is undone and the answer
/// is 9002 (an unsaved change is not acknowledged).
fn durable(answer: CpeMessage, before: Pending, ctx: &mut Context) -> Result<CpeMessage, Fault> {
    match ctx
        .journal
        .save(ctx.model, ctx.pending, &ctx.actions.set_by_acs)
    {
        Ok(()) => {
            ctx.model.confirm();
            Ok(answer)
        }
        Err(e) => {
            log::error!("rpc: the change cannot be saved ({e}); undone");
            ctx.model.undo();
            *ctx.pending = before;
            ctx.actions.set_by_acs.clear();
            Err(Fault::from(&e))
        }
    }
}

#[cfg(test)]
mod tests;
