//! Read side of the records: what `dossier show` prints.

use super::db::vals;
use super::{Records, RecordsError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    pub page_no: u32,
    pub width_px: u32,
    pub height_px: u32,
    pub dpi_x: Option<f32>,
    pub dpi_y: Option<f32>,
    pub color: String,
    pub turn: u16,
    pub deskew_deg: f32,
    pub blank: bool,
    pub low_dpi: bool,
    pub not_color: bool,
    pub mean_confidence: Option<f32>,
    pub words: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub version: u32,
    pub current: bool,
    pub archive_path: String,
    pub page_count: u32,
    pub bytes: u64,
    pub sha256: String,
    pub input_sha256: String,
    pub ocr_engine: String,
    pub ocr_version: String,
    pub ocr_languages: String,
    pub mean_confidence: Option<f32>,
    pub created_at: String,
    pub pages: Vec<PageView>,
    /// The officer's signature and the SAO Y copy, when made.
    pub signatures: Vec<super::SignatureView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureView {
    pub kind: Option<String>,
    pub name: String,
    pub input_path: String,
    pub error_code: String,
    pub message: String,
    pub created_at: String,
    pub resolved: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DossierView {
    pub code: String,
    pub unit_code: String,
    pub received_on: Option<String>,
    pub standard_code: bool,
    pub first_seen_at: String,
    /// What the receipt register says; `None` until a register row names the dossier.
    pub register: Option<RegisterView>,
    pub documents: Vec<DocumentView>,
    pub failures: Vec<FailureView>,
}

/// The register columns of a dossier (see `sohoa register import`).
#[derive(Debug, Clone, Serialize)]
pub struct RegisterView {
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub field: Option<String>,
    pub channel: Option<String>,
    pub full_online: Option<bool>,
    pub has_fee: Option<bool>,
    pub paid_online: Option<bool>,
    pub due_on: Option<String>,
    pub resolved_on: Option<String>,
    pub paper_result: Option<bool>,
    /// Flags of the row that contradict each other (imported as given).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contradictions: Vec<crate::register::Contradiction>,
    pub registered_at: String,
}

impl Records {
    pub fn dossier_view(&self, code: &str) -> Result<Option<DossierView>, RecordsError> {
        let head = self.db.run(|e| {
            e.query_opt(
                "SELECT id, code, unit_code, received_on, standard_code, first_seen_at, procedure_code, procedure_name,
                        field, channel, full_online, has_fee, paid_online, due_on, resolved_on, paper_result, registered_at,
                        register_note
                 FROM dossiers WHERE code = $1",
                vals![code],
            )
        })?;
        let Some(r) = head else {
            // A folder refused before it became a dossier may still have failures.
            let failures = self.failures_of(code)?;
            if failures.is_empty() {
                return Ok(None);
            }
            return Ok(Some(DossierView {
                code: code.to_string(),
                unit_code: String::new(),
                received_on: None,
                standard_code: false,
                first_seen_at: String::new(),
                register: None,
                documents: Vec::new(),
                failures,
            }));
        };
        let register = match r.get::<Option<String>>(16)? {
            None => None,
            Some(registered_at) => Some(RegisterView {
                procedure_code: r.get(6)?,
                procedure_name: r.get(7)?,
                field: r.get(8)?,
                channel: r.get(9)?,
                full_online: r.get(10)?,
                has_fee: r.get(11)?,
                paid_online: r.get(12)?,
                due_on: r.get(13)?,
                resolved_on: r.get(14)?,
                paper_result: r.get(15)?,
                contradictions: crate::register::contradictions_of(
                    r.get::<Option<String>>(17)?.as_deref(),
                ),
                registered_at,
            }),
        };
        let id: i64 = r.get(0)?;
        let mut view = DossierView {
            code: r.get(1)?,
            unit_code: r.get(2)?,
            received_on: r.get(3)?,
            standard_code: r.get(4)?,
            first_seen_at: r.get(5)?,
            register,
            documents: Vec::new(),
            failures: Vec::new(),
        };
        let docs = self.db.run(|e| {
            e.query(
                "SELECT id, kind, name, version, current, archive_path, page_count, bytes, sha256, input_sha256,
                        ocr_engine, ocr_version, ocr_languages, mean_confidence, created_at
                 FROM documents WHERE dossier_id = $1 ORDER BY kind DESC, name, version",
                vals![id],
            )
        })?;
        for r in docs {
            let doc_id: i64 = r.get(0)?;
            let pages = self.db.run(|e| {
                e.query(
                    "SELECT page_no, width_px, height_px, dpi_x, dpi_y, color, turn, deskew_deg, blank, low_dpi,
                            not_color, mean_confidence, words
                     FROM pages WHERE document_id = $1 ORDER BY page_no",
                    vals![doc_id],
                )
            })?;
            let pages = pages
                .iter()
                .map(|p| {
                    Ok(PageView {
                        page_no: p.get(0)?,
                        width_px: p.get(1)?,
                        height_px: p.get(2)?,
                        dpi_x: p.get(3)?,
                        dpi_y: p.get(4)?,
                        color: p.get(5)?,
                        turn: p.get(6)?,
                        deskew_deg: p.get(7)?,
                        blank: p.get(8)?,
                        low_dpi: p.get(9)?,
                        not_color: p.get(10)?,
                        mean_confidence: p.get(11)?,
                        words: p.get(12)?,
                    })
                })
                .collect::<Result<Vec<_>, RecordsError>>()?;
            view.documents.push(DocumentView {
                id: doc_id,
                kind: r.get(1)?,
                name: r.get(2)?,
                version: r.get(3)?,
                current: r.get(4)?,
                archive_path: r.get(5)?,
                page_count: r.get(6)?,
                bytes: r.get(7)?,
                sha256: r.get(8)?,
                input_sha256: r.get(9)?,
                ocr_engine: r.get(10)?,
                ocr_version: r.get(11)?,
                ocr_languages: r.get(12)?,
                mean_confidence: r.get(13)?,
                created_at: r.get(14)?,
                pages,
                signatures: self.signatures_of(doc_id)?,
            });
        }
        view.failures = self.failures_of(code)?;
        Ok(Some(view))
    }

    fn failures_of(&self, code: &str) -> Result<Vec<FailureView>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT kind, name, input_path, error_code, message, created_at, resolved FROM failures
                 WHERE dossier_code = $1 ORDER BY id",
                vals![code],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(FailureView {
                    kind: r.get(0)?,
                    name: r.get(1)?,
                    input_path: r.get(2)?,
                    error_code: r.get(3)?,
                    message: r.get(4)?,
                    created_at: r.get(5)?,
                    resolved: r.get(6)?,
                })
            })
            .collect()
    }
}
