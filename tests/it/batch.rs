//! `sohoa batch` over the good fixtures: every component archived with the
//! right page count, readable text, clean PDFs, records, idempotence.

use crate::harness::*;
use std::process::Command;

#[test]
fn good_inbox_exits_zero_and_archives_every_component_with_its_page_count() {
    let run = good_run();
    assert_eq!(
        run.output.status.code(),
        Some(0),
        "stderr: {}",
        stderr(&run.output)
    );
    let comps = fixtures().components("good");
    for c in &comps {
        let pdf = run.archived(c);
        assert!(pdf.is_file(), "missing {}", pdf.display());
        assert_eq!(
            pdf_pages(&pdf),
            c["pages"].as_u64().unwrap() as u32,
            "{}",
            pdf.display()
        );
    }
    let summary = run.summary();
    assert_eq!(summary["documents"], comps.len() as u64);
    assert_eq!(summary["failures"].as_array().unwrap().len(), 0);
}

#[test]
fn text_layer_reads_back_the_ground_truth_including_turned_and_skewed_pages() {
    let run = good_run();
    let (mut dist, mut len) = (0, 0);
    let mut report = String::new();
    for c in fixtures().components("good") {
        let truth = fixtures().truth(c);
        let text = pdftotext(&run.archived(c));
        let (d, n) = cer(&truth, &text);
        report.push_str(&format!("{}: {d}/{n}\n", c["path"]));
        // Clean, skewed and turned pages read within 2 %; photocopies and
        // noisy scans (where Tesseract itself drops to 2–5 %) within 6 %.
        let kinds = c["page_info"].to_string();
        let bound = if kinds.contains("photocopy") || kinds.contains("noise") {
            6
        } else {
            2
        };
        assert!(
            d * 100 <= bound * n.max(1),
            "{}: CER {d}/{n}\n--- got:\n{text}",
            c["path"]
        );
        dist += d;
        len += n;
    }
    eprintln!("CER per component:\n{report}overall {dist}/{len}");
    assert!(dist * 100 < 2 * len, "overall CER {dist}/{len}\n{report}");
    let text = pdftotext(&run.archived(fixtures().components("good")[0]));
    assert!(
        text.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        "{text}"
    );
    use unicode_normalization::UnicodeNormalization;
    assert_eq!(text, text.nfc().collect::<String>(), "text layer is NFC");
}

#[test]
fn pdfs_pass_qpdf_check_and_the_pdfa_2b_rules() {
    let run = good_run();
    for c in fixtures().components("good") {
        let pdf = run.archived(c);
        let out = Command::new("qpdf")
            .arg("--check")
            .arg(&pdf)
            .output()
            .expect("qpdf");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            pdf.display(),
            String::from_utf8_lossy(&out.stdout)
        );
        crate::pdfa::assert_pdfa(&pdf);
    }
    // And every other PDF of the archive (there is none: one per component).
    assert_eq!(
        crate::pdfa::assert_archive_is_pdfa(run.data.path()),
        fixtures().components("good").len()
    );
}

#[test]
fn jpeg_scans_are_embedded_byte_for_byte() {
    let run = good_run();
    let c = fixtures()
        .components("good")
        .into_iter()
        .find(|c| c["path"] == "01-thang.jpg")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("pdfimages")
        .arg("-j")
        .arg(run.archived(c))
        .arg(dir.path().join("img"))
        .status()
        .unwrap();
    assert!(status.success());
    let original = std::fs::read(
        fixtures()
            .root
            .join("good")
            .join(c["dossier"].as_str().unwrap())
            .join("01-thang.jpg"),
    )
    .unwrap();
    let extracted = std::fs::read(dir.path().join("img-000.jpg")).unwrap();
    assert!(original == extracted, "JPEG was re-encoded");
}

