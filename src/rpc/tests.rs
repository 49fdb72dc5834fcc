//! Every RPC's success and fault paths against the Linux board.

use super::*;
use crate::config::Config;
use crate::device::Device;
use crate::soap::{ParameterValue, SetParameterAttribute, Transfer};

struct Env {
    dev: Device,
    dir: std::path::PathBuf,
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
    Env {
        dev: Device::open(&cfg).unwrap(),
        dir,
    }
}

fn call(e: &mut Env, actions: &mut Actions, msg: AcsMessage) -> CpeMessage {
    handle(
        msg,
        &mut Context {
            model: &mut e.dev.model,
            actions,
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
            assert_eq!(list[0].xsd_type, "unsignedInt")
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
        a,
        Actions {
            reboot: Some("rk".into()),
            factory_reset: true,
            scheduled: vec![(5, "s".into())],
            set_by_acs: vec![]
        }
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
        9000
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
