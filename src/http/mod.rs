//! HTTP(S) for the CPE side: the client of the ACS session and of file transfers, the one
//! response parser every HTTP reader in cwmpd uses, and the authentication math the
//! Connection Request listener shares.
//!
//! | file | owns |
//! |---|---|
//! | [`wire`] | HTTP/1.x responses from bytes, sans I/O: head, framing, chunked with trailers, 1xx |
//! | [`client`] | [`Client`] and [`Session`]: cookies, 401 Digest/Basic, redirects, origins |
//! | `conn`, `sock` | one connection: resolve, connect, TLS, every system call under a deadline |
//! | [`resolve`] | names to addresses off the caller's thread, within a deadline |
//! | [`url`] | scheme, host, port, path, origin |
//! | [`digest`] | Basic and Digest (MD5, SHA-256) for both sides |
//! | [`tls`] | the rustls client configuration and its small crypto provider |
//! | `error` | [`Error`] and the typed pieces it carries ([`Timeout`] is `sock`'s) |
//!
//! It knows nothing of SOAP, of the model or of the agent.

pub mod client;
mod conn;
pub mod digest;
mod error;
pub mod resolve;
mod sock;
pub mod tls;
pub mod url;
pub mod wire;

pub use client::{Client, Response, Session, Settings, Sink};
pub use error::{AuthFailure, Error, FetchError};
pub use sock::Timeout;
pub use url::{Url, UrlError};
