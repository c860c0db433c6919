//! Tables that offices export from their one-stop systems: CSV (UTF-8 with or
//! without BOM, comma or semicolon) and XLSX (first sheet), read into header
//! cells and rows of text with the line number a spreadsheet shows. Used by
//! the register and unit imports; header matching is accent-insensitive.

use chrono::NaiveDate;
use std::path::Path;
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line (CSV) or row (XLSX) number as the user sees it.
    pub line: usize,
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a readable CSV file: {message}")]
    Csv { path: String, message: String },
    #[error("{path} is not a readable XLSX workbook: {message}")]
    Xlsx { path: String, message: String },
    #[error("{path} has no header row")]
    Empty { path: String },
}

impl Table {
    /// Reads a `.xlsx` workbook (by extension or by its ZIP signature) or a CSV file.
    pub fn read(path: &Path) -> Result<Table, TableError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| TableError::Read {
            path: shown.clone(),
            source,
        })?;
        let is_xlsx = bytes.starts_with(b"PK\x03\x04")
            || path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        if is_xlsx {
            read_xlsx(bytes, &shown)
        } else {
            read_csv(&bytes, &shown)
        }
    }

    /// The first row that is not empty is the header; empty rows are dropped.
    fn from_rows(rows: Vec<Row>, shown: &str) -> Result<Table, TableError> {
        let mut rows = rows
            .into_iter()
            .filter(|r| r.cells.iter().any(|c| !c.is_empty()));
        let headers = rows
            .next()
            .ok_or_else(|| TableError::Empty { path: shown.into() })?
            .cells;
        Ok(Table {
            headers,
            rows: rows.collect(),
        })
    }

    /// Exports often put a title and a date range above the real header. When
    /// the header lacks one of the `required` columns (each given by its
    /// accepted names), the first of the next 20 rows that has them all becomes
    /// the header, and the rows above it are dropped.
    pub fn find_header(self, required: &[&[&str]]) -> Table {
        let has_all = |cells: &[String]| {
            required.iter().all(|names| {
                let wanted: Vec<String> = names.iter().map(|n| fold(n)).collect();
                cells.iter().any(|c| wanted.contains(&fold(c)))
            })
        };
        if has_all(&self.headers) {
            return self;
        }
        match self.rows.iter().take(20).position(|r| has_all(&r.cells)) {
            Some(i) => {
                let mut rows = self.rows;
                let header = rows.remove(i);
                rows.drain(..i);
                Table {
                    headers: header.cells,
                    rows,
                }
            }
            None => self,
        }
    }

    /// Index of the column whose header folds to one of `names` (see [`fold`]).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        let wanted: Vec<String> = names.iter().map(|n| fold(n)).collect();
        self.headers.iter().position(|h| wanted.contains(&fold(h)))
    }
}

/// Parses CSV text; the delimiter (`,` or `;`) is whichever the header line has more of.
pub fn read_csv(bytes: &[u8], shown: &str) -> Result<Table, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| TableError::Csv {
        path: shown.into(),
        message: format!("not UTF-8 text ({e})"),
    })?;
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let (mut counted_to, mut newlines) = (0usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|e| TableError::Csv {
            path: shown.into(),
            message: e.to_string(),
        })?;
        // The line as an editor shows it (csv's own count skips blank lines).
        let line = record.position().map_or(0, |p| {
            let bytes = text.as_bytes();
            let mut at = (p.byte() as usize).min(bytes.len());
            // The record's offset may point at the blank lines before it.
            while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
                at += 1;
            }
            // Count only what lies between the last record and this one:
            // counting from the start each time made large registers quadratic.
            newlines += bytes[counted_to.min(at)..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted_to = counted_to.max(at);
            newlines + 1
        });
        rows.push(Row {
            line,
            cells: record.iter().map(clean).collect(),
        });
    }
    Table::from_rows(rows, shown)
}

fn read_xlsx(bytes: Vec<u8>, shown: &str) -> Result<Table, TableError> {
    use calamine::{Data, Reader};
    let err = |e: &dyn std::fmt::Display| TableError::Xlsx {
        path: shown.into(),
        message: e.to_string(),
    };
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|e| err(&e))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| TableError::Empty { path: shown.into() })?
        .map_err(|e| err(&e))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Data::DateTime(d) => {
                    let (y, m, day, ..) = d.to_ymd_hms_milli();
                    format!("{y:04}-{m:02}-{day:02}")
                }
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                Data::Empty => String::new(),
                other => clean(&other.to_string()),
            })
            .collect();
        rows.push(Row {
            line: first_row + i + 1,
            cells,
        });
    }
    Table::from_rows(rows, shown)
}

/// Trimmed NFC text.
fn clean(s: &str) -> String {
    s.trim().nfc().collect()
}

/// Folds text for matching names typed by people: lower case, no diacritics
/// (`đ` → `d`), letters and digits only. `"Mã  hồ sơ"` and `"MA HO SO"` fold alike.
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A date as registers write it: `dd/mm/yyyy` (optionally followed by a
/// time), `dd-mm-yyyy`, or ISO `yyyy-mm-dd` (optionally with a time).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let day = s.split([' ', 'T']).next()?.trim();
    if let Ok(d) = NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        return Some(d);
    }
    for fmt in ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(day, fmt) {
            return Some(d);
        }
    }
    None
}

