//! End-to-end checks of the written PDF with the real tools an archive uses:
//! a page with Vietnamese text is rendered (python3-pil), read by the
//! `tesseract` CLI, packaged, and read back with poppler and qpdf. The tools
//! are installed by `make test` (scripts/install-deps.sh); a missing one fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::decode::StoredImage;

const FONT: &str = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";

/// Renders the upright page, the stored scan (skewed by `-deskew` degrees,
/// then turned counter-clockwise by `turn` so that a clockwise `turn` makes it
/// upright again) as JPEG, and the image OCR sees (the stored scan made
/// upright and rotated back by `deskew`) as PNG.
const RENDER: &str = r#"
import sys
from PIL import Image, ImageDraw, ImageFont
out, turn, deskew = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
lines = [
    "UBND huyện Tuyên Hóa, tỉnh Quảng Bình",
    "Báo cáo kết quả xây dựng chính quyền số năm 2023",
    "Số hóa hồ sơ cấp huyện: 845/922 hồ sơ, đạt 91,65%; cấp xã 5.219/5.885 hồ sơ, đạt 88,68%.",
    "Dịch vụ công trực tuyến: 591/616 thủ tục, đạt 95,94%.",
    "Người nộp: Nguyễn Văn Hùng, thôn Tân Đức, xã Tiến Hóa, huyện Tuyên Hóa, tỉnh Quảng Bình.",
    "Khó khăn: hạ tầng mạng ở các xã miền núi còn yếu, hồ sơ đất đai giải quyết chậm.",
    "Thanh toán trực tuyến: 164/212 hồ sơ, đạt 77,36%.",
]
font = ImageFont.truetype(sys.argv[4], 46)
up = Image.new("L", (2480, 1400), 255)
d = ImageDraw.Draw(up)
for i, text in enumerate(lines):
    d.text((150, 300 + i * 150), text, font=font, fill=0)
stored = up.rotate(-deskew, resample=Image.BICUBIC, fillcolor=255)
ocr = stored.rotate(deskew, resample=Image.BICUBIC, fillcolor=255)
rot = {0: None, 90: Image.ROTATE_90, 180: Image.ROTATE_180, 270: Image.ROTATE_270}[turn]
if rot is not None:
    stored = stored.transpose(rot)
stored.save(out + "/stored.jpg", quality=85, dpi=(300, 300))
ocr.save(out + "/ocr.png", dpi=(300, 300))
"#;

