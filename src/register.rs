//! The receipt register (sổ theo dõi hồ sơ) exported from one-stop systems:
//! one row per dossier received, mapped by header names to [`RegisterRow`]s.
//! Each bad row is named with its line and reason and skipped; the records
//! module upserts the good ones by dossier code.

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
}

/// A row that was skipped, and why (operator-facing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadRow {
    pub line: usize,
    pub code: String,
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
            Err(reason) => bad.push(BadRow {
                line: row.line,
                code,
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
) -> Result<RegisterRow, String> {
    let code = cell(Col::Code);
    if code.is_empty() {
        return Err(if vi {
            "thiếu mã hồ sơ".into()
        } else {
            "missing dossier code".into()
        });
    }
    let parsed = DossierCode::parse(code);
    let date = |c: Col, label_vi: &str, label_en: &str| -> Result<Option<NaiveDate>, String> {
        let s = cell(c);
        if s.is_empty() {
            return Ok(None);
        }
        parse_date(s).map(Some).ok_or_else(|| {
            if vi {
                format!("{label_vi} \"{s}\" không phải ngày hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)")
            } else {
                format!("{label_en} \"{s}\" is not a valid date (dd/mm/yyyy or yyyy-mm-dd)")
            }
        })
    };
    let yes_no = |c: Col, label: &str| -> Result<Option<bool>, String> {
        parse_yes_no(cell(c)).map_err(|_| {
            if vi {
                format!(
                    "cột \"{label}\" phải là có hoặc không, không phải \"{}\"",
                    cell(c)
                )
            } else {
                format!(
                    "column \"{label}\" must be có or không, not \"{}\"",
                    cell(c)
                )
            }
        })
    };
    let received_on = match date(Col::ReceivedOn, "ngày tiếp nhận", "receipt date")? {
        Some(d) => d,
        None => parsed.as_ref().and_then(|p| p.received).ok_or_else(|| {
            if vi {
                "thiếu ngày tiếp nhận".to_string()
            } else {
                "missing receipt date".to_string()
            }
        })?,
    };
    let unit_code = match cell(Col::UnitCode) {
        "" => parsed.as_ref().map(|p| p.unit.clone()).ok_or_else(|| {
            if vi {
                "thiếu mã đơn vị (mã hồ sơ không theo mẫu chuẩn nên không suy ra được)".to_string()
            } else {
                "missing unit code (the dossier code is not standard, so it cannot be inferred)"
                    .to_string()
            }
        })?,
        u => u.to_string(),
    };
    let channel = match cell(Col::Channel) {
        "" => None,
        s => Some(Channel::parse(s).ok_or_else(|| {
            if vi {
                format!("hình thức nộp \"{s}\" không rõ (trực tiếp, trực tuyến hoặc bưu chính)")
            } else {
                format!("unknown submission channel \"{s}\" (trực tiếp, trực tuyến or bưu chính)")
            }
        })?),
    };
    let resolved_on = date(Col::ResolvedOn, "ngày trả kết quả", "return date")?;
    if resolved_on.is_some_and(|r| r < received_on) {
        return Err(if vi {
            "ngày trả kết quả trước ngày tiếp nhận".into()
        } else {
            "result returned before the receipt date".into()
        });
    }
    let has_fee = yes_no(Col::HasFee, "Có phí")?;
    let paid_online = yes_no(Col::PaidOnline, "Thanh toán trực tuyến")?;
    if paid_online == Some(true) && has_fee == Some(false) {
        return Err(if vi {
            "thanh toán trực tuyến = có nhưng có phí = không".into()
        } else {
            "paid online but has no fee".into()
        });
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
        full_online: yes_no(Col::FullOnline, "DVC toàn trình")?,
        has_fee,
        paid_online,
        due_on: date(Col::DueOn, "ngày hẹn trả", "due date")?,
        resolved_on,
        paper_result: yes_no(Col::PaperResult, "Có kết quả giấy")?,
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
             A-5;1.001612;X;Y;U;01/03/2023;Trực tiếp;;;;;28/02/2023;\n\
             A-6;1.001612;X;Y;U;01/03/2023;Trực tiếp;;Không;Có;;;\n\
             A-7;1.001612;X;Y;U;01/03/2023;bưu chính;;;;;;\n\
             A-7;1.001612;X;Y;U;02/03/2023;bưu chính;;;;;;\n",
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].code, "A-7");
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 8, 10]);
        assert!(bad[0].reason.contains("thiếu mã hồ sơ"));
        assert!(bad[1].reason.contains("31/02/2023"));
        assert!(bad[2].reason.contains("fax"));
        assert!(bad[3].reason.contains("DVC toàn trình"));
        assert!(bad[4].reason.contains("thiếu mã đơn vị"));
        assert!(bad[5].reason.contains("trước ngày tiếp nhận"));
        assert!(bad[6].reason.contains("có phí = không"));
        assert!(bad[7].reason.contains("dòng 9"));
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
