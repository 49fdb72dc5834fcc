//! IP diagnostics of TR-181 `Device.IP.Diagnostics`: IPPing and TraceRoute with ICMP echo over
//! nix sockets, and Download/UploadDiagnostics over one HTTP connection (no other program is run or
//! parsed). A test is a plain [`Request`] that is
//! `Send`: the agent runs [`run`] in a worker thread after the session that asked for it, and
//! the `diagnostics` handler (`backend/diagnostics.rs`) turns the [`Outcome`] into result
//! parameters and a DiagnosticsState. Every test ends within its own time bound
//! (repetitions × timeout, hops × tries × timeout), and a host name lookup within
//! [`RESOLVE_TIMEOUT`] (`http::resolve`).

pub mod http;
pub mod icmp;
pub mod ping;
pub mod socket;
pub mod traceroute;

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// ProtocolVersion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Whatever the name resolves to first.
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Protocol {
    /// From the TR-181 value (`Any`, `IPv4`, `IPv6`; empty means Any).
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "" | "Any" => Some(Protocol::Any),
            "IPv4" => Some(Protocol::V4),
            "IPv6" => Some(Protocol::V6),
            _ => None,
        }
    }
}

/// What every test needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// Address family.
    pub protocol: Protocol,
    /// Linux interface to send through (from the Interface reference), if any.
    pub interface: Option<String>,
    /// Per-probe timeout.
    pub timeout: Duration,
    /// Payload bytes per probe (DataBlockSize).
    pub size: u16,
    /// DSCP.
    pub dscp: u8,
}

/// A test to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// IPPing.
    IpPing {
        /// Where.
        target: Target,
        /// NumberOfRepetitions.
        repetitions: u32,
    },
    /// TraceRoute.
    TraceRoute {
        /// Where.
        target: Target,
        /// NumberOfTries per hop (1–3).
        tries: u32,
        /// MaxHopCount (1–64).
        max_hops: u8,
    },
    /// DownloadDiagnostics.
    Download(http::HttpTest),
    /// UploadDiagnostics: TestFileLength bytes.
    Upload(http::HttpTest, u64),
}

/// Why a test could not complete; each maps to a DiagnosticsState value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagError {
    /// The host name did not resolve (in the requested family).
    CannotResolve(String),
    /// No route to the host.
    NoRoute(String),
    /// TraceRoute ran out of hops before reaching the host.
    MaxHopCountExceeded,
    /// A local failure (sockets, permissions, a bad interface).
    Internal(String),
    /// The server did not take the connection (DownloadDiagnostics).
    InitConnectionFailed(String),
    /// No (HTTP) response.
    NoResponse(String),
    /// The transfer failed or was refused (an HTTP error status, a cut-off body).
    TransferFailed(String),
    /// A transfer step took too long.
    Timeout(String),
    /// A request this agent does not carry out (a transport or mode it lacks).
    Other(String),
}

impl DiagError {
    /// The DiagnosticsState that reports it.
    pub fn state(&self) -> &'static str {
        match self {
            DiagError::CannotResolve(_) => "Error_CannotResolveHostName",
            DiagError::NoRoute(_) => "Error_NoRouteToHost",
            DiagError::MaxHopCountExceeded => "Error_MaxHopCountExceeded",
            DiagError::Internal(_) => "Error_Internal",
            DiagError::InitConnectionFailed(_) => "Error_InitConnectionFailed",
            DiagError::NoResponse(_) => "Error_NoResponse",
            DiagError::TransferFailed(_) => "Error_TransferFailed",
            DiagError::Timeout(_) => "Error_Timeout",
            DiagError::Other(_) => "Error_Other",
        }
    }
}

