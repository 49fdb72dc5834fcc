//! Fuzzes the Connection Request head parser: any bytes from the WAN must parse or fail
//! cleanly, never panic, never report a head beyond the input or the limit.
//! Run: `cargo fuzz run cr_request fuzz/corpus/cr_request` (the corpus is replayed by
//! `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cwmpd::cr::request::fuzz(data);
});
