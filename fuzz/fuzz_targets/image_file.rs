//! JPEG, PNG and the other single-image formats (`decode::image_file`).
#![no_main]

use sohoa::decode::Format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sohoa_fuzz::decode_checked(
        data,
        &[
            Format::Jpeg,
            Format::Png,
            Format::Gif,
            Format::Bmp,
            Format::Webp,
        ],
    );
});
