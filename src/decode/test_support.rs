//! Hostile inputs made in the tests: data that compresses to almost nothing,
//! and what the process holds in memory.

use miniz_oxide::deflate::core::CompressorOxide;
use miniz_oxide::deflate::stream::deflate;
use miniz_oxide::deflate::CompressionLevel;
use miniz_oxide::{DataFormat, MZFlush, MZStatus};

/// A zlib stream of `prefix` followed by `n` zero bytes, compressed a piece
/// at a time so the zeros are never in memory (256 MiB come to ~1.2 MB).
pub fn zlib_zeros(prefix: &[u8], n: u64) -> Vec<u8> {
    let mut compressor =
        CompressorOxide::with_format_and_level(DataFormat::Zlib, CompressionLevel::BestSpeed);
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut feed = |input: &[u8], flush: MZFlush, out: &mut Vec<u8>| {
        let mut input = input;
        loop {
            let r = deflate(&mut compressor, input, &mut buf, flush);
            out.extend_from_slice(&buf[..r.bytes_written]);
            input = &input[r.bytes_consumed..];
            let ended = matches!(r.status, Ok(MZStatus::StreamEnd));
            if ended
                || (input.is_empty() && r.bytes_written < buf.len() && flush != MZFlush::Finish)
            {
                return;
            }
            assert!(r.status.is_ok(), "deflate: {:?}", r.status);
        }
    };
    feed(prefix, MZFlush::None, &mut out);
    let mut left = n;
    while left > 0 {
        let take = left.min(zeros.len() as u64) as usize;
        feed(&zeros[..take], MZFlush::None, &mut out);
        left -= take as u64;
    }
    feed(&[], MZFlush::Finish, &mut out);
    out
}

/// A memory figure of this process from `/proc/self/status` (`VmRSS`,
/// `RssFile`, …), in bytes.
pub fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    kib * 1024
}

/// Resident memory of this process, in bytes (`VmRSS`).
pub fn resident_bytes() -> u64 {
    status_bytes("VmRSS")
}

#[test]
fn zeros_compress_to_almost_nothing() {
    let z = zlib_zeros(b"abc", 64 << 20);
    assert!(z.len() < 1 << 20, "{} bytes", z.len());
    let back = miniz_oxide::inflate::decompress_to_vec_zlib(&z).unwrap();
    assert_eq!(back.len(), 3 + (64 << 20));
    assert!(back.starts_with(b"abc") && back[3..].iter().all(|&b| b == 0));
}
