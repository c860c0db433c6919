use super::*;
use crate::records::Cell;
use crate::units::Unit;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn tree() -> UnitTree {
    let u = |code: &str, level, parent: Option<&str>, to: Option<&str>, from: Option<&str>| Unit {
        code: code.into(),
        name: format!("Đơn vị {code}"),
        level,
        parent: parent.map(Into::into),
        valid_from: from.map(d),
        valid_to: to.map(d),
    };
    UnitTree::new(
        vec![
            u("T", Level::Tinh, None, None, None),
            u("H", Level::Huyen, Some("T"), Some("2025-06-30"), None),
            u("P", Level::Huyen, Some("H"), Some("2025-06-30"), None),
            u("X", Level::Xa, Some("H"), Some("2025-06-30"), None),
            u("X", Level::Xa, Some("T"), None, Some("2025-07-01")),
        ],
        UiLanguage::Vi,
    )
    .unwrap()
}

fn cell(unit: &str, segment: usize, received: u64, digitized: u64) -> Cell {
    Cell {
        unit_code: unit.into(),
        segment,
        key: None,
        key_name: None,
        counts: Counts {
            received,
            digitized,
            with_component: digitized,
            in_register: received,
            ..Default::default()
        },
    }
}

fn request(by: By, level: Option<Level>) -> Request {
    Request {
        period: Period::resolve(&PeriodSpec::default(), UiLanguage::Vi).unwrap(),
        level,
        by,
        unit: None,
        lang: UiLanguage::Vi,
    }
}

#[test]
fn levels_follow_the_tree_at_the_receipt_date() {
    let t = tree();
    // Breakpoints: 2025-07-01 only, so segment 0 is before, 1 after.
    assert_eq!(t.breakpoints(), vec![d("2025-07-01")]);
    let cells = vec![
        cell("H", 0, 922, 845),
        cell("P", 0, 10, 0),
        cell("X", 0, 5885, 5219),
        cell("X", 1, 8, 1),
        cell("H", 1, 3, 0),
        cell("Q", 0, 2, 2),
    ];
    let r = build(&request(By::Level, None), &cells, &t, 0);
    let text = r.to_text();
    assert!(
        text.contains("Cấp huyện: số hóa 845/932 hồ sơ, đạt 90,67%;"),
        "{text}"
    );
    assert!(
        text.contains("Cấp xã: số hóa 5.220/5.893 hồ sơ, đạt 88,58%;"),
        "{text}"
    );
    assert!(
        text.contains("Chưa xác định: số hóa 2/5 hồ sơ, đạt 40,00%;"),
        "{text}"
    );
    assert!(
        text.contains("Tổng cộng: số hóa 6.067/6.830 hồ sơ"),
        "{text}"
    );
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0].contains("H: 3 – không còn hiệu lực"),
        "{:?}",
        r.warnings
    );
    assert!(r.warnings[0].contains("Q: 2"), "{:?}", r.warnings);
    let only_xa = build(&request(By::Level, Some(Level::Xa)), &cells, &t, 0);
    assert_eq!(only_xa.lines.len(), 1);
    assert_eq!(only_xa.total.counts.received, 5893);
}

#[test]
fn unit_lines_roll_up_and_show_idle_units() {
    let t = tree();
    let cells = vec![cell("X", 0, 10, 5), cell("P", 0, 4, 4), cell("X", 1, 6, 6)];
    let r = build(&request(By::Unit, None), &cells, &t, 0);
    let got: Vec<(String, usize, u64)> = r
        .lines
        .iter()
        .map(|l| (l.key.clone(), l.depth, l.counts.received))
        .collect();
    assert_eq!(
        got,
        vec![
            ("T".into(), 0, 20),
            ("H".into(), 1, 14),
            ("P".into(), 2, 4),
            ("X".into(), 2, 10),
            ("X".into(), 1, 6),
        ]
    );
    // A unit with no dossier in the period reads N/A.
    let r = build(&request(By::Unit, None), &[cell("X", 1, 1, 1)], &t, 0);
    let p = r.lines.iter().find(|l| l.key == "P").unwrap();
    assert_eq!(p.indicators[0].percent, "N/A");
}

#[test]
fn brief_vectors_in_report_lines() {
    let t = tree();
    for (n, dn, want) in [
        (845, 922, "845/922 hồ sơ, đạt 91,65%"),
        (5219, 5885, "5.219/5.885 hồ sơ, đạt 88,68%"),
        (1, 8, "1/8 hồ sơ, đạt 12,50%"),
        (0, 0, "0/0 hồ sơ, đạt N/A"),
    ] {
        let r = build(&request(By::Level, None), &[cell("H", 0, dn, n)], &t, 0);
        assert_eq!(r.total.indicators[0].text, want);
    }
}

/// Without a register the denominators are the scanned dossiers themselves
/// (100 % whatever was received): the report says so.
#[test]
fn a_report_without_a_register_says_it_counts_only_scans() {
    let mut scanned = cell("H", 0, 9, 9);
    scanned.counts.in_register = 0;
    let r = build(&request(By::Level, None), &[scanned], &tree(), 0);
    assert!(
        r.to_text()
            .contains("Cấp huyện: số hóa 9/9 hồ sơ, đạt 100,00%;"),
        "{}",
        r.to_text()
    );
    assert!(
        r.warnings.iter().any(|w| w.starts_with(
            "Chưa có sổ tiếp nhận cho kỳ này: các số liệu chỉ đếm những hồ sơ đã có bản quét"
        )),
        "{:?}",
        r.warnings
    );
    let with_register = build(&request(By::Level, None), &[cell("H", 0, 9, 9)], &tree(), 0);
    assert!(
        with_register.warnings.is_empty(),
        "{:?}",
        with_register.warnings
    );
}

#[test]
fn warnings_for_missing_tree_and_dates() {
    let r = build(
        &request(By::Level, None),
        &[cell("H", 0, 1, 0)],
        &UnitTree::default(),
        7,
    );
    assert!(
        r.warnings[0].contains("chưa có danh mục đơn vị"),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("7 hồ sơ không có ngày tiếp nhận")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn csv_uses_semicolons_and_decimal_commas_in_vietnamese() {
    let r = build(
        &request(By::Level, None),
        &[cell("H", 0, 922, 845)],
        &tree(),
        0,
    );
    let csv = String::from_utf8(r.to_csv()).unwrap();
    assert!(
        csv.starts_with("\u{feff}Mã;Tên;Cấp;Số hóa hồ sơ – tử số;"),
        "{csv}"
    );
    assert!(
        csv.contains("huyen;Cấp huyện;Cấp huyện;845;922;91,65;"),
        "{csv}"
    );
}
