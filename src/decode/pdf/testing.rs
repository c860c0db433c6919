//! PDFs made by hand for the tests, object by object.

/// A PDF made of these objects, numbered from 1 (the first must be the catalog).
pub fn tiny_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = vec![];
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend(object);
        pdf.extend(b"\nendobj\n");
    }
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
