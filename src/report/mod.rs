//! Reports: the Decision 766 digitization indicators and the register rates,
//! per level, unit (rolled up the dated unit tree), procedure, field or month,
//! with exact numerators and denominators, written the way Vietnamese reports
//! write them (`845/922 hồ sơ, đạt 91,65%`); and the list of dossiers still
//! missing scans. Counting happens in `records`; this module groups, rolls up
//! and words the counts.

pub mod html;
pub mod missing;
pub mod period;
mod render;
pub mod xlsx;

pub use missing::{missing_report, MissingGroup, MissingLine, MissingReport};
pub use period::{Period, PeriodSpec};

use crate::format::{percent, percent_hundredths, ratio_phrase, UiLanguage};
use crate::records::{Cell, Counts, GroupKey, Records, RecordsError, Selection};
use crate::units::{Level, UnitTree};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The indicators of a report line, in the order they are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Số hóa hồ sơ (766 §4.2): a digitized component and, where the procedure
    /// returns a paper result, a digitized result / dossiers received.
    SoHoaHoSo,
    /// Số hóa thành phần hồ sơ khi tiếp nhận: a digitized component / received.
    SoHoaThanhPhan,
    /// Số hóa kết quả: resolved with a digitized result or no paper result / resolved.
    SoHoaKetQua,
    /// Tỷ lệ hồ sơ trực tuyến: submitted online / dossiers of procedures
    /// eligible for full online service.
    TrucTuyen,
    /// Tỷ lệ thanh toán trực tuyến: paid online / dossiers with a fee.
    ThanhToanTrucTuyen,
    /// Đã ký số (Circular 01/2023/TT-VPCP, Art. 8.1): dossiers whose every
    /// digitized document carries the officer's valid signature / dossiers
    /// with a digitized component.
    KySo,
}

pub const INDICATORS: [Indicator; 6] = [
    Indicator::SoHoaHoSo,
    Indicator::SoHoaThanhPhan,
    Indicator::SoHoaKetQua,
    Indicator::TrucTuyen,
    Indicator::ThanhToanTrucTuyen,
    Indicator::KySo,
];

/// Said after a title when only signed copies count (`[report] signed_only`).
pub fn signed_note(signed_only: bool, lang: UiLanguage) -> &'static str {
    match (signed_only, lang) {
        (false, _) => "",
        (true, UiLanguage::Vi) => " (chỉ tính bản sao đã ký số)",
        (true, UiLanguage::En) => " (signed copies only)",
    }
}

impl Indicator {
    /// (numerator, denominator).
    pub fn of(self, c: &Counts) -> (u64, u64) {
        match self {
            Indicator::SoHoaHoSo => (c.digitized, c.received),
            Indicator::SoHoaThanhPhan => (c.with_component, c.received),
            Indicator::SoHoaKetQua => (c.resolved_digitized, c.resolved),
            Indicator::TrucTuyen => (c.online, c.eligible_online),
            Indicator::ThanhToanTrucTuyen => (c.paid_online, c.with_fee),
            Indicator::KySo => (c.signed, c.signable),
        }
    }

