//! Watch mode (`sohoa watch`): a long-lived service over the hot folders of a
//! scanning room. Every dossier folder dropped into an inbox is taken once it
//! has settled, goes through the same pipeline as `sohoa batch`, and its
//! inputs leave the inbox only after their PDF is stored and recorded: to
//! `processed/<date>/…`, or to `failed/…` with a `.loi.txt` note.
//!
//! Order of a job, and why nothing is lost or done twice:
//! 1. the pipeline stores and records each document (a component already
//!    archived with the same input digest is not redone);
//! 2. the job's moves are written to the records in one transaction;
//! 3. each move is made durably and then deleted from the records.
//!
//! A kill at any point leaves either the inputs in the inbox (taken again; what
//! was archived is recognised by digest) or pending moves (finished first
//! thing at the next start). One watcher per data directory (a lock file).

mod dispose;
mod lock;
mod settle;
mod text;

pub use lock::{holder, DataDirLock, LockError};
pub use text::{drain_timeout as text_drain_timeout, stopping as text_stopping};

use crate::config::Settings;
use crate::format::UiLanguage;
use crate::intake::{self, is_junk, is_temporary, nfc_name, Entry, IntakeProblem};
use crate::pipeline::{
    display_path, BatchError, FailureReport, Flagged, Outcome, Pipeline, SilentProgress,
};
use crate::records::{JobEnd, PlannedMove, RecordsError};
use settle::{snapshot, Readiness, Tracker};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// One inbox as the watcher serves it.
#[derive(Debug, Clone)]
pub struct InboxSpec {
    pub path: PathBuf,
    /// Unit code for folders whose name is not a standard dossier code.
    pub unit: Option<String>,
    pub settle: Duration,
    /// Poll at this interval instead of waiting for events.
    pub poll: Option<Duration>,
    /// Archive dossiers whose unit the unit tree does not have.
    pub accept_unknown_units: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Pipeline(#[from] BatchError),
    #[error(transparent)]
    Records(#[from] RecordsError),
    #[error("inbox {0} does not exist or is not a folder")]
    Inbox(PathBuf),
    #[error("no inbox to watch: give one on the command line or as [[inbox]] in the config")]
    NoInbox,
}

impl WatchError {
    /// The database went away (a restart, a lost connection): worth waiting for.
    fn is_transient(&self) -> bool {
        match self {
            WatchError::Records(e) | WatchError::Pipeline(BatchError::Records(e)) => {
                e.is_transient()
            }
            _ => false,
        }
    }
}

/// What the watcher knows between looks: settle bookkeeping, the entries
/// waiting for their settle time, and those to look at next.
#[derive(Default)]
struct Schedule {
    tracker: Tracker,
    waits: HashMap<PathBuf, (usize, Instant)>,
    pending: BTreeSet<(usize, PathBuf)>,
}

struct Inbox {
    spec: InboxSpec,
    /// `None`: events; `Some`: polled at this interval.
    poll: Option<Duration>,
    next_poll: Instant,
}

/// Runs until `stop` is raised; then the job in progress finishes its
/// started documents and moves, and `run` returns.
pub fn run(
    settings: &Settings,
    specs: Vec<InboxSpec>,
    stop: &AtomicBool,
    say: &(dyn Fn(&str) + Sync),
    archived: &dyn Fn(&str),
) -> Result<(), WatchError> {
    if specs.is_empty() {
        return Err(WatchError::NoInbox);
    }
    for s in &specs {
        if !s.path.is_dir() {
            return Err(WatchError::Inbox(s.path.clone()));
        }
    }
    let shared = settings.database_url.is_some();
    let _lock = DataDirLock::acquire(&settings.data_dir, shared)?;
    let pipeline = Pipeline::new(settings)?;
    // On shared records, watchers on several machines split the folders through
    // the work queue; a heartbeat renews the leases of what this one holds.
    let (queue, beat) = if shared {
        let worker = crate::pipeline::shared::worker_name();
        let held = Arc::new(Mutex::new(Vec::new()));
        let stop_beat = Arc::new(AtomicBool::new(false));
        let handle = crate::pipeline::shared::heartbeat(
            settings,
            worker.clone(),
            Arc::clone(&held),
            Arc::clone(&stop_beat),
        )?;
        let queue = Queue {
            worker,
            held,
            lease: settings.queue.lease_seconds,
        };
        (Some(queue), Some((handle, stop_beat)))
    } else {
        (None, None)
    };
    let mut watcher = Watcher {
        settings,
        pipeline,
        lang: settings.ui_language,
        say,
        archived,
        inboxes: Vec::new(),
        queue,
    };
    // A database that goes away (PostgreSQL restarting, a lost connection)
    // is waited for: the watcher starts over as after a kill, so nothing
    // half done is lost or done twice, and it never dies mid-lease.
    let mut wait = Duration::from_secs(2);
    let result = loop {
        let result = watcher
            .recover()
            .and_then(|_| watcher.serve(specs.clone(), stop));
        match result {
            Err(e) if e.is_transient() && !stop.load(Ordering::Relaxed) => {
                tracing::warn!(
                    error = crate::errors::chain(&e),
                    "database unavailable; the watcher starts over"
                );
                (watcher.say)(&text::database_lost(watcher.lang, wait.as_secs()));
                let until = Instant::now() + wait;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                }
                wait = (wait * 2).min(Duration::from_secs(60));
                watcher.inboxes.clear();
            }
            other => break other,
        }
    };
    if let Some((handle, stop_beat)) = beat {
        stop_beat.store(true, Ordering::SeqCst);
        let _ = handle.join();
    }
    result
}

/// A watcher's place in the shared work queue.
struct Queue {
    worker: String,
    /// Items this watcher holds, renewed by the heartbeat.
    held: Arc<Mutex<Vec<i64>>>,
    lease: i64,
}

struct Watcher<'a> {
    settings: &'a Settings,
    pipeline: Pipeline<'a>,
    lang: UiLanguage,
    say: &'a (dyn Fn(&str) + Sync),
    /// Told each dossier code whose documents were archived, after its line
    /// (`[sign] mode = "auto"` signs them).
    archived: &'a dyn Fn(&str),
    inboxes: Vec<Inbox>,
    queue: Option<Queue>,
}

