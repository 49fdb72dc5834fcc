//! The one place where an error becomes a CWMP fault (TR-069 Amendment 6, A.5.1): every
//! typed error of the layers below — model, backend, SOAP decoding, the transfer queue and
//! transfer results — is mapped here with an exhaustive `match`, so a new error variant cannot
//! go unmapped. The fault vocabulary itself is `soap::fault`.

use crate::backend::BackendError;
use crate::model::error::ModelError;
use crate::soap::fault::{Fault, FaultCode, ParameterFault};
use crate::soap::{CwmpVersion, DecodeError, TooLarge};
use crate::transfer::error::{QueueError, TransferError};

use super::error::RequestError;

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
        ModelError::Irreversible { .. } => FaultCode::InternalError,
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

/// An answer too large to send (a GetParameterValuesResponse over `soap::MAX_VALUES_BYTES`):
/// 9004 Resources exceeded (TR-069 A.5.1), saying the limit.
impl From<&TooLarge> for Fault {
    fn from(e: &TooLarge) -> Fault {
        Fault::new(FaultCode::ResourcesExceeded, e.to_string())
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

/// The fault code of a failed transfer (TransferComplete FaultStruct, A.3.3.2) in a session
/// of `version`. Uploads use 9011 where downloads have a more specific code. Each version's
/// schema allows only some codes there — cwmp-1-0: 9001, 9002, 9010–9012; 1-1 adds
/// 9014–9019; 1-2 adds 9020 (9013 is an RPC fault, never a TransferComplete's) — so a code
/// the session's version lacks becomes the general 9010 (download) or 9011 (upload).
pub fn transfer_fault(download: bool, e: &TransferError, version: CwmpVersion) -> FaultCode {
    use TransferError as T;
    let general = if download {
        FaultCode::DownloadFailure
    } else {
        FaultCode::UploadFailure
    };
    let code = match (e, download) {
        (T::Protocol(_), _) => general,
        (T::Auth(_), _) => FaultCode::TransferAuthFailure,
        (T::WindowsMissed, _) => FaultCode::WindowsMissed,
        (T::Unreachable(_), true) => FaultCode::FileServerUnreachable,
        (T::Access(_), true) => FaultCode::FileAccessFailure,
        (T::Incomplete(_), true) => FaultCode::DownloadIncomplete,
        (T::Corrupted(_), true) => FaultCode::FileCorrupted,
        (T::FileAuth(_), true) => FaultCode::FileAuthFailure,
        (T::NoSpace(_) | T::Local(_) | T::Interrupted, true) => FaultCode::DownloadFailure,
        // A code the board reported itself is sent as it is when the version allows it.
        (T::Reported { code, .. }, _) => FaultCode::from_code(*code).unwrap_or(general),
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
    };
    if in_transfer_complete(code, version) {
        code
    } else {
        general
    }
}

/// Whether the TransferComplete FaultStruct of `version`'s schema allows `code`.
fn in_transfer_complete(code: FaultCode, version: CwmpVersion) -> bool {
    use FaultCode as F;
    match code {
        F::RequestDenied
        | F::InternalError
        | F::DownloadFailure
        | F::UploadFailure
        | F::TransferAuthFailure => true,
        F::MulticastJoinFailure
        | F::FileServerUnreachable
        | F::FileAccessFailure
        | F::DownloadIncomplete
        | F::FileCorrupted
        | F::FileAuthFailure => version >= CwmpVersion::V1_1,
        F::WindowsMissed => version >= CwmpVersion::V1_2,
        F::MethodNotSupported
        | F::InvalidArguments
        | F::ResourcesExceeded
        | F::InvalidParameterName
        | F::InvalidParameterType
        | F::InvalidParameterValue
        | F::NonWritableParameter
        | F::NotificationRequestRejected
        | F::UnsupportedProtocol
        | F::CancelNotPermitted => false,
    }
}

impl From<&DecodeError> for Fault {
    fn from(e: &DecodeError) -> Fault {
        Fault::new(decode_code(e), e.to_string())
    }
}

/// The fault for a request the RPC layer refused itself.
impl From<&RequestError> for Fault {
    fn from(e: &RequestError) -> Fault {
        let code = match e {
            RequestError::MethodNotSupported(_) => FaultCode::MethodNotSupported,
            RequestError::TooManyScheduled(_) => FaultCode::ResourcesExceeded,
            RequestError::UnsupportedProtocol(_) => FaultCode::UnsupportedProtocol,
            RequestError::NotARequest(_)
            | RequestError::ZeroDelay
            | RequestError::UserInfoInUrl
            | RequestError::BadUrl(_)
            | RequestError::UnsupportedFileType(_)
            | RequestError::BadWindows(_)
            | RequestError::UnsupportedWindowMode(_) => FaultCode::InvalidArguments,
        };
        Fault::new(code, e.to_string())
    }
}

/// An acknowledged change must be durable: one that cannot be saved is an internal error.
impl From<&super::SaveError> for Fault {
    fn from(e: &super::SaveError) -> Fault {
        Fault::new(FaultCode::InternalError, e.to_string())
    }
}

/// The fault for a transfer request the queue refused (A.4.1.11: CancelTransfer of a transfer
/// under way is 9021; an unknown CommandKey is an invalid argument).
impl From<&QueueError> for Fault {
    fn from(e: &QueueError) -> Fault {
        let code = match e {
            QueueError::Full(_) => FaultCode::ResourcesExceeded,
            QueueError::UnknownKey(_) => FaultCode::InvalidArguments,
            QueueError::UnderWay(_) => FaultCode::CancelNotPermitted,
        };
        Fault::new(code, e.to_string())
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
    fn an_answer_over_its_byte_cap_is_9004_naming_the_cap() {
        let f = Fault::from(&TooLarge {
            limit: crate::soap::MAX_VALUES_BYTES,
        });
        assert_eq!(f.code, FaultCode::ResourcesExceeded);
        assert_eq!(f.code.code(), 9004);
        assert!(
            f.fault_string().contains("16777216 bytes"),
            "{}",
            f.fault_string()
        );
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
            (T::Protocol(m("ftp")), 9010, 9011),
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
            assert_eq!(
                transfer_fault(true, &e, CwmpVersion::V1_4).code(),
                down,
                "{e}"
            );
            assert_eq!(
                transfer_fault(false, &e, CwmpVersion::V1_4).code(),
                up,
                "{e}"
            );
        }
    }

    #[test]
    fn reported_codes_pass_and_queue_refusals_map() {
        let r = |code| TransferError::Reported {
            code,
            message: String::new(),
        };
        let v = CwmpVersion::V1_4;
        assert_eq!(transfer_fault(true, &r(9019), v).code(), 9019);
        assert_eq!(
            transfer_fault(true, &r(9099), v).code(),
            9010,
            "not a CPE code"
        );
        assert_eq!(transfer_fault(false, &r(9099), v).code(), 9011);
        assert_eq!(
            transfer_fault(true, &r(9005), v).code(),
            9010,
            "not for transfers"
        );
        assert_eq!(Fault::from(&QueueError::Full(16)).code.code(), 9004);
        assert_eq!(
            Fault::from(&QueueError::UnknownKey("k".into())).code.code(),
            9003
        );
        assert_eq!(
            Fault::from(&QueueError::UnderWay("k".into())).code.code(),
            9021
        );
    }

    #[test]
    fn a_lower_version_gets_only_the_codes_its_schema_allows() {
        use TransferError as T;
        let m = |s: &str| s.to_string();
        for (e, v10, v11, v12) in [
            (T::Access(m("404")), 9010, 9016, 9016),
            (T::Incomplete(m("cut")), 9010, 9017, 9017),
            (T::Corrupted(m("size")), 9010, 9018, 9018),
            (T::WindowsMissed, 9010, 9010, 9020),
            (T::Auth(m("401")), 9012, 9012, 9012),
            (T::Protocol(m("ftp")), 9010, 9010, 9010),
        ] {
            let code = |v| transfer_fault(true, &e, v).code();
            assert_eq!(
                (
                    code(CwmpVersion::V1_0),
                    code(CwmpVersion::V1_1),
                    code(CwmpVersion::V1_2)
                ),
                (v10, v11, v12),
                "{e}"
            );
        }
    }
}
