//! Records: the dossier register and its documents, in SQLite (WAL) at
//! `<data-dir>/sohoa.db`. Only this module knows SQL. Migrations are embedded
//! and applied at open. The method set is the seam a PostgreSQL store will
//! implement for shared deployments.

mod migrations;
mod queries;
mod register;
mod watch;

pub use queries::{DocumentView, DossierView, FailureView, PageView, RegisterView};
pub use register::{Cell, Counts, GroupKey, ImportCounts, MissingDossier, Selection};

use crate::codes::DossierCode;
use crate::intake::DocKind;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use thiserror::Error;
pub use watch::{InboxStatus, JobEnd, PendingMove, PlannedMove, RecentFailure};

#[derive(Debug, Error)]
pub enum RecordsError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
}

impl RecordsError {
    pub fn code(&self) -> &'static str {
        "E_DATABASE"
    }
    /// Busy/locked errors are worth retrying.
    pub fn is_transient(&self) -> bool {
        matches!(self, RecordsError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
    }
}

/// One page's measurements, kept for the rules (≥ 200 dpi, colour, 100 % pages).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageRecord {
    pub page_no: u32,
    pub width_px: u32,
    pub height_px: u32,
    /// Effective resolution; `None` when the file did not say.
    pub dpi: Option<(f32, f32)>,
    pub color: String,
    /// Clockwise turn applied to show the page upright.
    pub turn: u16,
    pub deskew_deg: f32,
    pub blank: bool,
    pub mean_confidence: Option<f32>,
    pub words: u32,
}

impl PageRecord {
    pub fn low_dpi(&self) -> bool {
        self.dpi
            .is_none_or(|(x, y)| x.min(y) < crate::rules::MIN_DPI - 0.5)
    }
    pub fn not_color(&self) -> bool {
        !matches!(self.color.as_str(), "rgb" | "cmyk")
    }
}

#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct NewDocument {
    pub dossier_id: i64,
    pub kind: DocKind,
    pub name: String,
    pub version: u32,
    pub archive_path: String,
    pub bytes: u64,
    pub sha256: String,
    pub input_sha256: String,
    pub inputs: Vec<InputFile>,
    pub ocr_engine: String,
    pub ocr_version: String,
    pub ocr_languages: String,
    pub mean_confidence: Option<f32>,
    pub pages: Vec<PageRecord>,
}

#[derive(Debug, Clone)]
pub struct NewFailure {
    pub dossier_code: String,
    pub kind: Option<DocKind>,
    pub name: String,
    pub input_path: String,
    pub input_sha256: Option<String>,
    pub error_code: String,
    pub message: String,
}

/// What is already recorded for a component.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentDocument {
    pub id: i64,
    pub version: u32,
    pub input_sha256: String,
}

pub struct Records {
    conn: Connection,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Records {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub fn open(path: &Path) -> Result<Records, RecordsError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let open_err = |source| RecordsError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let mut records = Records { conn };
        migrations::apply(&mut records.conn)?;
        Ok(records)
    }

