//! The receipt register (sổ theo dõi hồ sơ) exported from one-stop systems:
//! one row per dossier received, mapped by header names to [`RegisterRow`]s.
//! A row that cannot be used (no code, an unreadable date or value) is
//! refused with its line and reason; a row whose flags contradict each other
//! is imported as the register gives it, with the [`Contradiction`] noted, so
//! the dossier stays in every denominator it belongs to. The records module
//! upserts the rows by dossier code.

use crate::codes::DossierCode;
use crate::format::UiLanguage;
use crate::tabular::{fold, parse_date, parse_yes_no, Table};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How the dossier was submitted (Hình thức nộp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    TrucTiep,
    TrucTuyen,
    BuuChinh,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::TrucTiep => "truc_tiep",
            Channel::TrucTuyen => "truc_tuyen",
            Channel::BuuChinh => "buu_chinh",
        }
    }

    /// The form `as_str` gives.
    pub fn from_stored(s: &str) -> Option<Channel> {
        [Channel::TrucTiep, Channel::TrucTuyen, Channel::BuuChinh]
            .into_iter()
            .find(|c| c.as_str() == s)
    }

    /// `trực tiếp` / `trực tuyến` / `bưu chính`, or the DVCQG channel numbers 1/2/3;
    /// longer wordings such as "Trực tuyến mức độ 4" or "Qua dịch vụ bưu chính công ích" too.
    pub fn parse(s: &str) -> Option<Channel> {
        let f = fold(s);
        let has = |words: &[&str]| words.iter().any(|w| f.contains(w));
        match f.as_str() {
            "1" => Some(Channel::TrucTiep),
            "2" => Some(Channel::TrucTuyen),
            "3" => Some(Channel::BuuChinh),
            _ if has(&["tructuyen", "online", "dvctt", "dichvucong"]) => Some(Channel::TrucTuyen),
            _ if has(&["buuchinh", "buudien"]) => Some(Channel::BuuChinh),
            _ if has(&["tructiep", "taiquay", "motcua"]) => Some(Channel::TrucTiep),
            _ => None,
        }
    }
}

/// One dossier of the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterRow {
    pub line: usize,
    pub code: String,
    pub standard_code: bool,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub field: Option<String>,
    pub unit_code: String,
    pub received_on: NaiveDate,
    pub channel: Option<Channel>,
    /// The procedure is eligible for full online service (DVC toàn trình).
    pub full_online: Option<bool>,
    pub has_fee: Option<bool>,
    pub paid_online: Option<bool>,
    pub due_on: Option<NaiveDate>,
    /// Date the result was returned: the dossier is resolved.
    pub resolved_on: Option<NaiveDate>,
    /// The procedure returns a paper result, so digitizing needs the result too.
    pub paper_result: Option<bool>,
    /// Flags of the row that disagree, kept on the dossier (`register_note`).
    /// Absent on the wire when empty, and keys a station does not know are
    /// dropped, so stations and servers of other versions read each other.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "known_contradictions"
    )]
    pub contradictions: Vec<Contradiction>,
}

/// Flags of one row that disagree with each other. The row is imported as the
/// register gives it and each indicator counts it by its own rule (`counted`
/// says how); the dossier is never dropped from the count of those received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contradiction {
    /// `Thanh toán trực tuyến` = có but `Có phí` = không.
    PaidOnlineWithoutFee,
    /// `Ngày trả kết quả` before `Ngày tiếp nhận`.
    ReturnedBeforeReceipt,
}

impl Contradiction {
    pub const ALL: [Contradiction; 2] = [
        Contradiction::PaidOnlineWithoutFee,
        Contradiction::ReturnedBeforeReceipt,
    ];

