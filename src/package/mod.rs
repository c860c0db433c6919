//! Package: writes one searchable PDF/A-2b file per component document.
//!
//! Each page is the stored scan (JPEG and CCITT bytes passed through untouched)
//! drawn upright at its physical size, with the OCR words laid over it as
//! invisible text so search, copy and `pdftotext` work. Written with
//! pdf-writer, which gives byte-level control (render mode 3, a 2 KB glyph-less
//! font) that higher-level PDF crates do not; the PDF/A parts are in `pdfa`.

mod font;
mod geometry;
mod image;
mod pdfa;
mod text_layer;

#[cfg(test)]
mod image_tests;
#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod layout_tests {
    use super::layout_dpi;

    #[test]
    fn absurd_or_missing_resolutions_fall_back_to_a_valid_page() {
        assert_eq!(layout_dpi(2480, 3508, Some((300.0, 300.0))), (300.0, 300.0));
        assert_eq!(layout_dpi(1000, 400, Some((200.0, 100.0))), (200.0, 100.0));
        assert_eq!(layout_dpi(2480, 3508, None), (300.0, 300.0));
        assert_eq!(layout_dpi(2480, 3508, Some((1.0, 1.0))), (300.0, 300.0));
        assert_eq!(layout_dpi(2480, 3508, Some((0.0, 0.0))), (300.0, 300.0));
        let (d, _) = layout_dpi(65_000, 100, None);
        assert!(65_000.0 * 72.0 / d as f64 <= 14_400.0);
    }
}

use std::collections::BTreeMap;

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};

use crate::ocr::model::OcrPage;
use geometry::{OcrFrame, PageGeometry};
pub use image::{encode_image, EncodedImage};

/// One page to package.
#[derive(Debug, Clone)]
pub struct PackagePage<'a> {
    /// The scan as it will be embedded (see [`encode_image`]); dropped as
    /// soon as it is written, so a long document is not held twice.
    pub image: EncodedImage,
    /// Resolution of the stored image (x, y); may be non-square.
    pub dpi: (f32, f32),
    /// Clockwise turn (0/90/180/270) that makes the stored image upright.
    pub turn: u16,
    /// What OCR read; `None` for blank pages or pages without text.
    pub ocr: Option<&'a OcrPage>,
    /// OCR ran on the upright image rotated about its centre by this many
    /// degrees (positive = counter-clockwise on screen), canvas size unchanged.
    pub deskew_deg: f32,
}

/// Document-level metadata, written to both the Info dictionary and XMP.
#[derive(Debug, Clone)]
pub struct DocumentInfo {
    pub title: String,
    /// E.g. the dossier code.
    pub subject: String,
    pub created: chrono::DateTime<chrono::Utc>,
    pub producer: String,
    /// BCP 47 language of the text, e.g. "vi".
    pub language: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("no pages to package")]
    NoPages,
    #[error("page {page}: {reason}")]
    InvalidPage { page: usize, reason: String },
    #[error("page {page}: invalid stored image: {reason}")]
    InvalidImage { page: usize, reason: String },
    #[error("page {page}: invalid ocr result: {reason}")]
    InvalidOcr { page: usize, reason: String },
}

impl PackageError {
    /// A stable code for logs, reports and exit-status mapping.
    pub fn code(&self) -> crate::errors::ErrorCode {
        use crate::errors::ErrorCode;
        match self {
            PackageError::NoPages => ErrorCode::PackageNoPages,
            PackageError::InvalidPage { .. } => ErrorCode::PackagePage,
            PackageError::InvalidImage { .. } => ErrorCode::PackageImage,
            PackageError::InvalidOcr { .. } => ErrorCode::PackageOcr,
        }
    }
}

/// Resource name of the page image.
const IMAGE_NAME: Name<'static> = Name(b"Im0");

/// The resolution to lay a page out at: the scan's own when it gives a page
/// PDF/A allows (3–14 400 pt a side), else 300 dpi, raised as far as needed for
/// huge images. Scanners that write no or absurd resolutions (1 dpi, 0 dpi)
/// still give a usable page; the records keep the scan's own value.
pub fn layout_dpi(width: u32, height: u32, dpi: Option<(f32, f32)>) -> (f32, f32) {
    let fits = |px: u32, d: f32| {
        let side = f64::from(px) * 72.0 / f64::from(d);
        d.is_finite() && d > 0.0 && (geometry::MIN_PAGE_PT..=geometry::MAX_PAGE_PT).contains(&side)
    };
    if let Some((dx, dy)) = dpi {
        if fits(width, dx) && fits(height, dy) {
            return (dx, dy);
        }
    }
    let longest = f64::from(width.max(height));
    let needed = (longest * 72.0 / geometry::MAX_PAGE_PT).ceil() as f32;
    let d = 300f32.max(needed);
    (d, d)
}

