//! TIFF, one page or many, G4 and others (`decode::tiff_file`).
#![no_main]

use sohoa::decode::Format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sohoa_fuzz::decode_checked(data, &[Format::Tiff]);
});