impl Watcher<'_> {
    /// On shared records: claims an inbox entry for this watcher, or says it is
    /// another machine's (`Ok(None)`). Without a queue every entry is ours.
    fn claim(
        &mut self,
        inbox: &Path,
        entry: &Path,
        fingerprint: &str,
    ) -> Result<Option<Option<i64>>, WatchError> {
        let Some(q) = &self.queue else {
            return Ok(Some(None));
        };
        let key = inbox.canonicalize().unwrap_or_else(|_| inbox.to_path_buf());
        let folder = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let claimed = self.pipeline.records().claim_folder(
            &q.worker,
            (&key.display().to_string(), &folder, fingerprint),
            q.lease,
        )?;
        if let Some(id) = claimed {
            q.held.lock().unwrap_or_else(|p| p.into_inner()).push(id);
        }
        Ok(claimed.map(Some))
    }

    /// Queue items held by dead processes of this machine (a watcher killed
    /// before it finished them): queued again while their folder is in the
    /// inbox, done once it is gone, so the queue depth does not keep them.
    /// While such an item is taken over, nobody else makes its dossier's
    /// documents, so the PDFs the dead watcher wrote there and never recorded
    /// are removed first. Returns how many.
    fn release_dead_items(&mut self) -> Result<usize, WatchError> {
        let Some(q) = &self.queue else {
            return Ok(0);
        };
        let records = self.pipeline.records();
        let mut swept = 0;
        for (id, worker, item) in records.claimed_on_host(crate::store::host())? {
            let alive = worker
                .rsplit_once(':')
                .and_then(|(_, pid)| pid.parse::<u32>().ok())
                .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if alive || !records.take_over(id, &worker, &q.worker, q.lease)? {
                continue;
            }
            swept += crate::store::sweep_unrecorded(
                &self.settings.data_dir,
                std::slice::from_ref(&item.folder),
                |rel| records.archive_path_recorded(rel),
            )?;
            let gone = !Path::new(&item.inbox).join(&item.folder).exists();
            records.release_dead(id, &q.worker, gone)?;
        }
        Ok(swept)
    }

    /// The item of a finished entry is done (shared records only).
    fn release(&mut self, item: Option<i64>) -> Result<(), WatchError> {
        if let (Some(q), Some(id)) = (&self.queue, item) {
            self.pipeline.records().finish_item(&q.worker, id, false)?;
            q.held
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|h| *h != id);
        }
        Ok(())
    }

    fn marker(&self) -> &str {
        &self.settings.watch.marker
    }

    /// After a kill: jobs left in progress are marked interrupted, moves
    /// written down are made, and temporary files of dead writers removed.
    fn recover(&mut self) -> Result<(), WatchError> {
        let cut = self.pipeline.records().interrupt_jobs()?;
        let moves = self.finish_pending_moves()?;
        if let Some(q) = &self.queue {
            // What this watcher held when it had to start over goes back to the queue.
            let held: Vec<i64> =
                std::mem::take(&mut *q.held.lock().unwrap_or_else(|p| p.into_inner()));
            for id in held {
                self.pipeline.records().release_dead(id, &q.worker, false)?;
            }
        }
        // PDFs written by cut jobs whose records were never committed: on
        // shared records, those of the items taken back from dead watchers of
        // this machine (another machine may have taken the others since);
        // otherwise those of every cut job (the data directory is locked).
        let mut temps = self.release_dead_items()?;
        temps += crate::store::sweep_orphan_temps(&self.settings.data_dir.join("archive"));
        if self.queue.is_none() {
            let records = self.pipeline.records();
            temps += crate::store::sweep_unrecorded(&self.settings.data_dir, &cut, |rel| {
                records.archive_path_recorded(rel)
            })?;
        }
        if moves + temps > 0 {
            (self.say)(&text::recovered(self.lang, moves, temps));
        }
        Ok(())
    }

    /// Sets up each inbox (events, or polling when asked for or when events
    /// cannot be had), records the list for `sohoa status` and says so.
    fn open_inboxes(
        &mut self,
        specs: Vec<InboxSpec>,
        tx: mpsc::Sender<notify::Result<notify::Event>>,
    ) -> Result<Vec<notify::RecommendedWatcher>, WatchError> {
        let lang = self.lang;
        let default_poll = secs(self.settings.watch.poll_seconds);
        let mut notifiers = Vec::new();
        let now = Instant::now();
        for spec in specs {
            let poll = match spec.poll {
                Some(p) => Some(p),
                None => match notifier(&spec.path, tx.clone()) {
                    Ok(n) => {
                        notifiers.push(n);
                        None
                    }
                    Err(e) => {
                        let shown = spec.path.display().to_string();
                        let secs = default_poll.as_secs_f64();
                        (self.say)(&text::events_unavailable(lang, &shown, secs, &e));
                        Some(default_poll)
                    }
                },
            };
            self.inboxes.push(Inbox {
                spec,
                poll,
                next_poll: now,
            });
        }
        let mut described = Vec::new();
        let mut registered = Vec::new();
        for i in &self.inboxes {
            let path = i.spec.path.display().to_string();
            let (mode, shown) = match i.poll {
                None => ("events", text::mode_events(lang)),
                Some(p) => ("polling", text::mode_polling(lang, p.as_secs_f64())),
            };
            registered.push((path.clone(), mode, i.spec.settle.as_secs_f64()));
            described.push((path, shown));
        }
        self.pipeline.records().register_inboxes(&registered)?;
        let data_dir = self.settings.data_dir.display().to_string();
        (self.say)(&text::started(lang, &described, &data_dir));
        Ok(notifiers)
    }

    fn serve(&mut self, specs: Vec<InboxSpec>, stop: &AtomicBool) -> Result<(), WatchError> {
        let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
        let notifiers = self.open_inboxes(specs, tx)?;
        let rescan_every = secs(self.settings.watch.rescan_seconds);
        let mut s = Schedule::default();
        // The first pass takes everything already waiting.
        let mut next_rescan = Instant::now();
        let mut next_expiry = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let mut scan_all: Vec<usize> = Vec::new();
            if now >= next_rescan {
                scan_all.extend(0..self.inboxes.len());
                next_rescan = now + rescan_every;
                // Moves that failed earlier (a full disk, a permission) are retried.
                self.finish_pending_moves()?;
            }
            for (i, inbox) in self.inboxes.iter_mut().enumerate() {
                if let Some(p) = inbox.poll.filter(|_| now >= inbox.next_poll) {
                    inbox.next_poll = now + p;
                    scan_all.push(i);
                }
            }
            scan_all.sort_unstable();
            scan_all.dedup();
            for i in scan_all {
                let path = self.inboxes[i].spec.path.clone();
                for entry in intake::inbox_entries(&path).unwrap_or_default() {
                    s.pending.insert((i, entry));
                }
                self.pipeline
                    .records()
                    .inbox_scanned(&path.display().to_string())?;
            }

            let mut ready = self.look(&mut s, now);
            // On shared records a watcher takes a few at a time, like a batch
            // worker, so the machines share a burst; the rest stay ready for the
            // next round (or for another machine).
            let share = 2 * self.settings.effective_jobs();
            if self.queue.is_some() && ready.len() > share {
                s.pending.extend(ready.split_off(share));
            }
            if !ready.is_empty() && !stop.load(Ordering::Relaxed) {
                let left = self.take(&ready, stop)?;
                self.after_take(&mut s, &ready, &left);
            }

            let days = self.settings.watch.retention_days;
            if days > 0 && Instant::now() >= next_expiry {
                let today = chrono::Local::now().date_naive();
                dispose::expire_processed(&self.settings.data_dir, days, today);
                next_expiry = Instant::now() + Duration::from_secs(3600);
            }

            // Sleep until the next deadline, an event, or a second (to notice `stop`).
            let now = Instant::now();
            let mut until = (now + Duration::from_secs(1)).min(next_rescan);
            for inbox in self.inboxes.iter().filter(|i| i.poll.is_some()) {
                until = until.min(inbox.next_poll);
            }
            for (_, t) in s.waits.values() {
                until = until.min(*t);
            }
            if !s.pending.is_empty() {
                until = now;
            }
            let first = rx.recv_timeout(until.saturating_duration_since(now));
            // Bounded, so a steady stream of events cannot keep the loop from taking work.
            for event in first.into_iter().chain(rx.try_iter()).take(10_000) {
                self.route(event, &mut s.pending);
            }
        }
        (self.say)(&text::stopped(self.lang));
        drop(notifiers);
        Ok(())
    }

    /// Looks at the entries that may have changed (and those whose settle
    /// time is up) and returns those ready to take.
    fn look(&self, s: &mut Schedule, now: Instant) -> Vec<(usize, PathBuf)> {
        s.waits.retain(|entry, (i, t)| {
            let due = *t <= now;
            if due {
                s.pending.insert((*i, entry.clone()));
            }
            !due
        });
        let mut ready = Vec::new();
        for (i, entry) in std::mem::take(&mut s.pending) {
            if std::fs::symlink_metadata(&entry).is_err() {
                s.tracker.forget(&entry);
                s.waits.remove(&entry);
                continue;
            }
            let settle = self.inboxes[i].spec.settle;
            let snap = snapshot(&entry, self.marker());
            match s.tracker.observe(&entry, snap, settle, Instant::now()) {
                Readiness::Ready => ready.push((i, entry)),
                Readiness::Wait(t) => {
                    s.waits.insert(entry, (i, t));
                }
                Readiness::Idle => {
                    s.waits.remove(&entry);
                }
            }
        }
        ready
    }

    /// Notes what was taken. An entry left for a later try (a file still
    /// changing, a full disk) settles again from the next rescan on; what
    /// stays behind a taken entry (a temporary file) waits for its next change,
    /// but files that came in while it was taken are looked at as new.
    fn after_take(&self, s: &mut Schedule, ready: &[(usize, PathBuf)], left: &[PathBuf]) {
        for (i, entry) in ready {
            if left.contains(entry) {
                s.tracker.forget(entry);
                continue;
            }
            s.tracker.taken(entry);
            if entry.exists() {
                let snap = snapshot(entry, self.marker());
                if s.tracker.after_take(entry, snap, Instant::now()) {
                    s.pending.insert((*i, entry.clone()));
                }
            }
        }
    }

    /// Turns a change event into the inbox entries to look at.
    fn route(
        &self,
        event: notify::Result<notify::Event>,
        pending: &mut BTreeSet<(usize, PathBuf)>,
    ) {
        // Reads change nothing: a directory listed (by us, or by a watcher on
        // another machine sharing the inbox) must not make another look, or
        // two watchers would wake each other forever.
        if let Ok(e) = &event {
            if matches!(e.kind, notify::EventKind::Access(_)) {
                return;
            }
        }
        let Ok(event) = event else {
            // The kernel dropped events (queue overflow): look at everything.
            for (i, inbox) in self.inboxes.iter().enumerate() {
                for entry in intake::inbox_entries(&inbox.spec.path).unwrap_or_default() {
                    pending.insert((i, entry));
                }
            }
            return;
        };
        for path in &event.paths {
            for (i, inbox) in self.inboxes.iter().enumerate() {
                let Ok(rel) = path.strip_prefix(&inbox.spec.path) else {
                    continue;
                };
                match rel.components().next() {
                    Some(top) => {
                        pending.insert((i, inbox.spec.path.join(top)));
                    }
                    // The inbox itself: look at all of it.
                    None => {
                        for entry in intake::inbox_entries(&inbox.spec.path).unwrap_or_default() {
                            pending.insert((i, entry));
                        }
                    }
                }
            }
        }
    }

    /// Takes the settled inbox entries together (so the workers stay busy
    /// across small dossiers): processes them, then moves their inputs out.
    /// Returns the entries with documents left in place for a later try.
    fn take(
        &mut self,
        ready: &[(usize, PathBuf)],
        stop: &AtomicBool,
    ) -> Result<Vec<PathBuf>, WatchError> {
        let lang = self.lang;
        let date = chrono::Local::now().format("%Y-%m-%d").to_string();
        self.pipeline.reload_units()?;
        let mut taken: Vec<Taking> = Vec::new();
        let mut dossiers = Vec::new();
        // Entries another machine holds (shared records): looked at again later.
        let mut others = Vec::new();
        for (i, entry) in ready {
            let inbox = self.inboxes[*i].spec.path.clone();
            let spec = &self.inboxes[*i].spec;
            let spec_unit = spec.unit.clone();
            let accept = spec.accept_unknown_units;
            let unit = spec_unit
                .as_deref()
                .or(self.settings.default_unit.as_deref());
            let folder = nfc_name(entry);
            let inbox_shown = inbox.display().to_string();
            let naming = self.pipeline.naming(unit, accept);
            match intake::read_entry(entry, &naming, Some(self.marker())) {
                Entry::Ignored => {}
                Entry::Problem(problem) => {
                    let Some(item) = self.claim(&inbox, entry, &entry_fingerprint(entry))? else {
                        others.push(entry.clone());
                        continue;
                    };
                    let report = self.pipeline.record_intake_problem(&inbox, &problem)?;
                    (self.say)(&text::failed(lang, &folder, &report.message));
                    if matches!(problem, IntakeProblem::Unreadable { .. }) {
                        continue;
                    }
                    let job = self
                        .pipeline
                        .records()
                        .start_job(&inbox_shown, &folder, &folder)?;
                    let mut t = Taking::new(entry, inbox, folder.clone(), folder, job);
                    for file in inputs_under(entry, self.marker()) {
                        t.failed_files += 1;
                        t.moves.failed(self, &t.inbox, &file, &report, &t.folder);
                    }
                    let Taking { moves, .. } = t;
                    self.finish(job, moves, 0, entry)?;
                    self.release(item)?;
                }
                Entry::Dossier {
                    dossier, problems, ..
                } => {
                    let fingerprint = crate::pipeline::shared::fingerprint(&dossier);
                    let Some(item) = self.claim(&inbox, entry, &fingerprint)? else {
                        others.push(entry.clone());
                        continue;
                    };
                    let code = dossier.code.code.clone();
                    let job = self
                        .pipeline
                        .records()
                        .start_job(&inbox_shown, &folder, &code)?;
                    let mut t = Taking::new(entry, inbox.clone(), folder, code, job);
                    t.item = item;
                    for problem in &problems {
                        let report = self.pipeline.record_intake_problem(&inbox, problem)?;
                        (self.say)(&text::failed(lang, &t.code, &report.message));
                        if let IntakeProblem::Symlink { path } = problem {
                            t.failed_files += 1;
                            t.moves.failed(self, &t.inbox, path, &report, &t.folder);
                        }
                    }
                    dossiers.push((inbox, dossier));
                    taken.push(t);
                }
            }
        }
        if dossiers.is_empty() {
            return Ok(others);
        }
        let folders: Vec<PathBuf> = dossiers.iter().map(|(_, d)| d.folder.clone()).collect();
        let outcomes = self
            .pipeline
            .process_dossiers(dossiers, &SilentProgress, stop)?;
        for o in outcomes {
            // Each component belongs to the dossier folder it came from.
            let Some(k) = folders
                .iter()
                .position(|f| o.component.source.starts_with(f))
            else {
                continue;
            };
            let t = &mut taken[k];
            match &o.result {
                Outcome::Archived { pages, flagged } => {
                    t.archived += 1;
                    t.pages += pages;
                    t.flagged.add(flagged.clone());
                }
                Outcome::Unchanged => t.unchanged += 1,
                Outcome::Failed(report) => {
                    (self.say)(&text::failed(lang, &t.code, &report.message));
                    for file in &o.component.files {
                        t.failed_files += 1;
                        t.moves.failed(self, &t.inbox, file, report, &t.folder);
                    }
                    continue;
                }
                Outcome::Deferred => {
                    t.deferred += 1;
                    continue;
                }
            }
            for file in &o.component.files {
                t.moves.processed(self, &t.inbox, file, &date);
                t.through.push(display_path(&t.inbox, file));
            }
        }
        let mut left = others;
        for t in taken {
            let processed_to = format!("processed/{date}/{}/", t.folder);
            let line = text::taken(
                lang,
                &text::Taken {
                    code: &t.code,
                    archived: t.archived,
                    pages: t.pages,
                    unchanged: t.unchanged,
                    failed_files: t.failed_files,
                    deferred: t.deferred,
                    processed_to: &processed_to,
                    flagged: &t.flagged,
                },
            );
            if t.deferred > 0 {
                left.push(t.entry.clone());
            }
            self.finish(t.job, t.moves, t.archived, &t.entry)?;
            self.release(t.item)?;
            (self.say)(&line);
            if t.archived > 0 {
                (self.archived)(&t.code);
            }
            self.clear_resolved(&t.through, &date);
        }
        Ok(left)
    }

    /// Earlier failed copies of files that now went through leave `failed/`
    /// for `failed/da-xu-ly/`, said in one line. A move that fails is said and
    /// left: the copy stays in `failed/`, nothing is lost.
    fn clear_resolved(&self, through: &[String], date: &str) {
        let mut moved = 0;
        for shown in through {
            match dispose::clear_resolved(&self.settings.data_dir, shown, date) {
                Ok(n) => moved += n,
                Err(e) => tracing::warn!(error = %e, shown, "moving a resolved failed copy"),
            }
        }
        if moved > 0 {
            (self.say)(&text::resolved(
                self.lang,
                moved,
                &format!("failed/da-xu-ly/{date}/"),
            ));
        }
    }

    /// Writes the job's moves down, makes them, closes the job and clears the
    /// emptied folder.
    fn finish(
        &mut self,
        job: i64,
        moves: Moves,
        documents: usize,
        entry: &Path,
    ) -> Result<(), WatchError> {
        self.pipeline.records().plan_moves(job, &moves.0)?;
        self.finish_pending_moves()?;
        let failed_files = moves.0.iter().filter(|m| m.note.is_some()).count();
        self.pipeline.records().finish_job(
            job,
            JobEnd {
                failed: failed_files > 0,
                files: (moves.0.len() - failed_files) as u32,
                documents: documents as u32,
                failed_files: failed_files as u32,
            },
        )?;
        dispose::remove_emptied(entry, self.marker());
        Ok(())
    }

    /// Makes every move written down and not yet confirmed. Returns how many
    /// were made; one that fails stays pending and is said.
    fn finish_pending_moves(&mut self) -> Result<usize, WatchError> {
        let pending = self.pipeline.records().pending_moves()?;
        let mut made = 0;
        // The entries emptied: cleared once their moves are made, also when
        // those are a killed watcher's, finished here at the next start.
        let mut entries: Vec<PathBuf> = pending.iter().map(|m| m.entry.clone()).collect();
        entries.dedup();
        for m in pending {
            let (src, dst) = (Path::new(&m.planned.src), Path::new(&m.planned.dst));
            let note = match &m.planned.note {
                Some(text) => dispose::write_note(dst, text),
                None => Ok(()),
            };
            match note.and_then(|_| dispose::move_file(src, dst)) {
                Ok(()) => made += 1,
                // Gone from the inbox and not at the target: someone took the
                // file away; nothing left to move.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(src = %m.planned.src, "input vanished before it was moved");
                }
                Err(e) => {
                    (self.say)(&text::move_failed(
                        self.lang,
                        &m.planned.src,
                        &e.to_string(),
                    ));
                    continue;
                }
            }
            self.pipeline.records().move_done(m.id)?;
        }
        for entry in entries {
            dispose::remove_emptied(&entry, self.marker());
        }
        Ok(made)
    }
}

