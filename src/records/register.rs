//! The register side of the records: receipt-register rows upserted onto
//! dossiers, the unit tree, and the counts reports are made of.

use super::db::{vals, DbError, Exec, Value};
use super::{now, Records, RecordsError};
use crate::register::{note_of, Channel, RegisterRow};
use crate::units::{Level, Unit};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What a register import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ImportCounts {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Dossier counts behind every indicator of a report line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Dossiers received (with a receipt date in the period).
    pub received: u64,
    /// … with at least one digitized component.
    pub with_component: u64,
    /// … with a digitized component and, where the procedure returns a paper
    /// result, a digitized result (766 §4.2).
    pub digitized: u64,
    /// … resolved (result returned).
    pub resolved: u64,
    /// … resolved with a digitized result, or with no paper result.
    pub resolved_digitized: u64,
    /// … of procedures eligible for full online service.
    pub eligible_online: u64,
    /// … of those, submitted online.
    pub online: u64,
    /// … with a fee.
    pub with_fee: u64,
    /// … of those, paid online.
    pub paid_online: u64,
    /// … found in an imported register (the rest are known from scans only).
    pub in_register: u64,
    /// … with a digitized component, signed or not (whatever `signed_only` says).
    pub signable: u64,
    /// … of those, every digitized document carries the officer's valid signature.
    pub signed: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.received += o.received;
        self.with_component += o.with_component;
        self.digitized += o.digitized;
        self.resolved += o.resolved;
        self.resolved_digitized += o.resolved_digitized;
        self.eligible_online += o.eligible_online;
        self.online += o.online;
        self.with_fee += o.with_fee;
        self.paid_online += o.paid_online;
        self.in_register += o.in_register;
        self.signable += o.signable;
        self.signed += o.signed;
    }
}

/// What a report groups by besides the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKey {
    None,
    Procedure,
    Field,
    Month,
}

/// Which dossiers a report counts: receipt date in `[from, to]` (open ends
/// allowed; dossiers without a receipt date are never counted), optionally
/// only some units.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub units: Option<Vec<String>>,
    /// Count as digitized only copies carrying the officer's valid signature
    /// (`[report] signed_only`, as Circular 01/2023 intends).
    pub signed_only: bool,
}

/// Counts of the dossiers of one unit code, within one stretch between unit
/// tree breakpoints (`segment` = how many breakpoints are on or before the
/// receipt dates), and one group key.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub unit_code: String,
    pub segment: usize,
    pub key: Option<String>,
    /// A name for the key (the procedure's name), when the register gives one.
    pub key_name: Option<String>,
    pub counts: Counts,
}

/// A dossier not yet digitized, for the list operators work through.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingDossier {
    pub code: String,
    pub unit_code: String,
    pub received_on: String,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub has_component: bool,
    pub has_result: bool,
    /// Whether the component (result) carries the officer's valid signature.
    pub signed_component: bool,
    pub signed_result: bool,
    pub paper_result: Option<bool>,
    pub resolved_on: Option<String>,
}

impl MissingDossier {
    /// (a component, a result) as reports count them: any digitized one, or
    /// with `signed_only` one carrying the officer's valid signature.
    pub fn counted(&self, signed_only: bool) -> (bool, bool) {
        match signed_only {
            true => (self.signed_component, self.signed_result),
            false => (self.has_component, self.has_result),
        }
    }
}

impl Counts {
    /// Counts one dossier described by its `report_flags` (migrations 0003 and
    /// 0013); with `signed_only` its components and result count only when
    /// signed. The definitions of the indicators live here (and, for the list
    /// of dossiers not digitized, in `Records::missing`).
    fn add(&mut self, f: i64, signed_only: bool) {
        let bit = |b: u32| f & (1 << b) != 0;
        let (any_component, any_result, paper, resolved) = (bit(0), bit(1), bit(2), bit(3));
        let (eligible, online, fee, paid, registered) = (bit(4), bit(5), bit(6), bit(7), bit(8));
        let (signed_component, signed_result, all_signed) = (bit(9), bit(10), bit(11));
        let (component, result) = match signed_only {
            true => (signed_component, signed_result),
            false => (any_component, any_result),
        };
        self.received += 1;
        self.with_component += u64::from(component);
        self.digitized += u64::from(component && (result || !paper));
        self.resolved += u64::from(resolved);
        self.resolved_digitized += u64::from(resolved && (result || !paper));
        self.eligible_online += u64::from(eligible);
        self.online += u64::from(eligible && online);
        self.with_fee += u64::from(fee);
        self.paid_online += u64::from(fee && paid);
        self.in_register += u64::from(registered);
        self.signable += u64::from(any_component);
        self.signed += u64::from(any_component && all_signed);
    }
}

