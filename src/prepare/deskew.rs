//! Skew estimation by projection profiles (see `profile`), measured on a
//! ~75 dpi copy: it costs milliseconds.

use super::profile::{ink_points, sharpest_angle};
use super::raster::downscale_box;
use image::GrayImage;

/// Largest skew we look for, in degrees.
const MAX_SKEW: f32 = 6.0;

/// Returns the counter-clockwise rotation (degrees) that levels the text, or 0
/// when the page has too little ink to tell.
pub fn estimate_skew(img: &GrayImage, dpi: f32) -> f32 {
    let factor = ((dpi / 75.0).round() as u32).max(1);
    let small = downscale_box(img, factor);
    let ink = ink_points(&small, 50);
    if ink.len() < 200 {
        return 0.0;
    }
    let span = (small.width() + small.height()) as usize;
    let (slope, _) = sharpest_angle(&ink, span, MAX_SKEW, 0.05);
    // The lines slope by `slope` (y down); the rotation that levels them is
    // the same angle counter-clockwise on screen.
    (slope * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::raster::rotate_gray;
    use image::Luma;

    fn lines_page() -> GrayImage {
        let mut img = GrayImage::from_pixel(1200, 1600, Luma([245]));
        for line in 0..30u32 {
            let y0 = 150 + line * 40;
            for y in y0..y0 + 12 {
                for x in 150..1050 {
                    if (x / 9) % 3 != 0 {
                        img.put_pixel(x, y, Luma([15]));
                    }
                }
            }
        }
        img
    }

    #[test]
    fn level_page_has_no_skew() {
        assert!(estimate_skew(&lines_page(), 150.0).abs() < 0.2);
    }

    #[test]
    fn rotated_page_skew_is_found_and_undone() {
        for deg in [2.5f32, -1.8, 3.0] {
            // Skew the page by turning it `deg` clockwise; the estimate must be
            // the counter-clockwise turn that undoes it.
            let skewed = rotate_gray(&lines_page(), -deg);
            let est = estimate_skew(&skewed, 150.0);
            assert!((est - deg).abs() < 0.3, "skew {deg}: estimated {est}");
        }
    }
}
