//! Small text codecs shared by several layers: base64 (RFC 4648), hex, and line numbers for
//! error messages. Decoders never
//! panic and reject anything malformed.

pub mod base64;
pub mod hex;
pub mod lines;
pub mod toml;