impl Selection {
    /// `WHERE` clause and its parameters (`$1`, `$2`, …).
    pub(super) fn clause(&self) -> (String, Vec<Value>) {
        let mut sql = String::from("received_on IS NOT NULL");
        let mut args: Vec<Value> = Vec::new();
        let next = |args: &mut Vec<Value>, v: String| {
            args.push(Value::Text(v));
            format!("${}", args.len())
        };
        if let Some(f) = self.from {
            let p = next(&mut args, f.to_string());
            sql.push_str(&format!(" AND received_on >= {p}"));
        }
        if let Some(t) = self.to {
            let p = next(&mut args, t.to_string());
            sql.push_str(&format!(" AND received_on <= {p}"));
        }
        if let Some(units) = &self.units {
            let ps: Vec<String> = units.iter().map(|u| next(&mut args, u.clone())).collect();
            sql.push_str(&format!(" AND unit_code IN ({})", ps.join(", ")));
        }
        (sql, args)
    }
}

/// Folds report rows into cells; strings are interned, so a row costs no allocation.
#[derive(Default)]
struct Fold {
    units: HashMap<String, usize>,
    keys: HashMap<String, usize>,
    cells: HashMap<(usize, usize, usize), Counts>,
    breakpoints: Vec<String>,
    signed_only: bool,
}

impl Fold {
    fn intern(map: &mut HashMap<String, usize>, s: &str) -> usize {
        match map.get(s) {
            Some(&i) => i,
            None => {
                let i = map.len() + 1;
                map.insert(s.to_string(), i);
                i
            }
        }
    }

    fn row(&mut self, unit: &str, received: &str, key: Option<&str>, by_month: bool, flags: i64) {
        let signed_only = self.signed_only;
        let unit = Self::intern(&mut self.units, unit);
        // ISO dates compare as text.
        let segment = self
            .breakpoints
            .iter()
            .filter(|b| received >= b.as_str())
            .count();
        let key = match (by_month, key) {
            (true, _) => Self::intern(&mut self.keys, received.get(..7).unwrap_or(received)),
            (false, Some(k)) => Self::intern(&mut self.keys, k),
            (false, None) => 0,
        };
        self.cells
            .entry((unit, key, segment))
            .or_default()
            .add(flags, signed_only);
    }

