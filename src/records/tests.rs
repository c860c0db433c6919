//! The same record-store scenario against SQLite and PostgreSQL: every method
//! the pipeline, watch mode and reports use, with the values read back.

use super::*;
use crate::register::{Channel, RegisterRow};
use crate::units::{Level, Unit};
use chrono::NaiveDate;

mod register_import;

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
        ocr_seconds: 1.5,
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
        contradictions: Vec::new(),
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
        ..Selection::default()
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
    assert_eq!(r.dossiers_without_receipt_date(None).unwrap(), 0);
    r.ensure_dossier(&DossierCode::opaque("ho so la", "000.00.18.H44"))
        .unwrap();
    assert_eq!(r.dossiers_without_receipt_date(None).unwrap(), 1);
    let units = |u: &[&str]| u.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        r.dossiers_without_receipt_date(Some(&units(&["000.00.18.H44", "X"])))
            .unwrap(),
        1
    );
    assert_eq!(
        r.dossiers_without_receipt_date(Some(&units(&["000.20.18.H44"])))
            .unwrap(),
        0,
        "another unit's undated dossiers are not counted"
    );

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
    assert_eq!(r.interrupt_jobs().unwrap(), ["Y"]);
}

/// The sync records: a station's outbox, and a server taking uploads and
/// handing out register rows.
fn sync_scenario(r: &mut Records) {
    let code = DossierCode::parse("000.20.18.H44-230322-0005").unwrap();
    let dossier = r.ensure_dossier(&code).unwrap();
    let d1 = r
        .insert_document(&document(dossier, DocKind::ThanhPhan, "01-don", 1, "a"))
        .unwrap();
    let d2 = r
        .insert_document(&document(dossier, DocKind::ThanhPhan, "02-cccd", 1, "b"))
        .unwrap();
    let later = "2999-01-01T00:00:00Z";

    // Station: every document is queued once, in order, and read back whole.
    assert_eq!(r.enqueue_outbox().unwrap(), 2);
    assert_eq!(r.enqueue_outbox().unwrap(), 0);
    let due = |now: &str| -> Vec<(i64, u32)> {
        r.outbox_due(now, 10)
            .unwrap()
            .iter()
            .map(|d| (d.id, d.attempts))
            .collect()
    };
    assert_eq!(due(later), vec![(d1, 0), (d2, 0)]);
    // Part of d2 on the server: remembered, summed and shown.
    r.outbox_upload(d2, Some("/api/v1/uploads/abc"), 1000)
        .unwrap();
    let d = r.outbox_due(later, 10).unwrap();
    assert_eq!(
        (d[1].upload_url.as_deref(), d[1].upload_offset, d[1].bytes),
        (Some("/api/v1/uploads/abc"), 1000, 123_456)
    );
    let s = r.outbox_summary().unwrap();
    assert_eq!(s.waiting_bytes, 2 * 123_456);
    let p = s.partial.unwrap();
    assert_eq!(
        (p.name.as_str(), p.offset, p.bytes),
        ("02-cccd", 1000, 123_456)
    );
    let rec = r.upload_record(d1).unwrap().unwrap();
    assert_eq!(rec.document.archive_path, "archive/01-don.v1.pdf");
    assert_eq!(rec.document.dossier_id, dossier);
    // On the wire: neither the station's archive path nor its dossier id.
    let up = crate::api::Upload::from_record(&rec.dossier.code, &rec.dossier.unit, &rec.document);
    let wire = serde_json::to_value(&up).unwrap();
    assert!(wire.get("archive_path").is_none() && wire.get("dossier_id").is_none());
    assert_eq!(
        (
            wire["name"].as_str(),
            wire["pages"].as_array().map(Vec::len)
        ),
        (Some("01-don"), Some(2))
    );
    assert_eq!(
        (rec.dossier.clone(), rec.document.kind, rec.document.version),
        (code.clone(), DocKind::ThanhPhan, 1)
    );
    assert_eq!(
        (
            rec.document.sha256.as_str(),
            rec.document.bytes,
            rec.document.pages.len()
        ),
        ("pdf-a", 123_456, 2)
    );
    assert_eq!(
        (
            rec.document.pages[1].page_no,
            rec.document.pages[1].dpi,
            rec.document.pages[1].ocr_seconds
        ),
        (2, Some((300.0, 300.0)), 1.5)
    );
    assert_eq!(rec.document.inputs[0].path, "inbox/01-don.jpg");
    r.outbox_failed(d1, "máy chủ: không kết nối được", Some(later.into()))
        .unwrap();
    assert_eq!(due("2100-01-01T00:00:00Z"), vec![(d2, 0)]);
    r.outbox_refused(d2, "[E_OTHER_UNIT] …").unwrap();
    let s = r.outbox_summary().unwrap();
    assert_eq!((s.waiting, s.sent, s.refused.len()), (1, 0, 1));
    assert_eq!(s.refused[0].dossier_code, code.code);
    assert!(s.last_error.unwrap().contains("không kết nối được"));
    assert!(s.waiting_since.is_some());
    assert_eq!(r.outbox_retry_refused().unwrap(), 1);
    r.outbox_sent(d1, 77, "pdf-1").unwrap();
    r.outbox_sent(d2, 78, "pdf-2").unwrap();
    let s = r.outbox_summary().unwrap();
    assert_eq!((s.waiting, s.sent, s.refused.len()), (0, 2, 0));
    assert_eq!((s.waiting_bytes, s.partial), (0, None));
    r.sync_set("k", "một").unwrap();
    r.sync_set("k", "hai").unwrap();
    assert_eq!(r.sync_get("k").unwrap().as_deref(), Some("hai"));
    assert_eq!(r.sync_get("nothing").unwrap(), None);

    // Server: the same PDF is a duplicate, another PDF under a taken version a conflict.
    let station = r
        .add_station("xa-a", "000.20.18.H44", "digest", false)
        .unwrap()
        .unwrap();
    assert_eq!(r.uploaded(&rec).unwrap(), Some(Stored::Duplicate(d1)));
    let mut other = rec.clone();
    other.document.sha256 = "pdf-other".into();
    assert_eq!(r.uploaded(&other).unwrap(), Some(Stored::Conflict));
    // Version 3 then version 2 arrive: the highest stays current.
    let mut v3 = other.clone();
    v3.document.version = 3;
    let id3 = r
        .record_upload(&v3, "archive/x.v3.pdf", station.id)
        .unwrap();
    let mut v2 = rec.clone();
    (v2.document.version, v2.document.sha256) = (2, "pdf-v2".into());
    assert_eq!(r.uploaded(&v2).unwrap(), None);
    r.record_upload(&v2, "archive/x.v2.pdf", station.id)
        .unwrap();
    let current = r
        .current_document(dossier, DocKind::ThanhPhan, "01-don")
        .unwrap()
        .unwrap();
    assert_eq!((current.id, current.version), (id3, 3));
    assert_eq!(
        r.enqueue_outbox().unwrap(),
        0,
        "uploads received are not sent on"
    );
    assert_eq!(
        r.dossier_unit(&code.code).unwrap().as_deref(),
        Some("000.20.18.H44")
    );
    let (_, ocr) = r.metrics().unwrap();
    assert!((ocr - 4.0 * 2.0 * 1.5).abs() < 1e-6, "{ocr}");

    // Register rows by (import, code), only of the units asked for.
    let row = |c: &str, unit: &str| RegisterRow {
        line: 0,
        code: c.into(),
        standard_code: true,
        procedure_code: None,
        procedure_name: None,
        field: None,
        unit_code: unit.into(),
        received_on: day("2023-03-22"),
        channel: Some(Channel::BuuChinh),
        full_online: None,
        has_fee: Some(false),
        paid_online: None,
        due_on: Some(day("2023-03-30")),
        resolved_on: None,
        paper_result: Some(true),
        contradictions: Vec::new(),
    };
    let a = [
        row("000.20.18.H44-230322-0002", "000.20.18.H44"),
        row("000.20.18.H44-230322-0001", "000.20.18.H44"),
        row("000.21.18.H44-230322-0001", "000.21.18.H44"),
    ];
    r.upsert_register(&a).unwrap();
    r.upsert_register(&[row("000.20.18.H44-230322-0003", "000.20.18.H44")])
        .unwrap();
    let units = vec!["000.20.18.H44".to_string()];
    let page = r
        .register_since(&units, &RegisterCursor::default(), 2)
        .unwrap();
    let codes: Vec<&str> = page.iter().map(|(_, row)| row.code.as_str()).collect();
    assert_eq!(
        codes,
        ["000.20.18.H44-230322-0001", "000.20.18.H44-230322-0002"]
    );
    assert_eq!(page[1].1, a[0], "a row comes back as it was imported");
    let rest = r.register_since(&units, &page[1].0, 10).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].1.code, "000.20.18.H44-230322-0003");
    assert!(r.register_since(&units, &rest[0].0, 10).unwrap().is_empty());
    assert!(r
        .register_since(&[], &RegisterCursor::default(), 10)
        .unwrap()
        .is_empty());
}

