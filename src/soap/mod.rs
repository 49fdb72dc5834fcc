//! CWMP SOAP messages: bytes ↔ typed messages (TR-069 Annex A). No I/O, no model, no clock.
//!
//! [`decode`] turns what the ACS sends into a [`Header`] and an [`AcsMessage`] (one variant per
//! RPC, named as in the spec); [`encode`] turns a [`CpeMessage`] into an envelope in the ACS's
//! CWMP namespace. Namespaces are matched by URI, never by prefix. Untrusted input is bounded
//! (see `xml.rs` and the `MAX_*` constants) and never panics; [`fuzz_decode`] is the entry point
//! of the fuzz target. What cwmpd sends is bounded too: a GetParameterValuesResponse carries a
//! [`ValueList`], values encoded as the RPC reads them, at most [`MAX_VALUES_BYTES`], and
//! [`encode_owned`] builds the envelope around it without a second copy.

mod decode;
mod encode;
pub mod fault;
pub mod redact;
#[doc(hidden)]
pub mod samples;
mod values;
pub mod xml;

use std::fmt;

pub use decode::decode;
pub use encode::{encode, encode_owned};
pub use values::{TooLarge, ValueList};

use fault::Fault;

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP encoding namespace.
pub const SOAP_ENC: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// Most entries in one list argument (parameter names, values, attributes).
pub const MAX_LIST: usize = 16_384;
/// Longest parameter name (TR-069 A.3.2.1: string(256)).
pub const MAX_NAME: usize = 256;
/// Longest CommandKey / ParameterKey (string(32)).
pub const MAX_KEY: usize = 32;
/// Most bytes of XML in the ParameterList of one GetParameterValuesResponse (issue 13 §3): a
/// larger answer is 9004 Resources exceeded, and is not built. 16 MiB is about 100,000 values
/// of typical length (`model::MAX_RESULTS`); the envelope around the list adds its header.
pub const MAX_VALUES_BYTES: usize = 16 << 20;

/// CWMP versions (namespace `urn:dslforum-org:cwmp-1-N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CwmpVersion {
    /// cwmp-1-0
    V1_0,
    /// cwmp-1-1
    V1_1,
    /// cwmp-1-2
    V1_2,
    /// cwmp-1-3
    V1_3,
    /// cwmp-1-4
    V1_4,
}

impl CwmpVersion {
    /// The highest version cwmpd speaks: what its Inform offers (cwmp-1-2 namespace with
    /// SupportedCWMPVersions, TR-069 §3.7.4).
    pub const HIGHEST: CwmpVersion = CwmpVersion::V1_4;

    /// All versions, oldest first.
    pub const ALL: [CwmpVersion; 5] = [
        CwmpVersion::V1_0,
        CwmpVersion::V1_1,
        CwmpVersion::V1_2,
        CwmpVersion::V1_3,
        CwmpVersion::V1_4,
    ];

    /// The namespace URI. CWMP 1.3 and 1.4 add header elements to the cwmp-1-2 namespace
    /// rather than defining their own (their schemas' targetNamespace is cwmp-1-2); the
    /// version is negotiated with SupportedCWMPVersions / UseCWMPVersion.
    pub fn ns(self) -> &'static str {
        match self {
            CwmpVersion::V1_0 => "urn:dslforum-org:cwmp-1-0",
            CwmpVersion::V1_1 => "urn:dslforum-org:cwmp-1-1",
            CwmpVersion::V1_2 | CwmpVersion::V1_3 | CwmpVersion::V1_4 => {
                "urn:dslforum-org:cwmp-1-2"
            }
        }
    }

    /// The version of a namespace URI. `cwmp-1-3` and `cwmp-1-4` do not exist, but some ACSs
    /// send them; they are understood rather than refused.
    pub fn from_ns(ns: &str) -> Option<CwmpVersion> {
        Some(match ns {
            "urn:dslforum-org:cwmp-1-0" => CwmpVersion::V1_0,
            "urn:dslforum-org:cwmp-1-1" => CwmpVersion::V1_1,
            "urn:dslforum-org:cwmp-1-2" => CwmpVersion::V1_2,
            "urn:dslforum-org:cwmp-1-3" => CwmpVersion::V1_3,
            "urn:dslforum-org:cwmp-1-4" => CwmpVersion::V1_4,
            _ => return None,
        })
    }

    /// `1.N` as used in SupportedCWMPVersions / UseCWMPVersion.
    pub fn label(self) -> &'static str {
        match self {
            CwmpVersion::V1_0 => "1.0",
            CwmpVersion::V1_1 => "1.1",
            CwmpVersion::V1_2 => "1.2",
            CwmpVersion::V1_3 => "1.3",
            CwmpVersion::V1_4 => "1.4",
        }
    }
}