    fn cells(self, names: &HashMap<String, String>) -> Vec<Cell> {
        let unit_of: HashMap<usize, &String> = self.units.iter().map(|(s, &i)| (i, s)).collect();
        let key_of: HashMap<usize, &String> = self.keys.iter().map(|(s, &i)| (i, s)).collect();
        let mut out: Vec<Cell> = self
            .cells
            .into_iter()
            .map(|((u, k, seg), counts)| {
                let key = key_of.get(&k).map(|s| s.to_string());
                Cell {
                    unit_code: unit_of[&u].clone(),
                    segment: seg,
                    key_name: key.as_ref().and_then(|k| names.get(k).cloned()),
                    key,
                    counts,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.unit_code, a.segment, &a.key).cmp(&(&b.unit_code, b.segment, &b.key))
        });
        out
    }
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// Rows per statement of an import. Dossier rows take 15 parameters each, so a
/// statement stays well below SQLite's 32,766 and PostgreSQL's 65,535.
const BATCH_ROWS: usize = 1000;

/// `$from, $from+1, …` for `n` parameters.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rows` cut into runs of at most `max` rows in which no dossier code repeats,
/// in order: one multi-row upsert may touch a row only once, and a later run
/// sees what an earlier one wrote, as row-by-row upserts would.
fn batches(rows: &[RegisterRow], max: usize) -> Vec<&[RegisterRow]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut codes: HashSet<&str> = HashSet::new();
    for (i, r) in rows.iter().enumerate() {
        if i - start == max || codes.contains(r.code.as_str()) {
            out.push(&rows[start..i]);
            start = i;
            codes.clear();
        }
        codes.insert(&r.code);
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// Each procedure the rows name once, with the last name and field they give
/// (a row without one keeps what was there): what upserting them row by row,
/// each `coalesce`d onto the last, leaves behind.
fn procedures(rows: &[RegisterRow]) -> Vec<[Value; 3]> {
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<[Value; 3]> = Vec::new();
    for r in rows {
        let Some(code) = &r.procedure_code else {
            continue;
        };
        let i = *at.entry(code.as_str()).or_insert_with(|| {
            out.push([Value::from(code), Value::Null, Value::Null]);
            out.len() - 1
        });
        if let Some(name) = &r.procedure_name {
            out[i][1] = Value::from(name);
        }
        if let Some(field) = &r.field {
            out[i][2] = Value::from(field);
        }
    }
    out
}

/// One upsert of procedures; a row equal to what is recorded is left alone.
fn procedure_upsert_sql(n: usize) -> String {
    let values: Vec<String> = (0..n)
        .map(|i| format!("({})", placeholders(1 + 3 * i, 3)))
        .collect();
    format!(
        "INSERT INTO procedures (code, name, field) VALUES {}
         ON CONFLICT (code) DO UPDATE SET name = coalesce(excluded.name, procedures.name),
            field = coalesce(excluded.field, procedures.field)
         WHERE (procedures.name, procedures.field) IS DISTINCT FROM
               (coalesce(excluded.name, procedures.name), coalesce(excluded.field, procedures.field))",
        values.join(", ")
    )
}

/// Dossier columns a register row gives, in the order of `dossier_upsert_sql`.
const DOSSIER_ROW_PARAMS: usize = 15;

fn dossier_params(r: &RegisterRow, out: &mut Vec<Value>) {
    out.extend([
        Value::from(&r.code),
        Value::from(&r.unit_code),
        Value::from(r.received_on.to_string()),
        Value::from(r.standard_code),
        Value::from(r.procedure_code.clone()),
        Value::from(r.procedure_name.clone()),
        Value::from(r.field.clone()),
        Value::from(r.channel.map(Channel::as_str)),
        Value::from(r.full_online),
        Value::from(r.has_fee),
        Value::from(r.paid_online),
        Value::from(date_text(r.due_on)),
        Value::from(date_text(r.resolved_on)),
        Value::from(r.paper_result),
        Value::from(note_of(&r.contradictions)),
    ]);
}

/// One upsert of `n` dossier rows: `$1` is the import's time, `$2` its number,
/// then each row's `dossier_params`. A row whose register columns are what is
/// recorded (and already registered) is left alone, so it keeps its number.
fn dossier_upsert_sql(n: usize) -> String {
    let values: Vec<String> = (0..n)
        .map(|i| {
            let p = |k: usize| format!("${}", 3 + DOSSIER_ROW_PARAMS * i + k);
            let row: Vec<String> = (0..4)
                .map(p)
                .chain(["$1".to_string()])
                .chain((4..DOSSIER_ROW_PARAMS).map(p))
                .chain(["$1".to_string(), "$2".to_string()])
                .collect();
            format!("({})", row.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO dossiers (code, unit_code, received_on, standard_code, first_seen_at, procedure_code,
            procedure_name, field, channel, full_online, has_fee, paid_online, due_on, resolved_on,
            paper_result, register_note, registered_at, register_seq)
         VALUES {}
         ON CONFLICT (code) DO UPDATE SET unit_code = excluded.unit_code,
            received_on = excluded.received_on, procedure_code = excluded.procedure_code,
            procedure_name = excluded.procedure_name, field = excluded.field, channel = excluded.channel,
            full_online = excluded.full_online, has_fee = excluded.has_fee,
            paid_online = excluded.paid_online, due_on = excluded.due_on,
            resolved_on = excluded.resolved_on, paper_result = excluded.paper_result,
            register_note = excluded.register_note, registered_at = excluded.registered_at, register_seq = excluded.register_seq
         WHERE (dossiers.unit_code, dossiers.received_on, dossiers.procedure_code, dossiers.procedure_name,
                dossiers.field, dossiers.channel, dossiers.full_online, dossiers.has_fee,
                dossiers.paid_online, dossiers.due_on, dossiers.resolved_on, dossiers.paper_result,
                dossiers.register_note, dossiers.registered_at IS NOT NULL)
           IS DISTINCT FROM (excluded.unit_code, excluded.received_on, excluded.procedure_code,
                excluded.procedure_name, excluded.field, excluded.channel, excluded.full_online,
                excluded.has_fee, excluded.paid_online, excluded.due_on, excluded.resolved_on,
                excluded.paper_result, excluded.register_note, true)",
        values.join(", ")
    )
}

/// Upserts one batch (no code twice) and counts it: rows whose code was not
/// recorded are added, the others updated or unchanged by the rows the upsert
/// wrote (an insert or an update whose guard passed, on both stores).
fn upsert_dossiers(
    e: &mut Exec,
    batch: &[RegisterRow],
    at: &str,
    seq: i64,
) -> Result<ImportCounts, DbError> {
    let n = batch.len();
    let codes: Vec<Value> = batch.iter().map(|r| Value::from(&r.code)).collect();
    let known: u64 = e.value(
        &format!(
            "SELECT COUNT(*) FROM dossiers WHERE code IN ({})",
            placeholders(1, n)
        ),
        &codes,
    )?;
    let mut args = Vec::with_capacity(2 + DOSSIER_ROW_PARAMS * n);
    args.extend([Value::from(at), Value::from(seq)]);
    for r in batch {
        dossier_params(r, &mut args);
    }
    let written = e.execute(&dossier_upsert_sql(n), &args)?;
    let added = n as u64 - known;
    let updated = written.saturating_sub(added);
    Ok(ImportCounts {
        added,
        updated,
        unchanged: known.saturating_sub(updated),
    })
}

impl Records {
    /// Upserts register rows by dossier code in one transaction, a batch of
    /// rows per statement. A row equal to what is recorded changes nothing, so
    /// importing twice is a no-op. The counts and the rows written are those
    /// of upserting the rows one by one in order.
    pub fn upsert_register(&self, rows: &[RegisterRow]) -> Result<ImportCounts, RecordsError> {
        let at = now();
        Ok(self.db.transaction(|e| {
            // One number per import, taken under a lock on PostgreSQL, so a station
            // pulling rows after (number, code) misses none of a later import.
            if !e.is_sqlite() {
                e.execute("SELECT pg_advisory_xact_lock(706169)", &[])?;
            }
            let seq: i64 = e.value(
                "SELECT CAST(COALESCE(MAX(register_seq), 0) + 1 AS BIGINT) FROM dossiers",
                &[],
            )?;
            for batch in procedures(rows).chunks(BATCH_ROWS) {
                let args: Vec<Value> = batch.iter().flatten().cloned().collect();
                e.execute(&procedure_upsert_sql(batch.len()), &args)?;
            }
            let mut counts = ImportCounts::default();
            for batch in batches(rows, BATCH_ROWS) {
                let c = upsert_dossiers(e, batch, &at, seq)?;
                counts.added += c.added;
                counts.updated += c.updated;
                counts.unchanged += c.unchanged;
            }
            Ok(counts)
        })?)
    }

    /// Replaces the unit tree.
    pub fn replace_units(&self, units: &[Unit]) -> Result<(), RecordsError> {
        self.db.transaction(|e| {
            e.execute("DELETE FROM units", &[])?;
            for u in units {
                e.execute(
                    "INSERT INTO units (code, name, level, parent, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6)",
                    vals![&u.code, &u.name, u.level.as_str(), u.parent.clone(), date_text(u.valid_from), date_text(u.valid_to)],
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// The stored unit tree (empty until `sohoa units import`).
    pub fn units(&self) -> Result<Vec<Unit>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT code, name, level, parent, valid_from, valid_to FROM units ORDER BY id",
                &[],
            )
        })?;
        let date = |s: Option<String>| s.and_then(|s| s.parse::<NaiveDate>().ok());
        rows.iter()
            .map(|r| {
                Ok(Unit {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    level: Level::parse(&r.get::<String>(2)?).unwrap_or(Level::Xa),
                    parent: r.get(3)?,
                    valid_from: date(r.get(4)?),
                    valid_to: date(r.get(5)?),
                })
            })
            .collect()
    }

    /// Counts per unit code, tree segment and group key, in one pass over the
    /// covering index `dossiers_report`. Rows are folded here rather than by a
    /// SQL `GROUP BY`, which would sort every row (seconds over a million).
    pub fn report_cells(
        &self,
        sel: &Selection,
        breakpoints: &[NaiveDate],
        key: GroupKey,
    ) -> Result<Vec<Cell>, RecordsError> {
        let key_sql = match key {
            GroupKey::None | GroupKey::Month => "NULL",
            GroupKey::Procedure => "procedure_code",
            GroupKey::Field => "field",
        };
        let (filter, args) = sel.clause();
        let hint = if self.db.is_sqlite() {
            "INDEXED BY dossiers_report"
        } else {
            ""
        };
        let sql = format!(
            "SELECT unit_code, received_on, {key_sql}, report_flags FROM dossiers {hint} WHERE {filter}"
        );
        let by_month = key == GroupKey::Month;
        let mut fold = Fold {
            breakpoints: breakpoints.iter().map(|d| d.to_string()).collect(),
            signed_only: sel.signed_only,
            ..Fold::default()
        };
        match self.db.sqlite_conn() {
            // A million rows: read them in place rather than as owned values.
            Some(conn) => {
                let conn = conn?;
                let mut stmt = conn.prepare(&super::db::for_sqlite(&sql))?;
                let params = args.iter().map(super::db::sqlite_param);
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                let text =
                    |r: &rusqlite::Row, i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
                while let Some(r) = rows.next()? {
                    let unit = r.get_ref(0)?;
                    let received = r.get_ref(1)?;
                    let (Ok(unit), Ok(received)) = (unit.as_str(), received.as_str()) else {
                        continue;
                    };
                    let k = if by_month { None } else { text(r, 2)? };
                    fold.row(unit, received, k.as_deref(), by_month, r.get(3)?);
                }
            }
            None => self.db.run(|e| {
                e.scan(&sql, &args, |r| {
                    let unit: String = r.get(0)?;
                    let received: String = r.get(1)?;
                    let k: Option<String> = if by_month { None } else { r.get(2)? };
                    fold.row(&unit, &received, k.as_deref(), by_month, r.get(3)?);
                    Ok(())
                })
            })?,
        }
        let names: HashMap<String, String> = if key == GroupKey::Procedure {
            let rows = self.db.run(|e| {
                e.query(
                    "SELECT code, name FROM procedures WHERE name IS NOT NULL",
                    &[],
                )
            })?;
            rows.iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<Result<_, RecordsError>>()?
        } else {
            HashMap::new()
        };
        Ok(fold.cells(&names))
    }

    /// Dossiers with no receipt date (opaque codes never found in a register):
    /// reports leave them out and say how many.
    pub fn dossiers_without_receipt_date(
        &self,
        units: Option<&[String]>,
    ) -> Result<u64, RecordsError> {
        let mut sql = String::from("SELECT COUNT(*) FROM dossiers WHERE received_on IS NULL");
        let mut args: Vec<Value> = Vec::new();
        if let Some(units) = units {
            let ps: Vec<String> = (1..=units.len()).map(|i| format!("${i}")).collect();
            sql.push_str(&format!(" AND unit_code IN ({})", ps.join(", ")));
            args.extend(units.iter().map(|u| Value::Text(u.clone())));
        }
        Ok(self.db.run(|e| e.value(&sql, &args))?)
    }

    /// Dossiers of the selection not yet digitized (766 §4.2), oldest first;
    /// with `signed_only`, those whose copies are not signed too.
    pub fn missing(&self, sel: &Selection) -> Result<Vec<MissingDossier>, RecordsError> {
        let (filter, args) = sel.clause();
        let (component, result) = match sel.signed_only {
            true => ("signed_component", "signed_result"),
            false => ("has_component", "has_result"),
        };
        let sql = format!(
            "SELECT code, unit_code, received_on, procedure_code, procedure_name, has_component, has_result,
                    signed_component, signed_result, paper_result, resolved_on
             FROM dossiers
             WHERE {filter} AND NOT ({component} = 1 AND (paper_result IS DISTINCT FROM 1 OR {result} = 1))
             ORDER BY received_on, code"
        );
        let rows = self.db.run(|e| e.query(&sql, &args))?;
        rows.iter()
            .map(|r| {
                Ok(MissingDossier {
                    code: r.get(0)?,
                    unit_code: r.get(1)?,
                    received_on: r.get(2)?,
                    procedure_code: r.get(3)?,
                    procedure_name: r.get(4)?,
                    has_component: r.get(5)?,
                    has_result: r.get(6)?,
                    signed_component: r.get(7)?,
                    signed_result: r.get(8)?,
                    paper_result: r.get(9)?,
                    resolved_on: r.get(10)?,
                })
            })
            .collect()
    }
}
