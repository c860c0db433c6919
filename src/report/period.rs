//! Report periods, selected by receipt date: a year, a quarter, a month or a
//! range of days, written the Vietnamese way in report headings.

use crate::format::UiLanguage;
use crate::tabular::parse_date;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    /// First receipt day counted (inclusive); `None` = from the first dossier.
    pub from: Option<NaiveDate>,
    /// Last receipt day counted (inclusive); `None` = up to the last dossier.
    pub to: Option<NaiveDate>,
    /// As shown in headings: "năm 2023", "quý II/2023", "tháng 3/2023", …
    pub label: String,
}

/// The period options as typed; at most one of year/quarter/month, or from/to.
#[derive(Debug, Clone, Default)]
pub struct PeriodSpec {
    pub year: Option<i32>,
    pub quarter: Option<String>,
    pub month: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn month_end(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    ymd(ny, nm, 1)?.pred_opt()
}

/// `dd/mm/yyyy`.
pub fn vn_date(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month(), d.year())
}

impl Period {
    pub fn resolve(spec: &PeriodSpec, lang: UiLanguage) -> Result<Period, String> {
        let vi = lang == UiLanguage::Vi;
        let chosen = [
            spec.year.is_some(),
            spec.quarter.is_some(),
            spec.month.is_some(),
            spec.from.is_some() || spec.to.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if chosen > 1 {
            return Err(if vi {
                "Chỉ chọn một kỳ báo cáo: --year, --quarter, --month hoặc --from/--to.".into()
            } else {
                "Choose one period: --year, --quarter, --month or --from/--to.".into()
            });
        }
        if let Some(y) = spec.year {
            let (Some(from), Some(to)) = (ymd(y, 1, 1), ymd(y, 12, 31)) else {
                return Err(bad(vi, &y.to_string()));
            };
            return Ok(Period {
                from: Some(from),
                to: Some(to),
                label: if vi {
                    format!("năm {y}")
                } else {
                    format!("year {y}")
                },
            });
        }
        if let Some(q) = &spec.quarter {
            // 2023-2, 2023-Q2, 2023Q2, Q2/2023
            let digits: Vec<&str> = q
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .collect();
            let parsed = match digits.as_slice() {
                [a, b] if a.len() == 4 => a.parse::<i32>().ok().zip(b.parse::<u32>().ok()),
                [a, b] if b.len() == 4 => b.parse::<i32>().ok().zip(a.parse::<u32>().ok()),
                _ => None,
            };
            let Some((y, n)) = parsed.filter(|(_, n)| (1..=4).contains(n)) else {
                return Err(if vi {
                    format!("Quý \"{q}\" không hợp lệ; viết dạng 2023-2 hoặc 2023-Q2.")
                } else {
                    format!("Invalid quarter \"{q}\"; write 2023-2 or 2023-Q2.")
                });
            };
            let roman = ["I", "II", "III", "IV"][(n - 1) as usize];
            return Ok(Period {
                from: ymd(y, 3 * n - 2, 1),
                to: month_end(y, 3 * n),
                label: if vi {
                    format!("quý {roman}/{y}")
                } else {
                    format!("Q{n} {y}")
                },
            });
        }
        if let Some(m) = &spec.month {
            let parsed = m
                .split_once(['-', '/'])
                .and_then(|(a, b)| {
                    if a.len() == 4 {
                        a.parse::<i32>().ok().zip(b.parse::<u32>().ok())
                    } else {
                        b.parse::<i32>().ok().zip(a.parse::<u32>().ok())
                    }
                })
                .filter(|(_, n)| (1..=12).contains(n));
            let Some((y, n)) = parsed else {
                return Err(if vi {
                    format!("Tháng \"{m}\" không hợp lệ; viết dạng 2023-03.")
                } else {
                    format!("Invalid month \"{m}\"; write 2023-03.")
                });
            };
            return Ok(Period {
                from: ymd(y, n, 1),
                to: month_end(y, n),
                label: if vi {
                    format!("tháng {n}/{y}")
                } else {
                    format!("{y}-{n:02}")
                },
            });
        }
        let day = |s: &Option<String>| -> Result<Option<NaiveDate>, String> {
            match s {
                None => Ok(None),
                Some(s) => parse_date(s).map(Some).ok_or_else(|| bad(vi, s)),
            }
        };
        let (from, to) = (day(&spec.from)?, day(&spec.to)?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(if vi {
                    "Ngày --from sau ngày --to.".into()
                } else {
                    "--from is after --to.".into()
                });
            }
        }
        let label = match (from, to, vi) {
            (None, None, true) => "toàn bộ thời gian".to_string(),
            (None, None, false) => "all time".to_string(),
            (Some(f), Some(t), true) => format!("từ {} đến {}", vn_date(f), vn_date(t)),
            (Some(f), Some(t), false) => format!("{f} to {t}"),
            (Some(f), None, true) => format!("từ {}", vn_date(f)),
            (Some(f), None, false) => format!("from {f}"),
            (None, Some(t), true) => format!("đến {}", vn_date(t)),
            (None, Some(t), false) => format!("up to {t}"),
        };
        Ok(Period { from, to, label })
    }

