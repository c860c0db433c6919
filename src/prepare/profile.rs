//! Projection profiles of ink, shared by deskew and orientation: text lines
//! give sharp peaks in the row sums of ink when sheared to level, so the angle
//! with the most profile energy is the slope of the lines.

use image::GrayImage;

/// Dark pixels (at least `darker_by` below the paper around them) as (x, y).
/// The paper is the mean grey of a window about 1/30 of the page wide, so the
/// dark edges and gradients of photocopies and scanner lids are not taken for
/// text: a text stroke is dark against its surroundings, a shadow is not.
pub fn ink_points(small: &GrayImage, darker_by: i32) -> Vec<(f32, f32)> {
    let (w, h) = (small.width() as usize, small.height() as usize);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    // Summed-area table: any window's mean in four lookups.
    let mut sat = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += small.get_pixel(x as u32, y as u32)[0] as u64;
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    let r = (w.max(h) / 30).max(4);
    let mut points = Vec::new();
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let sum = sat[y1 * (w + 1) + x1] + sat[y0 * (w + 1) + x0]
                - sat[y0 * (w + 1) + x1]
                - sat[y1 * (w + 1) + x0];
            let paper = (sum / ((x1 - x0) * (y1 - y0)) as u64) as i32;
            if (small.get_pixel(x as u32, y as u32)[0] as i32) < paper - darker_by {
                points.push((x as f32, y as f32));
            }
        }
    }
    points
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