/// One entry being taken: its job, the moves decided so far and the counts
/// for the operator's line.
struct Taking {
    /// Its work-queue item, on shared records.
    item: Option<i64>,
    entry: PathBuf,
    inbox: PathBuf,
    folder: String,
    code: String,
    job: i64,
    moves: Moves,
    archived: usize,
    pages: usize,
    unchanged: usize,
    failed_files: usize,
    deferred: usize,
    flagged: Flagged,
    /// Inbox-relative paths of the files that went through.
    through: Vec<String>,
}

impl Taking {
    fn new(entry: &Path, inbox: PathBuf, folder: String, code: String, job: i64) -> Taking {
        Taking {
            item: None,
            entry: entry.to_path_buf(),
            inbox,
            folder,
            code,
            job,
            moves: Moves::default(),
            archived: 0,
            pages: 0,
            unchanged: 0,
            failed_files: 0,
            deferred: 0,
            flagged: Flagged::default(),
            through: Vec::new(),
        }
    }
}

/// The moves a job decides on, each to a free name.
#[derive(Default)]
struct Moves(Vec<PlannedMove>);

impl Moves {
    fn add(&mut self, w: &Watcher, src: &Path, dst: PathBuf, note: Option<String>) {
        let taken = |p: &Path| {
            let s = p.to_string_lossy();
            self.0.iter().any(|m| m.dst == s)
                || w.pipeline.records().move_target_taken(&s).unwrap_or(true)
        };
        let dst = dispose::free_name(&dst, taken);
        self.0.push(PlannedMove {
            src: src.to_string_lossy().into_owned(),
            dst: dst.to_string_lossy().into_owned(),
            note,
        });
    }

