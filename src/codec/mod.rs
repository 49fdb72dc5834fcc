//! Small text codecs shared by several layers: base64 (RFC 4648), hex, XSD dateTime (TR-106) and
//! TOML. Decoders never panic and reject anything malformed.

pub mod base64;
pub mod datetime;
pub mod hex;
pub mod toml;