    /// The stable key (stored in `dossiers.register_note`, sent to stations, in `--json`).
    pub fn key(self) -> &'static str {
        match self {
            Contradiction::PaidOnlineWithoutFee => "paid_online_without_fee",
            Contradiction::ReturnedBeforeReceipt => "returned_before_receipt",
        }
    }

    pub fn from_key(s: &str) -> Option<Contradiction> {
        Self::ALL.into_iter().find(|c| c.key() == s)
    }

    /// What disagrees (operator-facing).
    pub fn what(self, lang: UiLanguage) -> &'static str {
        match (self, lang) {
            (Contradiction::PaidOnlineWithoutFee, UiLanguage::Vi) => {
                "thanh toán trực tuyến = có nhưng có phí = không"
            }
            (Contradiction::PaidOnlineWithoutFee, UiLanguage::En) => {
                "paid online = yes but has a fee = no"
            }
            (Contradiction::ReturnedBeforeReceipt, UiLanguage::Vi) => {
                "ngày trả kết quả trước ngày tiếp nhận"
            }
            (Contradiction::ReturnedBeforeReceipt, UiLanguage::En) => {
                "result returned before the receipt date"
            }
        }
    }

    /// How the indicators count such a row (the rules of `Counts::add`).
    pub fn counted(self, lang: UiLanguage) -> &'static str {
        match (self, lang) {
            (Contradiction::PaidOnlineWithoutFee, UiLanguage::Vi) => {
                "hồ sơ vẫn được tính vào số hồ sơ tiếp nhận; chỉ tiêu thanh toán trực tuyến chỉ tính hồ sơ có phí nên không tính hồ sơ này ở cả tử số lẫn mẫu số"
            }
            (Contradiction::PaidOnlineWithoutFee, UiLanguage::En) => {
                "the dossier still counts as received; the online payment indicator counts only dossiers with a fee, so this one is in neither its numerator nor its denominator"
            }
            (Contradiction::ReturnedBeforeReceipt, UiLanguage::Vi) => {
                "hồ sơ được tính theo ngày tiếp nhận và, vì có ngày trả kết quả, là hồ sơ đã giải quyết (chỉ tiêu số hóa kết quả)"
            }
            (Contradiction::ReturnedBeforeReceipt, UiLanguage::En) => {
                "the dossier counts by its receipt date and, having a return date, as resolved (result digitization indicator)"
            }
        }
    }
}

/// The stored form of a row's contradictions: keys joined by `,`, or none.
pub fn note_of(list: &[Contradiction]) -> Option<String> {
    (!list.is_empty()).then(|| list.iter().map(|c| c.key()).collect::<Vec<_>>().join(","))
}

/// The contradictions a stored note names (keys of a later version dropped).
pub fn contradictions_of(note: Option<&str>) -> Vec<Contradiction> {
    note.unwrap_or("")
        .split(',')
        .filter_map(Contradiction::from_key)
        .collect()
}

fn known_contradictions<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Contradiction>, D::Error> {
    let keys: Vec<String> = Deserialize::deserialize(d)?;
    Ok(keys
        .iter()
        .filter_map(|k| Contradiction::from_key(k))
        .collect())
}

/// Why a row cannot be used at all: the summary groups refused rows by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    MissingCode,
    MissingReceiptDate,
    MissingUnit,
    BadDate,
    UnknownChannel,
    BadYesNo,
    RepeatedCode,
}

impl Refusal {
    /// The reason in a few words (operator-facing); each row's own text says more.
    pub fn what(self, lang: UiLanguage) -> &'static str {
        let vi = lang == UiLanguage::Vi;
        match self {
            Refusal::MissingCode if vi => "thiếu mã hồ sơ",
            Refusal::MissingCode => "missing dossier code",
            Refusal::MissingReceiptDate if vi => "thiếu ngày tiếp nhận",
            Refusal::MissingReceiptDate => "missing receipt date",
            Refusal::MissingUnit if vi => "thiếu mã đơn vị",
            Refusal::MissingUnit => "missing unit code",
            Refusal::BadDate if vi => "ngày không hợp lệ",
            Refusal::BadDate => "invalid date",
            Refusal::UnknownChannel if vi => "hình thức nộp không rõ",
            Refusal::UnknownChannel => "unknown submission channel",
            Refusal::BadYesNo if vi => "cột có/không ghi giá trị khác",
            Refusal::BadYesNo => "a yes/no column holds something else",
            Refusal::RepeatedCode if vi => "mã hồ sơ trùng với một dòng trước",
            Refusal::RepeatedCode => "dossier code repeats an earlier line",
        }
    }
}

