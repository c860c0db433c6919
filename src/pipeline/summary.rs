//! What a batch reports: per-document progress while it runs, and the final
//! summary (counts, failures with their operator messages, throughput).

use crate::errors::ErrorCode;
use crate::format::{count, decimal, plural, UiLanguage};
use crate::messages::Problem;
use crate::records::{NewFailure, PageRecord};
use crate::rules::counts_as_digitized;
use serde::Serialize;
use std::time::Duration;

/// Receives progress from the workers; must be cheap and thread-safe.
pub trait Progress: Sync {
    fn start(&self, _components: u64, _files: u64) {}
    fn page_done(&self) {}
    fn document_done(&self, _dossier: &str, _name: &str, _pages: usize) {}
    fn problem(&self, _failure: &FailureReport) {}
    fn finish(&self) {}
}

/// Progress that shows nothing (library use, tests).
pub struct SilentProgress;
impl Progress for SilentProgress {}

#[derive(Debug, Clone, Serialize)]
pub struct FailureReport {
    pub dossier: String,
    pub file: String,
    pub code: String,
    /// The operator-facing message in the configured language.
    pub message: String,
}

impl FailureReport {
    pub fn from_failure(f: &NewFailure, lang: UiLanguage) -> FailureReport {
        // The recorded message is Vietnamese; another language is rendered
        // again from the code (a code this version does not know keeps it).
        let message = match ErrorCode::from_wire(&f.error_code) {
            Some(code) if lang != UiLanguage::Vi => {
                Problem::new(code, f.input_path.clone(), String::new()).message(lang)
            }
            _ => f.message.clone(),
        };
        FailureReport {
            dossier: f.dossier_code.clone(),
            file: f.input_path.clone(),
            code: f.error_code.clone(),
            message,
        }
    }
}

/// What the rules flag in new documents (pages are flagged, never refused),
/// and the documents whose every page is blank: those are archived but do
/// not count as digitized (`rules::counts_as_digitized`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Flagged {
    /// Blank pages.
    pub blank: u64,
    /// Pages under 200 dpi (or of no stated resolution).
    pub low_dpi: u64,
    /// Pages not in colour (grey or black and white).
    pub not_color: u64,
    /// `dossier/component` of each document with only blank pages.
    pub blank_documents: Vec<String>,
}

impl Flagged {
    /// The flags of one new document's pages.
    pub fn of_document(dossier: &str, name: &str, pages: &[PageRecord]) -> Flagged {
        let n = |f: fn(&PageRecord) -> bool| pages.iter().filter(|p| f(p)).count() as u64;
        Flagged {
            blank: n(|p| p.blank),
            low_dpi: n(PageRecord::low_dpi),
            not_color: n(PageRecord::not_color),
            blank_documents: if counts_as_digitized(pages.iter().map(|p| p.blank)) {
                Vec::new()
            } else {
                vec![format!("{dossier}/{name}")]
            },
        }
    }

    pub fn add(&mut self, o: Flagged) {
        self.blank += o.blank;
        self.low_dpi += o.low_dpi;
        self.not_color += o.not_color;
        self.blank_documents.extend(o.blank_documents);
    }

