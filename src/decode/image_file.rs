//! Single-image formats: JPEG (passed through byte-for-byte), PNG, GIF, BMP,
//! WebP (stored losslessly). Dimensions are read from the header and checked
//! against the limits before any pixel is decoded.

use super::{ColorMode, DecodeError, Format, Limits, Page, Raster, StoredImage};
use image::{DynamicImage, ImageReader};
use std::io::Cursor;

/// What a JPEG's markers say about it, read without decoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JpegInfo {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub adobe: bool,
    pub dpi: Option<(f32, f32)>,
}

/// Walks the JPEG markers up to the first SOF.
pub fn jpeg_info(b: &[u8]) -> Option<JpegInfo> {
    let mut i = 2;
    let mut adobe = false;
    let mut dpi = None;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let seg = b.get(i + 4..i + 2 + len)?;
        match marker {
            0xE0 if seg.starts_with(b"JFIF\0") && seg.len() >= 12 => {
                let (unit, x, y) = (
                    seg[7],
                    u16::from_be_bytes([seg[8], seg[9]]),
                    u16::from_be_bytes([seg[10], seg[11]]),
                );
                let k = match unit {
                    1 => Some(1.0),
                    2 => Some(2.54),
                    _ => None,
                };
                if let (Some(k), true) = (k, x > 0 && y > 0) {
                    dpi = Some((x as f32 * k, y as f32 * k));
                }
            }
            0xEE if seg.starts_with(b"Adobe") => adobe = true,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) && seg.len() >= 6 => {
                return Some(JpegInfo {
                    height: u16::from_be_bytes([seg[1], seg[2]]) as u32,
                    width: u16::from_be_bytes([seg[3], seg[4]]) as u32,
                    components: seg[5],
                    adobe,
                    dpi,
                });
            }
            _ => {}
        }
        i += 2 + len;
    }
    None
}

fn check_pixels(w: u32, h: u32, limits: &Limits) -> Result<(), DecodeError> {
    limits.check_pixels(w, h)?;
    if w == 0 || h == 0 {
        return Err(DecodeError::Corrupt("image has no pixels".into()));
    }
    Ok(())
}

/// The decoder's own buffer may hold 16-bit samples: twice the 8-bit raster.
fn image_limits(limits: &Limits) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_alloc = Some(limits.max_raster_bytes.saturating_mul(2));
    l
}

fn image_error(e: image::ImageError, limits: &Limits) -> DecodeError {
    match e {
        image::ImageError::Limits(_) => DecodeError::TooLarge {
            what: "decoded raster bytes",
            actual: 0,
            limit: limits.max_raster_bytes,
        },
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// Decodes the pixels once the header's size and colour have been checked
/// against the limits.
fn decode_pixels(
    bytes: &[u8],
    format: image::ImageFormat,
    limits: &Limits,
) -> Result<DynamicImage, DecodeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(image_limits(limits));
    let decoder = reader.into_decoder().map_err(|e| image_error(e, limits))?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    check_pixels(w, h, limits)?;
    let colour = image::ImageDecoder::color_type(&decoder).has_color();
    limits.check_raster(w, h, if colour { 3 } else { 1 })?;
    DynamicImage::from_decoder(decoder).map_err(|e| image_error(e, limits))
}

/// A JPEG page: stored as it is, decoded for OCR.
pub fn decode_jpeg(bytes: &[u8], limits: &Limits) -> Result<Page, DecodeError> {
    let info =
        jpeg_info(bytes).ok_or_else(|| DecodeError::Corrupt("no JPEG frame header".into()))?;
    check_pixels(info.width, info.height, limits)?;
    let samples = if info.components == 1 { 1 } else { 3 };
    limits.check_raster(info.width, info.height, samples)?;
    // Decoders fill a cut-off JPEG with grey and call it fine; a scan without
    // its end marker was not completely written, so it is refused.
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    if !tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(DecodeError::Corrupt(
            "JPEG ends before its end marker (truncated)".into(),
        ));
    }
    let img = decode_pixels(bytes, image::ImageFormat::Jpeg, limits)?;
    let color = match info.components {
        1 => ColorMode::Gray,
        4 => ColorMode::Cmyk,
        _ => ColorMode::Rgb,
    };
    Ok(Page {
        width: info.width,
        height: info.height,
        dpi: info.dpi,
        color,
        rotate: 0,
        stored: StoredImage::Jpeg {
            data: bytes.to_vec(),
            components: info.components,
            inverted_cmyk: info.components == 4 && info.adobe,
        },
        pixels: raster_of(img),
    })
}