/// A row that was refused, and why (operator-facing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadRow {
    pub line: usize,
    pub code: String,
    pub kind: Refusal,
    pub reason: String,
}

/// The register's columns, each with the header names that map to it.
/// Defaults are the headers of the national one-stop exports; `[register.columns]`
/// in the config adds names (e.g. `code = ["Số hồ sơ"]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnNames {
    pub code: Vec<String>,
    pub procedure_code: Vec<String>,
    pub procedure_name: Vec<String>,
    pub field: Vec<String>,
    pub unit_code: Vec<String>,
    pub received_on: Vec<String>,
    pub channel: Vec<String>,
    pub full_online: Vec<String>,
    pub has_fee: Vec<String>,
    pub paid_online: Vec<String>,
    pub due_on: Vec<String>,
    pub resolved_on: Vec<String>,
    pub paper_result: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Col {
    Code,
    ProcedureCode,
    ProcedureName,
    Field,
    UnitCode,
    ReceivedOn,
    Channel,
    FullOnline,
    HasFee,
    PaidOnline,
    DueOn,
    ResolvedOn,
    PaperResult,
}

const DEFAULTS: &[(Col, &str)] = &[
    (Col::Code, "Mã hồ sơ"),
    (Col::ProcedureCode, "Mã TTHC"),
    (Col::ProcedureName, "Tên TTHC"),
    (Col::Field, "Lĩnh vực"),
    (Col::UnitCode, "Mã đơn vị"),
    (Col::ReceivedOn, "Ngày tiếp nhận"),
    (Col::Channel, "Hình thức nộp"),
    (Col::FullOnline, "DVC toàn trình"),
    (Col::HasFee, "Có phí"),
    (Col::PaidOnline, "Thanh toán trực tuyến"),
    (Col::DueOn, "Ngày hẹn trả"),
    (Col::ResolvedOn, "Ngày trả kết quả"),
    (Col::PaperResult, "Có kết quả giấy"),
];

impl ColumnNames {
    fn extra(&self, c: Col) -> &[String] {
        match c {
            Col::Code => &self.code,
            Col::ProcedureCode => &self.procedure_code,
            Col::ProcedureName => &self.procedure_name,
            Col::Field => &self.field,
            Col::UnitCode => &self.unit_code,
            Col::ReceivedOn => &self.received_on,
            Col::Channel => &self.channel,
            Col::FullOnline => &self.full_online,
            Col::HasFee => &self.has_fee,
            Col::PaidOnline => &self.paid_online,
            Col::DueOn => &self.due_on,
            Col::ResolvedOn => &self.resolved_on,
            Col::PaperResult => &self.paper_result,
        }
    }
}

/// The whole file cannot be read as a register (operator-facing).
#[derive(Debug, Clone, PartialEq)]
pub struct MissingColumns(pub String);

