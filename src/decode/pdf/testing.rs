//! PDFs made by hand for the tests, object by object.

pub use crate::decode::test_support::{cpu_timed, resident_bytes, thread_cpu, zlib_zeros};
use crate::decode::{DecodeError, Limits};

/// The header and these objects, numbered from 1, with where each starts.
fn body(objects: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = vec![];
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend(object);
        pdf.extend(b"\nendobj\n");
    }
    (pdf, offsets)
}

/// A PDF made of these objects, numbered from 1 (the first must be the catalog).
pub fn tiny_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let (mut pdf, offsets) = body(objects);
    let xref = pdf.len();
    let size = objects.len() + 1;
    pdf.extend(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend(
        format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    pdf
}

pub fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let head = format!("<< {dict} /Length {} >>\nstream\n", data.len());
    [head.as_bytes(), data, b"\nendstream"].concat()
}

/// Catalog and page tree for one 200 × 100 pt page (object 3) with these
/// resources, drawing content stream 4.
pub fn one_page(resources: &str, page_extra: &str, content: &str) -> Vec<Vec<u8>> {
    vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] {page_extra} \
             /Resources {resources} /Contents 4 0 R >>"
        )
        .into_bytes(),
        stream("", content.as_bytes()),
    ]
}

/// A one-page PDF drawing one image XObject with the given matrix.
pub fn one_image_pdf(
    image_dict: &str,
    image_data: &[u8],
    matrix: &str,
    page_extra: &str,
) -> Vec<u8> {
    let content = format!("q {matrix} cm /Im0 Do Q");
    let mut objects = one_page("<< /XObject << /Im0 5 0 R >> >>", page_extra, &content);
    objects.push(stream(
        &format!("/Type /XObject /Subtype /Image {image_dict}"),
        image_data,
    ));
    tiny_pdf(&objects)
}

/// A PDF of one page per content stream (objects 3, 5, 7… the pages, 4, 6,
/// 8… their content), all with these resources, then `extra` objects.
pub fn pages_pdf(contents: &[Vec<u8>], resources: &str, extra: &[Vec<u8>]) -> Vec<u8> {
    let kids: Vec<String> = (0..contents.len())
        .map(|i| format!("{} 0 R", 3 + 2 * i))
        .collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            contents.len()
        )
        .into_bytes(),
    ];
    for (i, content) in contents.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] \
                 /Resources {resources} /Contents {} 0 R >>",
                4 + 2 * i
            )
            .into_bytes(),
        );
        objects.push(content.clone());
    }
    objects.extend(extra.iter().cloned());
    tiny_pdf(&objects)
}

/// A PDF whose cross-reference is a stream (written last, with `xref_dict`
/// added to its dictionary, which must name the /Root, and its entries
/// passed through `encode`): `objects` are numbered from 1 and `packed`
/// (object number, object stream, index) live in object streams.
/// `startxref` points where `start` says, or at the stream.
pub fn xref_stream_pdf(
    objects: &[Vec<u8>],
    packed: &[(u32, u32, u32)],
    xref_dict: &str,
    encode: &dyn Fn(Vec<u8>) -> Vec<u8>,
    start: Option<usize>,
) -> Vec<u8> {
    let (mut pdf, offsets) = body(objects);
    let own = objects.len() as u32 + 1;
    let size = own
        + 1
        + packed
            .iter()
            .map(|p| p.0)
            .max()
            .unwrap_or(0)
            .saturating_sub(own);
    let at = pdf.len();
    let mut entries = vec![0u8, 0, 0, 0, 0, 0xff, 0xff];
    for n in 1..size {
        let mut entry = |kind: u8, a: u32, b: u16| {
            entries.push(kind);
            entries.extend(a.to_be_bytes());
            entries.extend(b.to_be_bytes());
        };
        if let Some(&offset) = offsets.get(n as usize - 1) {
            entry(1, offset as u32, 0);
        } else if n == own {
            entry(1, at as u32, 0);
        } else if let Some(&(_, host, index)) = packed.iter().find(|p| p.0 == n) {
            entry(2, host, index as u16);
        } else {
            entry(0, 0, 0);
        }
    }
    let data = encode(entries);
    pdf.extend(format!("{own} 0 obj\n").as_bytes());
    pdf.extend(stream(
        &format!("/Type /XRef /Size {size} /W [1 4 2] {xref_dict}"),
        &data,
    ));
    pdf.extend(b"\nendobj\n");
    pdf.extend(format!("startxref\n{}\n%%EOF\n", start.unwrap_or(at)).as_bytes());
    pdf
}

/// What decoding `pdf` comes to, with the CPU time it took on this thread and
/// how much the process grew meanwhile (a rough figure: other tests run
/// alongside).
pub fn decode_measured(
    pdf: &[u8],
    limits: &Limits,
) -> (Result<usize, DecodeError>, std::time::Duration, i64) {
    let before = resident_bytes() as i64;
    let (result, took) = cpu_timed(|| crate::decode::decode(pdf, limits).map(|pages| pages.len()));
    let grew = resident_bytes() as i64 - before;
    eprintln!(
        "{} KB PDF: {result:?} in {took:?}, resident memory {:+} MB",
        pdf.len() / 1000,
        grew >> 20
    );
    (result, took, grew)
}

/// Expects `pdf` refused as too large in `what` before the bomb goes off:
/// counting stopped near the limit (so nothing inflated the rest), soon, and
/// the process is nowhere near what the bomb holds. (How much it grew is
/// printed, not asserted: other tests allocate alongside.) The limit hit.
pub fn refused_early(pdf: &[u8], limits: &Limits, what: &str) -> u64 {
    let (result, took, _) = decode_measured(pdf, limits);
    let Err(DecodeError::TooLarge {
        what: hit,
        actual,
        limit,
    }) = result
    else {
        panic!("not refused as too large: {result:?}")
    };
    assert_eq!(hit, what);
    assert!(
        actual > limit && actual <= limit + (1 << 20),
        "counted to {actual}, limit {limit}"
    );
    assert!(took < std::time::Duration::from_secs(3), "{took:?}");
    assert!(
        resident_bytes() < 3 << 29,
        "resident memory {} MB",
        resident_bytes() >> 20
    );
    limit
}

/// `ccitt.pdf` of the peer corpus, encrypted by qpdf with this user password.
pub fn qpdf_encrypt(user_password: &str) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().ok()?;
    let out = dir.path().join("encrypted.pdf");
    let status = std::process::Command::new("qpdf")
        .args(["--encrypt", user_password, "owner", "256", "--"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/peer-ocrmypdf/ccitt.pdf"
        ))
        .arg(&out)
        .status()
        .ok()?;
    status.success().then(|| std::fs::read(&out).ok()).flatten()
}

/// The one-page test PDF with `/Prev` in its trailer pointing back at its
/// own table.
pub fn prev_loop() -> Vec<u8> {
    let pdf = tiny_pdf(&one_page("<< >>", "", "0 0 m 200 100 l S"));
    let text = String::from_utf8(pdf).unwrap();
    let at = text.rfind("\nxref\n").unwrap() + 1;
    text.replace("/Root 1 0 R >>", &format!("/Root 1 0 R /Prev {at} >>"))
        .into_bytes()
}
