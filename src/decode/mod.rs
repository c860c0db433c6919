//! Decode: turns the bytes of one input file into pages.
//!
//! Every page carries two things: the image to *store* (bytes kept as they were
//! scanned wherever the PDF format allows it: JPEG and CCITT G4 pass through
//! untouched) and the pixels to *read* (what prepare and OCR work on). The format
//! is sniffed from the bytes, never from the extension, and every decoder enforces
//! the limits before it allocates.

mod error;
mod image_file;
pub mod pdf;
#[cfg(test)]
mod test_support;
mod tiff_file;

pub use error::DecodeError;

/// Bounds on what one input file may cost. Checked before pixels are allocated.
///
/// A page's decoded pixels are held about twice while it is decoded (the
/// pixels for OCR and the stored copy) and once more by the decoder, on each
/// of `jobs` workers, so the bound that matters for memory is bytes, not
/// pixels: [`Limits::max_raster_bytes`], 256 MiB, takes an A3 page scanned at
/// 600 dpi in colour (7016 × 9921 × 3 = 209 MB) and any grey or bilevel page
/// up to `max_pixels` (150 MP: A0 at 300 dpi, A2 at 600 dpi), and refuses the
/// colour pages beyond (a 144 MP RGB PNG is 432 MB of pixels). A rendered
/// PDF page is drawn into 4 bytes a pixel, so its resolution is lowered to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest accepted page, in pixels (width × height).
    pub max_pixels: u64,
    /// Largest decoded page, in bytes of 8-bit samples (width × height ×
    /// 1 for grey and bilevel, 3 for colour).
    pub max_raster_bytes: u64,
    /// Largest accepted number of pages in one file.
    pub max_pages: usize,
    /// Largest accepted input file, in bytes.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 150_000_000,
            max_raster_bytes: 256 << 20,
            max_pages: 2_000,
            max_bytes: 1 << 30,
        }
    }
}

impl Limits {
    /// Refuses a `w`×`h` page before its pixels are allocated.
    pub fn check_pixels(&self, w: u32, h: u32) -> Result<(), DecodeError> {
        DecodeError::at_most("pixels", w as u64 * h as u64, self.max_pixels)
    }

    /// Refuses a `w`×`h` page of `samples` 8-bit samples a pixel before its
    /// pixels are allocated.
    pub fn check_raster(&self, w: u32, h: u32, samples: u8) -> Result<(), DecodeError> {
        self.check_pixels(w, h)?;
        let bytes = w as u64 * h as u64 * samples as u64;
        DecodeError::at_most("decoded raster bytes", bytes, self.max_raster_bytes)
    }

    /// Refuses a file of `pages` pages.
    pub fn check_pages(&self, pages: usize) -> Result<(), DecodeError> {
        DecodeError::at_most("pages", pages as u64, self.max_pages as u64)
    }
}

/// The format of an input file, as sniffed from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Tiff,
    Pdf,
    Gif,
    Bmp,
    Webp,
}

impl Format {
    /// Sniffs the format from magic bytes; `None` when it is nothing we read.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let b = bytes;
        if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
            Some(Format::Tiff)
        } else if b.len() >= 5 && b[..b.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
            Some(Format::Pdf)
        } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
            Some(Format::Gif)
        } else if b.starts_with(b"BM") && b.len() > 14 {
            Some(Format::Bmp)
        } else if b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else {
            None
        }
    }
}

/// Colour model of stored pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// 1 bit per pixel.
    Bilevel,
    Gray,
    Rgb,
    Cmyk,
}

/// Raw 8-bit pixels, rows top to bottom, no padding.
#[derive(Clone)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    /// 1 (grey) or 3 (RGB) bytes per pixel.
    pub channels: u8,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Raster({}x{}x{})",
            self.width, self.height, self.channels
        )
    }
}

/// The image as it will be embedded in the output PDF.
#[derive(Clone)]
pub enum StoredImage {
    /// A baseline or progressive JPEG, embedded byte-for-byte (DCTDecode).
    Jpeg {
        data: Vec<u8>,
        /// 1 = grey, 3 = RGB/YCbCr, 4 = CMYK.
        components: u8,
        /// Adobe CMYK JPEGs store inverted values and need `/Decode [1 0 1 0 1 0 1 0]`.
        inverted_cmyk: bool,
    },
    /// CCITT Group 4 data, embedded as is (CCITTFaxDecode, K = -1).
    Ccitt {
        data: Vec<u8>,
        /// True when a 1 bit means black (PDF `BlackIs1`).
        black_is_1: bool,
    },
    /// Pixels to be stored losslessly (Flate): 1-bit packed MSB-first rows
    /// (1 = white) for bilevel, 8-bit otherwise.
    Lossless {
        color: ColorMode,
        /// Packed rows for Bilevel (1 = white, each row padded to a byte),
        /// interleaved 8-bit samples for Gray/Rgb/Cmyk.
        data: Vec<u8>,
    },
}

