//! Object streams and cross-reference streams hayro decodes while it opens a
//! file are measured first; a broken chain is refused when strict.

use super::*;
use crate::decode::pdf::budget::Depth;
use crate::decode::pdf::testing::*;
use crate::decode::Limits;

/// One page whose catalog (object 6) lives in object stream 1, which
/// inflates to `zeros` bytes past the catalog.
fn packed_catalog(zeros: u64, start: Option<usize>) -> Vec<u8> {
    let catalog = b"6 0 << /Type /Catalog /Pages 2 0 R >>";
    let objects = vec![
        stream(
            "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode",
            &zlib_zeros(catalog, zeros),
        ),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>".to_vec(),
        stream("", b"0 0 m 200 100 l S"),
    ];
    xref_stream_pdf(&objects, &[(6, 1, 0)], "/Root 6 0 R", &|e| e, start)
}

fn check_as(pdf: &[u8], strictness: Strictness) -> Result<(), DecodeError> {
    check(
        pdf,
        strictness,
        &mut Budget::new(Limits::default(), Depth::Render),
    )
}

#[test]
fn an_honest_object_stream_opens() {
    let pdf = packed_catalog(1000, None);
    assert_eq!(
        crate::decode::decode(&pdf, &Limits::default())
            .expect("decodes")
            .len(),
        1
    );
    check_as(&pdf, Strictness::Strict).expect("sound");
}

#[test]
fn an_object_stream_bomb_is_refused_before_hayro_opens_the_file() {
    let pdf = packed_catalog(256 << 20, None);
    refused_early(&pdf, &Limits::default(), "decoded object stream bytes");
}

#[test]
fn an_object_stream_bomb_is_refused_when_hayro_would_repair_the_file() {
    // startxref points nowhere: hayro rebuilds the table and decodes every
    // object stream it finds.
    let pdf = packed_catalog(256 << 20, Some(3));
    refused_early(&pdf, &Limits::default(), "decoded object stream bytes");
    let honest = packed_catalog(1000, Some(3));
    assert_eq!(
        crate::decode::decode(&honest, &Limits::default())
            .expect("repaired")
            .len(),
        1
    );
    assert!(matches!(
        check_as(&honest, Strictness::Strict),
        Err(DecodeError::Corrupt(_))
    ));
}

#[test]
fn a_cross_reference_stream_bomb_is_refused() {
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
    ];
    let bomb = |entries: Vec<u8>| zlib_zeros(&entries, 256 << 20);
    let pdf = xref_stream_pdf(
        &objects,
        &[],
        "/Root 1 0 R /Filter /FlateDecode",
        &bomb,
        None,
    );
    refused_early(
        &pdf,
        &Limits::default(),
        "decoded cross-reference stream bytes",
    );
}

#[test]
fn millions_of_listed_objects_are_refused() {
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
    ];
    let listed = (MAX_OBJECTS as u64 + 1000) * 7;
    let many = |entries: Vec<u8>| {
        let pad = listed - entries.len() as u64;
        zlib_zeros(&entries, pad)
    };
    let dict = format!(
        "/Root 1 0 R /Index [0 {}] /Filter /FlateDecode",
        MAX_OBJECTS + 1000
    );
    let pdf = xref_stream_pdf(&objects, &[], &dict, &many, None);
    let result = check_as(&pdf, Strictness::Lenient);
    assert!(
        matches!(
            result,
            Err(DecodeError::TooLarge {
                what: "cross-reference entries",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn a_prev_loop_is_refused_when_strict_and_repaired_when_lenient() {
    let pdf = prev_loop();
    let result = check_as(&pdf, Strictness::Strict);
    assert!(
        matches!(&result, Err(DecodeError::Corrupt(why)) if why.contains("loops")),
        "{result:?}"
    );
    check_as(&pdf, Strictness::Lenient).expect("left to hayro");
    assert_eq!(
        crate::decode::decode(&pdf, &Limits::default())
            .expect("repaired")
            .len(),
        1
    );
}

#[test]
fn an_entry_pointing_elsewhere_is_refused_when_strict() {
    let pdf = tiny_pdf(&one_page("<< >>", "", "0 0 m 200 100 l S"));
    let text = String::from_utf8(pdf).unwrap();
    // Object 4's entry moved one byte on.
    let table = text.rfind("\nxref\n").unwrap();
    let entries: Vec<&str> = text[table..].lines().skip(4).take(4).collect();
    let four = entries[3];
    let moved = format!(
        "{:010}{}",
        four[..10].parse::<u64>().unwrap() + 1,
        &four[10..]
    );
    let broken = format!(
        "{}{}",
        &text[..table],
        text[table..].replacen(four, &moved, 1)
    );
    let result = check_as(broken.as_bytes(), Strictness::Strict);
    assert!(
        matches!(&result, Err(DecodeError::Corrupt(why)) if why.contains("object 4")),
        "{result:?}"
    );
    check_as(text.as_bytes(), Strictness::Strict).expect("the original is sound");
}