/// The work queue, as batch workers and watchers on shared records use it.
fn queue_scenario(r: &mut Records) {
    let item = |f: &str| ("/in".to_string(), f.to_string(), format!("fp-{f}"));
    assert_eq!(
        r.enqueue(&[item("a"), item("b")]).unwrap(),
        vec![false, false]
    );
    let got = r.claim("may-1:1", 1, 60).unwrap();
    assert_eq!((got.len(), got[0].folder.as_str()), (1, "a"));
    r.renew("may-1:1", &[got[0].id], 60).unwrap();
    // A watcher elsewhere cannot take a folder held under a live lease...
    assert_eq!(
        r.claim_folder("may-2:9", ("/in", "a", "fp-a"), 60).unwrap(),
        None
    );
    // ...but takes a queued one, queuing it first if needed.
    let b = r
        .claim_folder("may-2:9", ("/in", "b", "fp-b"), 60)
        .unwrap()
        .unwrap();
    let c = r
        .claim_folder("may-2:9", ("/in", "c", "fp-c"), 60)
        .unwrap()
        .unwrap();
    r.finish_item("may-2:9", b, false).unwrap();
    // A finished folder that is back in the inbox is claimed again.
    assert_eq!(
        r.claim_folder("may-2:9", ("/in", "b", "fp-b"), 60).unwrap(),
        Some(b)
    );
    r.finish_item("may-2:9", b, false).unwrap();
    assert_eq!(r.enqueue(&[item("b")]).unwrap(), vec![true]);
    // Items of a dead process of one host are put back: queued, or done.
    let held = r.claimed_on_host("may-2").unwrap();
    assert_eq!(held.iter().map(|h| h.0).collect::<Vec<_>>(), vec![c]);
    assert_eq!(
        (held[0].1.as_str(), held[0].2.folder.as_str()),
        ("may-2:9", "c")
    );
    assert!(r.claimed_on_host("may-3").unwrap().is_empty());
    r.release_dead(c, "may-2:9", false).unwrap();
    assert_eq!(r.unfinished_items().unwrap(), 2, "a held, c queued");
    let again = r.claim("may-1:2", 5, 60).unwrap();
    assert_eq!(again.iter().map(|i| i.id).collect::<Vec<_>>(), vec![c]);
    r.release_dead(c, "may-1:2", true).unwrap();
    r.finish_item("may-1:1", got[0].id, false).unwrap();
    assert_eq!(r.unfinished_items().unwrap(), 0);

    // A lease that ran out: the item is claimed again (retaken), and its
    // former holder, should it still be running, records nothing any more.
    assert!(!got[0].retaken);
    r.enqueue(&[item("d")]).unwrap();
    let old = r.claim("may-1:3", 1, -1).unwrap();
    assert_eq!((old.len(), old[0].retaken), (1, false));
    assert!(
        !r.others_hold_folder("d", "may-1:4").unwrap(),
        "a lease that ran out holds nothing"
    );
    let new = r.claim("may-1:4", 1, 60).unwrap();
    assert_eq!((new[0].id, new[0].retaken), (old[0].id, true));
    assert!(r.others_hold_folder("d", "may-1:3").unwrap());
    assert!(!r.others_hold_folder("d", "may-1:4").unwrap());
    assert!(!r.others_hold_folder("e", "may-1:3").unwrap());
    let code = DossierCode::parse("000.00.18.H44-230601-0001").unwrap();
    let doc = document(
        r.ensure_dossier(&code).unwrap(),
        DocKind::ThanhPhan,
        "q",
        1,
        "q1",
    );
    assert_eq!(
        r.insert_document_held(&doc, ("may-1:3", old[0].id))
            .unwrap(),
        None
    );
    assert!(!r.archive_path_recorded(&doc.archive_path).unwrap());
    assert!(r
        .insert_document_held(&doc, ("may-1:4", old[0].id))
        .unwrap()
        .is_some());
    assert!(r.archive_path_recorded(&doc.archive_path).unwrap());
    r.finish_item("may-1:4", old[0].id, false).unwrap();
    assert_eq!(
        r.insert_document_held(&doc, ("may-1:4", old[0].id))
            .unwrap(),
        None,
        "a finished item holds nothing"
    );
}

