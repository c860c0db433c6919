//! What every fuzz target checks: a file of the target's formats decodes
//! into pages the decoder may hand out under [`LIMITS`], or fails with an
//! error. A panic (even one the PDF decoder's guard would catch: libFuzzer's
//! panic hook aborts first), a hang (`-timeout`) or a blown memory budget
//! (`-rss_limit_mb`) is a finding.

use sohoa::decode::{decode_each, FileBytes, Format, Limits};

/// Smaller than the defaults so that one input decodes in well under a
/// second, large enough for every check on the way to be reached.
pub const LIMITS: Limits = Limits {
    max_pixels: 16_000_000,
    max_raster_bytes: 48 << 20,
    max_pages: 64,
    max_bytes: 16 << 20,
};

/// Decodes `data` when it sniffs as one of `formats` and checks every page.
pub fn decode_checked(data: &[u8], formats: &[Format]) {
    if !Format::sniff(data).is_some_and(|f| formats.contains(&f)) {
        return;
    }
    let file = FileBytes::new(data.to_vec());
    let mut seen = 0usize;
    let result = decode_each(&file, &LIMITS, &mut |page| {
        seen += 1;
        if let Err(broken) = page.check_within(&LIMITS) {
            panic!("page {seen}: {broken}");
        }
        true
    });
    if let Ok(count) = result {
        assert!(
            (1..=LIMITS.max_pages).contains(&count) && seen == count,
            "{count} pages said, {seen} handed out"
        );
    }
}
