//! Numbers as Vietnamese reports write them: a dot between thousands, a comma
//! before decimals, percentages rounded half-up to two decimals with integer
//! arithmetic, "không áp dụng" when the denominator is zero.

/// Which language operator-facing text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UiLanguage {
    #[default]
    Vi,
    En,
}

/// Local times as operators read them (the watch log, `sohoa status`, the
/// watcher's lock): `02/12/2026 10:31:02`.
pub const LOCAL_TIME: &str = "%d/%m/%Y %H:%M:%S";

/// `5219` → `5.219` (vi) or `5,219` (en).
pub fn count(n: u64, lang: UiLanguage) -> String {
    let sep = if lang == UiLanguage::Vi { '.' } else { ',' };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// `n` with its noun in English (`1 page`, `2,345 pages`). Vietnamese nouns
/// have no plural, so Vietnamese text uses `count` and writes the noun once.
pub fn plural(n: u64, one: &str, many: &str, lang: UiLanguage) -> String {
    format!("{} {}", count(n, lang), if n == 1 { one } else { many })
}

/// A decimal with `places` digits: `96,0` (vi) or `96.0` (en).
pub fn decimal(x: f64, places: usize, lang: UiLanguage) -> String {
    let s = format!("{x:.places$}");
    if lang == UiLanguage::Vi {
        s.replace('.', ",")
    } else {
        s
    }
}

/// A size in bytes as people read it: `540 KB`, `3,2 MB`, `1,5 GB` (1 KB =
/// 1.024 bytes; one decimal from MB up).
pub fn size(bytes: u64, lang: UiLanguage) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b < K * K {
        format!("{} KB", count((b / K).ceil() as u64, lang))
    } else if b < K * K * K {
        format!("{} MB", decimal(b / (K * K), 1, lang))
    } else {
        format!("{} GB", decimal(b / (K * K * K), 1, lang))
    }
}

/// Percentage ×100 as an integer (9165 for 91,65 %), rounded half-up; `None` for 0/0.
pub fn percent_hundredths(num: u64, den: u64) -> Option<u64> {
    if den == 0 {
        return None;
    }
    let num = num as u128 * 10_000;
    let den = den as u128;
    Some(((2 * num + den) / (2 * den)) as u64)
}

/// What a rate over no dossier reads: `không áp dụng` / `n/a`.
pub fn not_applicable(lang: UiLanguage) -> &'static str {
    match lang {
        UiLanguage::Vi => "không áp dụng",
        UiLanguage::En => "n/a",
    }
}

/// `845, 922` → `91,65%`; `0, 0` → `không áp dụng`.
pub fn percent(num: u64, den: u64, lang: UiLanguage) -> String {
    match percent_hundredths(num, den) {
        None => not_applicable(lang).into(),
        Some(h) => {
            let dec = if lang == UiLanguage::Vi { ',' } else { '.' };
            format!("{}{}{:02}%", count(h / 100, lang), dec, h % 100)
        }
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` for XML and HTML text and attribute values.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An ISO date as people read it: `2023-03-14` → `14/03/2023` in Vietnamese, unchanged in English.
pub fn date(iso: &str, lang: UiLanguage) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match (lang, parts.as_slice()) {
        (UiLanguage::Vi, [y, m, d]) => format!("{d}/{m}/{y}"),
        _ => iso.to_string(),
    }
}

/// `845/922 hồ sơ, đạt 91,65%` — the form the seed report uses;
/// `0/0 hồ sơ, không áp dụng` when there is nothing to count.
pub fn ratio_phrase(num: u64, den: u64, lang: UiLanguage) -> String {
    let pct = percent(num, den, lang);
    if den == 0 {
        return match lang {
            UiLanguage::Vi => format!("{num}/0 hồ sơ, {pct}"),
            UiLanguage::En => format!("{num}/0 dossiers, {pct}"),
        };
    }
    match lang {
        UiLanguage::Vi => format!(
            "{}/{} hồ sơ, đạt {}",
            count(num, lang),
            count(den, lang),
            pct
        ),
        UiLanguage::En => format!(
            "{}/{} dossiers, {}",
            count(num, lang),
            count(den, lang),
            pct
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UiLanguage::Vi;

    #[test]
    fn sizes() {
        assert_eq!(size(540 * 1024, Vi), "540 KB");
        assert_eq!(size(1, Vi), "1 KB");
        assert_eq!(size(3_355_443, Vi), "3,2 MB");
        assert_eq!(size(1_610_612_736, UiLanguage::En), "1.5 GB");
    }

    #[test]
    fn brief_vectors() {
        assert_eq!(ratio_phrase(845, 922, Vi), "845/922 hồ sơ, đạt 91,65%");
        assert_eq!(
            ratio_phrase(5219, 5885, Vi),
            "5.219/5.885 hồ sơ, đạt 88,68%"
        );
        assert_eq!(percent(1, 8, Vi), "12,50%");
        assert_eq!(percent(0, 0, Vi), "không áp dụng");
        assert_eq!(ratio_phrase(0, 0, Vi), "0/0 hồ sơ, không áp dụng");
        assert_eq!(percent(1, 32, Vi), "3,13%"); // half-up on an exact tie
        assert_eq!(percent(2, 2, Vi), "100,00%");
    }

    #[test]
    fn english_nouns_take_their_plural() {
        assert_eq!(plural(1, "page", "pages", UiLanguage::En), "1 page");
        assert_eq!(plural(0, "page", "pages", UiLanguage::En), "0 pages");
        assert_eq!(plural(2345, "page", "pages", UiLanguage::En), "2,345 pages");
    }

    #[test]
    fn decimals_use_the_vietnamese_comma() {
        assert_eq!(decimal(96.04, 1, Vi), "96,0");
        assert_eq!(decimal(-1.25, 2, Vi), "-1,25");
        assert_eq!(decimal(96.04, 1, UiLanguage::En), "96.0");
    }

    #[test]
    fn thousands() {
        assert_eq!(count(0, Vi), "0");
        assert_eq!(count(999, Vi), "999");
        assert_eq!(count(1000, Vi), "1.000");
        assert_eq!(count(1234567, Vi), "1.234.567");
        assert_eq!(count(1234567, UiLanguage::En), "1,234,567");
    }

    #[test]
    fn rounding_matches_exact_rational_half_up() {
        for den in 1..200u64 {
            for num in 0..=den {
                let h = percent_hundredths(num, den).unwrap();
                // h/10000 is the closest with ties up: |num*10000 - h*den| <= den/2
                let diff = (num as i128 * 10_000 - h as i128 * den as i128).abs();
                assert!(2 * diff <= den as i128, "{num}/{den}");
            }
        }
    }
}
