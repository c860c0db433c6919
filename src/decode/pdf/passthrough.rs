//! Taking a scanned page's JPEG or CCITT G4 image out of the PDF untouched.
//!
//! Re-encoding a JPEG loses quality and CCITT G4 is already the smallest
//! lossless form of a bilevel scan, so when the page is just that image the
//! output embeds the very same bytes. Anything unusual about the image (masks,
//! odd colour spaces, decode arrays we cannot carry over, parameters the output
//! would not repeat) sends the page to the renderer instead: `None`.

use super::scan::DrawnImage;
use crate::decode::{ColorMode, DecodeError, Limits, Page, Raster, StoredImage};
use hayro::hayro_interpret::hayro_syntax::object::stream::ImageDecodeParams;
use hayro::hayro_interpret::hayro_syntax::object::{Array, Dict, Name, Object, Stream};
use hayro::hayro_interpret::hayro_syntax::page::{Page as PdfPage, Rotation};
use hayro::hayro_interpret::hayro_syntax::Filter;

/// The stored image and its pixels for OCR, when the image can be kept as
/// is; an error when its pixels would not fit the limits.
pub(super) fn extract(
    page: &PdfPage<'_>,
    image: &DrawnImage,
    limits: &Limits,
) -> Result<Option<Page>, DecodeError> {
    let Some(stream) = image.id.and_then(|id| page.xref().get::<Stream<'_>>(id)) else {
        return Ok(None);
    };
    let dict = stream.dict();
    let masked = dict.contains_key("SMask")
        || dict.contains_key("Mask")
        || dict.get::<i32>("SMaskInData").unwrap_or(0) != 0;
    if masked {
        return Ok(None);
    }
    let (w, h) = (image.width, image.height);
    // OCR gets grey for grey and bilevel images, RGB for the others.
    let grey = matches!(stream.filters().as_slice(), [Filter::CcittFaxDecode])
        || color_components(dict) == Some(Some(1));
    limits.check_raster(w, h, if grey { 1 } else { 3 })?;
    Ok(pass(page, &stream, image, limits))
}

fn pass(
    page: &PdfPage<'_>,
    stream: &Stream<'_>,
    image: &DrawnImage,
    limits: &Limits,
) -> Option<Page> {
    let dict = stream.dict();
    let (w, h) = (image.width, image.height);
    let stored = match stream.filters().as_slice() {
        [Filter::DctDecode] => jpeg(stream.raw_data().into_owned(), dict, w, h),
        [Filter::FlateDecode, Filter::DctDecode] => {
            let params = decode_parms(dict, 0);
            if params.is_some_and(|p| p.get::<i32>("Predictor").unwrap_or(1) > 1) {
                return None;
            }
            // A JPEG is smaller than its raw samples; more than that is a flate bomb.
            let raw_size = (w as u64 * h as u64 * 4).saturating_add(1 << 20);
            let limit = usize::try_from(raw_size.min(limits.max_bytes)).unwrap_or(usize::MAX);
            let inflated =
                miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&stream.raw_data(), limit);
            jpeg(inflated.ok()?, dict, w, h)
        }
        [Filter::CcittFaxDecode] => ccitt(stream, w, h),
        _ => None,
    };
    let (stored, color, pixels) = stored?;
    // Drawn size in inches along the image's own axes (the matrix is axis-aligned).
    let bounds = image.bounds();
    let dpi = (
        (w as f64 * 72.0 / bounds.width()) as f32,
        (h as f64 * 72.0 / bounds.height()) as f32,
    );
    Some(Page {
        width: w,
        height: h,
        dpi: Some(dpi),
        color,
        rotate: rotation_degrees(page.rotation()),
        stored,
        pixels,
    })
}

fn rotation_degrees(rotation: Rotation) -> u16 {
    match rotation {
        Rotation::None => 0,
        Rotation::Horizontal => 90,
        Rotation::Flipped => 180,
        Rotation::FlippedHorizontal => 270,
    }
}

