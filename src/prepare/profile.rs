//! Projection profiles of ink, shared by deskew and orientation: text lines
//! give sharp peaks in the row sums of ink when sheared to level, so the angle
//! with the most profile energy is the slope of the lines.

use image::GrayImage;

/// Dark pixels (at least `darker_by` below the page's mean grey) as (x, y).
pub fn ink_points(small: &GrayImage, darker_by: i32) -> Vec<(f32, f32)> {
    let n = (small.width() as u64 * small.height() as u64).max(1);
    let mean = small.pixels().map(|p| p[0] as u64).sum::<u64>() / n;
    let threshold = (mean as i32 - darker_by).max(0) as u8;
    small
        .enumerate_pixels()
        .filter(|(_, _, p)| p[0] < threshold)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect()
}

/// Row profile of the points sheared by `deg` (lines sloping by `deg`, y down,
/// become level). `span` must exceed width + height of the image.
pub fn profile(points: &[(f32, f32)], deg: f32, span: usize) -> Vec<u32> {
    let t = deg.to_radians().tan();
    let offset = span as f32 / 2.0;
    let mut bins = vec![0u32; span * 2];
    for &(x, y) in points {
        let r = (y - x * t + offset) as isize;
        if r >= 0 && (r as usize) < bins.len() {
            bins[r as usize] += 1;
        }
    }
    bins
}

fn energy(bins: &[u32]) -> f64 {
    bins.iter().map(|&b| (b as f64) * (b as f64)).sum()
}

/// The slope within ±`max_deg` whose profile is sharpest, found coarsely in
/// half degrees then refined by `fine_step`, with that sharpness.
pub fn sharpest_angle(
    points: &[(f32, f32)],
    span: usize,
    max_deg: f32,
    fine_step: f32,
) -> (f32, f64) {
    let score = |deg: f32| energy(&profile(points, deg, span));
    let mut best = (0.0f32, score(0.0));
    let mut a = -max_deg;
    while a <= max_deg {
        let e = score(a);
        if e > best.1 {
            best = (a, e);
        }
        a += 0.5;
    }
    let centre = best.0;
    let mut a = centre - 0.5;
    while a <= centre + 0.5 {
        let e = score(a);
        if e > best.1 {
            best = (a, e);
        }
        a += fine_step;
    }
    best
}
