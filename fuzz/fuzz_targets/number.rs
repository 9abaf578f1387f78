#![no_main]
//! See `check_number` in fuzz/checks.rs for the properties.

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check_number(data, checks::KNOWN);
});
