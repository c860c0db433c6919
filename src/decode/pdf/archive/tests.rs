//! What a station may upload: PDFs our package module writes pass with their
//! page count; every hostile structure the server accepted before is refused.

use super::*;
use crate::decode::pdf::testing::*;
use crate::ocr::model::{BBox, OcrLine, OcrPage, OcrWord};
use crate::package::{encode_image, write_pdf, DocumentInfo, PackagePage};
use std::io::Write;
use std::time::Duration;

fn check_bytes(pdf: &[u8], limits: &Limits) -> Result<usize, DecodeError> {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(pdf).expect("written");
    file.flush().expect("flushed");
    check_archive(file.path(), limits)
}

fn check(pdf: &[u8]) -> Result<usize, DecodeError> {
    check_bytes(pdf, &Limits::default())
}

fn corrupt_with(result: &Result<usize, DecodeError>, words: &str) -> bool {
    matches!(result, Err(DecodeError::Corrupt(why)) if why.contains(words))
}

/// A PDF as the pipeline writes it: `pages` scans (a generated grey image,
/// decoded and encoded as the pipeline does) with an OCR text layer.
fn archive_pdf(pages: usize) -> Vec<u8> {
    let img = image::GrayImage::from_fn(1240, 1754, |x, y| {
        image::Luma([if (x / 40 + y / 60) % 7 == 0 { 20 } else { 235 }])
    });
    let mut png = vec![];
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let word = |text: &str, left: f32| OcrWord {
        text: text.into(),
        bbox: BBox {
            left,
            top: 100.0,
            right: left + 300.0,
            bottom: 150.0,
        },
        confidence: 91.0,
    };
    let ocr = OcrPage {
        width: 1240,
        height: 1754,
        lines: vec![OcrLine {
            bbox: BBox {
                left: 100.0,
                top: 100.0,
                right: 800.0,
                bottom: 150.0,
            },
            words: vec![word("Giấy", 100.0), word("chứng", 450.0)],
        }],
    };
    let packaged: Vec<PackagePage> = (0..pages)
        .map(|i| {
            let page = crate::decode::decode(&png, &Limits::default())
                .expect("decodes")
                .remove(0);
            PackagePage {
                image: encode_image(i + 1, page.stored, page.width, page.height).expect("encodes"),
                dpi: (150.0, 150.0),
                turn: 0,
                ocr: Some(&ocr),
                deskew_deg: 0.0,
            }
        })
        .collect();
    let info = DocumentInfo {
        title: "Giấy chứng nhận".into(),
        subject: "000.00.18.H44-230314-0027".into(),
        created: chrono::DateTime::from_timestamp(1_678_781_109, 0).unwrap(),
        producer: "sohoa test".into(),
        language: "vi".into(),
    };
    write_pdf(packaged, &info).expect("packaged")
}

#[test]
fn pdfs_the_package_module_writes_pass_with_their_page_count() {
    assert_eq!(check(&archive_pdf(1)).expect("one page"), 1);
    assert_eq!(check(&archive_pdf(3)).expect("three pages"), 3);
    let jpeg_scan = one_image_pdf(
        "/Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode",
        b"\xff\xd8 never decoded",
        "200 0 0 100 0 0",
        "",
    );
    assert_eq!(check(&jpeg_scan).expect("a scanner-like PDF"), 1);
}

