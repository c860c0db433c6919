//! Pipeline: calls the stages in order for a batch of inboxes. It owns the
//! order and the parallelism (components and pages on a pool of `jobs`
//! threads, one OCR engine per thread), and nothing else: every decision about
//! pixels, PDFs, paths or SQL lives in its stage.

mod document;
pub(crate) mod shared;
mod summary;

pub use summary::{BatchSummary, FailureReport, Flagged, Progress, SilentProgress};

use crate::config::Settings;
use crate::errors::ErrorCode;
use crate::intake::{self, Component, Dossier, IntakeProblem, Naming};
use crate::messages::Problem;
use crate::ocr::{Engine, OcrError};
use crate::records::{NewFailure, Records, RecordsError};
use crate::store::{component_digest, sha256_hex};
use crate::units::UnitTree;
use document::{process_component, Job, Processed};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// What is shared by every dossier of a run: the settings, the records and
/// the worker pool (one OCR engine per worker thread).
pub struct Pipeline<'s> {
    settings: &'s Settings,
    records: Records,
    pool: rayon::ThreadPool,
    /// Whether failures that are not the input's fault (a file still
    /// changing, a full disk, the database) leave the input for a later try
    /// (watch mode) rather than being reported as failed (batch).
    defer_retryable: bool,
    /// The unit tree imported into the records: a dossier code's unit must
    /// be in it (empty when none is imported: every unit is accepted).
    units: UnitTree,
    /// In a shared batch: the worker and the queue items it holds, by
    /// dossier code; a document is recorded only while its item is held.
    held: Option<Held>,
}

struct Held {
    worker: String,
    items: std::collections::HashMap<String, i64>,
}

/// What became of one component of a dossier.
#[derive(Debug)]
pub struct ComponentOutcome {
    pub component: Component,
    pub result: Outcome,
}

#[derive(Debug)]
pub enum Outcome {
    /// Stored and recorded now, with what the rules flag in it.
    Archived { pages: usize, flagged: Flagged },
    /// The same input is already archived (nothing done).
    Unchanged,
    /// Could not become a document; recorded with the reason.
    Failed(FailureReport),
    /// Not taken this time: a file changed while it was read, the run is
    /// stopping, or another worker took the dossier over. Left where it is
    /// for the next look.
    Deferred,
}

/// The components of the dossiers planned so far, split by what they need.
#[derive(Default)]
struct Plan {
    jobs: Vec<Job>,
    settled: Vec<ComponentOutcome>,
}

