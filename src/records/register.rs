//! The register side of the records: receipt-register rows upserted onto
//! dossiers, the unit tree, and the counts reports are made of.

use super::{now, Records, RecordsError};
use crate::register::{Channel, RegisterRow};
use crate::units::{Level, Unit};
use chrono::NaiveDate;
use rusqlite::{params, params_from_iter};
use serde::Serialize;

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
    pub paper_result: Option<bool>,
    pub resolved_on: Option<String>,
}

const COUNT_COLUMNS: &str = "COUNT(*),
    SUM(has_component),
    SUM(has_component AND (paper_result IS NOT 1 OR has_result)),
    SUM(resolved_on IS NOT NULL),
    SUM(resolved_on IS NOT NULL AND (has_result OR paper_result IS NOT 1)),
    SUM(full_online IS 1),
    SUM(full_online IS 1 AND channel IS 'truc_tuyen'),
    SUM(has_fee IS 1),
    SUM(has_fee IS 1 AND paid_online IS 1),
    SUM(registered_at IS NOT NULL)";

fn counts_at(r: &rusqlite::Row, first: usize) -> rusqlite::Result<Counts> {
    let n = |i: usize| -> rusqlite::Result<u64> {
        Ok(r.get::<_, Option<i64>>(first + i)?.unwrap_or(0) as u64)
    };
    Ok(Counts {
        received: n(0)?,
        with_component: n(1)?,
        digitized: n(2)?,
        resolved: n(3)?,
        resolved_digitized: n(4)?,
        eligible_online: n(5)?,
        online: n(6)?,
        with_fee: n(7)?,
        paid_online: n(8)?,
        in_register: n(9)?,
    })
}

impl Selection {
    /// `WHERE` clause and its parameters.
    fn clause(&self) -> (String, Vec<String>) {
        let mut sql = String::from("received_on IS NOT NULL");
        let mut args = Vec::new();
        if let Some(f) = self.from {
            sql.push_str(" AND received_on >= ?");
            args.push(f.to_string());
        }
        if let Some(t) = self.to {
            sql.push_str(" AND received_on <= ?");
            args.push(t.to_string());
        }
        if let Some(units) = &self.units {
            sql.push_str(" AND unit_code IN (");
            sql.push_str(&vec!["?"; units.len()].join(","));
            sql.push(')');
            args.extend(units.iter().cloned());
        }
        (sql, args)
    }
}

fn opt_bool(b: Option<bool>) -> Option<i64> {
    b.map(i64::from)
}

