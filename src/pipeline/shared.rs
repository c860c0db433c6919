//! A batch shared by several workers (processes, possibly on several
//! machines) over one PostgreSQL database and one archive: every worker
//! queues the dossier folders it sees, then claims a few at a time under a
//! lease that a heartbeat thread renews while it works. A worker that dies
//! stops renewing; its folders are claimed again when the lease runs out, and
//! what it had already recorded is recognised by digest, so no document is
//! made twice. Workers leave when nothing is queued or held any more.

use super::{add_outcome, BatchError, Held, Pipeline, Plan, Progress};
use crate::config::Settings;
use crate::intake::{self, Dossier, Entry};
use crate::pipeline::BatchSummary;
use crate::records::{retry_transient, QueueItem, Records};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Names, sizes and modification times of a dossier folder's files: a folder
/// that changes becomes a new queue item.
pub(crate) fn fingerprint(dossier: &Dossier) -> String {
    let mut h = Sha256::new();
    for c in &dossier.components {
        for f in &c.files {
            h.update(file_line(f));
            h.update("\n");
        }
    }
    hex::encode(h.finalize())
}

/// `path\0size\0mtime` of one file, a line of a fingerprint.
pub(crate) fn file_line(path: &Path) -> String {
    let meta = std::fs::metadata(path).ok();
    let mtime = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}\0{}\0{mtime}",
        path.display(),
        meta.map_or(0, |m| m.len())
    )
}

/// How long a worker waits for the database to come back before it gives up.
const PATIENCE: Duration = Duration::from_secs(120);

/// `host:pid`, as the queue shows who holds an item.
pub(crate) fn worker_name() -> String {
    format!("{}:{}", crate::store::host(), std::process::id())
}

/// Renews the leases of the items in `held` every third of the lease, on its
/// own connection, until `stop`.
pub(crate) fn heartbeat(
    settings: &Settings,
    worker: String,
    held: Arc<Mutex<Vec<i64>>>,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, BatchError> {
    let records = Records::open_configured(settings)?;
    let lease = settings.queue.lease_seconds;
    let every = Duration::from_secs_f64((lease as f64 / 3.0).max(0.2));
    Ok(std::thread::spawn(move || {
        let mut last = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            if last.elapsed() < every {
                continue;
            }
            last = Instant::now();
            let ids = held.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if !ids.is_empty() {
                let patience = Duration::from_secs(lease.max(3) as u64 / 3);
                if let Err(e) =
                    retry_transient("renew", patience, || records.renew(&worker, &ids, lease))
                {
                    tracing::warn!(
                        error = crate::errors::chain(&e),
                        "cannot renew the leases of the dossiers in progress"
                    );
                }
            }
        }
    }))
}

pub(super) fn run_shared_batch(
    settings: &Settings,
    inboxes: &[PathBuf],
    progress: &dyn Progress,
) -> Result<BatchSummary, BatchError> {
    let started = Instant::now();
    let mut pipeline = Pipeline::new(settings)?;
    pipeline.defer_retryable = false;
    let mut summary = BatchSummary::default();
    let worker = worker_name();
    let mut items = Vec::new();
    let mut sizes = Vec::new();
    for inbox in inboxes {
        let naming = pipeline.naming(
            settings.default_unit.as_deref(),
            settings.accept_unknown_units,
        );
        let scan = intake::scan_inbox(inbox, &naming);
        summary
            .local_codes
            .extend(scan.opaque_codes.iter().cloned());
        for problem in &scan.problems {
            let report = pipeline.record_intake_problem(inbox, problem)?;
            progress.problem(&report);
            summary.failures.push(report);
        }
        let shown = inbox.canonicalize().unwrap_or_else(|_| inbox.clone());
        for dossier in &scan.dossiers {
            let folder = dossier
                .folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            items.push((shown.display().to_string(), folder, fingerprint(dossier)));
            sizes.push(dossier.components.len() as u64);
        }
    }
    // Folders finished before, unchanged since: nothing to do, as a batch run again.
    for (finished, n) in pipeline.records().enqueue(&items)?.into_iter().zip(sizes) {
        if finished {
            summary.dossiers += 1;
            summary.skipped += n;
        }
    }
    let held = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let beat = heartbeat(settings, worker.clone(), held.clone(), stop.clone())?;
    let result = work(
        settings,
        &mut pipeline,
        &worker,
        &held,
        progress,
        &mut summary,
    );
    stop.store(true, Ordering::SeqCst);
    let _ = beat.join();
    result?;
    summary.finish(started.elapsed());
    Ok(summary)
}

