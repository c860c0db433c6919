//! Small pixel operations prepare needs, on 8-bit grey images.

use crate::decode::Raster;
use image::{imageops, GrayImage, Luma};

/// Converts decoded pixels to 8-bit grey (ITU-R 601 luma).
pub fn to_gray(r: &Raster) -> GrayImage {
    let (w, h) = (r.width, r.height);
    if r.channels == 1 {
        return GrayImage::from_raw(w, h, r.data.clone()).unwrap_or_else(|| GrayImage::new(w, h));
    }
    let c = r.channels as usize;
    let data: Vec<u8> = r
        .data
        .chunks_exact(c)
        .map(|p| ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000) as u8)
        .collect();
    GrayImage::from_raw(w, h, data).unwrap_or_else(|| GrayImage::new(w, h))
}

/// Turns an image clockwise by 0, 90, 180 or 270 degrees.
pub fn turn_gray(img: &GrayImage, clockwise: u16) -> GrayImage {
    match clockwise % 360 {
        90 => imageops::rotate90(img),
        180 => imageops::rotate180(img),
        270 => imageops::rotate270(img),
        _ => img.clone(),
    }
}

/// Resizes with a triangle filter (good enough for OCR input).
pub fn resize_gray(img: &GrayImage, w: u32, h: u32) -> GrayImage {
    imageops::resize(img, w, h, imageops::FilterType::Triangle)
}

/// Averages `factor × factor` blocks: a fast, alias-free downscale for analysis.
pub fn downscale_box(img: &GrayImage, factor: u32) -> GrayImage {
    let f = factor.max(1);
    let (w, h) = ((img.width() / f).max(1), (img.height() / f).max(1));
    let mut out = GrayImage::new(w, h);
    let n = f * f;
    for oy in 0..h {
        for ox in 0..w {
            let mut sum = 0u32;
            for y in oy * f..((oy + 1) * f).min(img.height()) {
                for x in ox * f..((ox + 1) * f).min(img.width()) {
                    sum += img.get_pixel(x, y)[0] as u32;
                }
            }
            out.put_pixel(ox, oy, Luma([(sum / n) as u8]));
        }
    }
    out
}

/// Rotates about the centre by `degrees` counter-clockwise (as seen on screen),
/// keeping the canvas size and filling uncovered corners with white.
pub fn rotate_gray(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_raw();
    let (s, c) = (degrees.to_radians() as f64).sin_cos();
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let mut out = vec![255u8; w * h];
    let (max_x, max_y) = ((w - 1) as f64, (h - 1) as f64);
    for (y, row) in out.chunks_exact_mut(w).enumerate() {
        let dy = y as f64 + 0.5 - cy;
        // Inverse map: screen y points down, so a counter-clockwise turn of
        // the output samples the input turned clockwise. Along a row the source
        // point moves by (c, s) per pixel, so it is stepped, not recomputed.
        let dx0 = 0.5 - cx;
        let mut sx = c * dx0 - s * dy + cx - 0.5;
        let mut sy = s * dx0 + c * dy + cy - 0.5;
        for px in row.iter_mut() {
            if sx >= 0.0 && sy >= 0.0 && sx < max_x && sy < max_y {
                let (x0, y0) = (sx as usize, sy as usize);
                // Weights in 1/256ths: integer blending is plenty for OCR input.
                let fx = ((sx - x0 as f64) * 256.0) as u32;
                let fy = ((sy - y0 as f64) * 256.0) as u32;
                let i = y0 * w + x0;
                let top = src[i] as u32 * (256 - fx) + src[i + 1] as u32 * fx;
                let bot = src[i + w] as u32 * (256 - fx) + src[i + w + 1] as u32 * fx;
                *px = ((top * (256 - fy) + bot * fy + (1 << 15)) >> 16) as u8;
            }
            sx += c;
            sy += s;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| img.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_zero_is_identity_and_keeps_size() {
        let mut img = GrayImage::from_pixel(40, 30, Luma([255]));
        img.put_pixel(10, 10, Luma([0]));
        let r = rotate_gray(&img, 0.0);
        assert_eq!(r.dimensions(), (40, 30));
        assert_eq!(r.get_pixel(10, 10)[0], 0);
    }

    #[test]
    fn rotate_counter_clockwise_moves_right_point_up() {
        // A dark dot right of centre ends up above centre after +90°.
        let mut img = GrayImage::from_pixel(101, 101, Luma([255]));
        for y in 49..52 {
            for x in 79..82 {
                img.put_pixel(x, y, Luma([0]));
            }
        }
        let r = rotate_gray(&img, 90.0);
        assert!(r.get_pixel(50, 20)[0] < 100, "dot should move up");
        assert!(r.get_pixel(80, 50)[0] > 200);
    }

    #[test]
    fn box_downscale_averages() {
        let img = GrayImage::from_fn(4, 4, |x, _| Luma([if x < 2 { 0 } else { 200 }]));
        let d = downscale_box(&img, 2);
        assert_eq!(d.dimensions(), (2, 2));
        assert_eq!(d.get_pixel(0, 0)[0], 0);
        assert_eq!(d.get_pixel(1, 1)[0], 200);
    }
}
