//! Scanner PDFs: pass-through and rendering (`decode::pdf`).
#![no_main]

use sohoa::decode::Format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sohoa_fuzz::decode_checked(data, &[Format::Pdf]);
});