    /// The words before the ratio in a sentence: "số hóa 845/922 hồ sơ, …".
    pub fn verb(self, lang: UiLanguage) -> &'static str {
        match (self, lang) {
            (Indicator::SoHoaHoSo, UiLanguage::Vi) => "số hóa",
            (Indicator::SoHoaThanhPhan, UiLanguage::Vi) => "số hóa thành phần khi tiếp nhận",
            (Indicator::SoHoaKetQua, UiLanguage::Vi) => "số hóa kết quả",
            (Indicator::TrucTuyen, UiLanguage::Vi) => "nộp trực tuyến",
            (Indicator::ThanhToanTrucTuyen, UiLanguage::Vi) => "thanh toán trực tuyến",
            (Indicator::KySo, UiLanguage::Vi) => "đã ký số",
            (Indicator::SoHoaHoSo, UiLanguage::En) => "digitized",
            (Indicator::SoHoaThanhPhan, UiLanguage::En) => "components digitized at reception",
            (Indicator::SoHoaKetQua, UiLanguage::En) => "results digitized",
            (Indicator::TrucTuyen, UiLanguage::En) => "submitted online",
            (Indicator::ThanhToanTrucTuyen, UiLanguage::En) => "paid online",
            (Indicator::KySo, UiLanguage::En) => "digitally signed",
        }
    }

    /// Column heading.
    pub fn title(self, lang: UiLanguage) -> &'static str {
        match (self, lang) {
            (Indicator::SoHoaHoSo, UiLanguage::Vi) => "Số hóa hồ sơ",
            (Indicator::SoHoaThanhPhan, UiLanguage::Vi) => "Số hóa thành phần khi tiếp nhận",
            (Indicator::SoHoaKetQua, UiLanguage::Vi) => "Số hóa kết quả",
            (Indicator::TrucTuyen, UiLanguage::Vi) => "Nộp trực tuyến",
            (Indicator::ThanhToanTrucTuyen, UiLanguage::Vi) => "Thanh toán trực tuyến",
            (Indicator::KySo, UiLanguage::Vi) => "Đã ký số",
            (Indicator::SoHoaHoSo, UiLanguage::En) => "Dossiers digitized",
            (Indicator::SoHoaThanhPhan, UiLanguage::En) => "Components digitized at reception",
            (Indicator::SoHoaKetQua, UiLanguage::En) => "Results digitized",
            (Indicator::TrucTuyen, UiLanguage::En) => "Online submission",
            (Indicator::ThanhToanTrucTuyen, UiLanguage::En) => "Online payment",
            (Indicator::KySo, UiLanguage::En) => "Digitally signed",
        }
    }

    /// What is counted, for the notes under a table.
    pub fn definition(self, lang: UiLanguage) -> &'static str {
        match (self, lang) {
            (Indicator::SoHoaHoSo, UiLanguage::Vi) => "hồ sơ có ít nhất một thành phần đã số hóa và, nếu thủ tục trả kết quả giấy, có kết quả đã số hóa / hồ sơ tiếp nhận (chỉ số 4.2, QĐ 766/QĐ-TTg)",
            (Indicator::SoHoaThanhPhan, UiLanguage::Vi) => "hồ sơ có ít nhất một thành phần đã số hóa / hồ sơ tiếp nhận",
            (Indicator::SoHoaKetQua, UiLanguage::Vi) => "hồ sơ đã trả kết quả có kết quả đã số hóa hoặc không có kết quả giấy / hồ sơ đã trả kết quả",
            (Indicator::TrucTuyen, UiLanguage::Vi) => "hồ sơ nộp trực tuyến / hồ sơ của thủ tục đủ điều kiện DVC toàn trình",
            (Indicator::ThanhToanTrucTuyen, UiLanguage::Vi) => "hồ sơ thanh toán trực tuyến / hồ sơ có phí",
            (Indicator::KySo, UiLanguage::Vi) => "hồ sơ có mọi bản số hóa (thành phần hồ sơ và kết quả) mang chữ ký số hợp lệ của người số hóa / hồ sơ có ít nhất một thành phần đã số hóa (Điều 8, Thông tư 01/2023/TT-VPCP)",
            (Indicator::SoHoaHoSo, UiLanguage::En) => "dossiers with a digitized component and, where the procedure returns a paper result, a digitized result / dossiers received (indicator 4.2, Decision 766/QĐ-TTg)",
            (Indicator::SoHoaThanhPhan, UiLanguage::En) => "dossiers with a digitized component / dossiers received",
            (Indicator::SoHoaKetQua, UiLanguage::En) => "resolved dossiers with a digitized result or no paper result / resolved dossiers",
            (Indicator::TrucTuyen, UiLanguage::En) => "dossiers submitted online / dossiers of procedures eligible for full online service",
            (Indicator::ThanhToanTrucTuyen, UiLanguage::En) => "dossiers paid online / dossiers with a fee",
            (Indicator::KySo, UiLanguage::En) => "dossiers whose every digitized copy (components and result) carries the digitizing officer's valid signature / dossiers with a digitized component (Art. 8, Circular 01/2023/TT-VPCP)",
        }
    }

    /// Whether `[report] signed_only` changes what it counts.
    pub fn counts_copies(self) -> bool {
        matches!(
            self,
            Indicator::SoHoaHoSo | Indicator::SoHoaThanhPhan | Indicator::SoHoaKetQua
        )
    }
}

