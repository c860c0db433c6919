//! Records of `sohoa sync`. On a station: the outbox (every document until the
//! district server has acknowledged it) and small sync facts. On the server:
//! documents received from stations, and the register rows stations pull.

use super::db::{vals, Value};
use super::{insert_document_in, now, InputFile, NewDocument, PageRecord, Records, RecordsError};
use crate::codes::DossierCode;
use crate::intake::DocKind;
use crate::register::{contradictions_of, Channel, RegisterRow};
use serde::{Deserialize, Serialize};

/// A document with its dossier: what a station reads from its outbox to send
/// (as `api::Upload`), and what the server records from an upload.
#[derive(Debug, Clone)]
pub struct UploadRecord {
    pub dossier: DossierCode,
    pub document: NewDocument,
    /// The officer's signed form of the document, sent in place of its
    /// unsigned file (whose bytes are its prefix).
    pub signed: Option<SignedForm>,
}

/// A document's signed form as it is sent: its file (on the station,
/// relative to the data directory; empty on the server until it is filed),
/// size and SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedForm {
    pub archive_path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A waiting document whose turn has come.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub id: i64,
    pub attempts: u32,
    pub bytes: u64,
    /// The server's upload of it, if one was started.
    pub upload_url: Option<String>,
    /// How much of it the server held when last asked.
    pub upload_offset: u64,
}

/// The upload the server holds part of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Partial {
    pub dossier_code: String,
    pub name: String,
    pub offset: u64,
    pub bytes: u64,
}

/// What waits in the station's outbox, for `sohoa status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutboxSummary {
    pub waiting: u64,
    /// The size of the waiting documents' PDFs.
    pub waiting_bytes: u64,
    /// A document partly on the server (the one furthest along).
    pub partial: Option<Partial>,
    /// When the oldest waiting document was recorded.
    pub waiting_since: Option<String>,
    pub sent: u64,
    pub refused: Vec<Refused>,
    /// The last failure of a waiting document (with its time), if any.
    pub last_error: Option<String>,
}

/// A document the server (or the station itself) refused, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub document_id: i64,
    pub dossier_code: String,
    pub name: String,
    pub error: String,
}

/// Where a station's register pull stands: the last (import number, code) seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisterCursor {
    pub seq: i64,
    pub code: String,
}

/// How an upload ended on the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// The same PDF of the same component was already recorded: its id.
    Duplicate(i64),
    /// This version of the component is recorded with another PDF.
    Conflict,
}

impl Records {
    // ---- station side ----

