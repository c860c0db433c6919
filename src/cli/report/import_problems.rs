//! What `register import` says about rows it refused or imported with a
//! contradiction: a summary by reason with a few examples each (a real export
//! can have thousands of such rows, and one line per row buries the rest), and
//! the full list as a CSV file an operator can sort and hand to the one-stop
//! office.

use crate::format::{count, UiLanguage};
use crate::register::{BadRow, Contradiction, Refusal, RegisterRow};
use std::collections::BTreeMap;

/// Example rows named per reason.
const EXAMPLES: usize = 3;

/// The rows of one reason, in file order.
#[derive(Debug, Default)]
struct Group<'a> {
    lines: Vec<(usize, &'a str, &'a str)>,
}

/// Refused and contradicted rows of one import, grouped by reason.
#[derive(Debug, Default)]
pub struct Problems<'a> {
    refused: BTreeMap<Refusal, Group<'a>>,
    contradicted: BTreeMap<Contradiction, Group<'a>>,
    /// Imported rows with at least one contradiction.
    contradicted_rows: usize,
}

impl<'a> Problems<'a> {
    pub fn new(rows: &'a [RegisterRow], bad: &'a [BadRow]) -> Problems<'a> {
        let mut p = Problems::default();
        for b in bad {
            p.refused.entry(b.kind).or_default().lines.push((
                b.line,
                b.code.as_str(),
                b.reason.as_str(),
            ));
        }
        for r in rows.iter().filter(|r| !r.contradictions.is_empty()) {
            p.contradicted_rows += 1;
            for &c in &r.contradictions {
                p.contradicted
                    .entry(c)
                    .or_default()
                    .lines
                    .push((r.line, r.code.as_str(), ""));
            }
        }
        p
    }

    pub fn is_empty(&self) -> bool {
        self.refused.is_empty() && self.contradicted.is_empty()
    }

    /// Rows per refusal reason (`--json`).
    pub fn refused_counts(&self) -> BTreeMap<Refusal, usize> {
        self.refused
            .iter()
            .map(|(k, g)| (*k, g.lines.len()))
            .collect()
    }

    /// Rows per contradiction (`--json`).
    pub fn contradiction_counts(&self) -> BTreeMap<Contradiction, usize> {
        self.contradicted
            .iter()
            .map(|(k, g)| (*k, g.lines.len()))
            .collect()
    }

    pub fn contradicted_rows(&self) -> usize {
        self.contradicted_rows
    }

    /// The summary lines: contradictions first (imported), then refusals, each
    /// reason with its count and a few example lines, the largest first.
    pub fn summary(&self, lang: UiLanguage) -> Vec<String> {
        let vi = lang == UiLanguage::Vi;
        let n = |x: usize| count(x as u64, lang);
        let rows_word = |x: usize| match (vi, x) {
            (true, _) => format!("{} dòng", n(x)),
            (false, 1) => "1 row".to_string(),
            (false, _) => format!("{} rows", n(x)),
        };
        let mut out = Vec::new();
        if self.contradicted_rows > 0 {
            out.push(if vi {
                format!(
                    "{} có cờ mâu thuẫn, vẫn được nhập (hồ sơ vẫn được tính là đã tiếp nhận):",
                    rows_word(self.contradicted_rows)
                )
            } else {
                format!(
                    "{} with contradictory flags, imported anyway (the dossiers still count as received):",
                    rows_word(self.contradicted_rows)
                )
            });
            for (c, g) in largest_first(&self.contradicted) {
                let lines: Vec<String> = g
                    .lines
                    .iter()
                    .take(EXAMPLES)
                    .map(|(l, _, _)| n(*l))
                    .collect();
                out.push(format!(
                    "  {} ({}, {} {}): {}.",
                    c.what(lang),
                    rows_word(g.lines.len()),
                    if vi { "ví dụ dòng" } else { "e.g. line" },
                    lines.join(", "),
                    c.counted(lang)
                ));
            }
        }
        let refused: usize = self.refused.values().map(|g| g.lines.len()).sum();
        if refused > 0 {
            out.push(if vi {
                format!("{} bị từ chối, không nhập:", rows_word(refused))
            } else {
                format!("{} refused, not imported:", rows_word(refused))
            });
            for (r, g) in largest_first(&self.refused) {
                out.push(format!(
                    "  {} ({}):",
                    r.what(lang),
                    rows_word(g.lines.len())
                ));
                for (line, code, reason) in g.lines.iter().take(EXAMPLES) {
                    let code = if code.is_empty() {
                        String::new()
                    } else {
                        format!(" ({code})")
                    };
                    out.push(format!(
                        "    {} {}{code}: {reason}",
                        if vi { "Dòng" } else { "Line" },
                        n(*line)
                    ));
                }
                let more = g.lines.len().saturating_sub(EXAMPLES);
                if more > 0 {
                    out.push(if vi {
                        format!("    … và {} khác", rows_word(more))
                    } else {
                        format!("    … and {} more", rows_word(more))
                    });
                }
            }
        }
        out
    }

    /// Every refused or contradicted row, one line per row and reason, in file
    /// order: `;` in Vietnamese (what Excel expects in a Vietnamese locale),
    /// `,` in English; UTF-8 with BOM, as the report's CSV.
    pub fn to_csv(&self, lang: UiLanguage) -> Vec<u8> {
        let vi = lang == UiLanguage::Vi;
        let mut lines: Vec<(usize, u8, [String; 4])> = Vec::new();
        for (c, g) in &self.contradicted {
            for (line, code, _) in &g.lines {
                let outcome = if vi {
                    "đã nhập, có mâu thuẫn"
                } else {
                    "imported, contradictory"
                };
                let row = [
                    code.to_string(),
                    outcome.into(),
                    c.what(lang).into(),
                    c.counted(lang).into(),
                ];
                lines.push((*line, 0, row));
            }
        }
        for (r, g) in &self.refused {
            for (line, code, reason) in &g.lines {
                let outcome = if vi { "bị từ chối" } else { "refused" };
                let row = [
                    code.to_string(),
                    outcome.into(),
                    r.what(lang).into(),
                    reason.to_string(),
                ];
                lines.push((*line, 1, row));
            }
        }
        lines.sort_by_key(|(line, order, _)| (*line, *order));
        let mut w = csv::WriterBuilder::new()
            .delimiter(if vi { b';' } else { b',' })
            .from_writer(b"\xEF\xBB\xBF".to_vec());
        let header: [&str; 5] = if vi {
            ["Dòng", "Mã hồ sơ", "Kết quả", "Lý do", "Chi tiết"]
        } else {
            ["Line", "Dossier code", "Outcome", "Reason", "Details"]
        };
        // Writing into a Vec cannot fail.
        let _ = w.write_record(header);
        for (line, _, row) in &lines {
            let _ = w.write_record(std::iter::once(line.to_string()).chain(row.iter().cloned()));
        }
        w.into_inner().unwrap_or_default()
    }
}

