//! The report as one self-contained HTML page for the people who read it,
//! laid out as an official report (issuing unit and national heading, the
//! date made, the signers at the end): title, summary, a bar per level (when
//! the table is by level, so that chart and table show the same rows), a bar
//! per unit and the monthly trend (inline SVG), the full table and the
//! definitions. Nothing is fetched from the network (the
//! file is mailed around and opened offline), and the CSS lays it out for A4:
//! the charts on portrait pages, the 18-column table on landscape pages,
//! because fifteen number columns do not fit 180 mm at a readable size.

use super::{By, Line, Report};
// Every text of the page goes through `esc`.
use crate::format::{count, escape_markup as esc, UiLanguage};

pub fn render(report: &Report, units: &Report, months: &Report) -> String {
    let lang = report.lang;
    let t = |vi: &'static str, en: &'static str| if lang == UiLanguage::Vi { vi } else { en };
    let by = match report.by {
        By::Level => t("theo cấp", "by level"),
        By::Unit => t("theo đơn vị", "by unit"),
        By::Procedure => t("theo thủ tục hành chính", "by procedure"),
        By::Field => t("theo lĩnh vực", "by field"),
        By::Month => t("theo tháng", "by month"),
    };
    let mut out = String::with_capacity(64 * 1024);
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        t("vi", "en"),
        esc(&report.title)
    ));
    let [nation, freedom] = report.national_heading();
    out.push_str(&format!(
        "<header class=\"official\"><div class=\"issuer\">{}</div>\
         <div class=\"nation\">{}<br><span class=\"motto\">{}</span></div></header>\n\
         <p class=\"made\">{}</p>\n",
        esc(&report.issuer()),
        esc(nation),
        esc(freedom),
        esc(&report.made_on_line())
    ));
    out.push_str(&format!("<h1>{}</h1>\n", esc(&report.title)));
    out.push_str(&format!(
        "<p class=\"period\">{} {} · {} {}</p>\n",
        t("Kỳ báo cáo:", "Period:"),
        esc(&report.period.label),
        t("Thống kê", "Counted"),
        by
    ));
    out.push_str(&format!(
        "<p class=\"summary\">{}</p>\n",
        esc(&report.sentence(&report.total))
    ));
    let first = crate::report::INDICATORS[0].title(lang);
    if report.by == By::Level {
        // The same rows as the table, so the chart and the table agree on "Cấp huyện".
        out.push_str(&format!(
            "<h2>{} {}</h2>\n",
            esc(first),
            t("theo cấp", "by level")
        ));
        bars(&mut out, report, report.by);
    }
    out.push_str(&format!(
        "<h2>{} {}</h2>\n",
        esc(first),
        t("theo đơn vị", "by unit")
    ));
    bars(&mut out, units, report.by);
    // A by-unit table has the same note under it.
    if let Some(n) = units.reading_note().filter(|_| report.by != By::Unit) {
        out.push_str(&format!("<p class=\"empty\">{}</p>\n", esc(n)));
    }
    out.push_str(&format!(
        "<h2>{} {}</h2>\n",
        esc(first),
        t("theo tháng", "by month")
    ));
    month_columns(&mut out, months);
    out.push_str("<section class=\"wide\">\n");
    out.push_str(&format!("<h2>{}</h2>\n", t("Bảng số liệu", "Figures")));
    table(&mut out, report);
    notes(&mut out, report);
    signers(&mut out, report);
    out.push_str("</section>\n</body>\n</html>\n");
    out
}

