//! HTTP authentication: Basic and Digest (MD5, SHA-256, qop=auth) for the ACS client and the
//! Connection Request listener.

pub mod digest;
pub mod md5;
