//! Why a transfer failed, and why the queue refused a request. `rpc/fault.rs` maps each
//! variant to the TR-069 fault code of the TransferComplete (or RPC fault) that reports it.

use std::fmt;

/// A failed Download or Upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferError {
    /// The URL is not http(s) (9013).
    Protocol(String),
    /// The server could not be reached: name, connect, TLS (9015; 9011 for uploads).
    Unreachable(String),
    /// The server refused our credentials (9012).
    Auth(String),
    /// The server answered with an error status such as 404 (9016; 9011 for uploads).
    Access(String),
    /// The body stopped before its end: connection cut, timeout (9017; 9011 for uploads).
    Incomplete(String),
    /// What arrived is not what was announced, or the apply command rejected it (9018).
    Corrupted(String),
    /// The apply command found the file's signature or checksum bad (9019).
    FileAuth(String),
    /// Not enough room for the file (9010).
    NoSpace(String),
    /// A local failure: files, the source command of an upload (9010 / 9011).
    Local(String),
    /// The agent stopped while the transfer ran (9010 / 9011).
    Interrupted,
    /// No time window was left to run it in (9020).
    WindowsMissed,
    /// The board reported this fault code itself (an autonomous transfer's spool file).
    Reported {
        /// A 90xx code.
        code: u32,
        /// FaultString.
        message: String,
    },
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::Protocol(m) => write!(f, "unsupported protocol: {m}"),
            TransferError::Unreachable(m) => write!(f, "cannot reach the file server: {m}"),
            TransferError::Auth(m) => write!(f, "file server authentication failed: {m}"),
            TransferError::Access(m) => write!(f, "file server refused: {m}"),
            TransferError::Incomplete(m) => write!(f, "transfer incomplete: {m}"),
            TransferError::Corrupted(m) => write!(f, "file unusable: {m}"),
            TransferError::FileAuth(m) => write!(f, "file authentication failed: {m}"),
            TransferError::NoSpace(m) => write!(f, "not enough space: {m}"),
            TransferError::Local(m) => write!(f, "{m}"),
            TransferError::Interrupted => write!(f, "interrupted by a restart of the agent"),
            TransferError::WindowsMissed => {
                write!(f, "no time window left to complete the transfer")
            }
            TransferError::Reported { code, message } => write!(f, "{code}: {message}"),
        }
    }
}

impl std::error::Error for TransferError {}

impl TransferError {
    /// The variant's name and its detail, as the state file keeps them.
    pub fn to_parts(&self) -> (&'static str, String) {
        use TransferError as T;
        match self {
            T::Protocol(m) => ("protocol", m.clone()),
            T::Unreachable(m) => ("unreachable", m.clone()),
            T::Auth(m) => ("auth", m.clone()),
            T::Access(m) => ("access", m.clone()),
            T::Incomplete(m) => ("incomplete", m.clone()),
            T::Corrupted(m) => ("corrupted", m.clone()),
            T::FileAuth(m) => ("file_auth", m.clone()),
            T::NoSpace(m) => ("no_space", m.clone()),
            T::Local(m) => ("local", m.clone()),
            T::Interrupted => ("interrupted", String::new()),
            T::WindowsMissed => ("windows_missed", String::new()),
            T::Reported { message, .. } => ("reported", message.clone()),
        }
    }

    /// The error [`TransferError::to_parts`] described (`code` for a reported one).
    pub fn from_parts(kind: &str, code: Option<u32>, m: String) -> Option<TransferError> {
        use TransferError as T;
        Some(match kind {
            "protocol" => T::Protocol(m),
            "unreachable" => T::Unreachable(m),
            "auth" => T::Auth(m),
            "access" => T::Access(m),
            "incomplete" => T::Incomplete(m),
            "corrupted" => T::Corrupted(m),
            "file_auth" => T::FileAuth(m),
            "no_space" => T::NoSpace(m),
            "local" => T::Local(m),
            "interrupted" => T::Interrupted,
            "windows_missed" => T::WindowsMissed,
            "reported" => T::Reported {
                code: code?,
                message: m,
            },
            _ => return None,
        })
    }
}

/// Why the queue refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueError {
    /// [`super::MAX_JOBS`] transfers are queued already (9004).
    Full(usize),
    /// CancelTransfer named a CommandKey no queued transfer has (9003).
    UnknownKey(String),
    /// CancelTransfer named a transfer that is under way (9021).
    UnderWay(String),
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueError::Full(n) => write!(f, "transfer: {n} transfers already queued"),
            QueueError::UnknownKey(k) => {
                write!(f, "transfer: no queued transfer has CommandKey {k:?}")
            }
            QueueError::UnderWay(k) => write!(f, "transfer: the transfer {k:?} is under way"),
        }
    }
}

impl std::error::Error for QueueError {}