impl<'s> Pipeline<'s> {
    /// Checks the OCR languages, opens the records and starts the workers.
    pub fn new(settings: &'s Settings) -> Result<Self, BatchError> {
        // Fail fast, before reading anything, when the OCR languages are missing.
        drop(Engine::new(&settings.ocr)?);
        let records = Records::open_configured(settings)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.effective_jobs())
            .thread_name(|i| format!("sohoa-worker-{i}"))
            .build()
            .map_err(|e| BatchError::Threads(e.to_string()))?;
        let mut pipeline = Pipeline {
            settings,
            records,
            pool,
            defer_retryable: true,
            units: UnitTree::default(),
            held: None,
        };
        pipeline.reload_units()?;
        Ok(pipeline)
    }

    /// Reads the unit tree again (a long-running watcher sees a new import).
    pub fn reload_units(&mut self) -> Result<(), BatchError> {
        let units = self.records.units()?;
        // An imported tree was checked when imported; should it no longer
        // hold together, no unit is refused for it.
        self.units = UnitTree::new(units, self.settings.ui_language).unwrap_or_default();
        Ok(())
    }

    /// How an inbox's folders name their dossiers; `accept_unknown` lets
    /// codes of units outside the tree through.
    pub fn naming<'a>(&'a self, default_unit: Option<&'a str>, accept_unknown: bool) -> Naming<'a> {
        Naming {
            default_unit,
            units: (!accept_unknown).then_some(&self.units),
        }
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Records an input that cannot become a document and returns what the
    /// operator is told.
    pub fn record_failure(&self, f: &NewFailure) -> Result<FailureReport, BatchError> {
        self.records().insert_failure(f)?;
        Ok(FailureReport::from_failure(f, self.settings.ui_language))
    }

    /// Records a problem intake found in `inbox`.
    pub fn record_intake_problem(
        &self,
        inbox: &Path,
        problem: &IntakeProblem,
    ) -> Result<FailureReport, BatchError> {
        self.record_failure(&intake_failure(inbox, problem))
    }

    /// Hashes the dossier's components and sorts them into work and the rest.
    fn plan_dossier(
        &self,
        inbox: &Path,
        dossier: Dossier,
        plan: &mut Plan,
    ) -> Result<(), BatchError> {
        let dossier_id = self.records().ensure_dossier(&dossier.code)?;
        for component in dossier.components {
            match plan_component(&self.records, dossier_id, &dossier.code, &component, inbox)? {
                Planned::Skip => plan.settled.push(ComponentOutcome {
                    component,
                    result: Outcome::Unchanged,
                }),
                Planned::Job(job) => plan.jobs.push(*job),
                Planned::Failed(f) => {
                    let report = self.record_failure(&f)?;
                    plan.settled.push(ComponentOutcome {
                        component,
                        result: Outcome::Failed(report),
                    })
                }
            }
        }
        Ok(())
    }

    /// Runs the planned jobs on the pool, components and pages in parallel.
    /// Once `cancel` is raised no further component is started.
    fn run(
        &self,
        plan: Plan,
        progress: &dyn Progress,
        cancel: &AtomicBool,
    ) -> Result<Vec<ComponentOutcome>, BatchError> {
        progress.start(
            plan.jobs.len() as u64,
            plan.jobs.iter().map(|j| j.files.len() as u64).sum(),
        );
        let done: Vec<(Job, Option<Processed>)> = self.pool.install(|| {
            plan.jobs
                .into_par_iter()
                .map(|job| {
                    let held = self.held.as_ref().and_then(|h| {
                        h.items
                            .get(&job.code.code)
                            .map(|&item| (h.worker.as_str(), item))
                    });
                    let out = (!cancel.load(Ordering::Relaxed)).then(|| {
                        process_component(&job, self.settings, &self.records, progress, held)
                    });
                    (job, out)
                })
                .collect()
        });
        let mut outcomes = plan.settled;
        for (job, out) in done {
            let result = match out {
                // Cancelled, or taken over by another worker.
                None | Some(Ok(None)) => Outcome::Deferred,
                Some(Ok(Some(d))) => Outcome::Archived {
                    pages: d.pages,
                    flagged: d.flagged,
                },
                Some(Err(p)) if self.defer_retryable && p.code.retryable() => {
                    // The failure says nothing about the input (it changed
                    // while read; the archive, the database or the OCR engine
                    // could not be used): it is left for the next look.
                    tracing::info!(code = p.code.as_wire(), file = %p.file, detail = %p.detail, "left for a later try");
                    Outcome::Deferred
                }
                Some(Err(p)) => {
                    let report = self.record_failure(&job.failure(p))?;
                    progress.problem(&report);
                    Outcome::Failed(report)
                }
            };
            outcomes.push(ComponentOutcome {
                component: job.component,
                result,
            });
        }
        progress.finish();
        Ok(outcomes)
    }

    /// Processes dossier folders (watch mode), all components on the pool
    /// together. Outcomes come in no particular order; a component's `source`
    /// tells its dossier.
    pub fn process_dossiers(
        &self,
        dossiers: Vec<(PathBuf, Dossier)>,
        progress: &dyn Progress,
        cancel: &AtomicBool,
    ) -> Result<Vec<ComponentOutcome>, BatchError> {
        let mut plan = Plan::default();
        for (inbox, dossier) in dossiers {
            self.plan_dossier(&inbox, dossier, &mut plan)?;
        }
        self.run(plan, progress, cancel)
    }
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
    if settings.database_url.is_some() {
        // Shared records: other workers may run the same batch.
        return shared::run_shared_batch(settings, inboxes, progress);
    }
    let mut pipeline = Pipeline::new(settings)?;
    // A batch reports every failure; watch mode retries those that may pass.
    pipeline.defer_retryable = false;
    let mut summary = BatchSummary::default();
    let mut plan = Plan::default();
    for inbox in inboxes {
        let naming = pipeline.naming(
            settings.default_unit.as_deref(),
            settings.accept_unknown_units,
        );
        let scan = intake::scan_inbox(inbox, &naming);
        for code in &scan.opaque_codes {
            tracing::info!(dossier = %code, "folder name is not a standard dossier code; using the default unit");
        }
        summary
            .local_codes
            .extend(scan.opaque_codes.iter().cloned());
        for problem in &scan.problems {
            let report = pipeline.record_intake_problem(inbox, problem)?;
            progress.problem(&report);
            summary.failures.push(report);
        }
        for dossier in scan.dossiers {
            summary.dossiers += 1;
            pipeline.plan_dossier(inbox, dossier, &mut plan)?;
        }
    }
    // Failures found while planning are recorded; show them too.
    for o in &plan.settled {
        if let Outcome::Failed(report) = &o.result {
            progress.problem(report);
        }
    }
    let never = AtomicBool::new(false);
    for outcome in pipeline.run(plan, progress, &never)? {
        add_outcome(&mut summary, outcome.result);
    }
    summary.finish(started.elapsed());
    Ok(summary)
}