/// Rows of `table` as register rows; bad rows (and repeats of a code already
/// seen in the file) are returned apart with their reason.
pub fn parse(
    table: Table,
    names: &ColumnNames,
    lang: UiLanguage,
) -> Result<(Vec<RegisterRow>, Vec<BadRow>), MissingColumns> {
    let vi = lang == UiLanguage::Vi;
    let wanted = |c: Col| -> Vec<&str> {
        let default = DEFAULTS
            .iter()
            .find(|(d, _)| *d == c)
            .map_or("", |(_, n)| *n);
        std::iter::once(default)
            .chain(names.extra(c).iter().map(String::as_str))
            .collect()
    };
    let table = table.find_header(&[&wanted(Col::Code), &wanted(Col::ReceivedOn)]);
    let mut cols: HashMap<Col, usize> = HashMap::new();
    for &(c, _) in DEFAULTS {
        if let Some(i) = table.column(&wanted(c)) {
            cols.insert(c, i);
        }
    }
    if !cols.contains_key(&Col::Code) || !cols.contains_key(&Col::ReceivedOn) {
        return Err(MissingColumns(if vi {
            format!(
                "Tệp không có cột \"Mã hồ sơ\" hoặc \"Ngày tiếp nhận\" (tên cột không phân biệt hoa thường, dấu, khoảng trắng). Các cột của tệp: {}. Nếu hệ thống một cửa dùng tên khác, hãy khai báo trong mục [register.columns] của tệp cấu hình.",
                table.headers.join(", ")
            )
        } else {
            format!(
                "The file has no \"Mã hồ sơ\" or \"Ngày tiếp nhận\" column (matched ignoring case, accents and spaces). Its columns: {}. If the one-stop system uses other names, map them in [register.columns] of the config file.",
                table.headers.join(", ")
            )
        }));
    }
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in &table.rows {
        let cell = |c: Col| -> &str {
            cols.get(&c)
                .and_then(|&i| row.cells.get(i))
                .map(String::as_str)
                .unwrap_or("")
        };
        let code = cell(Col::Code).to_string();
        match parse_row(row.line, &cell, vi) {
            Ok(r) => {
                if let Some(first) = seen.get(&r.code) {
                    bad.push(BadRow {
                        line: row.line,
                        code,
                        kind: Refusal::RepeatedCode,
                        reason: if vi {
                            format!("mã hồ sơ trùng với dòng {first}; dòng này bị bỏ qua")
                        } else {
                            format!("dossier code repeats line {first}; this line is skipped")
                        },
                    });
                } else {
                    seen.insert(r.code.clone(), row.line);
                    rows.push(r);
                }
            }
            Err((kind, reason)) => bad.push(BadRow {
                line: row.line,
                code,
                kind,
                reason,
            }),
        }
    }
    Ok((rows, bad))
}

