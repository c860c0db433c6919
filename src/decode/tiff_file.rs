//! Multi-page TIFF, read with the `tiff` crate because `image` only reads the
//! first page. CCITT G4 pages kept in one strip pass through untouched;
//! everything else is decoded and stored losslessly (bilevel stays bilevel).

use super::image_file::pack_bilevel;
use super::{ColorMode, DecodeError, Limits, Page, Raster, StoredImage};
use std::io::Cursor;
use tiff::decoder::{ifd::Value, Decoder, DecodingResult};
use tiff::tags::Tag;
use tiff::ColorType;

const COMPRESSION_G4: u16 = 4;
const PHOTOMETRIC_WHITE_IS_ZERO: u16 = 0;

fn corrupt(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt(e.to_string())
}

/// Decodes the pages one at a time, handing each to `on_page` before the next
/// is read; stops early when `on_page` returns false. Returns the page count.
pub fn decode_tiff(
    bytes: &[u8],
    limits: &Limits,
    on_page: &mut dyn FnMut(Page) -> bool,
) -> Result<usize, DecodeError> {
    let mut tl = tiff::decoder::Limits::default();
    // The decoder's buffer may hold 16-bit samples: twice the 8-bit raster.
    tl.decoding_buffer_size =
        usize::try_from(limits.max_raster_bytes.saturating_mul(2)).unwrap_or(usize::MAX);
    let mut dec = Decoder::new(Cursor::new(bytes))
        .map_err(corrupt)?
        .with_limits(tl);
    let mut count = 0;
    loop {
        count += 1;
        limits.check_pages(count)?;
        if !on_page(decode_page(&mut dec, bytes, limits)?) || !dec.more_images() {
            return Ok(count);
        }
        dec.next_image().map_err(corrupt)?;
    }
}

