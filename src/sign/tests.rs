//! Keys from PKCS#12 files and CMS signatures, checked by OpenSSL (`openssl
//! cms -verify`) against the test CA.

use super::appearance::{layout, Font, DEFAULT_FONT};
use super::cert::{check_signing, identity, CertError};
use super::keys::FileSigner;
use super::pdf::{self, Corner, SignatureInfo, Visible};
use super::test_pki::{self, PASSWORD};
use super::{cms, Algorithm, SignError, Signer, Signing};
use crate::package::tests::run;
use crate::records::SignRole;
use chrono::Utc;
use sha2::{Digest, Sha256};
use std::process::Command;

/// Signs `data` with the key of `p12` and asks OpenSSL whether the detached
/// signature verifies against the test CA; returns OpenSSL's printout of it.
fn sign_and_verify(p12: &str, data: &[u8]) -> (bool, String) {
    let signer = FileSigner::open_pkcs12(&test_pki::file(p12), PASSWORD).unwrap();
    let digest: [u8; 32] = Sha256::digest(data).into();
    let der = cms::signed_data(Signing::key(&signer), &digest).unwrap();
    verify(&der, data)
}

/// Whether OpenSSL verifies the detached CMS signature `der` over `data`
/// against the test CA; and what OpenSSL said, and its printout of the CMS.
pub(super) fn verify(der: &[u8], data: &[u8]) -> (bool, String) {
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
        format!(
            "{}{}",
            String::from_utf8_lossy(&ok.stderr),
            String::from_utf8_lossy(&printed.stdout)
        ),
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
    let der = cms::signed_data(Signing::key(&signer), &digest).unwrap();
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
fn the_configured_key_opens_with_its_secret_from_a_file_or_as_asked() {
    use super::keys::{open_configured, Secret};
    use crate::config::SignSettings;
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\r\n")).unwrap();
    let p12 = test_pki::file("officer.p12");
    let from_file = SignSettings {
        pkcs12: Some(p12.clone()),
        password_file: Some(password_file),
        ..Default::default()
    };
    let key = open_configured(&from_file, None).expect("the end of line is not the password");
    assert_eq!(
        identity(&key.chain()[0]).unwrap().name,
        "Nguyễn Thị Hồng Nhung"
    );

    let asked = std::cell::Cell::new(0);
    let ask = |what: Secret| {
        asked.set(asked.get() + 1);
        assert_eq!(what, Secret::Password { file: &p12 });
        Ok(PASSWORD.to_string())
    };
    let no_file = SignSettings {
        pkcs12: Some(p12.clone()),
        ..Default::default()
    };
    if std::env::var_os("SOHOA_SIGN_PASSWORD").is_none() {
        open_configured(&no_file, Some(&ask)).unwrap();
        assert_eq!(asked.get(), 1);
        assert!(matches!(
            open_configured(&no_file, None),
            Err(SignError::NoSecret {
                env: "SOHOA_SIGN_PASSWORD",
                ..
            })
        ));
    }
    assert!(matches!(
        open_configured(&SignSettings::default(), None),
        Err(SignError::NoKey)
    ));
    let both = SignSettings {
        pkcs11_module: Some("/usr/lib/softhsm/libsofthsm2.so".into()),
        ..from_file.clone()
    };
    assert!(matches!(
        open_configured(&both, None),
        Err(SignError::TwoKeys)
    ));
    let no_label = SignSettings {
        pkcs11_module: Some("/usr/lib/softhsm/libsofthsm2.so".into()),
        ..Default::default()
    };
    assert!(matches!(
        open_configured(&no_label, None),
        Err(SignError::NoTokenLabel)
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
    assert_eq!(
        super::cert::title(&test_pki::cert_der("officer")).as_deref(),
        Some("Công chức Văn phòng - Thống kê")
    );
    assert_eq!(super::cert::title(&test_pki::cert_der("agency")), None);
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
    // nonRepudiation alone is the usual usage of a document signer's certificate.
    assert!(check_signing(&test_pki::cert_der("non-repudiation"), now).is_ok());
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

/// The test's archive copy, made once: the pipeline's PDF of a page read
/// by Tesseract, and the text it read.
fn archive_copy() -> &'static (Vec<u8>, String) {
    static COPY: std::sync::OnceLock<(Vec<u8>, String)> = std::sync::OnceLock::new();
    COPY.get_or_init(crate::package::tests::archive_copy)
}

fn officer_lines() -> Vec<String> {
    [
        "Người sao: Nguyễn Thị Hồng Nhung",
        "Chức vụ: Công chức Văn phòng - Thống kê",
        "Thời gian sao: 02/12/2026 15:04:05 (2026-12-02T15:04:05+07:00)",
        "Bản sao điện tử từ bản giấy",
    ]
    .map(String::from)
    .to_vec()
}

/// Signs `unsigned` with the key of `p12`, the block of `lines` in `corner`.
fn sign_with(unsigned: &[u8], p12: &str, lines: &[String], corner: Corner) -> Vec<u8> {
    let font = Font::load(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let block = layout(&font, lines, 8.0, 3.0).unwrap();
    let signer = FileSigner::open_pkcs12(&test_pki::file(p12), PASSWORD).unwrap();
    let time = chrono::DateTime::parse_from_rfc3339("2026-12-02T15:04:05+07:00").unwrap();
    let info = SignatureInfo {
        name: "Nguyễn Thị Hồng Nhung".into(),
        reason: "Bản sao điện tử từ bản giấy".into(),
        time,
    };
    let visible = Visible {
        block: &block,
        corner,
        inset: 8.0,
    };
    pdf::sign(unsigned, "test.pdf", Signing::key(&signer), &visible, &info).unwrap()
}

/// The first word `pdftotext -bbox` gives of `path`: its text, xMin, yMin, xMax.
fn first_word(path: &str) -> (String, f32, f32, f32) {
    let bbox = run("pdftotext", &["-bbox", path, "-"]);
    let first = bbox
        .lines()
        .find(|l| l.contains("<word"))
        .unwrap()
        .to_string();
    let attr = |name: &str| -> f32 {
        let at = first.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        first[at..].split('"').next().unwrap().parse().unwrap()
    };
    let text = first.split('>').nth(1).unwrap().split('<').next().unwrap();
    (text.to_string(), attr("xMin"), attr("yMin"), attr("xMax"))
}

#[test]
fn the_block_is_a_small_subset_sized_to_its_text() {
    let font = Font::load(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let block = layout(&font, &officer_lines(), 8.0, 3.0).unwrap();
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
}

#[test]
fn a_signed_copy_is_the_unsigned_file_and_an_update_the_tools_read() {
    let (unsigned, ocr_text) = archive_copy();
    let lines = officer_lines();
    let signed = sign_with(unsigned, "officer.p12", &lines, Corner::TopLeft);
    assert!(signed.starts_with(unsigned), "the unsigned bytes changed");
    assert!(signed.ends_with(b"%%EOF\n"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &signed).unwrap();
    let p = path.to_str().unwrap();
    run("qpdf", &["--check", p]);
    // The block and the page's own text both read back.
    let text = run("pdftotext", &["-layout", p, "-"]);
    for line in &lines {
        assert!(text.contains(line.as_str()), "{line:?} not in {text:?}");
    }
    let ocr_words: Vec<&str> = ocr_text.split_whitespace().collect();
    let plain = run("pdftotext", &[p, "-"]);
    let read: std::collections::HashSet<&str> = plain.split_whitespace().collect();
    let kept = ocr_words.iter().filter(|w| read.contains(*w)).count();
    assert!(
        kept == ocr_words.len(),
        "{kept}/{} OCR words read back",
        ocr_words.len()
    );
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
    // The block is at the top left of page 1, inside the margin.
    let (word, x, y, _) = first_word(p);
    assert_eq!(word, "Người");
    assert!((x - 11.0).abs() < 1.5, "xMin {x}");
    assert!(y > 8.0 && y < 16.0, "yMin {y}");
    // poppler checks the signature over the byte range (the test CA is not
    // in its trust store here).
    let sig = run("pdfsig", &[p]);
    assert!(sig.contains("Signature is Valid"), "{sig}");
    assert!(sig.contains("ETSI.CAdES.detached"), "{sig}");
    assert!(sig.contains("Nguyễn Thị Hồng Nhung"), "{sig}");
    assert!(sig.contains("Total document signed"), "{sig}");
}

#[test]
fn the_structures_pdfa_asks_for_are_in_the_update() {
    let (unsigned, _) = archive_copy();
    let signed = sign_with(
        unsigned,
        "officer-ec.p12",
        &officer_lines(),
        Corner::TopLeft,
    );
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let before = lopdf::Document::load_mem(unsigned).unwrap();
    // /Size counts every object; the first /ID is kept, the second is new.
    let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap();
    assert_eq!(size, i64::from(doc.max_id) + 1);
    let ids = doc.trailer.get(b"ID").unwrap().as_array().unwrap();
    let old = before.trailer.get(b"ID").unwrap().as_array().unwrap();
    assert_eq!(ids[0], old[0]);
    assert_ne!(ids[1], old[1]);
    // The new trailer points back at the old cross-reference section.
    let tail = String::from_utf8_lossy(&signed[signed.len() - 400..]).into_owned();
    let trailer = &tail[tail.rfind("trailer").unwrap()..];
    assert!(
        trailer.contains(&format!("/Prev {}", before.xref_start)),
        "{trailer}"
    );
    let catalog = doc.catalog().unwrap();
    let acro = catalog.get(b"AcroForm").unwrap().as_dict().unwrap();
    assert_eq!(acro.get(b"SigFlags").unwrap().as_i64().unwrap(), 3);
    let widget_id = acro.get(b"Fields").unwrap().as_array().unwrap()[0]
        .as_reference()
        .unwrap();
    let widget = doc.get_dictionary(widget_id).unwrap();
    assert_eq!(widget.get(b"F").unwrap().as_i64().unwrap(), 4);
    let ap = widget.get(b"AP").unwrap().as_dict().unwrap();
    assert_eq!(ap.len(), 1, "only a normal appearance");
    let sig = doc
        .get_dictionary(widget.get(b"V").unwrap().as_reference().unwrap())
        .unwrap();
    let m = sig.get(b"M").unwrap().as_str().unwrap();
    assert_eq!(m, b"D:20261202150405+07'00'");
    // Not ASCII: UTF-16BE with its byte order mark.
    let name = sig.get(b"Name").unwrap().as_str().unwrap();
    assert_eq!(&name[..2], &[0xFE, 0xFF]);
    let page = doc.get_pages()[&1];
    let annots = doc.get_dictionary(page).unwrap().get(b"Annots").unwrap();
    assert_eq!(
        annots.as_array().unwrap(),
        &vec![lopdf::Object::Reference(widget_id)]
    );
}

#[test]
fn a_sao_y_copy_signs_the_signed_copy_again_at_the_top_right() {
    let (unsigned, _) = archive_copy();
    let officer = sign_with(unsigned, "officer.p12", &officer_lines(), Corner::TopLeft);
    let agency_lines: Vec<String> = ["SAO Y", "UBND xã Cao Quảng", "2026-12-02T15:04:05+07:00"]
        .map(String::from)
        .to_vec();
    let both = sign_with(&officer, "agency.p12", &agency_lines, Corner::TopRight);
    assert!(both.starts_with(&officer));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sao-y.pdf");
    std::fs::write(&path, &both).unwrap();
    let p = path.to_str().unwrap();
    run("qpdf", &["--check", p]);
    let sig = run("pdfsig", &[p]);
    assert_eq!(sig.matches("Signature is Valid").count(), 2, "{sig}");
    let bbox = run("pdftotext", &["-bbox", p, "-"]);
    let sao = bbox.lines().find(|l| l.contains(">SAO<")).expect(&bbox);
    let at = sao.find("xMax=\"").unwrap() + 6;
    let x_max: f32 = sao[at..].split('"').next().unwrap().parse().unwrap();
    let width: f32 = {
        let page = bbox.lines().find(|l| l.contains("<page")).unwrap();
        let at = page.find("width=\"").unwrap() + 7;
        page[at..].split('"').next().unwrap().parse().unwrap()
    };
    // Right half of the page, near its top.
    assert!(x_max > width / 2.0, "{sao}");
}

#[test]
fn what_is_not_a_pdf_is_refused_with_the_reason() {
    let font = Font::load(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let block = layout(&font, &officer_lines(), 8.0, 3.0).unwrap();
    let signer = FileSigner::open_pkcs12(&test_pki::file("officer.p12"), PASSWORD).unwrap();
    let info = SignatureInfo {
        name: "x".into(),
        reason: "y".into(),
        time: chrono::Utc::now().fixed_offset(),
    };
    let visible = Visible {
        block: &block,
        corner: Corner::TopLeft,
        inset: 8.0,
    };
    match pdf::sign(
        b"%PDF-1.7\nnot really",
        "a.pdf",
        Signing::key(&signer),
        &visible,
        &info,
    ) {
        Err(SignError::Pdf { path, detail }) => {
            assert_eq!(path, "a.pdf");
            assert!(detail.contains("not a readable PDF"), "{detail}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("signed garbage"),
    }
}

#[test]
fn a_character_the_font_lacks_is_refused_not_drawn_blank() {
    let font = Font::load(std::path::Path::new(DEFAULT_FONT)).unwrap();
    match layout(&font, &["Nguyễn 中".to_string()], 10.0, 2.0) {
        Err(SignError::Font { detail, .. }) => assert!(detail.contains("U+4E2D"), "{detail}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a missing glyph was laid out"),
    }
}

fn anchors() -> Vec<Vec<u8>> {
    super::verify::read_anchors(&[test_pki::file("ca.pem")]).unwrap()
}

#[test]
fn a_signed_copy_verifies_and_any_change_to_it_is_found() {
    use super::verify::{verify, Problem};
    let (unsigned, _) = archive_copy();
    let signed = sign_with(unsigned, "officer.p12", &officer_lines(), Corner::TopLeft);
    let checked = verify(&signed, &anchors()).unwrap();
    assert_eq!(checked.len(), 1);
    let c = &checked[0];
    assert!(c.valid(), "{:?}", c.problems);
    assert!(c.whole_file);
    assert_eq!(c.field, "Signature1");
    assert_eq!(c.signer.as_ref().unwrap().name, "Nguyễn Thị Hồng Nhung");
    assert_eq!(
        c.signed_at.unwrap().to_rfc3339(),
        "2026-12-02T15:04:05+07:00"
    );

    // One byte of the scan's page changed.
    let mut altered = signed.clone();
    let at = unsigned.len() / 2;
    altered[at] ^= 0x01;
    let checked = verify(&altered, &anchors()).unwrap();
    assert_eq!(checked[0].problems, vec![Problem::Altered]);

    // Bytes added after the signature.
    let mut appended = signed.clone();
    appended.extend_from_slice(b"% added later\n");
    let checked = verify(&appended, &anchors()).unwrap();
    assert_eq!(checked[0].problems, vec![Problem::ChangedAfterSigning]);
    assert!(!checked[0].whole_file);

    // Another trust anchor: the signature is intact but not trusted.
    let other = super::verify::read_anchors(&[test_pki::file("agency.pem")]).unwrap();
    let checked = verify(&signed, &other).unwrap();
    assert!(
        matches!(checked[0].problems[..], [Problem::Untrusted(_)]),
        "{:?}",
        checked[0].problems
    );

    // An unsigned file has no signatures; garbage is an error.
    assert!(verify(unsigned, &anchors()).unwrap().is_empty());
    assert!(verify(b"not a pdf", &anchors()).is_err());
}

#[test]
fn both_signatures_of_a_sao_y_copy_verify_and_the_last_covers_the_file() {
    use super::verify::verify;
    let (unsigned, _) = archive_copy();
    let officer = sign_with(
        unsigned,
        "officer-ec.p12",
        &officer_lines(),
        Corner::TopLeft,
    );
    let lines = ["SAO Y".to_string(), "UBND xã Cao Quảng".to_string()];
    let both = sign_with(&officer, "agency.p12", &lines, Corner::TopRight);
    let checked = verify(&both, &anchors()).unwrap();
    assert_eq!(checked.len(), 2);
    assert!(checked.iter().all(|c| c.valid()), "{checked:?}");
    assert!(!checked[0].whole_file && checked[1].whole_file);
    assert_eq!(checked[1].field, "Signature2");
}

#[test]
fn a_signature_made_with_an_expired_certificate_is_not_valid() {
    use super::verify::{verify, Problem};
    let (unsigned, _) = archive_copy();
    let signed = sign_with(unsigned, "expired.p12", &officer_lines(), Corner::TopLeft);
    let checked = verify(&signed, &anchors()).unwrap();
    assert!(
        checked[0]
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Certificate(d) if d.contains("expired"))),
        "{:?}",
        checked[0].problems
    );
}

/// What pdfsig says of `path` with the test CA trusted in an NSS database
/// (`scripts/nss_trust.sh`).
fn pdfsig_trusting_the_test_ca(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let db = tempfile::tempdir().unwrap();
    let ca = test_pki::file("ca.pem");
    run(
        root.join("scripts/nss_trust.sh").to_str().unwrap(),
        &[db.path().to_str().unwrap(), ca.to_str().unwrap()],
    );
    let nss = format!("sql:{}", db.path().display());
    run("pdfsig", &["-nssdir", &nss, path])
}

/// pyHanko's validation of `path` (`scripts/check_pdf_signature.py`), the
/// test CA trusted.
fn pyhanko(path: &str) -> serde_json::Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ca = test_pki::file("ca.pem");
    let out = run(
        root.join(".venv/bin/python").to_str().unwrap(),
        &[
            root.join("scripts/check_pdf_signature.py")
                .to_str()
                .unwrap(),
            "--trust",
            ca.to_str().unwrap(),
            path,
        ],
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn pdfsig_and_pyhanko_find_the_signatures_valid_trusted_and_covering_the_file() {
    let (unsigned, _) = archive_copy();
    let dir = tempfile::tempdir().unwrap();
    for p12 in ["officer.p12", "officer-ec.p12"] {
        let signed = sign_with(unsigned, p12, &officer_lines(), Corner::TopLeft);
        let path = dir.path().join(format!("{p12}.pdf"));
        std::fs::write(&path, &signed).unwrap();
        let p = path.to_str().unwrap();
        let sig = pdfsig_trusting_the_test_ca(p);
        assert!(sig.contains("Signature is Valid."), "{sig}");
        assert!(sig.contains("Certificate is Trusted."), "{sig}");
        assert!(sig.contains("Total document signed"), "{sig}");
        let v = pyhanko(p);
        assert_eq!(v["file_ok"], true, "{v}");
        let s = &v["signatures"][0];
        assert_eq!(s["summary"], "INTACT:TRUSTED,UNTOUCHED", "{v}");
        assert_eq!(s["coverage"], "ENTIRE_FILE", "{v}");
        assert_eq!(s["subfilter"], "/ETSI.CAdES.detached", "{v}");

        // One byte of the page changed: neither finds it intact.
        let mut altered = signed.clone();
        altered[unsigned.len() / 2] ^= 0x01;
        std::fs::write(&path, &altered).unwrap();
        let sig = pdfsig_trusting_the_test_ca(p);
        assert!(sig.contains("Digest Mismatch"), "{sig}");
        let v = pyhanko(p);
        assert_eq!(v["signatures"][0]["intact"], false, "{v}");
        assert_eq!(v["file_ok"], false, "{v}");
    }
}

#[test]
fn pyhanko_accepts_the_officer_signature_and_the_sao_y_signature_after_it() {
    let (unsigned, _) = archive_copy();
    let officer = sign_with(unsigned, "officer.p12", &officer_lines(), Corner::TopLeft);
    let lines = ["SAO Y".to_string(), "UBND xã Cao Quảng".to_string()];
    let both = sign_with(&officer, "agency.p12", &lines, Corner::TopRight);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sao-y.pdf");
    std::fs::write(&path, &both).unwrap();
    let v = pyhanko(path.to_str().unwrap());
    assert_eq!(v["file_ok"], true, "{v}");
    let sigs = v["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{v}");
    assert_eq!(sigs[0]["coverage"], "ENTIRE_REVISION", "{v}");
    // Adding a signature is a change a signed PDF allows.
    assert_eq!(sigs[0]["bottom_line"], true, "{v}");
    assert_eq!(sigs[1]["coverage"], "ENTIRE_FILE", "{v}");
}

#[test]
fn the_officer_and_sao_y_copies_carry_their_texts_and_verify() {
    use super::copy::{block_lines, make, signed_path, vietnam_time, Copy};
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-02T08:04:05.75Z")
        .unwrap()
        .with_timezone(&Utc);
    let time = vietnam_time(at);
    let officer = Copy::Officer {
        officer: "Nguyễn Thị Hồng Nhung".into(),
        position: "Công chức Văn phòng - Thống kê".into(),
    };
    assert_eq!(block_lines(&officer, time), officer_lines());
    let sao_y = Copy::SaoY {
        agency: "UBND xã Cao Quảng".into(),
    };
    assert_eq!(
        block_lines(&sao_y, time),
        ["SAO Y", "UBND xã Cao Quảng", "2026-12-02T15:04:05+07:00"]
    );
    assert_eq!(
        signed_path("archive/H44/tp/01-don.v1.pdf", SignRole::Officer),
        "archive/H44/tp/01-don.v1.ky.pdf"
    );
    assert_eq!(
        signed_path("archive/H44/tp/01-don.v1.ky.pdf", SignRole::SaoY),
        "archive/H44/tp/01-don.v1.sao-y.pdf"
    );

    let (unsigned, _) = archive_copy();
    let font = Font::load(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let key = FileSigner::open_pkcs12(&test_pki::file("officer.p12"), PASSWORD).unwrap();
    let now = Utc::now();
    let first = make(
        unsigned,
        "a.pdf",
        &officer,
        Signing::key(&key),
        &font,
        &anchors(),
        now,
    )
    .unwrap();
    assert!(first.bytes.starts_with(unsigned));
    assert_eq!(first.problems, vec![]);
    assert_eq!(first.signer.name, "Nguyễn Thị Hồng Nhung");
    assert_eq!(first.time, vietnam_time(now));
    assert_eq!(first.time.offset().local_minus_utc(), 7 * 3600);
    // No trust anchor: signed, and the check says only that the chain is not known.
    let untrusted = make(
        unsigned,
        "a.pdf",
        &officer,
        Signing::key(&key),
        &font,
        &[],
        now,
    )
    .unwrap();
    assert!(matches!(
        untrusted.problems.as_slice(),
        [super::verify::Problem::Untrusted(_)]
    ));
    let agency = FileSigner::open_pkcs12(&test_pki::file("agency.p12"), PASSWORD).unwrap();
    let second = make(
        &first.bytes,
        "a.ky.pdf",
        &sao_y,
        Signing::key(&agency),
        &font,
        &anchors(),
        now,
    )
    .unwrap();
    assert!(second.bytes.starts_with(&first.bytes));
    let checked = super::verify::verify(&second.bytes, &anchors()).unwrap();
    assert_eq!(checked.len(), 2);
    assert!(checked.iter().all(|c| c.valid()), "{checked:?}");

    // An expired certificate signs nothing.
    let expired = FileSigner::open_pkcs12(&test_pki::file("expired.p12"), PASSWORD).unwrap();
    assert!(matches!(
        make(
            unsigned,
            "a.pdf",
            &officer,
            Signing::key(&expired),
            &font,
            &anchors(),
            now
        ),
        Err(SignError::Certificate(CertError::Expired { .. }))
    ));
}

#[test]
fn a_time_stamped_signature_is_b_t_and_its_token_is_checked() {
    use super::copy::{make, Copy};
    use super::tsa::Tsa;
    use super::verify::Problem;
    let server = test_pki::TestTsa::start(false);
    let tsa = Tsa::new(&server.url).unwrap();
    let (unsigned, _) = archive_copy();
    let font = Font::load(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let key = FileSigner::open_pkcs12(&test_pki::file("officer.p12"), PASSWORD).unwrap();
    let officer = Copy::Officer {
        officer: "Nguyễn Thị Hồng Nhung".into(),
        position: "Công chức".into(),
    };
    let signing = Signing {
        signer: &key,
        tsa: Some(&tsa),
    };
    let now = Utc::now();
    let signed = make(unsigned, "a.pdf", &officer, signing, &font, &anchors(), now).unwrap();
    assert_eq!(signed.problems, vec![]);
    let checked = super::verify::verify(&signed.bytes, &anchors()).unwrap();
    assert!(checked[0].valid(), "{checked:?}");
    let stamp = checked[0].time_stamp.as_ref().expect("a time-stamp");
    assert!((stamp.at - now).num_seconds().abs() < 120, "{stamp:?}");
    assert_eq!(
        stamp.authority.as_ref().unwrap().name,
        "Dịch vụ cấp dấu thời gian thử nghiệm"
    );

    // pyHanko checks the token too (the TSA's root is the test CA).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b-t.pdf");
    std::fs::write(&path, &signed.bytes).unwrap();
    let v = pyhanko(path.to_str().unwrap());
    let s = &v["signatures"][0];
    assert_eq!(s["timestamp_valid"], true, "{v}");
    assert_eq!(s["bottom_line"], true, "{v}");
    assert_eq!(v["file_ok"], true, "{v}");

    // Without trust anchors, only trust is unknown, the time-stamp's too.
    let checked = super::verify::verify(&signed.bytes, &[]).unwrap();
    assert!(checked[0].problems.iter().all(Problem::is_untrusted));
    assert!(checked[0]
        .problems
        .iter()
        .any(|p| matches!(p, Problem::TimeStamp(_))));

    // The token's time changed (it is outside the signed bytes): the token's
    // own signature finds it, the document signature still holds.
    let time_hex: String = stamp
        .at
        .format("%Y%m%d%H%M%S")
        .to_string()
        .bytes()
        .map(|b| format!("{b:02X}"))
        .collect();
    let at = signed
        .bytes
        .windows(time_hex.len())
        .position(|w| w == time_hex.as_bytes())
        .expect("the token's time in /Contents");
    let mut altered = signed.bytes.clone();
    altered[at + 1] = if altered[at + 1] == b'2' { b'3' } else { b'2' };
    let checked = super::verify::verify(&altered, &anchors()).unwrap();
    assert_eq!(
        checked[0].problems,
        vec![Problem::TimeStamp(Box::new(Problem::Altered))],
        "{checked:?}"
    );
    assert!(checked[0].time_stamp.is_none());

    // A TSA that is down signs nothing, and stops the run.
    let down = test_pki::TestTsa::start(true);
    let tsa = Tsa::new(&down.url).unwrap();
    let signing = Signing {
        signer: &key,
        tsa: Some(&tsa),
    };
    match make(unsigned, "a.pdf", &officer, signing, &font, &anchors(), now) {
        Err(e @ SignError::TimeStamp { .. }) => {
            assert!(e.stops_run());
            assert!(e.to_string().contains("503"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(Tsa::new("ftp://tsa.example/").is_err());
}

#[test]
fn signatures_of_other_tools_with_other_curves_and_digests_verify() {
    let (unsigned, _) = archive_copy();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, unsigned).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tsa = test_pki::TestTsa::start(false);
    for (stem, digest, stamped) in [
        ("officer-p384", "sha384", false),
        ("officer-p384", "sha256", false),
        ("officer", "sha384", false),
        ("officer", "sha512", true),
        ("non-repudiation", "sha256", true),
    ] {
        let out = dir.path().join(format!("{stem}-{digest}.pdf"));
        let path = |f: &str| test_pki::file(f).to_str().unwrap().to_string();
        run(
            root.join(".venv/bin/python").to_str().unwrap(),
            &[
                root.join("scripts/pyhanko_sign.py").to_str().unwrap(),
                input.to_str().unwrap(),
                out.to_str().unwrap(),
                &path(&format!("{stem}.key.pem")),
                &path(&format!("{stem}.pem")),
                &path("ca.pem"),
                digest,
                if stamped { &tsa.url } else { "" },
            ],
        );
        let signed = std::fs::read(&out).unwrap();
        let checked = super::verify::verify(&signed, &anchors()).unwrap();
        assert!(checked[0].valid(), "{stem} {digest}: {checked:?}");
        assert_eq!(checked[0].time_stamp.is_some(), stamped, "{checked:?}");
        let mut altered = signed.clone();
        altered[unsigned.len() / 2] ^= 0x01;
        let checked = super::verify::verify(&altered, &anchors()).unwrap();
        assert_eq!(
            checked[0].problems,
            vec![super::verify::Problem::Altered],
            "{stem} {digest}"
        );
    }
    // A key sohoa verifies but does not sign with is named as such.
    match FileSigner::open_pkcs12(&test_pki::file("officer-p384.p12"), PASSWORD) {
        Err(SignError::UnsupportedKey(kind)) => assert_eq!(kind, "ECDSA P-384"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a P-384 key signs"),
    }
}
