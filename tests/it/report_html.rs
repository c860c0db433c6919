//! The HTML report as a reader sees it: register imported, one dossier
//! scanned, `report --format html` written, then opened in headless Chromium
//! (screenshot, DOM, print to PDF) to check it renders, says the right
//! figures, and fetches nothing.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const HEADER: &str = "Mã hồ sơ,Mã TTHC,Tên TTHC,Lĩnh vực,Mã đơn vị,Ngày tiếp nhận,Hình thức nộp,DVC toàn trình,Có phí,Thanh toán trực tuyến,Ngày hẹn trả,Ngày trả kết quả,Có kết quả giấy";

/// Twelve dossiers of Tuyên Hóa district and two of its communes, January–May 2023.
/// DVC toàn trình: 9 (district 4, Đồng Lê 3, Cao Quảng 2), of which online 6 (3, 2, 1);
/// with a fee: 7, paid online 5.
const ROWS: [&str; 12] = [
    "000.00.18.H44-230112-0001,1.001612,Đăng ký khai sinh,Hộ tịch,000.00.18.H44,12/01/2023,Trực tuyến,Có,Có,Có,17/01/2023,16/01/2023,Không",
    "000.00.18.H44-230125-0002,1.001612,Đăng ký khai sinh,Hộ tịch,000.00.18.H44,25/01/2023,Trực tiếp,Có,Có,Không,30/01/2023,,Không",
    "000.00.18.H44-230208-0003,2.000908,Chứng thực bản sao,Chứng thực,000.00.18.H44,08/02/2023,Trực tuyến,Có,Có,Có,09/02/2023,09/02/2023,Không",
    "000.00.18.H44-230314-0027,1.004227,Cấp giấy phép xây dựng,Xây dựng,000.00.18.H44,14/03/2023,Trực tuyến,Có,Có,Có,28/03/2023,27/03/2023,Không",
    "000.20.18.H44-230120-0001,2.000908,Chứng thực bản sao,Chứng thực,000.20.18.H44,20/01/2023,Trực tiếp,Không,Không,Không,20/01/2023,20/01/2023,Không",
    "000.20.18.H44-230215-0002,1.001612,Đăng ký khai sinh,Hộ tịch,000.20.18.H44,15/02/2023,Trực tuyến,Có,Có,Có,20/02/2023,,Không",
    "000.20.18.H44-230321-0003,1.001193,Đăng ký kết hôn,Hộ tịch,000.20.18.H44,21/03/2023,Trực tiếp,Có,Không,Không,24/03/2023,23/03/2023,Có",
    "000.20.18.H44-230405-0004,1.001612,Đăng ký khai sinh,Hộ tịch,000.20.18.H44,05/04/2023,Trực tuyến,Có,Không,Không,10/04/2023,,Không",
    "000.21.18.H44-230203-0001,2.000908,Chứng thực bản sao,Chứng thực,000.21.18.H44,03/02/2023,Trực tiếp,Không,Có,Không,03/02/2023,03/02/2023,Không",
    "000.21.18.H44-230310-0002,1.001193,Đăng ký kết hôn,Hộ tịch,000.21.18.H44,10/03/2023,Trực tiếp,Có,Không,Không,13/03/2023,,Không",
    "000.21.18.H44-230418-0003,1.001612,Đăng ký khai sinh,Hộ tịch,000.21.18.H44,18/04/2023,Trực tuyến,Có,Có,Có,21/04/2023,20/04/2023,Không",
    "000.21.18.H44-230502-0004,2.000908,Chứng thực bản sao,Chứng thực,000.21.18.H44,02/05/2023,Trực tiếp,Không,Không,Không,02/05/2023,02/05/2023,Không",
];

/// The dossier that gets a scan, so the digitization bars are not all empty.
const SCANNED: &str = "000.00.18.H44-230314-0027";