/// One indicator of one line, computed exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratio {
    pub indicator: Indicator,
    pub numerator: u64,
    pub denominator: u64,
    /// Percent rounded half-up to 2 decimals, as hundredths (9165 = 91,65 %); `None` when 0/0.
    pub hundredths: Option<u64>,
    /// `91,65%` or `không áp dụng`.
    pub percent: String,
    /// `845/922 hồ sơ, đạt 91,65%`.
    pub text: String,
}

/// One line of a report: a level, a unit (with its subordinates), a procedure, a field or a month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Level name, unit code, procedure code, field or `yyyy-mm`; empty for "unknown".
    pub key: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Indentation in the unit tree (0 elsewhere).
    pub depth: usize,
    pub counts: Counts,
    pub indicators: Vec<Ratio>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Level,
    Unit,
    Procedure,
    Field,
    Month,
}

/// A finished report, ready to print in any format.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    /// Name of the unit the report is about (the one asked for, or the one
    /// every counted dossier falls under), for the heading of an official report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The day the report was made.
    pub made_on: NaiveDate,
    pub period: Period,
    pub level: Option<Level>,
    pub by: By,
    pub lines: Vec<Line>,
    pub total: Line,
    /// Operator-facing warnings (unknown units, dossiers without a receipt date, …).
    pub warnings: Vec<String>,
    pub definitions: Vec<(Indicator, String)>,
    /// Only copies carrying the officer's valid signature count as digitized.
    pub signed_only: bool,
    #[serde(skip)]
    pub lang: UiLanguage,
}

pub fn ratio(indicator: Indicator, counts: &Counts, lang: UiLanguage) -> Ratio {
    let (n, d) = indicator.of(counts);
    Ratio {
        indicator,
        numerator: n,
        denominator: d,
        hundredths: percent_hundredths(n, d),
        percent: percent(n, d, lang),
        text: ratio_phrase(n, d, lang),
    }
}

fn line(
    key: String,
    label: String,
    level: Option<Level>,
    depth: usize,
    counts: Counts,
    lang: UiLanguage,
) -> Line {
    Line {
        key,
        label,
        level,
        depth,
        counts,
        indicators: INDICATORS
            .iter()
            .map(|&i| ratio(i, &counts, lang))
            .collect(),
    }
}

/// What a report asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub period: Period,
    pub level: Option<Level>,
    pub by: By,
    /// Only this unit and the units under it.
    pub unit: Option<String>,
    /// Count as digitized only signed copies (`[report] signed_only`).
    pub signed_only: bool,
    pub lang: UiLanguage,
}

/// Counts the records for `req` and builds the report.
pub fn make(records: &Records, tree: &UnitTree, req: &Request) -> Result<Report, RecordsError> {
    let key = match req.by {
        By::Procedure => GroupKey::Procedure,
        By::Field => GroupKey::Field,
        By::Month => GroupKey::Month,
        By::Level | By::Unit => GroupKey::None,
    };
    let sel = selection(req, tree);
    let cells = records.report_cells(&sel, &tree.breakpoints(), key)?;
    let without = records.dossiers_without_receipt_date(sel.units.as_deref())?;
    let mut report = build(req, &cells, tree, without);
    warn_unverified(&mut report, records.unverified_signatures(&sel)?);
    Ok(report)
}

/// Says how many signed copies are not counted as signed because their
/// signature was not found valid (checked without trust anchors, say).
fn warn_unverified(report: &mut Report, n: u64) {
    if n == 0 {
        return;
    }
    let n = crate::format::count(n, report.lang);
    report.warnings.push(match report.lang {
        UiLanguage::Vi => format!(
            "{n} bản sao đã ký số nhưng chữ ký chưa được xác nhận hợp lệ (chẳng hạn khi ký chưa khai báo chứng thư gốc tin cậy [sign] trust_anchors) nên không được tính là đã ký số. Hãy kiểm tra lại: sohoa verify TỆP (tệp .ky.pdf mà sohoa dossier show liệt kê)"
        ),
        UiLanguage::En => format!(
            "{n} signed copies are not counted as signed: their signature was not found valid (for instance, signed before [sign] trust_anchors was set). Check them again: sohoa verify FILE (the .ky.pdf files sohoa dossier show lists)"
        ),
    });
}