    /// The dossier's id, creating the record on first sight.
    pub fn ensure_dossier(&mut self, code: &DossierCode) -> Result<i64, RecordsError> {
        if let Some(id) = self
            .conn
            .query_row(
                "SELECT id FROM dossiers WHERE code = ?1",
                [&code.code],
                |r| r.get(0),
            )
            .optional()?
        {
            return Ok(id);
        }
        self.conn.execute(
            "INSERT INTO dossiers (code, unit_code, received_on, standard_code, first_seen_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![code.code, code.unit, code.received.map(|d| d.to_string()), code.standard, now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn current_document(
        &self,
        dossier_id: i64,
        kind: DocKind,
        name: &str,
    ) -> Result<Option<CurrentDocument>, RecordsError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, version, input_sha256 FROM documents WHERE dossier_id = ?1 AND kind = ?2 AND name = ?3 AND current = 1",
                params![dossier_id, kind.as_str(), name],
                |r| Ok(CurrentDocument { id: r.get(0)?, version: r.get(1)?, input_sha256: r.get(2)? }),
            )
            .optional()?)
    }

    /// The input paths (as shown to operators) a document was made from.
    pub fn input_paths(&self, document_id: i64) -> Result<Vec<String>, RecordsError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path FROM input_files WHERE document_id = ?1")?;
        let rows = stmt.query_map([document_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Next version number of a component (1 for the first).
    pub fn next_version(
        &self,
        dossier_id: i64,
        kind: DocKind,
        name: &str,
    ) -> Result<u32, RecordsError> {
        let max: Option<u32> = self.conn.query_row(
            "SELECT MAX(version) FROM documents WHERE dossier_id = ?1 AND kind = ?2 AND name = ?3",
            params![dossier_id, kind.as_str(), name],
            |r| r.get(0),
        )?;
        Ok(max.unwrap_or(0) + 1)
    }

    /// Records a stored document in one transaction: the row, its pages and
    /// inputs; the previous version stops being current; earlier failures of
    /// this component are marked resolved.
    pub fn insert_document(&mut self, doc: &NewDocument) -> Result<i64, RecordsError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE documents SET current = 0 WHERE dossier_id = ?1 AND kind = ?2 AND name = ?3",
            params![doc.dossier_id, doc.kind.as_str(), doc.name],
        )?;
        tx.execute(
            "INSERT INTO documents (dossier_id, kind, name, version, current, archive_path, page_count, bytes, sha256, input_sha256,
                ocr_engine, ocr_version, ocr_languages, mean_confidence, created_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                doc.dossier_id, doc.kind.as_str(), doc.name, doc.version, doc.archive_path, doc.pages.len() as u32,
                doc.bytes as i64, doc.sha256, doc.input_sha256, doc.ocr_engine, doc.ocr_version, doc.ocr_languages,
                doc.mean_confidence, now()
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut page = tx.prepare(
                "INSERT INTO pages (document_id, page_no, width_px, height_px, dpi_x, dpi_y, color, turn, deskew_deg, blank,
                    low_dpi, not_color, mean_confidence, words) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            for p in &doc.pages {
                page.execute(params![
                    id,
                    p.page_no,
                    p.width_px,
                    p.height_px,
                    p.dpi.map(|d| d.0),
                    p.dpi.map(|d| d.1),
                    p.color,
                    p.turn,
                    p.deskew_deg,
                    p.blank,
                    p.low_dpi(),
                    p.not_color(),
                    p.mean_confidence,
                    p.words
                ])?;
            }
            let mut input = tx.prepare("INSERT INTO input_files (document_id, path, sha256, bytes) VALUES (?1, ?2, ?3, ?4)")?;
            for f in &doc.inputs {
                input.execute(params![id, f.path, f.sha256, f.bytes as i64])?;
            }
        }
        let flag = match doc.kind {
            DocKind::ThanhPhan => "UPDATE dossiers SET has_component = 1 WHERE id = ?1",
            DocKind::KetQua => "UPDATE dossiers SET has_result = 1 WHERE id = ?1",
        };
        tx.execute(flag, [doc.dossier_id])?;
        tx.execute(
            "UPDATE failures SET resolved = 1 WHERE dossier_code = (SELECT code FROM dossiers WHERE id = ?1) AND kind = ?2 AND name = ?3",
            params![doc.dossier_id, doc.kind.as_str(), doc.name],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// True when this exact failure (same input bytes) is already recorded.
    pub fn failure_known(&self, f: &NewFailure) -> Result<bool, RecordsError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM failures WHERE dossier_code = ?1 AND name = ?2 AND input_path = ?3
               AND input_sha256 IS ?4 AND error_code = ?5 AND resolved = 0",
            params![f.dossier_code, f.name, f.input_path, f.input_sha256, f.error_code],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Records a failed document (or folder) unless the same failure is known.
    pub fn insert_failure(&mut self, f: &NewFailure) -> Result<(), RecordsError> {
        if self.failure_known(f)? {
            return Ok(());
        }
        self.conn.execute(
            "INSERT INTO failures (dossier_code, kind, name, input_path, input_sha256, error_code, message, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![f.dossier_code, f.kind.map(DocKind::as_str), f.name, f.input_path, f.input_sha256, f.error_code, f.message, now()],
        )?;
        Ok(())
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}
