//! Cheap orientation from the shape of the ink, so that Tesseract OSD (about
//! 0,45 s a page, a third of the OCR itself) runs only on pages this cannot
//! settle.
//!
//! Two facts of printed Latin-script text do the work. Lines of text make a
//! sharp projection profile across them and a flat one along them, which tells
//! horizontal lines (0°/180°) from vertical ones (90°/270°). And within a line
//! more ink sits above the x-height band than below it: ascenders and capitals
//! outnumber descenders, and Vietnamese adds tone and vowel marks on top. A
//! page upside down has that mass below the band.

use super::profile::{ink_points, profile, sharpest_angle};
use super::raster::downscale_box;
use image::GrayImage;

/// Largest skew the profiles look through, in degrees.
const MAX_SKEW: f32 = 6.0;
/// How much stronger one reading must be than the other to be trusted.
const DECISIVE: f64 = 1.3;
/// Fewest lines of text for the above/below count to be trusted.
const MIN_LINES: u32 = 8;

/// The clockwise turn that makes the page upright, when the ink shows it
/// clearly; `None` means "ask OSD".
pub fn quick_orientation(img: &GrayImage, dpi: f32) -> Option<u16> {
    // ~100 dpi keeps the x-height band several pixels tall.
    let factor = ((dpi / 100.0).round() as u32).max(1);
    let small = downscale_box(img, factor);
    let ink = ink_points(&small, 60);
    if ink.len() < 500 {
        return None;
    }
    let span = (small.width() + small.height()) as usize;
    let transposed: Vec<(f32, f32)> = ink.iter().map(|&(x, y)| (y, x)).collect();
    let (h_angle, h_energy) = sharpest_angle(&ink, span, MAX_SKEW, 0.1);
    let (v_angle, v_energy) = sharpest_angle(&transposed, span, MAX_SKEW, 0.1);
    let (points, angle, vertical) = if h_energy > DECISIVE * v_energy {
        (&ink, h_angle, false)
    } else if v_energy > DECISIVE * h_energy {
        (&transposed, v_angle, true)
    } else {
        return None;
    };
    // In the transposed frame (x↔y) a page turned 90° clockwise has its line
    // tops at larger "y"; see the test for the four cases.
    let ratio = above_below_ratio(points, angle, span)?;
    let upright_in_frame = if ratio > DECISIVE {
        true
    } else if ratio < 1.0 / DECISIVE {
        false
    } else {
        return None;
    };
    Some(match (vertical, upright_in_frame) {
        (false, true) => 0,
        (false, false) => 180,
        // Transposed: tops toward +y means the page's tops face left, i.e.
        // the content is turned 90° counter-clockwise: turn it 90° clockwise.
        (true, true) => 90,
        (true, false) => 270,
    })
}

/// Ink above the x-height band over ink below it, summed over the lines of
/// the profile at `angle`; `None` with fewer than eight lines (charts, photos
/// and forms with a few labels are left to OSD: a chart's curves read as an
/// upside-down "line" here).
fn above_below_ratio(points: &[(f32, f32)], angle: f32, span: usize) -> Option<f64> {
    let bins = profile(points, angle, span);
    let peak = *bins.iter().max()? as f64;
    let floor = peak * 0.05;
    let (mut above, mut below, mut lines) = (0.0f64, 0.0f64, 0);
    let mut i = 0;
    while i < bins.len() {
        if (bins[i] as f64) <= floor {
            i += 1;
            continue;
        }
        let start = i;
        while i < bins.len() && (bins[i] as f64) > floor {
            i += 1;
        }
        let line = &bins[start..i];
        let top = *line.iter().max().unwrap_or(&0) as f64;
        // Thin runs are specks, rules or stray marks, not lines of text.
        if line.len() < 4 || top < peak * 0.2 {
            continue;
        }
        // The x-height band: the rows holding at least half the line's peak.
        let core: Vec<usize> = (0..line.len())
            .filter(|&k| line[k] as f64 >= top * 0.5)
            .collect();
        let (first, last) = (core[0], core[core.len() - 1]);
        above += line[..first].iter().map(|&b| b as f64).sum::<f64>();
        below += line[last + 1..].iter().map(|&b| b as f64).sum::<f64>();
        lines += 1;
    }
    (lines >= MIN_LINES && below + above > 0.0).then(|| (above + 1.0) / (below + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::raster::turn_gray;
    use image::Luma;

    /// A page of "text": per line an x-height band, with marks above (more)
    /// and below (fewer), like Vietnamese print.
    fn page() -> GrayImage {
        let mut img = GrayImage::from_pixel(1240, 1754, Luma([240]));
        // Irregular "letters" 3 px wide (a hash, not a period, so columns of
        // the page do not line up like lines do).
        let hash = |line: u32, cell: u32| (line * 7919 + cell).wrapping_mul(2_654_435_761) >> 16;
        for line in 0..30u32 {
            let base = 150 + line * 45;
            for x in 120..1100u32 {
                let h = hash(line, x / 3);
                if (x / 60) % 5 == 4 || h % 7 >= 4 {
                    continue;
                }
                for y in base..base + 12 {
                    img.put_pixel(x, y, Luma([20]));
                }
                // Ascenders and accents above on many letters, descenders on few.
                if h % 3 == 0 {
                    for y in base - 8..base {
                        img.put_pixel(x, y, Luma([20]));
                    }
                }
                if h % 11 == 0 {
                    for y in base + 12..base + 18 {
                        img.put_pixel(x, y, Luma([20]));
                    }
                }
            }
        }
        img
    }

    #[test]
    fn all_four_turns_are_recognised() {
        let upright = page();
        // A page scanned turned t° clockwise needs (360 − t) % 360 to come back.
        for scanned in [0u16, 90, 180, 270] {
            let img = turn_gray(&upright, scanned);
            let expect = (360 - scanned) % 360;
            assert_eq!(
                quick_orientation(&img, 150.0),
                Some(expect),
                "scanned at {scanned}"
            );
        }
    }

    #[test]
    fn blank_or_sparse_pages_are_left_to_osd() {
        let img = GrayImage::from_pixel(1240, 1754, Luma([240]));
        assert_eq!(quick_orientation(&img, 150.0), None);
        // Three lines of text (a label, a caption) are not enough to judge.
        let mut few = page();
        for y in 400..1754 {
            for x in 0..1240 {
                few.put_pixel(x, y, Luma([240]));
            }
        }
        assert_eq!(quick_orientation(&few, 150.0), None);
    }
}
