//! The invisible text layer of one page (text rendering mode 3).
//!
//! Each OCR word is shown with the glyph-less font, sized to cover its box:
//! font size = line height, horizontal scaling (Tz) so the glyphs span the
//! word. Every word but the last of a line carries a trailing space stretched
//! to the next word, so extractors insert exactly one space (Tesseract's own
//! recipe).
//!
//! On deskewed pages the words of a line are put on one *horizontal* baseline
//! through the mapped line centre, each word centred horizontally on its
//! mapped box. Following the skewed baseline (a rotated text matrix per line,
//! as Tesseract does, or upright words each at its mapped height) was tried
//! and rejected: from 1° of skew on, poppler's `pdftotext` splits long lines
//! in two and moves the tails after later lines, because its words must share
//! a baseline within about half the font size. The price is that a word near
//! the end of a long line is highlighted up to (line length / 2) × sin(skew)
//! above or below its ink: 4 pt for a 1° skew on an A4 line.
//!
//! Lines of body text (within 0.6–1.5× the page's median line height) all get
//! the median size: poppler builds blocks from lines of equal font size, and
//! with one size per line it split columns into fragments and interleaved
//! them (OCRmyPDF's two-column `linn` page: 26 % → 23 % character errors
//! against its text in default `pdftotext` order; 1 % in content order).

use std::collections::BTreeMap;

use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Content, Str};

use super::font::{clean_text, encode, FONT_NAME, GLYPH_WIDTH};
use super::geometry::OcrFrame;
use crate::ocr::model::{OcrLine, OcrPage};

/// One word ready to show: its cleaned characters and its OCR box (pixels).
struct Word {
    chars: Vec<char>,
    left: f64,
    right: f64,
}

/// Appends the text of `ocr` to `content`; records the codes used in `used`.
/// Returns the number of words written.
pub(crate) fn write_text(
    content: &mut Content,
    ocr: &OcrPage,
    frame: &OcrFrame,
    used: &mut BTreeMap<u16, char>,
) -> usize {
    let (sx, sy) = frame.scale();
    let body = body_line_height(ocr);
    let mut count = 0;
    for line in &ocr.lines {
        let Some((top, bottom)) = line_extent(line) else {
            continue;
        };
        let words = line_words(line);
        let (Some(first), Some(last)) = (words.first(), words.last()) else {
            continue;
        };
        if count == 0 {
            content.begin_text();
            content.set_text_rendering_mode(TextRenderingMode::Invisible);
        }
        let height = match body {
            // Lines of body text share one size, so pdftotext groups them into
            // blocks (and columns) instead of splitting at every tall line.
            Some(h) if (bottom - top) > 0.6 * h && (bottom - top) < 1.5 * h => h,
            _ => bottom - top,
        };
        let size = (height * sy).max(0.5);
        content.set_font(FONT_NAME, round2(size));
        let mid_y = (top + bottom) / 2.0;
        // Glyphs sit on the baseline and rise one font size (ascent 1000,
        // descent 0), so this centres them on the mapped line centre.
        let baseline = frame.map((first.left + last.right) / 2.0, mid_y).1 - size / 2.0;
        // Page x of each word's left edge, centred on its mapped box.
        let xs: Vec<(f64, f64)> = words
            .iter()
            .map(|w| {
                let width = (w.right - w.left) * sx;
                (
                    frame.map((w.left + w.right) / 2.0, mid_y).0 - width / 2.0,
                    width,
                )
            })
            .collect();
        for (i, (word, &(x, width))) in words.iter().zip(&xs).enumerate() {
            let mut chars = word.chars.clone();
            let mut span = width;
            if let Some(&(next_x, _)) = xs.get(i + 1) {
                chars.push(' ');
                span = span.max(next_x - x);
            }
            let natural = chars.len() as f64 * GLYPH_WIDTH / 1000.0 * size;
            let scale = (100.0 * span / natural).clamp(1.0, 10_000.0);
            content.set_horizontal_scaling(round2(scale));
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, round2(x), round2(baseline)]);
            content.show(Str(&encode(&chars, used)));
            count += 1;
        }
    }
    if count > 0 {
        content.end_text();
    }
    count
}

/// The median line height of a page (OCR pixels), `None` without lines.
fn body_line_height(ocr: &OcrPage) -> Option<f64> {
    let mut heights: Vec<f64> = ocr
        .lines
        .iter()
        .filter_map(line_extent)
        .map(|(t, b)| b - t)
        .collect();
    heights.sort_by(f64::total_cmp);
    heights.get(heights.len() / 2).copied()
}

/// Hundredths of a point (or percent) are far below what a reader resolves;
/// rounding keeps the content stream about a tenth smaller.
fn round2(v: f64) -> f32 {
    ((v * 100.0).round() / 100.0) as f32
}

