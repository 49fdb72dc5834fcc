//! Every CWMP fault code, and the one place where errors become faults.
//!
//! TR-069 Amendment 6, A.5.1 (CPE fault codes 9000–9021) and A.5.2 (ACS fault codes 8000–8006).
//! Other modules return their own typed errors; the mapping to a wire code lives here alone, in
//! exhaustive `match`es, so a new error variant cannot go unmapped.

use std::fmt;

use crate::backend::BackendError;
use crate::model::error::ModelError;
use crate::soap::DecodeError;
use crate::transfer::error::TransferError;

/// A CWMP fault code with its spec name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultCode {
    /// 9000 Method not supported.
    MethodNotSupported,
    /// 9001 Request denied (no reason specified).
    RequestDenied,
    /// 9002 Internal error.
    InternalError,
    /// 9003 Invalid arguments.
    InvalidArguments,
    /// 9004 Resources exceeded.
    ResourcesExceeded,
    /// 9005 Invalid parameter name.
    InvalidParameterName,
    /// 9006 Invalid parameter type.
    InvalidParameterType,
    /// 9007 Invalid parameter value.
    InvalidParameterValue,
    /// 9008 Attempt to set a non-writable parameter.
    NonWritableParameter,
    /// 9009 Notification request rejected.
    NotificationRequestRejected,
    /// 9010 File transfer failure (download).
    DownloadFailure,
    /// 9011 Upload failure.
    UploadFailure,
    /// 9012 File transfer server authentication failure.
    TransferAuthFailure,
    /// 9013 Unsupported protocol for file transfer.
    UnsupportedProtocol,
    /// 9014 Download failure: unable to join multicast group.
    MulticastJoinFailure,
    /// 9015 Download failure: unable to contact file server.
    FileServerUnreachable,
    /// 9016 Download failure: unable to access file.
    FileAccessFailure,
    /// 9017 Download failure: unable to complete download.
    DownloadIncomplete,
    /// 9018 Download failure: file corrupted or otherwise unusable.
    FileCorrupted,
    /// 9019 Download failure: file authentication failure.
    FileAuthFailure,
    /// 9020 Download failure: unable to complete download within specified time windows.
    WindowsMissed,
    /// 9021 Cancelation of file transfer not permitted in current transfer state.
    CancelNotPermitted,
}

impl FaultCode {
    /// All CPE fault codes, in numeric order.
    pub const ALL: [FaultCode; 22] = [
        FaultCode::MethodNotSupported,
        FaultCode::RequestDenied,
        FaultCode::InternalError,
        FaultCode::InvalidArguments,
        FaultCode::ResourcesExceeded,
        FaultCode::InvalidParameterName,
        FaultCode::InvalidParameterType,
        FaultCode::InvalidParameterValue,
        FaultCode::NonWritableParameter,
        FaultCode::NotificationRequestRejected,
        FaultCode::DownloadFailure,
        FaultCode::UploadFailure,
        FaultCode::TransferAuthFailure,
        FaultCode::UnsupportedProtocol,
        FaultCode::MulticastJoinFailure,
        FaultCode::FileServerUnreachable,
        FaultCode::FileAccessFailure,
        FaultCode::DownloadIncomplete,
        FaultCode::FileCorrupted,
        FaultCode::FileAuthFailure,
        FaultCode::WindowsMissed,
        FaultCode::CancelNotPermitted,
    ];

