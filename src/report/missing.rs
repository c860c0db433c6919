//! `sohoa report missing`: dossiers received in the period and not yet
//! digitized (766 §4.2), per unit in tree order, oldest first, with what each
//! still lacks, so operators can close the gap.

use super::{signed_note, unit_label, unknown_label, Period};
use crate::format::{count, date, UiLanguage};
use crate::records::MissingDossier;
use crate::units::UnitTree;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct MissingLine {
    pub code: String,
    pub received_on: String,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    /// What is still to scan, in words.
    pub lacking: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissingGroup {
    /// Unit code as the dossiers carry it.
    pub unit_code: String,
    /// "UBND xã Cao Quảng (000.21.18.H44)", or the code alone when unknown.
    pub unit: String,
    pub dossiers: Vec<MissingLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissingReport {
    pub title: String,
    pub period: Period,
    pub total: u64,
    pub groups: Vec<MissingGroup>,
    #[serde(skip)]
    pub lang: UiLanguage,
}

/// What a dossier still lacks to count as digitized (766 §4.2), as a clause;
/// with `signed_only` an unsigned copy counts as none, and the clause says
/// which copies are there but unsigned.
pub fn lacking(d: &MissingDossier, signed_only: bool, lang: UiLanguage) -> String {
    let vi = lang == UiLanguage::Vi;
    let (component, result) = d.counted(signed_only);
    let needs_result = d.paper_result == Some(true) && !result;
    let unresolved = d.resolved_on.is_none();
    // An unresolved dossier's result is not due yet: only its components are asked for.
    let needs_result_now = needs_result && !unresolved;
    let signed = match (signed_only, vi) {
        (false, _) => "",
        (true, true) => " đã ký số",
        (true, false) => " signed",
    };
    let mut clause: String = match (component, needs_result_now, vi) {
        (false, true, true) => format!("chưa có thành phần hồ sơ và kết quả số hóa{signed}"),
        (false, true, false) => format!("no{signed} digitized component or result"),
        (false, false, true) => format!("chưa có thành phần hồ sơ số hóa{signed}"),
        (false, false, false) => format!("no{signed} digitized component"),
        (true, _, true) if unresolved => format!(
            "chưa có kết quả số hóa{signed} (thủ tục trả kết quả giấy; hồ sơ chưa trả kết quả)"
        ),
        (true, _, true) => format!("chưa có kết quả số hóa{signed} (thủ tục trả kết quả giấy)"),
        (true, _, false) if unresolved => {
            format!("no{signed} digitized result (paper result; not yet returned)")
        }
        (true, _, false) => format!("no{signed} digitized result (paper result)"),
    };
    let unsigned_component = !component && d.has_component;
    let unsigned_result = needs_result && d.has_result;
    if signed_only && (unsigned_component || unsigned_result) {
        let what = match (unsigned_component, unsigned_result, vi) {
            (true, true, true) => "thành phần hồ sơ và kết quả",
            (true, false, true) => "thành phần hồ sơ",
            (false, _, true) => "kết quả",
            (true, true, false) => "the component and the result",
            (true, false, false) => "the component",
            (false, _, false) => "the result",
        };
        clause += &match vi {
            true => format!(
                "; {what} đã số hóa nhưng chưa ký số: sohoa sign --dossier {}",
                d.code
            ),
            false => format!(
                "; {what} digitized but not signed: sohoa sign --dossier {}",
                d.code
            ),
        };
    }
    clause
}

pub fn missing_report(
    period: &Period,
    rows: &[MissingDossier],
    tree: &UnitTree,
    signed_only: bool,
    lang: UiLanguage,
) -> MissingReport {
    // Tree order (depth first) for units; unknown codes after them.
    let mut order: HashMap<usize, usize> = HashMap::new();
    let mut stack: Vec<usize> = tree.children(None).into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        order.insert(i, order.len());
        stack.extend(tree.children(Some(i)).into_iter().rev());
    }
    let mut groups: Vec<(usize, String, MissingGroup)> = Vec::new();
    let mut index: HashMap<(Option<usize>, String), usize> = HashMap::new();
    for d in rows {
        let row = d
            .received_on
            .parse::<NaiveDate>()
            .ok()
            .and_then(|day| tree.at(&d.unit_code, day));
        let slot = *index.entry((row, d.unit_code.clone())).or_insert_with(|| {
            let (rank, label) = match row {
                Some(i) => (
                    order.get(&i).copied().unwrap_or(usize::MAX - 1),
                    unit_label(tree, i),
                ),
                None => (
                    usize::MAX,
                    format!("{} ({})", d.unit_code, unknown_label(lang).to_lowercase()),
                ),
            };
            groups.push((
                rank,
                d.unit_code.clone(),
                MissingGroup {
                    unit_code: d.unit_code.clone(),
                    unit: label,
                    dossiers: Vec::new(),
                },
            ));
            groups.len() - 1
        });
        groups[slot].2.dossiers.push(MissingLine {
            code: d.code.clone(),
            received_on: d.received_on.clone(),
            procedure_code: d.procedure_code.clone(),
            procedure_name: d.procedure_name.clone(),
            lacking: lacking(d, signed_only, lang),
        });
    }
    groups.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let title = match lang {
        UiLanguage::Vi => format!(
            "Hồ sơ chưa số hóa{}, {}",
            signed_note(signed_only, lang),
            period.heading(lang)
        ),
        UiLanguage::En => format!(
            "Dossiers not yet digitized{}, {}",
            signed_note(signed_only, lang),
            period.heading(lang)
        ),
    };
    MissingReport {
        title,
        period: period.clone(),
        total: rows.len() as u64,
        groups: groups.into_iter().map(|g| g.2).collect(),
        lang,
    }
}

fn procedure(l: &MissingLine) -> String {
    match (&l.procedure_code, &l.procedure_name) {
        (Some(c), Some(n)) => format!("{c} {n}"),
        (Some(c), None) => c.clone(),
        (None, Some(n)) => n.clone(),
        (None, None) => "-".into(),
    }
}

impl MissingReport {
    pub fn to_text(&self) -> String {
        let vi = self.lang == UiLanguage::Vi;
        let noun = if vi { "hồ sơ" } else { "dossiers" };
        let mut out = format!("{}: {} {noun}\n", self.title, count(self.total, self.lang));
        for g in &self.groups {
            out.push_str(&format!(
                "{}: {} {noun}\n",
                g.unit,
                count(g.dossiers.len() as u64, self.lang)
            ));
            for l in &g.dossiers {
                out.push_str(&format!(
                    "  {}  {}  {} – {}\n",
                    date(&l.received_on, self.lang),
                    l.code,
                    procedure(l),
                    l.lacking
                ));
            }
        }
        if self.total == 0 {
            out.push_str(if vi {
                "Mọi hồ sơ tiếp nhận trong kỳ đã được số hóa.\n"
            } else {
                "Every dossier received in the period is digitized.\n"
            });
        }
        out
    }

    pub fn to_csv(&self) -> Vec<u8> {
        let vi = self.lang == UiLanguage::Vi;
        let mut w = csv::WriterBuilder::new()
            .delimiter(if vi { b';' } else { b',' })
            .from_writer(b"\xEF\xBB\xBF".to_vec());
        let head: [&str; 7] = if vi {
            [
                "Mã đơn vị",
                "Đơn vị",
                "Mã hồ sơ",
                "Ngày tiếp nhận",
                "Mã TTHC",
                "Tên TTHC",
                "Còn thiếu",
            ]
        } else {
            [
                "Unit code",
                "Unit",
                "Dossier code",
                "Received",
                "Procedure code",
                "Procedure",
                "Lacking",
            ]
        };
        let _ = w.write_record(head);
        for g in &self.groups {
            for l in &g.dossiers {
                let _ = w.write_record([
                    g.unit_code.as_str(),
                    g.unit.as_str(),
                    l.code.as_str(),
                    &date(&l.received_on, self.lang),
                    l.procedure_code.as_deref().unwrap_or(""),
                    l.procedure_name.as_deref().unwrap_or(""),
                    l.lacking.as_str(),
                ]);
            }
        }
        w.into_inner().unwrap_or_default()
    }
}