type Extracted = Option<(StoredImage, ColorMode, Raster)>;

fn jpeg(data: Vec<u8>, dict: &Dict<'_>, w: u32, h: u32) -> Extracted {
    let info = jpeg_info(&data)?;
    let declared = color_components(dict);
    let agrees = declared.is_some_and(|n| n.is_none_or(|n| n == info.components));
    if (info.width, info.height) != (w, h) || !agrees {
        return None;
    }
    let inverted_decode = match dict.get::<Array<'_>>("Decode") {
        None => false,
        Some(decode) => {
            let values: Vec<f32> = decode.iter::<f32>().collect();
            let pairs = info.components as usize;
            if values.len() != 2 * pairs {
                return None;
            } else if values.chunks(2).all(|p| p == [0.0, 1.0]) {
                false
            } else if info.components == 4 && values.chunks(2).all(|p| p == [1.0, 0.0]) {
                true
            } else {
                return None;
            }
        }
    };
    // Inverted by /Decode but not an Adobe file: the image crate would give
    // OCR a negative of what the page shows.
    if inverted_decode && !info.adobe {
        return None;
    }
    let color = match info.components {
        1 => ColorMode::Gray,
        3 => ColorMode::Rgb,
        4 => ColorMode::Cmyk,
        _ => return None,
    };
    // The pixel count was checked against the limits from the dictionary,
    // which the frame header has just been found to agree with.
    let pixels = decode_jpeg_pixels(&data).filter(|p| (p.width, p.height) == (w, h))?;
    let stored = StoredImage::Jpeg {
        data,
        components: info.components,
        inverted_cmyk: info.components == 4 && info.adobe,
    };
    Some((stored, color, pixels))
}

fn decode_jpeg_pixels(data: &[u8]) -> Option<Raster> {
    let reader =
        image::ImageReader::with_format(std::io::Cursor::new(data), image::ImageFormat::Jpeg);
    let decoded = reader.decode().ok()?;
    let (width, height) = (decoded.width(), decoded.height());
    let (channels, data) = match decoded.color() {
        image::ColorType::L8 | image::ColorType::L16 => (1, decoded.into_luma8().into_raw()),
        _ => (3, decoded.into_rgb8().into_raw()),
    };
    Some(Raster {
        width,
        height,
        channels,
        data,
    })
}

fn ccitt(stream: &Stream<'_>, w: u32, h: u32) -> Extracted {
    let dict = stream.dict();
    let params = decode_parms(dict, 0).unwrap_or_default();
    // The output repeats only K = -1, Columns, Rows and BlackIs1: anything else
    // the data depends on rules pass-through out.
    let plain = params.get::<i32>("K").unwrap_or(0) < 0
        && params.get::<u32>("Columns").unwrap_or(1728) == w
        && params.get::<u32>("Rows").is_none_or(|rows| rows == h)
        && !params.get::<bool>("EncodedByteAlign").unwrap_or(false)
        && !params.get::<bool>("EndOfLine").unwrap_or(false)
        && dict.get::<u8>("BitsPerComponent").unwrap_or(1) == 1
        && color_components(dict).is_some_and(|n| n.is_none_or(|n| n == 1));
    if !plain {
        return None;
    }
    // `/Decode [1 0]` swaps black and white, which is what flipping BlackIs1 does.
    let inverted = match dict.get::<Array<'_>>("Decode") {
        None => false,
        Some(d) => match d.iter::<f32>().collect::<Vec<_>>().as_slice() {
            [0.0, 1.0] => false,
            [1.0, 0.0] => true,
            _ => return None,
        },
    };
    let black_is_1 = params.get::<bool>("BlackIs1").unwrap_or(false) ^ inverted;
    // hayro's filter yields one byte per pixel as the page shows it
    // (BlackIs1 applied), before /Decode.
    let request = ImageDecodeParams {
        bpc: Some(1),
        num_components: Some(1),
        width: w,
        height: h,
        ..Default::default()
    };
    let mut grey = stream.decoded_image(&request).ok()?.data.into_owned();
    // Lenient decoders return the rows they could read; a short image must not
    // be stored as if it were complete.
    if grey.len() as u64 != w as u64 * h as u64 {
        return None;
    }
    if inverted {
        grey.iter_mut().for_each(|p| *p = !*p);
    }
    let stored = StoredImage::Ccitt {
        data: stream.raw_data().into_owned(),
        black_is_1,
    };
    let pixels = Raster {
        width: w,
        height: h,
        channels: 1,
        data: grey,
    };
    Some((stored, ColorMode::Bilevel, pixels))
}

