//! Every RPC's success and fault paths against the Linux board.

use super::*;
use crate::board::TransferBoard;
use crate::config::Config;
use crate::device::Device;
use crate::soap::{ParameterValue, SetParameterAttribute, Transfer};

/// Counts the saves it is asked for, and fails them when told to.
#[derive(Default)]
struct Counting {
    saves: usize,
    fail: bool,
}

impl Journal for Counting {
    fn save(
        &mut self,
        _model: &mut Model,
        _pending: &Pending,
        _set_by_acs: &[String],
    ) -> Result<(), SaveError> {
        if self.fail {
            return Err(SaveError(crate::store::StoreError::Io(
                "/state".into(),
                std::io::Error::other("disk full"),
            )));
        }
        self.saves += 1;
        Ok(())
    }
}

struct Env {
    dev: Device,
    dir: std::path::PathBuf,
    pending: Pending,
    journal: Counting,
    board: TransferBoard,
    now: i64,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn env(tag: &str) -> Env {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!("cwmpd-rpc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!("[acs]\nurl = \"http://127.0.0.1:1/\"\n[paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{root}/board/linux.toml\"\nstate_dir = \"{}\"\n", dir.display());
    let cfg = Config::parse(&text, "t", std::path::Path::new("/")).unwrap();
    let board = TransferBoard::read(crate::codec::toml::Fields::new(crate::codec::toml::parse(
        "[download.\"1 Firmware Upgrade Image\"]\napply = [\"true\"]\n[upload.\"2 Vendor Log File\"]\ncommand = [\"true\"]\n",
    ).unwrap()))
    .unwrap();
    Env {
        dev: Device::open(&cfg).unwrap(),
        dir,
        pending: Pending::default(),
        journal: Counting::default(),
        board,
        now: 1_000_000,
    }
}

fn call(e: &mut Env, actions: &mut Actions, msg: AcsMessage) -> CpeMessage {
    call_in(e, actions, msg, CwmpVersion::V1_4)
}

fn call_in(e: &mut Env, actions: &mut Actions, msg: AcsMessage, v: CwmpVersion) -> CpeMessage {
    handle(
        msg,
        v,
        &mut Context {
            model: &mut e.dev.model,
            actions,
            pending: &mut e.pending,
            journal: &mut e.journal,
            board: &e.board,
            now: e.now,
        },
    )
}

fn fault_code(m: &CpeMessage) -> u32 {
    match m {
        CpeMessage::Fault(f) => f.code.code(),
        other => panic!("not a fault: {other:?}"),
    }
}

#[test]
fn parameter_rpcs_succeed_and_fault() {
    let mut e = env("params");
    let mut a = Actions::default();
    match call(
        &mut e,
        &mut a,
        AcsMessage::GetParameterValues {
            names: vec!["Device.DeviceInfo.UpTime".into()],
        },
    ) {
        CpeMessage::GetParameterValuesResponse { list } => {
            assert_eq!(list.iter().next().unwrap().xsd_type, "unsignedInt")
        }
        m => panic!("{m:?}"),
    }
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::GetParameterValues {
                names: vec!["Device.Nope".into()]
            }
        )),
        9005
    );
    let spv = |v: &str| AcsMessage::SetParameterValues {
        list: vec![ParameterValue {
            name: "Device.ManagementServer.PeriodicInformInterval".into(),
            value: v.into(),
            xsd_type: "unsignedInt".into(),
        }],
        parameter_key: "pk".into(),
    };
    assert_eq!(
        call(&mut e, &mut a, spv("60")),
        CpeMessage::SetParameterValuesResponse { status: 0 }
    );
    match call(&mut e, &mut a, spv("0")) {
        CpeMessage::Fault(f) => {
            assert_eq!((f.code.code(), f.parameters[0].code.code()), (9003, 9007))
        }
        m => panic!("{m:?}"),
    }
    assert!(matches!(
        call(
            &mut e,
            &mut a,
            AcsMessage::GetParameterNames {
                path: "Device.".into(),
                next_level: true
            }
        ),
        CpeMessage::GetParameterNamesResponse { .. }
    ));
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::GetParameterNames {
                path: "Device.DeviceInfo.UpTime".into(),
                next_level: true
            }
        )),
        9003
    );
    let spa = |name: &str, n: u8| AcsMessage::SetParameterAttributes {
        list: vec![SetParameterAttribute {
            name: name.into(),
            notification_change: true,
            notification: n,
            access_list_change: false,
            access_list: vec![],
        }],
    };
    assert_eq!(
        call(&mut e, &mut a, spa("Device.DeviceInfo.ProvisioningCode", 2)),
        CpeMessage::SetParameterAttributesResponse
    );
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            spa("Device.DeviceInfo.SoftwareVersion", 0)
        )),
        9009
    );
    match call(
        &mut e,
        &mut a,
        AcsMessage::GetParameterAttributes {
            names: vec!["Device.DeviceInfo.ProvisioningCode".into()],
        },
    ) {
        CpeMessage::GetParameterAttributesResponse { list } => assert_eq!(list[0].notification, 2),
        m => panic!("{m:?}"),
    }
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::AddObject {
                object_name: "Device.IP.Interface.".into(),
                parameter_key: "k".into()
            }
        )),
        9001
    );
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::AddObject {
                object_name: "Device.Nope.".into(),
                parameter_key: "k".into()
            }
        )),
        9005
    );
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::DeleteObject {
                object_name: "Device.IP.Interface.1.".into(),
                parameter_key: "k".into()
            }
        )),
        9001
    );
}

