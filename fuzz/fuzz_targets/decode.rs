//! Fuzzes the SOAP decoder: any bytes from an ACS must decode or fail cleanly, never panic.
//! Run: `cargo fuzz run decode fuzz/corpus/decode` (the corpus is replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cwmpd::soap::fuzz_decode(data);
});
