//! A register import of a few thousand rows, on both stores: imported in
//! batches, it must count, write and number rows as upserting them one by one
//! did, since station pulls follow those numbers.

use crate::codes::DossierCode;
use crate::records::{ImportCounts, Records, RegisterCursor};
use crate::register::{Channel, Contradiction, RegisterRow};
use chrono::NaiveDate;

const UNITS: [&str; 3] = ["000.20.18.H44", "000.21.18.H44", "000.22.18.H44"];
const PROCEDURES: [&str; 4] = ["1.001193", "1.000894", "2.000815", "1.003583"];

/// Row `i` of a generated register: about a year of dossiers of three communes,
/// some without procedure name, field or dates, some paid online with no fee
/// (a contradiction the register keeps, noted).
fn row(i: usize) -> RegisterRow {
    let contradictory = i % 17 == 1;
    let unit = UNITS[i % UNITS.len()];
    let received =
        NaiveDate::from_ymd_opt(2023, 1, 1).unwrap() + chrono::Days::new((i % 360) as u64);
    RegisterRow {
        line: 0,
        code: format!("{unit}-{}-{i:04}", received.format("%y%m%d")),
        standard_code: true,
        procedure_code: Some(PROCEDURES[i % PROCEDURES.len()].to_string()),
        procedure_name: (!i.is_multiple_of(7)).then(|| format!("Thủ tục {}", i % 5)),
        field: (!i.is_multiple_of(11)).then(|| "Hộ tịch".to_string()),
        unit_code: unit.to_string(),
        received_on: received,
        channel: [None, Some(Channel::TrucTiep), Some(Channel::TrucTuyen)][i % 3],
        full_online: (!i.is_multiple_of(4)).then_some(i.is_multiple_of(2)),
        has_fee: Some(i.is_multiple_of(5) && !contradictory),
        paid_online: (i.is_multiple_of(5) || contradictory)
            .then_some(i.is_multiple_of(10) || contradictory),
        due_on: (!i.is_multiple_of(6)).then(|| received + chrono::Days::new(10)),
        resolved_on: (!i.is_multiple_of(8)).then(|| received + chrono::Days::new(3)),
        paper_result: Some(i.is_multiple_of(3)),
        contradictions: if contradictory {
            vec![Contradiction::PaidOnlineWithoutFee]
        } else {
            Vec::new()
        },
    }
}

fn counts(added: u64, updated: u64, unchanged: u64) -> ImportCounts {
    ImportCounts {
        added,
        updated,
        unchanged,
    }
}

/// Everything a station would pull after `after`, a page at a time.
fn pull(r: &Records, after: &RegisterCursor) -> Vec<(RegisterCursor, RegisterRow)> {
    let units: Vec<String> = UNITS.iter().map(|u| u.to_string()).collect();
    let mut cursor = after.clone();
    let mut out = Vec::new();
    loop {
        let page = r.register_since(&units, &cursor, 700).unwrap();
        let Some((last, _)) = page.last() else {
            return out;
        };
        cursor = last.clone();
        out.extend(page);
    }
}

/// The rows as a pull gives them back: in code order.
fn by_code(rows: &[RegisterRow]) -> Vec<RegisterRow> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    rows
}

fn procedure(r: &Records, code: &str) -> (Option<String>, Option<String>) {
    let row =
        r.db.run(|e| {
            e.query_opt(
                "SELECT name, field FROM procedures WHERE code = $1",
                &[code.into()],
            )
        })
        .unwrap()
        .unwrap();
    (row.get(0).unwrap(), row.get(1).unwrap())
}

fn large_import_scenario(r: &Records) {
    let n = 3_500;
    let rows: Vec<RegisterRow> = (0..n).map(row).collect();
    // Dossiers known from scans before the register names them are updated, not added.
    for r0 in &rows[..5] {
        r.ensure_dossier(&DossierCode::parse(&r0.code).unwrap())
            .unwrap();
    }
    assert_eq!(
        r.upsert_register(&rows).unwrap(),
        counts(n as u64 - 5, 5, 0)
    );
    let first = pull(r, &RegisterCursor::default());
    assert_eq!(
        first.iter().map(|(_, row)| row.clone()).collect::<Vec<_>>(),
        by_code(&rows)
    );
    let seq = first[0].0.seq;
    assert!(
        first.iter().all(|(c, _)| c.seq == seq),
        "one number per import"
    );
    let end = first.last().unwrap().0.clone();

    // The same rows again: nothing changes, nothing to pull.
    assert_eq!(r.upsert_register(&rows).unwrap(), counts(0, 0, n as u64));
    assert!(pull(r, &end).is_empty());

    // Some rows changed: exactly those updated, pulled under the next number.
    let mut changed = rows.clone();
    let mut touched = Vec::new();
    for (i, row) in changed
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| i.is_multiple_of(13))
    {
        if i.is_multiple_of(2) {
            row.paper_result = row.paper_result.map(|p| !p);
        } else if i % 3 == 1 {
            // The note alone changed: the row is updated and pulled again.
            row.contradictions = vec![Contradiction::ReturnedBeforeReceipt];
        } else {
            row.resolved_on = None;
        }
        touched.push(row.clone());
    }
    let k = touched.len() as u64;
    assert_eq!(
        r.upsert_register(&changed).unwrap(),
        counts(0, k, n as u64 - k)
    );
    let second = pull(r, &end);
    assert_eq!(
        second
            .iter()
            .map(|(_, row)| row.clone())
            .collect::<Vec<_>>(),
        by_code(&touched)
    );
    assert!(second.iter().all(|(c, _)| c.seq == seq + 1));
    let end = second.last().unwrap().0.clone();

    // A code twice in one import counts and ends as two imports one after the other.
    let mut a = row(n);
    let b = row(n + 1);
    let rows2 = vec![a.clone(), b.clone(), changed[1].clone(), b.clone(), {
        a.has_fee = Some(!a.has_fee.unwrap());
        a.paid_online = None;
        a.clone()
    }];
    assert_eq!(r.upsert_register(&rows2).unwrap(), counts(2, 1, 2));
    let third = pull(r, &end);
    assert_eq!(
        third.iter().map(|(_, row)| row.clone()).collect::<Vec<_>>(),
        by_code(&[a, b])
    );
    assert!(third.iter().all(|(c, _)| c.seq == seq + 2));

    // Each procedure keeps the last name and field given for it.
    for (p, code) in PROCEDURES.iter().enumerate() {
        let last = |f: fn(&RegisterRow) -> Option<String>| {
            changed
                .iter()
                .chain(&rows2)
                .filter(|r| r.procedure_code.as_deref() == Some(code))
                .rev()
                .find_map(f)
        };
        assert_eq!(
            procedure(r, code),
            (
                last(|r| r.procedure_name.clone()),
                last(|r| r.field.clone())
            ),
            "procedure {p}"
        );
    }
}

#[test]
fn a_large_register_import_counts_and_numbers_rows_as_row_by_row_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    large_import_scenario(&Records::open(&dir.path().join("sohoa.db")).unwrap());
}

#[test]
fn a_large_register_import_counts_and_numbers_rows_as_row_by_row_on_postgres() {
    large_import_scenario(&super::postgres_records());
}
