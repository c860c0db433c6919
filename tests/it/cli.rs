//! Command-line contract: exit codes, `dossier show`, `report`, `config`.

use crate::harness::*;

#[test]
fn missing_inbox_is_a_usage_error_in_vietnamese() {
    let data = tempfile::tempdir().unwrap();
    let o = sohoa(&[
        "batch",
        "/nonexistent/inbox",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("Không tìm thấy thư mục tiếp nhận"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_ocr_language_exits_3_and_says_how_to_install_it() {
    let data = tempfile::tempdir().unwrap();
    let inbox = fixtures().root.join("good");
    let o = sohoa(&[
        "batch",
        inbox.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
        "--languages",
        "xyz",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("apt-get install"), "{}", stderr(&o));
}

#[test]
fn dossier_show_lists_documents_flags_and_unknown_dossier_exits_6() {
    let run = good_run();
    let data = run.data.path().to_str().unwrap();
    let o = sohoa(&[
        "dossier",
        "show",
        "000.20.18.H44-230405-0013",
        "--data-dir",
        data,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("Hồ sơ 000.20.18.H44-230405-0013"), "{text}");
    assert!(text.contains("Ngày tiếp nhận: 05/04/2023"), "{text}");
    assert!(text.contains("trang trắng"), "{text}");
    assert!(text.contains("dưới 200 dpi"), "{text}");
    assert!(text.contains("không phải ảnh màu"), "{text}");
    let o = sohoa(&[
        "dossier",
        "show",
        "000.20.18.H44-230405-9999",
        "--data-dir",
        data,
    ]);
    assert_eq!(o.status.code(), Some(6));
}

#[test]
fn report_counts_digitized_dossiers_per_unit_in_vietnamese_format() {
    let run = good_run();
    let data = run.data.path().to_str().unwrap();
    // No register imported: every dossier counts by the date in its code, levels from the
    // shipped unit tree (config/units.toml).
    let o = sohoa(&["report", "--data-dir", data]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.contains("\nCấp huyện: số hóa 2/2 hồ sơ, đạt 100,00%;"),
        "{text}"
    );
    assert!(
        text.contains("\nCấp xã: số hóa 1/1 hồ sơ, đạt 100,00%;"),
        "{text}"
    );
    assert!(
        text.contains("\nTổng cộng: số hóa 3/3 hồ sơ, đạt 100,00%;"),
        "{text}"
    );
    let o = sohoa(&["report", "--data-dir", data, "--by", "unit"]);
    let text = stdout(&o);
    assert!(
        text.contains("\n  UBND huyện Tuyên Hóa (000.00.18.H44): số hóa 3/3 hồ sơ"),
        "the district line includes its communes: {text}"
    );
    assert!(
        text.contains("\n    UBND thị trấn Đồng Lê (000.20.18.H44): số hóa 1/1 hồ sơ"),
        "{text}"
    );
    let o = sohoa(&["report", "--data-dir", data, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"]["indicators"][0]["numerator"], 3);
    assert_eq!(v["total"]["indicators"][0]["percent"], "100,00%");
}

#[test]
fn config_prints_effective_settings_with_flags_applied() {
    let o = sohoa(&["config", "--data-dir", "/srv/sohoa"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("data_dir = \"/srv/sohoa\""), "{text}");
    assert!(text.contains("languages = \"vie+eng\""), "{text}");
    let o = sohoa(&[
        "config",
        "--database-url",
        "postgres://sohoa:bi-mat@db/sohoa",
    ]);
    let text = stdout(&o);
    assert!(
        text.contains("database_url = \"postgres://sohoa:***@db/sohoa\""),
        "{text}"
    );
    assert!(!text.contains("bi-mat"), "{text}");
}
