//! Keys from PKCS#12 files and CMS signatures, checked by OpenSSL (`openssl
//! cms -verify`) against the test CA.

use super::cert::{check_signing, identity, CertError};
use super::keys::FileSigner;
use super::test_pki::{self, PASSWORD};
use super::{cms, Algorithm, SignError, Signer};
use crate::package::tests::run;
use chrono::Utc;
use sha2::{Digest, Sha256};
use std::process::Command;

/// Signs `data` with the key of `p12` and asks OpenSSL whether the detached
/// signature verifies against the test CA; returns OpenSSL's printout of it.
fn sign_and_verify(p12: &str, data: &[u8]) -> (bool, String) {
    let signer = FileSigner::open_pkcs12(&test_pki::file(p12), PASSWORD).unwrap();
    let digest: [u8; 32] = Sha256::digest(data).into();
    let der = cms::signed_data(&signer, &digest).unwrap();
    verify(&der, data)
}

fn verify(der: &[u8], data: &[u8]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let (sig, content) = (dir.path().join("sig.der"), dir.path().join("data"));
    std::fs::write(&sig, der).unwrap();
    std::fs::write(&content, data).unwrap();
    let ok = Command::new("openssl")
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any",
        ])
        .arg("-in")
        .arg(&sig)
        .arg("-content")
        .arg(&content)
        .arg("-CAfile")
        .arg(test_pki::file("ca.pem"))
        .args(["-out", "/dev/null"])
        .output()
        .unwrap();
    let printed = Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&sig)
        .output()
        .unwrap();
    (
        ok.status.success(),
        String::from_utf8_lossy(&printed.stdout).into_owned(),
    )
}

#[test]
fn an_openssl_3_pkcs12_file_signs_what_openssl_verifies() {
    let data = "Bản sao điện tử từ bản giấy".repeat(100);
    let (ok, printed) = sign_and_verify("officer.p12", data.as_bytes());
    assert!(ok, "{printed}");
    // PAdES B-B: the certificate bound by signing-certificate-v2; no signing-time.
    assert!(
        printed.contains("id-smime-aa-signingCertificateV2"),
        "{printed}"
    );
    assert!(printed.contains("messageDigest"), "{printed}");
    assert!(!printed.contains("signingTime"), "{printed}");
    assert!(printed.contains("sha256WithRSAEncryption"), "{printed}");
    // Detached: the signed bytes are not inside.
    assert!(printed.contains("eContent: <ABSENT>"), "{printed}");
}

#[test]
fn ecdsa_keys_and_legacy_files_sign_too() {
    let (ok, printed) = sign_and_verify("officer-ec.p12", b"%PDF-1.7 ...");
    assert!(ok, "{printed}");
    assert!(printed.contains("ecdsa-with-SHA256"), "{printed}");
    let legacy = FileSigner::open_pkcs12(&test_pki::file("officer-legacy.p12"), PASSWORD).unwrap();
    assert_eq!(legacy.algorithm(), Algorithm::RsaSha256);
    let (ok, printed) = sign_and_verify("officer-legacy.p12", b"x");
    assert!(ok, "{printed}");
}

#[test]
fn a_signature_does_not_verify_over_other_bytes() {
    let signer = FileSigner::open_pkcs12(&test_pki::file("officer.p12"), PASSWORD).unwrap();
    let digest: [u8; 32] = Sha256::digest(b"the signed bytes").into();
    let der = cms::signed_data(&signer, &digest).unwrap();
    assert!(verify(&der, b"the signed bytes").0);
    assert!(!verify(&der, b"the signed bytez").0);
}

#[test]
fn a_wrong_password_or_a_damaged_file_is_told_apart() {
    let path = test_pki::file("officer.p12");
    match FileSigner::open_pkcs12(&path, "sai mật khẩu") {
        Err(SignError::WrongPassword(p)) => assert_eq!(p, path.display().to_string()),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a wrong password opened the file"),
    }
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.p12");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        FileSigner::open_pkcs12(&cut, PASSWORD),
        Err(SignError::KeyFile { .. })
    ));
    assert!(matches!(
        FileSigner::open_pkcs12(&dir.path().join("none.p12"), PASSWORD),
        Err(SignError::Read { .. })
    ));
}

#[test]
fn a_certificate_names_its_holder_in_vietnamese() {
    let who = identity(&test_pki::cert_der("officer")).unwrap();
    assert_eq!(who.name, "Nguyễn Thị Hồng Nhung");
    assert_eq!(
        who.subject,
        "C=VN, ST=Quảng Bình, L=Tuyên Hóa, O=UBND xã Cao Quảng, \
         T=Công chức Văn phòng - Thống kê, UID=CCCD:044190000123, CN=Nguyễn Thị Hồng Nhung"
    );
    assert_eq!(
        who.issuer,
        "C=VN, O=sohoa (thử nghiệm), CN=CA thử nghiệm của sohoa"
    );
    assert!(who.serial.chars().all(|c| c.is_ascii_hexdigit()) && who.serial.len() >= 16);
    assert!(who.not_before < Utc::now() && Utc::now() < who.not_after);
    let signer = FileSigner::open_pkcs12(&test_pki::file("officer.p12"), PASSWORD).unwrap();
    assert_eq!(signer.chain()[0], test_pki::cert_der("officer"));
    assert_eq!(
        signer.chain()[1],
        test_pki::cert_der("ca"),
        "the CA of the file"
    );
}