fn add_outcome(summary: &mut BatchSummary, outcome: Outcome) {
    match outcome {
        Outcome::Archived { pages, flagged } => {
            summary.documents += 1;
            summary.pages += pages as u64;
            summary.flagged.add(flagged);
        }
        Outcome::Unchanged => summary.skipped += 1,
        Outcome::Failed(report) => summary.failures.push(report),
        Outcome::Deferred => {}
    }
}

enum Planned {
    Skip,
    Job(Box<Job>),
    Failed(NewFailure),
}

/// Hashes a component's files and decides whether it needs processing.
fn plan_component(
    records: &Records,
    dossier_id: i64,
    code: &crate::codes::DossierCode,
    component: &Component,
    inbox: &Path,
) -> Result<Planned, BatchError> {
    let mut hashes = Vec::with_capacity(component.files.len());
    for file in &component.files {
        let shown = display_path(inbox, file);
        match std::fs::read(file) {
            Ok(bytes) => hashes.push((shown, sha256_hex(&bytes), bytes.len() as u64)),
            Err(e) => {
                let problem = Problem::new(ErrorCode::Read, shown, e.to_string());
                return Ok(Planned::Failed(Job::failure_for(
                    &code.code, component, inbox, None, problem,
                )));
            }
        }
    }
    let pairs: Vec<(String, String)> = hashes
        .iter()
        .map(|(n, h, _)| (n.clone(), h.clone()))
        .collect();
    let digest = component_digest(&pairs);
    let mut component = component.clone();
    let current = records.current_document(dossier_id, component.kind, &component.name)?;
    if let Some(c) = current {
        if c.input_sha256 == digest {
            return Ok(Planned::Skip);
        }
        // Pages added to a folder document archived from an earlier drop
        // (watch mode moved those pages away): none of the files is one it
        // was made from, so this is more of the document, not a rescan of
        // it. It becomes `name (2)`, … beside it, never a version replacing it.
        let before = records.input_paths(c.id)?;
        let added = component.source.is_dir() && !pairs.iter().any(|(p, _)| before.contains(p));
        if added {
            for n in 2.. {
                let name = format!("{} ({n})", component.name);
                match records.current_document(dossier_id, component.kind, &name)? {
                    Some(other) if other.input_sha256 == digest => return Ok(Planned::Skip),
                    Some(_) => continue,
                    None => {
                        component.name = name;
                        break;
                    }
                }
            }
        }
    }
    Ok(Planned::Job(Box::new(Job {
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
    })))
}

fn intake_failure(inbox: &Path, problem: &IntakeProblem) -> NewFailure {
    let (code, path, detail) = match problem {
        IntakeProblem::InvalidCode { folder, .. } => {
            (ErrorCode::InvalidCode, folder, String::new())
        }
        IntakeProblem::UnknownUnit {
            folder, closest, ..
        } => (ErrorCode::UnknownUnit, folder, closest.join("; ")),
        IntakeProblem::LooseFile { path } => (ErrorCode::LooseFile, path, String::new()),
        IntakeProblem::Symlink { path } => (ErrorCode::Symlink, path, String::new()),
        IntakeProblem::Unreadable { path, reason } => (ErrorCode::Unreadable, path, reason.clone()),
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
        error_code: code.as_wire().into(),
        message: p.message(crate::format::UiLanguage::Vi),
    }
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
