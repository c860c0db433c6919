//! The report as an Excel workbook: one sheet with the title, the table
//! (numbers as numbers, rates as percentages), the definitions and warnings,
//! under the heading of an official report and above its signers.

use super::Report;
use crate::format::UiLanguage;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

pub fn render(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let vi = report.lang == UiLanguage::Vi;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(if vi { "Báo cáo" } else { "Report" })?;
    let bold = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_background_color("#DDE7F0");
    let pct = Format::new().set_num_format("0.00%");
    let count = Format::new().set_num_format("#,##0");
    // The heading of an official report: issuing unit on the left, the
    // national heading on the right, the date made under it, then the title.
    let center = Format::new()
        .set_bold()
        .set_align(rust_xlsxwriter::FormatAlign::Center);
    let motto = center
        .clone()
        .set_underline(rust_xlsxwriter::FormatUnderline::Single);
    let italic = Format::new()
        .set_italic()
        .set_align(rust_xlsxwriter::FormatAlign::Center);
    let [nation, freedom] = report.national_heading();
    sheet.write_string_with_format(0, 0, report.issuer(), &center)?;
    sheet.merge_range(0, 3, 0, 11, nation, &center)?;
    sheet.merge_range(1, 3, 1, 11, freedom, &motto)?;
    sheet.merge_range(2, 3, 2, 11, &report.made_on_line(), &italic)?;
    sheet.write_string_with_format(4, 0, &report.title, &bold)?;
    let columns = report.columns();
    let header_row = 6;
    for (c, h) in columns.iter().enumerate() {
        sheet.write_string_with_format(header_row, c as u16, h, &head)?;
    }
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 48)?;
    sheet.set_column_width(2, 12)?;
    for c in 3..columns.len() as u16 {
        sheet.set_column_width(c, 13)?;
    }
    let mut row = header_row + 1;
    for l in report.all_lines() {
        sheet.write_string(row, 0, report.shown_key(l))?;
        sheet.write_string(row, 1, format!("{}{}", "   ".repeat(l.depth), l.label))?;
        if let Some(lv) = l.level {
            sheet.write_string(row, 2, lv.label(report.lang))?;
        }
        for (k, r) in l.indicators.iter().enumerate() {
            let c = 3 + 3 * k as u16;
            sheet.write_number_with_format(row, c, r.numerator as f64, &count)?;
            sheet.write_number_with_format(row, c + 1, r.denominator as f64, &count)?;
            match r.hundredths {
                Some(h) => sheet.write_number_with_format(row, c + 2, h as f64 / 10_000.0, &pct)?,
                None => {
                    sheet.write_string(row, c + 2, crate::format::not_applicable(report.lang))?
                }
            };
        }
        row += 1;
    }
    row += 1;
    for (i, d) in &report.definitions {
        sheet.write_string(row, 1, format!("{}: {d}.", i.title(report.lang)))?;
        row += 1;
    }
    if let Some(n) = report.reading_note() {
        sheet.write_string(row, 1, n)?;
        row += 1;
    }
    for w in &report.warnings {
        sheet.write_string(
            row,
            1,
            format!("{}{w}", if vi { "Lưu ý: " } else { "Note: " }),
        )?;
        row += 1;
    }
    row += 1;
    let [(left, left_how), (right, right_how)] = report.signers();
    sheet.write_string_with_format(row + 1, 1, left, &center)?;
    sheet.write_string_with_format(row + 2, 1, left_how, &italic)?;
    sheet.merge_range(row + 1, 3, row + 1, 11, right, &center)?;
    sheet.merge_range(row + 2, 3, row + 2, 11, right_how, &italic)?;
    book.save_to_buffer()
}
