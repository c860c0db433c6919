//! Pipeline: calls the stages in order for a batch of inboxes. It owns the
//! order and the parallelism (components and pages on a pool of `jobs`
//! threads, one OCR engine per thread), and nothing else: every decision about
//! pixels, PDFs, paths or SQL lives in its stage.

mod document;
mod summary;

pub use summary::{BatchSummary, FailureReport, Progress, SilentProgress};

use crate::config::Settings;
use crate::intake::{self, Component, IntakeProblem};
use crate::messages::Problem;
use crate::ocr::{Engine, OcrError};
use crate::records::{NewFailure, Records, RecordsError};
use crate::store::{component_digest, sha256_hex};
use document::{process_component, Job};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// Errors that stop a whole batch (per-document errors never do).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Records(#[from] RecordsError),
    #[error(transparent)]
    Ocr(#[from] OcrError),
    #[error("inbox {0} does not exist or is not a folder")]
    Inbox(PathBuf),
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// Processes every dossier of the inboxes. Inputs are only read, never moved.
pub fn run_batch(
    settings: &Settings,
    inboxes: &[PathBuf],
    progress: &dyn Progress,
) -> Result<BatchSummary, BatchError> {
    let started = Instant::now();
    for inbox in inboxes {
        if !inbox.is_dir() {
            return Err(BatchError::Inbox(inbox.clone()));
        }
    }
    // Fail fast, before reading anything, when the OCR languages are missing.
    drop(Engine::new(&settings.ocr)?);
    let records = Mutex::new(Records::open(&settings.database_path())?);
    let mut summary = BatchSummary::default();
    let mut jobs = Vec::new();
    for inbox in inboxes {
        let scan = intake::scan_inbox(inbox, settings.default_unit.as_deref());
        for code in &scan.opaque_codes {
            tracing::warn!(dossier = %code, "folder name is not a standard dossier code; using the default unit");
        }
        for problem in &scan.problems {
            let failure = intake_failure(inbox, problem);
            record_failure(&records, &failure, &mut summary, settings, progress)?;
        }
        for dossier in scan.dossiers {
            summary.dossiers += 1;
            let dossier_id = lock(&records).ensure_dossier(&dossier.code)?;
            for component in dossier.components {
                match plan(&records, dossier_id, &dossier.code, component, inbox)? {
                    Planned::Skip => summary.skipped += 1,
                    Planned::Job(job) => jobs.push(job),
                    Planned::Failed(f) => {
                        record_failure(&records, &f, &mut summary, settings, progress)?
                    }
                }
            }
        }
    }
    progress.start(
        jobs.len() as u64,
        jobs.iter().map(|j| j.files.len() as u64).sum(),
    );

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.effective_jobs())
        .thread_name(|i| format!("sohoa-worker-{i}"))
        .build()
        .map_err(|e| BatchError::Threads(e.to_string()))?;
    let outcomes: Vec<_> = pool.install(|| {
        jobs.into_par_iter()
            .map(|job| {
                let out = process_component(&job, settings, &records, progress);
                (job, out)
            })
            .collect()
    });
    for (job, outcome) in outcomes {
        match outcome {
            Ok(done) => {
                summary.documents += 1;
                summary.pages += done.pages as u64;
            }
            Err(problem) => {
                let failure = job.failure(problem);
                record_failure(&records, &failure, &mut summary, settings, progress)?;
            }
        }
    }
    summary.finish(started.elapsed());
    progress.finish();
    Ok(summary)
}

enum Planned {
    Skip,
    Job(Job),
    Failed(NewFailure),
}

/// Hashes a component's files and decides whether it needs processing.
fn plan(
    records: &Mutex<Records>,
    dossier_id: i64,
    code: &crate::codes::DossierCode,
    component: Component,
    inbox: &Path,
) -> Result<Planned, BatchError> {
    let mut hashes = Vec::with_capacity(component.files.len());
    for file in &component.files {
        let shown = display_path(inbox, file);
        match std::fs::read(file) {
            Ok(bytes) => hashes.push((shown, sha256_hex(&bytes), bytes.len() as u64)),
            Err(e) => {
                let problem = Problem::new("E_READ", shown, e.to_string());
                return Ok(Planned::Failed(Job::failure_for(
                    &code.code, &component, inbox, None, problem,
                )));
            }
        }
    }
    let pairs: Vec<(String, String)> = hashes
        .iter()
        .map(|(n, h, _)| (n.clone(), h.clone()))
        .collect();
    let digest = component_digest(&pairs);
    let current = lock(records).current_document(dossier_id, component.kind, &component.name)?;
    if current.is_some_and(|c| c.input_sha256 == digest) {
        return Ok(Planned::Skip);
    }
    Ok(Planned::Job(Job {
        dossier_id,
        code: code.clone(),
        inbox: inbox.to_path_buf(),
        files: component
            .files
            .iter()
            .cloned()
            .zip(hashes)
            .map(|(p, (shown, h, b))| (p, shown, h, b))
            .collect(),
        component,
        digest,
    }))
}

fn intake_failure(inbox: &Path, problem: &IntakeProblem) -> NewFailure {
    let (code, path, detail) = match problem {
        IntakeProblem::InvalidCode { folder, .. } => ("E_INVALID_CODE", folder, String::new()),
        IntakeProblem::LooseFile { path } => ("E_LOOSE_FILE", path, String::new()),
        IntakeProblem::Symlink { path } => ("E_SYMLINK", path, String::new()),
        IntakeProblem::Unreadable { path, reason } => ("E_UNREADABLE", path, reason.clone()),
    };
    let shown = display_path(inbox, path);
    // The dossier a problem belongs to is the first folder under the inbox.
    let dossier = shown.split('/').next().unwrap_or_default().to_string();
    let p = Problem::new(code, shown.clone(), detail);
    NewFailure {
        dossier_code: dossier,
        kind: None,
        name: intake::nfc_name(path),
        input_path: shown,
        input_sha256: None,
        error_code: code.into(),
        message: p.message(crate::format::UiLanguage::Vi),
    }
}

fn record_failure(
    records: &Mutex<Records>,
    f: &NewFailure,
    summary: &mut BatchSummary,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<(), BatchError> {
    lock(records).insert_failure(f)?;
    let report = FailureReport::from_failure(f, settings.ui_language);
    progress.problem(&report);
    summary.failures.push(report);
    Ok(())
}

/// Path relative to the inbox, NFC, with `/` separators: what operators see.
pub fn display_path(inbox: &Path, path: &Path) -> String {
    use unicode_normalization::UnicodeNormalization;
    let rel = path.strip_prefix(inbox).unwrap_or(path);
    rel.to_string_lossy().nfc().collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A worker that panicked while holding the lock leaves SQLite consistent
    // (its transaction rolled back), so the poison flag can be ignored.
    m.lock().unwrap_or_else(|e| e.into_inner())
}