#[test]
fn only_a_certificate_valid_now_and_for_signatures_may_sign() {
    let now = Utc::now();
    assert!(check_signing(&test_pki::cert_der("officer"), now).is_ok());
    assert!(check_signing(&test_pki::cert_der("officer-ec"), now).is_ok());
    match check_signing(&test_pki::cert_der("expired"), now) {
        Err(CertError::Expired { name, until }) => {
            assert_eq!(name, "Lê Văn Cũ");
            assert_eq!(until.format("%Y-%m-%d").to_string(), "2020-12-31");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check_signing(&test_pki::cert_der("future"), now),
        Err(CertError::NotYetValid { .. })
    ));
    assert_eq!(
        check_signing(&test_pki::cert_der("no-signing"), now),
        Err(CertError::NotForSigning {
            name: "Hoàng Văn Mã".into()
        })
    );
    // Validity is judged at the time given (a signature made back then).
    let in_2020 = "2020-06-01T00:00:00Z".parse().unwrap();
    assert!(check_signing(&test_pki::cert_der("expired"), in_2020).is_ok());
    assert!(matches!(
        check_signing(&test_pki::cert_der("officer"), in_2020),
        Err(CertError::NotYetValid { .. })
    ));
}

#[test]
fn not_a_certificate_is_an_error_not_a_panic() {
    assert!(matches!(identity(b"not DER"), Err(CertError::Parse(_))));
    assert!(matches!(identity(&[]), Err(CertError::Parse(_))));
}

/// A one-page A4 PDF drawing `block` with its top-left corner 20 pt from the
/// page's, as a signature's widget will show it.
fn page_with(block: &super::appearance::Block) -> Vec<u8> {
    use pdf_writer::{Finish, Name, Pdf, Rect, Ref};
    let mut pdf = Pdf::new();
    let (catalog, pages, page, contents) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    let mut n = 4;
    let mut next = || {
        n += 1;
        Ref::new(n)
    };
    let mut chunk = pdf_writer::Chunk::new();
    let form = super::appearance::write_form(&mut chunk, &mut next, block);
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.parent(pages)
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .contents(contents);
    p.resources().x_objects().pair(Name(b"Sig"), form);
    p.finish();
    let y = 842.0 - 20.0 - block.height;
    pdf.stream(
        contents,
        format!("q 1 0 0 1 20 {y} cm /Sig Do Q").as_bytes(),
    );
    pdf.extend(&chunk);
    pdf.finish()
}

#[test]
fn the_block_draws_vietnamese_in_an_embedded_subset_that_reads_back() {
    use super::appearance::{layout, Font, DEFAULT_FONT};
    let font = Font::load(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let lines: Vec<String> = [
        "Người sao: Nguyễn Thị Hồng Nhung",
        "Chức vụ: Công chức Văn phòng - Thống kê",
        "Thời gian sao: 02/12/2026 15:04:05 (2026-12-02T15:04:05+07:00)",
        "Bản sao điện tử từ bản giấy",
    ]
    .map(String::from)
    .to_vec();
    let block = layout(&font, &lines, 8.0, 3.0).unwrap();
    // A subset: a few kB, not Liberation Serif's ~400 kB.
    assert!(
        block.font.program.len() < 60_000,
        "{}",
        block.font.program.len()
    );
    assert!(ttf_parser::Face::parse(&block.font.program, 0).is_ok());
    assert!(
        block.font.base_font.ends_with("+LiberationSerif"),
        "{}",
        block.font.base_font
    );
    assert!(
        block.width > 150.0 && block.width < 300.0,
        "{}",
        block.width
    );
    assert!(
        block.height > 4.0 * 8.0 && block.height < 6.0 * 8.0,
        "{}",
        block.height
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.pdf");
    std::fs::write(&path, page_with(&block)).unwrap();
    let p = path.to_str().unwrap();
    let text = run("pdftotext", &["-layout", p, "-"]);
    for line in &lines {
        assert!(text.contains(line.as_str()), "{line:?} not in {text:?}");
    }
    let fonts = run("pdffonts", &[p]);
    let row = fonts
        .lines()
        .find(|l| l.contains("LiberationSerif"))
        .expect(&fonts);
    // emb, sub, uni: embedded, a subset, with a ToUnicode map.
    assert!(
        row.contains("CID TrueType") && row.contains("yes yes yes"),
        "{fonts}"
    );
    run("qpdf", &["--check", p]);
    // The block sits at the top left: its first line is the page's first, flush left.
    let bbox = run("pdftotext", &["-bbox", p, "-"]);
    let first = bbox.lines().find(|l| l.contains("<word")).unwrap();
    let attr = |name: &str| -> f32 {
        let at = first.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        first[at..].split('"').next().unwrap().parse().unwrap()
    };
    assert!((attr("xMin") - 23.0).abs() < 1.5, "{first}");
    assert!(attr("yMin") > 20.0 && attr("yMin") < 35.0, "{first}");
    assert!(first.contains(">Người<"), "{first}");
}

#[test]
fn a_character_the_font_lacks_is_refused_not_drawn_blank() {
    use super::appearance::{layout, Font, DEFAULT_FONT};
    let font = Font::load(std::path::Path::new(DEFAULT_FONT)).unwrap();
    match layout(&font, &["Nguyễn 中".to_string()], 10.0, 2.0) {
        Err(SignError::Font { detail, .. }) => assert!(detail.contains("U+4E2D"), "{detail}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a missing glyph was laid out"),
    }
}