#[test]
fn control_rpcs_record_actions() {
    let mut e = env("control");
    let mut a = Actions::default();
    assert_eq!(
        call(
            &mut e,
            &mut a,
            AcsMessage::Reboot {
                command_key: "rk".into()
            }
        ),
        CpeMessage::RebootResponse
    );
    assert_eq!(
        call(&mut e, &mut a, AcsMessage::FactoryReset),
        CpeMessage::FactoryResetResponse
    );
    assert_eq!(
        call(
            &mut e,
            &mut a,
            AcsMessage::ScheduleInform {
                delay_seconds: 5,
                command_key: "s".into()
            }
        ),
        CpeMessage::ScheduleInformResponse
    );
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::ScheduleInform {
                delay_seconds: 0,
                command_key: "s".into()
            }
        )),
        9003
    );
    assert_eq!(
        e.pending.reboot,
        Some(Reboot {
            command_key: "rk".into(),
            issued_in: None,
            attempts: 0,
        })
    );
    assert!(e.pending.factory_reset);
    assert_eq!(
        e.pending.scheduled,
        [Scheduled {
            due: e.now + 5,
            command_key: "s".into()
        }]
    );
    for _ in 0..control::MAX_SCHEDULED {
        call(
            &mut e,
            &mut a,
            AcsMessage::ScheduleInform {
                delay_seconds: 5,
                command_key: "s".into(),
            },
        );
    }
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::ScheduleInform {
                delay_seconds: 5,
                command_key: "x".into()
            }
        )),
        9004
    );
}

