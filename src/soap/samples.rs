//! One of every CPE message, shared by the codec's unit tests and the schema validation test.

use super::fault::{FaultCode, ParameterFault};
use super::*;

/// One of every CPE message, for encoding tests (also used by the schema validation test).
pub fn every_cpe_message() -> Vec<CpeMessage> {
    let r = TransferResult {
        command_key: "k".into(),
        fault_code: 0,
        fault_string: String::new(),
        start_time: "2024-01-01T00:00:00Z".into(),
        complete_time: "2024-01-01T00:00:05Z".into(),
    };
    vec![
        CpeMessage::Inform {
            device_id: DeviceId {
                manufacturer: "cwmpd & co".into(),
                oui: "02FC00".into(),
                product_class: "Linux".into(),
                serial_number: "abc".into(),
            },
            events: vec![
                EventStruct {
                    code: "0 BOOTSTRAP".into(),
                    command_key: String::new(),
                },
                EventStruct {
                    code: "M Reboot".into(),
                    command_key: "r1".into(),
                },
            ],
            max_envelopes: 1,
            current_time: "2024-01-01T00:00:00Z".into(),
            retry_count: 0,
            parameters: vec![ParameterValue {
                name: "Device.DeviceInfo.SoftwareVersion".into(),
                value: "6.1 <x>".into(),
                xsd_type: "string".into(),
            }],
        },
        CpeMessage::GetRPCMethods,
        CpeMessage::TransferComplete(r.clone()),
        CpeMessage::AutonomousTransferComplete {
            result: r,
            announce_url: String::new(),
            transfer_url: "http://x/fw".into(),
            is_download: true,
            file_type: "1 Firmware Upgrade Image".into(),
            file_size: 10,
            target_file_name: String::new(),
        },
        CpeMessage::GetRPCMethodsResponse {
            methods: vec!["GetRPCMethods".into(), "Inform".into()],
        },
        CpeMessage::GetParameterValuesResponse {
            list: [ParameterValue {
                name: "Device.X".into(),
                value: "1".into(),
                xsd_type: "unsignedInt".into(),
            }]
            .into_iter()
            .collect(),
        },
        CpeMessage::SetParameterValuesResponse { status: 1 },
        CpeMessage::GetParameterNamesResponse {
            list: vec![ParameterInfo {
                name: "Device.".into(),
                writable: false,
            }],
        },
        CpeMessage::GetParameterAttributesResponse {
            list: vec![ParameterAttribute {
                name: "Device.X".into(),
                notification: 2,
                access_list: vec!["Subscriber".into()],
            }],
        },
        CpeMessage::SetParameterAttributesResponse,
        CpeMessage::AddObjectResponse {
            instance_number: 3,
            status: 0,
        },
        CpeMessage::DeleteObjectResponse { status: 0 },
        CpeMessage::RebootResponse,
        CpeMessage::FactoryResetResponse,
        CpeMessage::DownloadResponse {
            status: 1,
            start_time: "0001-01-01T00:00:00Z".into(),
            complete_time: "0001-01-01T00:00:00Z".into(),
        },
        CpeMessage::UploadResponse {
            status: 1,
            start_time: "0001-01-01T00:00:00Z".into(),
            complete_time: "0001-01-01T00:00:00Z".into(),
        },
        CpeMessage::ScheduleInformResponse,
        CpeMessage::ScheduleDownloadResponse,
        CpeMessage::CancelTransferResponse,
        CpeMessage::GetQueuedTransfersResponse {
            list: vec![QueuedTransfer {
                command_key: "a".into(),
                state: 1,
                is_download: true,
                file_type: String::new(),
                file_size: 0,
                target_file_name: String::new(),
            }],
        },
        CpeMessage::GetAllQueuedTransfersResponse {
            list: vec![QueuedTransfer {
                command_key: "a".into(),
                state: 2,
                is_download: true,
                file_type: "1 Firmware Upgrade Image".into(),
                file_size: 5,
                target_file_name: "fw".into(),
            }],
        },
        CpeMessage::Fault(Fault {
            code: FaultCode::InvalidArguments,
            message: String::new(),
            parameters: vec![ParameterFault {
                name: "Device.X".into(),
                code: FaultCode::NonWritableParameter,
                message: "ro".into(),
            }],
        }),
    ]
}
