//! Why a transfer failed. `fault.rs` maps each variant to the TR-069 fault code of the
//! TransferComplete that reports it.

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
        }
    }
}

impl std::error::Error for TransferError {}