#[test]
fn a_session_offers_only_the_methods_of_its_version() {
    let mut e = env("versions");
    let mut a = Actions::default();
    let listed = |e: &mut Env, a: &mut Actions, v| match call_in(e, a, AcsMessage::GetRPCMethods, v)
    {
        CpeMessage::GetRPCMethodsResponse { methods } => methods,
        m => panic!("{m:?}"),
    };
    let v10 = listed(&mut e, &mut a, CwmpVersion::V1_0);
    assert_eq!(v10.len(), 14);
    assert!(!v10
        .iter()
        .any(|m| m == "GetAllQueuedTransfers" || m == "CancelTransfer"));
    let v11 = listed(&mut e, &mut a, CwmpVersion::V1_1);
    assert!(v11.contains(&"GetAllQueuedTransfers".to_string()));
    assert!(!v11.contains(&"ScheduleDownload".to_string()));
    assert_eq!(listed(&mut e, &mut a, CwmpVersion::V1_2).len(), 17);
    for (msg, v) in [
        (AcsMessage::GetAllQueuedTransfers, CwmpVersion::V1_0),
        (
            AcsMessage::CancelTransfer {
                command_key: "k".into(),
            },
            CwmpVersion::V1_1,
        ),
        (
            AcsMessage::ScheduleDownload {
                transfer: Transfer::default(),
                windows: Vec::new(),
            },
            CwmpVersion::V1_1,
        ),
    ] {
        assert_eq!(fault_code(&call_in(&mut e, &mut a, msg, v)), 9000);
    }
    assert!(matches!(
        call_in(
            &mut e,
            &mut a,
            AcsMessage::GetAllQueuedTransfers,
            CwmpVersion::V1_1
        ),
        CpeMessage::GetAllQueuedTransfersResponse { .. }
    ));
}

#[test]
fn unsupported_and_misplaced_messages_fault() {
    let mut e = env("other");
    let mut a = Actions::default();
    match call(&mut e, &mut a, AcsMessage::GetRPCMethods) {
        CpeMessage::GetRPCMethodsResponse { methods } => {
            assert!(methods.contains(&"SetParameterValues".to_string()))
        }
        m => panic!("{m:?}"),
    }
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::Download(Transfer::default())
        )),
        9013
    );
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::Unknown { name: "X".into() }
        )),
        9000
    );
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::InformResponse { max_envelopes: 1 }
        )),
        9003
    );
}

fn fw(key: &str, url: &str, delay: u32) -> Transfer {
    Transfer {
        command_key: key.into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url: url.into(),
        delay_seconds: delay,
        file_size: 10,
        ..Default::default()
    }
}

fn window(start: u32, end: u32, mode: &str) -> crate::soap::TimeWindow {
    crate::soap::TimeWindow {
        window_start: start,
        window_end: end,
        window_mode: mode.into(),
        user_message: String::new(),
        max_retries: -1,
    }
}

#[test]
fn download_and_upload_are_queued_with_status_1_or_faulted() {
    let mut e = env("xfer");
    let mut a = Actions::default();
    match call(
        &mut e,
        &mut a,
        AcsMessage::Download(fw("k1", "http://h/fw", 30)),
    ) {
        CpeMessage::DownloadResponse {
            status, start_time, ..
        } => {
            assert_eq!(status, 1);
            assert_eq!(start_time, "0001-01-01T00:00:00Z");
        }
        m => panic!("{m:?}"),
    }
    let j = &e.pending.transfers.jobs[0];
    assert_eq!(
        (j.due, j.file_size, j.command_key.as_str()),
        (1_000_030, 10, "k1")
    );
    let up = Transfer {
        command_key: "u".into(),
        file_type: "2 Vendor Log File".into(),
        url: "https://h/up".into(),
        ..Default::default()
    };
    assert!(matches!(
        call(&mut e, &mut a, AcsMessage::Upload(up.clone())),
        CpeMessage::UploadResponse { status: 1, .. }
    ));
    let cases = [
        (AcsMessage::Download(fw("f", "ftp://h/fw", 0)), 9013),
        (AcsMessage::Download(fw("f", "http://u:p@h/fw", 0)), 9003),
        (AcsMessage::Download(fw("f", "http://", 0)), 9003),
        (
            AcsMessage::Download(Transfer {
                file_type: "2 Web Content".into(),
                ..fw("f", "http://h/x", 0)
            }),
            9003,
        ),
        (
            AcsMessage::Upload(Transfer {
                file_type: "1 Vendor Configuration File".into(),
                ..up.clone()
            }),
            9003,
        ),
    ];
    for (msg, code) in cases {
        assert_eq!(
            fault_code(&call(&mut e, &mut a, msg.clone())),
            code,
            "{msg:?}"
        );
    }
    for i in 2..crate::transfer::MAX_JOBS {
        call(
            &mut e,
            &mut a,
            AcsMessage::Download(fw(&format!("k{i}"), "http://h/fw", 0)),
        );
    }
    assert_eq!(
        fault_code(&call(
            &mut e,
            &mut a,
            AcsMessage::Download(fw("x", "http://h/fw", 0))
        )),
        9004
    );
}

