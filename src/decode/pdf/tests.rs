use super::testing::*;
use super::*;
use crate::decode::{ColorMode, Raster, StoredImage};
use std::time::Duration;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/peer-ocrmypdf");

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("{CORPUS}/{name}")).expect("corpus file")
}

/// All pages at once (shadows the streaming `super::decode_pdf`).
fn decode_pdf(bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, DecodeError> {
    let mut pages = Vec::new();
    super::decode_pdf(
        &crate::decode::FileBytes::new(bytes.to_vec()),
        limits,
        &mut |p| {
            pages.push(p);
            true
        },
    )?;
    Ok(pages)
}

fn timed(name: &str, bytes: &[u8], limits: &Limits) -> (Result<Vec<Page>, DecodeError>, Duration) {
    // CPU time on this thread: a bound that other tests' load cannot break.
    let (result, took) = cpu_timed(|| decode_pdf(bytes, limits));
    let what = match &result {
        Ok(pages) => pages
            .iter()
            .map(|p| {
                format!(
                    "{:?} {}x{} {:?} dpi {:?} rot {}",
                    p.stored, p.width, p.height, p.color, p.dpi, p.rotate
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => format!("error {e:?}"),
    };
    eprintln!("{name}: {took:?}: {what}");
    (result, took)
}

fn decode_file(name: &str) -> Vec<Page> {
    let (result, _) = timed(name, &corpus(name), &Limits::default());
    result.unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn mean(r: &Raster) -> f64 {
    r.data.iter().map(|&v| v as f64).sum::<f64>() / r.data.len().max(1) as f64
}

fn dark_share(r: &Raster) -> f64 {
    r.data.iter().filter(|&&v| v < 128).count() as f64 / r.data.len().max(1) as f64
}

fn assert_rendered_text(p: &Page) {
    assert!(
        matches!(p.stored, StoredImage::Lossless { .. }),
        "{:?}",
        p.stored
    );
    assert_eq!(
        p.pixels.data.len(),
        (p.width * p.height * p.pixels.channels as u32) as usize
    );
    let dark = dark_share(&p.pixels);
    assert!(dark > 0.005 && dark < 0.6, "dark share {dark}");
}

fn assert_dpi(p: &Page, x: f32, y: f32) {
    let (dx, dy) = p.dpi.expect("dpi");
    assert!(
        (dx - x).abs() < x * 0.02 && (dy - y).abs() < y * 0.02,
        "dpi {dx}x{dy}, want {x}x{y}"
    );
}

#[test]
fn scanned_text_pages_render_or_pass_through() {
    let linn = decode_file("linn.pdf");
    assert_eq!(linn.len(), 1);
    assert_rendered_text(&linn[0]); // JBIG2
    assert_dpi(&linn[0], 300.0, 300.0);
    assert_eq!((linn[0].width, linn[0].height), (2550, 3300));

    let cardinal = decode_file("cardinal.pdf");
    assert_eq!(cardinal.len(), 4);
    cardinal.iter().for_each(assert_rendered_text);

    for name in ["jbig2.pdf", "skew.pdf"] {
        let pages = decode_file(name);
        assert_eq!(pages.len(), 1);
        assert_rendered_text(&pages[0]);
        assert_eq!(pages[0].rotate, 0);
    }
    // /Rotate 90 on a portrait scan drawn sideways: hayro turns the page while
    // rendering, so the result is portrait and needs no further turn.
    let rotated = decode_file("rotated_skew.pdf");
    assert_rendered_text(&rotated[0]);
    assert_eq!(rotated[0].rotate, 0);
    assert!(rotated[0].height > rotated[0].width);
}

#[test]
fn ccitt_passes_through_with_its_polarity() {
    let pages = decode_file("ccitt.pdf");
    assert_eq!(pages.len(), 1);
    let p = &pages[0];
    let StoredImage::Ccitt { data, black_is_1 } = &p.stored else {
        panic!("not passed through: {:?}", p.stored)
    };
    assert!(*black_is_1);
    let original = corpus("ccitt.pdf");
    assert!(
        original.windows(data.len()).any(|w| w == data.as_slice()),
        "bytes differ"
    );
    assert_eq!(
        (p.width, p.height, p.color),
        (2550, 3300, ColorMode::Bilevel)
    );
    assert_eq!(p.pixels.channels, 1);
    assert!(mean(&p.pixels) > 200.0, "page should be mostly white");
    assert_dpi(p, 300.0, 300.0);

    for name in ["kcs.pdf", "epson.pdf"] {
        let pages = decode_file(name);
        assert_eq!(pages.len(), 1);
        assert!(
            matches!(pages[0].stored, StoredImage::Ccitt { .. }),
            "{name}"
        );
        assert!(
            mean(&pages[0].pixels) > 200.0,
            "{name} should be mostly white"
        );
    }
}

#[test]
fn jpeg_pages_pass_through() {
    for (name, comps) in [("c02-22.pdf", 3), ("francais.pdf", 1)] {
        let pages = decode_file(name);
        let StoredImage::Jpeg {
            components,
            inverted_cmyk,
            ..
        } = &pages[0].stored
        else {
            panic!("{name} not passed through")
        };
        assert_eq!((*components, *inverted_cmyk), (comps, false), "{name}");
        assert_eq!(pages[0].pixels.channels, if comps == 1 { 1 } else { 3 });
    }
    // Page 1 is c02-22 under a clip 0.88 pt short of the image; page 4 is a
    // JPEG too, the others are raw pixels.
    let multi = decode_file("multipage.pdf");
    assert_eq!(multi.len(), 6);
    let kinds: Vec<bool> = multi
        .iter()
        .map(|p| matches!(p.stored, StoredImage::Jpeg { .. }))
        .collect();
    assert_eq!(kinds, [true, false, false, true, false, false]);
}

#[test]
fn other_images_render() {
    for name in ["lichtenstein.pdf", "palette.pdf", "masks.pdf", "cmyk.pdf"] {
        let pages = decode_file(name);
        assert_eq!(pages.len(), 1, "{name}");
        assert!(
            matches!(pages[0].stored, StoredImage::Lossless { .. }),
            "{name}"
        );
        // cmyk.pdf is a light picture: poppler's rendering averages 249.
        let m = mean(&pages[0].pixels);
        assert!(m > 5.0 && m < 254.0, "{name}: mean {m}");
        assert!(
            pages[0].pixels.data.iter().any(|&v| v < 128),
            "{name} has no dark pixel"
        );
    }
    let vector = decode_file("vector.pdf");
    assert_rendered_text(&vector[0]);
    assert_dpi(&vector[0], 300.0, 300.0);
}

#[test]
fn non_square_pixels_keep_their_resolution() {
    let pages = decode_file("aspect.pdf");
    assert_dpi(&pages[0], 200.0, 100.0);
    assert_eq!((pages[0].width, pages[0].height), (1000, 400));
}

#[test]
fn blank_and_minimal_pages() {
    for name in ["no_contents.pdf", "trivial.pdf", "blank.pdf"] {
        let pages = decode_file(name);
        assert_eq!(pages.len(), 1);
        assert!(
            pages[0].pixels.data.iter().all(|&v| v == 255),
            "{name} should be blank"
        );
        assert_eq!(pages[0].color, ColorMode::Gray);
    }
}

#[test]
fn high_resolution_is_reduced() {
    let pages = decode_file("2400dpi.pdf");
    let (dx, _) = pages[0].dpi.expect("dpi");
    assert!(dx <= 600.5);
    assert!((pages[0].width as u64 * pages[0].height as u64) <= Limits::default().max_pixels);
}

#[test]
fn oversized_input_is_refused_quickly() {
    let (result, took) = timed("hugemono.pdf", &corpus("hugemono.pdf"), &Limits::default());
    assert!(
        matches!(result, Err(DecodeError::TooLarge { what: "pixels", .. })),
        "{result:?}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");

    let (result, _) = timed("enormous.pdf", &corpus("enormous.pdf"), &Limits::default());
    match result {
        Ok(pages) => assert!(pages[0].width as u64 * pages[0].height as u64 <= 150_000_000),
        Err(e) => assert!(matches!(e, DecodeError::TooLarge { .. }), "{e:?}"),
    }

    // A small budget lowers the render resolution rather than failing…
    let tight = Limits {
        max_pixels: 3_000_000,
        ..Limits::default()
    };
    let (result, _) = timed("vector.pdf (3 Mpx)", &corpus("vector.pdf"), &tight);
    let page = &result.expect("vector renders at reduced dpi")[0];
    assert!(page.width as u64 * page.height as u64 <= 3_000_000);
    // …down to 72 dpi, and an image larger than the budget is refused outright.
    let tiny = Limits {
        max_pixels: 100_000,
        ..Limits::default()
    };
    assert!(matches!(
        decode_pdf(&corpus("vector.pdf"), &tiny),
        Err(DecodeError::TooLarge { .. })
    ));
    assert!(matches!(
        decode_pdf(&corpus("ccitt.pdf"), &tight),
        Err(DecodeError::TooLarge { .. })
    ));

    let few = Limits {
        max_pages: 3,
        ..Limits::default()
    };
    let result = decode_pdf(&corpus("multipage.pdf"), &few);
    assert!(matches!(
        result,
        Err(DecodeError::TooLarge {
            what: "pages",
            actual: 6,
            ..
        })
    ));
}

#[test]
fn damaged_files_are_corrupt() {
    let (result, _) = timed("invalid.pdf", &corpus("invalid.pdf"), &Limits::default());
    assert!(matches!(result, Err(DecodeError::Corrupt(_))), "{result:?}");
    let linn = corpus("linn.pdf");
    let cut = decode_pdf(&linn[..linn.len() / 2], &Limits::default());
    assert!(matches!(cut, Err(DecodeError::Corrupt(_))), "{cut:?}");
    assert!(matches!(
        decode_pdf(b"%PDF-1.4\ngarbage\n%%EOF\n", &Limits::default()),
        Err(DecodeError::Corrupt(_))
    ));
}

/// The outcome of decoding a damaged file: pages the decoder may hand out
/// under `limits`, or an error of a kind damage explains; never a panic that
/// [`guarded`] caught, and never longer than `most`.
fn assert_mangled_outcome(name: &str, bytes: &[u8], limits: &Limits, most: Duration) {
    use crate::errors::ErrorCode;
    let (result, took) = timed(name, bytes, limits);
    assert!(took <= most, "{name}: {took:?} > {most:?}");
    match result {
        Ok(pages) => {
            assert!(
                !pages.is_empty() && pages.len() <= limits.max_pages,
                "{name}: {} pages",
                pages.len()
            );
            for (i, page) in pages.iter().enumerate() {
                if let Err(broken) = page.check_within(limits) {
                    panic!("{name}: page {}: {broken}", i + 1);
                }
            }
        }
        Err(DecodeError::Corrupt(why)) if why.starts_with(CAUGHT_PANIC) => {
            panic!("{name}: the PDF reader panicked: {why}")
        }
        Err(e) => assert!(
            matches!(
                e.code(),
                ErrorCode::Corrupt
                    | ErrorCode::Unsupported
                    | ErrorCode::TooLarge
                    | ErrorCode::NoPages
            ),
            "{name}: {e:?}"
        ),
    }
}

#[test]
fn mangled_files_decode_or_fail_cleanly_within_the_limits() {
    // Not a fuzzer (see fuzz/), but it walks every structure of real files
    // with damage in them: bytes overwritten, cut out and repeated. Scanned
    // pages pass through or render (JBIG2), a vector page renders: under the
    // tight limits at a lowered resolution.
    let tight = Limits {
        max_pixels: 2_000_000,
        max_raster_bytes: 4 << 20,
        ..Limits::default()
    };
    // The originals take well under a second each; ten is a hang.
    let most = Duration::from_secs(10);
    let mut seed = 0x2545_f491_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for file in ["c02-22.pdf", "ccitt.pdf", "linn.pdf", "vector.pdf"] {
        let original = corpus(file);
        for round in 0..16 {
            let mut bytes = original.clone();
            for _ in 0..1 + round % 8 {
                let at = next() as usize % bytes.len();
                match next() % 4 {
                    0 => bytes.drain(at..(at + 64).min(bytes.len())).for_each(drop),
                    1 => {
                        let piece = bytes[at..(at + 32).min(bytes.len())].to_vec();
                        bytes.splice(at..at, piece).for_each(drop)
                    }
                    _ => bytes[at] = (next() >> 8) as u8,
                }
            }
            // The vector page takes seconds to render at 300 dpi: tight limits only.
            let limits = if round % 2 == 0 && file != "vector.pdf" {
                Limits::default()
            } else {
                tight
            };
            assert_mangled_outcome(&format!("{file} round {round}"), &bytes, &limits, most);
        }
    }
}

#[test]
fn encrypted_files_are_refused_even_with_an_empty_password() {
    for password in ["u", ""] {
        let bytes = qpdf_encrypt(password).expect("qpdf is installed");
        let result = decode_pdf(&bytes, &Limits::default());
        assert!(
            matches!(result, Err(DecodeError::Encrypted)),
            "password {password:?}: {result:?}"
        );
    }
}

fn test_jpeg(grey: bool) -> Vec<u8> {
    let mut out = vec![];
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    let img = image::RgbImage::from_fn(400, 200, |x, y| image::Rgb([x as u8, y as u8, 128]));
    if grey {
        image::DynamicImage::ImageRgb8(img)
            .into_luma8()
            .write_with_encoder(encoder)
            .expect("encode");
    } else {
        img.write_with_encoder(encoder).expect("encode");
    }
    out
}

#[test]
fn handmade_jpeg_pdf_passes_through_byte_identical() {
    let jpeg = test_jpeg(false);
    let dict =
        "/Width 400 /Height 200 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode";
    let pdf = one_image_pdf(dict, &jpeg, "200 0 0 100 0 0", "/Rotate 90");
    let (result, _) = timed("handmade jpeg", &pdf, &Limits::default());
    let pages = result.expect("decodes");
    let StoredImage::Jpeg {
        data,
        components,
        inverted_cmyk,
    } = &pages[0].stored
    else {
        panic!("not passed through")
    };
    assert!(data == &jpeg && *components == 3 && !inverted_cmyk);
    assert_eq!(
        (pages[0].rotate, pages[0].color, pages[0].pixels.channels),
        (90, ColorMode::Rgb, 3)
    );
    assert_dpi(&pages[0], 144.0, 144.0);

    // Flate around the JPEG: the JPEG inside is kept.
    let grey = test_jpeg(true);
    let deflated = miniz_oxide::deflate::compress_to_vec_zlib(&grey, 6);
    let dict = "/Width 400 /Height 200 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter [/FlateDecode /DCTDecode]";
    let pages = decode_pdf(
        &one_image_pdf(dict, &deflated, "200 0 0 100 0 0", ""),
        &Limits::default(),
    )
    .expect("decodes");
    let StoredImage::Jpeg {
        data,
        components: 1,
        ..
    } = &pages[0].stored
    else {
        panic!("not passed through")
    };
    assert!(data == &grey);
    assert_eq!(
        (pages[0].color, pages[0].pixels.channels),
        (ColorMode::Gray, 1)
    );

    // Mirrored, skewed, or not covering the page: rendered.
    let dict =
        "/Width 400 /Height 200 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode";
    for matrix in ["-200 0 0 100 200 0", "200 0 20 100 0 0", "150 0 0 100 0 0"] {
        let pages = decode_pdf(&one_image_pdf(dict, &jpeg, matrix, ""), &Limits::default())
            .expect("decodes");
        assert!(
            matches!(pages[0].stored, StoredImage::Lossless { .. }),
            "{matrix}"
        );
    }
}

#[test]
fn adobe_cmyk_jpeg_passes_through_with_its_inversion() {
    let jpeg = corpus("baiona_cmyk.jpg");
    let dict = "/Width 640 /Height 682 /ColorSpace /DeviceCMYK /BitsPerComponent 8 \
                /Decode [1 0 1 0 1 0 1 0] /Filter /DCTDecode";
    let pdf = one_image_pdf(dict, &jpeg, "200 0 0 100 0 0", "");
    let pages = decode_pdf(&pdf, &Limits::default()).expect("decodes");
    let StoredImage::Jpeg {
        data,
        components: 4,
        inverted_cmyk: true,
    } = &pages[0].stored
    else {
        panic!("not passed through as inverted CMYK: {:?}", pages[0].stored)
    };
    assert!(data == &jpeg);
    assert_eq!(
        (pages[0].color, pages[0].pixels.channels),
        (ColorMode::Cmyk, 3)
    );
    // The OCR pixels must look like what the renderer shows, not a negative.
    let drawn = one_image_pdf(dict, &jpeg, "-200 0 0 100 200 0", "");
    let rendered = decode_pdf(&drawn, &Limits::default()).expect("renders");
    let (a, b) = (mean(&pages[0].pixels), mean(&rendered[0].pixels));
    eprintln!("cmyk means: image crate {a}, hayro {b}");
    assert!((a - b).abs() < 20.0, "image crate {a} vs hayro {b}");
}

#[test]
fn standard_font_text_is_drawn() {
    // Helvetica is not embedded: hayro's bundled standard fonts stand in
    // (default feature `embed-fonts`), or the page would come out blank.
    let mut objects = one_page(
        "<< /Font << /F1 5 0 R >> >>",
        "",
        "BT /F1 36 Tf 10 40 Td (Hello PDF) Tj ET",
    );
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec());
    let pdf = tiny_pdf(&objects);
    let pages = decode_pdf(&pdf, &Limits::default()).expect("decodes");
    eprintln!("dark share {}", dark_share(&pages[0].pixels));
    assert!(dark_share(&pages[0].pixels) > 0.01, "text was not drawn");
}

#[test]
fn hostile_structures_end_quickly() {
    // A form that draws itself, and a page tree that contains itself.
    let mut objects = one_page("<< /XObject << /Fm0 5 0 R >> >>", "", "/Fm0 Do");
    objects[1] = b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>".to_vec();
    let form = "/Type /XObject /Subtype /Form /BBox [0 0 200 100] /Resources << /XObject << /Fm0 5 0 R >> >>";
    objects.push(stream(form, b"/Fm0 Do"));
    let pdf = tiny_pdf(&objects);
    let (result, took) = timed("self-drawing form", &pdf, &Limits::default());
    assert!(took < Duration::from_secs(5));
    assert!(
        matches!(&result, Err(DecodeError::Corrupt(why)) if why.contains("draws itself")),
        "{result:?}"
    );

    // Megabytes of noise between a header and an end marker.
    let mut noise = b"%PDF-1.4\n".to_vec();
    let mut seed = 0x9e37_79b9_u32;
    noise.extend((0..8_000_000).map(|_| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as u8
    }));
    noise.extend(b"\n%%EOF\n");
    let (result, took) = timed("8 MB of noise", &noise, &Limits::default());
    assert!(matches!(result, Err(DecodeError::Corrupt(_))), "{result:?}");
    assert!(took < Duration::from_secs(5));
}
