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
        signed_only: false,
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
    // A unit with no dossier in the period reads N/A when its level received
    // some (the old commune X); a level that received nothing is left out (P).
    let r = build(&request(By::Unit, None), &[cell("X", 1, 1, 1)], &t, 0);
    let old_x = r
        .lines
        .iter()
        .find(|l| l.key == "X" && l.depth == 2)
        .unwrap();
    assert_eq!(old_x.indicators[0].percent, "không áp dụng");
    assert!(r.lines.iter().all(|l| l.key != "P"), "{:?}", r.lines);
}

/// A province with a department (S) and a district (H) whose committee, a
/// department numbered after its communes (P), and two communes (X1, X2).
fn district_tree() -> UnitTree {
    let u = |code: &str, level, parent: Option<&str>| Unit {
        code: code.into(),
        name: format!("Đơn vị {code}"),
        level,
        parent: parent.map(Into::into),
        valid_from: None,
        valid_to: None,
    };
    UnitTree::new(
        vec![
            u("T", Level::Tinh, None),
            u("T.S", Level::Tinh, Some("T")),
            u("T.H", Level::Huyen, Some("T")),
            u("T.H.20", Level::Xa, Some("T.H")),
            u("T.H.21", Level::Xa, Some("T.H")),
            u("T.H.40", Level::Huyen, Some("T.H")),
        ],
        UiLanguage::Vi,
    )
    .unwrap()
}

fn keys(r: &Report) -> Vec<(String, usize)> {
    r.lines.iter().map(|l| (l.key.clone(), l.depth)).collect()
}

#[test]
fn by_unit_lists_the_district_first_then_its_departments_then_its_communes() {
    let t = district_tree();
    let cells = [cell("T.H", 0, 8, 4), cell("T.H.20", 0, 5, 1)];
    let r = build(&request(By::Unit, None), &cells, &t, 0);
    // No provincial department received anything: neither it nor a province
    // line repeating the district's total is shown; the idle commune and
    // department are (their levels received dossiers), the department first.
    assert_eq!(
        keys(&r),
        vec![
            ("T.H".into(), 0),
            ("T.H.40".into(), 1),
            ("T.H.20".into(), 1),
            ("T.H.21".into(), 1),
        ]
    );
    assert_eq!(r.lines[0].counts.received, 13);
    assert_eq!(r.unit.as_deref(), Some("Đơn vị T.H"));
    let text = r.to_text();
    let order: Vec<usize> = ["T.H)", "T.H.40)", "T.H.20)", "T.H.21)"]
        .iter()
        .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} in {text}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(
        text.contains("Số liệu của mỗi đơn vị gồm cả các đơn vị cấp dưới của nó."),
        "{text}"
    );
    // A provincial department that received dossiers brings the province in.
    let cells = [cell("T.H", 0, 8, 4), cell("T.S", 0, 2, 2)];
    let r = build(&request(By::Unit, None), &cells, &t, 0);
    assert_eq!(
        keys(&r),
        vec![
            ("T".into(), 0),
            ("T.S".into(), 1),
            ("T.H".into(), 1),
            ("T.H.40".into(), 2),
        ]
    );
    assert_eq!(r.unit.as_deref(), Some("Đơn vị T"));
}

#[test]
fn by_unit_with_a_unit_shows_only_that_unit_and_those_under_it() {
    let t = district_tree();
    let mut req = request(By::Unit, None);
    req.unit = Some("T.H".into());
    let r = build(&req, &[cell("T.H.21", 0, 3, 3)], &t, 0);
    assert_eq!(
        keys(&r),
        vec![
            ("T.H".into(), 0),
            ("T.H.20".into(), 1),
            ("T.H.21".into(), 1)
        ]
    );
    // Nothing received at all: the unit asked for still heads the report.
    let r = build(&req, &[], &t, 0);
    assert_eq!(keys(&r), vec![("T.H".into(), 0)]);
    assert_eq!(r.unit.as_deref(), Some("Đơn vị T.H"));
}

#[test]
fn by_month_lists_every_month_of_the_period() {
    let t = district_tree();
    let month = |m: &str, n: u64| Cell {
        key: Some(m.into()),
        ..cell("T.H", 0, n, n)
    };
    let mut req = request(By::Month, None);
    req.period = Period::resolve(
        &PeriodSpec {
            year: Some(2023),
            ..PeriodSpec::default()
        },
        UiLanguage::Vi,
    )
    .unwrap();
    let r = build(&req, &[month("2023-03", 2), month("2023-07", 1)], &t, 0);
    let labels: Vec<&str> = r.lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels.len(), 12, "{labels:?}");
    assert_eq!(labels[0], "Tháng 1/2023");
    assert_eq!(labels[11], "Tháng 12/2023");
    assert_eq!(r.lines[3].counts.received, 0);
    assert!(
        r.to_text()
            .contains("Tháng 4/2023: số hóa 0/0 hồ sơ, không áp dụng;"),
        "{}",
        r.to_text()
    );
    // All time: from the first month with dossiers to the last.
    let r = build(
        &request(By::Month, None),
        &[month("2022-11", 1), month("2023-02", 1)],
        &t,
        0,
    );
    let keys: Vec<&str> = r.lines.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(keys, ["2022-11", "2022-12", "2023-01", "2023-02"]);
}

#[test]
fn months_between_crosses_years() {
    assert_eq!(
        months_between(d("2023-11-15"), d("2024-02-01")),
        ["2023-11", "2023-12", "2024-01", "2024-02"]
    );
    assert!(months_between(d("2024-02-01"), d("2023-02-01")).is_empty());
}

#[test]
fn official_heading_parts() {
    let mut r = build(&request(By::Level, None), &[cell("H", 0, 1, 1)], &tree(), 0);
    r.made_on = d("2025-12-02");
    assert_eq!(r.made_on_line(), "……, ngày 02 tháng 12 năm 2025");
    assert_eq!(r.issuer(), "ĐƠN VỊ H");
    assert_eq!(r.signers()[0].0, "NGƯỜI LẬP BÁO CÁO");
    assert_eq!(r.signers()[1].0, "THỦ TRƯỞNG ĐƠN VỊ");
    r.unit = None;
    assert!(r.issuer().starts_with('…'));
}

#[test]
fn brief_vectors_in_report_lines() {
    let t = tree();
    for (n, dn, want) in [
        (845, 922, "845/922 hồ sơ, đạt 91,65%"),
        (5219, 5885, "5.219/5.885 hồ sơ, đạt 88,68%"),
        (1, 8, "1/8 hồ sơ, đạt 12,50%"),
        (0, 0, "0/0 hồ sơ, không áp dụng"),
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
    // A level's internal key (huyen) is no code a reader knows.
    assert!(
        csv.contains("\n;Cấp huyện;Cấp huyện;845;922;91,65;"),
        "{csv}"
    );
    assert!(!csv.contains("huyen;"), "{csv}");
}