    /// "năm 2023 (tiếp nhận từ 01/01/2023 đến 31/12/2023)".
    pub fn heading(&self, lang: UiLanguage) -> String {
        match (self.from, self.to, lang) {
            (Some(f), Some(t), UiLanguage::Vi) if !self.label.starts_with("từ") => {
                format!(
                    "{} (tiếp nhận từ {} đến {})",
                    self.label,
                    vn_date(f),
                    vn_date(t)
                )
            }
            (Some(f), Some(t), UiLanguage::En) if !self.label.contains(" to ") => {
                format!("{} (received {f} to {t})", self.label)
            }
            _ => self.label.clone(),
        }
    }
}

fn bad(vi: bool, s: &str) -> String {
    if vi {
        format!("Ngày \"{s}\" không hợp lệ; viết dạng dd/mm/yyyy hoặc yyyy-mm-dd.")
    } else {
        format!("Invalid date \"{s}\"; write dd/mm/yyyy or yyyy-mm-dd.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UiLanguage::Vi;

    fn d(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn periods() {
        let p = Period::resolve(
            &PeriodSpec {
                year: Some(2023),
                ..Default::default()
            },
            Vi,
        )
        .unwrap();
        assert_eq!((p.from, p.to), (d("2023-01-01"), d("2023-12-31")));
        assert_eq!(
            p.heading(Vi),
            "năm 2023 (tiếp nhận từ 01/01/2023 đến 31/12/2023)"
        );
        for q in ["2024-1", "2024-Q1", "Q1/2024"] {
            let p = Period::resolve(
                &PeriodSpec {
                    quarter: Some(q.into()),
                    ..Default::default()
                },
                Vi,
            )
            .unwrap();
            assert_eq!((p.from, p.to), (d("2024-01-01"), d("2024-03-31")), "{q}");
            assert_eq!(p.label, "quý I/2024");
        }
        let p = Period::resolve(
            &PeriodSpec {
                quarter: Some("2023-4".into()),
                ..Default::default()
            },
            Vi,
        )
        .unwrap();
        assert_eq!(p.to, d("2023-12-31"));
        let p = Period::resolve(
            &PeriodSpec {
                month: Some("2024-02".into()),
                ..Default::default()
            },
            Vi,
        )
        .unwrap();
        assert_eq!((p.from, p.to), (d("2024-02-01"), d("2024-02-29")));
        assert_eq!(p.label, "tháng 2/2024");
        let p = Period::resolve(
            &PeriodSpec {
                from: Some("15/06/2025".into()),
                to: Some("2025-07-15".into()),
                ..Default::default()
            },
            Vi,
        )
        .unwrap();
        assert_eq!(p.label, "từ 15/06/2025 đến 15/07/2025");
        assert_eq!(p.heading(Vi), p.label);
        let p = Period::resolve(&PeriodSpec::default(), Vi).unwrap();
        assert_eq!((p.from, p.to), (None, None));
    }

    #[test]
    fn bad_periods_say_how_to_write_them() {
        let e = Period::resolve(
            &PeriodSpec {
                quarter: Some("2023-5".into()),
                ..Default::default()
            },
            Vi,
        )
        .unwrap_err();
        assert!(e.contains("2023-Q2"), "{e}");
        let e = Period::resolve(
            &PeriodSpec {
                month: Some("2023-13".into()),
                ..Default::default()
            },
            Vi,
        )
        .unwrap_err();
        assert!(e.contains("2023-03"), "{e}");
        let e = Period::resolve(
            &PeriodSpec {
                year: Some(2023),
                month: Some("2023-01".into()),
                ..Default::default()
            },
            Vi,
        )
        .unwrap_err();
        assert!(e.contains("Chỉ chọn một kỳ"), "{e}");
        let e = Period::resolve(
            &PeriodSpec {
                from: Some("02/01/2023".into()),
                to: Some("01/01/2023".into()),
                ..Default::default()
            },
            Vi,
        )
        .unwrap_err();
        assert!(e.contains("sau ngày"), "{e}");
    }
}
