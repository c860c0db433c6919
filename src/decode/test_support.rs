//! Hostile inputs made in the tests: data that compresses to almost nothing,
//! what the process holds in memory and the CPU time a decode takes.

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

/// CPU time the calling thread has used. Decoders run on the caller's
/// thread, so this is what a decode costs whatever else the machine (or the
/// other tests) runs meanwhile, unlike the wall clock.
pub fn thread_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` and returns its value with the CPU time it took on this thread.
pub fn cpu_timed<T>(f: impl FnOnce() -> T) -> (T, std::time::Duration) {
    let start = thread_cpu();
    let value = f();
    (value, thread_cpu() - start)
}

#[test]
fn thread_cpu_counts_work_not_sleep() {
    let (_, slept) = cpu_timed(|| std::thread::sleep(std::time::Duration::from_millis(300)));
    assert!(slept < std::time::Duration::from_millis(100), "{slept:?}");
    let (sum, worked) = cpu_timed(|| {
        let start = thread_cpu();
        let mut x = 0u64;
        while thread_cpu() - start < std::time::Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        x
    });
    assert!(
        sum > 0 && worked >= std::time::Duration::from_millis(50),
        "{worked:?}"
    );
}

#[test]
fn zeros_compress_to_almost_nothing() {
    let z = zlib_zeros(b"abc", 64 << 20);
    assert!(z.len() < 1 << 20, "{} bytes", z.len());
    let back = miniz_oxide::inflate::decompress_to_vec_zlib(&z).unwrap();
    assert_eq!(back.len(), 3 + (64 << 20));
    assert!(back.starts_with(b"abc") && back[3..].iter().all(|&b| b == 0));
}
