//! Small text codecs shared by several layers: base64 (RFC 4648), hex, and TOML. Decoders
//! never panic and reject anything malformed.

pub mod base64;
pub mod hex;
pub mod toml;