impl fmt::Display for DiagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiagError::CannotResolve(m) => write!(f, "cannot resolve {m}"),
            DiagError::NoRoute(m) => write!(f, "{m}"),
            DiagError::MaxHopCountExceeded => write!(f, "maximum hop count exceeded"),
            DiagError::Internal(m)
            | DiagError::InitConnectionFailed(m)
            | DiagError::NoResponse(m)
            | DiagError::TransferFailed(m)
            | DiagError::Timeout(m)
            | DiagError::Other(m) => write!(f, "{m}"),
        }
    }
}

/// IPPing results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PingReport {
    /// IPAddressUsed.
    pub source: Option<IpAddr>,
    /// SuccessCount.
    pub success: u32,
    /// FailureCount.
    pub failure: u32,
    /// Round trips in microseconds: minimum, average, maximum (0 when none succeeded).
    pub min_us: u32,
    /// Average.
    pub avg_us: u32,
    /// Maximum.
    pub max_us: u32,
}

/// One TraceRoute hop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hop {
    /// Who answered (empty when no probe of this hop was answered).
    pub address: Option<IpAddr>,
    /// The ICMP code of an error this hop returned (0 otherwise).
    pub error_code: u32,
    /// Round trip of each try in milliseconds, rounded up so an answered try is at least 1;
    /// 0 for a try that timed out.
    pub rtts_ms: Vec<u32>,
}

/// TraceRoute results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceReport {
    /// IPAddressUsed.
    pub source: Option<IpAddr>,
    /// ResponseTime: the destination's average round trip, milliseconds.
    pub response_ms: u32,
    /// RouteHops, nearest first.
    pub hops: Vec<Hop>,
}

/// How a test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// IPPing.
    Ping(Result<PingReport, DiagError>),
    /// TraceRoute: the hops found, and the error that ended it early, if any (the hops found
    /// before a MaxHopCountExceeded are kept).
    Trace(TraceReport, Option<DiagError>),
    /// DownloadDiagnostics.
    Download(Result<http::HttpReport, DiagError>),
    /// UploadDiagnostics.
    Upload(Result<http::HttpReport, DiagError>),
}

pub use crate::http::resolve::RESOLVE_TIMEOUT;
use crate::http::resolve::{Family, ResolveError, Resolver};

impl Protocol {
    fn family(self) -> Family {
        match self {
            Protocol::Any => Family::Any,
            Protocol::V4 => Family::V4,
            Protocol::V6 => Family::V6,
        }
    }
}

/// Resolves the host in the requested family (no DNS for literal addresses), within
/// [`RESOLVE_TIMEOUT`], off this thread (the shared bounded lookup of `http::resolve`).
pub fn resolve(host: &str, protocol: Protocol) -> Result<IpAddr, DiagError> {
    resolve_with(&Resolver::default(), host, protocol)
}

/// [`resolve`] with the given resolver.
pub fn resolve_with(r: &Resolver, host: &str, protocol: Protocol) -> Result<IpAddr, DiagError> {
    let found = r
        .resolve(host, protocol.family(), RESOLVE_TIMEOUT)
        .map_err(|e| match e {
            ResolveError::Thread(_) => DiagError::Internal(e.to_string()),
            e => DiagError::CannotResolve(e.to_string()),
        })?;
    found
        .into_iter()
        .next()
        .ok_or_else(|| DiagError::CannotResolve(host.to_string()))
}

/// A probe identifier for this test (raw sockets share every ICMP message of the host).
pub fn probe_id() -> u16 {
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u16::from_ne_bytes(b) ^ (std::process::id() as u16)
}

/// Runs a test to its end (blocking).
pub fn run(request: &Request) -> Outcome {
    match request {
        Request::IpPing {
            target,
            repetitions,
        } => Outcome::Ping(ping::run(target, *repetitions)),
        Request::TraceRoute {
            target,
            tries,
            max_hops,
        } => {
            let (report, error) = traceroute::run(target, *tries, *max_hops);
            Outcome::Trace(report, error)
        }
        Request::Download(d) => Outcome::Download(http::download(d)),
        Request::Upload(d, length) => Outcome::Upload(http::upload(d, *length)),
    }
}

#[cfg(test)]
mod tests;
