//! Rendering a page that is not a single passable image (JBIG2, JPEG 2000,
//! raw pixels, masks, several images, vector art, skewed placement…).
//!
//! The resolution follows the largest image on the page so its pixels survive
//! about one to one, within what OCR needs (150–600 dpi) and what the limits
//! allow.

use super::scan::{Drawn, DrawnImage};
use crate::decode::{ColorMode, DecodeError, Limits, Page, Raster, StoredImage};
use hayro::hayro_interpret::hayro_syntax::page::{Page as PdfPage, Rotation};
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_interpret::InterpreterSettings;
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::peniko::ImageAlphaType;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{render_into, RenderCache, RenderSettings};
use std::cmp::Ordering;

const DEFAULT_DPI: f64 = 300.0;
const MIN_DPI: f64 = 150.0;
const MAX_DPI: f64 = 600.0;
/// Below this, reducing the resolution to meet the pixel limit would make the page unreadable.
const FLOOR_DPI: f64 = 72.0;
/// hayro and vello_cpu size pixmaps with u16.
const MAX_SIDE: f64 = u16::MAX as f64;

pub(super) fn render<'a>(
    page: &'a PdfPage<'a>,
    cache: &RenderCache<'a>,
    drawn: &Drawn,
    limits: &Limits,
) -> Result<Page, DecodeError> {
    let (page_w, page_h) = page.render_dimensions();
    let (page_w, page_h) = (page_w as f64, page_h as f64);
    let (mut dpi_x, mut dpi_y) = wanted_dpi(page, drawn);
    let exact = |dx: f64, dy: f64| (page_w * dx / 72.0, page_h * dy / 72.0);
    let (w, h) = exact(dpi_x, dpi_y);
    // hayro draws into 4 bytes a pixel.
    let most = (limits.max_pixels as f64).min(limits.max_raster_bytes as f64 / 4.0);
    let fit = (most / (w * h)).sqrt().min(MAX_SIDE / w).min(MAX_SIDE / h);
    let reduced = fit < 1.0;
    if reduced {
        dpi_x *= fit;
        dpi_y *= fit;
        if dpi_x.max(dpi_y) < FLOOR_DPI {
            let (w, h) = exact(FLOOR_DPI, FLOOR_DPI);
            let actual = (w * h) as u64;
            return Err(DecodeError::TooLarge {
                what: "pixels",
                actual,
                limit: limits.max_pixels,
            });
        }
    }
    let (w, h) = exact(dpi_x, dpi_y);
    // Rounding down after a reduction keeps the product within the limit.
    let side = |v: f64| (if reduced { v.floor() } else { v.round() }).clamp(1.0, MAX_SIDE) as u16;
    let (w, h) = (side(w), side(h));
    let (sx, sy) = (w as f64 / page_w, h as f64 / page_h);

    let mut ctx = RenderContext::new(w, h);
    // Same as hayro::render, which would truncate the size instead of rounding it.
    let transform = Affine::scale_non_uniform(sx, sy) * page.initial_transform(true).to_kurbo();
    let settings = InterpreterSettings::default();
    render_into(
        page,
        cache,
        &settings,
        &RenderSettings::default(),
        &mut ctx,
        transform,
    );
    ctx.flush();
    let mut pixmap = Pixmap::new(w, h);
    let raster = RasterizerSettings {
        target_init: TargetInit::Clear(WHITE),
        ..Default::default()
    };
    ctx.render_with(&mut pixmap, &mut Resources::default(), raster);
    drop(ctx);
    let pixels = opaque_rgba_to_raster(pixmap.take_rgba8(ImageAlphaType::AlphaPremultiplied), w, h);
    let color = if pixels.channels == 1 {
        ColorMode::Gray
    } else {
        ColorMode::Rgb
    };
    Ok(Page {
        width: pixels.width,
        height: pixels.height,
        dpi: Some(((sx * 72.0) as f32, (sy * 72.0) as f32)),
        color,
        // hayro turns the page as /Rotate asks while rendering.
        rotate: 0,
        stored: StoredImage::Lossless {
            color,
            data: pixels.data.clone(),
        },
        pixels,
    })
}

/// Resolution (x, y) of the rendered, already turned page.
fn wanted_dpi(page: &PdfPage<'_>, drawn: &Drawn) -> (f64, f64) {
    // The image covering most of the page carries the scan; a mask or a logo
    // drawn small would ask for an absurd resolution.
    let drawn_area = |i: &&DrawnImage| {
        let bounds = i.bounds();
        (bounds.area(), i.width as u64 * i.height as u64)
    };
    let largest = drawn.images.iter().max_by(|a, b| {
        drawn_area(a)
            .partial_cmp(&drawn_area(b))
            .unwrap_or(Ordering::Equal)
    });
    let Some(image) = largest else {
        return (DEFAULT_DPI, DEFAULT_DPI);
    };
    // Pixels per inch along the image's own axes, then mapped to the page's
    // axes by whichever of them each image axis mostly follows.
    let [a, b, c, d, _, _] = image.transform.as_coeffs();
    let along_u = 72.0 / a.hypot(b);
    let along_v = 72.0 / c.hypot(d);
    let (mut x, mut y) = if a.abs() >= b.abs() {
        (along_u, along_v)
    } else {
        (along_v, along_u)
    };
    if matches!(
        page.rotation(),
        Rotation::Horizontal | Rotation::FlippedHorizontal
    ) {
        std::mem::swap(&mut x, &mut y);
    }
    if !(x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0) {
        return (DEFAULT_DPI, DEFAULT_DPI);
    }
    // Scale both axes together so non-square pixels (200 × 100 dpi faxes) stay one to one.
    let top = x.max(y);
    let scale = top.clamp(MIN_DPI, MAX_DPI) / top;
    ((x * scale).max(FLOOR_DPI), (y * scale).max(FLOOR_DPI))
}

/// Packs the opaque pixmap in place as grey when every pixel is neutral, RGB otherwise.
fn opaque_rgba_to_raster(mut data: Vec<u8>, w: u16, h: u16) -> Raster {
    // The background is opaque white, so premultiplied values are the colours.
    let grey = data.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2]);
    let channels: usize = if grey { 1 } else { 3 };
    for i in 0..data.len() / 4 {
        let (src, dst) = (i * 4, i * channels);
        data.copy_within(src..src + channels, dst);
    }
    data.truncate(w as usize * h as usize * channels);
    data.shrink_to_fit();
    Raster {
        width: w as u32,
        height: h as u32,
        channels: channels as u8,
        data,
    }
}
