//! Prepare: makes the image OCR reads, and only that one. The stored copy keeps
//! the original pixels; here we turn pages upright (Tesseract OSD), deskew them,
//! bring odd resolutions to square ~300 dpi pixels and flag blank pages, and we
//! remember exactly what we did so the text layer can be mapped back onto the
//! original scan.

mod blank;
mod deskew;
mod orientation;
mod profile;
mod raster;

pub use blank::is_blank;
pub use deskew::estimate_skew;
pub use orientation::quick_orientation;
pub use raster::{downscale_box, resize_gray, rotate_gray, to_gray, turn_gray};

use image::GrayImage;

/// Settings of the prepare stage.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PrepareSettings {
    /// Detect pages turned 90/180/270° and read them upright.
    pub orientation: bool,
    /// Straighten pages scanned slightly askew before OCR.
    pub deskew: bool,
    /// Smallest OSD confidence for which a turn is applied.
    pub min_orientation_confidence: f32,
}

impl Default for PrepareSettings {
    fn default() -> Self {
        PrepareSettings {
            orientation: true,
            deskew: true,
            min_orientation_confidence: 1.5,
        }
    }
}

/// The resolution OCR works best at; pages far above it are scaled down for OCR.
pub const OCR_DPI: f32 = 300.0;

/// A grey image ready for OCR plus the record of how it was made.
pub struct PreparedPage {
    /// Upright, deskewed grey pixels at square resolution `dpi`.
    pub image: GrayImage,
    pub dpi: f32,
    /// Clockwise turn applied to the scan to make it upright.
    pub turn: u16,
    /// Counter-clockwise rotation (degrees) applied after the turn.
    pub deskew_deg: f32,
    pub blank: bool,
}

/// Brings pixels to square resolution near `OCR_DPI` (up or down as needed)
/// and to grey. Returns the grey image and its dpi.
pub fn normalise(pixels: &crate::decode::Raster, dpi: (f32, f32)) -> (GrayImage, f32) {
    let grey = to_gray(pixels);
    let (dx, dy) = dpi;
    // Target: the larger axis resolution, capped at 2 × OCR_DPI, then halved
    // while above it. Non-square pixels are stretched to square.
    let mut target = dx.max(dy);
    while target > 1.5 * OCR_DPI {
        target /= 2.0;
    }
    let sx = target / dx;
    let sy = target / dy;
    if (sx - 1.0).abs() < 0.01 && (sy - 1.0).abs() < 0.01 {
        return (grey, dx);
    }
    let w = ((grey.width() as f32 * sx).round() as u32).max(1);
    let h = ((grey.height() as f32 * sy).round() as u32).max(1);
    (resize_gray(&grey, w, h), target)
}

/// Makes the OCR image of one decoded page. `detect_turn` returns the clockwise
/// turn (and its confidence) that makes a grey page upright; it is Tesseract
/// OSD in production and a stub in tests.
pub fn prepare_page(
    page: &crate::decode::Page,
    settings: &PrepareSettings,
    detect_turn: impl FnOnce(&GrayImage, f32) -> Option<(u16, f32)>,
) -> PreparedPage {
    // A resolution no scanner produces (0, 1, 72000 dpi) is a broken header:
    // read such pages as the usual 300 dpi.
    let plausible = |d: f32| (50.0..=4800.0).contains(&d);
    let dpi = page
        .dpi
        .filter(|&(x, y)| plausible(x) && plausible(y))
        .unwrap_or((OCR_DPI, OCR_DPI));
    let (grey, dpi) = normalise(&page.pixels, dpi);
    let mut image = turn_gray(&grey, page.rotate);
    drop(grey);
    let mut turn = page.rotate % 360;
    if is_blank(&image, dpi) {
        return PreparedPage {
            image,
            dpi,
            turn,
            deskew_deg: 0.0,
            blank: true,
        };
    }
    if settings.orientation {
        // The ink's shape settles most pages in milliseconds; OSD (on a
        // ~150 dpi copy, as reliable there and twice as fast) takes the rest.
        let extra = quick_orientation(&image, dpi).or_else(|| {
            let factor = if dpi >= 250.0 { 2 } else { 1 };
            let small = if factor > 1 {
                downscale_box(&image, factor)
            } else {
                image.clone()
            };
            detect_turn(&small, dpi / factor as f32)
                .filter(|&(_, conf)| conf >= settings.min_orientation_confidence)
                .map(|(t, _)| t)
        });
        if let Some(extra) = extra.filter(|t| t % 360 != 0) {
            image = turn_gray(&image, extra);
            turn = (turn + extra) % 360;
        }
    }
    let mut deskew_deg = 0.0;
    if settings.deskew {
        let angle = estimate_skew(&image, dpi);
        if angle.abs() >= 0.1 {
            image = rotate_gray(&image, angle);
            deskew_deg = angle;
        }
    }
    PreparedPage {
        image,
        dpi,
        turn,
        deskew_deg,
        blank: false,
    }
}