/// Writes `pages` as one PDF/A-2b document.
///
/// Deterministic: the same pages and info give the same bytes (the file ID is
/// a hash of the content), so re-packaging can be detected by checksum.
///
/// CMYK images are tagged with a small CC0 CMYK profile (SWOP-like), since
/// PDF/A forbids DeviceCMYK next to the sRGB output intent.
pub fn write_pdf(pages: Vec<PackagePage>, info: &DocumentInfo) -> Result<Vec<u8>, PackageError> {
    if pages.is_empty() {
        return Err(PackageError::NoPages);
    }
    let mut next = Ref::new(1);
    let mut alloc = || next.bump();
    let (catalog_id, pages_id, info_id, xmp_id, icc_id) =
        (alloc(), alloc(), alloc(), alloc(), alloc());
    // The font is written only when some page has text to carry.
    let font = pages
        .iter()
        .any(|p| p.ocr.is_some_and(|o| !o.lines.is_empty()))
        .then(|| font::FontRefs {
            type0: alloc(),
            cid_font: alloc(),
            descriptor: alloc(),
            font_file: alloc(),
            cid_to_gid: alloc(),
            to_unicode: alloc(),
        });

    // Likewise the CMYK profile, only for documents with CMYK images.
    let cmyk_icc = pages.iter().any(|p| p.image.is_cmyk()).then(&mut alloc);

    // Objects go straight into a file buffer sized for the images: no second
    // copy of them, and no doubling of a buffer of hundreds of megabytes.
    let images: usize = pages.iter().map(|p| p.image.len()).sum();
    let mut pdf = Pdf::with_capacity(images + 64 * 1024 * (pages.len() + 1));
    pdf.set_version(1, 7);
    let mut used = BTreeMap::new();
    let mut page_ids = Vec::with_capacity(pages.len());
    for (i, page) in pages.into_iter().enumerate() {
        let number = i + 1;
        let (width, height) = page.image.size();
        let geom = PageGeometry::new(width, height, page.dpi, page.turn).map_err(|reason| {
            PackageError::InvalidPage {
                page: number,
                reason,
            }
        })?;
        let (page_id, content_id, image_id) = (alloc(), alloc(), alloc());
        // Without CMYK images the profile ref is never used.
        image::write_image(&mut pdf, image_id, &page.image, cmyk_icc.unwrap_or(icc_id));

        let mut content = Content::new();
        content.save_state();
        content.transform(geom.image_matrix().to_f32());
        content.x_object(IMAGE_NAME);
        content.restore_state();
        let mut has_text = false;
        if let (Some(ocr), Some(_)) = (page.ocr.filter(|o| !o.lines.is_empty()), font) {
            let frame =
                OcrFrame::new(&geom, ocr.width, ocr.height, page.deskew_deg).ok_or_else(|| {
                    PackageError::InvalidOcr {
                        page: number,
                        reason: format!(
                            "frame {}x{} with deskew {} degrees",
                            ocr.width, ocr.height, page.deskew_deg
                        ),
                    }
                })?;
            has_text = text_layer::write_text(&mut content, ocr, &frame, &mut used) > 0;
        }
        let content = deflate(&content.finish());
        pdf.stream(content_id, &content).filter(Filter::FlateDecode);

        let mut pdf_page = pdf.page(page_id);
        pdf_page
            .media_box(Rect::new(
                0.0,
                0.0,
                geom.width_pt as f32,
                geom.height_pt as f32,
            ))
            .parent(pages_id)
            .contents(content_id);
        let mut resources = pdf_page.resources();
        resources.x_objects().pair(IMAGE_NAME, image_id);
        if let (true, Some(f)) = (has_text, font) {
            resources.fonts().pair(font::FONT_NAME, f.type0);
        }
        resources.finish();
        pdf_page.finish();
        page_ids.push(page_id);
    }
    let count = i32::try_from(page_ids.len()).map_err(|_| PackageError::InvalidPage {
        page: page_ids.len(),
        reason: "too many pages".into(),
    })?;
    pdf.pages(pages_id).kids(page_ids).count(count);
    if let Some(f) = font {
        font::write_font(&mut pdf, &f, &used);
    }
    // The file ID hashes the content (not the dates): same pages, same ID.
    pdf.set_file_id(pdfa::file_id(pdf.as_bytes()));
    let xmp = pdfa::xmp_packet(info);
    // PDF/A wants the metadata readable without decoding: no filter.
    pdf.metadata(xmp_id, xmp.as_bytes());
    pdfa::write_icc(&mut pdf, icc_id, pdfa::SRGB_ICC, 3);
    if let Some(id) = cmyk_icc {
        pdfa::write_icc(&mut pdf, id, pdfa::CMYK_ICC, 4);
    }
    {
        let mut catalog = pdf.catalog(catalog_id);
        catalog.pages(pages_id);
        pdfa::finish_catalog(&mut catalog, xmp_id, icc_id, &info.language);
    }
    pdfa::write_info(&mut pdf, info_id, info);
    Ok(pdf.finish())
}

/// Zlib (Flate) compression for every stream we create.
pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}