#[test]
fn schedule_download_checks_its_windows() {
    let mut e = env("sched");
    let mut a = Actions::default();
    let sd = |w: Vec<crate::soap::TimeWindow>| AcsMessage::ScheduleDownload {
        transfer: fw("s", "http://h/fw", 0),
        windows: w,
    };
    let bad = [
        vec![],
        vec![window(10, 5, "1 At Any Time")],
        vec![window(0, 60, "4 Confirmation Needed")],
        vec![
            window(0, 60, "1 At Any Time"),
            window(30, 90, "1 At Any Time"),
        ],
        vec![window(0, 1, "1 At Any Time"); 3],
        vec![window(0, 60, "9 Whenever")],
    ];
    for w in bad {
        assert_eq!(
            fault_code(&call(&mut e, &mut a, sd(w.clone()))),
            9003,
            "{w:?}"
        );
    }
    assert_eq!(
        call(
            &mut e,
            &mut a,
            sd(vec![
                window(60, 120, "2 Immediately"),
                window(300, 400, "3 When Idle")
            ])
        ),
        CpeMessage::ScheduleDownloadResponse
    );
    let j = &e.pending.transfers.jobs[0];
    assert!(j.scheduled);
    assert_eq!(j.due, 1_000_060);
    assert_eq!(j.windows[1].start, 1_000_300);
    assert_eq!(j.retries_left, crate::transfer::DEFAULT_RETRIES);
}

#[test]
fn cancel_and_queue_listings() {
    let mut e = env("cancel");
    let mut a = Actions::default();
    call(
        &mut e,
        &mut a,
        AcsMessage::Download(fw("a", "http://h/fw", 99)),
    );
    call(
        &mut e,
        &mut a,
        AcsMessage::Download(fw("b", "http://h/fw", 99)),
    );
    call(
        &mut e,
        &mut a,
        AcsMessage::Upload(Transfer {
            command_key: "u".into(),
            file_type: "2 Vendor Log File".into(),
            url: "http://h/up".into(),
            ..Default::default()
        }),
    );
    let keys = |m: CpeMessage| match m {
        CpeMessage::GetQueuedTransfersResponse { list }
        | CpeMessage::GetAllQueuedTransfersResponse { list } => list
            .iter()
            .map(|q| (q.command_key.clone(), q.state, q.is_download))
            .collect::<Vec<_>>(),
        m => panic!("{m:?}"),
    };
    assert_eq!(
        keys(call(&mut e, &mut a, AcsMessage::GetQueuedTransfers)),
        [("a".into(), 1, true), ("b".into(), 1, true)]
    );
    e.pending.transfers.start(2, e.now);
    assert_eq!(
        keys(call(&mut e, &mut a, AcsMessage::GetAllQueuedTransfers)),
        [
            ("a".into(), 1, true),
            ("b".into(), 2, true),
            ("u".into(), 1, false)
        ]
    );
    let cancel = |k: &str| AcsMessage::CancelTransfer {
        command_key: k.into(),
    };
    assert_eq!(
        call(&mut e, &mut a, cancel("a")),
        CpeMessage::CancelTransferResponse
    );
    assert_eq!(fault_code(&call(&mut e, &mut a, cancel("a"))), 9003);
    assert_eq!(fault_code(&call(&mut e, &mut a, cancel("b"))), 9021);
    e.pending.transfers.finish(2, Ok(()), e.now);
    assert_eq!(
        keys(call(&mut e, &mut a, AcsMessage::GetAllQueuedTransfers)),
        [("u".into(), 1, false), ("b".into(), 3, true)]
    );
}