#[test]
fn a_300_mb_archive_is_checked_without_reading_its_image() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.pdf");
    let image_bytes: u64 = 300_000_000;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("created"));
    let mut at = 0u64;
    let mut offsets = vec![];
    let put = |file: &mut std::io::BufWriter<std::fs::File>, bytes: &[u8], at: &mut u64| {
        file.write_all(bytes).expect("written");
        *at += bytes.len() as u64;
    };
    put(&mut file, b"%PDF-1.7\n", &mut at);
    let content = b"q 595 0 0 842 0 0 cm /Im0 Do Q";
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
           /Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>"
            .to_vec(),
        stream("", content),
    ];
    for (i, object) in objects.iter().enumerate() {
        offsets.push(at);
        put(&mut file, format!("{} 0 obj\n", i + 1).as_bytes(), &mut at);
        put(&mut file, object, &mut at);
        put(&mut file, b"\nendobj\n", &mut at);
    }
    offsets.push(at);
    let head = format!(
        "5 0 obj\n<< /Type /XObject /Subtype /Image /Width 10000 /Height 14000 \
         /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length {image_bytes} >>\nstream\n"
    );
    put(&mut file, head.as_bytes(), &mut at);
    let chunk = vec![0x5au8; 1 << 20];
    let mut left = image_bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        put(&mut file, &chunk[..n], &mut at);
        left -= n as u64;
    }
    put(&mut file, b"\nendstream\nendobj\n", &mut at);
    let xref = at;
    let mut table = String::from("xref\n0 6\n0000000000 65535 f \n");
    for offset in offsets {
        table.push_str(&format!("{offset:010} 00000 n \n"));
    }
    table.push_str(&format!(
        "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ));
    put(&mut file, table.as_bytes(), &mut at);
    drop(file);

    let start = thread_cpu();
    assert_eq!(check_archive(&path, &Limits::default()).expect("sound"), 1);
    let took = thread_cpu() - start;
    // The same check on a map kept open afterwards: the pages of the file it
    // read are still resident then, and few.
    let file = std::fs::File::open(&path).expect("opened");
    let map = Arc::new(unsafe { memmap2::Mmap::map(&file) }.expect("mapped"));
    let before = file_resident_bytes();
    assert_eq!(check_mapped(&map, &Limits::default()).expect("sound"), 1);
    let read = file_resident_bytes() as i64 - before as i64;
    drop(map);
    eprintln!(
        "{} MB archive checked in {took:?}; file pages it made resident: {} KB",
        at / 1_000_000,
        read >> 10
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(read < 32 << 20, "read {} MB of the file", read >> 20);
}

/// Mapped file pages resident in this process (`RssFile`): the check's map,
/// and code of this test binary run for the first time.
fn file_resident_bytes() -> u64 {
    crate::decode::test_support::status_bytes("RssFile")
}

#[test]
fn a_page_tree_that_contains_itself_is_refused() {
    let mut objects = one_page("<< >>", "", "0 0 m 200 100 l S");
    objects[1] = b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>".to_vec();
    assert!(corrupt_with(&check(&tiny_pdf(&objects)), "twice"));
    // The same through a node in between.
    let mut objects = one_page("<< >>", "", "0 0 m 200 100 l S");
    objects[1] = b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>".to_vec();
    objects.push(b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>".to_vec());
    assert!(corrupt_with(&check(&tiny_pdf(&objects)), "twice"));
}

#[test]
fn a_page_whose_parent_is_not_its_node_is_refused() {
    let objects = one_page("<< >>", "", "0 0 m 200 100 l S");
    let looped = String::from_utf8(objects[2].clone())
        .unwrap()
        .replace("/Parent 2 0 R", "/Parent 3 0 R");
    let mut objects = objects;
    objects[2] = looped.into_bytes();
    assert!(corrupt_with(&check(&tiny_pdf(&objects)), "/Parent"));
}

#[test]
fn a_prev_loop_in_the_cross_reference_chain_is_refused() {
    let result = check(&prev_loop());
    assert!(corrupt_with(&result, "loops"), "{result:?}");
}

#[test]
fn a_form_that_draws_itself_is_refused() {
    let content = stream("", b"/Fm0 Do");
    let form = stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 200 100] /Resources << /XObject << /Fm0 5 0 R >> >>",
        b"/Fm0 Do",
    );
    let pdf = pages_pdf(&[content], "<< /XObject << /Fm0 5 0 R >> >>", &[form]);
    let result = check(&pdf);
    assert!(corrupt_with(&result, "draws itself"), "{result:?}");
}

#[test]
fn two_hundred_thousand_kids_counted_as_one_page_are_refused() {
    // All naming the one page…
    let mut objects = one_page("<< >>", "", "0 0 m 200 100 l S");
    let kids = vec!["3 0 R"; 200_000].join(" ");
    objects[1] = format!("<< /Type /Pages /Kids [{kids}] /Count 1 >>").into_bytes();
    let start = thread_cpu();
    assert!(corrupt_with(&check(&tiny_pdf(&objects)), "twice"));
    // …or naming objects that do not exist.
    let kids: Vec<String> = (0..200_000).map(|i| format!("{} 0 R", 3 + i)).collect();
    objects[1] = format!("<< /Type /Pages /Kids [{}] /Count 1 >>", kids.join(" ")).into_bytes();
    let result = check(&tiny_pdf(&objects));
    assert!(
        corrupt_with(&result, "not a dictionary") || corrupt_with(&result, "/Parent"),
        "{result:?}"
    );
    let took = thread_cpu() - start;
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_count_that_lies_is_refused() {
    let mut objects = one_page("<< >>", "", "0 0 m 200 100 l S");
    objects[1] = b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>".to_vec();
    let result = check(&tiny_pdf(&objects));
    assert!(
        corrupt_with(&result, "counts 2 pages but holds 1"),
        "{result:?}"
    );
}

#[test]
fn more_pages_than_the_limit_are_refused_even_when_the_count_says_fewer() {
    let few = Limits {
        max_pages: 3,
        ..Limits::default()
    };
    let contents = vec![stream("", b"0 0 m 200 100 l S"); 5];
    let pdf = pages_pdf(&contents, "<< >>", &[]);
    let result = check_bytes(&pdf, &few);
    assert!(
        matches!(
            result,
            Err(DecodeError::TooLarge {
                what: "pages",
                actual: 5,
                limit: 3
            })
        ),
        "{result:?}"
    );
    let lying = String::from_utf8(pdf)
        .unwrap()
        .replace("/Count 5", "/Count 1");
    let result = check_bytes(lying.as_bytes(), &few);
    assert!(
        matches!(
            result,
            Err(DecodeError::TooLarge {
                what: "pages",
                actual: 4,
                limit: 3
            })
        ),
        "{result:?}"
    );
}

#[test]
fn encrypted_and_truncated_files_are_refused() {
    let pdf = tiny_pdf(&one_page("<< >>", "", "0 0 m 200 100 l S"));
    let text = String::from_utf8(pdf.clone()).unwrap();
    let encrypted = text.replace(
        "/Root 1 0 R >>",
        "/Root 1 0 R /Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /P -4 \
         /O (0123456789abcdef0123456789abcdef) /U (0123456789abcdef0123456789abcdef) >> >>",
    );
    assert!(matches!(
        check(encrypted.as_bytes()),
        Err(DecodeError::Encrypted)
    ));
    let by_qpdf = qpdf_encrypt("").expect("qpdf is installed");
    assert!(matches!(check(&by_qpdf), Err(DecodeError::Encrypted)));

    let archive = archive_pdf(1);
    let result = check(&archive[..archive.len() / 2]);
    assert!(corrupt_with(&result, "truncated"), "{result:?}");
    assert!(matches!(check(b""), Err(DecodeError::Empty)));
    assert!(matches!(
        check(b"GIF89a not a PDF"),
        Err(DecodeError::NotAnImage)
    ));
}

#[test]
fn a_content_stream_bomb_is_refused() {
    let content = stream("/Filter /FlateDecode", &zlib_zeros(b"0 0 m ", 256 << 20));
    let pdf = pages_pdf(&[content], "<< >>", &[]);
    let start = thread_cpu();
    let result = check(&pdf);
    assert!(
        matches!(
            result,
            Err(DecodeError::TooLarge {
                what: "decoded content stream bytes",
                ..
            })
        ),
        "{result:?}"
    );
    let took = thread_cpu() - start;
    assert!(took < Duration::from_secs(3), "{took:?}");
}
