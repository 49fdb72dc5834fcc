//! Download, Upload, ScheduleDownload, CancelTransfer, GetQueuedTransfers and
//! GetAllQueuedTransfers (TR-069 A.3.2.8, A.4.1.5, A.3.2.9, A.4.1.8, A.4.1.11, A.4.1.3, A.4.1.4):
//! requests are checked and queued here; the agent runs them after the session and reports
//! each with the TransferComplete (or AutonomousTransferComplete) made by [`complete`].

use super::error::RequestError;
use super::fault::transfer_fault;
use super::Context;
use crate::board::TransferBoard;
use crate::codec::datetime::{self, UNKNOWN_TIME};
use crate::soap::fault::Fault;
use crate::soap::{CpeMessage, CwmpVersion, QueuedTransfer, TimeWindow, Transfer, TransferResult};
use crate::transfer::{Direction, Done, Job, Phase, Transfers, Window, DEFAULT_RETRIES};

/// Window modes cwmpd can honour: it has no user to ask ("4 Confirmation Needed").
const WINDOW_MODES: [&str; 3] = ["1 At Any Time", "2 Immediately", "3 When Idle"];

fn refuse(e: RequestError) -> Fault {
    Fault::from(&e)
}

/// Checks what every transfer request shares and builds its job.
fn job(t: &Transfer, direction: Direction, board: &TransferBoard, due: i64) -> Result<Job, Fault> {
    let lower = t.url.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(refuse(RequestError::UnsupportedProtocol(t.url.clone())));
    }
    let authority = t.url.split("://").nth(1).unwrap_or("").split('/').next();
    if authority.is_some_and(|a| a.contains('@')) {
        // TR-069 A.3.3.1: credentials go in Username/Password, never in the URL.
        return Err(refuse(RequestError::UserInfoInUrl));
    }
    if crate::http::Url::parse(&t.url).is_err() {
        return Err(refuse(RequestError::BadUrl(t.url.clone())));
    }
    let supported = match direction {
        Direction::Download => board.download.contains_key(&t.file_type),
        Direction::Upload => board.upload.contains_key(&t.file_type),
    };
    if !supported {
        return Err(refuse(RequestError::UnsupportedFileType(
            t.file_type.clone(),
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
        software_before: None,
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
    let id = ctx.pending.transfers.add(j).map_err(|e| Fault::from(&e))?;
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
        return Err(refuse(RequestError::BadWindows(
            "one or two windows are needed",
        )));
    }
    let mut prev_end = None;
    for w in windows {
        if w.window_end <= w.window_start {
            return Err(refuse(RequestError::BadWindows(
                "WindowEnd must be after WindowStart",
            )));
        }
        if prev_end.is_some_and(|e| w.window_start < e) {
            return Err(refuse(RequestError::BadWindows(
                "time windows overlap or are out of order",
            )));
        }
        prev_end = Some(w.window_end);
        if !WINDOW_MODES.contains(&w.window_mode.as_str()) {
            return Err(refuse(RequestError::UnsupportedWindowMode(
                w.window_mode.clone(),
            )));
        }
        if w.max_retries < -1 {
            return Err(refuse(RequestError::BadWindows(
                "MaxRetries must be -1 or more",
            )));
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
    let id = ctx.pending.transfers.add(j).map_err(|e| Fault::from(&e))?;
    log::info!("transfer {id}: ScheduleDownload of {:?}", t.file_type);
    Ok(CpeMessage::ScheduleDownloadResponse)
}

/// CancelTransfer.
pub fn cancel(ctx: &mut Context, command_key: &str) -> Result<CpeMessage, Fault> {
    ctx.pending
        .transfers
        .cancel(command_key)
        .map_err(|e| Fault::from(&e))?;
    log::info!("transfer: {command_key:?} cancelled");
    Ok(CpeMessage::CancelTransferResponse)
}

/// GetQueuedTransfers (downloads) and GetAllQueuedTransfers.
pub fn queued(ctx: &Context, all: bool) -> CpeMessage {
    let list = listing(&ctx.pending.transfers, all);
    if all {
        CpeMessage::GetAllQueuedTransfersResponse { list }
    } else {
        CpeMessage::GetQueuedTransfersResponse { list }
    }
}

/// GetQueuedTransfers (downloads only, `all` false) or GetAllQueuedTransfers: queued and
/// running jobs, then completed ones not yet acknowledged (state 3).
fn listing(t: &Transfers, all: bool) -> Vec<QueuedTransfer> {
    let jobs = t.jobs.iter().map(|j| QueuedTransfer {
        command_key: j.command_key.clone(),
        state: if j.phase == Phase::Waiting { 1 } else { 2 },
        is_download: j.direction == Direction::Download,
        file_type: j.file_type.clone(),
        file_size: u32::try_from(j.file_size).unwrap_or(u32::MAX),
        target_file_name: j.target_file_name.clone(),
    });
    let done = t
        .done
        .iter()
        .filter(|d| d.autonomous.is_none())
        .map(|d| QueuedTransfer {
            command_key: d.command_key.clone(),
            state: 3,
            is_download: d.direction == Direction::Download,
            file_type: d.file_type.clone(),
            file_size: u32::try_from(d.file_size).unwrap_or(u32::MAX),
            target_file_name: d.target_file_name.clone(),
        });
    jobs.chain(done).filter(|q| all || q.is_download).collect()
}

/// The CPE request that reports a finished transfer in a session of `version`:
/// TransferComplete (A.3.3.2) or AutonomousTransferComplete (A.3.3.3, CWMP 1.1 and later:
/// `None` before), its FaultStruct chosen by `rpc/fault.rs`.
pub fn complete(d: &Done, version: CwmpVersion) -> Option<CpeMessage> {
    if d.autonomous.is_some() && version < CwmpVersion::V1_1 {
        return None;
    }
    let time = |t: i64| {
        if t > 0 {
            datetime::format_utc(t)
        } else {
            UNKNOWN_TIME.to_string()
        }
    };
    let (fault_code, fault_string) = match &d.result {
        Ok(()) => (0, String::new()),
        Err(e) => {
            let download = d.direction == Direction::Download;
            let message = match e {
                crate::transfer::error::TransferError::Reported { message, .. } => message.clone(),
                e => e.to_string(),
            };
            (transfer_fault(download, e, version).code(), message)
        }
    };
    let result = TransferResult {
        command_key: d.command_key.clone(),
        fault_code,
        fault_string,
        start_time: time(d.start),
        complete_time: time(d.complete),
    };
    Some(match &d.autonomous {
        None => CpeMessage::TransferComplete(result),
        Some(a) => CpeMessage::AutonomousTransferComplete {
            result,
            announce_url: a.announce_url.clone(),
            transfer_url: a.transfer_url.clone(),
            is_download: a.is_download,
            file_type: a.file_type.clone(),
            file_size: a.file_size,
            target_file_name: a.target_file_name.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::error::TransferError;
    use crate::transfer::Autonomous;

    fn done(result: Result<(), TransferError>) -> Done {
        Done {
            direction: Direction::Download,
            scheduled: false,
            command_key: "k".into(),
            file_type: String::new(),
            file_size: 0,
            target_file_name: String::new(),
            result,
            start: 0,
            complete: 1_764_050_400,
            autonomous: None,
        }
    }

    #[test]
    fn transfer_complete_carries_times_and_the_chosen_fault() {
        let v = CwmpVersion::V1_4;
        match complete(&done(Ok(())), v).unwrap() {
            CpeMessage::TransferComplete(r) => {
                assert_eq!((r.fault_code, r.command_key.as_str()), (0, "k"));
                assert_eq!(r.start_time, UNKNOWN_TIME, "start unknown");
                assert_eq!(r.complete_time, "2025-11-25T06:00:00Z");
            }
            m => panic!("{m:?}"),
        }
        match complete(&done(Err(TransferError::Access("HTTP 404".into()))), v).unwrap() {
            CpeMessage::TransferComplete(r) => {
                assert_eq!(r.fault_code, 9016);
                assert!(r.fault_string.contains("404"), "{}", r.fault_string);
            }
            m => panic!("{m:?}"),
        }
        let mut a = done(Err(TransferError::Reported {
            code: 9011,
            message: "disk".into(),
        }));
        a.direction = Direction::Upload;
        a.autonomous = Some(Autonomous {
            announce_url: String::new(),
            transfer_url: "http://h/f".into(),
            is_download: false,
            file_type: "2 Vendor Log File".into(),
            file_size: 3,
            target_file_name: String::new(),
        });
        assert_eq!(
            complete(&a, CwmpVersion::V1_0),
            None,
            "no such message in 1.0"
        );
        match complete(&a, CwmpVersion::V1_1).unwrap() {
            CpeMessage::AutonomousTransferComplete {
                result,
                is_download: false,
                file_size: 3,
                ..
            } => assert_eq!(
                (result.fault_code, result.fault_string.as_str()),
                (9011, "disk")
            ),
            m => panic!("{m:?}"),
        }
    }

    #[test]
    fn listings_show_waiting_running_and_completed_transfers() {
        let mut t = Transfers::default();
        let job = |key: &str, direction| Job {
            id: 0,
            direction,
            scheduled: false,
            command_key: key.into(),
            file_type: "1 Firmware Upgrade Image".into(),
            url: "http://h/fw".into(),
            username: String::new(),
            password: String::new(),
            file_size: 0,
            target_file_name: String::new(),
            due: 0,
            windows: Vec::new(),
            retries_left: 0,
            phase: Phase::Waiting,
            started: None,
            file: None,
            software_before: None,
        };
        let a = t.add(job("a", Direction::Download)).unwrap();
        t.add(job("b", Direction::Download)).unwrap();
        t.add(job("u", Direction::Upload)).unwrap();
        t.start(a, 0);
        t.push_done(done(Ok(())));
        let states = |all| -> Vec<(String, u8)> {
            listing(&t, all)
                .into_iter()
                .map(|q| (q.command_key, q.state))
                .collect()
        };
        let s = |k: &str, n| (k.to_string(), n);
        assert_eq!(states(false), [s("a", 2), s("b", 1), s("k", 3)]);
        assert_eq!(states(true), [s("a", 2), s("b", 1), s("u", 1), s("k", 3)]);
    }
}