/// SOAP header fields (TR-069 A.4.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// cwmp:ID, echoed in the response.
    pub id: Option<String>,
    /// cwmp:HoldRequests (ACS → CPE): the CPE must not send requests while true.
    pub hold_requests: Option<bool>,
    /// cwmp:SessionTimeout, seconds (CPE → ACS in Inform, cwmp-1-2+).
    pub session_timeout: Option<u32>,
    /// cwmp:SupportedCWMPVersions (CPE → ACS in Inform).
    pub supported_versions: Option<String>,
    /// cwmp:UseCWMPVersion (ACS → CPE in InformResponse).
    pub use_version: Option<String>,
    /// cwmp:NoMoreRequests (deprecated, cwmp-1-0).
    pub no_more_requests: bool,
}

/// ParameterValueStruct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterValue {
    /// Full path.
    pub name: String,
    /// Value in lexical form.
    pub value: String,
    /// `xsi:type` local name (`string`, `unsignedInt` …); empty when absent.
    pub xsd_type: String,
}

/// ParameterInfoStruct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterInfo {
    /// Path.
    pub name: String,
    /// Writable.
    pub writable: bool,
}

/// ParameterAttributeStruct (GetParameterAttributesResponse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterAttribute {
    /// Path.
    pub name: String,
    /// 0, 1 or 2.
    pub notification: u8,
    /// AccessList.
    pub access_list: Vec<String>,
}

/// SetParameterAttributesStruct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetParameterAttribute {
    /// Path (full or partial).
    pub name: String,
    /// NotificationChange.
    pub notification_change: bool,
    /// Notification.
    pub notification: u8,
    /// AccessListChange.
    pub access_list_change: bool,
    /// AccessList.
    pub access_list: Vec<String>,
}

/// EventStruct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStruct {
    /// EventCode.
    pub code: String,
    /// CommandKey.
    pub command_key: String,
}

/// DeviceIdStruct.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceId {
    /// Manufacturer.
    pub manufacturer: String,
    /// OUI.
    pub oui: String,
    /// ProductClass.
    pub product_class: String,
    /// SerialNumber.
    pub serial_number: String,
}

/// TimeWindowStruct (ScheduleDownload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeWindow {
    /// Seconds from now when the window opens.
    pub window_start: u32,
    /// Seconds from now when it closes.
    pub window_end: u32,
    /// WindowMode (`1 At Any Time`, `2 Immediately`, `3 When Idle`, `4 Confirmation Needed`).
    pub window_mode: String,
    /// UserMessage.
    pub user_message: String,
    /// MaxRetries.
    pub max_retries: i32,
}

/// A transfer request (Download, and the common part of Upload and ScheduleDownload).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transfer {
    /// CommandKey.
    pub command_key: String,
    /// FileType (`1 Firmware Upgrade Image` …).
    pub file_type: String,
    /// URL.
    pub url: String,
    /// Username for the file server.
    pub username: String,
    /// Password for the file server.
    pub password: String,
    /// FileSize (0 when unknown).
    pub file_size: u32,
    /// TargetFileName.
    pub target_file_name: String,
    /// DelaySeconds.
    pub delay_seconds: u32,
    /// SuccessURL.
    pub success_url: String,
    /// FailureURL.
    pub failure_url: String,
}

/// QueuedTransferStruct / AllQueuedTransferStruct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTransfer {
    /// CommandKey.
    pub command_key: String,
    /// 1 not yet started, 2 in progress, 3 completed.
    pub state: u8,
    /// IsDownload (All… only).
    pub is_download: bool,
    /// FileType (All… only).
    pub file_type: String,
    /// FileSize (All… only).
    pub file_size: u32,
    /// TargetFileName (All… only).
    pub target_file_name: String,
}

