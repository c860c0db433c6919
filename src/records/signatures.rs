//! The digital signatures of documents (`signatures`): which documents still
//! need one, the signed forms recorded beside the unsigned files, and the
//! documents a run could not sign (a token removed), left for the next run.

use super::db::vals;
use super::{now, Records, RecordsError};
use crate::sign::verify::Problem;
use serde::Serialize;

/// Who signs: the officer who made the copy, or the agency's SAO Y copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignRole {
    /// The officer's signature on the electronic copy (Circular 01/2023/TT-VPCP, Art. 8.1).
    Officer,
    /// The agency's SAO Y copy (Decree 30/2020/NĐ-CP, Appendix I).
    SaoY,
}

impl SignRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SignRole::Officer => "officer",
            SignRole::SaoY => "sao_y",
        }
    }
}

/// A current document to sign, and where its file is.
#[derive(Debug, Clone, PartialEq)]
pub struct ToSign {
    pub document_id: i64,
    pub dossier_code: String,
    pub name: String,
    pub version: u32,
    /// The file to sign (relative to the data directory): the document's own
    /// archive file, or for a SAO Y copy the officer's signed form of it.
    pub archive_path: String,
    /// Its recorded SHA-256, checked before it is signed.
    pub sha256: String,
}

/// A signed form written to the archive, to record.
#[derive(Debug, Clone)]
pub struct NewSignature {
    pub document_id: i64,
    pub role: SignRole,
    pub archive_path: String,
    pub bytes: u64,
    pub sha256: String,
    pub signer: crate::sign::cert::Identity,
    /// The officer's name and position shown in the block (officer role).
    pub officer: Option<String>,
    pub position: Option<String>,
    /// The agency named in the block (SAO Y).
    pub agency: Option<String>,
    /// RFC 3339, in Vietnam time, as in the signature's `/M`.
    pub signed_at: String,
    /// The check made right after signing.
    pub problems: Vec<Problem>,
    /// Its time-stamp (B-T), as that check found it.
    pub time_stamp: Option<crate::sign::verify::TimeStamp>,
}

/// A signature as `dossier show` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureView {
    pub role: SignRole,
    /// `signed`, or `unsigned` when a run could not sign the document (`note` says why).
    pub state: String,
    pub archive_path: Option<String>,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    pub signer_name: Option<String>,
    pub signer_subject: Option<String>,
    pub signer_serial: Option<String>,
    pub signer_issuer: Option<String>,
    pub officer: Option<String>,
    pub position: Option<String>,
    pub agency: Option<String>,
    pub signed_at: Option<String>,
    /// Whether the last check found every signature of the file valid.
    pub check_valid: Option<bool>,
    pub check_problems: Vec<Problem>,
    pub checked_at: Option<String>,
    /// The time-stamping authority's time (RFC 3339, UTC) and name (B-T).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_stamped_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_stamp_authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A document to sign, as [`to_sign`] reads it.
const DOCUMENT: &str = "SELECT d.id, s.code, d.name, d.version, d.archive_path, d.sha256
       FROM documents d JOIN dossiers s ON s.id = d.dossier_id";

/// Current, and without the officer's signature.
const UNSIGNED: &str = "d.current = 1
        AND NOT EXISTS (SELECT 1 FROM signatures g
                         WHERE g.document_id = d.id AND g.role = 'officer' AND g.state = 'signed')";

fn to_sign(r: &super::db::Row) -> Result<ToSign, RecordsError> {
    Ok(ToSign {
        document_id: r.get(0)?,
        dossier_code: r.get(1)?,
        name: r.get(2)?,
        version: r.get(3)?,
        archive_path: r.get(4)?,
        sha256: r.get(5)?,
    })
}

impl Records {
    /// The current documents without the officer's signature: of the dossier
    /// `code`, or of every dossier when `None`; in dossier code order, the
    /// components before the results.
    pub fn documents_to_sign(&self, code: Option<&str>) -> Result<Vec<ToSign>, RecordsError> {
        let rows = self.db.run(|e| match code {
            Some(c) => e.query(
                &format!("{DOCUMENT} WHERE {UNSIGNED} AND s.code = $1 ORDER BY s.code, d.kind DESC, d.name"),
                vals![c],
            ),
            None => e.query(
                &format!("{DOCUMENT} WHERE {UNSIGNED} ORDER BY s.code, d.kind DESC, d.name"),
                &[],
            ),
        })?;
        rows.iter().map(to_sign).collect()
    }

