//! Stations allowed to call the server: name, unit, and the SHA-256 of their token.

use super::db::vals;
use super::{now, Records, RecordsError};

/// A station, as the server knows it after checking its token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Station {
    pub id: i64,
    pub name: String,
    pub unit_code: String,
    /// May read the server's own figures (`/metrics`).
    #[serde(default)]
    pub monitor: bool,
}

/// A station as `sohoa station list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StationLine {
    #[serde(flatten)]
    pub station: Station,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub uploads: u64,
}

impl Records {
    /// Adds a station with the digest of its token; `None` if the name is taken.
    pub fn add_station(
        &self,
        name: &str,
        unit_code: &str,
        token_sha256: &str,
        monitor: bool,
    ) -> Result<Option<Station>, RecordsError> {
        let row = self.db.run(|e| {
            e.query_opt(
                "INSERT INTO stations (name, unit_code, token_sha256, created_at, monitor) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                vals![name, unit_code, token_sha256, now(), monitor],
            )
        })?;
        row.map(|r| {
            Ok(Station {
                id: r.get(0)?,
                name: name.to_string(),
                unit_code: unit_code.to_string(),
                monitor,
            })
        })
        .transpose()
    }

    /// The station holding the token with this digest.
    pub fn station_by_token(&self, token_sha256: &str) -> Result<Option<Station>, RecordsError> {
        let row = self.db.run(|e| {
            e.query_opt(
                "SELECT id, name, unit_code, monitor FROM stations WHERE token_sha256 = $1 AND revoked_at IS NULL",
                vals![token_sha256],
            )
        })?;
        row.map(|r| {
            Ok(Station {
                id: r.get(0)?,
                name: r.get(1)?,
                unit_code: r.get(2)?,
                monitor: r.get(3)?,
            })
        })
        .transpose()
    }

    /// Every station: itself, when it was created, when revoked, and how many documents it sent.
    pub fn stations(&self) -> Result<Vec<StationLine>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT s.id, s.name, s.unit_code, s.created_at, s.revoked_at,
                        (SELECT COUNT(*) FROM uploads u WHERE u.station_id = s.id), s.monitor
                   FROM stations s ORDER BY s.name",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(StationLine {
                    station: Station {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        unit_code: r.get(2)?,
                        monitor: r.get(6)?,
                    },
                    created_at: r.get(3)?,
                    revoked_at: r.get(4)?,
                    uploads: r.get(5)?,
                })
            })
            .collect()
    }

    /// Revokes a station's token; false if no such station is active.
    pub fn revoke_station(&self, name: &str) -> Result<bool, RecordsError> {
        let n = self.db.run(|e| {
            e.execute(
                "UPDATE stations SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                vals![name, now()],
            )
        })?;
        Ok(n > 0)
    }

    /// The archive path of a document (relative to the data directory).
    pub fn document_path(&self, id: i64) -> Result<Option<(String, String)>, RecordsError> {
        let row = self.db.run(|e| {
            e.query_opt(
                "SELECT d.archive_path, s.unit_code FROM documents d JOIN dossiers s ON s.id = d.dossier_id WHERE d.id = $1",
                vals![id],
            )
        })?;
        row.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
    }

    /// Whether a document, or a signed form of one, is recorded at this archive path.
    pub fn archive_path_recorded(&self, path: &str) -> Result<bool, RecordsError> {
        let n: i64 = self.db.run(|e| {
            e.value(
                "SELECT (SELECT COUNT(*) FROM documents WHERE archive_path = $1)
                      + (SELECT COUNT(*) FROM signatures WHERE archive_path = $1)",
                vals![path],
            )
        })?;
        Ok(n > 0)
    }

    /// Whether the database answers (`/health`): one round trip, no scan.
    pub fn ping(&self) -> Result<(), RecordsError> {
        Ok(self.db.run(|e| e.value::<i64>("SELECT 1", &[]).map(drop))?)
    }

    /// Counters for `/metrics`: documents, pages, unresolved failures, queue
    /// depth, and the seconds of OCR behind the pages.
    pub fn metrics(&self) -> Result<([i64; 4], f64), RecordsError> {
        Ok(self.db.run(|e| {
            let counts = [
                e.value("SELECT COUNT(*) FROM documents", &[])?,
                e.value(
                    "SELECT CAST(COALESCE(SUM(page_count), 0) AS BIGINT) FROM documents",
                    &[],
                )?,
                e.value("SELECT COUNT(*) FROM failures WHERE resolved = 0", &[])?,
                e.value(
                    "SELECT COUNT(*) FROM work_queue WHERE state IN ('queued', 'claimed')",
                    &[],
                )?,
            ];
            let ocr: f64 = e.value(
                "SELECT CAST(COALESCE(SUM(ocr_seconds), 0) AS DOUBLE PRECISION) FROM pages",
                &[],
            )?;
            Ok((counts, ocr))
        })?)
    }
}