/// The outcome of a transfer (TransferComplete / AutonomousTransferComplete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferResult {
    /// CommandKey (empty for autonomous transfers).
    pub command_key: String,
    /// 0 on success, else a 90xx code.
    pub fault_code: u32,
    /// FaultString.
    pub fault_string: String,
    /// StartTime.
    pub start_time: String,
    /// CompleteTime.
    pub complete_time: String,
}

/// A message from the ACS.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum AcsMessage {
    /// GetRPCMethods.
    GetRPCMethods,
    /// GetParameterValues.
    GetParameterValues { names: Vec<String> },
    /// SetParameterValues.
    SetParameterValues {
        list: Vec<ParameterValue>,
        parameter_key: String,
    },
    /// GetParameterNames.
    GetParameterNames { path: String, next_level: bool },
    /// GetParameterAttributes.
    GetParameterAttributes { names: Vec<String> },
    /// SetParameterAttributes.
    SetParameterAttributes { list: Vec<SetParameterAttribute> },
    /// AddObject.
    AddObject {
        object_name: String,
        parameter_key: String,
    },
    /// DeleteObject.
    DeleteObject {
        object_name: String,
        parameter_key: String,
    },
    /// Reboot.
    Reboot { command_key: String },
    /// FactoryReset.
    FactoryReset,
    /// Download.
    Download(Transfer),
    /// Upload.
    Upload(Transfer),
    /// ScheduleInform.
    ScheduleInform {
        delay_seconds: u32,
        command_key: String,
    },
    /// ScheduleDownload.
    ScheduleDownload {
        transfer: Transfer,
        windows: Vec<TimeWindow>,
    },
    /// CancelTransfer.
    CancelTransfer { command_key: String },
    /// GetQueuedTransfers.
    GetQueuedTransfers,
    /// GetAllQueuedTransfers.
    GetAllQueuedTransfers,
    /// InformResponse.
    InformResponse { max_envelopes: u32 },
    /// TransferCompleteResponse.
    TransferCompleteResponse,
    /// AutonomousTransferCompleteResponse.
    AutonomousTransferCompleteResponse,
    /// GetRPCMethodsResponse (to the CPE's GetRPCMethods).
    GetRPCMethodsResponse { methods: Vec<String> },
    /// A SOAP fault from the ACS (8000–8006 in cwmp:Fault, or a bare SOAP fault with 0).
    Fault { code: u32, string: String },
    /// A method cwmpd does not know; answered with 9000.
    Unknown { name: String },
}

impl AcsMessage {
    /// The RPC name, for logs.
    pub fn name(&self) -> &str {
        match self {
            AcsMessage::GetRPCMethods => "GetRPCMethods",
            AcsMessage::GetParameterValues { .. } => "GetParameterValues",
            AcsMessage::SetParameterValues { .. } => "SetParameterValues",
            AcsMessage::GetParameterNames { .. } => "GetParameterNames",
            AcsMessage::GetParameterAttributes { .. } => "GetParameterAttributes",
            AcsMessage::SetParameterAttributes { .. } => "SetParameterAttributes",
            AcsMessage::AddObject { .. } => "AddObject",
            AcsMessage::DeleteObject { .. } => "DeleteObject",
            AcsMessage::Reboot { .. } => "Reboot",
            AcsMessage::FactoryReset => "FactoryReset",
            AcsMessage::Download(_) => "Download",
            AcsMessage::Upload(_) => "Upload",
            AcsMessage::ScheduleInform { .. } => "ScheduleInform",
            AcsMessage::ScheduleDownload { .. } => "ScheduleDownload",
            AcsMessage::CancelTransfer { .. } => "CancelTransfer",
            AcsMessage::GetQueuedTransfers => "GetQueuedTransfers",
            AcsMessage::GetAllQueuedTransfers => "GetAllQueuedTransfers",
            AcsMessage::InformResponse { .. } => "InformResponse",
            AcsMessage::TransferCompleteResponse => "TransferCompleteResponse",
            AcsMessage::AutonomousTransferCompleteResponse => "AutonomousTransferCompleteResponse",
            AcsMessage::GetRPCMethodsResponse { .. } => "GetRPCMethodsResponse",
            AcsMessage::Fault { .. } => "Fault",
            AcsMessage::Unknown { name } => name,
        }
    }
}