    fn processed(&mut self, w: &Watcher, inbox: &Path, file: &Path, date: &str) {
        let dst =
            dispose::processed_dir(&w.settings.data_dir, date).join(display_path(inbox, file));
        self.add(w, file, dst, None);
    }

    fn failed(
        &mut self,
        w: &Watcher,
        inbox: &Path,
        file: &Path,
        report: &FailureReport,
        folder: &str,
    ) {
        let shown = display_path(inbox, file);
        let dst = dispose::failed_dir(&w.settings.data_dir).join(&shown);
        let source = inbox.join(&shown).display().to_string();
        let note = text::failure_note(w.lang, &report.message, &report.code, &source, folder);
        self.add(w, file, dst, Some(note));
    }
}

/// The files under `entry` that could be inputs (not junk, not the marker,
/// not still being written); `entry` itself when it is a file.
fn inputs_under(entry: &Path, marker: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(entry)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .filter(|e| {
            let name = nfc_name(e.path());
            !is_junk(&name) && !is_temporary(&name) && !name.eq_ignore_ascii_case(marker)
        })
        .map(|e| e.into_path())
        .collect()
}

/// A recursive inotify watch on `path`, sending its events to `tx`.
fn notifier(
    path: &Path,
    tx: mpsc::Sender<notify::Result<notify::Event>>,
) -> Result<notify::RecommendedWatcher, String> {
    use notify::Watcher as _;
    let mut w = notify::recommended_watcher(tx).map_err(|e| e.to_string())?;
    w.watch(path, notify::RecursiveMode::Recursive)
        .map_err(|e| e.to_string())?;
    Ok(w)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s > 0.0 { s } else { 0.0 })
}