/// The report as asked, plus the same period by unit and by month (what the
/// HTML form draws), from as few passes over the records as possible: by-level,
/// by-unit and by-month lines all come from the per-month counts.
pub fn make_with_charts(
    records: &Records,
    tree: &UnitTree,
    req: &Request,
) -> Result<[Report; 3], RecordsError> {
    let sel = selection(req, tree);
    let bps = tree.breakpoints();
    let cells = records.report_cells(&sel, &bps, GroupKey::Month)?;
    let without = records.dossiers_without_receipt_date(sel.units.as_deref())?;
    let with = |by: By| build(&Request { by, ..req.clone() }, &cells, tree, without);
    let main = match req.by {
        By::Procedure | By::Field => make(records, tree, req)?,
        by => {
            let mut main = with(by);
            warn_unverified(&mut main, records.unverified_signatures(&sel)?);
            main
        }
    };
    Ok([main, with(By::Unit), with(By::Month)])
}

/// The dossiers of a request's period, optionally of one unit and those under it.
pub fn selection(req: &Request, tree: &UnitTree) -> Selection {
    Selection {
        from: req.period.from,
        to: req.period.to,
        units: req.unit.as_deref().map(|u| tree.subtree_codes(u)),
        signed_only: req.signed_only,
    }
}

/// Cells resolved against the tree: which unit row each belongs to.
pub(crate) struct Placed<'a> {
    pub cell: &'a Cell,
    /// Row of the unit tree; `None` when the code is not in force at the receipt date.
    pub unit: Option<usize>,
}

/// A day inside segment `s` (between breakpoints `s-1` and `s`).
fn segment_day(breakpoints: &[NaiveDate], s: usize) -> NaiveDate {
    match s {
        0 => breakpoints
            .first()
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MIN),
        s => breakpoints[s - 1],
    }
}

pub(crate) fn place<'a>(cells: &'a [Cell], tree: &UnitTree) -> Vec<Placed<'a>> {
    let bps = tree.breakpoints();
    cells
        .iter()
        .map(|cell| Placed {
            cell,
            unit: tree.at(&cell.unit_code, segment_day(&bps, cell.segment)),
        })
        .collect()
}