/// Top and bottom of a line in OCR pixels: the line box, or the union of its
/// word boxes when the line box is unusable.
fn line_extent(line: &OcrLine) -> Option<(f64, f64)> {
    let b = line.bbox;
    let (top, bottom) = (f64::from(b.top), f64::from(b.bottom));
    if top.is_finite() && bottom.is_finite() && bottom > top {
        return Some((top, bottom));
    }
    let mut ext: Option<(f64, f64)> = None;
    for w in &line.words {
        let (t, b) = (f64::from(w.bbox.top), f64::from(w.bbox.bottom));
        if t.is_finite() && b.is_finite() && b > t {
            ext = Some(ext.map_or((t, b), |(et, eb)| (et.min(t), eb.max(b))));
        }
    }
    ext
}

/// The words of a line that can be placed: non-empty text, finite box with
/// positive width. Order is kept: it is the reading order.
fn line_words(line: &OcrLine) -> Vec<Word> {
    line.words
        .iter()
        .filter_map(|w| {
            let (left, right) = (f64::from(w.bbox.left), f64::from(w.bbox.right));
            if !(left.is_finite() && right.is_finite() && right > left) {
                return None;
            }
            let chars: Vec<char> = clean_text(&w.text)
                .into_iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            (!chars.is_empty()).then_some(Word { chars, left, right })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::model::{BBox, OcrWord};
    use crate::package::geometry::PageGeometry;

    fn word(text: &str, l: f32, r: f32) -> OcrWord {
        OcrWord {
            text: text.into(),
            bbox: BBox {
                left: l,
                top: 100.0,
                right: r,
                bottom: 140.0,
            },
            confidence: 90.0,
        }
    }

    #[test]
    fn words_get_spaces_and_fill_their_boxes() {
        let page = OcrPage {
            width: 2480,
            height: 3508,
            lines: vec![OcrLine {
                bbox: BBox {
                    left: 100.0,
                    top: 100.0,
                    right: 600.0,
                    bottom: 140.0,
                },
                words: vec![
                    word("Xã", 100.0, 180.0),
                    word("", 190.0, 200.0),
                    word("Tiến", 200.0, 300.0),
                ],
            }],
        };
        let g = PageGeometry::new(2480, 3508, (300.0, 300.0), 0).unwrap();
        let f = OcrFrame::new(&g, 2480, 3508, 0.0).unwrap();
        let mut content = Content::new();
        let mut used = BTreeMap::new();
        assert_eq!(write_text(&mut content, &page, &f, &mut used), 2);
        let ops = String::from_utf8_lossy(&content.finish().into_vec()).into_owned();
        assert!(ops.contains("3 Tr"), "{ops}");
        // Line height 40 px at 300 dpi = 9.6 pt.
        assert!(ops.contains("/F0 9.6 Tf"), "{ops}");
        // "Xã " spans 100 px (to the next word) = 24 pt; 3 glyphs × 4.8 pt natural.
        assert!(ops.contains("166.67 Tz"), "{ops}");
        assert_eq!(used.get(&(' ' as u16)), Some(&' '));
        assert_eq!(used.get(&('ã' as u16)), Some(&'ã'));
    }

    #[test]
    fn unusable_boxes_and_texts_are_skipped() {
        let nan = BBox {
            left: f32::NAN,
            top: 0.0,
            right: 5.0,
            bottom: f32::INFINITY,
        };
        let mut bad = word("x", 10.0, 5.0); // right < left
        bad.bbox.top = f32::NAN;
        let page = OcrPage {
            width: 100,
            height: 100,
            lines: vec![
                OcrLine {
                    bbox: nan,
                    words: vec![word(" \t", 1.0, 9.0), bad],
                },
                OcrLine {
                    bbox: nan,
                    words: vec![OcrWord {
                        bbox: nan,
                        ..word("y", 0.0, 1.0)
                    }],
                },
                OcrLine {
                    bbox: nan,
                    words: vec![word("ok", 1.0, 2.0)],
                },
            ],
        };
        let g = PageGeometry::new(100, 100, (72.0, 72.0), 0).unwrap();
        let f = OcrFrame::new(&g, 100, 100, 2.5).unwrap();
        let mut content = Content::new();
        let mut used = BTreeMap::new();
        // Only "ok" survives: its line box is unusable but its own box is fine.
        assert_eq!(write_text(&mut content, &page, &f, &mut used), 1);
        let ops = String::from_utf8_lossy(&content.finish().into_vec()).into_owned();
        assert!(!ops.contains("NaN") && !ops.contains("inf"), "{ops}");
    }

    #[test]
    fn empty_page_writes_nothing() {
        let page = OcrPage {
            width: 10,
            height: 10,
            lines: vec![],
        };
        let g = PageGeometry::new(10, 10, (72.0, 72.0), 0).unwrap();
        let f = OcrFrame::new(&g, 10, 10, 0.0).unwrap();
        let mut content = Content::new();
        assert_eq!(write_text(&mut content, &page, &f, &mut BTreeMap::new()), 0);
        assert!(content.finish().into_vec().is_empty());
    }
}