    /// The numeric code on the wire.
    pub fn code(self) -> u32 {
        match self {
            FaultCode::MethodNotSupported => 9000,
            FaultCode::RequestDenied => 9001,
            FaultCode::InternalError => 9002,
            FaultCode::InvalidArguments => 9003,
            FaultCode::ResourcesExceeded => 9004,
            FaultCode::InvalidParameterName => 9005,
            FaultCode::InvalidParameterType => 9006,
            FaultCode::InvalidParameterValue => 9007,
            FaultCode::NonWritableParameter => 9008,
            FaultCode::NotificationRequestRejected => 9009,
            FaultCode::DownloadFailure => 9010,
            FaultCode::UploadFailure => 9011,
            FaultCode::TransferAuthFailure => 9012,
            FaultCode::UnsupportedProtocol => 9013,
            FaultCode::MulticastJoinFailure => 9014,
            FaultCode::FileServerUnreachable => 9015,
            FaultCode::FileAccessFailure => 9016,
            FaultCode::DownloadIncomplete => 9017,
            FaultCode::FileCorrupted => 9018,
            FaultCode::FileAuthFailure => 9019,
            FaultCode::WindowsMissed => 9020,
            FaultCode::CancelNotPermitted => 9021,
        }
    }

    /// The code for a number, if it is a CPE fault code.
    pub fn from_code(code: u32) -> Option<FaultCode> {
        FaultCode::ALL.iter().copied().find(|f| f.code() == code)
    }

    /// The FaultString the spec gives for this code.
    pub fn text(self) -> &'static str {
        match self {
            FaultCode::MethodNotSupported => "Method not supported",
            FaultCode::RequestDenied => "Request denied",
            FaultCode::InternalError => "Internal error",
            FaultCode::InvalidArguments => "Invalid arguments",
            FaultCode::ResourcesExceeded => "Resources exceeded",
            FaultCode::InvalidParameterName => "Invalid parameter name",
            FaultCode::InvalidParameterType => "Invalid parameter type",
            FaultCode::InvalidParameterValue => "Invalid parameter value",
            FaultCode::NonWritableParameter => "Attempt to set a non-writable parameter",
            FaultCode::NotificationRequestRejected => "Notification request rejected",
            FaultCode::DownloadFailure => "Download failure",
            FaultCode::UploadFailure => "Upload failure",
            FaultCode::TransferAuthFailure => "File transfer server authentication failure",
            FaultCode::UnsupportedProtocol => "Unsupported protocol for file transfer",
            FaultCode::MulticastJoinFailure => "Download failure: unable to join multicast group",
            FaultCode::FileServerUnreachable => "Download failure: unable to contact file server",
            FaultCode::FileAccessFailure => "Download failure: unable to access file",
            FaultCode::DownloadIncomplete => "Download failure: unable to complete download",
            FaultCode::FileCorrupted => "Download failure: file corrupted or otherwise unusable",
            FaultCode::FileAuthFailure => "Download failure: file authentication failure",
            FaultCode::WindowsMissed => {
                "Download failure: unable to complete download within specified time windows"
            }
            FaultCode::CancelNotPermitted => {
                "Cancelation of file transfer not permitted in current transfer state"
            }
        }
    }
}

impl fmt::Display for FaultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.text())
    }
}

/// A fault on one parameter of a SetParameterValues (TR-069 A.3.2.1 SetParameterValuesFault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterFault {
    /// Full path of the parameter that caused the fault.
    pub name: String,
    /// 9005, 9006, 9007 or 9008.
    pub code: FaultCode,
    /// Human-readable detail.
    pub message: String,
}

/// A complete fault answer to an RPC: a code, a message, and per-parameter faults for
/// SetParameterValues (TR-069 A.5.1: the top-level code is then 9003 when several differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The top-level fault code.
    pub code: FaultCode,
    /// Detail for the FaultString (the spec's text is used when empty).
    pub message: String,
    /// SetParameterValuesFault entries.
    pub parameters: Vec<ParameterFault>,
}

