//! Skew estimation by projection profiles: text lines give sharp peaks in the
//! row sums of ink when the page is level, so the angle whose profile has the
//! most energy is the skew. Measured on a ~75 dpi copy, it costs milliseconds.

use super::raster::downscale_box;
use image::GrayImage;

/// Largest skew we look for, in degrees.
const MAX_SKEW: f32 = 6.0;

/// Returns the counter-clockwise rotation (degrees) that levels the text, or 0
/// when the page has too little ink to tell.
pub fn estimate_skew(img: &GrayImage, dpi: f32) -> f32 {
    let factor = ((dpi / 75.0).round() as u32).max(1);
    let small = downscale_box(img, factor);
    let (w, h) = small.dimensions();
    let mean = small.pixels().map(|p| p[0] as u64).sum::<u64>() / (w as u64 * h as u64).max(1);
    let threshold = (mean as i32 - 50).max(0) as u8;
    let ink: Vec<(f32, f32)> = small
        .enumerate_pixels()
        .filter(|(_, _, p)| p[0] < threshold)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect();
    if ink.len() < 200 {
        return 0.0;
    }
    let score = |deg: f32| profile_energy(&ink, deg, h as usize + w as usize);
    // Coarse search, then refine around the best angle.
    let mut best = (0.0f32, score(0.0));
    let mut a = -MAX_SKEW;
    while a <= MAX_SKEW {
        let s = score(a);
        if s > best.1 {
            best = (a, s);
        }
        a += 0.5;
    }
    let centre = best.0;
    let mut a = centre - 0.5;
    while a <= centre + 0.5 {
        let s = score(a);
        if s > best.1 {
            best = (a, s);
        }
        a += 0.05;
    }
    // `best.0` is the angle the text lines slope at (y down); the rotation that
    // levels them is the same angle counter-clockwise on screen.
    (best.0 * 100.0).round() / 100.0
}

/// Sum of squared row counts after shearing the ink points by `deg`: a sharp
/// profile (level lines) scores high.
fn profile_energy(ink: &[(f32, f32)], deg: f32, span: usize) -> f64 {
    let t = deg.to_radians().tan();
    let offset = span as f32 / 2.0;
    let mut bins = vec![0u32; span * 2];
    for &(x, y) in ink {
        let r = (y - x * t + offset) as isize;
        if r >= 0 && (r as usize) < bins.len() {
            bins[r as usize] += 1;
        }
    }
    bins.iter().map(|&b| (b as f64) * (b as f64)).sum()
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
