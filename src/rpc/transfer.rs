//! Download, Upload, ScheduleDownload, CancelTransfer, GetQueuedTransfers and
//! GetAllQueuedTransfers (TR-069 A.3.2.8, A.4.1.5, A.3.2.9, A.4.1.8, A.4.1.11, A.4.1.3, A.4.1.4):
//! requests are checked and queued here; the agent runs them after the session and reports
//! each with a TransferComplete.

use super::Context;
use crate::board::TransferBoard;
use crate::fault::{Fault, FaultCode};
use crate::model::datetime::UNKNOWN_TIME;
use crate::soap::{CpeMessage, TimeWindow, Transfer};
use crate::transfer::{Direction, Job, Phase, Window, DEFAULT_RETRIES};

/// Window modes cwmpd can honour: it has no user to ask ("4 Confirmation Needed").
const WINDOW_MODES: [&str; 3] = ["1 At Any Time", "2 Immediately", "3 When Idle"];

fn invalid(m: impl Into<String>) -> Fault {
    Fault::new(FaultCode::InvalidArguments, m)
}

/// Checks what every transfer request shares and builds its job.
fn job(t: &Transfer, direction: Direction, board: &TransferBoard, due: i64) -> Result<Job, Fault> {
    let lower = t.url.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(Fault::new(
            FaultCode::UnsupportedProtocol,
            format!("{:?}: only http and https are supported", t.url),
        ));
    }
    let authority = t.url.split("://").nth(1).unwrap_or("").split('/').next();
    if authority.is_some_and(|a| a.contains('@')) {
        // TR-069 A.3.3.1: credentials go in Username/Password, never in the URL.
        return Err(invalid("the URL must not carry user information"));
    }
    if crate::http::Url::parse(&t.url).is_err() {
        return Err(invalid(format!("{:?} is not a usable URL", t.url)));
    }
    let supported = match direction {
        Direction::Download => board.download.contains_key(&t.file_type),
        Direction::Upload => board.upload.contains_key(&t.file_type),
    };
    if !supported {
        return Err(invalid(format!(
            "FileType {:?} is not supported by this device",
            t.file_type
        )));
    }
    Ok(Job {
        id: 0,
        direction,
        scheduled: false,
        command_key: t.command_key.clone(),
        file_type: t.file_type.clone(),
        url: t.url.clone(),
        username: t.username.clone(),
        password: t.password.clone(),
        file_size: u64::from(t.file_size),
        target_file_name: t.target_file_name.clone(),
        due,
        windows: Vec::new(),
        retries_left: 0,
        phase: Phase::Waiting,
        started: None,
        file: None,
    })
}

/// Download and Upload: queued to start DelaySeconds from now; answered with Status 1.
pub fn transfer(
    ctx: &mut Context,
    t: &Transfer,
    direction: Direction,
) -> Result<CpeMessage, Fault> {
    let j = job(
        t,
        direction,
        ctx.board,
        ctx.now + i64::from(t.delay_seconds),
    )?;
    let id = ctx.transfers.add(j)?;
    log::info!(
        "transfer {id}: {direction:?} {:?} from {} in {} s",
        t.file_type,
        t.url,
        t.delay_seconds
    );
    let (start_time, complete_time) = (UNKNOWN_TIME.to_string(), UNKNOWN_TIME.to_string());
    Ok(match direction {
        Direction::Download => CpeMessage::DownloadResponse {
            status: 1,
            start_time,
            complete_time,
        },
        Direction::Upload => CpeMessage::UploadResponse {
            status: 1,
            start_time,
            complete_time,
        },
    })
}

/// ScheduleDownload: one or two windows, in order, not overlapping, in modes cwmpd can honour.
pub fn schedule_download(
    ctx: &mut Context,
    t: &Transfer,
    windows: &[TimeWindow],
) -> Result<CpeMessage, Fault> {
    if windows.is_empty() || windows.len() > 2 {
        return Err(invalid("TimeWindowList must hold one or two windows"));
    }
    let mut prev_end = None;
    for w in windows {
        if w.window_end <= w.window_start {
            return Err(invalid("WindowEnd must be after WindowStart"));
        }
        if prev_end.is_some_and(|e| w.window_start < e) {
            return Err(invalid("time windows overlap or are out of order"));
        }
        prev_end = Some(w.window_end);
        if !WINDOW_MODES.contains(&w.window_mode.as_str()) {
            return Err(invalid(format!(
                "WindowMode {:?} is not supported (no user to confirm)",
                w.window_mode
            )));
        }
        if w.max_retries < -1 {
            return Err(invalid("MaxRetries must be -1 or more"));
        }
    }
    let mut j = job(t, Direction::Download, ctx.board, ctx.now)?;
    j.scheduled = true;
    j.windows = windows
        .iter()
        .map(|w| Window {
            start: ctx.now + i64::from(w.window_start),
            end: ctx.now + i64::from(w.window_end),
            mode: w.window_mode.clone(),
        })
        .collect();
    j.due = j.windows[0].start;
    j.retries_left = match windows[0].max_retries {
        -1 => DEFAULT_RETRIES,
        n => n,
    };
    let id = ctx.transfers.add(j)?;
    log::info!("transfer {id}: ScheduleDownload of {:?}", t.file_type);
    Ok(CpeMessage::ScheduleDownloadResponse)
}

/// CancelTransfer.
pub fn cancel(ctx: &mut Context, command_key: &str) -> Result<CpeMessage, Fault> {
    ctx.transfers.cancel(command_key)?;
    log::info!("transfer: {command_key:?} cancelled");
    Ok(CpeMessage::CancelTransferResponse)
}

/// GetQueuedTransfers (downloads) and GetAllQueuedTransfers.
pub fn queued(ctx: &Context, all: bool) -> CpeMessage {
    let list = ctx.transfers.listing(all);
    if all {
        CpeMessage::GetAllQueuedTransfersResponse { list }
    } else {
        CpeMessage::GetQueuedTransfersResponse { list }
    }
}