/// The inboxes to serve: those given on the command line (with `settle` and
/// `poll` from the flags or `[watch]`), else the config's `[[inbox]]` tables.
pub fn inbox_specs(
    settings: &Settings,
    paths: &[PathBuf],
    settle: Option<f64>,
    poll: Option<f64>,
) -> Vec<InboxSpec> {
    let w = &settings.watch;
    let settle_default = settle.unwrap_or(w.settle_seconds);
    if !paths.is_empty() {
        return paths
            .iter()
            .map(|p| InboxSpec {
                path: p.clone(),
                unit: None,
                settle: secs(settle_default),
                poll: poll.map(secs),
                accept_unknown_units: settings.accept_unknown_units,
            })
            .collect();
    }
    settings
        .inboxes
        .iter()
        .map(|i| InboxSpec {
            path: i.path.clone(),
            unit: i.unit.clone(),
            settle: secs(settle.or(i.settle_seconds).unwrap_or(w.settle_seconds)),
            poll: poll.or(i.poll_seconds).map(secs),
            accept_unknown_units: i
                .accept_unknown_units
                .unwrap_or(settings.accept_unknown_units),
        })
        .collect()
}

/// The entries of `inbox` that hold inputs not yet taken (dossier folders,
/// loose files), by name in natural order, for `sohoa status`. Those in
/// progress are included.
pub fn waiting(inbox: &Path, marker: &str) -> Vec<String> {
    intake::inbox_entries(inbox)
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            let name = nfc_name(e);
            !name.starts_with('_') && !is_junk(&name)
        })
        .filter(|e| snapshot(e, marker).inputs > 0)
        .map(|e| nfc_name(e))
        .collect()
}

/// Names, sizes and modification times of everything under an entry that is
/// not a dossier (a stray file, an unreadable folder), as its queue key.
fn entry_fingerprint(entry: &Path) -> String {
    let mut lines: Vec<String> = walkdir::WalkDir::new(entry)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| crate::pipeline::shared::file_line(e.path()))
        .collect();
    lines.sort();
    crate::store::sha256_hex(lines.join("\n").as_bytes())
}
