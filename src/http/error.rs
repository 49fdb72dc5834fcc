//! What can go wrong in a request, split by whose fault it is: the URL or configuration,
//! the network, the peer's HTTP, its authentication, or a deadline.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use super::resolve::ResolveError;
use super::sock::Timeout;
use super::tls::TlsError;
use super::url::{Url, UrlError};
use super::wire;

/// Why a server's authentication could not be satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// The server refused the credentials (its URL).
    Refused(String),
    /// No scheme cwmpd speaks (Digest, Basic) was offered.
    NoScheme,
    /// A server other than the one the credentials are for asked for them (its URL): they
    /// are never sent to another origin.
    OtherOrigin(String),
    /// Only Basic was offered over plain http, which would send the password in clear;
    /// `[acs] allow_basic_over_http` allows it.
    BasicOverHttp,
    /// More 401 answers in one session than the limit.
    TooMany {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthFailure::Refused(u) => write!(f, "{u} refused the credentials"),
            AuthFailure::NoScheme => write!(f, "no supported authentication scheme offered"),
            AuthFailure::OtherOrigin(u) => {
                write!(f, "{u} asks for credentials meant for another server")
            }
            AuthFailure::BasicOverHttp => write!(
                f,
                "only basic offered over plain http (set acs.allow_basic_over_http to allow it)"
            ),
            AuthFailure::TooMany { limit } => write!(f, "more than {limit} challenges"),
        }
    }
}

/// A failed request.
#[derive(Debug)]
pub enum Error {
    /// The URL (or a redirect's Location) cannot be used.
    Url(UrlError),
    /// The host name gave no address.
    Resolve(ResolveError),
    /// No address took the connection (the last one tried, what the system said).
    Connect(SocketAddr, io::Error),
    /// TLS setup or handshake failed.
    Tls(TlsError),
    /// Reading or writing failed.
    Io(io::Error),
    /// A deadline passed.
    Timeout(Timeout),
    /// The response is not valid HTTP/1.x or exceeds a limit of the parser.
    Wire(wire::Error),
    /// A body kept in memory would exceed the limit.
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// Authentication failed.
    Auth(AuthFailure),
    /// More redirects than the limit.
    Redirects {
        /// The limit.
        limit: usize,
    },
    /// A redirect without a Location.
    NoLocation,
    /// A redirect from https to plain http (where it led), refused.
    InsecureRedirect(Url),
    /// The file being uploaded shrank while it was sent.
    FileShrank {
        /// Bytes sent.
        sent: u64,
        /// Bytes announced.
        announced: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Url(e) => write!(f, "http: {e}"),
            Error::Resolve(e) => write!(f, "http: cannot resolve {e}"),
            Error::Connect(a, e) => write!(f, "http: connect to {a}: {e}"),
            Error::Tls(e) => write!(f, "http: tls: {e}"),
            Error::Io(e) => write!(f, "http: {e}"),
            Error::Timeout(t) => write!(f, "http: {t}"),
            Error::Wire(e) => write!(f, "http: bad response: {e}"),
            Error::BodyTooLarge { limit } => write!(f, "http: body over {limit} bytes"),
            Error::Auth(a) => write!(f, "http: authentication failed: {a}"),
            Error::Redirects { limit } => write!(f, "http: more than {limit} redirects"),
            Error::NoLocation => write!(f, "http: redirect without a location"),
            Error::InsecureRedirect(u) => write!(f, "http: refused a redirect from https to {u}"),
            Error::FileShrank { sent, announced } => write!(
                f,
                "http: the file shrank to {sent} of {announced} bytes while being sent"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<wire::Error> for Error {
    fn from(e: wire::Error) -> Error {
        Error::Wire(e)
    }
}

/// A failed streamed download: the client's error, or the sink's own.
#[derive(Debug)]
pub enum FetchError<E> {
    /// The request failed.
    Http(Error),
    /// The sink refused the body (its error).
    Sink(E),
}

impl<E> From<Error> for FetchError<E> {
    fn from(e: Error) -> FetchError<E> {
        FetchError::Http(e)
    }
}

impl<E: fmt::Display> fmt::Display for FetchError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Http(e) => e.fmt(f),
            FetchError::Sink(e) => write!(f, "http: storing the body: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for FetchError<E> {}
