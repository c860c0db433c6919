//! Records: the dossier register and its documents, in SQLite (WAL) at
//! `<data-dir>/sohoa.db` by default, or in PostgreSQL for shared deployments
//! (`Records::connect`). Only this module knows SQL; statements are written
//! once for both (`db`). Migrations are embedded per database and applied at open.

pub(crate) mod db;
mod migrations;
mod queries;
mod queue;
mod register;
mod signatures;
mod stations;
mod sync;
mod watch;

pub use queries::{DocumentView, DossierView, FailureView, PageView, RegisterView};
pub use queue::QueueItem;
pub use register::{Cell, Counts, GroupKey, ImportCounts, MissingDossier, Selection};
pub use signatures::{NewSignature, SignRole, SignatureView, ToSign};
pub use stations::{Station, StationLine};
pub use sync::{
    Due, OutboxSummary, Partial, Refused, RegisterCursor, SignedForm, Stored, UploadRecord,
};

use crate::codes::DossierCode;
use crate::intake::DocKind;
use db::{vals, Db, DbError, PoolSize};
use std::path::Path;
use thiserror::Error;
pub use watch::{InboxStatus, JobEnd, PendingMove, PlannedMove, RecentFailure};

#[derive(Debug, Error)]
pub enum RecordsError {
    #[error("database error: {0}")]
    Db(#[from] DbError),
    #[error("cannot open database {path}: {source}")]
    Open { path: String, source: DbError },
}

impl From<rusqlite::Error> for RecordsError {
    fn from(e: rusqlite::Error) -> Self {
        RecordsError::Db(DbError::Sqlite(e))
    }
}

impl RecordsError {
    pub fn code(&self) -> crate::errors::ErrorCode {
        crate::errors::ErrorCode::Database
    }
    /// A `UNIQUE` constraint refused the statement (its transaction rolled back).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            RecordsError::Db(DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _))) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            RecordsError::Db(DbError::Postgres(e)) => {
                e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }

    /// Busy/locked errors are worth retrying.
    pub fn is_transient(&self) -> bool {
        match self {
            RecordsError::Db(DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _))) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            // A connection lost, the server shutting down or starting up, a
            // serialization conflict: a later try may work.
            RecordsError::Db(DbError::Postgres(e)) => {
                use postgres::error::SqlState;
                e.is_closed()
                    || e.code().is_none()
                    || e.code().is_some_and(|c| {
                        [
                            SqlState::T_R_SERIALIZATION_FAILURE,
                            SqlState::T_R_DEADLOCK_DETECTED,
                            SqlState::ADMIN_SHUTDOWN,
                            SqlState::CRASH_SHUTDOWN,
                            SqlState::CANNOT_CONNECT_NOW,
                        ]
                        .contains(c)
                    })
            }
            // No connection could be had in time (the server is down or restarting).
            RecordsError::Db(DbError::Pool(_)) => true,
            RecordsError::Open {
                source: DbError::Pool(_),
                ..
            } => true,
            _ => false,
        }
    }
}

