//! Dossier codes (Circular 01/2018/TT-VPCP art. 19): `<unit code>-<YYMMDD>-<NNNN>`.
//! The unit and the receipt date are read from the code; other names are kept as
//! opaque codes, which then need a unit from the inbox's configuration.

use chrono::NaiveDate;
use regex::Regex;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DossierCode {
    /// The code as written (NFC).
    pub code: String,
    pub unit: String,
    /// Receipt date, when the code carries one.
    pub received: Option<NaiveDate>,
    /// True when the code follows the national pattern.
    pub standard: bool,
}

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})-(\d{2})(\d{2})(\d{2})-(\d{4})$")
            .expect("static regex")
    })
}

impl DossierCode {
    /// Parses a standard code; `None` when the text does not follow the pattern
    /// or its date does not exist.
    pub fn parse(text: &str) -> Option<DossierCode> {
        let c = pattern().captures(text)?;
        let num = |i: usize| c[i].parse::<u32>().ok();
        let date = NaiveDate::from_ymd_opt(2000 + num(2)? as i32, num(3)?, num(4)?)?;
        Some(DossierCode {
            code: text.to_string(),
            unit: c[1].to_string(),
            received: Some(date),
            standard: true,
        })
    }

    /// True when the text starts like a national code (`<unit code>-`), so it
    /// must parse as one and may not be taken as a local code.
    pub fn looks_standard(text: &str) -> bool {
        static RE: OnceLock<Regex> = OnceLock::new();
        RE.get_or_init(|| {
            Regex::new(r"^\d{3}\.\d{2}\.\d{2}\.[A-Za-z]\d{2}(-|$)").expect("static regex")
        })
        .is_match(text.trim())
    }

    /// A local or non-standard name, accepted with the inbox's unit.
    pub fn opaque(text: &str, unit: &str) -> DossierCode {
        DossierCode {
            code: text.to_string(),
            unit: unit.to_string(),
            received: None,
            standard: false,
        }
    }

    /// Year folder of the archive: the receipt year, else the current year.
    pub fn year(&self) -> i32 {
        use chrono::Datelike;
        self.received
            .map(|d| d.year())
            .unwrap_or_else(|| chrono::Local::now().year())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_code_gives_unit_and_date() {
        let c = DossierCode::parse("000.00.18.H44-230314-0027").unwrap();
        assert_eq!(c.unit, "000.00.18.H44");
        assert_eq!(c.received, NaiveDate::from_ymd_opt(2023, 3, 14));
        assert_eq!(c.year(), 2023);
    }

    #[test]
    fn bad_codes_are_rejected() {
        for t in [
            "ho so khong ma",
            "000.00.18.H44-231314-0027", // month 13
            "000.00.18.h44-230314-0027",
            "000.00.18.H44-230314-27",
            " 000.00.18.H44-230314-0027",
        ] {
            assert!(DossierCode::parse(t).is_none(), "{t}");
        }
        for t in [
            "000.00.18.H44-231314-0027",
            "000.00.18.h44-230314-0027",
            " 000.00.18.H44-230314-27",
            "000.00.18.H44",
        ] {
            assert!(DossierCode::looks_standard(t), "{t}");
        }
        assert!(!DossierCode::looks_standard("HS-2023-001"));
    }
}