/// Reasons by number of rows, the largest first (ties in the enum's order).
fn largest_first<'m, 'a, K: Copy + Ord>(
    groups: &'m BTreeMap<K, Group<'a>>,
) -> Vec<(K, &'m Group<'a>)> {
    let mut list: Vec<(K, &Group<'a>)> = groups.iter().map(|(k, g)| (*k, g)).collect();
    list.sort_by_key(|(k, g)| (std::cmp::Reverse(g.lines.len()), *k));
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::{parse, ColumnNames};
    use crate::tabular::read_csv;

    /// 1.200 rows paid online with no fee, five with an unreadable date, one
    /// without a code: a handful of lines, every row in the CSV.
    fn sample() -> (Vec<RegisterRow>, Vec<BadRow>) {
        let mut body =
            String::from("Mã hồ sơ;Ngày tiếp nhận;Mã đơn vị;Có phí;Thanh toán trực tuyến\n");
        for i in 0..1200 {
            body += &format!("A-{i};01/03/2023;U;Không;Có\n");
        }
        for i in 0..5 {
            body += &format!("B-{i};32/03/2023;U;;\n");
        }
        body += ";01/03/2023;U;;\n";
        let t = read_csv(body.as_bytes(), "r.csv").unwrap();
        parse(t, &ColumnNames::default(), UiLanguage::Vi).unwrap()
    }

    #[test]
    fn a_summary_by_reason_with_a_few_examples() {
        let (rows, bad) = sample();
        let p = Problems::new(&rows, &bad);
        let lines = p.summary(UiLanguage::Vi);
        assert_eq!(
            lines[0],
            "1.200 dòng có cờ mâu thuẫn, vẫn được nhập (hồ sơ vẫn được tính là đã tiếp nhận):"
        );
        assert!(
            lines[1].starts_with("  thanh toán trực tuyến = có nhưng có phí = không (1.200 dòng, ví dụ dòng 2, 3, 4): hồ sơ vẫn được tính"),
            "{lines:?}"
        );
        assert_eq!(lines[2], "6 dòng bị từ chối, không nhập:");
        // The larger reason first, three examples, then how many more.
        assert_eq!(lines[3], "  ngày không hợp lệ (5 dòng):");
        assert!(
            lines[4].starts_with("    Dòng 1.202 (B-0): ngày tiếp nhận \"32/03/2023\""),
            "{lines:?}"
        );
        assert_eq!(lines[7], "    … và 2 dòng khác");
        assert_eq!(lines[8], "  thiếu mã hồ sơ (1 dòng):");
        assert_eq!(lines[9], "    Dòng 1.207: thiếu mã hồ sơ");
        assert_eq!(lines.len(), 10);
        let en = p.summary(UiLanguage::En);
        assert_eq!(en[8], "  missing dossier code (1 row):");
        assert_eq!(p.refused_counts()[&Refusal::BadDate], 5);
        assert_eq!(
            p.contradiction_counts()[&Contradiction::PaidOnlineWithoutFee],
            1200
        );
    }

    #[test]
    fn the_full_list_has_every_row_in_file_order() {
        let (rows, bad) = sample();
        let csv = Problems::new(&rows, &bad).to_csv(UiLanguage::Vi);
        let text = String::from_utf8(csv).unwrap();
        let text = text.strip_prefix('\u{feff}').expect("BOM");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Dòng;Mã hồ sơ;Kết quả;Lý do;Chi tiết");
        assert_eq!(lines.len(), 1 + 1206);
        assert!(lines[1].starts_with(
            "2;A-0;đã nhập, có mâu thuẫn;thanh toán trực tuyến = có nhưng có phí = không;"
        ));
        assert!(
            lines[1201].starts_with("1202;B-0;bị từ chối;ngày không hợp lệ;"),
            "{}",
            lines[1201]
        );
        assert!(lines[1206].starts_with("1207;;bị từ chối;thiếu mã hồ sơ;"));
        assert!(Problems::new(&rows[..0], &[]).is_empty());
    }
}
