//! Reboot, FactoryReset and ScheduleInform: recorded as pending orders (saved before the
//! response leaves), carried out by the agent after the session (TR-069 A.3.2.9, A.4.1.6,
//! A.4.1.7).

use super::error::RequestError;
use super::{Context, Reboot, Scheduled};
use crate::soap::fault::Fault;
use crate::soap::CpeMessage;

/// Most ScheduleInform requests waiting at once.
pub const MAX_SCHEDULED: usize = 16;

/// Reboot.
pub fn reboot(ctx: &mut Context, command_key: String) -> CpeMessage {
    ctx.pending.reboot = Some(Reboot {
        command_key,
        issued_in: None,
        attempts: 0,
    });
    CpeMessage::RebootResponse
}

/// FactoryReset.
pub fn factory_reset(ctx: &mut Context) -> CpeMessage {
    ctx.pending.factory_reset = true;
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
    let scheduled = &mut ctx.pending.scheduled;
    if scheduled.len() >= MAX_SCHEDULED {
        return Err(Fault::from(&RequestError::TooManyScheduled(MAX_SCHEDULED)));
    }
    scheduled.push(Scheduled {
        due: ctx.now + i64::from(delay),
        command_key,
    });
    Ok(CpeMessage::ScheduleInformResponse)
}
