//! Content that draws itself, or draws others too many times, is refused
//! before hayro runs it; content that only shares resources is not.

use super::*;
use crate::decode::pdf::testing::*;
use crate::decode::Limits;
use std::time::Duration;

fn form(resources: &str, content: &str) -> Vec<u8> {
    stream(
        &format!("/Type /XObject /Subtype /Form /BBox [0 0 200 100] {resources}"),
        content.as_bytes(),
    )
}

fn decode(pdf: &[u8]) -> Result<usize, DecodeError> {
    let (result, took) =
        cpu_timed(|| crate::decode::decode(pdf, &Limits::default()).map(|p| p.len()));
    assert!(took < Duration::from_secs(5), "{took:?}");
    result
}

fn draws_itself(result: Result<usize, DecodeError>) -> bool {
    matches!(&result, Err(DecodeError::Corrupt(why)) if why.contains("draws itself"))
}

#[test]
fn a_form_drawing_itself_twice_through_inherited_resources_is_refused() {
    // hayro would draw it 2⁵⁰ times: it stops only at 50 levels.
    let content = stream("", b"/Fm0 Do");
    let fm0 = form("", "/Fm0 Do /Fm0 Do");
    let pdf = pages_pdf(&[content], "<< /XObject << /Fm0 5 0 R >> >>", &[fm0]);
    assert!(draws_itself(decode(&pdf)));
}

#[test]
fn a_form_drawing_itself_through_its_own_resources_is_refused() {
    let content = stream("", b"/Fm0 Do");
    let fm0 = form("/Resources << /XObject << /Fm0 5 0 R >> >>", "/Fm0 Do");
    let pdf = pages_pdf(&[content], "<< /XObject << /Fm0 5 0 R >> >>", &[fm0]);
    assert!(draws_itself(decode(&pdf)));
}

#[test]
fn a_cycle_of_two_forms_is_refused() {
    let content = stream("", b"/A Do");
    let a = form("/Resources << /XObject << /B 6 0 R >> >>", "/B Do");
    let b = form("/Resources << /XObject << /A 5 0 R >> >>", "/A Do");
    let pdf = pages_pdf(&[content], "<< /XObject << /A 5 0 R >> >>", &[a, b]);
    assert!(draws_itself(decode(&pdf)));
}

#[test]
fn a_pattern_painting_with_itself_is_refused() {
    let content = stream("", b"/Pattern cs /P0 scn 0 0 200 100 re f");
    let cell = stream(
        "/PatternType 1 /PaintType 1 /TilingType 1 /BBox [0 0 10 10] /XStep 10 /YStep 10 \
         /Resources << /Pattern << /P0 5 0 R >> >>",
        b"/Pattern cs /P0 scn 0 0 10 10 re f",
    );
    let pdf = pages_pdf(&[content], "<< /Pattern << /P0 5 0 R >> >>", &[cell]);
    assert!(draws_itself(decode(&pdf)));
}

#[test]
fn a_type3_glyph_showing_its_own_font_is_refused() {
    let content = stream("", b"BT /T3 12 Tf (a) Tj ET");
    let font =
        b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 10 10] /FontMatrix [0.1 0 0 0.1 0 0] \
        /CharProcs << /a 6 0 R >> /Encoding << /Differences [97 /a] >> /FirstChar 97 /LastChar 97 \
        /Widths [10] /Resources << /Font << /T3 5 0 R >> >> >>";
    let glyph = stream("", b"10 0 d0 BT /T3 12 Tf (a) Tj ET");
    let pdf = pages_pdf(
        &[content],
        "<< /Font << /T3 5 0 R >> >>",
        &[font.to_vec(), glyph],
    );
    assert!(draws_itself(decode(&pdf)));
}

#[test]
fn forms_fanning_out_beyond_the_operation_limit_are_refused() {
    // Ten levels, each drawing the next ten times: 10¹⁰ operations.
    let content = stream("", b"/F Do");
    let forms: Vec<Vec<u8>> = (0..10)
        .map(|i| {
            if i < 9 {
                form(
                    &format!("/Resources << /XObject << /F {} 0 R >> >>", 6 + i),
                    &"/F Do ".repeat(10),
                )
            } else {
                form("", "0 0 m 1 1 l S")
            }
        })
        .collect();
    let pdf = pages_pdf(&[content], "<< /XObject << /F 5 0 R >> >>", &forms);
    let result = decode(&pdf);
    assert!(
        matches!(
            result,
            Err(DecodeError::TooLarge {
                what: "content operations",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn nesting_deeper_than_hayro_draws_is_refused() {
    let content = stream("", b"/F Do");
    let forms: Vec<Vec<u8>> = (0..60)
        .map(|i| {
            form(
                &format!("/Resources << /XObject << /F {} 0 R >> >>", 6 + i),
                "/F Do",
            )
        })
        .collect();
    let pdf = pages_pdf(&[content], "<< /XObject << /F 5 0 R >> >>", &forms);
    let result = decode(&pdf);
    assert!(
        matches!(&result, Err(DecodeError::Corrupt(why)) if why.contains("nested")),
        "{result:?}"
    );
}

#[test]
fn forms_sharing_the_resources_that_name_them_are_fine() {
    // One resource dictionary for the page and its forms, listing the forms
    // themselves (some producers do this): no form draws itself.
    let content = stream("", b"/A Do /B Do");
    let shared = "<< /XObject << /A 5 0 R /B 6 0 R >> >>";
    let a = form(&format!("/Resources {shared}"), "/B Do");
    let b = form(&format!("/Resources {shared}"), "0 0 m 200 100 l S");
    let pdf = pages_pdf(&[content], shared, &[a, b]);
    assert_eq!(decode(&pdf).expect("decodes"), 1);
}

#[test]
fn the_same_form_on_every_page_is_read_once() {
    let page = stream("", b"/F Do");
    let f = form("/Resources << >>", &"0 0 m 200 100 l S\n".repeat(200_000));
    let pages = vec![page; 40];
    let objects = pages_pdf(&pages, "<< /XObject << /F 83 0 R >> >>", &[f]);
    let pdf = Pdf::new(objects).expect("opens");
    let mut budget =
        super::super::budget::Budget::new(Limits::default(), super::super::budget::Depth::Render);
    let start = thread_cpu();
    for page in pdf.pages().iter() {
        check_page(&mut budget, page).expect("fine");
    }
    // 40 pages of 200,000 operations, but the form is read once.
    let took = thread_cpu() - start;
    assert!(took < Duration::from_secs(2), "{took:?}");
}

use hayro::hayro_interpret::hayro_syntax::Pdf;
