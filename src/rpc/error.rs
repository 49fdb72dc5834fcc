//! Why an ACS request was refused before it reached the model or the transfer queue: the
//! checks the RPCs make of their own arguments. `rpc/fault.rs` maps each to its fault.

use std::fmt;

/// A request the RPC layer refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// A method cwmpd does not implement (9000).
    MethodNotSupported(String),
    /// An ACS response (InformResponse …) arrived where a request was expected (9003).
    NotARequest(String),
    /// ScheduleInform with DelaySeconds 0 (A.4.1.7: at least 1).
    ZeroDelay,
    /// As many ScheduleInforms wait as cwmpd keeps (9004).
    TooManyScheduled(usize),
    /// A transfer URL that is not http or https (9013).
    UnsupportedProtocol(String),
    /// A transfer URL carrying user information (A.3.3.1: credentials go in Username and
    /// Password).
    UserInfoInUrl,
    /// A transfer URL that cannot be parsed.
    BadUrl(String),
    /// A FileType the board does not download or upload.
    UnsupportedFileType(String),
    /// A ScheduleDownload TimeWindowList that breaks a rule of A.4.1.8.
    BadWindows(&'static str),
    /// A WindowMode cwmpd cannot honour (it has no user to confirm).
    UnsupportedWindowMode(String),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::MethodNotSupported(m) => write!(f, "rpc: {m} is not supported"),
            RequestError::NotARequest(m) => write!(f, "rpc: {m} is not a request"),
            RequestError::ZeroDelay => write!(f, "rpc: DelaySeconds must be at least 1"),
            RequestError::TooManyScheduled(n) => {
                write!(f, "rpc: {n} scheduled informs wait already")
            }
            RequestError::UnsupportedProtocol(u) => {
                write!(f, "rpc: {u:?}: only http and https are supported")
            }
            RequestError::UserInfoInUrl => {
                write!(f, "rpc: the URL must not carry user information")
            }
            RequestError::BadUrl(u) => write!(f, "rpc: {u:?} is not a usable URL"),
            RequestError::UnsupportedFileType(t) => {
                write!(f, "rpc: FileType {t:?} is not supported by this device")
            }
            RequestError::BadWindows(why) => write!(f, "rpc: TimeWindowList: {why}"),
            RequestError::UnsupportedWindowMode(m) => {
                write!(
                    f,
                    "rpc: WindowMode {m:?} is not supported (no user to confirm)"
                )
            }
        }
    }
}

impl std::error::Error for RequestError {}