/// A cell that is neither yes nor no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotYesNo;

/// Yes/no as registers write it (`có`/`không`, `x`, `1`/`0`, …); `Ok(None)` when empty.
pub fn parse_yes_no(s: &str) -> Result<Option<bool>, NotYesNo> {
    let f = fold(s);
    match f.as_str() {
        "" => Ok(None),
        "co" | "c" | "x" | "1" | "yes" | "y" | "true" | "dung" => Ok(Some(true)),
        "khong" | "k" | "ko" | "0" | "no" | "n" | "false" | "sai" => Ok(Some(false)),
        // "Không thu phí", "Chưa thanh toán", "Đã thanh toán", "Có thu phí"
        _ if f.starts_with("khong") || f.starts_with("chua") => Ok(Some(false)),
        _ if f.starts_with("dathanhtoan") || f.starts_with("cothu") || f.starts_with("cophi") => {
            Ok(Some(true))
        }
        _ => Err(NotYesNo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_spaces_and_diacritics() {
        assert_eq!(fold("Mã hồ sơ"), "mahoso");
        assert_eq!(fold(" MA  HO SO "), "mahoso");
        assert_eq!(fold("Mã đơn vị cấp trên"), "madonvicaptren");
        // NFD input folds the same as NFC.
        assert_eq!(fold("Ma\u{0303} ho\u{0302}\u{0300} so\u{031b}"), "mahoso");
        assert_eq!(fold("DVC toàn trình"), "dvctoantrinh");
    }

    #[test]
    fn dates_in_the_forms_registers_use() {
        let d = NaiveDate::from_ymd_opt(2023, 3, 14).unwrap();
        assert_eq!(parse_date("14/03/2023"), Some(d));
        assert_eq!(parse_date("14/3/2023"), Some(d));
        assert_eq!(parse_date("2023-03-14"), Some(d));
        assert_eq!(parse_date("14/03/2023 08:15"), Some(d));
        assert_eq!(parse_date("2023-03-14T08:15:00"), Some(d));
        assert_eq!(parse_date("2023/03/14"), Some(d));
        assert_eq!(parse_date("31/02/2023"), None);
        assert_eq!(parse_date("hôm qua"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn yes_no() {
        assert_eq!(parse_yes_no("Có"), Ok(Some(true)));
        assert_eq!(parse_yes_no("KHÔNG"), Ok(Some(false)));
        assert_eq!(parse_yes_no(""), Ok(None));
        assert_eq!(parse_yes_no("có thể"), Err(NotYesNo));
        assert_eq!(parse_yes_no("Đã thanh toán"), Ok(Some(true)));
        assert_eq!(parse_yes_no("Chưa thanh toán"), Ok(Some(false)));
        assert_eq!(parse_yes_no("Không thu phí"), Ok(Some(false)));
        assert_eq!(parse_yes_no("Có thu phí"), Ok(Some(true)));
        assert_eq!(parse_yes_no("Đang xử lý"), Err(NotYesNo));
    }

    #[test]
    fn csv_with_bom_and_semicolons() {
        let text = "\u{feff}Mã hồ sơ;Tên TTHC\n\nA-1;\"Đăng ký; khai sinh\"\n  A-2 ; Cấp phép\n";
        let t = read_csv(text.as_bytes(), "x.csv").unwrap();
        assert_eq!(t.headers, vec!["Mã hồ sơ", "Tên TTHC"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells, vec!["A-1", "Đăng ký; khai sinh"]);
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.rows[1].cells, vec!["A-2", "Cấp phép"]);
        assert_eq!(t.column(&["ma ho so"]), Some(0));
        assert_eq!(t.column(&["TÊN TTHC"]), Some(1));
        assert_eq!(t.column(&["Lĩnh vực"]), None);
    }

    #[test]
    fn a_title_above_the_header_is_skipped() {
        let text = "SỔ THEO DÕI HỒ SƠ\nTừ ngày 01/01/2023 đến ngày 31/12/2023\n\nSTT,Mã hồ sơ,Ngày tiếp nhận\n1,A-1,02/01/2023\n";
        let t = read_csv(text.as_bytes(), "x.csv")
            .unwrap()
            .find_header(&[&["Mã hồ sơ"], &["Ngày tiếp nhận", "Ngày nhận"]]);
        assert_eq!(t.headers, vec!["STT", "Mã hồ sơ", "Ngày tiếp nhận"]);
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].line, 5);
    }

    #[test]
    fn csv_with_commas_keeps_quoted_commas() {
        let t = read_csv(b"a,b\n\"1,5\",2\n", "x.csv").unwrap();
        assert_eq!(t.rows[0].cells, vec!["1,5", "2"]);
    }

    #[test]
    fn latin1_is_refused_clearly() {
        let e = read_csv(b"M\xe3 h\xf4 s\xf5\n", "x.csv").unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }
}
