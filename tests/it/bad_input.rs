//! Bad inputs: each one reported clearly (Vietnamese, naming the file, saying
//! what to do), recorded with an error code, never stopping the others.

use crate::harness::*;
use std::sync::OnceLock;

fn bad_run() -> &'static Run {
    static R: OnceLock<Run> = OnceLock::new();
    R.get_or_init(|| Run::new(&fixtures().root.join("bad"), &[]))
}

#[test]
fn bad_inputs_fail_alone_with_exit_code_4() {
    let run = bad_run();
    assert_eq!(
        run.output.status.code(),
        Some(4),
        "stderr: {}",
        stderr(&run.output)
    );
    let s = run.summary();
    let failures = s["failures"].as_array().unwrap();
    let code_of = |file: &str| -> String {
        failures
            .iter()
            .find(|f| f["file"].as_str().unwrap().ends_with(file))
            .unwrap_or_else(|| panic!("no failure reported for {file}: {failures:#?}"))["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(code_of("02-empty.jpg"), "E_EMPTY");
    assert_eq!(code_of("03-truncated.jpg"), "E_CORRUPT");
    assert_eq!(code_of("04-text.jpg"), "E_NOT_IMAGE");
    assert_eq!(code_of("05-garbage.pdf"), "E_CORRUPT");
    assert_eq!(code_of("06-encrypted.pdf"), "E_ENCRYPTED");
    assert_eq!(code_of("07-bomb.png"), "E_TOO_LARGE");
    assert_eq!(code_of("ho so khong ma"), "E_INVALID_CODE");
    assert_eq!(failures.len(), 7, "{failures:#?}");
    // The good documents of the same dossier were still made.
    assert_eq!(s["documents"], 2);
}

#[test]
fn messages_are_vietnamese_name_the_file_and_say_what_to_do() {
    let run = bad_run();
    let s = run.summary();
    for f in s["failures"].as_array().unwrap() {
        let msg = f["message"].as_str().unwrap();
        let file = f["file"].as_str().unwrap();
        assert!(msg.contains(file), "message does not name {file}: {msg}");
        assert!(
            msg.contains("Hãy"),
            "message does not say what to do: {msg}"
        );
    }
    let msg = |code: &str| {
        s["failures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(msg("E_ENCRYPTED").contains("mật khẩu"));
    assert!(msg("E_EMPTY").contains("rỗng"));
    assert!(msg("E_INVALID_CODE").contains("mã hồ sơ"));
}

#[test]
fn failures_are_recorded_with_error_codes() {
    let run = bad_run();
    assert_eq!(run.count("SELECT COUNT(*) FROM failures"), 7);
    assert_eq!(
        run.count(
            "SELECT COUNT(*) FROM failures WHERE message LIKE '%Hãy%' AND error_code LIKE 'E_%'"
        ),
        7
    );
    assert_eq!(
        run.count("SELECT COUNT(DISTINCT error_code) FROM failures"),
        6
    );
}

#[test]
fn the_documents_made_next_to_bad_inputs_are_pdfa() {
    assert_eq!(
        crate::pdfa::assert_archive_is_pdfa(bad_run().data.path()),
        2
    );
}

#[test]
fn nfd_file_name_is_archived_under_its_nfc_name() {
    let run = bad_run();
    let dir = run
        .data
        .path()
        .join("archive/000.00.18.H44/2023/000.00.18.H44-230401-0001");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.contains(&"08-Đơn đăng ký (bản sao).pdf".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"01-good.pdf".to_string()), "{names:?}");
    assert_eq!(names.len(), 2, "no partial or temporary files: {names:?}");
}

/// On a fresh copy of the bad inbox, recorded before any run: the files are
/// the same after each of two runs, and the second records nothing new.
#[test]
fn inputs_are_untouched_and_a_rerun_adds_no_duplicate_failures() {
    let inbox = copy_tree(&fixtures().root.join("bad"));
    let before = tree_state(inbox.path());
    let run = Run::new(inbox.path(), &[]);
    assert_eq!(run.output.status.code(), Some(4), "{}", stderr(&run.output));
    assert_eq!(before, tree_state(inbox.path()), "after the first run");
    assert_eq!(run.count("SELECT COUNT(*) FROM failures"), 7);
    assert_eq!(run.count("SELECT COUNT(*) FROM documents"), 2);
    let again = sohoa(&[
        "batch",
        inbox.path().to_str().unwrap(),
        "--data-dir",
        run.data.path().to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(4), "{}", stderr(&again));
    assert_eq!(before, tree_state(inbox.path()), "after the second run");
    assert_eq!(run.count("SELECT COUNT(*) FROM failures"), 7);
    assert_eq!(run.count("SELECT COUNT(*) FROM documents"), 2);
}

#[test]
fn default_unit_lets_a_non_standard_folder_name_through() {
    let src = fixtures().root.join("bad/ho so khong ma/01-don.jpg");
    let inbox = inbox_with("ho so khong ma", &[(&src, "01-don.jpg")]);
    let run = Run::new(inbox.path(), &["--unit", "000.00.18.H44"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", stderr(&run.output));
    assert_eq!(run.count("SELECT COUNT(*) FROM dossiers WHERE code = 'ho so khong ma' AND unit_code = '000.00.18.H44' AND standard_code = 0"), 1);
    // The operator is told in Vietnamese, in the summary; no developer log
    // line, and no colour codes into a pipe.
    let json: serde_json::Value = serde_json::from_str(&stdout(&run.output)).unwrap();
    assert_eq!(json["local_codes"], serde_json::json!(["ho so khong ma"]));
    let again = sohoa(&[
        "batch",
        inbox.path().to_str().unwrap(),
        "--unit",
        "000.00.18.H44",
        "--data-dir",
        run.data.path().to_str().unwrap(),
    ]);
    let (out, err) = (stdout(&again), stderr(&again));
    assert!(
        out.contains("1 thư mục hồ sơ không đặt tên theo mã hồ sơ quốc gia nên được ghi cho đơn vị chọn bằng --unit: ho so khong ma."),
        "{out}"
    );
    assert!(!err.contains("WARN") && !err.contains('\u{1b}'), "{err}");
}

/// A folder named with a valid-looking code whose unit the imported tree does
/// not have (a typo), or has but not in force on the code's date, is refused
/// with the closest known units, never archived under a unit that does not
/// exist; `--accept-unknown-units` lets it through.
#[test]
fn a_code_of_an_unknown_unit_is_refused_with_the_closest_units() {
    let inbox = tempfile::tempdir().unwrap();
    let slip = &slips()[3];
    for code in [
        "000.99.18.H44-231201-0001", // typo: no such unit
        "000.20.18.H44-250801-0002", // a commune abolished on 01/07/2025
        "000.00.18.H44-231201-0003", // the district, in force
    ] {
        let d = inbox.path().join(code);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(slip, d.join("01-don.jpg")).unwrap();
    }
    let run = Run::new(inbox.path(), &[]);
    assert_eq!(run.output.status.code(), Some(4), "{}", stderr(&run.output));
    let s = run.summary();
    let failures = s["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2, "{failures:#?}");
    for f in failures {
        assert_eq!(f["code"], "E_UNKNOWN_UNIT", "{f:#?}");
    }
    let message_of = |folder: &str| {
        failures
            .iter()
            .find(|f| f["file"] == folder)
            .unwrap_or_else(|| panic!("{folder} is not refused"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let typo = message_of("000.99.18.H44-231201-0001");
    assert!(typo.contains("không có trong danh mục đơn vị"), "{typo}");
    assert!(
        typo.contains("đơn vị gần giống: 000.09.18.H44 – "),
        "{typo}"
    );
    assert!(typo.contains("--accept-unknown-units"), "{typo}");
    let abolished = message_of("000.20.18.H44-250801-0002");
    assert!(
        abolished.contains("000.20.18.H44 – UBND thị trấn Đồng Lê (hiệu lực đến 30/06/2025)"),
        "{abolished}"
    );
    assert_eq!(s["documents"], 1);
    assert_eq!(
        run.count(
            "SELECT COUNT(*) FROM dossiers WHERE code LIKE '000.99.%' OR code LIKE '000.20.%'"
        ),
        0,
        "a refused dossier is not recorded"
    );

    // Allowed on purpose: both are archived.
    let run = Run::new(inbox.path(), &["--accept-unknown-units"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", stderr(&run.output));
    assert_eq!(run.summary()["documents"], 3);
}