    /// Adds the documents recorded since the last pass to the outbox; returns how many.
    /// A document sent before the officer signed it goes back in line, for
    /// its signed form.
    pub fn enqueue_outbox(&self) -> Result<u64, RecordsError> {
        Ok(self.db.run(|e| {
            let new = e.execute(
                "INSERT INTO outbox (document_id, queued_at)
                 SELECT d.id, d.created_at FROM documents d
                  WHERE d.id > (SELECT COALESCE(MAX(document_id), 0) FROM outbox)
                    AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.document_id = d.id)
                  ORDER BY d.id",
                &[],
            )?;
            let signed = e.execute(
                "UPDATE outbox SET state = 'waiting', attempts = 0, next_try_at = NULL, last_error = NULL
                  WHERE state = 'sent'
                    AND EXISTS (SELECT 1 FROM signatures g
                                 WHERE g.document_id = outbox.document_id AND g.role = 'officer'
                                   AND g.state = 'signed'
                                   AND (outbox.sent_sha256 IS NULL OR g.sha256 <> outbox.sent_sha256))",
                &[],
            )?;
            Ok(new + signed)
        })?)
    }

    /// Waiting documents whose turn has come (`now` as RFC 3339 UTC), smallest
    /// first (then oldest), with the tries each had and the upload the server
    /// may already hold part of.
    pub fn outbox_due(&self, now: &str, limit: u32) -> Result<Vec<Due>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT o.document_id, o.attempts,
                        COALESCE((SELECT g.bytes FROM signatures g WHERE g.document_id = d.id
                                     AND g.role = 'officer' AND g.state = 'signed'), d.bytes),
                        o.upload_url, o.upload_offset
                   FROM outbox o JOIN documents d ON d.id = o.document_id
                  WHERE o.state = 'waiting' AND (o.next_try_at IS NULL OR o.next_try_at <= $1)
                  ORDER BY d.bytes, o.document_id LIMIT $2",
                vals![now, limit],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(Due {
                    id: r.get(0)?,
                    attempts: r.get(1)?,
                    bytes: r.get(2)?,
                    upload_url: r.get(3)?,
                    upload_offset: r.get::<Option<u64>>(4)?.unwrap_or(0),
                })
            })
            .collect()
    }

    /// Where the server keeps this document's upload and how much it holds
    /// (`None`: no upload yet, or the server lost it).
    pub fn outbox_upload(
        &self,
        id: i64,
        url: Option<&str>,
        offset: u64,
    ) -> Result<(), RecordsError> {
        self.outbox_update(
            "UPDATE outbox SET upload_url = $2, upload_offset = $3 WHERE document_id = $1",
            vals![id, url.map(str::to_string), offset],
        )
    }

    /// A document as it is sent (its archive path and dossier id included, for the station).
    pub fn upload_record(&self, id: i64) -> Result<Option<UploadRecord>, RecordsError> {
        Ok(self.db.run(|e| {
            let Some(d) = e.query_opt(
                "SELECT s.code, s.unit_code, s.received_on, s.standard_code, d.kind, d.name, d.version,
                        d.sha256, d.bytes, d.input_sha256, d.ocr_engine, d.ocr_version, d.ocr_languages,
                        d.mean_confidence, d.archive_path, d.dossier_id
                   FROM documents d JOIN dossiers s ON s.id = d.dossier_id WHERE d.id = $1",
                vals![id],
            )?
            else {
                return Ok(None);
            };
            let pages = e
                .query(
                    "SELECT page_no, width_px, height_px, dpi_x, dpi_y, color, turn, deskew_deg, blank,
                            mean_confidence, words, ocr_seconds
                       FROM pages WHERE document_id = $1 ORDER BY page_no",
                    vals![id],
                )?
                .iter()
                .map(|p| -> Result<PageRecord, super::DbError> {
                    let dpi = match (p.get::<Option<f32>>(3)?, p.get::<Option<f32>>(4)?) {
                        (Some(x), Some(y)) => Some((x, y)),
                        _ => None,
                    };
                    Ok(PageRecord {
                        page_no: p.get(0)?,
                        width_px: p.get(1)?,
                        height_px: p.get(2)?,
                        dpi,
                        color: p.get(5)?,
                        turn: p.get::<u32>(6)? as u16,
                        deskew_deg: p.get(7)?,
                        blank: p.get(8)?,
                        mean_confidence: p.get(9)?,
                        words: p.get(10)?,
                        ocr_seconds: p.get::<Option<f32>>(11)?.unwrap_or(0.0),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let inputs = e
                .query(
                    "SELECT path, sha256, bytes FROM input_files WHERE document_id = $1 ORDER BY path",
                    vals![id],
                )?
                .iter()
                .map(|f| -> Result<InputFile, super::DbError> {
                    Ok(InputFile {
                        path: f.get(0)?,
                        sha256: f.get(1)?,
                        bytes: f.get(2)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let received: Option<String> = d.get(2)?;
            let kind: String = d.get(4)?;
            let dossier = DossierCode {
                code: d.get(0)?,
                unit: d.get(1)?,
                received: received.and_then(|s| s.parse().ok()),
                standard: d.get(3)?,
            };
            let document = NewDocument {
                dossier_id: d.get(15)?,
                kind: DocKind::parse(&kind).unwrap_or(DocKind::ThanhPhan),
                name: d.get(5)?,
                version: d.get(6)?,
                archive_path: d.get(14)?,
                bytes: d.get(8)?,
                sha256: d.get(7)?,
                input_sha256: d.get(9)?,
                inputs,
                ocr_engine: d.get(10)?,
                ocr_version: d.get(11)?,
                ocr_languages: d.get(12)?,
                mean_confidence: d.get(13)?,
                pages,
            };
            let signed = e
                .query_opt(
                    "SELECT archive_path, bytes, sha256 FROM signatures
                      WHERE document_id = $1 AND role = 'officer' AND state = 'signed'",
                    vals![id],
                )?
                .map(|g| -> Result<SignedForm, super::DbError> {
                    Ok(SignedForm {
                        archive_path: g.get(0)?,
                        bytes: g.get(1)?,
                        sha256: g.get(2)?,
                    })
                })
                .transpose()?;
            Ok(Some(UploadRecord {
                dossier,
                document,
                signed,
            }))
        })?)
    }

    /// The server acknowledged the document, sent as the file `sha256` (its
    /// unsigned or its signed form).
    pub fn outbox_sent(&self, id: i64, server_id: i64, sha256: &str) -> Result<(), RecordsError> {
        self.outbox_update(
            "UPDATE outbox SET state = 'sent', sent_at = $2, server_document_id = $3, attempts = attempts + 1,
                    last_error = NULL, next_try_at = NULL, upload_url = NULL, upload_offset = NULL,
                    sent_sha256 = $4
              WHERE document_id = $1",
            vals![id, now(), server_id, sha256],
        )
    }

    /// A try that may work later; not before `next_try_at` (None: at the next pass).
    pub fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        next_try_at: Option<String>,
    ) -> Result<(), RecordsError> {
        let error = format!("{} {error}", now());
        self.outbox_update(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_try_at = $3 WHERE document_id = $1",
            vals![id, error, next_try_at.clone()],
        )
    }

    /// Refused for a reason retrying will not change; kept for the operator.
    pub fn outbox_refused(&self, id: i64, error: &str) -> Result<(), RecordsError> {
        self.outbox_update(
            "UPDATE outbox SET state = 'refused', attempts = attempts + 1, last_error = $2, next_try_at = NULL
              WHERE document_id = $1",
            vals![id, error],
        )
    }

    /// Puts refused documents back in line (`sohoa sync --retry-refused`); returns how many.
    pub fn outbox_retry_refused(&self) -> Result<u64, RecordsError> {
        Ok(self.db.run(|e| {
            e.execute(
                "UPDATE outbox SET state = 'waiting', next_try_at = NULL WHERE state = 'refused'",
                &[],
            )
        })?)
    }

    fn outbox_update(&self, sql: &str, args: &[Value]) -> Result<(), RecordsError> {
        self.db.run(|e| e.execute(sql, args))?;
        Ok(())
    }

    /// What waits, since when, and what was refused. Documents recorded since
    /// the last pass count as waiting too.
    pub fn outbox_summary(&self) -> Result<OutboxSummary, RecordsError> {
        Ok(self.db.run(|e| {
            let not_queued = "SELECT d.id, d.created_at FROM documents d
                WHERE d.id > (SELECT COALESCE(MAX(document_id), 0) FROM outbox)
                  AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.document_id = d.id)";
            let waiting: i64 = e.value(
                &format!(
                    "SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'waiting') + (SELECT COUNT(*) FROM ({not_queued}) n)"
                ),
                &[],
            )?;
            let waiting_bytes: Option<i64> = e.value(
                &format!(
                    "SELECT CAST(SUM(b) AS BIGINT) FROM (SELECT d.bytes AS b FROM outbox o JOIN documents d ON d.id = o.document_id
                                         WHERE o.state = 'waiting'
                                        UNION ALL SELECT d.bytes FROM documents d
                                         WHERE d.id IN (SELECT id FROM ({not_queued}) n)) w"
                ),
                &[],
            )?;
            let partial = e
                .query_opt(
                    "SELECT s.code, d.name, o.upload_offset, d.bytes FROM outbox o
                       JOIN documents d ON d.id = o.document_id JOIN dossiers s ON s.id = d.dossier_id
                      WHERE o.state = 'waiting' AND o.upload_offset > 0
                      ORDER BY o.upload_offset DESC, o.document_id LIMIT 1",
                    &[],
                )?
                .map(|r| -> Result<Partial, super::DbError> {
                    Ok(Partial {
                        dossier_code: r.get(0)?,
                        name: r.get(1)?,
                        offset: r.get(2)?,
                        bytes: r.get(3)?,
                    })
                })
                .transpose()?;
            let since: Option<String> = e.value(
                &format!(
                    "SELECT MIN(t) FROM (SELECT queued_at AS t FROM outbox WHERE state = 'waiting'
                       UNION ALL SELECT created_at FROM ({not_queued}) n) w"
                ),
                &[],
            )?;
            let sent: i64 = e.value("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", &[])?;
            let last_error: Option<String> = e
                .query_opt(
                    "SELECT last_error FROM outbox WHERE state = 'waiting' AND last_error IS NOT NULL
                      ORDER BY last_error DESC LIMIT 1",
                    &[],
                )?
                .map(|r| r.get(0))
                .transpose()?;
            let refused = e
                .query(
                    "SELECT o.document_id, s.code, d.name, o.last_error FROM outbox o
                       JOIN documents d ON d.id = o.document_id JOIN dossiers s ON s.id = d.dossier_id
                      WHERE o.state = 'refused' ORDER BY o.document_id",
                    &[],
                )?
                .iter()
                .map(|r| {
                    Ok(Refused {
                        document_id: r.get(0)?,
                        dossier_code: r.get(1)?,
                        name: r.get(2)?,
                        error: r.get::<Option<String>>(3)?.unwrap_or_default(),
                    })
                })
                .collect::<Result<Vec<_>, super::DbError>>()?;
            Ok(OutboxSummary {
                waiting: waiting as u64,
                waiting_bytes: waiting_bytes.unwrap_or(0) as u64,
                partial,
                waiting_since: since,
                sent: sent as u64,
                refused,
                last_error,
            })
        })?)
    }

    pub fn sync_get(&self, key: &str) -> Result<Option<String>, RecordsError> {
        let row = self
            .db
            .run(|e| e.query_opt("SELECT value FROM sync_state WHERE key = $1", vals![key]))?;
        Ok(row.map(|r| r.get(0)).transpose()?)
    }

    pub fn sync_set(&self, key: &str, value: &str) -> Result<(), RecordsError> {
        self.db.run(|e| {
            e.execute(
                "INSERT INTO sync_state (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                vals![key, value],
            )
        })?;
        Ok(())
    }

    // ---- server side ----

    /// The unit a dossier is recorded under, if the dossier is known.
    pub fn dossier_unit(&self, code: &str) -> Result<Option<String>, RecordsError> {
        let row = self.db.run(|e| {
            e.query_opt(
                "SELECT unit_code FROM dossiers WHERE code = $1",
                vals![code],
            )
        })?;
        Ok(row.map(|r| r.get(0)).transpose()?)
    }

    /// Whether this component's PDF (or another PDF under the same version) is recorded.
    pub fn uploaded(&self, rec: &UploadRecord) -> Result<Option<Stored>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT d.id, d.sha256, d.version FROM documents d JOIN dossiers s ON s.id = d.dossier_id
                  WHERE s.code = $1 AND d.kind = $2 AND d.name = $3 AND (d.sha256 = $4 OR d.version = $5)",
                vals![&rec.dossier.code, rec.document.kind.as_str(), &rec.document.name, &rec.document.sha256, rec.document.version],
            )
        })?;
        let mut found = None;
        for r in &rows {
            let (id, sha): (i64, String) = (r.get(0)?, r.get(1)?);
            if sha == rec.document.sha256 {
                return Ok(Some(Stored::Duplicate(id)));
            }
            found = Some(Stored::Conflict);
        }
        Ok(found)
    }

    /// Records a document a station sent (its PDF already durably written at
    /// `archive_path`), in one transaction with the station that sent it. The
    /// highest version of the component is the current one, whatever the order
    /// of arrival.
    pub fn record_upload(
        &self,
        rec: &UploadRecord,
        archive_path: &str,
        station_id: i64,
    ) -> Result<i64, RecordsError> {
        let dossier_id = self.ensure_dossier(&rec.dossier)?;
        let doc = NewDocument {
            dossier_id,
            archive_path: archive_path.to_string(),
            ..rec.document.clone()
        };
        Ok(self.db.transaction(|e| {
            let id = insert_document_in(e, &doc)?;
            e.execute(
                "UPDATE documents SET current = CASE WHEN version = (SELECT MAX(version) FROM documents
                        WHERE dossier_id = $1 AND kind = $2 AND name = $3) THEN 1 ELSE 0 END
                  WHERE dossier_id = $1 AND kind = $2 AND name = $3",
                vals![dossier_id, rec.document.kind.as_str(), &rec.document.name],
            )?;
            e.execute(
                "INSERT INTO uploads (document_id, station_id, received_at) VALUES ($1, $2, $3)",
                vals![id, station_id, now()],
            )?;
            Ok(id)
        })?)
    }

    /// Register rows of `units` changed after `after`, in (import, code) order,
    /// with the cursor of each.
    pub fn register_since(
        &self,
        units: &[String],
        after: &RegisterCursor,
        limit: u32,
    ) -> Result<Vec<(RegisterCursor, RegisterRow)>, RecordsError> {
        let mut args = vals![after.seq, &after.code, limit].to_vec();
        let list: Vec<String> = units
            .iter()
            .map(|u| {
                args.push(Value::Text(u.clone()));
                format!("${}", args.len())
            })
            .collect();
        if list.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT register_seq, code, standard_code, procedure_code, procedure_name, field, unit_code,
                    received_on, channel, full_online, has_fee, paid_online, due_on, resolved_on, paper_result,
                    register_note
               FROM dossiers
              WHERE register_seq IS NOT NULL AND received_on IS NOT NULL
                AND (register_seq > $1 OR (register_seq = $1 AND code > $2))
                AND unit_code IN ({})
              ORDER BY register_seq, code LIMIT $3",
            list.join(", ")
        );
        let rows = self.db.run(|e| e.query(&sql, &args))?;
        let date = |s: Option<String>| s.and_then(|s| s.parse().ok());
        rows.iter()
            .map(|r| {
                let channel: Option<String> = r.get(8)?;
                let received: String = r.get(7)?;
                Ok((
                    RegisterCursor {
                        seq: r.get(0)?,
                        code: r.get(1)?,
                    },
                    RegisterRow {
                        line: 0,
                        code: r.get(1)?,
                        standard_code: r.get(2)?,
                        procedure_code: r.get(3)?,
                        procedure_name: r.get(4)?,
                        field: r.get(5)?,
                        unit_code: r.get(6)?,
                        received_on: received.parse().unwrap_or_default(),
                        channel: channel.as_deref().and_then(Channel::from_stored),
                        full_online: r.get(9)?,
                        has_fee: r.get(10)?,
                        paid_online: r.get(11)?,
                        due_on: date(r.get(12)?),
                        resolved_on: date(r.get(13)?),
                        paper_result: r.get(14)?,
                        contradictions: contradictions_of(r.get::<Option<String>>(15)?.as_deref()),
                    },
                ))
            })
            .collect()
    }
}
