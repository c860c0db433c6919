//! Report: digitization counts from the records, written the way Vietnamese
//! reports write them (`845/922 hồ sơ, đạt 91,65%`). The full 766 report set
//! (levels, periods, procedures) builds on this.

use crate::format::{percent, percent_hundredths, ratio_phrase, UiLanguage};
use crate::records::UnitCount;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DigitizationLine {
    pub unit_code: String,
    pub digitized: u64,
    pub total: u64,
    /// Percentage rounded half-up to 2 decimals; `None` when total is 0.
    pub percent: Option<f64>,
    /// As printed, e.g. `91,65%` or `N/A`.
    pub percent_text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DigitizationReport {
    pub units: Vec<DigitizationLine>,
    pub total: DigitizationLine,
}

fn line(unit: &str, digitized: u64, total: u64, lang: UiLanguage) -> DigitizationLine {
    DigitizationLine {
        unit_code: unit.to_string(),
        digitized,
        total,
        percent: percent_hundredths(digitized, total).map(|h| h as f64 / 100.0),
        percent_text: percent(digitized, total, lang),
    }
}

pub fn digitization(counts: &[UnitCount], lang: UiLanguage) -> DigitizationReport {
    let units: Vec<_> = counts
        .iter()
        .map(|c| line(&c.unit_code, c.digitized, c.total, lang))
        .collect();
    let (d, t) = counts
        .iter()
        .fold((0, 0), |(d, t), c| (d + c.digitized, t + c.total));
    let total_label = if lang == UiLanguage::Vi {
        "Tổng cộng"
    } else {
        "Total"
    };
    DigitizationReport {
        units,
        total: line(total_label, d, t, lang),
    }
}

impl DigitizationReport {
    pub fn render(&self, lang: UiLanguage) -> String {
        let mut out = String::new();
        out.push_str(match lang {
            UiLanguage::Vi => "Số hóa hồ sơ (hồ sơ có ít nhất một thành phần đã số hóa / hồ sơ đã biết):\n",
            UiLanguage::En => "Digitized dossiers (dossiers with at least one digitized component / dossiers known):\n",
        });
        let verb = if lang == UiLanguage::Vi {
            "số hóa"
        } else {
            "digitized"
        };
        for u in &self.units {
            out.push_str(&format!(
                "  {}: {} {}\n",
                u.unit_code,
                verb,
                ratio_phrase(u.digitized, u.total, lang)
            ));
        }
        out.push_str(&format!(
            "{}: {} {}\n",
            self.total.unit_code,
            verb,
            ratio_phrase(self.total.digitized, self.total.total, lang)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_figures_render_like_the_seed() {
        let counts = vec![
            UnitCount {
                unit_code: "000.00.18.H44".into(),
                digitized: 845,
                total: 922,
            },
            UnitCount {
                unit_code: "000.20.18.H44".into(),
                digitized: 5219,
                total: 5885,
            },
        ];
        let r = digitization(&counts, UiLanguage::Vi);
        let text = r.render(UiLanguage::Vi);
        assert!(
            text.contains("000.00.18.H44: số hóa 845/922 hồ sơ, đạt 91,65%"),
            "{text}"
        );
        assert!(
            text.contains("000.20.18.H44: số hóa 5.219/5.885 hồ sơ, đạt 88,68%"),
            "{text}"
        );
        assert!(
            text.contains("Tổng cộng: số hóa 6.064/6.807 hồ sơ, đạt 89,08%"),
            "{text}"
        );
        assert_eq!(r.total.percent, Some(89.08));
    }

    #[test]
    fn empty_register_is_na() {
        let r = digitization(&[], UiLanguage::Vi);
        assert_eq!(r.total.percent_text, "N/A");
        assert_eq!(r.total.percent, None);
    }
}
