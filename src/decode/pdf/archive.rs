//! Checking an archive PDF a station uploads, as strictly as we write them.
//!
//! The server keeps what stations send, so an upload must be a PDF we could
//! have written: whole, not encrypted, a sound cross-reference chain and page
//! tree, and pages hayro can interpret within the stream caps of `budget` and
//! `content`. The file is mapped, not read: only the parts the check looks at
//! (cross-reference tables, the page tree, content streams and fonts) are
//! paged in, never the image data, so a 300 MB upload costs little memory.

use super::budget::{Budget, Depth};
use super::xref::Strictness;
use super::{content, guarded, open_checked, scan, tree};
use crate::decode::{DecodeError, Format, Limits};
use hayro::hayro_interpret::InterpreterCache;
use std::sync::Arc;

/// Checks an archive PDF received from a station, from a file on disk (memory-mapped,
/// so a 300 MB upload is not read into memory): it opens as decoding opens a PDF
/// (end marker, not encrypted), its page tree is sane (no cycles, bounded depth,
/// /Count agrees with the leaves, no more than limits.max_pages pages, no /Prev loop
/// in the xref chain), every page's content can be interpreted without recursion
/// (no form drawing itself) and within the stream caps of (A). Returns the page count.
pub fn check_archive(path: &std::path::Path, limits: &Limits) -> Result<usize, DecodeError> {
    let unreadable = |e: std::io::Error| DecodeError::Corrupt(format!("cannot read the file: {e}"));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size == 0 {
        return Err(DecodeError::Empty);
    }
    DecodeError::at_most("bytes", size, limits.max_bytes)?;
    // SAFETY: the map is read-only and private to this check. The server
    // writes an upload to its own temporary file and does not change it while
    // it is checked; a file cut short under the map would fault (SIGBUS), not
    // give wrong answers.
    let map = Arc::new(unsafe { memmap2::Mmap::map(&file) }.map_err(unreadable)?);
    check_mapped(&map, limits)
}

/// [`check_archive`] once the file is mapped.
fn check_mapped(map: &Arc<memmap2::Mmap>, limits: &Limits) -> Result<usize, DecodeError> {
    if Format::sniff(&map[..]) != Some(Format::Pdf) {
        return Err(DecodeError::NotAnImage);
    }
    let mut budget = Budget::new(*limits, Depth::Interpret);
    let pdf = open_checked(map, Strictness::Strict, &mut budget)?;
    let count = guarded("the page tree", || tree::check(&pdf, limits))?;
    if count == 0 {
        return Err(DecodeError::NoPages);
    }
    let cache = InterpreterCache::new();
    for (i, page) in pdf.pages().iter().enumerate() {
        guarded(&format!("page {}", i + 1), || {
            content::check_page(&mut budget, page)?;
            scan::scan(page, &cache);
            Ok(())
        })?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests;