/// PNG, GIF, BMP, WebP: decoded and stored losslessly.
pub fn decode_other(bytes: &[u8], format: Format, limits: &Limits) -> Result<Page, DecodeError> {
    let fmt = match format {
        Format::Png => image::ImageFormat::Png,
        Format::Gif => image::ImageFormat::Gif,
        Format::Bmp => image::ImageFormat::Bmp,
        Format::Webp => image::ImageFormat::WebP,
        other => return Err(DecodeError::Unsupported(format!("{other:?}"))),
    };
    let img = decode_pixels(bytes, fmt, limits)?;
    let dpi = if format == Format::Png {
        png_dpi(bytes)
    } else {
        None
    };
    Ok(lossless_page(img, dpi))
}

/// Builds a losslessly stored page from decoded pixels. Alpha is composited on
/// white (scans have no transparency; PDF/A forbids soft masks we don't need).
pub fn lossless_page(img: DynamicImage, dpi: Option<(f32, f32)>) -> Page {
    let pixels = raster_of(img);
    let (color, data) = if pixels.channels == 1 {
        if pixels.data.iter().all(|&v| v == 0 || v == 255) {
            (ColorMode::Bilevel, pack_bilevel(&pixels))
        } else {
            (ColorMode::Gray, pixels.data.clone())
        }
    } else {
        (ColorMode::Rgb, pixels.data.clone())
    };
    Page {
        width: pixels.width,
        height: pixels.height,
        dpi,
        color,
        rotate: 0,
        stored: StoredImage::Lossless { color, data },
        pixels,
    }
}