    /// Whether a dossier with this code is recorded.
    pub fn dossier_known(&self, code: &str) -> Result<bool, RecordsError> {
        Ok(self.dossier_unit(code)?.is_some())
    }

    /// Document `id`, and what a SAO Y copy of it is made from: the officer's
    /// signed form of it (`None` while the officer has not signed it). `None`
    /// when there is no such document.
    pub fn sao_y_source(&self, id: i64) -> Result<Option<(ToSign, Option<ToSign>)>, RecordsError> {
        let doc = self
            .db
            .run(|e| e.query_opt(&format!("{DOCUMENT} WHERE d.id = $1"), vals![id]))?;
        let Some(doc) = doc.as_ref().map(to_sign).transpose()? else {
            return Ok(None);
        };
        let signed = self.db.run(|e| {
            e.query_opt(
                "SELECT archive_path, sha256 FROM signatures
                  WHERE document_id = $1 AND role = 'officer' AND state = 'signed'",
                vals![id],
            )
        })?;
        let signed = signed
            .map(|r| -> Result<ToSign, RecordsError> {
                Ok(ToSign {
                    archive_path: r.get(0)?,
                    sha256: r.get(1)?,
                    ..doc.clone()
                })
            })
            .transpose()?;
        Ok(Some((doc, signed)))
    }

    /// The role's signed form of a document, if it has one: its archive path.
    pub fn signed_path(&self, id: i64, role: SignRole) -> Result<Option<String>, RecordsError> {
        Ok(self.db.run(|e| {
            e.query_opt(
                "SELECT archive_path FROM signatures WHERE document_id = $1 AND role = $2 AND state = 'signed'",
                vals![id, role.as_str()],
            )
        })?
        .map(|r| r.get(0))
        .transpose()?)
    }