/// Whether `cmd args` runs and succeeds; its stdout.
fn probe(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn tools_present() -> bool {
    let ok = probe("/usr/bin/python3", &["-c", "import PIL"]).is_some()
        && probe("tesseract", &["--list-langs"]).is_some_and(|l| l.lines().any(|l| l == "vie"))
        && ["pdftotext", "pdfinfo", "pdffonts", "pdfimages"]
            .iter()
            .all(|t| probe(t, &["-v"]).is_some())
        && probe("qpdf", &["--version"]).is_some()
        && Path::new(FONT).exists();
    assert!(ok, "needs python3-pil, tesseract-ocr-vie, poppler-utils, qpdf, fonts-liberation2: run scripts/install-deps.sh");
    ok
}

struct Scan {
    dir: tempfile::TempDir,
    jpeg: Vec<u8>,
    width: u32,
    height: u32,
    ocr: OcrPage,
}

fn scan(turn: u16, deskew: f32) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap().to_string();
    let st = Command::new("/usr/bin/python3")
        .args([
            "-c",
            RENDER,
            &out,
            &turn.to_string(),
            &deskew.to_string(),
            FONT,
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let st = Command::new("tesseract")
        .env("OMP_THREAD_LIMIT", "1")
        .args([
            &format!("{out}/ocr.png"),
            &format!("{out}/ocr"),
            "-l",
            "vie",
            "tsv",
        ])
        .output()
        .unwrap();
    assert!(st.status.success());
    let ocr = {
        let tsv = std::fs::read_to_string(dir.path().join("ocr.tsv")).unwrap();
        let (w, h) = ::image::image_dimensions(dir.path().join("ocr.png")).unwrap();
        crate::ocr::parse_tsv(&tsv, w, h)
    };
    let jpeg = std::fs::read(dir.path().join("stored.jpg")).unwrap();
    let (width, height) = if turn % 180 == 90 {
        (1400, 2480)
    } else {
        (2480, 1400)
    };
    Scan {
        dir,
        jpeg,
        width,
        height,
        ocr,
    }
}

pub(super) fn info() -> DocumentInfo {
    DocumentInfo {
        title: "Đơn đăng ký".into(),
        subject: "000.00.18.H44-230314-0027".into(),
        created: chrono::DateTime::from_timestamp(1_678_781_109, 0).unwrap(),
        producer: "sohoa 0.1.0".into(),
        language: "vi".into(),
    }
}

fn package(s: &Scan, turn: u16, deskew: f32) -> (Vec<u8>, PathBuf) {
    let stored = StoredImage::Jpeg {
        data: s.jpeg.clone(),
        components: 1,
        inverted_cmyk: false,
    };
    let image = encode_image(1, stored, s.width, s.height).unwrap();
    let page = PackagePage {
        image,
        dpi: (300.0, 300.0),
        turn,
        ocr: Some(&s.ocr),
        deskew_deg: deskew,
    };
    let pdf = write_pdf(vec![page], &info()).unwrap();
    let path = s.dir.path().join(format!("out-{turn}-{deskew}.pdf"));
    std::fs::write(&path, &pdf).unwrap();
    (pdf, path)
}

/// A one-page archive copy as the pipeline writes it (a rendered page of
/// Vietnamese text, read by Tesseract), and the text OCR read.
pub(crate) fn archive_copy() -> (Vec<u8>, String) {
    let s = scan(0, 0.0);
    let (pdf, _) = package(&s, 0, 0.0);
    (pdf, s.ocr.text())
}

/// Runs a tool, fails the test if it fails, and returns its stdout.
pub(crate) fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn non_empty_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_matches('\u{c}').to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Lines `pdftotext` (default mode) gets back, against the OCR lines.
fn text_lines(path: &Path, ocr: &OcrPage) -> (Vec<String>, Vec<String>) {
    let got = non_empty_lines(&run("pdftotext", &[path.to_str().unwrap(), "-"]));
    (got, non_empty_lines(&ocr.text()))
}

#[test]
fn pdftotext_reads_the_ocr_lines_in_order_upright_turned_and_skewed() {
    if !tools_present() {
        return;
    }
    for (turn, deskew) in [
        (0u16, 0.0f32),
        (90, 0.0),
        (270, 3.0),
        (0, 3.0),
        (0, -3.0),
        (180, -2.0),
    ] {
        let s = scan(turn, deskew);
        assert!(
            s.ocr.lines.len() >= 6,
            "ocr found {} lines",
            s.ocr.lines.len()
        );
        let (_, path) = package(&s, turn, deskew);
        let (got, want) = text_lines(&path, &s.ocr);
        assert_eq!(got, want, "turn {turn}, deskew {deskew}");
    }
}

#[test]
fn jpeg_is_embedded_byte_for_byte_and_tools_accept_the_file() {
    if !tools_present() {
        return;
    }
    let s = scan(90, 0.0);
    let (pdf, path) = package(&s, 90, 0.0);
    let p = path.to_str().unwrap();
    let check = run("qpdf", &["--check", p]);
    assert!(
        check.contains("No syntax or stream encoding errors"),
        "{check}"
    );
    let prefix = s.dir.path().join("img");
    run("pdfimages", &["-j", p, prefix.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(s.dir.path().join("img-000.jpg")).unwrap(),
        s.jpeg
    );
    let fonts = run("pdffonts", &[p]);
    assert!(
        fonts.contains("GlyphLessFont") && fonts.contains("CID TrueType"),
        "{fonts}"
    );
    let info = run("pdfinfo", &[p]);
    // The stored scan is portrait (1400 x 2480 px); upright it is 2480 x 1400
    // px at 300 dpi, i.e. 595.2 x 336 pt.
    assert!(info.contains("595.2 x 336 pts"), "{info}");
    assert!(info.contains("Đơn đăng ký"), "{info}");
    assert!(
        pdf.len() < s.jpeg.len() + 12_000,
        "{} vs {}",
        pdf.len(),
        s.jpeg.len()
    );
    println!("jpeg {} B -> pdf {} B", s.jpeg.len(), pdf.len());
}