#[test]
fn records_hold_documents_pages_hashes_and_rule_flags() {
    let run = good_run();
    let comps = fixtures().components("good");
    assert_eq!(
        run.count("SELECT COUNT(*) FROM documents WHERE current = 1") as usize,
        comps.len()
    );
    assert_eq!(run.count("SELECT COUNT(*) FROM dossiers"), 3);
    assert_eq!(
        run.count("SELECT COUNT(*) FROM documents WHERE kind = 'ket_qua'"),
        1
    );
    let pages: u64 = comps.iter().map(|c| c["pages"].as_u64().unwrap()).sum();
    assert_eq!(run.count("SELECT COUNT(*) FROM pages") as u64, pages);
    // Hashes of inputs and outputs, OCR provenance.
    assert_eq!(run.count("SELECT COUNT(*) FROM documents WHERE length(sha256) = 64 AND length(input_sha256) = 64 AND ocr_engine = 'tesseract' AND ocr_languages = 'vie+eng' AND ocr_version LIKE '5.%'") as usize, comps.len());
    let db = run.db();
    let flag = |name: &str, col: &str| -> Vec<bool> {
        let mut st = db
            .prepare(&format!("SELECT p.{col} FROM pages p JOIN documents d ON d.id = p.document_id WHERE d.name = ?1 ORDER BY p.page_no"))
            .unwrap();
        st.query_map([name], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        flag("03-do-phan-giai-thap", "low_dpi"),
        [true],
        "150 dpi PNG flagged"
    );
    assert_eq!(flag("01-thang", "low_dpi"), [false]);
    assert_eq!(flag("04-anh-xam", "not_color"), [true], "greyscale flagged");
    assert_eq!(flag("02-g4", "not_color"), [true, true], "bilevel flagged");
    assert_eq!(flag("01-thang", "not_color"), [false]);
    assert_eq!(
        flag("02-nhieu-trang", "blank"),
        [false, true, false],
        "blank page kept and flagged"
    );
    let turns: Vec<i64> = db
        .prepare("SELECT p.turn FROM pages p JOIN documents d ON d.id = p.document_id WHERE d.name LIKE '0_-xoay-%' ORDER BY d.name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(turns, [90, 180, 270], "pages turned upright");
}

#[test]
fn second_run_does_no_work_and_adds_nothing() {
    let run = good_run();
    let before = run.count("SELECT COUNT(*) FROM documents")
        + 1000 * run.count("SELECT COUNT(*) FROM pages");
    let archive_before = tree_hashes(&run.data.path().join("archive"));
    let inbox = fixtures().root.join("good");
    let again = sohoa(&[
        "batch",
        inbox.to_str().unwrap(),
        "--data-dir",
        run.data.path().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let s: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(s["documents"], 0);
    assert_eq!(s["pages"], 0);
    assert_eq!(s["skipped"], fixtures().components("good").len() as u64);
    let after = run.count("SELECT COUNT(*) FROM documents")
        + 1000 * run.count("SELECT COUNT(*) FROM pages");
    assert_eq!(before, after);
    assert_eq!(
        archive_before,
        tree_hashes(&run.data.path().join("archive"))
    );
}

/// On a fresh copy of the good inbox, recorded before any run: the files
/// (bytes, sizes, modes, times) are the same after the run that archives them
/// and after the second one that skips them.
#[test]
fn batch_never_modifies_its_inputs() {
    let inbox = copy_tree(&fixtures().root.join("good"));
    let before = tree_state(inbox.path());
    assert!(before.len() > 10, "{before:?}");
    let run = Run::new(inbox.path(), &["--jobs", "2"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", stderr(&run.output));
    assert_eq!(
        run.summary()["documents"],
        fixtures().components("good").len()
    );
    assert_eq!(before, tree_state(inbox.path()), "after the first run");
    let again = sohoa(&[
        "batch",
        inbox.path().to_str().unwrap(),
        "--data-dir",
        run.data.path().to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(before, tree_state(inbox.path()), "after the second run");
}

#[test]
fn changed_input_becomes_a_new_version_and_the_old_one_is_kept() {
    let good = fixtures().root.join("good/000.00.18.H44-230402-0001");
    let inbox = inbox_with(
        "000.00.18.H44-230402-0001",
        &[(&good.join("01-thang.jpg"), "01-don.jpg")],
    );
    let dossier = inbox.path().join("000.00.18.H44-230402-0001");
    let data = tempfile::tempdir().unwrap();
    let args = [
        "batch",
        inbox.path().to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ];
    assert_eq!(sohoa(&args).status.code(), Some(0));
    std::fs::copy(
        good.join("ket-qua/quyet-dinh-15.jpg"),
        dossier.join("01-don.jpg"),
    )
    .unwrap();
    let second = sohoa(&args);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let show = sohoa(&[
        "dossier",
        "show",
        "000.00.18.H44-230402-0001",
        "--data-dir",
        data.path().to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let docs = v["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(
        (docs[0]["version"].as_u64(), docs[0]["current"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(
        (docs[1]["version"].as_u64(), docs[1]["current"].as_bool()),
        (Some(2), Some(true))
    );
    for d in docs {
        assert!(data
            .path()
            .join(d["archive_path"].as_str().unwrap())
            .is_file());
    }
    assert_ne!(docs[0]["input_sha256"], docs[1]["input_sha256"]);
    assert_eq!(crate::pdfa::assert_archive_is_pdfa(data.path()), 2);
}

#[test]
fn bilevel_scans_stay_ccitt_g4_and_single_strip_g4_passes_through_untouched() {
    // Scanners write G4 TIFFs in one strip; tiffcp makes one from the fixture.
    let src = fixtures()
        .root
        .join("good/000.00.18.H44-230403-0002/02-g4.tif");
    let inbox = tempfile::tempdir().unwrap();
    let dossier = inbox.path().join("000.00.18.H44-230403-0002");
    std::fs::create_dir_all(&dossier).unwrap();
    let one_strip = dossier.join("01-g4-mot-dai.tif");
    let status = Command::new("tiffcp")
        .args(["-c", "g4", "-r", "100000"])
        .arg(&src)
        .arg(&one_strip)
        .status()
        .unwrap();
    assert!(status.success());
    let run = Run::new(inbox.path(), &[]);
    assert_eq!(run.output.status.code(), Some(0), "{}", stderr(&run.output));
    let pdf = run
        .data
        .path()
        .join("archive/000.00.18.H44/2023/000.00.18.H44-230403-0002/01-g4-mot-dai.pdf");
    let list = Command::new("pdfimages")
        .arg("-list")
        .arg(&pdf)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert_eq!(
        list.lines().filter(|l| l.contains("ccitt")).count(),
        2,
        "{list}"
    );
    // The strip bytes of page 1 are in the PDF unchanged.
    let tiff = std::fs::read(&one_strip).unwrap();
    let out = std::fs::read(&pdf).unwrap();
    let strip = first_strip(&tiff);
    assert!(
        out.windows(strip.len()).any(|w| w == strip),
        "G4 strip was re-encoded"
    );
    // And the multi-strip fixture is re-encoded as G4, not stored as pixels.
    let list = Command::new("pdfimages")
        .arg("-list")
        .arg(
            good_run().archived(
                fixtures()
                    .components("good")
                    .into_iter()
                    .find(|c| c["path"] == "02-g4.tif")
                    .unwrap(),
            ),
        )
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout)
            .lines()
            .filter(|l| l.contains("ccitt"))
            .count(),
        2
    );
}

/// The bytes of the first strip of a little-endian single-strip TIFF page.
fn first_strip(tiff: &[u8]) -> &[u8] {
    let u16_at = |i: usize| u16::from_le_bytes([tiff[i], tiff[i + 1]]) as usize;
    let u32_at =
        |i: usize| u32::from_le_bytes([tiff[i], tiff[i + 1], tiff[i + 2], tiff[i + 3]]) as usize;
    assert_eq!(&tiff[..2], b"II");
    let ifd = u32_at(4);
    let (mut offset, mut count) = (0, 0);
    for e in 0..u16_at(ifd) {
        let at = ifd + 2 + e * 12;
        let value = if u16_at(at + 2) == 3 {
            u16_at(at + 8)
        } else {
            u32_at(at + 8)
        };
        match u16_at(at) {
            273 => offset = value,
            279 => count = value,
            _ => {}
        }
    }
    &tiff[offset..offset + count]
}

#[test]
fn an_orphan_pdf_left_by_a_crash_before_commit_is_kept_and_the_new_copy_goes_beside_it() {
    let good = fixtures()
        .root
        .join("good/000.00.18.H44-230402-0001/01-thang.jpg");
    let inbox = inbox_with("000.00.18.H44-230402-0001", &[(&good, "01-don.jpg")]);
    let data = tempfile::tempdir().unwrap();
    // What a crash after the rename and before the commit leaves behind.
    let folder = data
        .path()
        .join("archive/000.00.18.H44/2023/000.00.18.H44-230402-0001");
    let orphan = folder.join("01-don.pdf");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(&orphan, b"%PDF-1.7 half-written").unwrap();
    let o = sohoa(&[
        "batch",
        inbox.path().to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // No archive file is ever replaced: the orphan stays as it was, the new
    // copy takes the next free name, and the record names where it went.
    assert_eq!(std::fs::read(&orphan).unwrap(), b"%PDF-1.7 half-written");
    let placed = folder.join("01-don-2.pdf");
    assert_eq!(pdf_pages(&placed), 1);
    let recorded: String = rusqlite::Connection::open(data.path().join("sohoa.db"))
        .unwrap()
        .query_row("SELECT archive_path FROM documents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(data.path().join(recorded), placed);
    crate::pdfa::assert_pdfa(&placed);
}

/// The text summary says how many pages the rules flag, and a document of
/// blank pages only is archived but not counted as digitized: named in the
/// summary, in `dossier show` and left out of the report's numerator.
#[test]
fn flagged_pages_and_blank_only_documents_are_said_and_not_counted() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let a = samples.join("000.00.18.H44-230320-0011");
    let inbox = inbox_with(
        "000.00.18.H44-230320-0011",
        &[
            (&a.join("01-don.jpg"), "01-don.jpg"),
            (&a.join("02-trang-trang.jpg"), "02-trang-trang.jpg"),
        ],
    );
    let only_blank = inbox.path().join("000.00.18.H44-230320-0012");
    std::fs::create_dir_all(&only_blank).unwrap();
    std::fs::copy(a.join("02-trang-trang.jpg"), only_blank.join("01-don.jpg")).unwrap();
    let data = tempfile::tempdir().unwrap();
    import_units(data.path());
    let d = data.path().to_str().unwrap();
    let o = sohoa(&["batch", inbox.path().to_str().unwrap(), "--data-dir", d]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Trang cần kiểm tra (vẫn được lưu): 2 trang trắng"),
        "{out}"
    );
    assert!(
        out.contains(
            "2 tài liệu chỉ có trang trắng nên chưa được tính là đã số hóa: \
             000.00.18.H44-230320-0011/02-trang-trang, 000.00.18.H44-230320-0012/01-don."
        ),
        "{out}"
    );
    // The report counts the dossier whose only document is blank as not digitized.
    assert!(
        out.contains("số hóa 1/2 hồ sơ, đạt 50,00%"),
        "the blank-only dossier counted as digitized:\n{out}"
    );
    let show = stdout(&sohoa(&[
        "dossier",
        "show",
        "000.00.18.H44-230320-0012",
        "--data-dir",
        d,
    ]));
    assert!(
        show.contains("(chỉ có trang trắng: chưa tính là đã số hóa)"),
        "{show}"
    );
    assert!(show.contains("Kết luận: chưa đạt"), "{show}");
    assert_eq!(crate::pdfa::assert_archive_is_pdfa(data.path()), 3);

    // The same through --json.
    let o = sohoa(&[
        "batch",
        inbox.path().to_str().unwrap(),
        "--data-dir",
        tempfile::tempdir().unwrap().path().to_str().unwrap(),
        "--json",
    ]);
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["flagged"]["blank"], 2, "{s:#}");
    assert_eq!(s["flagged"]["blank_documents"].as_array().unwrap().len(), 2);
}