#[test]
fn the_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    scenario(&mut Records::open(&dir.path().join("sohoa.db")).unwrap());
    let other = tempfile::tempdir().unwrap();
    sync_scenario(&mut Records::open(&other.path().join("sohoa.db")).unwrap());
    let third = tempfile::tempdir().unwrap();
    queue_scenario(&mut Records::open(&third.path().join("sohoa.db")).unwrap());
    // Opening again applies no migration twice: every migration is recorded
    // once, and the rows of every table (schema_migrations too) are unchanged.
    let path = dir.path().join("sohoa.db");
    let embedded = include_str!("migrations.rs")
        .matches("include_str!(\"sql/sqlite/")
        .count();
    let files = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/records/sql/sqlite"
    ))
    .unwrap()
    .count();
    assert_eq!(embedded, files, "every SQLite migration file is embedded");
    let before = every_row(&path);
    for table in [
        "dossiers",
        "documents",
        "pages",
        "input_files",
        "schema_migrations",
    ] {
        assert!(
            before.get(table).is_some_and(|rows| !rows.is_empty()),
            "the scenario left no row in {table}: {:?}",
            before.keys()
        );
    }
    Records::open(&path).unwrap();
    let versions: Vec<i64> = rusqlite::Connection::open(&path)
        .unwrap()
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        versions,
        (1..=embedded as i64).collect::<Vec<_>>(),
        "each of the {embedded} embedded migrations recorded once"
    );
    assert_eq!(every_row(&path), before, "reopening changed some rows");
}