/// The DecodeParms dictionary of the `index`th filter.
fn decode_parms<'a>(dict: &Dict<'a>, index: usize) -> Option<Dict<'a>> {
    match dict
        .get::<Object<'a>>("DecodeParms")
        .or_else(|| dict.get::<Object<'a>>("DP"))?
    {
        Object::Dict(d) if index == 0 => Some(d),
        Object::Array(a) => a.iter::<Object<'a>>().nth(index)?.into_dict(),
        _ => None,
    }
}

/// Components of the image's colour space: `Some(None)` when it names none,
/// `None` when it is one we do not carry over (indexed, separation, Lab, named
/// resources…).
fn color_components(dict: &Dict<'_>) -> Option<Option<u8>> {
    let Some(cs) = dict
        .get::<Object<'_>>("ColorSpace")
        .or_else(|| dict.get::<Object<'_>>("CS"))
    else {
        return Some(None);
    };
    let by_name = |name: &Name<'_>| match name.as_str() {
        "DeviceGray" | "G" | "CalGray" => Some(1),
        "DeviceRGB" | "RGB" | "CalRGB" => Some(3),
        "DeviceCMYK" | "CMYK" => Some(4),
        _ => None,
    };
    let n = match cs {
        Object::Name(name) => by_name(&name),
        Object::Array(array) => {
            let mut items = array.flex_iter();
            let family = items.next::<Name<'_>>()?;
            if family.as_str() == "ICCBased" {
                items.next::<Stream<'_>>()?.dict().get::<u8>("N")
            } else {
                by_name(&family)
            }
        }
        _ => None,
    }?;
    Some(Some(n))
}

pub(super) fn too_many_pixels(w: u32, h: u32, limits: &Limits) -> DecodeError {
    DecodeError::TooLarge {
        what: "pixels",
        actual: w as u64 * h as u64,
        limit: limits.max_pixels,
    }
}

struct JpegInfo {
    width: u32,
    height: u32,
    components: u8,
    /// An Adobe APP14 segment: with four components, the values are stored inverted.
    adobe: bool,
}

/// Reads the frame header (and notes an Adobe segment) up to the first scan.
fn jpeg_info(d: &[u8]) -> Option<JpegInfo> {
    if !d.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let (mut i, mut adobe, mut frame) = (2usize, false, None);
    loop {
        if *d.get(i)? != 0xFF {
            return None;
        }
        let marker = *d.get(i + 1)?;
        i += 2;
        match marker {
            0xFF => i -= 1, // fill byte
            0x01 | 0xD0..=0xD8 => {}
            0xDA => break,
            0xD9 => return None,
            _ => {
                let len = u16::from_be_bytes([*d.get(i)?, *d.get(i + 1)?]) as usize;
                let segment = d.get(i + 2..i.checked_add(len)?)?;
                let is_frame =
                    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
                if is_frame && segment.len() >= 6 {
                    let height = u16::from_be_bytes([segment[1], segment[2]]) as u32;
                    let width = u16::from_be_bytes([segment[3], segment[4]]) as u32;
                    frame = Some((width, height, segment[5]));
                } else if marker == 0xEE && segment.starts_with(b"Adobe") {
                    adobe = true;
                }
                i += len;
            }
        }
    }
    let (width, height, components) = frame?;
    Some(JpegInfo {
        width,
        height,
        components,
        adobe,
    })
}
