//! Text and CSV forms of a report.

use super::{By, Line, Report, INDICATORS};
use crate::format::UiLanguage;
use chrono::Datelike;

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

    /// The key a reader sees in the tabular forms: levels are named in the
    /// name column, their internal key (`huyen`, `xa`) is no code of anyone's.
    pub fn shown_key<'a>(&self, line: &'a Line) -> &'a str {
        if self.by == By::Level {
            ""
        } else {
            &line.key
        }
    }

    /// What a by-unit line counts, said where the figures are read, since
    /// the by-level lines of the same period count otherwise.
    pub fn reading_note(&self) -> Option<&'static str> {
        (self.by == By::Unit).then_some(match self.lang {
            UiLanguage::Vi => "Số liệu của mỗi đơn vị gồm cả các đơn vị cấp dưới của nó. Trong báo cáo theo cấp, \"Cấp huyện\" chỉ gồm các đơn vị cấp huyện (UBND huyện, các phòng, ban, đơn vị cấp huyện), không gồm cấp xã.",
            UiLanguage::En => "Each unit's figures include the units under it. In the report by level, \"District level\" counts only district-level units (the district committee and its departments), not the communes.",
        })
    }

    /// The two lines of the national heading of an official report.
    pub fn national_heading(&self) -> [&'static str; 2] {
        match self.lang {
            UiLanguage::Vi => [
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "Độc lập - Tự do - Hạnh phúc",
            ],
            UiLanguage::En => [
                "SOCIALIST REPUBLIC OF VIETNAM",
                "Independence - Freedom - Happiness",
            ],
        }
    }

    /// The issuing unit in capitals, or a dotted line to write it on when
    /// the report covers several units.
    pub fn issuer(&self) -> String {
        self.unit
            .as_deref()
            .map(str::to_uppercase)
            .unwrap_or_else(|| "……………………………".into())
    }

    /// `……, ngày 02 tháng 12 năm 2025`: the place is left for the signer.
    pub fn made_on_line(&self) -> String {
        let d = self.made_on;
        match self.lang {
            UiLanguage::Vi => format!(
                "……, ngày {:02} tháng {:02} năm {}",
                d.day(),
                d.month(),
                d.year()
            ),
            UiLanguage::En => format!("……, {}", d.format("%-d %B %Y")),
        }
    }

    /// (title, what to do) of the two signers: who made the report, the head of the unit.
    pub fn signers(&self) -> [(&'static str, &'static str); 2] {
        match self.lang {
            UiLanguage::Vi => [
                ("NGƯỜI LẬP BÁO CÁO", "(Ký, ghi rõ họ tên)"),
                ("THỦ TRƯỞNG ĐƠN VỊ", "(Ký tên, đóng dấu)"),
            ],
            UiLanguage::En => [
                ("PREPARED BY", "(signature, full name)"),
                ("HEAD OF UNIT", "(signature and seal)"),
            ],
        }
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
            "  Tỷ lệ làm tròn nửa lên đến 2 chữ số thập phân; \"không áp dụng\" khi mẫu số bằng 0 (không có hồ sơ để tính).\n"
        } else {
            "  Percentages rounded half-up to 2 decimals; \"n/a\" when the denominator is 0 (nothing to count).\n"
        });
        if let Some(n) = self.reading_note() {
            out.push_str(&format!("  {n}\n"));
        }
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
                self.shown_key(l).to_string(),
                format!("{}{}", "  ".repeat(l.depth), l.label),
                l.level
                    .map(|lv| lv.label(self.lang).to_string())
                    .unwrap_or_default(),
            ];
            for r in &l.indicators {
                row.push(r.numerator.to_string());
                row.push(r.denominator.to_string());
                row.push(match r.hundredths {
                    None => crate::format::not_applicable(self.lang).into(),
                    Some(h) => format!("{}{}{:02}", h / 100, if vi { ',' } else { '.' }, h % 100),
                });
            }
            let _ = w.write_record(row);
        }
        w.into_inner().unwrap_or_default()
    }
}