/// Every row of every table of a SQLite file, by table name.
fn every_row(
    path: &std::path::Path,
) -> std::collections::BTreeMap<String, Vec<Vec<rusqlite::types::Value>>> {
    let db = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let mut st = db
                .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY rowid"))
                .unwrap();
            let n = st.column_count();
            let rows = st
                .query_map([], |r| (0..n).map(|i| r.get(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (t, rows)
        })
        .collect()
}

#[test]
fn the_postgres_store() {
    let mut r = postgres_records();
    scenario(&mut r);
    sync_scenario(&mut postgres_records());
    queue_scenario(&mut postgres_records());
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

fn sign_scenario(r: &mut Records) {
    use crate::sign::verify::Problem;
    let code = DossierCode::parse("000.00.18.H44-230314-0031").unwrap();
    let id = r.ensure_dossier(&code).unwrap();
    let don = r
        .insert_document(&document(id, DocKind::ThanhPhan, "01-don", 1, "s1"))
        .unwrap();
    let qd = r
        .insert_document(&document(id, DocKind::KetQua, "qd", 1, "s2"))
        .unwrap();
    assert!(r.dossier_known(&code.code).unwrap());
    assert!(!r.dossier_known("000.00.18.H44-230314-9999").unwrap());
    // Sent to the server before it was signed.
    assert_eq!(r.enqueue_outbox().unwrap(), 2);
    r.outbox_sent(don, 7, "pdf-s1").unwrap();
    assert_eq!(r.upload_record(don).unwrap().unwrap().signed, None);
    let todo = r.documents_to_sign(Some(&code.code)).unwrap();
    assert_eq!(
        todo.iter().map(|t| t.document_id).collect::<Vec<_>>(),
        vec![don, qd],
        "the components before the results"
    );
    assert_eq!(todo[0].archive_path, "archive/01-don.v1.pdf");
    assert_eq!(todo[0].sha256, "pdf-s1");
    assert_eq!(r.documents_to_sign(None).unwrap(), todo);
    assert!(r.documents_to_sign(Some("x")).unwrap().is_empty());

    // Not signed yet: a SAO Y copy has nothing to be made from.
    let (doc, signed) = r.sao_y_source(don).unwrap().unwrap();
    assert_eq!((doc.document_id, signed), (don, None));
    assert!(r.sao_y_source(-1).unwrap().is_none());

    // A token removed: the document stays to sign, with a note.
    r.mark_unsigned(qd, SignRole::Officer, "khóa bị rút")
        .unwrap();
    r.mark_unsigned(qd, SignRole::Officer, "khóa bị rút ra")
        .unwrap();
    let views = r.signatures_of(qd).unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(
        (views[0].state.as_str(), views[0].note.as_deref()),
        ("unsigned", Some("khóa bị rút ra"))
    );
    assert_eq!(r.documents_to_sign(None).unwrap().len(), 2);

    let signer = crate::sign::cert::Identity {
        name: "Nguyễn Thị Hoa".into(),
        subject: "CN=Nguyễn Thị Hoa, C=VN".into(),
        serial: "0A1B".into(),
        issuer: "CN=CA thử".into(),
        not_before: chrono::Utc::now(),
        not_after: chrono::Utc::now(),
    };
    let signature = |doc: i64, role: SignRole, path: &str| NewSignature {
        document_id: doc,
        role,
        archive_path: path.into(),
        bytes: 130_000,
        sha256: format!("sig-{path}"),
        signer: signer.clone(),
        officer: Some("Nguyễn Thị Hoa".into()),
        position: Some("Công chức một cửa".into()),
        agency: None,
        signed_at: "2026-12-03T09:15:00+07:00".into(),
        problems: vec![Problem::Untrusted("không có gốc tin cậy".into())],
        time_stamp: None,
    };
    assert!(r
        .record_signature(&signature(
            don,
            SignRole::Officer,
            "archive/01-don.v1.ky.pdf"
        ))
        .unwrap());
    assert!(
        !r.record_signature(&signature(don, SignRole::Officer, "archive/other.pdf"))
            .unwrap(),
        "a second signature of the same role is refused"
    );
    assert!(
        r.record_signature(&signature(qd, SignRole::Officer, "archive/qd.v1.ky.pdf"))
            .unwrap(),
        "an unsigned mark is replaced by the signature"
    );
    assert!(r.documents_to_sign(None).unwrap().is_empty());
    assert_eq!(
        r.signed_path(don, SignRole::Officer).unwrap().as_deref(),
        Some("archive/01-don.v1.ky.pdf")
    );
    // Signed after it was sent: back in line, to send its signed form.
    assert_eq!(r.enqueue_outbox().unwrap(), 1);
    let signed = crate::records::SignedForm {
        archive_path: "archive/01-don.v1.ky.pdf".into(),
        bytes: 130_000,
        sha256: "sig-archive/01-don.v1.ky.pdf".into(),
    };
    assert_eq!(
        r.upload_record(don).unwrap().unwrap().signed.as_ref(),
        Some(&signed)
    );
    let due: Vec<_> = r.outbox_due("2100-01-01T00:00:00Z", 10).unwrap();
    assert_eq!(
        due.iter().map(|d| (d.id, d.bytes)).collect::<Vec<_>>(),
        vec![(don, 130_000), (qd, 130_000)],
        "the signed forms' sizes"
    );
    r.outbox_sent(don, 7, &signed.sha256).unwrap();
    assert_eq!(r.enqueue_outbox().unwrap(), 0, "its signed form was sent");
    assert_eq!(r.signed_path(don, SignRole::SaoY).unwrap(), None);
    assert!(r.archive_path_recorded("archive/01-don.v1.ky.pdf").unwrap());
    assert!(!r.archive_path_recorded("archive/other.pdf").unwrap());

    // The SAO Y copy is made from the officer's signed form.
    let (_, signed) = r.sao_y_source(don).unwrap().unwrap();
    let signed = signed.unwrap();
    assert_eq!(
        (signed.archive_path.as_str(), signed.sha256.as_str()),
        ("archive/01-don.v1.ky.pdf", "sig-archive/01-don.v1.ky.pdf")
    );
    let mut sao_y = signature(don, SignRole::SaoY, "archive/01-don.v1.sao-y.pdf");
    sao_y.agency = Some("UBND xã Tân Lập".into());
    sao_y.problems.clear();
    sao_y.time_stamp = Some(crate::sign::verify::TimeStamp {
        at: "2026-12-03T02:15:01Z".parse().unwrap(),
        authority: Some(signer.clone()),
    });
    assert!(r.record_signature(&sao_y).unwrap());

    let views = r.signatures_of(don).unwrap();
    assert_eq!(
        views.iter().map(|v| v.role).collect::<Vec<_>>(),
        vec![SignRole::Officer, SignRole::SaoY]
    );
    let o = &views[0];
    assert_eq!(o.state, "signed");
    assert_eq!(o.signer_name.as_deref(), Some("Nguyễn Thị Hoa"));
    assert_eq!(o.signer_serial.as_deref(), Some("0A1B"));
    assert_eq!(o.bytes, Some(130_000));
    assert_eq!(o.check_valid, Some(false));
    assert_eq!(
        o.check_problems,
        vec![Problem::Untrusted("không có gốc tin cậy".into())]
    );
    assert_eq!(views[1].check_valid, Some(true));
    assert_eq!(views[1].agency.as_deref(), Some("UBND xã Tân Lập"));
    assert_eq!(
        (
            views[1].time_stamped_at.as_deref(),
            views[1].time_stamp_authority.as_deref()
        ),
        (Some("2026-12-03T02:15:01+00:00"), Some("Nguyễn Thị Hoa"))
    );
    assert_eq!(o.time_stamped_at, None);
    let shown = r.dossier_view(&code.code).unwrap().unwrap();
    let d = shown.documents.iter().find(|d| d.id == don).unwrap();
    assert_eq!(d.signatures.len(), 2);
    // Marking a signed document unsigned changes nothing.
    r.mark_unsigned(don, SignRole::Officer, "x").unwrap();
    assert_eq!(r.signatures_of(don).unwrap()[0].state, "signed");
}

/// What reports count of signatures: `signed_component`, `signed_result` and
/// `all_signed`, kept by every new document and signature.
fn signed_report_scenario(r: &mut Records) {
    use crate::sign::verify::Problem;
    let total = |r: &Records, signed_only: bool| {
        let sel = Selection {
            signed_only,
            ..Selection::default()
        };
        let mut all = Counts::default();
        for c in r.report_cells(&sel, &[], GroupKey::None).unwrap() {
            all += c.counts;
        }
        all
    };
    let signer = crate::sign::cert::Identity {
        name: "Lê Văn Đức".into(),
        subject: "CN=Lê Văn Đức, C=VN".into(),
        serial: "0C".into(),
        issuer: "CN=CA thử".into(),
        not_before: chrono::Utc::now(),
        not_after: chrono::Utc::now(),
    };
    let sign = |r: &Records, doc: i64, problems: Vec<Problem>| {
        assert!(r
            .record_signature(&NewSignature {
                document_id: doc,
                role: SignRole::Officer,
                archive_path: format!("archive/{doc}.ky.pdf"),
                bytes: 1,
                sha256: format!("sig-{doc}"),
                signer: signer.clone(),
                officer: None,
                position: None,
                agency: None,
                signed_at: "2026-12-04T09:15:00+07:00".into(),
                problems,
                time_stamp: None,
            })
            .unwrap());
    };
    let code = DossierCode::parse("000.00.18.H44-230314-0041").unwrap();
    let id = r.ensure_dossier(&code).unwrap();
    let don = r
        .insert_document(&document(id, DocKind::ThanhPhan, "01-don", 1, "r1"))
        .unwrap();
    let qd = r
        .insert_document(&document(id, DocKind::KetQua, "qd", 1, "r2"))
        .unwrap();
    // A second dossier whose only copy's signature failed its check.
    let other = DossierCode::parse("000.00.18.H44-230314-0042").unwrap();
    let other_id = r.ensure_dossier(&other).unwrap();
    let bad = r
        .insert_document(&document(other_id, DocKind::ThanhPhan, "02-giay", 1, "r3"))
        .unwrap();
    sign(
        r,
        bad,
        vec![Problem::Untrusted("không có gốc tin cậy".into())],
    );

    let c = total(r, false);
    assert_eq!(
        (c.with_component, c.digitized, c.signable, c.signed),
        (2, 2, 2, 0)
    );
    let c = total(r, true);
    assert_eq!(
        (c.with_component, c.digitized, c.signable, c.signed),
        (0, 0, 2, 0)
    );

    // The component signed: it counts when only signed copies do; the dossier
    // is not all signed while its result is not.
    sign(r, don, vec![]);
    let c = total(r, true);
    assert_eq!((c.with_component, c.digitized, c.signed), (1, 1, 0));
    let missing = |signed_only: bool| -> Vec<String> {
        let sel = Selection {
            signed_only,
            ..Selection::default()
        };
        r.missing(&sel)
            .unwrap()
            .into_iter()
            .map(|d| d.code)
            .collect()
    };
    assert_eq!(missing(true), vec![other.code.clone()]);
    let m = &r
        .missing(&Selection {
            signed_only: true,
            ..Selection::default()
        })
        .unwrap()[0];
    assert_eq!(
        (
            m.has_component,
            m.signed_component,
            m.counted(true),
            m.counted(false)
        ),
        (true, false, (false, false), (true, false))
    );
    assert!(missing(false).is_empty());

    sign(r, qd, vec![]);
    let c = total(r, false);
    assert_eq!((c.signable, c.signed), (2, 1));

    // The other dossier's signature was not found valid: reports say so,
    // until `sohoa verify` finds it valid and stores that.
    let all = Selection::default();
    assert_eq!(r.unverified_signatures(&all).unwrap(), 1);
    assert!(!r.record_check("archive/unknown.ky.pdf", &[]).unwrap());
    assert!(r
        .record_check(&format!("archive/{bad}.ky.pdf"), &[])
        .unwrap());
    assert_eq!(r.unverified_signatures(&all).unwrap(), 0);
    let c = total(r, false);
    assert_eq!((c.signable, c.signed), (2, 2));
    let view = &r.signatures_of(bad).unwrap()[0];
    assert_eq!(
        (view.check_valid, view.check_problems.len()),
        (Some(true), 0)
    );
    let problem = Problem::Altered;
    assert!(r
        .record_check(
            &format!("archive/{bad}.ky.pdf"),
            std::slice::from_ref(&problem)
        )
        .unwrap());
    assert_eq!(
        r.signatures_of(bad).unwrap()[0].check_problems,
        vec![problem]
    );
    assert_eq!(total(r, false).signed, 1);

    // A new version of the component needs its own signature.
    r.insert_document(&document(id, DocKind::ThanhPhan, "01-don", 2, "r4"))
        .unwrap();
    let c = total(r, true);
    assert_eq!((c.with_component, c.signable, c.signed), (0, 2, 0));
    assert_eq!(missing(true), vec![code.code.clone(), other.code.clone()]);
}

#[test]
fn signed_copies_in_reports_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    signed_report_scenario(&mut Records::open(&dir.path().join("sohoa.db")).unwrap());
}

#[test]
fn signed_copies_in_reports_postgres() {
    signed_report_scenario(&mut postgres_records());
}

#[test]
fn signatures_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    sign_scenario(&mut Records::open(&dir.path().join("sohoa.db")).unwrap());
}

#[test]
fn signatures_in_postgres() {
    sign_scenario(&mut postgres_records());
}
