//! TOML, cwmpd's own small reader and writer for every file it reads (config, board, data
//! model) and writes (state). It replaces the `toml` and `serde` crates in the binary: their
//! generic code cost about 380 KB of a 1.76 MB MIPS build (BENCHMARKS.md); this is a plain
//! value tree, a parser, a writer and a field-by-field reader.

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