const CSS: &str = "
@page { size: A4; margin: 15mm }
@page wide { size: A4 landscape; margin: 12mm 15mm }
html { color: #1a1a1a; background: #fff; font-family: \"Liberation Sans\", Arial, \"DejaVu Sans\", \"Noto Sans\", sans-serif; font-size: 10pt; line-height: 1.35 }
body { max-width: 260mm; margin: 0 auto; padding: 8mm }
header.official { display: flex; justify-content: space-between; gap: 6mm; text-align: center; font-weight: bold; font-size: 10.5pt }
header.official .issuer { flex: 0 0 40% } header.official .nation { flex: 0 0 56% }
.motto { display: inline-block; margin-top: 0.5mm; padding-bottom: 0.5mm; border-bottom: 0.75pt solid #1a1a1a }
.made { margin: 2mm 0 4mm 44%; text-align: center; font-style: italic }
.signers { display: flex; justify-content: space-between; margin-top: 8mm; text-align: center; break-inside: avoid }
.signers div { flex: 0 0 45%; min-height: 30mm } .signers i { font-weight: normal }
h1 { font-size: 15pt; margin: 0 0 1.5mm; color: #12355b; text-align: center }
h2 { font-size: 11pt; margin: 6mm 0 2mm; padding-bottom: 1mm; border-bottom: 0.75pt solid #9aa9b8; break-after: avoid }
.period { margin: 0 0 3mm; color: #444 }
.summary { margin: 0 0 2mm; padding: 2mm 3mm; background: #f3f6f9; border-left: 3pt solid #1f4e79 }
figure { margin: 0 0 3mm; break-inside: avoid }
figcaption, .empty { font-size: 8.5pt; color: #555 }
svg.chart { display: block; width: 100%; height: auto }
svg.chart text { fill: #1a1a1a; font-size: 12px }
table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 8.5pt; font-variant-numeric: tabular-nums }
thead { display: table-header-group }
tr { break-inside: avoid }
th, td { border: 0.5pt solid #b8c2cc; padding: 0.25em 0.3em; vertical-align: top; overflow-wrap: anywhere }
thead th { background: #dde7f0; text-align: center; vertical-align: middle; font-weight: bold }
col.key { width: 7.5em } col.level { width: 5.8em } col.n { width: 4em } col.r { width: 4.9em }
td.num { text-align: right; white-space: nowrap }
td.rate { background: #f7f9fb }
tr.total td { font-weight: bold; background: #eef2f6; border-top: 1.2pt solid #1f4e79 }
.notes { font-size: 9pt }
.notes li, .warn { break-inside: avoid }
.notes ul { margin: 1mm 0; padding-left: 5mm }
.warn { margin: 2mm 0; padding: 1.5mm 3mm; background: #fff8e6; border-left: 3pt solid #c8a040 }
@media print { body { max-width: none; padding: 0 } .wide { page: wide } }
";

/// The label without the ` (code)` a unit line carries: charts show names.
fn name(line: &Line) -> &str {
    let suffix = format!(" ({})", line.key);
    line.label
        .strip_suffix(suffix.as_str())
        .unwrap_or(&line.label)
}

/// At most `max` characters, with `…` when cut (SVG text does not wrap).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!(
            "{}…",
            s.chars().take(max - 1).collect::<String>().trim_end()
        )
    }
}

/// `91,65% (845/922)` or `không áp dụng (0/0)`.
fn value(line: &Line, lang: UiLanguage) -> String {
    let r = &line.indicators[0];
    format!(
        "{} ({}/{})",
        r.percent,
        count(r.numerator, lang),
        count(r.denominator, lang)
    )
}

/// Above this many units, units with no dossier in the period are left out of the chart.
const ALL_UNITS_UP_TO: usize = 12;
/// Bars per SVG, so that each figure fits on a page.
const BARS_PER_FIGURE: usize = 30;

/// One horizontal bar per line of `r` (units three levels deep) and its
/// total, of the first indicator, 0–100 %. A unit line that counts units
/// under it says so in its label, so that its bar is not read as the figure
/// of that unit alone. `main_by` is what the page's table lists.
fn bars(out: &mut String, r: &Report, main_by: By) {
    let lang = r.lang;
    let vi = lang == UiLanguage::Vi;
    let with_under = |i: usize| {
        r.by == By::Unit
            && r.lines
                .get(i + 1)
                .is_some_and(|n| n.depth > r.lines[i].depth)
    };
    let mut rows: Vec<(&Line, bool)> = r
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.depth <= 2)
        .map(|(i, l)| (l, with_under(i)))
        .collect();
    let mut hidden = 0;
    if rows.len() > ALL_UNITS_UP_TO {
        let before = rows.len();
        rows.retain(|(l, _)| l.indicators[0].denominator > 0);
        hidden = before - rows.len();
    }
    rows.push((&r.total, false));
    let suffix = if vi {
        " (gồm cả cấp dưới)"
    } else {
        " (incl. units under it)"
    };
    let (w, label_w, bar_x, bar_w, row_h, top) = (800.0, 350.0, 360.0, 260.0, 22.0, 22.0);
    for chunk in rows.chunks(BARS_PER_FIGURE) {
        let h = top + row_h * chunk.len() as f64 + 4.0;
        out.push_str(&format!(
            "<figure><svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\">\n"
        ));
        for pct in [0, 25, 50, 75, 100] {
            let x = bar_x + bar_w * pct as f64 / 100.0;
            out.push_str(&format!(
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#c9d1d9\" stroke-width=\"1\"/>\
                 <text x=\"{x}\" y=\"14\" text-anchor=\"middle\" style=\"font-size:10px\">{pct}%</text>\n",
                top - 4.0,
                h - 2.0
            ));
        }
        for (i, (l, under)) in chunk.iter().enumerate() {
            let y = top + row_h * i as f64;
            let total = std::ptr::eq(*l, &r.total);
            let indent = 10.0 * l.depth.min(2) as f64;
            let weight = if total { " font-weight=\"bold\"" } else { "" };
            let max_chars = ((label_w - indent) / 6.6) as usize;
            let (label, tip) = if *under {
                let keep = max_chars.saturating_sub(suffix.chars().count()).max(8);
                (
                    format!("{}{suffix}", clip(name(l), keep)),
                    format!("{}{suffix}", l.label),
                )
            } else {
                (clip(name(l), max_chars), l.label.clone())
            };
            out.push_str(&format!(
                "<g><title>{}: {}</title><text x=\"{indent}\" y=\"{}\"{weight}>{}</text>\
                 <rect x=\"{bar_x}\" y=\"{}\" width=\"{bar_w}\" height=\"14\" fill=\"#eef1f4\" stroke=\"#c9d1d9\" stroke-width=\"0.5\"/>",
                esc(&tip),
                esc(&l.indicators[0].text),
                y + 15.0,
                esc(&label),
                y + 4.0
            ));
            if let Some(hd) = l.indicators[0].hundredths {
                let bw = bar_w * hd.min(10_000) as f64 / 10_000.0;
                let fill = if total { "#12355b" } else { "#2f6b9a" };
                out.push_str(&format!("<rect x=\"{bar_x}\" y=\"{}\" width=\"{bw:.1}\" height=\"14\" fill=\"{fill}\"/>", y + 4.0));
            }
            out.push_str(&format!(
                "<text x=\"{}\" y=\"{}\"{weight}>{}</text></g>\n",
                bar_x + bar_w + 8.0,
                y + 15.0,
                esc(&value(l, lang))
            ));
        }
        out.push_str("</svg></figure>\n");
    }
    if hidden > 0 {
        // Only a by-unit table has the rows left out of the chart.
        let in_table = main_by == r.by;
        let n = count(hidden as u64, lang);
        out.push_str(&format!(
            "<p class=\"empty\">{}</p>\n",
            match (vi, in_table) {
                (true, true) =>
                    format!("{n} đơn vị không có hồ sơ trong kỳ không được vẽ (xem bảng số liệu)."),
                (true, false) => format!("{n} đơn vị không có hồ sơ trong kỳ không được vẽ."),
                (false, true) => format!(
                    "{n} units with no dossiers in the period are not drawn (see the table)."
                ),
                (false, false) =>
                    format!("{n} units with no dossiers in the period are not drawn."),
            }
        ));
    }
}

/// One column per month of the first indicator, 0–100 %.
fn month_columns(out: &mut String, months: &Report) {
    let lang = months.lang;
    let vi = lang == UiLanguage::Vi;
    let n = months.lines.len();
    if n == 0 || months.total.counts.received == 0 {
        out.push_str(&format!(
            "<p class=\"empty\">{}</p>\n",
            if vi {
                "Không có hồ sơ nào trong kỳ."
            } else {
                "No dossiers in the period."
            }
        ));
        return;
    }
    // Beyond a year of columns the a/b line under each month no longer fits; it stays in the tooltip.
    let dense = n > 12;
    let (w, left, right, top, plot_h) = (800.0, 44.0, 8.0, 22.0, 170.0);
    let base = top + plot_h;
    let h = base + if dense { 54.0 } else { 40.0 };
    let slot = (w - left - right) / n as f64;
    let col_w = (slot * 0.6).min(56.0);
    out.push_str(&format!(
        "<figure><svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\">\n"
    ));
    for pct in [0, 25, 50, 75, 100] {
        let y = base - plot_h * pct as f64 / 100.0;
        out.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#c9d1d9\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" style=\"font-size:10px\">{pct}%</text>\n",
            w - right,
            left - 6.0,
            y + 4.0
        ));
    }
    let small = if dense {
        " style=\"font-size:9px\""
    } else {
        ""
    };
    for (i, l) in months.lines.iter().enumerate() {
        let r = &l.indicators[0];
        let cx = left + slot * (i as f64 + 0.5);
        let month = l.label.strip_prefix("Tháng ").unwrap_or(&l.label);
        out.push_str(&format!(
            "<g><title>{}: {}</title>",
            esc(&l.label),
            esc(&r.text)
        ));
        let top_of_value = match r.hundredths {
            Some(hd) => {
                let ch = plot_h * hd.min(10_000) as f64 / 10_000.0;
                out.push_str(&format!(
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{col_w:.1}\" height=\"{ch:.1}\" fill=\"#2f6b9a\"/>",
                    cx - col_w / 2.0,
                    base - ch
                ));
                base - ch
            }
            None => base,
        };
        out.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\"{small}>{}</text>",
            top_of_value - 4.0,
            esc(&r.percent)
        ));
        if dense {
            out.push_str(&format!(
                "<text x=\"{cx:.1}\" y=\"{}\" text-anchor=\"end\" transform=\"rotate(-45 {cx:.1} {})\"{small}>{}</text>",
                base + 14.0,
                base + 14.0,
                esc(month)
            ));
        } else {
            out.push_str(&format!(
                "<text x=\"{cx:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
                 <text x=\"{cx:.1}\" y=\"{}\" text-anchor=\"middle\" style=\"font-size:10px;fill:#555\">{}/{}</text>",
                base + 16.0,
                esc(month),
                base + 31.0,
                count(r.numerator, lang),
                count(r.denominator, lang)
            ));
        }
        out.push_str("</g>\n");
    }
    out.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#555\" stroke-width=\"1\"/>\n</svg></figure>\n",
        w - right
    ));
}

/// The table: columns of `Report::columns`, grouped per indicator.
fn table(out: &mut String, report: &Report) {
    let lang = report.lang;
    let cols = report.columns();
    // Unit, procedure and field labels already hold their key: its column would only take width.
    let show_key = report.all_lines().any(|l| {
        let k = report.shown_key(l);
        !k.is_empty() && !l.label.contains(k)
    });
    // By level, the level is the name: a column repeating it would only take width.
    let show_level = report.by != By::Level && report.all_lines().any(|l| l.level.is_some());
    out.push_str("<table>\n<colgroup>");
    if show_key {
        out.push_str("<col class=\"key\">");
    }
    out.push_str("<col class=\"name\">");
    if show_level {
        out.push_str("<col class=\"level\">");
    }
    for _ in &report.total.indicators {
        out.push_str("<col class=\"n\"><col class=\"n\"><col class=\"r\">");
    }
    out.push_str("</colgroup>\n<thead>\n<tr>");
    let fixed = [
        (show_key, &cols[0]),
        (true, &cols[1]),
        (show_level, &cols[2]),
    ];
    for (_, c) in fixed.iter().filter(|(shown, _)| *shown) {
        out.push_str(&format!("<th rowspan=\"2\">{}</th>", esc(c)));
    }
    for r in &report.total.indicators {
        out.push_str(&format!(
            "<th colspan=\"3\">{}</th>",
            esc(r.indicator.title(lang))
        ));
    }
    out.push_str("</tr>\n<tr>");
    for c in &cols[3..] {
        let sub = c.rsplit(" – ").next().unwrap_or(c);
        out.push_str(&format!("<th>{}</th>", esc(sub)));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for l in report.all_lines() {
        let total = std::ptr::eq(l, &report.total);
        out.push_str(if total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        if show_key {
            out.push_str(&format!("<td>{}</td>", esc(report.shown_key(l))));
        }
        out.push_str(&format!(
            "<td style=\"padding-left:{:.1}em\">{}</td>",
            0.3 + 1.1 * l.depth as f64,
            esc(&l.label)
        ));
        if show_level {
            out.push_str(&format!(
                "<td>{}</td>",
                esc(l.level.map(|v| v.label(lang)).unwrap_or(""))
            ));
        }
        for r in &l.indicators {
            out.push_str(&format!(
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num rate\">{}</td>",
                count(r.numerator, lang),
                count(r.denominator, lang),
                esc(&r.percent)
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Who signs: the one who made the report and the head of the unit.
fn signers(out: &mut String, report: &Report) {
    out.push_str("<div class=\"signers\">");
    for (who, how) in report.signers() {
        out.push_str(&format!(
            "<div><b>{}</b><br><i>{}</i></div>",
            esc(who),
            esc(how)
        ));
    }
    out.push_str("</div>\n");
}

/// Definitions of the indicators, the rounding rule and the warnings.
fn notes(out: &mut String, report: &Report) {
    let vi = report.lang == UiLanguage::Vi;
    out.push_str(&format!(
        "<div class=\"notes\">\n<h2>{}</h2>\n<ul>\n",
        if vi { "Cách tính" } else { "Definitions" }
    ));
    for (i, d) in &report.definitions {
        out.push_str(&format!(
            "<li><b>{}</b>: {}.</li>\n",
            esc(i.title(report.lang)),
            esc(d)
        ));
    }
    out.push_str(&format!(
        "<li>{}</li>\n</ul>\n",
        if vi {
            "Tỷ lệ làm tròn nửa lên đến 2 chữ số thập phân; “không áp dụng” khi mẫu số bằng 0 (không có hồ sơ để tính)."
        } else {
            "Percentages rounded half-up to 2 decimals; “n/a” when the denominator is 0 (nothing to count)."
        }
    ));
    if let Some(n) = report.reading_note() {
        out.push_str(&format!("<p>{}</p>\n", esc(n)));
    }
    for w in &report.warnings {
        out.push_str(&format!(
            "<p class=\"warn\"><b>{}</b> {}</p>\n",
            if vi { "Lưu ý:" } else { "Note:" },
            esc(w)
        ));
    }
    out.push_str("</div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Cell, Counts};
    use crate::report::{build, Period, Request};
    use crate::units::{Level, Unit, UnitTree};

    fn unit(code: &str, name: &str, level: Level, parent: Option<&str>) -> Unit {
        Unit {
            code: code.into(),
            name: name.into(),
            level,
            parent: parent.map(Into::into),
            valid_from: None,
            valid_to: None,
        }
    }

    fn cell(unit: &str, month: Option<&str>, received: u64, digitized: u64) -> Cell {
        Cell {
            unit_code: unit.into(),
            segment: 0,
            key: month.map(Into::into),
            key_name: None,
            counts: Counts {
                received,
                with_component: digitized,
                digitized,
                eligible_online: received,
                online: received / 2,
                ..Counts::default()
            },
        }
    }

    /// A district with two communes, one of them named with markup characters:
    /// 845/922 digitized in the first commune, 5.219 received in all.
    fn reports(lang: UiLanguage) -> (Report, Report, Report) {
        reports_by(By::Unit, lang)
    }

    fn reports_by(main: By, lang: UiLanguage) -> (Report, Report, Report) {
        let tree = UnitTree::new(
            vec![
                unit("000.00.18.H44", "UBND huyện Tuyên Hóa", Level::Huyen, None),
                unit(
                    "000.20.18.H44",
                    "UBND xã Lâm Hóa",
                    Level::Xa,
                    Some("000.00.18.H44"),
                ),
                unit(
                    "000.21.18.H44",
                    "Xã <Thanh> & \"Hóa\"",
                    Level::Xa,
                    Some("000.00.18.H44"),
                ),
            ],
            lang,
        )
        .unwrap_or_else(|p| panic!("tree: {p:?}"));
        let period = Period {
            from: chrono::NaiveDate::from_ymd_opt(2023, 1, 1),
            to: chrono::NaiveDate::from_ymd_opt(2023, 12, 31),
            label: "năm 2023".into(),
        };
        let make = |by: By, cells: &[Cell]| {
            let req = Request {
                period: period.clone(),
                level: None,
                by,
                unit: None,
                signed_only: false,
                lang,
            };
            build(&req, cells, &tree, 0)
        };
        let plain = [
            cell("000.20.18.H44", None, 922, 845),
            cell("000.21.18.H44", None, 4297, 1000),
        ];
        let monthly = [
            cell("000.20.18.H44", Some("2023-03"), 922, 845),
            cell("000.21.18.H44", Some("2023-04"), 4297, 1000),
        ];
        (
            make(main, &plain),
            make(By::Unit, &plain),
            make(By::Month, &monthly),
        )
    }

    fn html(lang: UiLanguage) -> String {
        let (report, units, months) = reports(lang);
        render(&report, &units, &months)
    }

    #[test]
    fn is_self_contained() {
        let h = html(UiLanguage::Vi);
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("<html lang=\"vi\">") && h.contains("<meta charset=\"utf-8\">"));
        // Inline SVG in HTML needs no xmlns, so not even a namespace URL is written.
        for bad in [
            "http://", "https://", "src=", "url(", "@import", "<script", "<link",
        ] {
            assert!(!h.contains(bad), "{bad} in the page");
        }
        assert!(h.matches("<svg").count() >= 2);
        assert!(h.contains("@page { size: A4; margin: 15mm }"));
    }

    #[test]
    fn shows_the_figures_the_vietnamese_way() {
        let h = html(UiLanguage::Vi);
        for want in [
            "845/922",
            "91,65%",
            "5.219",
            "4.297",
            "Tháng 3/2023",
            "3/2023",
            "Tổng cộng",
            "Số hóa hồ sơ",
            "tử số",
            "mẫu số",
            "Cách tính",
        ] {
            assert!(h.contains(want), "{want} missing");
        }
        assert!(h.contains("<tr class=\"total\">"));
        // The district line is indented under nothing, the communes one step.
        assert!(h.contains("padding-left:1.4em\">UBND xã Lâm Hóa (000.20.18.H44)"));
    }

    #[test]
    fn escapes_unit_names() {
        let h = html(UiLanguage::Vi);
        assert!(h.contains("Xã &lt;Thanh&gt; &amp; &quot;Hóa&quot;"));
        assert!(!h.contains("<Thanh>"));
    }

    #[test]
    fn english_page() {
        let h = html(UiLanguage::En);
        assert!(h.contains("<html lang=\"en\">"));
        assert!(h.contains("5,219") && h.contains("91.65%"));
    }

    #[test]
    fn no_months_and_no_dossiers() {
        let (report, units, mut months) = reports(UiLanguage::Vi);
        months.lines.clear();
        let h = render(&report, &units, &months);
        assert!(h.contains("Không có hồ sơ nào trong kỳ."));
        let (report, units, mut months) = reports(UiLanguage::Vi);
        months.lines.truncate(1);
        let h = render(&report, &units, &months);
        assert_eq!(h.matches("<svg").count(), 2);
    }

    #[test]
    fn na_is_an_empty_bar() {
        let (report, mut units, months) = reports(UiLanguage::Vi);
        for l in &mut units.lines {
            l.indicators[0] = crate::report::ratio(
                l.indicators[0].indicator,
                &Counts::default(),
                UiLanguage::Vi,
            );
        }
        let h = render(&report, &units, &months);
        assert!(h.contains("không áp dụng (0/0)"));
    }

    /// Cells of the HTML tree plus one of the district committee itself.
    fn level_page() -> String {
        let (mut report, units, months) = reports_by(By::Level, UiLanguage::Vi);
        report.made_on = chrono::NaiveDate::from_ymd_opt(2025, 12, 2).unwrap();
        render(&report, &units, &months)
    }

    #[test]
    fn the_page_has_the_heading_and_signers_of_an_official_report() {
        let h = level_page();
        let heading = h.find("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").unwrap();
        assert!(h[heading..].starts_with(
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM<br><span class=\"motto\">Độc lập - Tự do - Hạnh phúc</span>"
        ));
        // The district every dossier falls under issues it, above the title.
        let issuer = h
            .find("<div class=\"issuer\">UBND HUYỆN TUYÊN HÓA</div>")
            .unwrap();
        let made = h.find("……, ngày 02 tháng 12 năm 2025").unwrap();
        let title = h.find("<h1>").unwrap();
        assert!(issuer < made && made < title);
        let signers = h.find("NGƯỜI LẬP BÁO CÁO").unwrap();
        assert!(signers > h.find("Cách tính").unwrap());
        assert!(h[signers..].contains("THỦ TRƯỞNG ĐƠN VỊ"));
        let english = {
            let (report, units, months) = reports_by(By::Level, UiLanguage::En);
            render(&report, &units, &months)
        };
        assert!(
            english.contains("SOCIALIST REPUBLIC OF VIETNAM") && english.contains("HEAD OF UNIT")
        );
    }

    /// Regression: the chart said "UBND huyện Tuyên Hóa 25,00% (2/8)" (the
    /// district with its communes) beside a table saying "Cấp huyện 50,00%".
    #[test]
    fn a_by_level_page_charts_the_table_rows_and_says_what_a_unit_bar_counts() {
        let h = level_page();
        let by_level = h
            .find("Số hóa hồ sơ theo cấp</h2>")
            .expect("a chart by level");
        let by_unit = h.find("Số hóa hồ sơ theo đơn vị</h2>").unwrap();
        assert!(by_level < by_unit);
        assert!(h[by_level..by_unit].contains(">Cấp xã</text>"), "{h}");
        // The district's bar includes its communes, and says so.
        assert!(
            h[by_unit..].contains(">UBND huyện Tuyên Hóa (gồm cả cấp dưới)</text>"),
            "{h}"
        );
        assert!(h.contains("Số liệu của mỗi đơn vị gồm cả các đơn vị cấp dưới của nó."));
        // A commune has nothing under it.
        assert!(h.contains(">UBND xã Lâm Hóa</text>"));
    }

    /// Regression: the by-level table showed `huyen`/`xa` in a `Mã` column.
    #[test]
    fn a_by_level_table_has_no_internal_keys() {
        let h = level_page();
        let table = &h[h.find("<table>").unwrap()..];
        assert!(!table.contains(">Mã</th>"), "{table}");
        assert!(
            !table.contains(">xa<") && !table.contains(">huyen<"),
            "{table}"
        );
        assert!(table.contains(">Cấp xã</td>"));
    }

    /// Regression: the by-level page said units "are not drawn (see the
    /// table)" of a table that has no unit rows.
    #[test]
    fn the_note_on_undrawn_units_points_to_the_table_only_when_it_has_them() {
        let (report, mut units, months) = reports_by(By::Level, UiLanguage::Vi);
        let idle = {
            let mut l = units.lines[1].clone();
            l.counts = Counts::default();
            l.indicators = l
                .indicators
                .iter()
                .map(|r| crate::report::ratio(r.indicator, &l.counts, UiLanguage::Vi))
                .collect();
            l
        };
        units.lines.extend(std::iter::repeat_n(idle, 12));
        let h = render(&report, &units, &months);
        assert!(
            h.contains("12 đơn vị không có hồ sơ trong kỳ không được vẽ.</p>"),
            "{h}"
        );
        let h = render(&units, &units, &months);
        assert!(
            h.contains("12 đơn vị không có hồ sơ trong kỳ không được vẽ (xem bảng số liệu).</p>")
        );
    }

    #[test]
    fn clips_long_labels() {
        assert_eq!(clip("abcdef", 6), "abcdef");
        assert_eq!(clip("abcdefg", 4), "abc…");
    }
}