    /// Records a signed form, already durably in the archive. `false` when the
    /// document already had a signature of this role (another run signed it
    /// meanwhile): nothing is recorded, and the caller removes its file.
    pub fn record_signature(&self, s: &NewSignature) -> Result<bool, RecordsError> {
        let problems = serde_json::to_string(&s.problems).unwrap_or_else(|_| "[]".into());
        let at = now();
        let n = self.db.transaction(|e| {
            let n = e.execute(
                "INSERT INTO signatures (document_id, role, state, archive_path, bytes, sha256, signer_name,
                    signer_subject, signer_serial, signer_issuer, officer, position, agency, signed_at,
                    check_valid, check_problems, checked_at, created_at, time_stamped_at, time_stamp_authority)
                 VALUES ($1, $2, 'signed', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17, $18)
                 ON CONFLICT (document_id, role) DO UPDATE SET state = 'signed',
                    archive_path = excluded.archive_path, bytes = excluded.bytes, sha256 = excluded.sha256,
                    signer_name = excluded.signer_name, signer_subject = excluded.signer_subject,
                    signer_serial = excluded.signer_serial, signer_issuer = excluded.signer_issuer,
                    officer = excluded.officer, position = excluded.position, agency = excluded.agency,
                    signed_at = excluded.signed_at, check_valid = excluded.check_valid,
                    check_problems = excluded.check_problems, checked_at = excluded.checked_at, note = NULL,
                    time_stamped_at = excluded.time_stamped_at,
                    time_stamp_authority = excluded.time_stamp_authority
                 WHERE signatures.state = 'unsigned'",
                vals![
                    s.document_id, s.role.as_str(), &s.archive_path, s.bytes, &s.sha256,
                    &s.signer.name, &s.signer.subject, &s.signer.serial, &s.signer.issuer,
                    s.officer.clone(), s.position.clone(), s.agency.clone(), &s.signed_at,
                    s.problems.is_empty(), &problems, &at,
                    s.time_stamp.as_ref().map(|t| t.at.to_rfc3339()),
                    s.time_stamp.as_ref().and_then(|t| t.authority.as_ref()).map(|a| a.name.clone())
                ],
            )?;
            if n > 0 {
                let dossier: i64 = e.value(
                    "SELECT dossier_id FROM documents WHERE id = $1",
                    vals![s.document_id],
                )?;
                super::refresh_dossier(e, dossier)?;
            }
            Ok(n)
        })?;
        Ok(n > 0)
    }

    /// Stores a new check of a recorded signed form (`sohoa verify` of a file
    /// of the archive): `false` when no signed form is recorded at
    /// `archive_path`. The dossier's report columns follow.
    pub fn record_check(
        &self,
        archive_path: &str,
        problems: &[Problem],
    ) -> Result<bool, RecordsError> {
        let text = serde_json::to_string(problems).unwrap_or_else(|_| "[]".into());
        Ok(self.db.transaction(|e| {
            let row = e.query_opt(
                "SELECT d.dossier_id FROM signatures g JOIN documents d ON d.id = g.document_id
                  WHERE g.archive_path = $1 AND g.state = 'signed'",
                vals![archive_path],
            )?;
            let Some(row) = row else {
                return Ok(false);
            };
            e.execute(
                "UPDATE signatures SET check_valid = $2, check_problems = $3, checked_at = $4
                  WHERE archive_path = $1",
                vals![archive_path, problems.is_empty(), &text, now()],
            )?;
            super::refresh_dossier(e, row.get(0)?)?;
            Ok(true)
        })?)
    }

    /// Current documents of the selection whose officer's signature is
    /// recorded but was not found valid by its last check (made without trust
    /// anchors, say): reports do not count them as signed, and say so.
    pub fn unverified_signatures(&self, sel: &super::Selection) -> Result<u64, RecordsError> {
        let (filter, args) = sel.clause();
        Ok(self.db.run(|e| {
            e.value(
                &format!(
                    "SELECT COUNT(*) FROM signatures g JOIN documents d ON d.id = g.document_id
                       JOIN dossiers ON dossiers.id = d.dossier_id
                      WHERE {filter} AND d.current = 1 AND g.role = 'officer' AND g.state = 'signed'
                        AND g.check_valid IS DISTINCT FROM 1"
                ),
                &args,
            )
        })?)
    }

    /// Marks a document a run meant to sign and could not (`note` says why),
    /// to be signed by the next run. A signed one is left as it is.
    pub fn mark_unsigned(&self, id: i64, role: SignRole, note: &str) -> Result<(), RecordsError> {
        self.db.run(|e| {
            e.execute(
                "INSERT INTO signatures (document_id, role, state, note, created_at)
                 VALUES ($1, $2, 'unsigned', $3, $4)
                 ON CONFLICT (document_id, role) DO UPDATE SET note = excluded.note
                 WHERE signatures.state = 'unsigned'",
                vals![id, role.as_str(), note, now()],
            )
        })?;
        Ok(())
    }

    /// The signatures of a document, the officer's first.
    pub fn signatures_of(&self, id: i64) -> Result<Vec<SignatureView>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT role, state, archive_path, bytes, sha256, signer_name, signer_subject, signer_serial,
                        signer_issuer, officer, position, agency, signed_at, check_valid, check_problems,
                        checked_at, note, time_stamped_at, time_stamp_authority
                   FROM signatures WHERE document_id = $1 ORDER BY role",
                vals![id],
            )
        })?;
        rows.iter()
            .map(|r| {
                // The column's CHECK allows only these two.
                let role = match r.get::<String>(0)?.as_str() {
                    "sao_y" => SignRole::SaoY,
                    _ => SignRole::Officer,
                };
                let problems: Option<String> = r.get(14)?;
                Ok(SignatureView {
                    role,
                    state: r.get(1)?,
                    archive_path: r.get(2)?,
                    bytes: r.get(3)?,
                    sha256: r.get(4)?,
                    signer_name: r.get(5)?,
                    signer_subject: r.get(6)?,
                    signer_serial: r.get(7)?,
                    signer_issuer: r.get(8)?,
                    officer: r.get(9)?,
                    position: r.get(10)?,
                    agency: r.get(11)?,
                    signed_at: r.get(12)?,
                    check_valid: r.get(13)?,
                    check_problems: problems
                        .and_then(|p| serde_json::from_str(&p).ok())
                        .unwrap_or_default(),
                    checked_at: r.get(15)?,
                    note: r.get(16)?,
                    time_stamped_at: r.get(17)?,
                    time_stamp_authority: r.get(18)?,
                })
            })
            .collect()
    }
}
