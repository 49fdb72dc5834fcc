//! Fuzzes cwmpd's TOML reading (the `toml` crate's parser and the conversion to cwmpd's values,
//! with its range and nesting checks) and its writer: any text must parse or fail cleanly,
//! never panic, and what parses must be written back to text that reads as the same table.
//! Run: `mkdir -p /tmp/toml-corpus && cargo fuzz run toml /tmp/toml-corpus fuzz/corpus/toml` (new
//! inputs go to the first directory; the committed seeds are replayed by `cargo test`).
#![no_main]

use cwmpd::codec::toml;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(table) = toml::parse(text) {
        let written = toml::to_string(&table);
        assert_eq!(toml::parse(&written).ok(), Some(table), "{written}");
    }
});