/// Runs `f` again while it fails with a transient error (the database
/// restarting, busy, a connection lost), waiting longer each time, for up to
/// `patience`; for a worker's idempotent steps (claiming, finishing, renewing),
/// so a database restart makes it wait instead of dying mid-lease.
pub fn retry_transient<T>(
    what: &str,
    patience: std::time::Duration,
    mut f: impl FnMut() -> Result<T, RecordsError>,
) -> Result<T, RecordsError> {
    let start = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(200);
    loop {
        match f() {
            Err(e) if e.is_transient() && start.elapsed() < patience => {
                tracing::warn!(
                    error = crate::errors::chain(&e),
                    what,
                    "database unavailable; trying again"
                );
                std::thread::sleep(wait);
                wait = (wait * 2).min(std::time::Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// One page's measurements, kept for the rules (≥ 200 dpi, colour, 100 % pages).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    /// Seconds Tesseract spent on the page (orientation and recognition).
    #[serde(default)]
    pub ocr_seconds: f32,
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

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A document to record. What goes on the wire is `api::Upload`, made from
/// this without the station's dossier id and archive path.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub dossier_id: i64,
    pub kind: DocKind,
    pub name: String,
    pub version: u32,
    pub archive_path: String,
    pub bytes: u64,
    /// SHA-256 of the PDF (on the server: checked against the bytes received).
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

/// The records; cheap to clone (a handle on a pool of connections) and
/// shared between threads.
#[derive(Clone)]
pub struct Records {
    db: Db,
}

/// A database URL without its password, for messages and printed settings.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(a), Some(b)) if b > a => {
            let creds = &url[a + 3..b];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..a + 3], &url[b..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Records {
    /// Opens (creating if needed) the SQLite database and applies pending migrations.
    pub fn open(path: &Path) -> Result<Records, RecordsError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let db = Db::sqlite(path, &PoolSize::default()).map_err(|source| RecordsError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let records = Records { db };
        migrations::apply(&records.db)?;
        Ok(records)
    }

    /// The records the settings name: PostgreSQL when `database_url` is set,
    /// else SQLite at `<data_dir>/sohoa.db`.
    pub fn open_configured(settings: &crate::config::Settings) -> Result<Records, RecordsError> {
        match &settings.database_url {
            Some(url) => Records::connect(url),
            None => Records::open(&settings.database_path()),
        }
    }

    /// Connects to PostgreSQL (`postgres://user@host:port/db`) and applies pending
    /// migrations. Connections come from a pool: one lost (the server restarted)
    /// is replaced on the next call, so a long-running process outlives restarts.
    pub fn connect(url: &str) -> Result<Records, RecordsError> {
        let db = Db::postgres(url, &PoolSize::default()).map_err(|source| RecordsError::Open {
            path: redact_url(url),
            source,
        })?;
        let records = Records { db };
        migrations::apply(&records.db)?;
        Ok(records)
    }

    /// The dossier's id, creating the record on first sight.
    pub fn ensure_dossier(&self, code: &DossierCode) -> Result<i64, RecordsError> {
        Ok(self.db.run(|e| {
            if let Some(row) =
                e.query_opt("SELECT id FROM dossiers WHERE code = $1", vals![&code.code])?
            {
                return row.get(0);
            }
            e.value(
                "INSERT INTO dossiers (code, unit_code, received_on, standard_code, first_seen_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (code) DO UPDATE SET code = excluded.code RETURNING id",
                vals![
                    &code.code,
                    &code.unit,
                    code.received.map(|d| d.to_string()),
                    code.standard,
                    now()
                ],
            )
        })?)
    }

    pub fn current_document(
        &self,
        dossier_id: i64,
        kind: DocKind,
        name: &str,
    ) -> Result<Option<CurrentDocument>, RecordsError> {
        let row = self.db.run(|e| {
            e.query_opt(
                "SELECT id, version, input_sha256 FROM documents
                  WHERE dossier_id = $1 AND kind = $2 AND name = $3 AND current = 1",
                vals![dossier_id, kind.as_str(), name],
            )
        })?;
        row.map(|r| {
            Ok(CurrentDocument {
                id: r.get(0)?,
                version: r.get(1)?,
                input_sha256: r.get(2)?,
            })
        })
        .transpose()
    }

    /// The input paths (as shown to operators) a document was made from.
    pub fn input_paths(&self, document_id: i64) -> Result<Vec<String>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT path FROM input_files WHERE document_id = $1",
                vals![document_id],
            )
        })?;
        rows.iter().map(|r| Ok(r.get(0)?)).collect()
    }

    /// Next version number of a component (1 for the first).
    pub fn next_version(
        &self,
        dossier_id: i64,
        kind: DocKind,
        name: &str,
    ) -> Result<u32, RecordsError> {
        let max: Option<u32> = self.db.run(|e| {
            e.value(
                "SELECT MAX(version) FROM documents WHERE dossier_id = $1 AND kind = $2 AND name = $3",
                vals![dossier_id, kind.as_str(), name],
            )
        })?;
        Ok(max.unwrap_or(0) + 1)
    }

    /// Records a stored document in one transaction: the row, its pages and
    /// inputs; the previous version stops being current; earlier failures of
    /// this component are marked resolved.
    pub fn insert_document(&self, doc: &NewDocument) -> Result<i64, RecordsError> {
        Ok(self.db.transaction(|e| insert_document_in(e, doc))?)
    }

    /// [`Records::insert_document`] for a worker of the shared queue: only
    /// while `worker` still holds queue item `item`, checked in the same
    /// transaction (the item's row locked on PostgreSQL, so a claim by
    /// another worker waits for it). `None`, and nothing recorded, when the
    /// item was taken over: its new holder makes the document.
    pub fn insert_document_held(
        &self,
        doc: &NewDocument,
        (worker, item): (&str, i64),
    ) -> Result<Option<i64>, RecordsError> {
        let lock = if self.db.is_sqlite() {
            ""
        } else {
            "FOR UPDATE"
        };
        let sql = format!(
            "SELECT id FROM work_queue WHERE id = $1 AND worker = $2 AND state = 'claimed' {lock}"
        );
        Ok(self.db.transaction(|e| {
            if e.query_opt(&sql, vals![item, worker])?.is_none() {
                return Ok(None);
            }
            insert_document_in(e, doc).map(Some)
        })?)
    }

    /// True when this exact failure (same input bytes) is already recorded.
    pub fn failure_known(&self, f: &NewFailure) -> Result<bool, RecordsError> {
        let n: i64 = self.db.run(|e| {
            e.value(
                "SELECT COUNT(*) FROM failures WHERE dossier_code = $1 AND name = $2 AND input_path = $3
                   AND input_sha256 IS NOT DISTINCT FROM $4 AND error_code = $5 AND resolved = 0",
                vals![&f.dossier_code, &f.name, &f.input_path, f.input_sha256.clone(), &f.error_code],
            )
        })?;
        Ok(n > 0)
    }

    /// Records a failed document (or folder) unless the same failure is known.
    pub fn insert_failure(&self, f: &NewFailure) -> Result<(), RecordsError> {
        if self.failure_known(f)? {
            return Ok(());
        }
        self.db.run(|e| {
            e.execute(
                "INSERT INTO failures (dossier_code, kind, name, input_path, input_sha256, error_code, message, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vals![
                    &f.dossier_code, f.kind.map(DocKind::as_str), &f.name, &f.input_path,
                    f.input_sha256.clone(), &f.error_code, &f.message, now()
                ],
            )
        })?;
        Ok(())
    }
}