/// Warnings about dossiers whose unit the tree does not know, naming the codes.
pub(crate) fn unknown_unit_warnings(
    placed: &[Placed],
    tree: &UnitTree,
    lang: UiLanguage,
) -> Vec<String> {
    let mut unknown: BTreeMap<&str, u64> = BTreeMap::new();
    for p in placed.iter().filter(|p| p.unit.is_none()) {
        *unknown.entry(&p.cell.unit_code).or_default() += p.cell.counts.received;
    }
    if unknown.is_empty() {
        return Vec::new();
    }
    let vi = lang == UiLanguage::Vi;
    let list = unknown
        .iter()
        .map(|(code, n)| {
            let why = match (tree.knows(code), vi) {
                (true, true) => " – không còn hiệu lực vào ngày tiếp nhận",
                (true, false) => " – not in force on the receipt date",
                _ => "",
            };
            format!("{code}: {}{why}", crate::format::count(*n, lang))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let total: u64 = unknown.values().sum();
    vec![if vi {
        format!(
            "{} hồ sơ thuộc đơn vị không có trong danh mục đơn vị ({list}), được tính vào \"chưa xác định\". Hãy bổ sung danh mục bằng lệnh: sohoa units import TỆP",
            crate::format::count(total, lang)
        )
    } else {
        format!(
            "{} dossiers belong to units missing from the unit tree ({list}) and are counted under \"unknown\". Add them with: sohoa units import FILE",
            crate::format::count(total, lang)
        )
    }]
}

pub(crate) fn unknown_label(lang: UiLanguage) -> &'static str {
    match lang {
        UiLanguage::Vi => "Chưa xác định",
        UiLanguage::En => "Unknown",
    }
}

pub(crate) fn unit_label(tree: &UnitTree, i: usize) -> String {
    let u = tree.unit(i);
    format!("{} ({})", u.name, u.code)
}

/// Builds a report from the counts of `records::report_cells` (made with the
/// same tree's breakpoints and the key matching `req.by`).
pub fn build(req: &Request, cells: &[Cell], tree: &UnitTree, without_date: u64) -> Report {
    let lang = req.lang;
    let vi = lang == UiLanguage::Vi;
    let placed = place(cells, tree);
    let level_of = |p: &Placed| p.unit.map(|i| tree.unit(i).level);
    // The level filter keeps dossiers received by units of that level; unknown units have none.
    let kept: Vec<&Placed> = placed
        .iter()
        .filter(|p| req.level.is_none() || level_of(p) == req.level)
        .collect();
    let mut total = Counts::default();
    for p in &kept {
        total += p.cell.counts;
    }
    let mut lines = Vec::new();
    match req.by {
        By::Level => {
            let mut per: BTreeMap<Option<Level>, Counts> = BTreeMap::new();
            if let Some(l) = req.level {
                per.insert(Some(l), Counts::default());
            }
            for p in &kept {
                *per.entry(level_of(p)).or_default() += p.cell.counts;
            }
            // Levels in order tỉnh, huyện, xã; unknown last.
            let mut entries: Vec<_> = per.into_iter().collect();
            entries.sort_by_key(|(l, _)| (l.is_none(), *l));
            for (l, c) in entries {
                let (key, label) = match l {
                    Some(l) => (l.as_str().to_string(), l.label(lang).to_string()),
                    None => (String::new(), unknown_label(lang).to_string()),
                };
                lines.push(line(key, label, l, 0, c, lang));
            }
        }
        By::Unit => lines = unit_lines(&kept, tree, req, lang),
        By::Procedure | By::Field | By::Month => {
            let mut per: BTreeMap<Option<String>, (Option<String>, Counts)> = BTreeMap::new();
            for p in &kept {
                let e = per.entry(p.cell.key.clone()).or_default();
                if e.0.is_none() {
                    e.0.clone_from(&p.cell.key_name);
                }
                e.1 += p.cell.counts;
            }
            if req.by == By::Month {
                // Every month of the period, those with no dossier too: a
                // gap in a trend is a figure, not a month to skip.
                let seen = || per.keys().flatten().filter_map(|k| month_start(k));
                let from = req.period.from.or_else(|| seen().min());
                let to = req.period.to.or_else(|| seen().max());
                if let (Some(from), Some(to)) = (from, to) {
                    for m in months_between(from, to) {
                        per.entry(Some(m)).or_default();
                    }
                }
            }
            for (key, (name, c)) in per {
                let label = match (&key, name, req.by) {
                    (None, _, _) => if vi { "(không rõ)" } else { "(not given)" }.to_string(),
                    (Some(k), Some(n), _) => format!("{k} – {n}"),
                    (Some(k), None, By::Month) => month_label(k, lang),
                    (Some(k), None, _) => k.clone(),
                };
                lines.push(line(key.unwrap_or_default(), label, None, 0, c, lang));
            }
        }
    }
    let mut warnings = unknown_unit_warnings(&placed, tree, lang);
    if tree.is_empty() {
        warnings.insert(
            0,
            if vi {
                "Dữ liệu này chưa có danh mục đơn vị nên không xác định được cấp và tên của đơn vị. Hãy nhập danh mục: sohoa units import TỆP (mẫu: config/units.toml)".into()
            } else {
                "These records have no unit tree, so units have no level or name. Import one: sohoa units import FILE (sample: config/units.toml)".into()
            },
        );
    }
    if without_date > 0 {
        warnings.push(if vi {
            format!(
                "{} hồ sơ không có ngày tiếp nhận (mã không theo mẫu và chưa có trong sổ tiếp nhận) nên không được tính. Hãy nhập sổ tiếp nhận: sohoa register import TỆP",
                crate::format::count(without_date, lang)
            )
        } else {
            format!(
                "{} dossiers have no receipt date (non-standard code, not in the register) and are not counted. Import the register: sohoa register import FILE",
                crate::format::count(without_date, lang)
            )
        });
    }
    let outside = total.received - total.in_register;
    if total.in_register == 0 && total.received > 0 {
        warnings.push(if vi {
            "Chưa có sổ tiếp nhận cho kỳ này: các số liệu chỉ đếm những hồ sơ đã có bản quét, nên tỷ lệ số hóa không phản ánh số hồ sơ đã tiếp nhận. Hãy nhập sổ tiếp nhận: sohoa register import TỆP".into()
        } else {
            "No receipt register for this period: the figures count only dossiers that have scans, so the digitization rates do not reflect the dossiers received. Import the register: sohoa register import FILE".into()
        });
    }
    if total.in_register > 0 && outside > 0 {
        warnings.push(if vi {
            format!(
                "{} hồ sơ có bản quét nhưng không có trong sổ tiếp nhận đã nhập; chúng được tính với ngày tiếp nhận lấy từ mã hồ sơ.",
                crate::format::count(outside, lang)
            )
        } else {
            format!(
                "{} dossiers have scans but are not in the imported register; they are counted with the receipt date of their code.",
                crate::format::count(outside, lang)
            )
        });
    }
    let only = signed_note(req.signed_only, lang);
    let title = match (lang, req.level) {
        (UiLanguage::Vi, None) => {
            format!(
                "Báo cáo số hóa hồ sơ TTHC{only}, {}",
                req.period.heading(lang)
            )
        }
        (UiLanguage::Vi, Some(l)) => format!(
            "Báo cáo số hóa hồ sơ TTHC{only} – {}, {}",
            l.label(lang).to_lowercase(),
            req.period.heading(lang)
        ),
        (UiLanguage::En, None) => format!(
            "Digitization of administrative dossiers{only}, {}",
            req.period.heading(lang)
        ),
        (UiLanguage::En, Some(l)) => format!(
            "Digitization of administrative dossiers{only} – {}, {}",
            l.label(lang).to_lowercase(),
            req.period.heading(lang)
        ),
    };
    Report {
        title,
        unit: heading_unit(&kept, tree, req),
        made_on: chrono::Local::now().date_naive(),
        period: req.period.clone(),
        level: req.level,
        by: req.by,
        lines,
        total: line(
            String::new(),
            if vi { "Tổng cộng" } else { "Total" }.into(),
            None,
            0,
            total,
            lang,
        ),
        warnings,
        definitions: INDICATORS
            .iter()
            .map(|&i| {
                let mut d = i.definition(lang).to_string();
                if req.signed_only && i.counts_copies() {
                    d += match lang {
                        UiLanguage::Vi => "; chỉ tính bản số hóa mang chữ ký số hợp lệ của người số hóa ([report] signed_only)",
                        UiLanguage::En => "; only copies carrying the digitizing officer's valid signature count ([report] signed_only)",
                    };
                }
                (i, d)
            })
            .collect(),
        signed_only: req.signed_only,
        lang,
    }
}

/// The first day of a `yyyy-mm` key.
fn month_start(key: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d").ok()
}

fn month_label(key: &str, lang: UiLanguage) -> String {
    match (key.split_once('-'), lang) {
        (Some((y, m)), UiLanguage::Vi) => format!("Tháng {}/{y}", m.trim_start_matches('0')),
        _ => key.to_string(),
    }
}

/// The unit rows a report is about, in tree order, each with its depth in the
/// report. With `--unit` that unit and the units under it, nothing above.
/// Without it the whole tree, less what would only be noise: units of a level
/// that received nothing in the period (a district's records list no
/// provincial departments unless one received dossiers) and units not in
/// force; and a top unit that received nothing itself and has one unit shown
/// under it gives way to that unit (a district's report starts at the
/// district committee, not at a province line repeating its total). Units
/// that received dossiers are always shown, with the units above them.
fn shown_units(
    own: &HashMap<usize, Counts>,
    tree: &UnitTree,
    req: &Request,
) -> Vec<(usize, usize)> {
    let in_period = |i: usize| tree.unit(i).overlaps(req.period.from, req.period.to);
    let mut roots: Vec<usize> = match req.unit.as_deref() {
        Some(code) => {
            let rows: Vec<usize> = (0..tree.len())
                .filter(|&i| tree.unit(i).code == code)
                .collect();
            let current: Vec<usize> = rows.iter().copied().filter(|&i| in_period(i)).collect();
            if current.is_empty() {
                rows.last().copied().into_iter().collect()
            } else {
                current
            }
        }
        None => tree.children(None),
    };
    let levels_received: BTreeSet<Level> = own
        .iter()
        .filter(|(_, c)| c.received > 0)
        .map(|(&i, _)| tree.unit(i).level)
        .collect();
    let mut shown: BTreeSet<usize> = BTreeSet::new();
    if req.unit.is_some() {
        shown.extend(roots.iter().copied());
    }
    // Adds `i` and the units above it up to a root; false when `i` is outside every root.
    let show = |i: usize, roots: &[usize], shown: &mut BTreeSet<usize>| {
        let mut path = Vec::new();
        let mut at = Some(i);
        while let Some(j) = at {
            path.push(j);
            if roots.contains(&j) {
                shown.extend(path);
                return true;
            }
            at = tree.parent(j);
        }
        false
    };
    let mut with_dossiers: Vec<usize> = own.keys().copied().collect();
    with_dossiers.sort_unstable();
    for i in with_dossiers {
        if !show(i, &roots, &mut shown) {
            // A row of a code in scope that now sits elsewhere in the tree
            // (a commune moved under the new province): listed on its own.
            roots.push(i);
            shown.insert(i);
        }
    }
    for i in 0..tree.len() {
        let u = tree.unit(i);
        if in_period(i)
            && req.level.is_none_or(|l| l == u.level)
            && levels_received.contains(&u.level)
        {
            show(i, &roots, &mut shown);
        }
    }
    let mut top: Vec<usize> = roots.into_iter().filter(|i| shown.contains(i)).collect();
    if req.unit.is_none() {
        if top.is_empty() {
            top = tree
                .children(None)
                .into_iter()
                .filter(|&i| in_period(i))
                .collect();
            shown.extend(top.iter().copied());
        }
        while let [only] = top[..] {
            let under: Vec<usize> = tree
                .children(Some(only))
                .into_iter()
                .filter(|i| shown.contains(i))
                .collect();
            if under.len() != 1 || own.contains_key(&only) {
                break;
            }
            top = under;
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<(usize, usize)> = top.into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        out.push((i, depth));
        stack.extend(
            tree.children(Some(i))
                .into_iter()
                .filter(|j| shown.contains(j))
                .rev()
                .map(|j| (j, depth + 1)),
        );
    }
    out
}

/// Counts per unit row, and per code the tree does not place.
fn own_counts(kept: &[&Placed]) -> (HashMap<usize, Counts>, BTreeMap<String, Counts>) {
    let mut own: HashMap<usize, Counts> = HashMap::new();
    let mut unknown: BTreeMap<String, Counts> = BTreeMap::new();
    for p in kept {
        match p.unit {
            Some(i) => *own.entry(i).or_default() += p.cell.counts,
            None => *unknown.entry(p.cell.unit_code.clone()).or_default() += p.cell.counts,
        }
    }
    (own, unknown)
}

/// The units of `shown_units`, each line counting its unit and every unit under it.
fn unit_lines(kept: &[&Placed], tree: &UnitTree, req: &Request, lang: UiLanguage) -> Vec<Line> {
    let (own, unknown) = own_counts(kept);
    // Rolled up: each row's own counts added to every ancestor.
    let mut rolled: HashMap<usize, Counts> = HashMap::new();
    for (&i, &c) in &own {
        let mut at = Some(i);
        while let Some(j) = at {
            *rolled.entry(j).or_default() += c;
            at = tree.parent(j);
        }
    }
    let mut lines: Vec<Line> = shown_units(&own, tree, req)
        .into_iter()
        .map(|(i, depth)| {
            let u = tree.unit(i);
            line(
                u.code.clone(),
                unit_label(tree, i),
                Some(u.level),
                depth,
                rolled.get(&i).copied().unwrap_or_default(),
                lang,
            )
        })
        .collect();
    if !unknown.is_empty() {
        let mut all = Counts::default();
        for c in unknown.values() {
            all += *c;
        }
        lines.push(line(
            String::new(),
            unknown_label(lang).into(),
            None,
            0,
            all,
            lang,
        ));
        for (code, c) in unknown {
            lines.push(line(code.clone(), code, None, 1, c, lang));
        }
    }
    lines
}

/// The unit a report is about, for its heading: the one asked for, else the
/// one unit the by-unit lines start from (none when they start from several).
fn heading_unit(kept: &[&Placed], tree: &UnitTree, req: &Request) -> Option<String> {
    let (own, _) = own_counts(kept);
    // Over every level: a report of one level is still the district's report.
    let all_levels = Request {
        level: None,
        ..req.clone()
    };
    match shown_units(&own, tree, &all_levels)
        .iter()
        .filter(|(_, depth)| *depth == 0)
        .collect::<Vec<_>>()[..]
    {
        [(i, _)] => Some(tree.unit(*i).name.clone()),
        _ => None,
    }
}

/// `yyyy-mm` of every month from `from` to `to`.
fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (from.year(), from.month());
    while (y, m) <= (to.year(), to.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

#[cfg(test)]
mod tests;
