//! The register side of the records: receipt-register rows upserted onto
//! dossiers, the unit tree, and the counts reports are made of.

use super::{now, Records, RecordsError};
use crate::register::{Channel, RegisterRow};
use crate::units::{Level, Unit};
use chrono::NaiveDate;
use rusqlite::{params, params_from_iter};
use serde::Serialize;
use std::collections::HashMap;

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

impl Counts {
    /// Counts one dossier described by its `report_flags` (migration 0003). The definitions of the indicators live here
    /// (and, for the list of dossiers not digitized, in `Records::missing`).
    fn add(&mut self, f: i64) {
        let bit = |b: u32| f & (1 << b) != 0;
        let (component, result, paper, resolved) = (bit(0), bit(1), bit(2), bit(3));
        let (eligible, online, fee, paid, registered) = (bit(4), bit(5), bit(6), bit(7), bit(8));
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
    }
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
            let mut procedure = tx.prepare(
                "INSERT INTO procedures (code, name, field) VALUES (?1, ?2, ?3)
                 ON CONFLICT (code) DO UPDATE SET name = coalesce(excluded.name, name),
                    field = coalesce(excluded.field, field)
                 WHERE (name, field) IS NOT (coalesce(excluded.name, name), coalesce(excluded.field, field))",
            )?;
            let at = now();
            for r in rows {
                if let Some(code) = &r.procedure_code {
                    procedure.execute(params![code, r.procedure_name, r.field])?;
                }
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
        let sql = format!(
            "SELECT unit_code, received_on, {key_sql}, report_flags
             FROM dossiers INDEXED BY dossiers_report WHERE {filter}"
        );
        let breakpoints: Vec<String> = breakpoints.iter().map(|d| d.to_string()).collect();
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        // Interned strings, so a row costs no allocation.
        let mut units: HashMap<String, usize> = HashMap::new();
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut cells: HashMap<(usize, usize, usize), Counts> = HashMap::new();
        let intern = |map: &mut HashMap<String, usize>, s: &str| match map.get(s) {
            Some(&i) => i,
            None => {
                let i = map.len() + 1;
                map.insert(s.to_string(), i);
                i
            }
        };
        let not_text = |e: rusqlite::types::FromSqlError| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        };
        while let Some(r) = rows.next()? {
            let unit = intern(&mut units, r.get_ref(0)?.as_str().map_err(not_text)?);
            let received = r.get_ref(1)?.as_str().map_err(not_text)?;
            // ISO dates compare as text.
            let segment = breakpoints
                .iter()
                .filter(|b| received >= b.as_str())
                .count();
            let key = match key {
                GroupKey::Month => intern(&mut keys, received.get(..7).unwrap_or(received)),
                _ => match r.get_ref(2)?.as_str_or_null().map_err(not_text)? {
                    Some(k) => intern(&mut keys, k),
                    None => 0,
                },
            };
            let flags: i64 = r.get(3)?;
            cells.entry((unit, key, segment)).or_default().add(flags);
        }
        let names: HashMap<String, String> = if key == GroupKey::Procedure {
            let mut stmt = self
                .conn
                .prepare("SELECT code, name FROM procedures WHERE name IS NOT NULL")?;
            let pairs = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            pairs.collect::<Result<_, _>>()?
        } else {
            HashMap::new()
        };
        let unit_of: HashMap<usize, &String> = units.iter().map(|(s, &i)| (i, s)).collect();
        let key_of: HashMap<usize, &String> = keys.iter().map(|(s, &i)| (i, s)).collect();
        let mut out: Vec<Cell> = cells
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
        Ok(out)
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