/// `insert_document`'s statements, inside a transaction the caller holds.
fn insert_document_in(e: &mut db::Exec, doc: &NewDocument) -> Result<i64, DbError> {
    e.execute(
        "UPDATE documents SET current = 0 WHERE dossier_id = $1 AND kind = $2 AND name = $3",
        vals![doc.dossier_id, doc.kind.as_str(), &doc.name],
    )?;
    let id: i64 = e.value(
            "INSERT INTO documents (dossier_id, kind, name, version, current, archive_path, page_count, bytes,
                sha256, input_sha256, ocr_engine, ocr_version, ocr_languages, mean_confidence, created_at)
             VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            vals![
                doc.dossier_id, doc.kind.as_str(), &doc.name, doc.version, &doc.archive_path,
                doc.pages.len(), doc.bytes, &doc.sha256, &doc.input_sha256, &doc.ocr_engine,
                &doc.ocr_version, &doc.ocr_languages, doc.mean_confidence, now()
            ],
        )?;
    for p in &doc.pages {
        e.execute(
                "INSERT INTO pages (document_id, page_no, width_px, height_px, dpi_x, dpi_y, color, turn,
                    deskew_deg, blank, low_dpi, not_color, mean_confidence, words, ocr_seconds)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                vals![
                    id, p.page_no, p.width_px, p.height_px, p.dpi.map(|d| d.0), p.dpi.map(|d| d.1),
                    &p.color, p.turn, p.deskew_deg, p.blank, p.low_dpi(), p.not_color(),
                    p.mean_confidence, p.words, p.ocr_seconds
                ],
            )?;
    }
    for f in &doc.inputs {
        e.execute(
            "INSERT INTO input_files (document_id, path, sha256, bytes) VALUES ($1, $2, $3, $4)",
            vals![id, &f.path, &f.sha256, f.bytes],
        )?;
    }
    refresh_dossier(e, doc.dossier_id)?;
    e.execute(
            "UPDATE failures SET resolved = 1
              WHERE dossier_code = (SELECT code FROM dossiers WHERE id = $1) AND kind = $2 AND name = $3",
            vals![doc.dossier_id, doc.kind.as_str(), &doc.name],
        )?;
    Ok(id)
}

/// A current document of `x` that counts as a digitized copy: a page of it is
/// not blank (`rules::counts_as_digitized`).
const DIGITIZED: &str =
    "x.current = 1 AND EXISTS(SELECT 1 FROM pages p WHERE p.document_id = x.id AND p.blank = 0)";
/// … carrying the officer's signature, found valid by its last check.
const SIGNED: &str = "EXISTS(SELECT 1 FROM signatures g WHERE g.document_id = x.id
    AND g.role = 'officer' AND g.state = 'signed' AND g.check_valid = 1)";

/// Finds again what reports count a dossier by (`report_flags`) from all its
/// documents: a new version may replace the only digitized one, a signature
/// may be the last one missing. Run after every new document or signature.
pub(crate) fn refresh_dossier(e: &mut db::Exec, dossier_id: i64) -> Result<(), DbError> {
    let any = |kind: &str, signed: bool| {
        let and_signed = if signed {
            format!(" AND {SIGNED}")
        } else {
            String::new()
        };
        format!(
            "CASE WHEN EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = $1 AND x.kind = '{kind}'
                 AND {DIGITIZED}{and_signed}) THEN 1 ELSE 0 END"
        )
    };
    let all_signed = format!(
        "CASE WHEN EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = $1 AND x.kind = 'thanh_phan' AND {DIGITIZED})
              AND NOT EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = $1 AND {DIGITIZED} AND NOT {SIGNED})
         THEN 1 ELSE 0 END"
    );
    e.execute(
        &format!(
            "UPDATE dossiers SET has_component = {}, has_result = {}, signed_component = {}, signed_result = {},
                 all_signed = {all_signed} WHERE id = $1",
            any("thanh_phan", false),
            any("ket_qua", false),
            any("thanh_phan", true),
            any("ket_qua", true),
        ),
        vals![dossier_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;

/// For tests of this crate and its integration tests.
#[doc(hidden)]
pub mod testing {
    /// A fresh database on the throw-away PostgreSQL cluster `make test` starts
    /// (`scripts/with-postgres.sh` sets SOHOA_TEST_DATABASE_URL); its URL.
    pub fn postgres_url() -> String {
        let base = std::env::var("SOHOA_TEST_DATABASE_URL").expect(
            "SOHOA_TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a \
             throw-away PostgreSQL cluster (scripts/with-postgres.sh cargo test …)",
        );
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "sohoa_t{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let mut admin =
            postgres::Client::connect(&base, postgres::NoTls).expect("connect to the test cluster");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let (server, _) = base.rsplit_once('/').expect("a database URL");
        format!("{server}/{name}")
    }
}