impl Records {
    /// Upserts register rows by dossier code in one transaction. A row equal
    /// to what is recorded changes nothing, so importing twice is a no-op.
    pub fn upsert_register(&mut self, rows: &[RegisterRow]) -> Result<ImportCounts, RecordsError> {
        let tx = self.conn.transaction()?;
        let mut counts = ImportCounts::default();
        {
            let mut exists = tx.prepare("SELECT 1 FROM dossiers WHERE code = ?1")?;
            let mut upsert = tx.prepare(
                "INSERT INTO dossiers (code, unit_code, received_on, standard_code, first_seen_at, procedure_code,
                    procedure_name, field, channel, full_online, has_fee, paid_online, due_on, resolved_on,
                    paper_result, registered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?5)
                 ON CONFLICT (code) DO UPDATE SET unit_code = excluded.unit_code, received_on = excluded.received_on,
                    procedure_code = excluded.procedure_code, procedure_name = excluded.procedure_name,
                    field = excluded.field, channel = excluded.channel, full_online = excluded.full_online,
                    has_fee = excluded.has_fee, paid_online = excluded.paid_online, due_on = excluded.due_on,
                    resolved_on = excluded.resolved_on, paper_result = excluded.paper_result,
                    registered_at = excluded.registered_at
                 WHERE (unit_code, received_on, procedure_code, procedure_name, field, channel, full_online, has_fee,
                        paid_online, due_on, resolved_on, paper_result, registered_at IS NOT NULL)
                   IS NOT (excluded.unit_code, excluded.received_on, excluded.procedure_code, excluded.procedure_name,
                        excluded.field, excluded.channel, excluded.full_online, excluded.has_fee, excluded.paid_online,
                        excluded.due_on, excluded.resolved_on, excluded.paper_result, 1)",
            )?;
            let at = now();
            for r in rows {
                let known = exists.exists([&r.code])?;
                let changed = upsert.execute(params![
                    r.code,
                    r.unit_code,
                    r.received_on.to_string(),
                    r.standard_code,
                    at,
                    r.procedure_code,
                    r.procedure_name,
                    r.field,
                    r.channel.map(Channel::as_str),
                    opt_bool(r.full_online),
                    opt_bool(r.has_fee),
                    opt_bool(r.paid_online),
                    r.due_on.map(|d| d.to_string()),
                    r.resolved_on.map(|d| d.to_string()),
                    opt_bool(r.paper_result),
                ])?;
                match (known, changed) {
                    (false, _) => counts.added += 1,
                    (true, 0) => counts.unchanged += 1,
                    (true, _) => counts.updated += 1,
                }
            }
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Replaces the unit tree.
    pub fn replace_units(&mut self, units: &[Unit]) -> Result<(), RecordsError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM units", [])?;
        {
            let mut ins = tx.prepare(
                "INSERT INTO units (code, name, level, parent, valid_from, valid_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for u in units {
                ins.execute(params![
                    u.code,
                    u.name,
                    u.level.as_str(),
                    u.parent,
                    u.valid_from.map(|d| d.to_string()),
                    u.valid_to.map(|d| d.to_string())
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The stored unit tree (empty until `sohoa units import`).
    pub fn units(&self) -> Result<Vec<Unit>, RecordsError> {
        let mut stmt = self.conn.prepare(
            "SELECT code, name, level, parent, valid_from, valid_to FROM units ORDER BY rowid",
        )?;
        let date = |s: Option<String>| s.and_then(|s| s.parse::<NaiveDate>().ok());
        let rows = stmt
            .query_map([], |r| {
                Ok(Unit {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    level: Level::parse(&r.get::<_, String>(2)?).unwrap_or(Level::Xa),
                    parent: r.get(3)?,
                    valid_from: date(r.get(4)?),
                    valid_to: date(r.get(5)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Counts per unit code, tree segment and group key, in one pass over the
    /// report index.
    pub fn report_cells(
        &self,
        sel: &Selection,
        breakpoints: &[NaiveDate],
        key: GroupKey,
    ) -> Result<Vec<Cell>, RecordsError> {
        let segment = if breakpoints.is_empty() {
            "0".to_string()
        } else {
            breakpoints
                .iter()
                .map(|d| format!("(received_on >= '{d}')"))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let (key_sql, name_sql) = match key {
            GroupKey::None => ("NULL", "NULL"),
            GroupKey::Procedure => ("procedure_code", "MAX(procedure_name)"),
            GroupKey::Field => ("field", "NULL"),
            GroupKey::Month => ("substr(received_on, 1, 7)", "NULL"),
        };
        let (filter, args) = sel.clause();
        let sql = format!(
            "SELECT unit_code, {segment}, {key_sql}, {name_sql}, {COUNT_COLUMNS}
             FROM dossiers INDEXED BY dossiers_report WHERE {filter} GROUP BY 1, 2, 3"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok(Cell {
                    unit_code: r.get(0)?,
                    segment: r.get::<_, i64>(1)? as usize,
                    key: r.get(2)?,
                    key_name: r.get(3)?,
                    counts: counts_at(r, 4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Dossiers with no receipt date (opaque codes never found in a register):
    /// reports leave them out and say how many.
    pub fn dossiers_without_receipt_date(&self) -> Result<u64, RecordsError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM dossiers WHERE received_on IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Dossiers of the selection not yet digitized (766 §4.2), oldest first.
    pub fn missing(&self, sel: &Selection) -> Result<Vec<MissingDossier>, RecordsError> {
        let (filter, args) = sel.clause();
        let sql = format!(
            "SELECT code, unit_code, received_on, procedure_code, procedure_name, has_component, has_result,
                    paper_result, resolved_on
             FROM dossiers WHERE {filter} AND NOT (has_component AND (paper_result IS NOT 1 OR has_result))
             ORDER BY received_on, code"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok(MissingDossier {
                    code: r.get(0)?,
                    unit_code: r.get(1)?,
                    received_on: r.get(2)?,
                    procedure_code: r.get(3)?,
                    procedure_name: r.get(4)?,
                    has_component: r.get(5)?,
                    has_result: r.get(6)?,
                    paper_result: r.get(7)?,
                    resolved_on: r.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