/// Packs 0/255 grey into 1-bit rows, MSB first, 1 = white.
pub fn pack_bilevel(r: &Raster) -> Vec<u8> {
    let row_bytes = r.width.div_ceil(8) as usize;
    let mut out = vec![0u8; row_bytes * r.height as usize];
    for (y, row) in r.data.chunks_exact(r.width as usize).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            if v >= 128 {
                out[y * row_bytes + x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    out
}

/// Grey stays grey (alpha dropped over white); everything else becomes RGB.
pub fn raster_of(img: DynamicImage) -> Raster {
    let (width, height) = (img.width(), img.height());
    let grey = matches!(
        img,
        DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageLuma16(_)
            | DynamicImage::ImageLumaA16(_)
    );
    let has_alpha = img.color().has_alpha();
    if grey {
        let data = if has_alpha {
            img.to_luma_alpha8()
                .pixels()
                .map(|p| over_white(p[0], p[1]))
                .collect()
        } else {
            img.into_luma8().into_raw()
        };
        return Raster {
            width,
            height,
            channels: 1,
            data,
        };
    }
    let data = if has_alpha {
        img.to_rgba8()
            .pixels()
            .flat_map(|p| {
                [
                    over_white(p[0], p[3]),
                    over_white(p[1], p[3]),
                    over_white(p[2], p[3]),
                ]
            })
            .collect()
    } else {
        img.into_rgb8().into_raw()
    };
    Raster {
        width,
        height,
        channels: 3,
        data,
    }
}

fn over_white(v: u8, a: u8) -> u8 {
    ((v as u32 * a as u32 + 255 * (255 - a as u32)) / 255) as u8
}

/// Reads the pHYs chunk of a PNG (pixels per metre) as dpi.
fn png_dpi(b: &[u8]) -> Option<(f32, f32)> {
    let mut i = 8;
    while i + 8 <= b.len() {
        let len = u32::from_be_bytes(b[i..i + 4].try_into().ok()?) as usize;
        let kind = &b[i + 4..i + 8];
        if kind == b"IDAT" {
            return None;
        }
        if kind == b"pHYs" && len >= 9 {
            let d = b.get(i + 8..i + 17)?;
            let x = u32::from_be_bytes(d[0..4].try_into().ok()?);
            let y = u32::from_be_bytes(d[4..8].try_into().ok()?);
            return (d[8] == 1 && x > 0 && y > 0).then_some((x as f32 * 0.0254, y as f32 * 0.0254));
        }
        i += 12 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::GrayImage::from_pixel(w, h, image::Luma([200]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
            .encode_image(&img)
            .unwrap();
        out
    }

    #[test]
    fn jpeg_passes_through_and_reads_header() {
        let b = jpeg(64, 48);
        let page = decode_jpeg(&b, &Limits::default()).unwrap();
        assert_eq!(
            (page.width, page.height, page.color),
            (64, 48, ColorMode::Gray)
        );
        match page.stored {
            StoredImage::Jpeg {
                data, components, ..
            } => {
                assert_eq!(data, b);
                assert_eq!(components, 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_jpeg_is_corrupt_not_panic() {
        let b = jpeg(300, 300);
        for cut in [3, 20, b.len() / 3, b.len() - 10] {
            let r = decode_jpeg(&b[..cut], &Limits::default());
            assert!(r.is_err(), "cut at {cut}");
        }
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    crc >> 1 ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A valid `w`×`h` PNG of black pixels, colour or grey: every row is a
    /// filter byte and zeros, so 144 megapixels deflate to a few hundred KB.
    fn black_png(w: u32, h: u32, colour: bool) -> Vec<u8> {
        let samples = if colour { 3 } else { 1 };
        let rows = u64::from(h) * (1 + u64::from(w) * samples);
        let chunk = |kind: &[u8], data: &[u8]| {
            let body = [kind, data].concat();
            let len = (data.len() as u32).to_be_bytes();
            [&len[..], &body, &crc32(&body).to_be_bytes()].concat()
        };
        let ihdr = [
            &w.to_be_bytes()[..],
            &h.to_be_bytes(),
            &[8, if colour { 2 } else { 0 }, 0, 0, 0],
        ]
        .concat();
        let idat = crate::decode::test_support::zlib_zeros(b"", rows);
        [
            &b"\x89PNG\r\n\x1a\n"[..],
            &chunk(b"IHDR", &ihdr),
            &chunk(b"IDAT", &idat),
            &chunk(b"IEND", b""),
        ]
        .concat()
    }

    #[test]
    fn a_colour_png_beyond_the_raster_limit_is_refused_before_decoding() {
        let png = black_png(12_000, 12_000, true);
        eprintln!("144 MP colour PNG: {} KB", png.len() / 1000);
        let before = crate::decode::test_support::resident_bytes();
        let (result, took) = crate::decode::test_support::cpu_timed(|| {
            decode_other(&png, Format::Png, &Limits::default())
        });
        let grew = crate::decode::test_support::resident_bytes() as i64 - before as i64;
        eprintln!("refused in {took:?}, resident memory {:+} MB", grew >> 20);
        assert!(
            matches!(
                result,
                Err(DecodeError::TooLarge {
                    what: "decoded raster bytes",
                    actual: 432_000_000,
                    ..
                })
            ),
            "{result:?}"
        );
        assert!(took < std::time::Duration::from_millis(500), "{took:?}");
    }

    #[test]
    fn grey_pages_get_three_times_the_pixels_of_colour_ones() {
        let limits = Limits {
            max_raster_bytes: 30_000,
            ..Limits::default()
        };
        let grey =
            decode_other(&black_png(150, 150, false), Format::Png, &limits).expect("22,500 bytes");
        assert_eq!(grey.pixels.data.len(), 22_500);
        assert!(matches!(
            decode_other(&black_png(150, 150, true), Format::Png, &limits),
            Err(DecodeError::TooLarge {
                what: "decoded raster bytes",
                ..
            })
        ));
        assert!(matches!(
            decode_jpeg(&jpeg(200, 200), &limits),
            Err(DecodeError::TooLarge {
                what: "decoded raster bytes",
                ..
            })
        ));
    }

    #[test]
    fn pixel_limit_checked_before_decoding() {
        let b = jpeg(100, 100);
        let limits = Limits {
            max_pixels: 5_000,
            ..Limits::default()
        };
        assert!(matches!(
            decode_jpeg(&b, &limits),
            Err(DecodeError::TooLarge { .. })
        ));
    }
}