    /// "2 trang trắng, 1 trang dưới 200 dpi"; `None` when no page is flagged.
    pub fn pages_phrase(&self, lang: UiLanguage) -> Option<String> {
        let vi = lang == UiLanguage::Vi;
        let parts: Vec<String> = [
            (self.blank, "trang trắng", ("blank page", "blank pages")),
            (
                self.low_dpi,
                "trang dưới 200 dpi",
                ("page under 200 dpi", "pages under 200 dpi"),
            ),
            (
                self.not_color,
                "trang không phải ảnh màu",
                ("page not in colour", "pages not in colour"),
            ),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, v, (one, many))| {
            if vi {
                format!("{} {v}", count(n, lang))
            } else {
                plural(n, one, many, lang)
            }
        })
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// The warning about documents of blank pages only; `None` when there are none.
    pub fn blank_documents_warning(&self, lang: UiLanguage) -> Option<String> {
        let docs = &self.blank_documents;
        if docs.is_empty() {
            return None;
        }
        let mut shown = docs[..docs.len().min(5)].join(", ");
        if docs.len() > 5 {
            shown += ", …";
        }
        Some(match lang {
            UiLanguage::Vi => format!(
                "{} tài liệu chỉ có trang trắng nên chưa được tính là đã số hóa: {shown}. Hãy kiểm tra bản giấy (có thể đã quét nhầm mặt sau hoặc tờ trống) và quét lại.",
                count(docs.len() as u64, lang)
            ),
            UiLanguage::En => format!(
                "{} with only blank pages, not counted as digitized: {shown}. Check the paper (a back side or an empty sheet may have been scanned) and scan it again.",
                plural(docs.len() as u64, "document", "documents", lang)
            ),
        })
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchSummary {
    /// Dossier folders seen.
    pub dossiers: u64,
    /// Documents written in this run.
    pub documents: u64,
    /// Components already digitized from the same input (no work done).
    pub skipped: u64,
    /// Pages written in this run.
    pub pages: u64,
    pub failures: Vec<FailureReport>,
    /// Dossier folders whose names are not national codes, filed under the
    /// default unit (`--unit`).
    pub local_codes: Vec<String>,
    /// Flagged pages and blank-only documents among the new documents.
    pub flagged: Flagged,
    pub elapsed_seconds: f64,
    pub pages_per_minute: f64,
}

impl BatchSummary {
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed_seconds = (elapsed.as_secs_f64() * 100.0).round() / 100.0;
        self.pages_per_minute = if self.elapsed_seconds > 0.0 {
            (self.pages as f64 * 60.0 / self.elapsed_seconds * 10.0).round() / 10.0
        } else {
            0.0
        };
    }

    /// The human summary printed at the end of a batch.
    pub fn render(&self, lang: UiLanguage) -> String {
        let mut out = self.totals(lang);
        if let Some(pages) = self.flagged.pages_phrase(lang) {
            out += &match lang {
                UiLanguage::Vi => format!("\nTrang cần kiểm tra (vẫn được lưu): {pages}; xem từng trang bằng sohoa dossier show MÃ_HỒ_SƠ."),
                UiLanguage::En => format!("\nPages to check (still archived): {pages}; see each page with sohoa dossier show CODE."),
            };
        }
        if let Some(warning) = self.flagged.blank_documents_warning(lang) {
            out += "\n";
            out += &warning;
        }
        if !self.local_codes.is_empty() {
            let n = self.local_codes.len();
            let mut shown = self.local_codes[..n.min(5)].join(", ");
            if n > 5 {
                shown += ", …";
            }
            out += &match lang {
                UiLanguage::Vi => format!(
                    "\n{} thư mục hồ sơ không đặt tên theo mã hồ sơ quốc gia nên được ghi cho đơn vị chọn bằng --unit: {shown}.",
                    count(n as u64, lang)
                ),
                UiLanguage::En => format!(
                    "\n{} not named with a national dossier code {} filed under the unit given with --unit: {shown}.",
                    plural(n as u64, "dossier folder", "dossier folders", lang),
                    if n == 1 { "was" } else { "were" }
                ),
            };
        }
        out
    }

    fn totals(&self, lang: UiLanguage) -> String {
        let rate = decimal(self.pages_per_minute, 1, lang);
        let secs = decimal(self.elapsed_seconds, 1, lang);
        match lang {
            UiLanguage::Vi => format!(
                "Đã xử lý {} hồ sơ: {} tài liệu mới ({} trang), {} tài liệu đã số hóa trước đó, {} lỗi. Tốc độ {} trang/phút, thời gian {} giây.",
                count(self.dossiers, lang),
                count(self.documents, lang),
                count(self.pages, lang),
                count(self.skipped, lang),
                count(self.failures.len() as u64, lang),
                rate,
                secs,
            ),
            UiLanguage::En => format!(
                "Processed {}: {} ({}), {} already digitized, {} failed. {} pages/min, {} s.",
                plural(self.dossiers, "dossier", "dossiers", lang),
                plural(self.documents, "new document", "new documents", lang),
                plural(self.pages, "page", "pages", lang),
                count(self.skipped, lang),
                count(self.failures.len() as u64, lang),
                rate,
                secs,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: &str) -> NewFailure {
        NewFailure {
            dossier_code: "000.00.18.H44-230314-0027".into(),
            kind: None,
            name: "02-don".into(),
            input_path: "000.00.18.H44-230314-0027/02-don.jpg".into(),
            input_sha256: None,
            error_code: code.into(),
            message: "Không tạo được tệp PDF: 02-don.jpg. (tin nhắn đã ghi)".into(),
        }
    }

    #[test]
    fn package_failures_are_not_unknown_errors_in_english() {
        // Regression: the list of known codes lacked E_PACKAGE_*, so English
        // batch output said "Unknown error" for every PDF writer failure.
        for code in [
            "E_PACKAGE_PAGE",
            "E_PACKAGE_IMAGE",
            "E_PACKAGE_OCR",
            "E_PACKAGE",
        ] {
            let r = FailureReport::from_failure(&failure(code), UiLanguage::En);
            assert_eq!(r.code, code);
            assert!(
                r.message.starts_with("Could not build the PDF: "),
                "{}",
                r.message
            );
        }
    }

    #[test]
    fn the_recorded_message_is_what_vietnamese_operators_read() {
        let f = failure("E_PACKAGE_PAGE");
        assert_eq!(
            FailureReport::from_failure(&f, UiLanguage::Vi).message,
            f.message
        );
        // A code this version does not know keeps the recorded text.
        let f = failure("E_FROM_THE_FUTURE");
        assert_eq!(
            FailureReport::from_failure(&f, UiLanguage::En).message,
            f.message
        );
    }
}