fn work(
    settings: &Settings,
    pipeline: &mut Pipeline,
    worker: &str,
    held: &Mutex<Vec<i64>>,
    progress: &dyn Progress,
    summary: &mut BatchSummary,
) -> Result<(), BatchError> {
    // Twice the workers: the pool stays busy while a dossier has few components.
    let take = 2 * settings.effective_jobs();
    let never = AtomicBool::new(false);
    loop {
        let records = pipeline.records().clone();
        let claimed: Vec<QueueItem> = retry_transient("claim", PATIENCE, || {
            records.claim(worker, take, settings.queue.lease_seconds)
        })?;
        if claimed.is_empty() {
            // Others still hold items: wait, in case one of them dies and its lease runs out.
            if retry_transient("queue", PATIENCE, || records.unfinished_items())? == 0 {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        *held.lock().unwrap_or_else(|p| p.into_inner()) = claimed.iter().map(|i| i.id).collect();
        let mut plan = Plan::default();
        let mut items = HashMap::new();
        for item in &claimed {
            let inbox = Path::new(&item.inbox);
            let naming = pipeline.naming(
                settings.default_unit.as_deref(),
                settings.accept_unknown_units,
            );
            match intake::read_entry(&inbox.join(&item.folder), &naming, None) {
                Entry::Dossier {
                    dossier, problems, ..
                } => {
                    if item.retaken {
                        sweep_unrecorded(settings, &records, worker, item, &dossier.code.code)?;
                    }
                    items.insert(dossier.code.code.clone(), item.id);
                    summary.dossiers += 1;
                    for problem in &problems {
                        let report = pipeline.record_intake_problem(inbox, problem)?;
                        progress.problem(&report);
                        summary.failures.push(report);
                    }
                    pipeline.plan_dossier(inbox, dossier, &mut plan)?;
                }
                // Gone or changed into something else since it was queued.
                Entry::Ignored | Entry::Problem(_) => {}
            }
        }
        pipeline.held = Some(Held {
            worker: worker.to_string(),
            items,
        });
        for outcome in pipeline.run(plan, progress, &never)? {
            add_outcome(summary, outcome.result);
        }
        for item in &claimed {
            retry_transient("finish", PATIENCE, || {
                records.finish_item(worker, item.id, false)
            })?;
        }
        held.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Removes the PDFs of a dossier taken over from a worker that did not
/// finish it (killed after writing a copy, before recording it), unless
/// another worker holds the same folder under a live lease. Safe while this
/// worker holds the item: a former holder still running records nothing any
/// more (`Records::insert_document_held`).
fn sweep_unrecorded(
    settings: &Settings,
    records: &Records,
    worker: &str,
    item: &QueueItem,
    code: &str,
) -> Result<(), BatchError> {
    if records.others_hold_folder(&item.folder, worker)? {
        return Ok(());
    }
    let removed = crate::store::sweep_unrecorded(&settings.data_dir, &[code.to_string()], |rel| {
        records.archive_path_recorded(rel)
    })?;
    if removed > 0 {
        tracing::info!(
            dossier = code,
            removed,
            "removed the unrecorded copies of a dossier taken over"
        );
    }
    Ok(())
}