/// A message from the CPE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpeMessage {
    /// Inform.
    Inform {
        device_id: DeviceId,
        events: Vec<EventStruct>,
        max_envelopes: u32,
        current_time: String,
        retry_count: u32,
        parameters: Vec<ParameterValue>,
    },
    /// GetRPCMethods (CPE asking the ACS).
    GetRPCMethods,
    /// TransferComplete.
    TransferComplete(TransferResult),
    /// AutonomousTransferComplete.
    AutonomousTransferComplete {
        result: TransferResult,
        announce_url: String,
        transfer_url: String,
        is_download: bool,
        file_type: String,
        file_size: u32,
        target_file_name: String,
    },
    /// GetRPCMethodsResponse.
    GetRPCMethodsResponse { methods: Vec<String> },
    /// GetParameterValuesResponse: its values already in XML form (bounded).
    GetParameterValuesResponse { list: ValueList },
    /// SetParameterValuesResponse.
    SetParameterValuesResponse { status: u8 },
    /// GetParameterNamesResponse.
    GetParameterNamesResponse { list: Vec<ParameterInfo> },
    /// GetParameterAttributesResponse.
    GetParameterAttributesResponse { list: Vec<ParameterAttribute> },
    /// SetParameterAttributesResponse.
    SetParameterAttributesResponse,
    /// AddObjectResponse.
    AddObjectResponse { instance_number: u32, status: u8 },
    /// DeleteObjectResponse.
    DeleteObjectResponse { status: u8 },
    /// RebootResponse.
    RebootResponse,
    /// FactoryResetResponse.
    FactoryResetResponse,
    /// DownloadResponse.
    DownloadResponse {
        status: u8,
        start_time: String,
        complete_time: String,
    },
    /// UploadResponse.
    UploadResponse {
        status: u8,
        start_time: String,
        complete_time: String,
    },
    /// ScheduleInformResponse.
    ScheduleInformResponse,
    /// ScheduleDownloadResponse.
    ScheduleDownloadResponse,
    /// CancelTransferResponse.
    CancelTransferResponse,
    /// GetQueuedTransfersResponse.
    GetQueuedTransfersResponse { list: Vec<QueuedTransfer> },
    /// GetAllQueuedTransfersResponse.
    GetAllQueuedTransfersResponse { list: Vec<QueuedTransfer> },
    /// A CWMP fault answering an ACS request.
    Fault(Fault),
}

/// Why bytes from the ACS could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not well-formed XML (or a DOCTYPE).
    Xml(String),
    /// Well-formed, but not a SOAP envelope.
    NotEnvelope(String),
    /// A required argument is missing.
    Missing { rpc: String, field: &'static str },
    /// An argument has the wrong form (a number that is not one, a bad boolean …).
    Invalid { rpc: String, field: &'static str },
    /// A named limit was exceeded.
    Limit(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Xml(m) => write!(f, "soap: malformed XML: {m}"),
            DecodeError::NotEnvelope(m) => write!(f, "soap: not a SOAP envelope: {m}"),
            DecodeError::Missing { rpc, field } => write!(f, "soap: {rpc}: missing {field}"),
            DecodeError::Invalid { rpc, field } => write!(f, "soap: {rpc}: invalid {field}"),
            DecodeError::Limit(what) => write!(f, "soap: limit exceeded: {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A decoded ACS message with its envelope facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Header fields.
    pub header: Header,
    /// The message; `None` for an empty body (the ACS has nothing to say).
    pub message: Option<AcsMessage>,
    /// The CWMP namespace the ACS used, when the body was a CWMP element.
    pub version: Option<CwmpVersion>,
    /// When the body named an RPC whose arguments were wrong: the RPC name and the error (the
    /// CPE answers 9003 Invalid arguments, echoing the header's ID).
    pub invalid: Option<(String, DecodeError)>,
}

/// The fuzz entry point: decode anything; must never panic.
pub fn fuzz_decode(bytes: &[u8]) {
    if let Ok(d) = decode(bytes) {
        let _ = d.message.as_ref().map(|m| m.name().len());
    }
}

#[cfg(test)]
mod tests;
