//! What a batch reports: per-document progress while it runs, and the final
//! summary (counts, failures with their operator messages, throughput).

use crate::format::{count, decimal, UiLanguage};
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
        let problem = crate::messages::Problem::new(
            // Codes come from a closed set; unknown ones fall back to a generic text.
            crate::messages::known_code(&f.error_code),
            f.input_path.clone(),
            String::new(),
        );
        FailureReport {
            dossier: f.dossier_code.clone(),
            file: f.input_path.clone(),
            code: f.error_code.clone(),
            message: if lang == UiLanguage::Vi {
                f.message.clone()
            } else {
                problem.message(lang)
            },
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