fn parse_row<'a>(
    line: usize,
    cell: &dyn Fn(Col) -> &'a str,
    vi: bool,
) -> Result<RegisterRow, (Refusal, String)> {
    let say = |kind: Refusal, vi_text: String, en_text: String| {
        (kind, if vi { vi_text } else { en_text })
    };
    let code = cell(Col::Code);
    if code.is_empty() {
        return Err(say(
            Refusal::MissingCode,
            "thiếu mã hồ sơ".into(),
            "missing dossier code".into(),
        ));
    }
    let parsed = DossierCode::parse(code);
    let date = |c: Col, label_vi: &str, label_en: &str| {
        let s = cell(c);
        if s.is_empty() {
            return Ok(None);
        }
        parse_date(s).map(Some).ok_or_else(|| {
            say(
                Refusal::BadDate,
                format!("{label_vi} \"{s}\" không phải ngày hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)"),
                format!("{label_en} \"{s}\" is not a valid date (dd/mm/yyyy or yyyy-mm-dd)"),
            )
        })
    };
    let yes_no = |c: Col, label: &str| {
        parse_yes_no(cell(c)).map_err(|_| {
            say(
                Refusal::BadYesNo,
                format!(
                    "cột \"{label}\" phải là có hoặc không, không phải \"{}\"",
                    cell(c)
                ),
                format!(
                    "column \"{label}\" must be có or không, not \"{}\"",
                    cell(c)
                ),
            )
        })
    };
    let received_on = match date(Col::ReceivedOn, "ngày tiếp nhận", "receipt date")? {
        Some(d) => d,
        None => parsed.as_ref().and_then(|p| p.received).ok_or_else(|| {
            say(
                Refusal::MissingReceiptDate,
                "thiếu ngày tiếp nhận".into(),
                "missing receipt date".into(),
            )
        })?,
    };
    let unit_code = match cell(Col::UnitCode) {
        "" => parsed.as_ref().map(|p| p.unit.clone()).ok_or_else(|| {
            say(
                Refusal::MissingUnit,
                "thiếu mã đơn vị (mã hồ sơ không theo mẫu chuẩn nên không suy ra được)".into(),
                "missing unit code (the dossier code is not standard, so it cannot be inferred)"
                    .into(),
            )
        })?,
        u => u.to_string(),
    };
    let channel = match cell(Col::Channel) {
        "" => None,
        s => Some(Channel::parse(s).ok_or_else(|| {
            say(
                Refusal::UnknownChannel,
                format!("hình thức nộp \"{s}\" không rõ (trực tiếp, trực tuyến hoặc bưu chính)"),
                format!("unknown submission channel \"{s}\" (trực tiếp, trực tuyến or bưu chính)"),
            )
        })?),
    };
    let resolved_on = date(Col::ResolvedOn, "ngày trả kết quả", "return date")?;
    let has_fee = yes_no(Col::HasFee, "Có phí")?;
    let paid_online = yes_no(Col::PaidOnline, "Thanh toán trực tuyến")?;
    let full_online = yes_no(Col::FullOnline, "DVC toàn trình")?;
    let due_on = date(Col::DueOn, "ngày hẹn trả", "due date")?;
    let paper_result = yes_no(Col::PaperResult, "Có kết quả giấy")?;
    // Kept as given: each indicator's rule already decides how such a row counts.
    let mut contradictions = Vec::new();
    if paid_online == Some(true) && has_fee == Some(false) {
        contradictions.push(Contradiction::PaidOnlineWithoutFee);
    }
    if resolved_on.is_some_and(|r| r < received_on) {
        contradictions.push(Contradiction::ReturnedBeforeReceipt);
    }
    let text = |c: Col| Some(cell(c).to_string()).filter(|s| !s.is_empty());
    Ok(RegisterRow {
        line,
        code: code.to_string(),
        standard_code: parsed.is_some(),
        procedure_code: text(Col::ProcedureCode).map(|p: String| procedure_code(&p)),
        procedure_name: text(Col::ProcedureName),
        field: text(Col::Field),
        unit_code,
        received_on,
        channel,
        full_online,
        has_fee,
        paid_online,
        due_on,
        resolved_on,
        paper_result,
        contradictions,
    })
}