fn interval(v: &str, key: &str) -> AcsMessage {
    AcsMessage::SetParameterValues {
        list: vec![ParameterValue {
            name: "Device.ManagementServer.PeriodicInformInterval".into(),
            value: v.into(),
            xsd_type: "unsignedInt".into(),
        }],
        parameter_key: key.into(),
    }
}

#[test]
fn every_change_is_saved_once_before_its_answer_and_reads_never() {
    let mut e = env("journal");
    let mut a = Actions::default();
    let changes = [
        interval("60", "k1"),
        AcsMessage::SetParameterAttributes {
            list: vec![SetParameterAttribute {
                name: "Device.ManagementServer.PeriodicInformInterval".into(),
                notification_change: true,
                notification: 1,
                access_list_change: false,
                access_list: vec![],
            }],
        },
        AcsMessage::ScheduleInform {
            delay_seconds: 5,
            command_key: "s".into(),
        },
        AcsMessage::Download(fw("d", "http://127.0.0.1:1/fw", 0)),
        AcsMessage::CancelTransfer {
            command_key: "d".into(),
        },
        AcsMessage::Reboot {
            command_key: "r".into(),
        },
        AcsMessage::FactoryReset,
    ];
    for (n, msg) in changes.into_iter().enumerate() {
        let name = msg.name().to_string();
        let answer = call(&mut e, &mut a, msg);
        assert!(
            !matches!(answer, CpeMessage::Fault(_)),
            "{name}: {answer:?}"
        );
        assert_eq!(e.journal.saves, n + 1, "{name}: one save");
    }
    let reads = [
        AcsMessage::GetParameterValues {
            names: vec!["Device.".into()],
        },
        AcsMessage::GetParameterNames {
            path: "Device.".into(),
            next_level: false,
        },
        AcsMessage::GetParameterAttributes {
            names: vec!["Device.ManagementServer.".into()],
        },
        AcsMessage::GetRPCMethods,
        AcsMessage::GetQueuedTransfers,
        AcsMessage::GetAllQueuedTransfers,
    ];
    let saved = e.journal.saves;
    for msg in reads {
        call(&mut e, &mut a, msg);
    }
    assert_eq!(e.journal.saves, saved, "reads write nothing");
    // A refused change writes nothing either.
    assert_eq!(fault_code(&call(&mut e, &mut a, interval("0", "k2"))), 9003);
    assert_eq!(e.journal.saves, saved);
}

#[test]
fn a_change_that_cannot_be_saved_is_9002_and_undone() {
    let mut e = env("unsaved");
    let mut a = Actions::default();
    let read = |e: &mut Env| {
        e.dev
            .model
            .lookup(&["Device.ManagementServer.PeriodicInformInterval"])
            .pop()
            .flatten()
    };
    let before = read(&mut e);
    e.journal.fail = true;
    assert_eq!(fault_code(&call(&mut e, &mut a, interval("77", "k"))), 9002);
    assert_eq!(read(&mut e), before, "the value is back");
    assert_eq!(
        e.dev.model.state().parameter_key,
        "",
        "and the ParameterKey"
    );
    assert!(a.set_by_acs.is_empty());
    for msg in [
        AcsMessage::ScheduleInform {
            delay_seconds: 5,
            command_key: "s".into(),
        },
        AcsMessage::Download(fw("d", "http://127.0.0.1:1/fw", 0)),
        AcsMessage::Reboot {
            command_key: "r".into(),
        },
        AcsMessage::FactoryReset,
    ] {
        let name = msg.name().to_string();
        assert_eq!(fault_code(&call(&mut e, &mut a, msg)), 9002, "{name}");
        assert_eq!(e.pending, Pending::default(), "{name}: nothing pending");
    }
    e.journal.fail = false;
    assert_eq!(
        call(&mut e, &mut a, interval("77", "k")),
        CpeMessage::SetParameterValuesResponse { status: 0 }
    );
    assert_eq!(read(&mut e).as_deref(), Some("77"));
}
