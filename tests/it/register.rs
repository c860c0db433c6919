//! `sohoa register import` on a generated register shaped like the real
//! export of issue 18 (6.807 rows, half of them paid online with no fee):
//! contradictory rows are imported with the contradiction noted and counted by
//! the indicators' rules, unusable rows refused, and what went wrong said as a
//! summary by reason with the full list in a CSV file beside the data.

use crate::harness::{import_units, sohoa, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const HEAD: &str = "Mã hồ sơ;Mã TTHC;Tên TTHC;Lĩnh vực;Mã đơn vị;Ngày tiếp nhận;Hình thức nộp;DVC toàn trình;Có phí;Thanh toán trực tuyến;Ngày hẹn trả;Ngày trả kết quả;Có kết quả giấy";
const UNITS: [&str; 3] = ["000.00.18.H44", "000.20.18.H44", "000.21.18.H44"];

fn run(data: &Path, args: &[&str]) -> Output {
    let d = data.display().to_string();
    let mut all = vec!["--data-dir", d.as_str()];
    all.extend_from_slice(args);
    sohoa(&all)
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", stdout(o)))
}

/// One generated dossier and what the indicators should make of it.
struct Row {
    line: String,
    code: String,
    fee: bool,
    paid_with_fee: bool,
    contradictory: bool,
    resolved: bool,
}

/// Generated row `i`: even rows below 6.692 are paid online with no fee (3.346
/// of them); every 1.000th returned the day before it was received.
fn row(i: usize) -> Row {
    let unit = UNITS[i % UNITS.len()];
    let (month, day) = (1 + (i / 28) % 12, 1 + i % 28);
    let code = format!("{unit}-23{month:02}{day:02}-{i:04}");
    let no_fee_paid = i < 6692 && i.is_multiple_of(2);
    let (fee, paid) = if no_fee_paid {
        ("Không", "Có")
    } else if i.is_multiple_of(3) {
        ("Có", if i.is_multiple_of(9) { "Có" } else { "Không" })
    } else {
        ("Không", "")
    };
    let before = i % 1000 == 999;
    let returned = if before {
        format!("{:02}/{month:02}/2022", day)
    } else if i.is_multiple_of(4) {
        format!("{day:02}/{month:02}/2023")
    } else {
        String::new()
    };
    Row {
        line: format!(
            "{code};1.001193;Đăng ký khai sinh;Hộ tịch;{unit};{day:02}/{month:02}/2023;Trực tuyến;Có;{fee};{paid};;{returned};Không"
        ),
        code,
        fee: fee == "Có",
        paid_with_fee: fee == "Có" && paid == "Có",
        contradictory: no_fee_paid || before,
        resolved: !returned.is_empty(),
    }
}

/// The register file: 6.798 generated rows, then nine that cannot be used.
fn register(dir: &Path) -> (PathBuf, Vec<Row>) {
    let rows: Vec<Row> = (0..6798).map(row).collect();
    let mut body = format!("{HEAD}\n");
    for r in &rows {
        body += &r.line;
        body.push('\n');
    }
    let first = &rows[0].code;
    for k in 0..5 {
        body +=
            &format!("000.20.18.H44-230231-9{k:03};;;;000.20.18.H44;31/02/2023;Trực tiếp;;;;;;\n");
    }
    body += ";;;;000.20.18.H44;01/03/2023;Trực tiếp;;;;;;\n";
    body += ";;;;000.20.18.H44;02/03/2023;Trực tiếp;;;;;;\n";
    body += "000.20.18.H44-230301-9100;;;;000.20.18.H44;01/03/2023;Qua Zalo;;;;;;\n";
    body += &format!("{first};;;;000.00.18.H44;01/01/2023;Trực tiếp;;;;;;\n");
    let path = dir.join("so-tiep-nhan.csv");
    std::fs::write(&path, body).unwrap();
    (path, rows)
}

/// The file `register import` names on its "full list" line.
fn problems_file(out: &str) -> PathBuf {
    let line = out
        .lines()
        .find(|l| l.starts_with("Danh sách đầy đủ") || l.starts_with("The full list"))
        .unwrap_or_else(|| panic!("no problems file named: {out}"));
    PathBuf::from(line.rsplit_once(": ").unwrap().1)
}

#[test]
fn contradictory_rows_are_imported_noted_and_summarised_with_the_full_list_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var");
    import_units(&data);
    let (csv, rows) = register(dir.path());
    let o = run(&data, &["register", "import", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "refused rows → exit 4");
    let out = stdout(&o);
    let contradictory = rows.iter().filter(|r| r.contradictory).count();
    assert_eq!(contradictory, 3346 + 6);
    assert!(
        out.starts_with("Đã nhập sổ tiếp nhận ") && out.contains(": 6.798 dòng hợp lệ (6.798 hồ sơ mới, 0 cập nhật, 0 không đổi); 9 dòng lỗi bị bỏ qua.\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "\n3.352 dòng có cờ mâu thuẫn, vẫn được nhập (hồ sơ vẫn được tính là đã tiếp nhận):\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("\n  thanh toán trực tuyến = có nhưng có phí = không (3.346 dòng, ví dụ dòng 2, 4, 6): hồ sơ vẫn được tính vào số hồ sơ tiếp nhận; chỉ tiêu thanh toán trực tuyến chỉ tính hồ sơ có phí nên không tính hồ sơ này ở cả tử số lẫn mẫu số.\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "\n  ngày trả kết quả trước ngày tiếp nhận (6 dòng, ví dụ dòng 1.001, 2.001, 3.001): "
        ),
        "{out}"
    );
    assert!(out.contains("\n9 dòng bị từ chối, không nhập:\n  ngày không hợp lệ (5 dòng):\n    Dòng 6.800 (000.20.18.H44-230231-9000): ngày tiếp nhận \"31/02/2023\" không phải ngày hợp lệ"), "{out}");
    assert!(out.contains("\n    … và 2 dòng khác\n"), "{out}");
    assert!(out.contains("\n  thiếu mã hồ sơ (2 dòng):\n    Dòng 6.805: thiếu mã hồ sơ\n    Dòng 6.806: thiếu mã hồ sơ\n"), "{out}");
    assert!(
        out.contains("Dòng 6.807 (000.20.18.H44-230301-9100): hình thức nộp \"Qua Zalo\" không rõ"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Dòng 6.808 ({}): mã hồ sơ trùng với dòng 2",
            rows[0].code
        )),
        "{out}"
    );
    // A summary, not a line per row (the export printed 3.346).
    assert!(
        out.lines().count() <= 25,
        "{} lines:\n{out}",
        out.lines().count()
    );
    assert!(!out.contains("Dòng 8 "), "{out}");

    // The full list: every row and reason, beside the data, in file order.
    let list = problems_file(&out);
    assert_eq!(list.parent(), Some(data.as_path()), "{}", list.display());
    let name = list.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("register-import-") && name.ends_with(".csv"),
        "{name}"
    );
    let text = std::fs::read_to_string(&list).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("BOM, for Excel");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Dòng;Mã hồ sơ;Kết quả;Lý do;Chi tiết");
    assert_eq!(lines.len(), 1 + contradictory + 9);
    assert!(
        lines[1].starts_with(&format!(
            "2;{};đã nhập, có mâu thuẫn;thanh toán trực tuyến = có nhưng có phí = không;",
            rows[0].code
        )),
        "{}",
        lines[1]
    );
    assert!(lines.last().unwrap().starts_with(&format!(
        "6808;{};bị từ chối;mã hồ sơ trùng với một dòng trước;",
        rows[0].code
    )));

    // Counted by the indicators' rules: every imported dossier is received; a row
    // paid online with no fee is in neither side of the online payment indicator.
    let j = json_of(&run(&data, &["report", "--year", "2023", "--json"]));
    let c = &j["total"]["counts"];
    let n = |f: fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count() as u64;
    assert_eq!(c["received"], 6798, "{c}");
    assert_eq!(c["in_register"], 6798, "{c}");
    assert_eq!(c["with_fee"], n(|r| r.fee), "{c}");
    assert_eq!(c["paid_online"], n(|r| r.paid_with_fee), "{c}");
    assert_eq!(c["resolved"], n(|r| r.resolved), "{c}");
    assert_eq!(c["eligible_online"], 6798, "{c}");

    // The note is on the dossier.
    let show = json_of(&run(&data, &["dossier", "show", &rows[0].code, "--json"]));
    assert_eq!(
        show["register"]["contradictions"],
        serde_json::json!(["paid_online_without_fee"]),
        "{show}"
    );
    let plain = json_of(&run(&data, &["dossier", "show", &rows[1].code, "--json"]));
    assert!(plain["register"].get("contradictions").is_none(), "{plain}");

    // Again with --json: counts by reason and the file; nothing changes; a second list.
    let o = run(
        &data,
        &["register", "import", "--json", csv.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(4));
    let j = json_of(&o);
    assert_eq!(j["rows"], 6807);
    assert_eq!(j["imported_rows"], 6798);
    assert_eq!(j["imported"]["unchanged"], 6798, "{j}");
    assert_eq!(j["contradictory_rows"], 3352);
    assert_eq!(
        j["contradictions"],
        serde_json::json!({"paid_online_without_fee": 3346, "returned_before_receipt": 6})
    );
    assert_eq!(
        j["refused"],
        serde_json::json!({"missing_code": 2, "bad_date": 5, "unknown_channel": 1, "repeated_code": 1})
    );
    let second = PathBuf::from(j["problems_file"].as_str().unwrap());
    assert_ne!(second, list, "an earlier list is never overwritten");
    assert_eq!(
        std::fs::read_to_string(&second).unwrap().lines().count(),
        lines.len()
    );
    assert!(list.exists());
}

#[test]
fn contradictions_alone_exit_0_and_a_corrected_row_loses_its_note() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var");
    let csv = dir.path().join("so.csv");
    let line = |fee: &str| {
        format!("{HEAD}\n000.20.18.H44-230105-0001;;;;000.20.18.H44;05/01/2023;Trực tuyến;Có;{fee};Có;;;Không\n000.20.18.H44-230105-0002;;;;000.20.18.H44;05/01/2023;Trực tiếp;;;;;;\n")
    };
    std::fs::write(&csv, line("Không")).unwrap();
    let o = run(
        &data,
        &[
            "--ui-language",
            "en",
            "register",
            "import",
            csv.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "contradictions are warnings: {}",
        stderr(&o)
    );
    let out = stdout(&o);
    assert!(
        out.contains(
            ": 2 good rows (2 new dossiers, 0 updated, 0 unchanged); 0 bad rows skipped.\n"
        ),
        "{out}"
    );
    assert!(out.contains("\n1 row with contradictory flags, imported anyway (the dossiers still count as received):\n  paid online = yes but has a fee = no (1 row, e.g. line 2): the dossier still counts as received; the online payment indicator counts only dossiers with a fee, so this one is in neither its numerator nor its denominator.\n"), "{out}");
    assert!(!out.contains("refused"), "{out}");
    assert!(
        out.contains("Ask the one-stop office to correct the contradictory rows"),
        "{out}"
    );
    assert!(problems_file(&out).exists());
    let j = json_of(&run(&data, &["report", "--year", "2023", "--json"]));
    assert_eq!(j["total"]["counts"]["received"], 2);
    assert_eq!(j["total"]["counts"]["with_fee"], 0);
    assert_eq!(j["total"]["counts"]["paid_online"], 0);

    // The one-stop office corrects the row: it is updated, the note goes, it counts.
    std::fs::write(&csv, line("Có")).unwrap();
    let o = run(
        &data,
        &["register", "import", "--json", csv.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0));
    let j = json_of(&o);
    assert_eq!(j["imported"]["updated"], 1, "{j}");
    assert_eq!(j["contradictory_rows"], 0);
    assert_eq!(
        j["problems_file"],
        Value::Null,
        "no list when nothing is wrong"
    );
    let show = json_of(&run(
        &data,
        &["dossier", "show", "000.20.18.H44-230105-0001", "--json"],
    ));
    assert!(show["register"].get("contradictions").is_none(), "{show}");
    let j = json_of(&run(&data, &["report", "--year", "2023", "--json"]));
    assert_eq!(j["total"]["counts"]["paid_online"], 1);
    let lists = std::fs::read_dir(&data)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("register-import-")
        })
        .count();
    assert_eq!(lists, 1, "a clean import writes no list");
}