fn decode_page(
    dec: &mut Decoder<Cursor<&[u8]>>,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Page, DecodeError> {
    let (w, h) = dec.dimensions().map_err(corrupt)?;
    limits.check_pixels(w, h)?;
    let dpi = resolution(dec);
    let compression = dec
        .find_tag_unsigned::<u16>(Tag::Compression)
        .ok()
        .flatten()
        .unwrap_or(1);
    let photometric = dec
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .ok()
        .flatten()
        .unwrap_or(1);
    let color_type = dec.colortype().map_err(corrupt)?;
    let grey = matches!(color_type, ColorType::Gray(_) | ColorType::GrayA(_));
    limits.check_raster(w, h, if grey { 1 } else { 3 })?;
    let passthrough = if compression == COMPRESSION_G4 {
        single_strip(dec, bytes)
    } else {
        None
    };
    // A single G4 strip is decoded directly: the tiff crate refuses the
    // RowsPerStrip = 2³²−1 that many scanners write for "one strip".
    let direct = passthrough
        .as_deref()
        .and_then(|data| g4_pixels(data, w, h, photometric));
    let raster = match direct {
        Some(r) => r,
        None => to_raster(dec.read_image().map_err(corrupt)?, color_type, w, h)?,
    };

    if color_type == ColorType::Gray(1) {
        let stored = match passthrough {
            // In TIFF the G4 "white" runs are 0 bits; with WhiteIsZero they are
            // white, which is PDF's default (BlackIs1 false).
            Some(data) => StoredImage::Ccitt {
                data,
                black_is_1: photometric != PHOTOMETRIC_WHITE_IS_ZERO,
            },
            None => StoredImage::Lossless {
                color: ColorMode::Bilevel,
                data: pack_bilevel(&raster),
            },
        };
        return Ok(Page {
            width: w,
            height: h,
            dpi,
            color: ColorMode::Bilevel,
            rotate: 0,
            stored,
            pixels: raster,
        });
    }
    let color = if raster.channels == 1 {
        ColorMode::Gray
    } else {
        ColorMode::Rgb
    };
    Ok(Page {
        width: w,
        height: h,
        dpi,
        color,
        rotate: 0,
        stored: StoredImage::Lossless {
            color,
            data: raster.data.clone(),
        },
        pixels: raster,
    })
}

/// Decodes a G4 strip to 0/255 grey; `None` if it does not decode to `h` rows.
fn g4_pixels(data: &[u8], w: u32, h: u32, photometric: u16) -> Option<Raster> {
    let (w16, h16) = (u16::try_from(w).ok()?, u16::try_from(h).ok()?);
    // G4 codes "white" runs as 0 bits; with BlackIsZero those are black.
    let (white, black) = if photometric == PHOTOMETRIC_WHITE_IS_ZERO {
        (255, 0)
    } else {
        (0, 255)
    };
    let mut data_out = Vec::with_capacity(w as usize * h as usize);
    let mut rows = 0u32;
    fax::decoder::decode_g4(data.iter().copied(), w16, Some(h16), |transitions| {
        data_out.extend(fax::decoder::pels(transitions, w16).map(|c| {
            if c == fax::Color::White {
                white
            } else {
                black
            }
        }));
        rows += 1;
    })?;
    (rows == h).then_some(Raster {
        width: w,
        height: h,
        channels: 1,
        data: data_out,
    })
}

/// The raw bytes of a page stored in a single strip, or `None`.
fn single_strip(dec: &mut Decoder<Cursor<&[u8]>>, bytes: &[u8]) -> Option<Vec<u8>> {
    let offsets = dec.get_tag_u64_vec(Tag::StripOffsets).ok()?;
    let counts = dec.get_tag_u64_vec(Tag::StripByteCounts).ok()?;
    if offsets.len() != 1 || counts.len() != 1 {
        return None;
    }
    let start = usize::try_from(offsets[0]).ok()?;
    let end = start.checked_add(usize::try_from(counts[0]).ok()?)?;
    bytes.get(start..end).map(<[u8]>::to_vec)
}

fn resolution(dec: &mut Decoder<Cursor<&[u8]>>) -> Option<(f32, f32)> {
    let unit = dec
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    let per_inch = match unit {
        2 => 1.0,
        3 => 2.54,
        _ => return None,
    };
    let mut read = |tag| match dec.find_tag(tag).ok().flatten() {
        Some(Value::Rational(n, d)) if d > 0 && n > 0 => Some(n as f32 / d as f32 * per_inch),
        Some(Value::Float(f)) if f > 0.0 => Some(f * per_inch),
        _ => None,
    };
    let x = read(Tag::XResolution)?;
    let y = read(Tag::YResolution).unwrap_or(x);
    Some((x, y))
}

/// Decoded samples to 8-bit grey or RGB.
fn to_raster(r: DecodingResult, ct: ColorType, w: u32, h: u32) -> Result<Raster, DecodeError> {
    let bytes = match r {
        DecodingResult::U8(v) => v,
        DecodingResult::U16(v) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
        _ => return Err(DecodeError::Unsupported("TIFF sample format".into())),
    };
    let n = (w * h) as usize;
    // The tiff crate already turns WhiteIsZero samples into BlackIsZero ones.
    let grey = |data: Vec<u8>| Raster {
        width: w,
        height: h,
        channels: 1,
        data,
    };
    let rgb = |data: Vec<u8>| Raster {
        width: w,
        height: h,
        channels: 3,
        data,
    };
    match ct {
        ColorType::Gray(1) => {
            let row = w.div_ceil(8) as usize;
            let mut data = Vec::with_capacity(n);
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let bit = bytes
                        .get(y * row + x / 8)
                        .is_some_and(|b| b & (0x80 >> (x % 8)) != 0);
                    data.push(if bit { 255 } else { 0 });
                }
            }
            Ok(grey(data))
        }
        ColorType::Gray(_) => Ok(grey(bytes)),
        ColorType::GrayA(_) => Ok(grey(bytes.chunks_exact(2).map(|p| p[0]).collect())),
        ColorType::RGB(_) | ColorType::YCbCr(_) => Ok(rgb(bytes)),
        ColorType::RGBA(_) => Ok(rgb(bytes
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect())),
        ColorType::CMYK(_) => Ok(rgb(bytes
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - p[3] as u32;
                [p[0], p[1], p[2]].map(|c| ((255 - c as u32) * k / 255) as u8)
            })
            .collect())),
        other => Err(DecodeError::Unsupported(format!(
            "TIFF colour type {other:?}"
        ))),
    }
}
