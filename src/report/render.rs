//! Text and CSV forms of a report.

use super::{Line, Report, INDICATORS};
use crate::format::UiLanguage;

impl Report {
    /// The sentence form of one line, as the seed writes it:
    /// `Cấp huyện: số hóa 845/922 hồ sơ, đạt 91,65%; …; thanh toán trực tuyến 164/212 hồ sơ, đạt 77,36%.`
    pub fn sentence(&self, line: &Line) -> String {
        let parts: Vec<String> = line
            .indicators
            .iter()
            .map(|r| format!("{} {}", r.indicator.verb(self.lang), r.text))
            .collect();
        format!("{}: {}.", line.label, parts.join("; "))
    }

    /// Only the digitization figure: `số hóa 845/922 hồ sơ, đạt 91,65%`.
    pub fn sentence_short(&self, line: &Line) -> String {
        let r = &line.indicators[0];
        format!("{} {}", r.indicator.verb(self.lang), r.text)
    }

    pub fn to_text(&self) -> String {
        let vi = self.lang == UiLanguage::Vi;
        let mut out = format!("{}\n", self.title);
        for l in &self.lines {
            out.push_str(&"  ".repeat(l.depth));
            out.push_str(&self.sentence(l));
            out.push('\n');
        }
        out.push_str(&self.sentence(&self.total));
        out.push('\n');
        out.push_str(if vi {
            "Cách tính:\n"
        } else {
            "Definitions:\n"
        });
        for (i, d) in &self.definitions {
            out.push_str(&format!("  - {}: {d}.\n", i.title(self.lang)));
        }
        out.push_str(if vi {
            "  Tỷ lệ làm tròn nửa lên đến 2 chữ số thập phân; N/A khi mẫu số bằng 0.\n"
        } else {
            "  Percentages rounded half-up to 2 decimals; N/A when the denominator is 0.\n"
        });
        for w in &self.warnings {
            out.push_str(if vi { "Lưu ý: " } else { "Note: " });
            out.push_str(w);
            out.push('\n');
        }
        out
    }

    /// Header cells of the tabular forms (CSV, XLSX, HTML).
    pub fn columns(&self) -> Vec<String> {
        let vi = self.lang == UiLanguage::Vi;
        let mut h: Vec<String> = if vi {
            vec!["Mã".into(), "Tên".into(), "Cấp".into()]
        } else {
            vec!["Key".into(), "Name".into(), "Level".into()]
        };
        for i in INDICATORS {
            let t = i.title(self.lang);
            if vi {
                h.extend([
                    format!("{t} – tử số"),
                    format!("{t} – mẫu số"),
                    format!("{t} – tỷ lệ (%)"),
                ]);
            } else {
                h.extend([
                    format!("{t} – numerator"),
                    format!("{t} – denominator"),
                    format!("{t} – rate (%)"),
                ]);
            }
        }
        h
    }

    /// Lines then the total.
    pub fn all_lines(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().chain(std::iter::once(&self.total))
    }

    /// CSV for spreadsheets: `;` and decimal comma in Vietnamese (what Excel
    /// expects in a Vietnamese locale), `,` and decimal point in English; UTF-8 with BOM.
    pub fn to_csv(&self) -> Vec<u8> {
        let vi = self.lang == UiLanguage::Vi;
        let mut w = csv::WriterBuilder::new()
            .delimiter(if vi { b';' } else { b',' })
            .from_writer(b"\xEF\xBB\xBF".to_vec());
        let _ = w.write_record(self.columns());
        for l in self.all_lines() {
            let mut row = vec![
                l.key.clone(),
                format!("{}{}", "  ".repeat(l.depth), l.label),
                l.level
                    .map(|lv| lv.label(self.lang).to_string())
                    .unwrap_or_default(),
            ];
            for r in &l.indicators {
                row.push(r.numerator.to_string());
                row.push(r.denominator.to_string());
                row.push(match r.hundredths {
                    None => "N/A".into(),
                    Some(h) => format!("{}{}{:02}", h / 100, if vi { ',' } else { '.' }, h % 100),
                });
            }
            let _ = w.write_record(row);
        }
        w.into_inner().unwrap_or_default()
    }
}
