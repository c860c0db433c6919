//! Checks of the page image path with poppler: every stored-image kind is
//! rendered back with `pdftoppm` at the page's own resolution and compared
//! pixel by pixel with what was stored, for all four turns.

use std::process::Command;

use super::tests::info;
use super::*;
use crate::decode::{ColorMode, StoredImage};

fn have_poppler() -> bool {
    let ok = Command::new("pdftoppm").arg("-v").output().is_ok();
    assert!(ok, "poppler-utils missing: run scripts/install-deps.sh");
    ok
}

fn encoded(stored: &StoredImage, w: u32, h: u32) -> EncodedImage {
    encode_image(1, stored.clone(), w, h).expect("encodes")
}

fn page<'a>(image: EncodedImage, turn: u16) -> PackagePage<'a> {
    PackagePage {
        image,
        // 72 dpi: one pixel is one point, so a 72 dpi render is pixel-exact.
        dpi: (72.0, 72.0),
        turn,
        ocr: None,
        deskew_deg: 0.0,
    }
}

/// Renders page 1 and returns one RGB pixel per page point. Splash smooths
/// images scaled by less than 4×, so it renders at 288 dpi (nearest
/// neighbour) and samples the centre of each 4×4 block.
fn render(pdf: &[u8]) -> ::image::RgbImage {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = dir.path().join("r");
    let st = Command::new("pdftoppm")
        .args(["-r", "288", "-png", "-singlefile"])
        .arg(&path)
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let big = ::image::open(dir.path().join("r.png")).unwrap().to_rgb8();
    ::image::RgbImage::from_fn(big.width() / 4, big.height() / 4, |x, y| {
        *big.get_pixel(4 * x + 2, 4 * y + 2)
    })
}

/// Stored pixel that lands on upright pixel (ux, uy) for a clockwise `turn`.
fn source_of(ux: u32, uy: u32, w: u32, h: u32, turn: u16) -> (u32, u32) {
    match turn {
        90 => (uy, h - 1 - ux),
        180 => (w - 1 - ux, h - 1 - uy),
        270 => (w - 1 - uy, ux),
        _ => (ux, uy),
    }
}

fn gray_pattern(w: u32, h: u32) -> Vec<u8> {
    (0..h)
        .flat_map(|y| (0..w).map(move |x| ((x * 5 + y * 11) % 256) as u8 ^ ((x / 8) as u8)))
        .collect()
}

#[test]
fn lossless_gray_and_rgb_render_exactly_for_every_turn() {
    if !have_poppler() {
        return;
    }
    let (w, h) = (64u32, 40u32);
    let gray = gray_pattern(w, h);
    let rgb: Vec<u8> = gray.iter().flat_map(|&v| [v, 255 - v, v / 2]).collect();
    for (mode, data, n) in [
        (ColorMode::Gray, gray.clone(), 1usize),
        (ColorMode::Rgb, rgb, 3),
    ] {
        let stored = StoredImage::Lossless {
            color: mode,
            data: data.clone(),
        };
        for turn in [0u16, 90, 180, 270] {
            let pdf = write_pdf(vec![page(encoded(&stored, w, h), turn)], &info()).unwrap();
            let img = render(&pdf);
            let (uw, uh) = if turn % 180 == 90 { (h, w) } else { (w, h) };
            assert_eq!(img.dimensions(), (uw, uh), "{mode:?} turn {turn}");
            for (ux, uy, px) in img.enumerate_pixels() {
                let (sx, sy) = source_of(ux, uy, w, h, turn);
                let i = (sy * w + sx) as usize * n;
                let want = if n == 1 {
                    [data[i]; 3]
                } else {
                    [data[i], data[i + 1], data[i + 2]]
                };
                assert_eq!(px.0, want, "{mode:?} turn {turn} at ({ux},{uy})");
            }
        }
    }
}

