//! The CWMP fault vocabulary on the wire: the CPE fault codes 9000–9021 with their spec
//! names (TR-069 Amendment 6, A.5.1), a whole fault answer, and the per-parameter faults of a
//! SetParameterValues. Which error becomes which fault is decided in `rpc/fault.rs`, not here.

use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;

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
