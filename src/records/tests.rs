//! The same record-store scenario against SQLite and PostgreSQL: every method
//! the pipeline, watch mode and reports use, with the values read back.

use super::*;
use crate::register::{Channel, RegisterRow};
use crate::units::{Level, Unit};
use chrono::NaiveDate;

pub(crate) fn postgres_records() -> Records {
    Records::connect(&super::testing::postgres_url()).expect("open the test database")
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn page(n: u32) -> PageRecord {
    PageRecord {
        page_no: n,
        width_px: 2480,
        height_px: 3508,
        dpi: Some((300.0, 300.0)),
        color: "rgb".into(),
        turn: 90,
        deskew_deg: -1.25,
        blank: false,
        mean_confidence: Some(91.5),
        words: 321,
    }
}

fn document(dossier_id: i64, kind: DocKind, name: &str, version: u32, sha: &str) -> NewDocument {
    NewDocument {
        dossier_id,
        kind,
        name: name.into(),
        version,
        archive_path: format!("archive/{name}.v{version}.pdf"),
        bytes: 123_456,
        sha256: format!("pdf-{sha}"),
        input_sha256: sha.into(),
        inputs: vec![InputFile {
            path: format!("inbox/{name}.jpg"),
            sha256: sha.into(),
            bytes: 100_000,
        }],
        ocr_engine: "tesseract".into(),
        ocr_version: "5.3.0".into(),
        ocr_languages: "vie+eng".into(),
        mean_confidence: Some(90.25),
        pages: vec![page(1), page(2)],
    }
}

fn scenario(r: &mut Records) {
    // Dossiers and documents, as the pipeline records them.
    let code = DossierCode::parse("000.00.18.H44-230314-0027").unwrap();
    let id = r.ensure_dossier(&code).unwrap();
    assert_eq!(r.ensure_dossier(&code).unwrap(), id, "one dossier per code");
    assert_eq!(r.next_version(id, DocKind::ThanhPhan, "01-don").unwrap(), 1);
    let d1 = r
        .insert_document(&document(id, DocKind::ThanhPhan, "01-don", 1, "a"))
        .unwrap();
    let d2 = r
        .insert_document(&document(id, DocKind::ThanhPhan, "01-don", 2, "b"))
        .unwrap();
    assert_ne!(d1, d2);
    let cur = r
        .current_document(id, DocKind::ThanhPhan, "01-don")
        .unwrap()
        .unwrap();
    assert_eq!(
        (cur.id, cur.version, cur.input_sha256.as_str()),
        (d2, 2, "b")
    );
    assert_eq!(r.next_version(id, DocKind::ThanhPhan, "01-don").unwrap(), 3);
    assert_eq!(
        r.input_paths(d2).unwrap(),
        vec!["inbox/01-don.jpg".to_string()]
    );
    assert!(r
        .current_document(id, DocKind::KetQua, "01-don")
        .unwrap()
        .is_none());

    // Failures: recorded once, resolved when the component is stored.
    let f = NewFailure {
        dossier_code: code.code.clone(),
        kind: Some(DocKind::KetQua),
        name: "qd".into(),
        input_path: "inbox/qd.jpg".into(),
        input_sha256: None,
        error_code: "E_CORRUPT".into(),
        message: "Tệp ảnh bị hỏng".into(),
    };
    r.insert_failure(&f).unwrap();
    r.insert_failure(&f).unwrap();
    assert!(r.failure_known(&f).unwrap());
    assert_eq!(r.recent_failures(5).unwrap().len(), 1);
    r.insert_document(&document(id, DocKind::KetQua, "qd", 1, "c"))
        .unwrap();
    assert!(!r.failure_known(&f).unwrap());

    let view = r.dossier_view(&code.code).unwrap().unwrap();
    assert_eq!(view.documents.len(), 3);
    let v1 = view
        .documents
        .iter()
        .find(|d| d.name == "01-don" && d.version == 1)
        .unwrap();
    assert!(!v1.current);
    assert_eq!(v1.pages.len(), 2);
    assert_eq!(v1.pages[1].turn, 90);
    assert_eq!(v1.pages[0].deskew_deg, -1.25);
    assert_eq!(v1.bytes, 123_456);
    assert_eq!(view.failures.len(), 1);
    assert!(view.failures[0].resolved);
    assert!(view.register.is_none());
    assert!(r.dossier_view("không có").unwrap().is_none());

    // The register: upsert, idempotent, counted in reports.
    let row = |code: &str, unit: &str, received: &str, paper: bool| RegisterRow {
        line: 2,
        code: code.into(),
        standard_code: true,
        procedure_code: Some("1.001193".into()),
        procedure_name: Some("Đăng ký khai sinh".into()),
        field: Some("Hộ tịch".into()),
        unit_code: unit.into(),
        received_on: day(received),
        channel: Some(Channel::TrucTuyen),
        full_online: Some(true),
        has_fee: Some(true),
        paid_online: Some(false),
        due_on: None,
        resolved_on: Some(day(received)),
        paper_result: Some(paper),
    };
    let rows = vec![
        row(&code.code, "000.00.18.H44", "2023-03-14", true),
        row(
            "000.20.18.H44-230322-0005",
            "000.20.18.H44",
            "2023-03-22",
            true,
        ),
        row(
            "000.20.18.H44-250801-0001",
            "000.20.18.H44",
            "2025-08-01",
            false,
        ),
    ];
    let c = r.upsert_register(&rows).unwrap();
    assert_eq!((c.added, c.updated, c.unchanged), (2, 1, 0));
    let c = r.upsert_register(&rows).unwrap();
    assert_eq!((c.added, c.updated, c.unchanged), (0, 0, 3));
    let mut changed = rows.clone();
    changed[1].paid_online = Some(true);
    assert_eq!(r.upsert_register(&changed).unwrap().updated, 1);
    let view = r.dossier_view(&code.code).unwrap().unwrap();
    let reg = view.register.unwrap();
    assert_eq!(reg.channel.as_deref(), Some("truc_tuyen"));
    assert_eq!(reg.paper_result, Some(true));

    // Units.
    let unit = |code: &str, level, parent: Option<&str>| Unit {
        code: code.into(),
        name: format!("UBND {code}"),
        level,
        parent: parent.map(Into::into),
        valid_from: None,
        valid_to: Some(day("2025-06-30")),
    };
    let units = vec![
        unit("000.00.18.H44", Level::Huyen, None),
        unit("000.20.18.H44", Level::Xa, Some("000.00.18.H44")),
    ];
    r.replace_units(&units).unwrap();
    assert_eq!(r.units().unwrap(), units);

    // Report counts and the missing list.
    let sel = Selection {
        from: Some(day("2023-01-01")),
        to: Some(day("2023-12-31")),
        units: None,
    };
    let cells = r
        .report_cells(&sel, &[day("2025-07-01")], GroupKey::Procedure)
        .unwrap();
    assert_eq!(cells.len(), 2);
    let district = cells
        .iter()
        .find(|c| c.unit_code == "000.00.18.H44")
        .unwrap();
    assert_eq!(district.key.as_deref(), Some("1.001193"));
    assert_eq!(district.key_name.as_deref(), Some("Đăng ký khai sinh"));
    let k = district.counts;
    assert_eq!(
        (
            k.received,
            k.with_component,
            k.digitized,
            k.resolved,
            k.resolved_digitized
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(
        (
            k.eligible_online,
            k.online,
            k.with_fee,
            k.paid_online,
            k.in_register
        ),
        (1, 1, 1, 0, 1)
    );
    let commune = cells
        .iter()
        .find(|c| c.unit_code == "000.20.18.H44")
        .unwrap()
        .counts;
    assert_eq!(
        (commune.received, commune.digitized, commune.paid_online),
        (1, 0, 1)
    );
    let all = Selection::default();
    let by_month = r
        .report_cells(&all, &[day("2025-07-01")], GroupKey::Month)
        .unwrap();
    let late = by_month
        .iter()
        .find(|c| c.key.as_deref() == Some("2025-08"))
        .unwrap();
    assert_eq!(late.segment, 1);
    let only = Selection {
        units: Some(vec!["000.20.18.H44".into()]),
        ..Selection::default()
    };
    let missing = r.missing(&only).unwrap();
    let codes: Vec<&str> = missing.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(
        codes,
        vec!["000.20.18.H44-230322-0005", "000.20.18.H44-250801-0001"]
    );
    assert_eq!(r.dossiers_without_receipt_date().unwrap(), 0);
    r.ensure_dossier(&DossierCode::opaque("ho so la", "000.00.18.H44"))
        .unwrap();
    assert_eq!(r.dossiers_without_receipt_date().unwrap(), 1);

    // Watch mode's jobs, moves and inboxes.
    r.register_inboxes(&[("/in".into(), "polling", 10.0)])
        .unwrap();
    r.inbox_scanned("/in").unwrap();
    let job = r.start_job("/in", "X", "X").unwrap();
    r.plan_moves(
        job,
        &[PlannedMove {
            src: "/in/X/a.jpg".into(),
            dst: "/p/a.jpg".into(),
            note: Some("lỗi".into()),
        }],
    )
    .unwrap();
    assert!(r.move_target_taken("/p/a.jpg").unwrap());
    let pending = r.pending_moves().unwrap();
    assert_eq!(pending[0].planned.note.as_deref(), Some("lỗi"));
    r.move_done(pending[0].id).unwrap();
    assert!(r.pending_moves().unwrap().is_empty());
    r.finish_job(
        job,
        JobEnd {
            failed: false,
            files: 1,
            documents: 1,
            failed_files: 0,
        },
    )
    .unwrap();
    let s = &r.inbox_status().unwrap()[0];
    assert_eq!(
        (s.mode.as_str(), s.settle_secs, s.done_today),
        ("polling", 10.0, 1)
    );
    assert!(s.last_scan_at.is_some());
    r.start_job("/in", "Y", "Y").unwrap();
    assert_eq!(r.interrupt_jobs().unwrap(), 1);
}

#[test]
fn the_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    scenario(&mut Records::open(&dir.path().join("sohoa.db")).unwrap());
    // Opening again applies no migration twice.
    Records::open(&dir.path().join("sohoa.db")).unwrap();
}

#[test]
fn the_postgres_store() {
    let mut r = postgres_records();
    scenario(&mut r);
}

#[test]
fn a_password_is_not_shown() {
    assert_eq!(
        redact_url("postgres://sohoa:bí-mật@db:5432/sohoa"),
        "postgres://sohoa:***@db:5432/sohoa"
    );
    assert_eq!(
        redact_url("postgres://sohoa@db/sohoa"),
        "postgres://sohoa@db/sohoa"
    );
}