/// Packed bilevel rows, 1 = white, with a pattern that has long and short runs.
fn bilevel(w: u32, h: u32) -> Vec<u8> {
    let row = w.div_ceil(8) as usize;
    let mut data = vec![0xFF; row * h as usize];
    for y in 0..h as usize {
        for x in 0..w as usize {
            if (x / 3 + y / 5) % 4 == 0 || x == y {
                data[y * row + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    data
}

fn bit(data: &[u8], w: u32, x: u32, y: u32) -> bool {
    let row = w.div_ceil(8) as usize;
    data[y as usize * row + x as usize / 8] & (0x80 >> (x % 8)) != 0
}

#[test]
fn bilevel_becomes_g4_and_ccitt_passes_through() {
    if !have_poppler() {
        return;
    }
    let (w, h) = (203u32, 61u32);
    let data = bilevel(w, h);
    let stored = StoredImage::Lossless {
        color: ColorMode::Bilevel,
        data: data.clone(),
    };
    let pdf = write_pdf(vec![page(encoded(&stored, w, h), 90)], &info()).unwrap();
    assert!(pdf.windows(15).any(|s| s == b"/CCITTFaxDecode"));
    let img = render(&pdf);
    for (ux, uy, px) in img.enumerate_pixels() {
        let (sx, sy) = source_of(ux, uy, w, h, 90);
        let want = if bit(&data, w, sx, sy) { 255 } else { 0 };
        assert_eq!(px.0, [want; 3], "at ({ux},{uy})");
    }
    // The G4 bytes of a CCITT input are embedded unchanged.
    let g4 = super::image::encode_g4(&data, w, h).unwrap();
    let stored = StoredImage::Ccitt {
        data: g4.clone(),
        black_is_1: true,
    };
    let pdf = write_pdf(vec![page(encoded(&stored, w, h), 0)], &info()).unwrap();
    assert!(pdf.windows(g4.len()).any(|s| s == g4.as_slice()));
    assert!(pdf.windows(14).any(|s| s == b"/BlackIs1 true"));
}

#[test]
fn bad_input_gives_stable_error_codes() {
    let stored = StoredImage::Lossless {
        color: ColorMode::Rgb,
        data: vec![0; 10],
    };
    let err = encode_image(1, stored, 4, 4).unwrap_err();
    assert_eq!(err.code().as_wire(), "E_PACKAGE_IMAGE");
    assert_eq!(
        err.to_string(),
        "page 1: invalid stored image: pixel data is 10 bytes, expected 48"
    );
    assert_eq!(
        write_pdf(Vec::new(), &info()).unwrap_err().code().as_wire(),
        "E_PACKAGE_NO_PAGES"
    );
    let stored = StoredImage::Lossless {
        color: ColorMode::Gray,
        data: vec![0; 16],
    };
    let image = encoded(&stored, 4, 4);
    let mut p = page(image.clone(), 45);
    assert_eq!(
        write_pdf(vec![p.clone()], &info())
            .unwrap_err()
            .code()
            .as_wire(),
        "E_PACKAGE_PAGE"
    );
    p.turn = 0;
    p.dpi = (f32::NAN, 72.0);
    assert_eq!(
        write_pdf(vec![p.clone()], &info())
            .unwrap_err()
            .code()
            .as_wire(),
        "E_PACKAGE_PAGE"
    );
    let jpeg = StoredImage::Jpeg {
        data: vec![1, 2, 3],
        components: 3,
        inverted_cmyk: false,
    };
    assert_eq!(
        encode_image(1, jpeg, 4, 4).unwrap_err().code().as_wire(),
        "E_PACKAGE_IMAGE"
    );
    assert_eq!(
        encode_image(2, stored.clone(), 0, 4)
            .unwrap_err()
            .to_string(),
        "page 2: invalid stored image: invalid image size 0x4"
    );
    let ocr = crate::ocr::model::OcrPage {
        width: 0,
        height: 0,
        lines: vec![crate::ocr::model::OcrLine {
            bbox: crate::ocr::model::BBox {
                left: 0.0,
                top: 0.0,
                right: 1.0,
                bottom: 1.0,
            },
            words: vec![],
        }],
    };
    let mut p = page(image.clone(), 0);
    p.dpi = (3.0, 3.0);
    p.ocr = Some(&ocr);
    let err = write_pdf(vec![p.clone()], &info()).unwrap_err();
    assert_eq!(err.code().as_wire(), "E_PACKAGE_OCR");
}

#[test]
fn output_is_deterministic_with_identical_file_ids() {
    let data = gray_pattern(16, 16);
    let stored = StoredImage::Lossless {
        color: ColorMode::Gray,
        data,
    };
    let a = write_pdf(vec![page(encoded(&stored, 16, 16), 0)], &info()).unwrap();
    let b = write_pdf(vec![page(encoded(&stored, 16, 16), 0)], &info()).unwrap();
    assert_eq!(a, b);
    let text = String::from_utf8_lossy(&a);
    // Two identical strings: "<a> <a>" (or literal strings when all ASCII).
    let id = text
        .rsplit("/ID [")
        .next()
        .unwrap()
        .split("]\n")
        .next()
        .unwrap()
        .trim();
    let k = id.len() / 2;
    assert!(id.len() % 2 == 1 && id[..k] == id[k + 1..], "{id}");
    assert!(a.starts_with(b"%PDF-1.7\n%\x80\x80\x80\x80"));
    // A blank page needs no font.
    assert!(!text.contains("GlyphLessFont"));
}
