//! PDFs made by scanners, turned into pages.
//!
//! Most scanner PDFs are one image per page: those images are kept byte for
//! byte (JPEG, CCITT G4) so the archive copy loses nothing to a second
//! compression. Every other page is rendered. One parser, hayro's, does both:
//! the same document model decides what a page draws, hands out the raw image
//! streams and renders what cannot pass through, so the two paths never
//! disagree about a page's content.
//!
//! Untrusted input rules: hayro decodes nothing that has not been measured
//! first (`xref` before the file is opened, `content` and `budget` before a
//! page is read: every stream against a cap that follows from what it is,
//! nested content counted and refused when it draws itself), pixel counts
//! are checked from image dictionaries before anything is decoded, encrypted
//! files are refused rather than opened with the empty password, and a panic
//! inside the third-party parser becomes a `Corrupt` error for this file
//! instead of taking the worker down. `archive` checks the PDFs the server
//! receives by the same rules, strictly.

mod archive;
mod budget;
mod content;
mod filters;
mod passthrough;
mod render;
mod scan;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
mod tree;
mod xref;

pub use archive::check_archive;
pub use budget::{IMAGE_SLACK, MAX_DOCUMENT_STREAM_BYTES, MAX_FUNCTION_BYTES, MAX_STREAM_BYTES};
pub use content::{MAX_NESTING, MAX_PAGE_OPERATIONS};
pub use tree::MAX_TREE_DEPTH;
pub use xref::MAX_OBJECTS;

use super::{DecodeError, Limits, Page};
use budget::{Budget, Depth};
use hayro::hayro_interpret::hayro_syntax::page::Page as PdfPage;
use hayro::hayro_interpret::hayro_syntax::{LoadPdfError, Pdf};
use hayro::hayro_interpret::InterpreterCache;
use hayro::RenderCache;
use scan::{Drawn, DrawnImage};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use xref::Strictness;

/// hayro silently opens files encrypted with an empty user password. Opening
/// with a password nobody sets makes every encrypted file fail to load, which
/// is how we recognise one without a second parser.
const NOT_A_PASSWORD: &str = "\u{1}sohoa: not a password\u{1}";

/// Share of the visible box an image edge may miss and still count as full-page.
pub(super) const FULL_PAGE_TOLERANCE: f64 = 0.01;

/// Decodes the pages of a PDF in order, one at a time, handing each to
/// `on_page` before the next is read; stops early when `on_page` returns
/// false. Returns the page count.
pub fn decode_pdf(
    bytes: &super::FileBytes,
    limits: &Limits,
    on_page: &mut dyn FnMut(Page) -> bool,
) -> Result<usize, DecodeError> {
    let mut budget = Budget::new(*limits, Depth::Render);
    let pdf = open_checked(bytes, Strictness::Lenient, &mut budget)?;
    let pages = pdf.pages();
    if pages.is_empty() {
        return Err(DecodeError::NoPages);
    }
    limits.check_pages(pages.len())?;
    let scan_cache = InterpreterCache::new();
    let render_cache = RenderCache::new();
    for (i, page) in pages.iter().enumerate() {
        let what = format!("page {}", i + 1);
        let decoded = guarded(&what, || {
            content::check_page(&mut budget, page)?;
            decode_page(page, &scan_cache, &render_cache, limits)
        })?;
        if !on_page(decoded) {
            break;
        }
    }
    Ok(pages.len())
}

/// Opens a PDF once what opening it decodes has been measured (see `xref`).
fn open_checked<T: AsRef<[u8]> + Send + Sync + 'static>(
    bytes: &Arc<T>,
    strictness: Strictness,
    budget: &mut Budget,
) -> Result<Pdf, DecodeError> {
    let data: &[u8] = (**bytes).as_ref();
    // A scanner still writing, or a copy cut short, leaves no end marker; hayro
    // would repair what is there and silently drop the missing pages.
    let tail = &data[data.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(DecodeError::Corrupt(
            "truncated: no %%EOF marker at the end".into(),
        ));
    }
    guarded("the PDF structure", || {
        xref::check(data, strictness, budget)
    })?;
    guarded("the PDF structure", || open(bytes))
}

fn open<T: AsRef<[u8]> + Send + Sync + 'static>(bytes: &Arc<T>) -> Result<Pdf, DecodeError> {
    match Pdf::new_with_password(Arc::clone(bytes), NOT_A_PASSWORD) {
        Ok(pdf) => Ok(pdf),
        Err(LoadPdfError::Decryption(_)) => Err(DecodeError::Encrypted),
        Err(LoadPdfError::Invalid) => Err(DecodeError::Corrupt(
            "no readable cross-reference table or page tree".into(),
        )),
    }
}

fn decode_page<'a>(
    page: &'a PdfPage<'a>,
    scan_cache: &InterpreterCache<'a>,
    render_cache: &RenderCache<'a>,
    limits: &Limits,
) -> Result<Page, DecodeError> {
    let drawn = scan::scan(page, scan_cache);
    // Refuse before hayro decodes anything: an image is decoded at its full
    // size whatever size it is drawn at.
    if let Some(big) = drawn
        .images
        .iter()
        .find(|i| i.width as u64 * i.height as u64 > limits.max_pixels)
    {
        return Err(passthrough::too_many_pixels(big.width, big.height, limits));
    }
    if let Some(image) = single_full_page_image(page, &drawn) {
        if let Some(decoded) = passthrough::extract(page, image, limits)? {
            return Ok(decoded);
        }
    }
    render::render(page, render_cache, &drawn, limits)
}

/// The page's only mark, when it is one upright image covering the visible box.
fn single_full_page_image<'d>(page: &PdfPage<'_>, drawn: &'d Drawn) -> Option<&'d DrawnImage> {
    let [image] = drawn.images.as_slice() else {
        return None;
    };
    if drawn.other_marks || image.stencil || image.altered {
        return None;
    }
    // Pixel x to the right, pixel y downwards: no rotation, skew or mirroring,
    // which the stored image could not express.
    let [a, b, c, d, _, _] = image.transform.as_coeffs();
    let skew = 1e-3 * a.abs().max(d.abs());
    if !(a > 0.0 && d < 0.0 && b.abs() <= skew && c.abs() <= skew) {
        return None;
    }
    let visible = page.intersected_crop_box();
    let bounds = image.bounds();
    let (tx, ty) = (
        FULL_PAGE_TOLERANCE * visible.width(),
        FULL_PAGE_TOLERANCE * visible.height(),
    );
    let covers = (bounds.x0 - visible.x0).abs() <= tx
        && (bounds.x1 - visible.x1).abs() <= tx
        && (bounds.y0 - visible.y0).abs() <= ty
        && (bounds.y1 - visible.y1).abs() <= ty;
    covers.then_some(image)
}

/// How [`guarded`] begins the `Corrupt` message of a panic it caught: a bug
/// to fix (in hayro or here), never the expected outcome of a damaged file.
pub(crate) const CAUGHT_PANIC: &str = "PDF reader failed on";

/// Runs third-party parsing and rendering so that a panic in it becomes an
/// error for this file. The caches it touched are dropped with the document.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, DecodeError>) -> Result<T, DecodeError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(DecodeError::Corrupt(format!("{CAUGHT_PANIC} {what}"))))
}