/// `sohoa ARGS`, which must succeed.
fn sohoa_ok(args: &[&str]) -> Output {
    let o = sohoa(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "sohoa {args:?}\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// A 150 dpi A4 page with dark text-like strokes: enough for a stored, OCRed component.
fn write_scan(path: &Path) {
    let mut img = image::GrayImage::from_pixel(1240, 1754, image::Luma([250]));
    for line in 0..30u32 {
        let y0 = 160 + line * 48;
        let mut x = 140;
        for word in 0..12u32 {
            let w = 30 + (line * 7 + word * 13) % 50;
            if x + w > 1100 {
                break;
            }
            for y in y0..y0 + 18 {
                for dx in 0..w {
                    img.put_pixel(x + dx, y, image::Luma([20]));
                }
            }
            x += w + 14 + word % 3 * 4;
        }
    }
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(150));
    enc.encode_image(&img).expect("encode scan");
    std::fs::write(path, bytes).expect("write scan");
}

/// Chromium with a throwaway profile and HOME, killed after 60 s.
fn chromium(profile: &Path, args: &[&str]) -> Output {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .env("HOME", profile)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run chromium ({e}); make test installs chromium (scripts/install-deps.sh)"
            )
        });
    let start = Instant::now();
    while child.try_wait().expect("wait for chromium").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let o = child.wait_with_output().expect("chromium output");
            panic!(
                "chromium {args:?} still running after 60 s, killed\n{}",
                stderr(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = child.wait_with_output().expect("chromium output");
    assert!(
        o.status.success(),
        "chromium {args:?} failed\n{}",
        stderr(&o)
    );
    o
}

/// (width, height) in points of each page, from `pdfinfo -l`.
fn page_sizes(pdf: &Path) -> Vec<(f64, f64)> {
    let o = Command::new("pdfinfo")
        .args(["-f", "1", "-l", "999"])
        .arg(pdf)
        .output()
        .expect("pdfinfo");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size:"))
        .map(|l| {
            let n: Vec<f64> = l
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            (n[1], n[2])
        })
        .collect()
}

#[test]
fn html_report_renders_in_chromium_with_the_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_s = data.to_str().unwrap();
    import_units(&data);
    let csv = tmp.path().join("so-tiep-nhan.csv");
    std::fs::write(&csv, format!("{HEADER}\n{}\n", ROWS.join("\n"))).unwrap();
    sohoa_ok(&[
        "--data-dir",
        data_s,
        "register",
        "import",
        csv.to_str().unwrap(),
    ]);

    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(inbox.join(SCANNED)).unwrap();
    write_scan(&inbox.join(SCANNED).join("01-don.jpg"));
    sohoa_ok(&["batch", inbox.to_str().unwrap(), "--data-dir", data_s]);
    assert_eq!(crate::pdfa::assert_archive_is_pdfa(&data), 1);

    let html_path = data.join("bao-cao.html");
    sohoa_ok(&[
        "--data-dir",
        data_s,
        "report",
        "--year",
        "2023",
        "--by",
        "unit",
        "--format",
        "html",
        "--output",
        html_path.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&html_path).expect("html written");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page refers to the network"
    );
    assert!(
        !html.contains("src=") && !html.contains("url("),
        "the page loads something"
    );

    // Kept for a look after the run (target/tmp is cargo's scratch space for tests).
    let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report_html");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::copy(&html_path, keep.join("bao-cao.html")).unwrap();
    let url = format!("file://{}", keep.join("bao-cao.html").display());
    let profile = tmp.path().join("chromium");

    let png = keep.join("bao-cao.png");
    let _ = std::fs::remove_file(&png);
    chromium(
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1240,1754",
            &url,
        ],
    );
    let shot = image::open(&png).expect("decode the screenshot").to_rgb8();
    assert_eq!(shot.dimensions(), (1240, 1754));
    let inked = shot
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c < 230))
        .count();
    let share = inked as f64 / (1240.0 * 1754.0);
    assert!(
        share > 0.02,
        "screenshot almost blank: {:.2} % inked ({})",
        share * 100.0,
        png.display()
    );
    let colours: std::collections::HashSet<[u8; 3]> = shot.pixels().map(|p| p.0).collect();
    assert!(
        colours.len() > 50,
        "only {} colours ({})",
        colours.len(),
        png.display()
    );
    // Bars of the charts (#2f6b9a) are drawn, and nothing runs into the right edge.
    let bar = shot
        .pixels()
        .filter(|p| {
            p.0[0].abs_diff(0x2f) < 12 && p.0[1].abs_diff(0x6b) < 12 && p.0[2].abs_diff(0x9a) < 12
        })
        .count();
    assert!(bar > 500, "no chart bars in {}", png.display());
    let edge = (1220..1240)
        .flat_map(|x| (0..1754).map(move |y| (x, y)))
        .filter(|&(x, y)| shot.get_pixel(x, y).0 != [255, 255, 255])
        .count();
    assert_eq!(
        edge,
        0,
        "something reaches the right edge of {}",
        png.display()
    );
    println!("screenshot: {}", png.display());

    let dom = stdout(&chromium(&profile, &["--dump-dom", &url]));
    let text = squash(&dom);
    for want in [
        "Báo cáo số hóa hồ sơ TTHC, năm 2023",
        "UBND huyện Tuyên Hóa",
        "UBND thị trấn Đồng Lê",
        "UBND xã Cao Quảng",
        // online: 6 of the 9 DVC toàn trình dossiers; Cao Quảng 1 of 2; paid online 5 of 7
        "nộp trực tuyến 6/9 hồ sơ, đạt 66,67%",
        "50,00%",
        "71,43%",
        // digitized: the one scanned dossier (the district's) of 12; none of each commune's 4
        "số hóa 1/12 hồ sơ, đạt 8,33%",
        "8,33% (1/12)",
        "0,00% (0/4)",
        "Tháng 3/2023",
        "Cách tính",
        // The heading and signers of an official report.
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND HUYỆN TUYÊN HÓA",
        "NGƯỜI LẬP BÁO CÁO",
        "THỦ TRƯỞNG ĐƠN VỊ",
        // The district's bar counts its communes too, and says so.
        "UBND huyện Tuyên Hóa (gồm cả cấp dưới)",
        // Every month of the year is a column, the empty ones too.
        "12/2023",
    ] {
        assert!(
            text.contains(want),
            "{want:?} not in the rendered DOM of {}",
            keep.display()
        );
    }

    let made = chrono::Local::now()
        .date_naive()
        .format("ngày %d tháng %m năm %Y");
    assert!(text.contains(&made.to_string()), "no {made} in {text}");
    // Tree order, and nothing outside the district: no provincial department
    // (none received a dossier), departments before the communes.
    assert!(!text.contains("Sở Nội vụ"), "{text}");
    let table = &text[text.find("Bảng số liệu").expect("the table")..];
    let at = |s: &str| table.find(s).unwrap_or_else(|| panic!("no {s} in {table}"));
    assert!(at("Phòng Nội vụ huyện Tuyên Hóa (") < at("UBND thị trấn Đồng Lê ("));
    assert!(at("Trường Trung học cơ sở thị trấn Đồng Lê (") < at("UBND xã Cao Quảng ("));

    // Printed: A4 portrait for the charts, A4 landscape for the wide table.
    let pdf = keep.join("bao-cao.pdf");
    chromium(
        &profile,
        &[
            &format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer",
            &url,
        ],
    );
    let sizes = page_sizes(&pdf);
    let a4 = |(w, h): (f64, f64)| (w - 595.0).abs() < 2.0 && (h - 842.0).abs() < 2.0;
    assert!(a4(sizes[0]), "first page {:?} is not A4 portrait", sizes[0]);
    assert!(
        sizes.iter().any(|&(w, h)| a4((h, w))),
        "no landscape page for the table: {sizes:?}"
    );
    let printed = squash(&pdftotext(&pdf));
    assert!(printed.contains("UBND xã Cao Quảng"), "{printed}");
}