impl Fault {
    /// A fault with no per-parameter detail.
    pub fn new(code: FaultCode, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
            parameters: Vec::new(),
        }
    }

    /// The FaultString to send: the detail when present, else the spec's text.
    pub fn fault_string(&self) -> String {
        if self.message.is_empty() {
            self.code.text().to_string()
        } else {
            format!("{}: {}", self.code.text(), self.message)
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault {}", self.code.code())?;
        if !self.message.is_empty() {
            write!(f, " ({})", self.message)?;
        }
        for p in &self.parameters {
            write!(f, "; {} {} {}", p.name, p.code.code(), p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Fault {}

/// The fault code for a backend error met while serving a request.
fn backend_code(e: &BackendError) -> FaultCode {
    match e {
        BackendError::InvalidValue(_) => FaultCode::InvalidParameterValue,
        BackendError::Limit(_) => FaultCode::ResourcesExceeded,
        BackendError::Unsupported(_) => FaultCode::RequestDenied,
        BackendError::BadArgs(_)
        | BackendError::NotFound(_)
        | BackendError::Io(_)
        | BackendError::Command(_) => FaultCode::InternalError,
    }
}

/// The fault code for one model error (TR-069 A.5.1).
pub fn model_code(e: &ModelError) -> FaultCode {
    match e {
        ModelError::InvalidName(_) => FaultCode::InvalidParameterName,
        ModelError::InvalidArguments(_) => FaultCode::InvalidArguments,
        ModelError::InvalidType { .. } => FaultCode::InvalidParameterType,
        ModelError::InvalidValue { .. } => FaultCode::InvalidParameterValue,
        ModelError::NotWritable(_) => FaultCode::NonWritableParameter,
        ModelError::NotificationRejected(_) => FaultCode::NotificationRequestRejected,
        ModelError::ResourcesExceeded(_) => FaultCode::ResourcesExceeded,
        ModelError::RequestDenied(_) => FaultCode::RequestDenied,
        ModelError::Backend { error, .. } => backend_code(error),
        // A.3.2.1: per-parameter SetParameterValues faults travel inside 9003.
        ModelError::Parameters(_) => FaultCode::InvalidArguments,
    }
}

impl From<&ModelError> for Fault {
    fn from(e: &ModelError) -> Fault {
        let parameters = match e {
            ModelError::Parameters(list) => list
                .iter()
                .map(|(name, pe)| ParameterFault {
                    name: name.clone(),
                    code: model_code(pe),
                    message: pe.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let message = match e {
            ModelError::Parameters(_) => String::new(),
            other => other.to_string(),
        };
        Fault {
            code: model_code(e),
            message,
            parameters,
        }
    }
}

/// The fault for an ACS request that could not be decoded (TR-069 A.5.1: arguments that are
/// missing, malformed or over a limit are invalid arguments).
pub fn decode_code(e: &DecodeError) -> FaultCode {
    match e {
        DecodeError::Missing { .. }
        | DecodeError::Invalid { .. }
        | DecodeError::Limit(_)
        | DecodeError::Xml(_)
        | DecodeError::NotEnvelope(_) => FaultCode::InvalidArguments,
    }
}

/// The fault code of a failed transfer (TransferComplete FaultStruct, A.3.3.2). Uploads use
/// 9011 where downloads have a more specific code.
pub fn transfer_fault(download: bool, e: &TransferError) -> FaultCode {
    use TransferError as T;
    match (e, download) {
        (T::Protocol(_), _) => FaultCode::UnsupportedProtocol,
        (T::Auth(_), _) => FaultCode::TransferAuthFailure,
        (T::WindowsMissed, _) => FaultCode::WindowsMissed,
        (T::Unreachable(_), true) => FaultCode::FileServerUnreachable,
        (T::Access(_), true) => FaultCode::FileAccessFailure,
        (T::Incomplete(_), true) => FaultCode::DownloadIncomplete,
        (T::Corrupted(_), true) => FaultCode::FileCorrupted,
        (T::FileAuth(_), true) => FaultCode::FileAuthFailure,
        (T::NoSpace(_) | T::Local(_) | T::Interrupted, true) => FaultCode::DownloadFailure,
        (
            T::Unreachable(_)
            | T::Access(_)
            | T::Incomplete(_)
            | T::Corrupted(_)
            | T::FileAuth(_)
            | T::NoSpace(_)
            | T::Local(_)
            | T::Interrupted,
            false,
        ) => FaultCode::UploadFailure,
    }
}

impl From<&DecodeError> for Fault {
    fn from(e: &DecodeError) -> Fault {
        Fault::new(decode_code(e), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_faults_carry_per_parameter_codes_inside_9003() {
        let e = ModelError::Parameters(vec![
            (
                "Device.A".into(),
                ModelError::NotWritable("Device.A".into()),
            ),
            (
                "Device.B".into(),
                ModelError::InvalidValue {
                    path: "Device.B".into(),
                    reason: "x".into(),
                },
            ),
            (
                "Device.C".into(),
                ModelError::InvalidType {
                    path: "Device.C".into(),
                    reason: "x".into(),
                },
            ),
            (
                "Device.D".into(),
                ModelError::InvalidName("Device.D".into()),
            ),
        ]);
        let f = Fault::from(&e);
        assert_eq!(f.code.code(), 9003);
        let codes: Vec<u32> = f.parameters.iter().map(|p| p.code.code()).collect();
        assert_eq!(codes, vec![9008, 9007, 9006, 9005]);
    }

    #[test]
    fn undecodable_requests_are_invalid_arguments() {
        let e = DecodeError::Invalid {
            rpc: "GetParameterNames".into(),
            field: "NextLevel",
        };
        assert_eq!(Fault::from(&e).code.code(), 9003);
        assert_eq!(
            Fault::from(&DecodeError::Limit("list length")).code.code(),
            9003
        );
    }

    #[test]
    fn model_errors_map_to_their_codes() {
        let be = |error| ModelError::Backend {
            path: "p".into(),
            error,
        };
        let cases = [
            (ModelError::InvalidName("x".into()), 9005),
            (ModelError::InvalidArguments("x".into()), 9003),
            (ModelError::NotificationRejected("x".into()), 9009),
            (ModelError::ResourcesExceeded("x".into()), 9004),
            (ModelError::RequestDenied("x".into()), 9001),
            (be(BackendError::Io("x".into())), 9002),
            (be(BackendError::InvalidValue("x".into())), 9007),
            (be(BackendError::Limit("x".into())), 9004),
            (be(BackendError::Unsupported("set")), 9001),
        ];
        for (e, code) in cases {
            assert_eq!(Fault::from(&e).code.code(), code, "{e}");
        }
    }

    #[test]
    fn transfer_errors_map_to_the_spec_codes() {
        use TransferError as T;
        let m = |s: &str| s.to_string();
        let cases = [
            (T::Protocol(m("ftp")), 9013, 9013),
            (T::Auth(m("401")), 9012, 9012),
            (T::WindowsMissed, 9020, 9020),
            (T::Unreachable(m("refused")), 9015, 9011),
            (T::Access(m("404")), 9016, 9011),
            (T::Incomplete(m("cut")), 9017, 9011),
            (T::Corrupted(m("size")), 9018, 9011),
            (T::FileAuth(m("sig")), 9019, 9011),
            (T::NoSpace(m("full")), 9010, 9011),
            (T::Local(m("io")), 9010, 9011),
            (T::Interrupted, 9010, 9011),
        ];
        for (e, down, up) in cases {
            assert_eq!(transfer_fault(true, &e).code(), down, "{e}");
            assert_eq!(transfer_fault(false, &e).code(), up, "{e}");
        }
    }

    #[test]
    fn codes_cover_9000_to_9021_in_order() {
        let codes: Vec<u32> = FaultCode::ALL.iter().map(|f| f.code()).collect();
        assert_eq!(codes, (9000..=9021).collect::<Vec<u32>>());
        for f in FaultCode::ALL {
            assert_eq!(FaultCode::from_code(f.code()), Some(f));
        }
        assert_eq!(FaultCode::from_code(8999), None);
    }

    #[test]
    fn fault_string_uses_spec_text_and_detail() {
        assert_eq!(
            Fault::new(FaultCode::InvalidArguments, "").fault_string(),
            "Invalid arguments"
        );
        assert_eq!(
            Fault::new(FaultCode::InvalidParameterName, "Device.X").fault_string(),
            "Invalid parameter name: Device.X"
        );
    }
}
