//! Signing what the archive holds: a recorded file, checked against its
//! record, signed as the officer's or the SAO Y copy ([`super::copy`]),
//! written beside it durably and then recorded. The unsigned file stays as it
//! is (it is the signed file's prefix); a recorded file is never replaced.

use super::appearance::Font;
use super::copy::{self, Copy};
use super::{SignError, Signing};
use crate::records::{NewSignature, Records, RecordsError, SignRole, ToSign};
use crate::store::{self, StoreError};
use std::path::Path;
use thiserror::Error;

/// What signing one document needs: where the records and the archive are,
/// the key, the block's font, and the trust anchors of the check after
/// signing.
pub struct Desk<'a> {
    pub records: &'a Records,
    pub data_dir: &'a Path,
    /// The key, and the time-stamping authority of B-T signatures.
    pub signing: Signing<'a>,
    pub font: &'a Font,
    pub anchors: &'a [Vec<u8>],
}

/// A document signed by this run.
#[derive(Debug)]
pub struct Recorded {
    /// The signed file, relative to the data directory.
    pub archive_path: String,
    pub signed: copy::Signed,
}

#[derive(Debug, Error)]
pub enum Failure {
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Records(#[from] RecordsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Failure {
    /// Whether nothing more can be signed in this run (the key failed, or
    /// the records cannot be written).
    pub fn stops_run(&self) -> bool {
        match self {
            Failure::Sign(e) => e.stops_run(),
            Failure::Records(_) => true,
            Failure::Store(_) => false,
        }
    }
}

/// The role a copy is recorded under.
pub fn role(copy: &Copy) -> SignRole {
    match copy {
        Copy::Officer { .. } => SignRole::Officer,
        Copy::SaoY { .. } => SignRole::SaoY,
    }
}

impl Desk<'_> {
    /// Signs `doc`'s file as `copy` and records the signed form. `None` when
    /// another run recorded this document's signature meanwhile (this run's
    /// file is removed again).
    pub fn sign(&self, doc: &ToSign, copy: &Copy) -> Result<Option<Recorded>, Failure> {
        let source = self.data_dir.join(&doc.archive_path);
        let unsigned = std::fs::read(&source).map_err(|e| SignError::Read {
            path: source.display().to_string(),
            source: e,
        })?;
        if store::sha256_hex(&unsigned) != doc.sha256 {
            return Err(SignError::ArchiveChanged {
                path: doc.archive_path.clone(),
            }
            .into());
        }
        let signed = copy::make(
            &unsigned,
            &doc.archive_path,
            copy,
            self.signing,
            self.font,
            self.anchors,
            chrono::Utc::now(),
        )?;
        drop(unsigned);
        let target = self
            .data_dir
            .join(copy::signed_path(&doc.archive_path, role(copy)));
        let written = store::write_new(&target, &signed.bytes)?;
        let id = store::file_id(&written);
        let archive_path = written
            .strip_prefix(self.data_dir)
            .unwrap_or(&written)
            .to_string_lossy()
            .into_owned();
        let (officer, position, agency) = match copy {
            Copy::Officer { officer, position } => {
                (Some(officer.clone()), Some(position.clone()), None)
            }
            Copy::SaoY { agency } => (None, None, Some(agency.clone())),
        };
        let record = NewSignature {
            document_id: doc.document_id,
            role: role(copy),
            archive_path: archive_path.clone(),
            bytes: signed.bytes.len() as u64,
            sha256: store::sha256_hex(&signed.bytes),
            signer: signed.signer.clone(),
            officer,
            position,
            agency,
            signed_at: signed.time.to_rfc3339(),
            problems: signed.problems.clone(),
            time_stamp: signed.time_stamp.clone(),
        };
        match self.records.record_signature(&record) {
            Ok(true) => Ok(Some(Recorded {
                archive_path,
                signed,
            })),
            Ok(false) => {
                store::remove_if_same(&written, id);
                Ok(None)
            }
            Err(e) => {
                // Not recorded: the file would be an orphan nobody points at.
                store::remove_if_same(&written, id);
                Err(e.into())
            }
        }
    }
}