/// A national procedure code typed into a spreadsheet becomes a number and
/// loses trailing zeros (`2.000480` → `2.00048`); put them back.
fn procedure_code(s: &str) -> String {
    match s.split_once('.') {
        Some((a, b))
            if a.len() == 1
                && !b.is_empty()
                && b.len() < 6
                && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit()) =>
        {
            format!("{a}.{b:0<6}")
        }
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::read_csv;

    const HEAD: &str = "Mã hồ sơ;Mã TTHC;Tên TTHC;Lĩnh vực;Mã đơn vị;Ngày tiếp nhận;Hình thức nộp;DVC toàn trình;Có phí;Thanh toán trực tuyến;Ngày hẹn trả;Ngày trả kết quả;Có kết quả giấy";

    fn parse_text(body: &str) -> (Vec<RegisterRow>, Vec<BadRow>) {
        let t = read_csv(format!("{HEAD}\n{body}").as_bytes(), "r.csv").unwrap();
        parse(t.clone(), &ColumnNames::default(), UiLanguage::Vi).unwrap()
    }

    #[test]
    fn a_good_row() {
        let (rows, bad) = parse_text(
            "000.00.18.H44-230314-0027;1.001612;Đăng ký khai sinh;Hộ tịch;000.00.18.H44;14/03/2023;Trực tuyến;Có;Có;Có;20/03/2023;17/03/2023;Có\n",
        );
        assert!(bad.is_empty(), "{bad:?}");
        let r = &rows[0];
        assert_eq!(r.line, 2);
        assert_eq!(r.channel, Some(Channel::TrucTuyen));
        assert_eq!(
            Channel::parse("Trực tuyến mức độ 4"),
            Some(Channel::TrucTuyen)
        );
        assert_eq!(
            Channel::parse("Qua dịch vụ bưu chính công ích"),
            Some(Channel::BuuChinh)
        );
        assert_eq!(
            Channel::parse("Nộp trực tiếp tại Bộ phận một cửa"),
            Some(Channel::TrucTiep)
        );
        assert_eq!(Channel::parse("3"), Some(Channel::BuuChinh));
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(r.full_online, Some(true));
        assert_eq!(
            r.resolved_on,
            Some(NaiveDate::from_ymd_opt(2023, 3, 17).unwrap())
        );
        assert!(r.standard_code);
    }

    #[test]
    fn each_bad_row_has_its_line_and_reason() {
        let (rows, bad) = parse_text(
            ";1.001612;X;Y;000.00.18.H44;14/03/2023;Trực tiếp;;;;;;\n\
             A-1;1.001612;X;Y;000.00.18.H44;31/02/2023;Trực tiếp;;;;;;\n\
             A-2;1.001612;X;Y;000.00.18.H44;01/03/2023;fax;;;;;;\n\
             A-3;1.001612;X;Y;000.00.18.H44;01/03/2023;Trực tiếp;có lẽ;;;;;\n\
             A-4;1.001612;X;Y;;01/03/2023;Trực tiếp;;;;;;\n\
             A-7;1.001612;X;Y;U;01/03/2023;bưu chính;;;;;;\n\
             A-7;1.001612;X;Y;U;02/03/2023;bưu chính;;;;;;\n\
             A-8;1.001612;X;Y;U;01/03/2023;Trực tiếp;;;;;01/03/2023;\n",
        );
        assert_eq!(
            rows.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
            ["A-7", "A-8"]
        );
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 8]);
        let kinds: Vec<Refusal> = bad.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [
                Refusal::MissingCode,
                Refusal::BadDate,
                Refusal::UnknownChannel,
                Refusal::BadYesNo,
                Refusal::MissingUnit,
                Refusal::RepeatedCode
            ]
        );
        assert!(bad[0].reason.contains("thiếu mã hồ sơ"));
        assert!(bad[1].reason.contains("31/02/2023"));
        assert!(bad[2].reason.contains("fax"));
        assert!(bad[3].reason.contains("DVC toàn trình"));
        assert!(bad[4].reason.contains("thiếu mã đơn vị"));
        assert!(bad[5].reason.contains("dòng 7"));
        // Returned on the day of receipt is no contradiction.
        assert!(rows.iter().all(|r| r.contradictions.is_empty()));
    }

    /// Issue 18: a row paid online with no fee was dropped, so the dossier
    /// vanished from every denominator. It is imported as given, noted.
    #[test]
    fn rows_whose_flags_contradict_are_imported_with_the_contradiction_noted() {
        let (rows, bad) = parse_text(
            "A-5;1.001612;X;Y;U;01/03/2023;Trực tiếp;;;;;28/02/2023;\n\
             A-6;1.001612;X;Y;U;01/03/2023;Trực tuyến;Có;Không;Có;;;\n\
             A-9;1.001612;X;Y;U;01/03/2023;Trực tuyến;Có;Không;Có;;28/02/2023;\n",
        );
        assert!(bad.is_empty(), "{bad:?}");
        let noted: Vec<&[Contradiction]> =
            rows.iter().map(|r| r.contradictions.as_slice()).collect();
        use Contradiction::*;
        assert_eq!(
            noted,
            [
                &[ReturnedBeforeReceipt][..],
                &[PaidOnlineWithoutFee],
                &[PaidOnlineWithoutFee, ReturnedBeforeReceipt]
            ]
        );
        // The flags stay as the register gives them: the indicators' rules count them.
        assert_eq!(
            (rows[1].has_fee, rows[1].paid_online),
            (Some(false), Some(true))
        );
        assert_eq!(
            rows[0].resolved_on,
            Some(NaiveDate::from_ymd_opt(2023, 2, 28).unwrap())
        );
        // Stored as keys, read back; a key of a later version is dropped.
        let note = note_of(&rows[2].contradictions);
        assert_eq!(
            note.as_deref(),
            Some("paid_online_without_fee,returned_before_receipt")
        );
        assert_eq!(contradictions_of(note.as_deref()), rows[2].contradictions);
        assert_eq!(note_of(&[]), None);
        assert_eq!(
            contradictions_of(Some("later_key,returned_before_receipt")),
            [ReturnedBeforeReceipt]
        );
        for c in Contradiction::ALL {
            assert_eq!(Contradiction::from_key(c.key()), Some(c));
            assert!(c.counted(UiLanguage::Vi).contains("tính"));
        }
    }

    /// The wire: no field when there is nothing to note (an older station
    /// reads the row as before), unknown keys from a newer server dropped.
    #[test]
    fn contradictions_on_the_wire() {
        let (rows, _) =
            parse_text("A-1;;;;U;01/03/2023;;;Không;Có;;;\nA-2;;;;U;01/03/2023;;;;;;;\n");
        let json = serde_json::to_value(&rows).unwrap();
        assert_eq!(json[0]["contradictions"][0], "paid_online_without_fee");
        assert!(json[1].get("contradictions").is_none());
        let mut newer = json[0].clone();
        newer["contradictions"] = serde_json::json!(["paid_online_without_fee", "later_key"]);
        let back: RegisterRow = serde_json::from_value(newer).unwrap();
        assert_eq!(back, rows[0]);
        let older: RegisterRow = serde_json::from_value(json[1].clone()).unwrap();
        assert_eq!(older, rows[1]);
    }

    #[test]
    fn standard_codes_fill_in_unit_and_date() {
        let t = read_csv(
            "ma ho so,ngay tiep nhan\n000.20.18.H44-230322-0005,\n".as_bytes(),
            "r.csv",
        )
        .unwrap();
        let (rows, bad) = parse(t.clone(), &ColumnNames::default(), UiLanguage::Vi).unwrap();
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(rows[0].unit_code, "000.20.18.H44");
        assert_eq!(
            rows[0].received_on,
            NaiveDate::from_ymd_opt(2023, 3, 22).unwrap()
        );
    }

    #[test]
    fn other_header_names_through_the_config() {
        let t = read_csv("Số hồ sơ,Ngày nhận\nX-1,01/02/2024\n".as_bytes(), "r.csv").unwrap();
        assert!(parse(t.clone(), &ColumnNames::default(), UiLanguage::Vi).is_err());
        let names = ColumnNames {
            code: vec!["Số hồ sơ".into()],
            received_on: vec!["Ngày nhận".into()],
            unit_code: vec![],
            ..Default::default()
        };
        let (rows, bad) = parse(t, &names, UiLanguage::Vi).unwrap();
        assert!(rows.is_empty());
        assert!(bad[0].reason.contains("thiếu mã đơn vị"), "{bad:?}");
    }

    #[test]
    fn procedure_codes_get_their_zeros_back() {
        assert_eq!(procedure_code("2.00048"), "2.000480");
        assert_eq!(procedure_code("1.001612"), "1.001612");
        assert_eq!(
            procedure_code("1.002835.000.00.00.H56"),
            "1.002835.000.00.00.H56"
        );
    }
}
