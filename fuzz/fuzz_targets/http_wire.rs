//! Fuzzes the HTTP/1.x response parser: any bytes from a server, split anywhere, must parse
//! or fail cleanly, never panic, and come to the same result however they are split.
//! Run: `cargo fuzz run http_wire fuzz/corpus/http_wire` (the corpus is replayed by
//! `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cwmpd::http::wire::fuzz(data);
});
