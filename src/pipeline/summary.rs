//! What a batch reports: per-document progress while it runs, and the final
//! summary (counts, failures with their operator messages, throughput).

use crate::errors::ErrorCode;
use crate::format::{count, decimal, UiLanguage};
use crate::messages::Problem;
use crate::records::NewFailure;
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
                    "\n{n} dossier folder(s) not named with a national dossier code were filed under the unit given with --unit: {shown}."
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
                "Processed {} dossier(s): {} new document(s) ({} pages), {} already digitized, {} failed. {} pages/min, {} s.",
                count(self.dossiers, lang),
                count(self.documents, lang),
                count(self.pages, lang),
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