impl std::fmt::Debug for StoredImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoredImage::Jpeg {
                data, components, ..
            } => {
                write!(f, "Jpeg({} bytes, {} comps)", data.len(), components)
            }
            StoredImage::Ccitt { data, .. } => write!(f, "Ccitt({} bytes)", data.len()),
            StoredImage::Lossless { color, data } => {
                write!(f, "Lossless({:?}, {} bytes)", color, data.len())
            }
        }
    }
}

/// One decoded page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Pixel size of the stored image.
    pub width: u32,
    pub height: u32,
    /// Resolution in dots per inch (x, y); `None` when the file does not say.
    pub dpi: Option<(f32, f32)>,
    pub color: ColorMode,
    /// Clockwise turn (0, 90, 180, 270) the source asked for when showing the
    /// page (a PDF page's /Rotate, a TIFF orientation tag). Applied on output.
    pub rotate: u16,
    pub stored: StoredImage,
    /// Pixels for prepare/OCR, same size and orientation as `stored`.
    pub pixels: Raster,
}

impl Page {
    /// What every decoder promises of a page it hands out, whatever the input:
    /// pixels within `limits`, buffers the size the page says, a quarter turn.
    /// `Err` names the first broken promise. The tests and the fuzz targets
    /// (`fuzz/`) check each decoded page with it.
    pub fn check_within(&self, limits: &Limits) -> Result<(), String> {
        let (w, h) = (self.width as u64, self.height as u64);
        let px = &self.pixels;
        if w == 0 || h == 0 {
            return Err(format!("empty page {w}x{h}"));
        }
        if (px.width, px.height) != (self.width, self.height) {
            return Err(format!(
                "pixels {}x{} for a {w}x{h} page",
                px.width, px.height
            ));
        }
        if w * h > limits.max_pixels {
            return Err(format!("{w}x{h} pixels > {}", limits.max_pixels));
        }
        let raster = w * h * px.channels as u64;
        if !matches!(px.channels, 1 | 3) || px.data.len() as u64 != raster {
            return Err(format!(
                "{} bytes of {} channels for {w}x{h}",
                px.data.len(),
                px.channels
            ));
        }
        if raster > limits.max_raster_bytes {
            return Err(format!(
                "{raster} raster bytes > {}",
                limits.max_raster_bytes
            ));
        }
        if let StoredImage::Lossless { color, data } = &self.stored {
            let want = match color {
                ColorMode::Bilevel => w.div_ceil(8) * h,
                ColorMode::Gray => w * h,
                ColorMode::Rgb => 3 * w * h,
                ColorMode::Cmyk => 4 * w * h,
            };
            if data.len() as u64 != want || *color != self.color {
                return Err(format!(
                    "stored {color:?} of {} bytes for a {:?} {w}x{h} page",
                    data.len(),
                    self.color
                ));
            }
        }
        if !matches!(self.rotate, 0 | 90 | 180 | 270) {
            return Err(format!("rotate {}", self.rotate));
        }
        if let Some((x, y)) = self.dpi {
            if !(x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0) {
                return Err(format!("dpi {x}x{y}"));
            }
        }
        Ok(())
    }
}

/// The bytes of one input file, shared with the PDF reader instead of copied
/// (a long scanner PDF can be hundreds of megabytes).
pub type FileBytes = std::sync::Arc<Vec<u8>>;

/// Decodes one input file into its pages, all at once.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, DecodeError> {
    let mut pages = Vec::new();
    decode_each(&FileBytes::new(bytes.to_vec()), limits, &mut |page| {
        pages.push(page);
        true
    })?;
    Ok(pages)
}

/// Decodes one input file page by page: each page goes to `on_page` before the
/// next is decoded, so a long file never has more than one page in hand here.
/// `on_page` returns false to stop early (the consumer is gone). Returns the
/// number of pages in the file.
pub fn decode_each(
    file: &FileBytes,
    limits: &Limits,
    on_page: &mut dyn FnMut(Page) -> bool,
) -> Result<usize, DecodeError> {
    let bytes: &[u8] = file;
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    DecodeError::at_most("bytes", bytes.len() as u64, limits.max_bytes)?;
    let count = match Format::sniff(bytes) {
        Some(Format::Jpeg) => {
            on_page(image_file::decode_jpeg(bytes, limits)?);
            1
        }
        Some(Format::Tiff) => tiff_file::decode_tiff(bytes, limits, on_page)?,
        Some(Format::Pdf) => pdf::decode_pdf(file, limits, on_page)?,
        Some(f) => {
            on_page(image_file::decode_other(bytes, f, limits)?);
            1
        }
        None => return Err(DecodeError::NotAnImage),
    };
    if count == 0 {
        return Err(DecodeError::NoPages);
    }
    Ok(count)
}
