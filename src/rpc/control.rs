//! Reboot, FactoryReset and ScheduleInform: recorded as actions, carried out by the agent
//! after the session (TR-069 A.3.2.9, A.4.1.1, A.4.1.7).

use super::error::RequestError;
use super::{Actions, Context};
use crate::soap::fault::Fault;
use crate::soap::CpeMessage;

/// Most ScheduleInform requests waiting at once.
pub const MAX_SCHEDULED: usize = 16;

/// Reboot.
pub fn reboot(ctx: &mut Context, command_key: String) -> CpeMessage {
    ctx.actions.reboot = Some(command_key);
    CpeMessage::RebootResponse
}

/// FactoryReset.
pub fn factory_reset(ctx: &mut Context) -> CpeMessage {
    ctx.actions.factory_reset = true;
    CpeMessage::FactoryResetResponse
}

/// ScheduleInform: DelaySeconds must be at least 1 (A.4.1.7).
pub fn schedule_inform(
    ctx: &mut Context,
    delay: u32,
    command_key: String,
) -> Result<CpeMessage, Fault> {
    if delay == 0 {
        return Err(Fault::from(&RequestError::ZeroDelay));
    }
    let Actions { scheduled, .. } = ctx.actions;
    if scheduled.len() >= MAX_SCHEDULED {
        return Err(Fault::from(&RequestError::TooManyScheduled(MAX_SCHEDULED)));
    }
    scheduled.push((delay, command_key));
    Ok(CpeMessage::ScheduleInformResponse)
}
