//! TOML for every file cwmpd reads (config, board, data model, state) and writes (state): a
//! plain value tree ([`Value`], with integers wide enough for TR-106's unsignedLong), the
//! `toml` crate's parser turned into that tree with the line of each key ([`parse()`]), a small
//! writer ([`to_string`]) and a field-by-field reader ([`Fields`]) with `file:line` errors that
//! refuses unknown keys. serde is not used: its per-type generated code cost about 380 KB of a
//! 1.76 MB MIPS build (BENCHMARKS.md); `toml` is used parse-only.

pub mod fields;
pub mod parse;
pub mod value;
pub mod write;

#[cfg(test)]
mod tests;

pub use fields::{FieldError, FieldResult, Fields};
pub use parse::{parse, parse_with_lines, path_key, Lines, ParseError};
pub use value::{Table, Value};
pub use write::to_string;

/// Parses `text` into a table (the `toml` crate's name for it, so small fixed documents and
/// handler tests read the same as before).
pub fn from_str(text: &str) -> Result<Table, ParseError> {
    parse(text)
}
