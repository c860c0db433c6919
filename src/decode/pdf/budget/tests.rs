//! Decompression bombs, each made here in a few hundred kilobytes, refused
//! before hayro inflates them; the same PDFs with honest streams decode.

use super::*;
use crate::decode::pdf::testing::*;
use crate::decode::ColorMode;

/// A full-page 100 × 100 grey image whose Flate data inflates to `bytes`.
fn image_bomb(bytes: u64) -> Vec<u8> {
    let dict =
        "/Width 100 /Height 100 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode";
    one_image_pdf(dict, &zlib_zeros(b"", bytes), "200 0 0 100 0 0", "")
}

#[test]
fn an_image_that_inflates_beyond_its_samples_is_refused_before_inflating() {
    let pdf = image_bomb(256 << 20);
    eprintln!("256 MiB image bomb: {} KB", pdf.len() / 1000);
    let limit = refused_early(&pdf, &Limits::default(), "inflated image stream bytes");
    // 100 rows of 100 samples, a predictor byte a row, and the slack.
    assert_eq!(limit, 100 * 101 + IMAGE_SLACK);
}

#[test]
fn an_honest_flate_image_still_decodes() {
    let pages = crate::decode::decode(&image_bomb(100 * 100), &Limits::default()).expect("decodes");
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].color, ColorMode::Gray);
    assert!(
        pages[0].pixels.data.iter().all(|&v| v < 16),
        "the zero image is black"
    );
}

#[test]
fn a_huge_content_stream_is_refused() {
    let content = stream(
        "/Filter /FlateDecode",
        &zlib_zeros(b"0 0 m 10 10 l S ", 256 << 20),
    );
    let pdf = pages_pdf(&[content], "<< >>", &[]);
    eprintln!("256 MiB content: {} KB", pdf.len() / 1000);
    refused_early(&pdf, &Limits::default(), "decoded content stream bytes");
}

#[test]
fn one_content_stream_listed_many_times_is_refused() {
    // hayro joins /Contents [4 0 R 4 0 R …] into one buffer: 70 MB from 40 KB.
    let part = "0 0 m 10 10 l S\n".repeat(2560);
    let listed = vec!["4 0 R"; 1750].join(" ");
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents [{listed}] >>")
            .into_bytes(),
        stream("", part.as_bytes()),
    ];
    refused_early(
        &tiny_pdf(&objects),
        &Limits::default(),
        "page content bytes",
    );
}

#[test]
fn a_document_of_big_pages_is_refused_as_a_whole() {
    // Five pages of 60 MiB content each: every page fits, the document does not.
    let contents: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            let head = format!("{i} 0 m 10 10 l S ");
            stream(
                "/Filter /FlateDecode",
                &zlib_zeros(head.as_bytes(), 60 << 20),
            )
        })
        .collect();
    let (result, _, _) = decode_measured(&pages_pdf(&contents, "<< >>", &[]), &Limits::default());
    assert!(
        matches!(
            result,
            Err(DecodeError::TooLarge {
                what: "decoded stream bytes of the document",
                limit: MAX_DOCUMENT_STREAM_BYTES,
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn a_sampled_function_is_held_to_a_megabyte() {
    let content = stream("", b"/Sh0 sh");
    let shading =
        b"<< /ShadingType 2 /ColorSpace /DeviceGray /Coords [0 0 200 0] /Function 6 0 R >>";
    let function = stream(
        "/FunctionType 0 /Domain [0 1] /Range [0 1] /Size [16777216] /BitsPerSample 8 /Filter /FlateDecode",
        &zlib_zeros(b"", 16 << 20),
    );
    let pdf = pages_pdf(
        &[content],
        "<< /Shading << /Sh0 5 0 R >> >>",
        &[shading.to_vec(), function],
    );
    refused_early(&pdf, &Limits::default(), "decoded function stream bytes");
}

#[test]
fn a_font_program_bomb_is_refused_when_the_font_is_used() {
    let content = stream("", b"BT /F1 12 Tf 10 10 Td (abc) Tj ET");
    let font = b"<< /Type /Font /Subtype /TrueType /BaseFont /Bomb /FontDescriptor 6 0 R >>";
    let descriptor = b"<< /Type /FontDescriptor /FontName /Bomb /Flags 32 /FontFile2 7 0 R >>";
    let program = stream(
        "/Filter /FlateDecode",
        &zlib_zeros(b"\0\x01\0\0", 256 << 20),
    );
    let pdf = pages_pdf(
        &[content],
        "<< /Font << /F1 5 0 R >> >>",
        &[font.to_vec(), descriptor.to_vec(), program],
    );
    refused_early(&pdf, &Limits::default(), "decoded stream bytes");
}

#[test]
fn a_soft_mask_larger_than_the_pixel_limit_is_refused() {
    let dict = "/Width 100 /Height 100 /ColorSpace /DeviceGray /BitsPerComponent 8 /SMask 6 0 R";
    let mut objects = one_page(
        "<< /XObject << /Im0 5 0 R >> >>",
        "",
        "q 200 0 0 100 0 0 cm /Im0 Do Q",
    );
    objects.push(stream(
        &format!("/Type /XObject /Subtype /Image {dict}"),
        &[128; 10_000],
    ));
    objects.push(stream(
        "/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceGray /BitsPerComponent 8",
        b"",
    ));
    let result = crate::decode::decode(&tiny_pdf(&objects), &Limits::default());
    assert!(
        matches!(result, Err(DecodeError::TooLarge { what: "pixels", .. })),
        "{result:?}"
    );
}

#[test]
fn a_fax_image_wider_than_it_says_is_refused() {
    let dict = "/Width 100 /Height 100000 /ColorSpace /DeviceGray /BitsPerComponent 1 \
                /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns 2000000 >>";
    let pdf = one_image_pdf(dict, &[0; 100], "200 0 0 100 0 0", "");
    let result = crate::decode::decode(&pdf, &Limits::default());
    assert!(
        matches!(result, Err(DecodeError::TooLarge { what: "pixels", .. })),
        "{result:?}"
    );
}
