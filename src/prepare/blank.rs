//! Blank-page detection. A blank page stays in the PDF (100 % of pages are
//! kept) but is flagged and not sent to OCR, which would only invent text from
//! paper grain.

use super::raster::downscale_box;
use image::GrayImage;

/// True when a page holds no ink worth reading. Works on block means at about
/// 1/4 of the resolution, which erases specks and scanner noise but keeps text
/// strokes; a margin of 4 % is ignored because scanner edges are often dark.
pub fn is_blank(img: &GrayImage, dpi: f32) -> bool {
    let factor = ((dpi / 75.0).round() as u32).max(1);
    let small = downscale_box(img, factor);
    let (w, h) = small.dimensions();
    let (mx, my) = (w / 25, h / 25);
    let mut total = 0u64;
    let mut sum = 0u64;
    for y in my..h.saturating_sub(my) {
        for x in mx..w.saturating_sub(mx) {
            sum += small.get_pixel(x, y)[0] as u64;
            total += 1;
        }
    }
    if total == 0 {
        return true;
    }
    // Ink = clearly darker than the paper, whatever the paper's tone.
    let paper = (sum / total) as i32;
    let threshold = (paper - 60).max(0) as u8;
    let mut ink = 0u64;
    for y in my..h.saturating_sub(my) {
        for x in mx..w.saturating_sub(mx) {
            if small.get_pixel(x, y)[0] < threshold {
                ink += 1;
            }
        }
    }
    (ink as f64) / (total as f64) < 0.0015
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn white_page_with_specks_is_blank() {
        let mut img = GrayImage::from_pixel(600, 800, Luma([235]));
        for i in 0..400u32 {
            img.put_pixel((i * 37) % 600, (i * 91) % 800, Luma([0]));
        }
        assert!(is_blank(&img, 75.0 * 2.0));
    }

    #[test]
    fn page_with_text_lines_is_not_blank() {
        let mut img = GrayImage::from_pixel(600, 800, Luma([240]));
        for line in 0..20u32 {
            for y in 100 + line * 30..106 + line * 30 {
                for x in 60..540 {
                    if (x / 7) % 2 == 0 {
                        img.put_pixel(x, y, Luma([20]));
                    }
                }
            }
        }
        assert!(!is_blank(&img, 150.0));
    }
}
